"""``PublicClientApplication``: desktop, mobile and CLI apps (device code, interactive).

MSAL Python's public-client API. Broker flags are accepted and ignored (no broker support).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from ._app_base import ClientApplication
from ._app_core import PublicRules, reject_unknown_kwargs
from .protocol import app_flows

__all__ = ["PublicClientApplication"]


class PublicClientApplication(PublicRules, ClientApplication):
    """An application that can't keep a secret: it signs users in."""

    def acquire_token_interactive(
        self,
        scopes: list[str],
        prompt: str | None = None,
        login_hint: str | None = None,
        domain_hint: str | None = None,
        claims_challenge: str | None = None,
        timeout: float | None = None,
        port: int | None = None,
        extra_scopes_to_consent: list[str] | None = None,
        max_age: int | None = None,
        parent_window_handle: int | None = None,
        on_before_launching_ui: Any = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Sign a user in through the system browser (see ``docs/interactive.md``).

        Parameters are msal's, in msal's positional order; broker-only ones
        (``parent_window_handle``) are accepted and ignored.

        Raises:
            TypeError: a keyword other than these and ``response_mode`` (checked before the
                browser opens).
        """
        from .interactive import acquire_token_interactive

        self._refuse_auth_scheme(kwargs)
        kwargs.pop("auth_scheme", None)
        reject_unknown_kwargs("acquire_token_interactive",
                              {k: v for k, v in kwargs.items() if k != "response_mode"})
        result: dict[str, Any] = acquire_token_interactive(
            self, scopes, prompt=prompt, login_hint=login_hint, domain_hint=domain_hint,
            claims_challenge=claims_challenge, timeout=timeout, port=port,
            extra_scopes_to_consent=extra_scopes_to_consent, max_age=max_age,
            parent_window_handle=parent_window_handle,
            on_before_launching_ui=on_before_launching_ui, **kwargs)
        return result

    def initiate_device_flow(
        self,
        scopes: list[str] | None = None,
        *,
        claims_challenge: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Ask for a device code.

        Returns:
            The flow dict: show ``flow["message"]`` to the user (it is always present on
            success), then pass the dict to :meth:`acquire_token_by_device_flow`. Without
            ``user_code`` it is an error dict.

        Raises:
            TypeError: an unknown keyword argument.
        """
        reject_unknown_kwargs("initiate_device_flow", kwargs)
        return self._result(self._run(app_flows.initiate_device_flow(
            self._ctx, self.authority, scopes or [], claims_challenge)))

    def acquire_token_by_device_flow(
        self,
        flow: MutableMapping[str, Any],
        claims_challenge: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Poll until the user signs in, the code expires, or ``flow["expires_at"] = 0``.

        Raises:
            ValueError: ``flow`` is not a device flow dict.
            TypeError: an unknown keyword argument.
        """
        reject_unknown_kwargs("acquire_token_by_device_flow", kwargs)
        return self._result(self._run(app_flows.by_device_flow(
            self._ctx, self.authority, flow, claims_challenge)))
