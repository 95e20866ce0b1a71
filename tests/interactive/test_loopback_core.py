"""The I/O-free request handling of the loopback listener."""

from __future__ import annotations

import pytest

from entra_auth.interactive.loopback_core import (
    MAX_BODY_BYTES,
    LoopbackHandler,
    ParsedRequest,
    RequestReader,
    RequestTooLarge,
)

PORT = 50123
STATE = "s-123"
CODE = "0.AAAA-secret-code-value"


def _post(body: str, *, host: str = f"localhost:{PORT}", path: str = "/") -> ParsedRequest:
    return ParsedRequest(
        "POST",
        path,
        {"host": host, "content-type": "application/x-www-form-urlencoded"},
        body.encode(),
    )


def _get(target: str, *, host: str = f"localhost:{PORT}") -> ParsedRequest:
    return ParsedRequest("GET", target, {"host": host})


def test_reader_waits_for_the_whole_body_split_anywhere() -> None:
    raw = (
        f"POST / HTTP/1.1\r\nHost: localhost:{PORT}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 21\r\n\r\n"
        "code=abc&state=s-123X"
    ).encode()
    for split in range(1, len(raw)):
        reader = RequestReader()
        first = reader.feed(raw[:split])
        assert first is None
        request = reader.feed(raw[split:])
        assert request is not None
        assert request.method == "POST"
        assert request.headers["host"] == f"localhost:{PORT}"
        assert request.body == b"code=abc&state=s-123X"


def test_reader_rejects_chunked_oversized_and_malformed_requests() -> None:
    with pytest.raises(RequestTooLarge):
        RequestReader().feed(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
    with pytest.raises(RequestTooLarge):
        RequestReader().feed(
            f"POST / HTTP/1.1\r\nContent-Length: {MAX_BODY_BYTES + 1}\r\n\r\n".encode()
        )
    with pytest.raises(RequestTooLarge):
        RequestReader().feed(b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 20000)
    with pytest.raises(RequestTooLarge):
        RequestReader().feed(b"NONSENSE\r\n\r\n")
    with pytest.raises(RequestTooLarge):
        RequestReader().feed(b"GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n")
    with pytest.raises(RequestTooLarge):
        RequestReader().feed(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")


def test_form_post_with_the_right_state_completes_with_a_page_without_the_code() -> None:
    handler = LoopbackHandler(PORT, STATE)
    reply = handler.handle(_post(f"code={CODE}&state={STATE}&session_state=x"))
    assert reply.status == 200
    assert reply.auth_response == {"code": CODE, "state": STATE, "session_state": "x"}
    assert CODE.encode() not in reply.to_bytes()
    assert b"Sign-in complete" in reply.body
    assert reply.headers["Cache-Control"] == "no-store"
    assert "default-src 'none'" in reply.headers["Content-Security-Policy"]


def test_query_response_mode_is_accepted() -> None:
    reply = LoopbackHandler(PORT, STATE).handle(_get(f"/?code={CODE}&state={STATE}"))
    assert reply.auth_response is not None
    assert reply.auth_response["code"] == CODE


@pytest.mark.parametrize(
    "request_",
    [
        _post(f"code={CODE}&state=forged"),
        _post(f"code={CODE}"),
        _post(f"code={CODE}&state={STATE}&state=other"),
        _post(f"code={CODE}&state={STATE}", path="/callback"),
        _post(f"code={CODE}&state={STATE}", path="/favicon.ico"),
        _post(f"code={CODE}&state={STATE}", host="evil.example:50123"),
        _post(f"code={CODE}&state={STATE}", host=f"localhost:{PORT + 1}"),
        _post(f"state={STATE}"),
        _get("/"),
        ParsedRequest("POST", "/", {"host": f"localhost:{PORT}", "content-type": "text/plain"},
                      f"code={CODE}&state={STATE}".encode()),
    ],
    ids=["wrong-state", "no-state", "two-states", "wrong-path", "favicon", "wrong-host",
         "wrong-port", "no-code-no-error", "bare-get", "not-a-form"],
)
def test_rejected_requests_get_400_and_do_not_complete(request_: ParsedRequest) -> None:
    handler = LoopbackHandler(PORT, STATE)
    reply = handler.handle(request_)
    assert reply.status == 400
    assert reply.auth_response is None
    assert CODE.encode() not in reply.to_bytes()
    assert not handler.completed
    # ... and the genuine response is still accepted afterwards.
    assert handler.handle(_post(f"code={CODE}&state={STATE}")).auth_response is not None


def test_other_methods_get_405() -> None:
    reply = LoopbackHandler(PORT, STATE).handle(
        ParsedRequest("PUT", f"/?code=a&state={STATE}", {"host": f"localhost:{PORT}"})
    )
    assert reply.status == 405
    assert reply.auth_response is None


def test_error_response_shows_error_and_escaped_description() -> None:
    handler = LoopbackHandler(PORT, STATE)
    reply = handler.handle(
        _post(f"error=access_denied&error_description=%3Cscript%3Ex%3C/script%3E&state={STATE}")
    )
    assert reply.status == 200
    assert reply.auth_response is not None
    assert reply.auth_response["error"] == "access_denied"
    assert b"access_denied" in reply.body
    assert b"&lt;script&gt;" in reply.body
    assert b"<script>" not in reply.body


def test_only_one_response_completes_the_flow() -> None:
    handler = LoopbackHandler(PORT, STATE)
    assert handler.handle(_post(f"code={CODE}&state={STATE}")).auth_response is not None
    second = handler.handle(_post(f"code=other&state={STATE}"))
    assert second.status == 400
    assert second.auth_response is None


def test_reprs_never_show_codes() -> None:
    request = _post(f"code={CODE}&state={STATE}")
    reply = LoopbackHandler(PORT, STATE).handle(request)
    assert CODE not in repr(request)
    assert CODE not in repr(reply)


def test_empty_state_is_refused() -> None:
    with pytest.raises(ValueError, match="expected_state"):
        LoopbackHandler(PORT, "")
