"""Cache hits side by side: acquire_token_silent, acquire_token_for_client, azure-identity.

Run: ``.venv/bin/python -m benchmarks.bench_silent [--users 1 1000 10000] [--rounds 7]``.

One serialized MSAL-schema cache is deserialized into an ``entra_auth`` and an ``msal``
application; both get the same canned ``http_client`` (no network) and ask for the same
sequence of users' tokens, each of which is a cache hit.
"""

from __future__ import annotations

import argparse
import itertools
import random
from collections.abc import Callable
from typing import Any

import msal  # type: ignore[import-untyped]

import entra_auth

from ._common import (
    APP_SCOPES,
    AUTHORITY,
    CLIENT_ID,
    CLIENT_SECRET,
    CPU_TIME,
    GRAPH_TARGET,
    SCOPES,
    TENANT,
    CannedEntra,
    Clock,
    Timing,
    account_of,
    cache_document,
    fmt_time,
    interleaved,
)

SAMPLED_ACCOUNTS = 1000  # distinct users asked for in turn (random, the same for both)


def _silent_call(lib: Any, document: str, accounts: list[dict[str, Any]]) -> Callable[[], Any]:
    cache = lib.SerializableTokenCache()
    cache.deserialize(document)
    http = CannedEntra()
    app = lib.PublicClientApplication(CLIENT_ID, authority=AUTHORITY, token_cache=cache,
                                      http_client=http, instance_discovery=False)
    for account in accounts[:3]:  # prove the call is a cache hit for the right user
        result = app.acquire_token_silent(SCOPES, account=account)
        expected = f"at-{account['home_account_id'].split('.')[0]}"
        assert result and result["access_token"] == expected, (lib.__name__, result)
        assert result.get("token_source") == "cache", result
    assert http.token_posts == 0
    turn = itertools.cycle(accounts)
    return lambda: app.acquire_token_silent(SCOPES, account=next(turn))


def silent_hit(users: int, *, rounds: int, min_batch_s: float, exact_scopes: bool = False,
               seed: int = 1, clock: Clock = CPU_TIME) -> dict[str, Timing]:
    """Median ``acquire_token_silent`` cache-hit time with ``users`` cached users.

    The cached tokens' target is what Entra returns for Graph (``User.Read email openid
    profile``), a superset of the request; with ``exact_scopes`` it is exactly the request
    (``User.Read``), the case msal 1.39 answers with a key lookup instead of a scan.
    """
    document = cache_document(users, target=" ".join(SCOPES) if exact_scopes else GRAPH_TARGET)
    rng = random.Random(seed)
    accounts = [account_of(rng.randrange(users)) for _ in range(min(users, SAMPLED_ACCOUNTS))]
    contenders = {"entra_auth": _silent_call(entra_auth, document, accounts),
                  "msal": _silent_call(msal, document, accounts)}
    del document
    return interleaved(contenders, rounds=rounds, min_batch_s=min_batch_s, clock=clock)


def _client_credentials_call(lib: Any) -> Callable[[], Any]:
    http = CannedEntra()
    app = lib.ConfidentialClientApplication(
        CLIENT_ID, client_credential=CLIENT_SECRET, authority=AUTHORITY, http_client=http,
        instance_discovery=False)
    assert "access_token" in app.acquire_token_for_client(APP_SCOPES)
    hit = app.acquire_token_for_client(APP_SCOPES)
    assert hit.get("token_source") == "cache" and http.token_posts == 1, hit
    return lambda: app.acquire_token_for_client(APP_SCOPES)


def client_credentials_hit(*, rounds: int, min_batch_s: float,
                           clock: Clock = CPU_TIME) -> dict[str, Timing]:
    """Median ``acquire_token_for_client`` time when the app token is cached."""
    return interleaved({"entra_auth": _client_credentials_call(entra_auth),
                        "msal": _client_credentials_call(msal)},
                       rounds=rounds, min_batch_s=min_batch_s, clock=clock)


# -- azure-identity ---------------------------------------------------------------------------

class _RawStub:
    """Stands in for the urllib3 response azure-core expects on ``Response.raw``."""

    enforce_content_length = True


def _canned_requests_session(entra: CannedEntra) -> Any:
    """A requests.Session whose every request is answered by ``entra`` (for azure-core)."""
    import requests
    from requests.adapters import BaseAdapter
    from requests.structures import CaseInsensitiveDict

    class CannedAdapter(BaseAdapter):
        def send(self, request: Any, stream: bool = False, timeout: Any = None,
                 verify: Any = True, cert: Any = None,
                 proxies: Any = None) -> requests.Response:
            if request.method == "POST":
                from urllib.parse import parse_qsl

                body = request.body.decode() if isinstance(request.body, bytes) else request.body
                canned = entra.post(request.url, data=dict(parse_qsl(body or "")))
            else:
                canned = entra.get(request.url.split("?")[0])
            response = requests.Response()
            response.status_code = canned.status_code
            response._content = canned.text.encode()
            response.headers = CaseInsensitiveDict(canned.headers)
            response.url, response.request, response.encoding = request.url, request, "utf-8"
            response.raw = _RawStub()  # azure-core sets a flag on the urllib3 response
            return response

        def close(self) -> None:
            pass

    session = requests.Session()
    session.mount("https://", CannedAdapter())
    return session


def _our_credential(app: Any) -> Any:
    """entra_auth's azure-core credential if this tree has it, else the bare app call."""
    try:
        from entra_auth.azure.credential import EntraTokenCredential
    except ImportError:  # not in this tree: the app call it would make
        class Bare:
            def get_token(self, *scopes: str) -> Any:
                return app.acquire_token_for_client(list(scopes))["access_token"]

        return Bare()
    return EntraTokenCredential(app)


def azure_identity_hit(*, rounds: int, min_batch_s: float,
                       clock: Clock = CPU_TIME) -> dict[str, Timing] | None:
    """``ClientSecretCredential.get_token`` cache hit vs ours; None without azure-identity."""
    try:
        from azure.core.pipeline.transport import RequestsTransport
        from azure.identity import ClientSecretCredential
    except ImportError:
        return None
    entra = CannedEntra()
    theirs = ClientSecretCredential(
        TENANT, CLIENT_ID, CLIENT_SECRET,
        transport=RequestsTransport(session=_canned_requests_session(entra)))
    first = theirs.get_token(*APP_SCOPES)
    theirs.get_token(*APP_SCOPES)
    assert first.token == "app-at-fresh" and entra.token_posts == 1, entra.token_posts

    http = CannedEntra()
    app = entra_auth.ConfidentialClientApplication(
        CLIENT_ID, client_credential=CLIENT_SECRET, authority=AUTHORITY, http_client=http,
        instance_discovery=False)
    ours = _our_credential(app)
    ours.get_token(*APP_SCOPES)
    ours.get_token(*APP_SCOPES)
    assert http.token_posts == 1
    return interleaved({"entra_auth": lambda: ours.get_token(*APP_SCOPES),
                        "azure-identity": lambda: theirs.get_token(*APP_SCOPES)},
                       rounds=rounds, min_batch_s=min_batch_s, clock=clock)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, nargs="+", default=[1, 1000, 10_000, 100_000])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--batch", type=float, default=0.05, help="min seconds per batch")
    parser.add_argument("--exact-scopes", action="store_true",
                        help="cached target equals the request (msal's key-lookup case)")
    args = parser.parse_args()
    for users in args.users:
        t = silent_hit(users, rounds=args.rounds, min_batch_s=args.batch,
                       exact_scopes=args.exact_scopes)
        print(f"silent hit, {users:>7} users: entra_auth {fmt_time(t['entra_auth'].median)}, "
              f"msal {fmt_time(t['msal'].median)}")
    t = client_credentials_hit(rounds=args.rounds, min_batch_s=args.batch)
    print(f"client-credentials hit: entra_auth {fmt_time(t['entra_auth'].median)}, "
          f"msal {fmt_time(t['msal'].median)}")
    az = azure_identity_hit(rounds=args.rounds, min_batch_s=args.batch)
    if az:
        print(f"azure-core get_token hit: entra_auth {fmt_time(az['entra_auth'].median)}, "
              f"azure-identity {fmt_time(az['azure-identity'].median)}")


if __name__ == "__main__":
    main()
