"""Incoming-token validation vs the floor: PyJWT's ``jwt.decode`` with the key already in hand.

Run: ``.venv/bin/python -m benchmarks.bench_validation``. One RS256 token from the emulator;
every contender checks signature, issuer, audience and lifetime:

- floor: ``jwt.decode(token, public_key, algorithms=["RS256"], audience=..., issuer=...)``
  with the public key object built once (what a hand-written validator at best does);
- ``TokenValidator.validate`` (sync) and ``validate_async`` (the path FastAPI takes), with the
  validated-token cache off, so every call does the whole work;
- ``validate`` of a token already validated (the cache on, as by default).
"""

from __future__ import annotations

import asyncio
from typing import Any

from benchmarks._common import CPU_TIME, Clock, Timing, interleaved


def _setup(emu: Any) -> tuple[str, Any, Any, Any, dict[str, Any]]:
    import jwt

    import entra_auth
    from entra_auth.testing import PUBLIC_CLIENT_ID, WEB_API_ID
    from entra_auth.web import TokenValidator

    app = entra_auth.PublicClientApplication(
        PUBLIC_CLIENT_ID, authority=emu.authority(), http_client=emu.requests_session(),
        instance_discovery=False)
    result = app.acquire_token_by_username_password(
        "alice@contoso.onmicrosoft.com", "alice-password",
        scopes=[f"api://{WEB_API_ID}/access_as_user"])
    token = str(result["access_token"])
    fresh = TokenValidator(WEB_API_ID, authority=emu.authority(), verify=emu.ca_bundle,
                           validated_cache_size=0)
    cached = TokenValidator(WEB_API_ID, authority=emu.authority(), verify=emu.ca_bundle)
    claims = fresh.validate(token).claims
    cached.validate(token)
    jwks = jwt.PyJWKClient(f"{emu.authority()}/discovery/v2.0/keys",
                           ssl_context=__import__("ssl").create_default_context(
                               cafile=emu.ca_bundle))
    key = jwks.get_signing_key_from_jwt(token).key
    floor_args = {"key": key, "algorithms": ["RS256"], "audience": claims["aud"],
                  "issuer": claims["iss"]}
    return token, fresh, cached, jwt, floor_args


def validation(emu: Any, *, rounds: int = 9, min_batch_s: float = 0.05,
               clock: Clock = CPU_TIME) -> dict[str, dict[str, Timing]]:
    """{"sync": ..., "async": ..., "cached": ...}, each {contender: Timing}."""
    token, fresh, cached, jwt, floor_args = _setup(emu)

    def floor() -> Any:
        return jwt.decode(token, **floor_args)

    sync = interleaved({"entra_auth": lambda: fresh.validate(token), "PyJWT floor": floor},
                       rounds=rounds, min_batch_s=min_batch_s, clock=clock)
    hit = interleaved({"entra_auth": lambda: cached.validate(token), "PyJWT floor": floor},
                      rounds=rounds, min_batch_s=min_batch_s, clock=clock)

    # The async path, measured inside one running loop: each call is one awaited coroutine,
    # as in a FastAPI dependency; the floor is the same jwt.decode in a coroutine.
    loop = asyncio.new_event_loop()

    async def ours() -> Any:
        return await fresh.validate_async(token)

    async def theirs() -> Any:
        return jwt.decode(token, **floor_args)

    try:
        async_timings = interleaved(
            {"entra_auth": lambda: loop.run_until_complete(ours()),
             "PyJWT floor": lambda: loop.run_until_complete(theirs())},
            rounds=rounds, min_batch_s=min_batch_s, clock=clock)
    finally:
        loop.close()
    return {"sync": sync, "async": async_timings, "cached": hit}


def main() -> None:
    from entra_auth.testing import Emulator

    with Emulator() as emu:
        measured = validation(emu)
    for name, timings in measured.items():
        ours, floor = timings["entra_auth"].median, timings["PyJWT floor"].median
        print(f"{name:>7}: entra_auth {ours * 1e6:8.1f} us   PyJWT floor {floor * 1e6:8.1f} us"
              f"   ours/floor {ours / floor:.2f}x")


if __name__ == "__main__":
    main()
