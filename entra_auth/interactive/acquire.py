"""Interactive sign-in through the system browser: authorization code + PKCE (RFC 6749, RFC 7636,
RFC 8252 native apps, OAuth 2.0 Form Post response mode).

Built only on the MSAL public API of an application object (``initiate_auth_code_flow`` then
``acquire_token_by_auth_code_flow``), so it serves entra_auth's and msal's applications alike;
the calls go through the flow drivers (``run_async`` awaits a coroutine method and runs a sync
one in a worker thread).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..protocol.client_app import AsyncApp, SyncApp
from ..protocol.messages import app_call
from ..transport.driver import run_async, run_sync
from .browser import open_browser_in_background
from .listener import AsyncLoopbackListener, LoopbackListener

__all__ = ["acquire_token_interactive", "acquire_token_interactive_async"]

logger = logging.getLogger(__name__)

_RESPONSE_MODES = ("form_post", "query")
# Once the response is in, wait this long for a browser command that is about to exit (so
# what it prints comes before our result); one still open (a text browser) is left running.
_BROWSER_GRACE = 0.25


@dataclass(frozen=True)
class _Request:
    """The validated arguments of one interactive sign-in, shared by the sync and async paths."""

    scopes: list[str]
    extra_scopes: list[str]
    prompt: str | None
    login_hint: str | None
    domain_hint: str | None
    claims_challenge: str | None
    timeout: float | None
    port: int | None
    max_age: int | None
    response_mode: str
    on_before_launching_ui: Callable[..., Any] | None
    redeem_kwargs: dict[str, Any]

    def initiate_kwargs(self, redirect_uri: str) -> dict[str, Any]:
        return {
            "redirect_uri": redirect_uri,
            "prompt": self.prompt,
            "login_hint": self.login_hint,
            "domain_hint": self.domain_hint,
            "claims_challenge": self.claims_challenge,
            "max_age": self.max_age,
            "response_mode": self.response_mode,
        }

    def consent_scopes(self) -> list[str]:
        # Extra scopes are consented to in the same sign-in, but the token is redeemed
        # for ``scopes`` only (one audience per access token).
        return self.scopes + [s for s in self.extra_scopes if s not in self.scopes]

    def timeout_result(self) -> dict[str, Any]:
        return {
            "error": "timeout",
            "error_description": (
                f"The sign-in was not completed within {self.timeout:g} seconds."
            ),
        }

    def launching_ui(self) -> None:
        if self.on_before_launching_ui is not None:
            self.on_before_launching_ui(ui="browser")


def _str_list(value: object, name: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, (Sequence, set, frozenset)):
        raise ValueError(f"{name} must be a list of strings, not {type(value).__name__}")
    items = list(value)
    if not all(isinstance(item, str) for item in items):
        raise ValueError(f"{name} must be a list of strings")
    return items


def _optional_str(value: object, name: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{name} must be a string, not {type(value).__name__}")
    return value


def _build_request(
    scopes: object,
    prompt: object,
    login_hint: object,
    domain_hint: object,
    claims_challenge: object,
    timeout: object,
    port: object,
    extra_scopes_to_consent: object,
    max_age: object,
    on_before_launching_ui: object,
    kwargs: dict[str, Any],
) -> _Request:
    response_mode = kwargs.pop("response_mode", "form_post")
    if response_mode not in _RESPONSE_MODES:
        raise ValueError(f"response_mode must be one of {', '.join(_RESPONSE_MODES)}")
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0
    ):
        raise ValueError("timeout must be a positive number of seconds, or None")
    if port is not None and (
        isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535
    ):
        raise ValueError("port must be an integer from 0 to 65535, or None")
    if max_age is not None and (
        isinstance(max_age, bool) or not isinstance(max_age, int) or max_age < 0
    ):
        raise ValueError("max_age must be a non-negative integer, or None")
    if on_before_launching_ui is not None and not callable(on_before_launching_ui):
        raise ValueError("on_before_launching_ui must be callable")
    return _Request(
        scopes=_str_list(scopes, "scopes"),
        extra_scopes=_str_list(extra_scopes_to_consent, "extra_scopes_to_consent"),
        prompt=_optional_str(prompt, "prompt"),
        login_hint=_optional_str(login_hint, "login_hint"),
        domain_hint=_optional_str(domain_hint, "domain_hint"),
        claims_challenge=_optional_str(claims_challenge, "claims_challenge"),
        timeout=None if timeout is None else float(timeout),
        port=port,
        max_age=max_age,
        response_mode=response_mode,
        on_before_launching_ui=on_before_launching_ui,
        redeem_kwargs=kwargs,
    )


def _is_error(flow: object) -> bool:
    # entra_auth's initiate_auth_code_flow answers a failed discovery with an error dict.
    return isinstance(flow, Mapping) and "error" in flow and "auth_uri" not in flow


def _check_flow(flow: object) -> Mapping[str, Any]:
    if (
        not isinstance(flow, Mapping)
        or not isinstance(flow.get("auth_uri"), str)
        or not isinstance(flow.get("state"), str)
        or not flow.get("state")
    ):
        raise ValueError("initiate_auth_code_flow() did not return a flow with auth_uri and state")
    return flow


def acquire_token_interactive(
    app: SyncApp,
    scopes: Sequence[str],
    *,
    prompt: str | None = None,
    login_hint: str | None = None,
    domain_hint: str | None = None,
    claims_challenge: str | None = None,
    timeout: float | None = None,
    port: int | None = None,
    extra_scopes_to_consent: Sequence[str] | None = None,
    max_age: int | None = None,
    parent_window_handle: int | None = None,
    on_before_launching_ui: Callable[..., Any] | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """Sign a user in through the system browser and return a token result.

    Listens on ``127.0.0.1`` (redirect URI ``http://localhost:{port}``), builds the
    authorization request with ``app.initiate_auth_code_flow`` (PKCE, state and nonce come
    from there), opens the browser from a thread while it serves the listener (a ``BROWSER``
    command that waits, such as a text-mode browser, is answered at once), waits for the
    authorization response, and redeems it with ``app.acquire_token_by_auth_code_flow``.

    Args:
        app: A public client application with MSAL's ``initiate_auth_code_flow`` and
            ``acquire_token_by_auth_code_flow`` (entra_auth's or msal's).
        scopes: The scopes to get an access token for.
        prompt: OIDC ``prompt`` (``"login"``, ``"select_account"``, ``"consent"``, ``"none"``).
        login_hint: The user's sign-in name, prefilled on the sign-in page.
        domain_hint: ``"consumers"``, ``"organizations"`` or a tenant domain.
        claims_challenge: A JSON claims request, e.g. from a resource's 401 challenge.
        timeout: Seconds to wait for the user; ``None`` waits indefinitely.
        port: The loopback port; ``None`` picks a free one.
        extra_scopes_to_consent: Scopes of other resources to consent to now; the returned
            token is not for them.
        max_age: Seconds since the user's last authentication beyond which they must sign in
            again; the application checks ``auth_time`` in the ID token.
        parent_window_handle: Accepted for compatibility; only a broker uses it.
        on_before_launching_ui: Called as ``on_before_launching_ui(ui="browser")`` just
            before the browser opens.
        **kwargs: ``response_mode`` (``"form_post"``, the default, or ``"query"``); anything
            else is passed on to ``acquire_token_by_auth_code_flow``.

    Returns:
        The application's token result; an error dict when the user cancelled
        (``access_denied``) or the timeout passed (``error="timeout"``).

    Raises:
        ValueError: An argument is invalid, or ``port`` can't be bound.
    """
    del parent_window_handle  # no broker on this path: the system browser needs no window
    request = _build_request(
        scopes, prompt, login_hint, domain_hint, claims_challenge, timeout, port,
        extra_scopes_to_consent, max_age, on_before_launching_ui, kwargs,
    )
    with LoopbackListener(request.port) as listener:
        flow = run_sync(app_call(
            "initiate_auth_code_flow",
            request.consent_scopes(), **request.initiate_kwargs(listener.redirect_uri),
        ), app=app)
        if _is_error(flow):
            return dict(flow)
        flow = _check_flow(flow)
        request.launching_ui()
        # From a thread: webbrowser.open waits for a BROWSER command to exit, and that
        # browser's redirect must be served meanwhile.
        opener = open_browser_in_background(flow["auth_uri"])
        logger.debug("Waiting for the sign-in response at %s", listener.redirect_uri)
        auth_response = listener.wait_for_auth_response(flow["state"], request.timeout)
    opener.join(_BROWSER_GRACE)
    if auth_response is None:
        return request.timeout_result()
    result: dict[str, Any] = run_sync(app_call(
        "acquire_token_by_auth_code_flow",
        dict(flow), auth_response, scopes=request.scopes, **request.redeem_kwargs,
    ), app=app)
    return result


async def acquire_token_interactive_async(
    app: AsyncApp | SyncApp,
    scopes: Sequence[str],
    *,
    prompt: str | None = None,
    login_hint: str | None = None,
    domain_hint: str | None = None,
    claims_challenge: str | None = None,
    timeout: float | None = None,
    port: int | None = None,
    extra_scopes_to_consent: Sequence[str] | None = None,
    max_age: int | None = None,
    parent_window_handle: int | None = None,
    on_before_launching_ui: Callable[..., Any] | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """The asyncio twin of :func:`acquire_token_interactive`.

    Same arguments and result. The listener runs on the event loop; the application's
    methods are awaited when they are coroutines and run in a worker thread otherwise, and
    the browser is launched from a daemon thread that is not waited for (a ``BROWSER``
    command may run until its user quits it), so the loop is never blocked.
    """
    del parent_window_handle
    request = _build_request(
        scopes, prompt, login_hint, domain_hint, claims_challenge, timeout, port,
        extra_scopes_to_consent, max_age, on_before_launching_ui, kwargs,
    )
    listener = await AsyncLoopbackListener.start(request.port)
    try:
        flow = await run_async(app_call(
            "initiate_auth_code_flow",
            request.consent_scopes(), **request.initiate_kwargs(listener.redirect_uri),
        ), app=app)
        if _is_error(flow):
            return dict(flow)
        flow = _check_flow(flow)
        request.launching_ui()
        # Not awaited: the listener answers the browser while a BROWSER command runs.
        open_browser_in_background(flow["auth_uri"])
        logger.debug("Waiting for the sign-in response at %s", listener.redirect_uri)
        auth_response = await listener.wait_for_auth_response(flow["state"], request.timeout)
    finally:
        await listener.aclose()
    if auth_response is None:
        return request.timeout_result()
    result: dict[str, Any] = await run_async(app_call(
        "acquire_token_by_auth_code_flow",
        dict(flow), auth_response, scopes=request.scopes, **request.redeem_kwargs,
    ), app=app)
    return result
