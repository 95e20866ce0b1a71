"""MSAL's 400 throttling: an identical refused request is replayed for 60 s; a request with
other client authentication (a corrected secret, a rotated federated assertion) is new."""

from __future__ import annotations

from entra_auth.protocol import throttling
from entra_auth.protocol.messages import HttpRequest

from .helpers import Driver, json_response, make_ctx

URL = "https://login.microsoftonline.com/t/oauth2/v2.0/token"


def _request(**auth: str) -> HttpRequest:
    form = {"client_id": "c", "grant_type": "client_credentials", "scope": "api/.default", **auth}
    return HttpRequest("POST", URL, {}, form)


def test_identical_400_is_replayed_but_new_client_authentication_is_sent() -> None:
    ctx = make_ctx()
    d = Driver(throttling.send(ctx, _request(client_assertion="garbage")))
    assert d.start() is not None
    d.send(json_response({"error": "invalid_request"}, 400))
    assert d.result.status_code == 400
    # the same request again: answered from the throttle, nothing sent
    replay = Driver(throttling.send(ctx, _request(client_assertion="garbage")))
    assert replay.start() is None and replay.result.status_code == 400
    # the token file was rotated: the new assertion goes to the network at once
    rotated = Driver(throttling.send(ctx, _request(client_assertion="eyJ.rotated.sig")))
    assert isinstance(rotated.start(), HttpRequest)
    # and so does a corrected secret
    fixed = Driver(throttling.send(ctx, _request(client_secret="right")))
    assert isinstance(fixed.start(), HttpRequest)
    # the throttle keys hold hashes, never the secrets themselves
    assert not any("garbage" in key for key in ctx.http_cache)


def _throttle(ctx: object, status: int, **headers: str) -> None:
    d = Driver(throttling.send(ctx, _request(client_secret="s")))  # type: ignore[arg-type]
    d.start()
    d.send(json_response({"error": "temporarily_unavailable"}, status, **headers))


def _sends(ctx: object) -> bool:
    return Driver(throttling.send(ctx, _request(client_secret="s"))).start() is not None  # type: ignore[arg-type]


def test_wall_clock_step_back_does_not_stretch_a_throttle() -> None:
    # msal compares expires_at with the wall clock: after a 1 h step back a 5 s throttle
    # lasted an hour. Here the duration runs on the monotonic clock.
    ctx = make_ctx()
    _throttle(ctx, 503)
    ctx.clock.step(-3600)
    assert not _sends(ctx)  # still inside the 5 s
    ctx.clock.now += 5
    assert _sends(ctx)


def test_wall_clock_step_forward_does_not_cut_a_throttle() -> None:
    ctx = make_ctx()
    _throttle(ctx, 429, **{"Retry-After": "30"})
    ctx.clock.step(3600)
    assert not _sends(ctx)
    ctx.clock.now += 30
    assert _sends(ctx)


def test_bad_request_and_discovery_entries_run_on_the_monotonic_clock() -> None:
    ctx = make_ctx()
    d = Driver(throttling.send(ctx, _request(client_assertion="x")))
    d.start()
    d.send(json_response({"error": "invalid_request"}, 400))
    get = HttpRequest("GET", "https://login.microsoftonline.com/t/v2.0/.well-known/x", {}, None)
    g = Driver(throttling.send(ctx, get))
    g.start()
    g.send(json_response({"issuer": "i"}))
    ctx.clock.step(-7200)
    assert Driver(throttling.send(ctx, _request(client_assertion="x"))).start() is None
    assert Driver(throttling.send(ctx, get)).start() is None
    ctx.clock.now += 60
    assert Driver(throttling.send(ctx, _request(client_assertion="x"))).start() is not None
    assert Driver(throttling.send(ctx, get)).start() is None  # 24 h
    ctx.clock.now += 24 * 3600
    assert Driver(throttling.send(ctx, get)).start() is not None


def _foreign(ctx: object, stored_at: float, ttl: float) -> None:
    # An entry persisted by another process (no monotonic mark of ours).
    _throttle(ctx, 503)
    entry = next(iter(ctx.http_cache.values()))  # type: ignore[attr-defined]
    entry.update(stored_at=stored_at, expires_at=stored_at + ttl,
                 monotonic=["another-process", 1.0])


def test_persisted_entry_stamped_in_the_future_is_dropped() -> None:
    ctx = make_ctx()
    _foreign(ctx, ctx.clock.now + 3600, 5)  # its writer's clock was an hour ahead
    assert _sends(ctx)
    assert ctx.http_cache == {}


def test_persisted_entry_without_stored_at_beyond_its_longest_ttl_is_dropped() -> None:
    ctx = make_ctx()
    _foreign(ctx, ctx.clock.now, 3 * 3600)
    next(iter(ctx.http_cache.values())).pop("stored_at")
    assert _sends(ctx)


def test_persisted_entry_of_another_process_is_honoured_by_the_wall_clock() -> None:
    ctx = make_ctx()
    _foreign(ctx, ctx.clock.now - 1, 5)
    assert not _sends(ctx)
    ctx.clock.now += 4
    assert _sends(ctx)
