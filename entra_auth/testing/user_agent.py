"""Play the user over HTTP: drive the emulator's sign-in pages as a browser would.

Completes an authorization URL (GET page, POST credentials/MFA/consent, stop at the redirect
to the app and return the auth response dict) and enters a device code on the device-login page.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

__all__ = ["Browser", "SignInError", "complete_authorization", "enter_device_code"]

_MAX_STEPS = 12


class SignInError(Exception):
    """The sign-in could not be completed (wrong password, unknown code, error page...)."""


class _Form:
    def __init__(self, attrs: dict[str, str]) -> None:
        self.id = attrs.get("id", "")
        self.action = attrs.get("action", "")
        self.fields: dict[str, str] = {}


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[_Form] = []
        self.error: str | None = None
        self.done = False
        self._in_error = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(_Form(a))
        elif tag == "input" and self.forms and a.get("name"):
            self.forms[-1].fields[a["name"]] = a.get("value", "")
        if a.get("id") == "error":
            self._in_error, self.error = True, ""
        if a.get("id") == "done":
            self.done = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "p":
            self._in_error = False

    def handle_data(self, data: str) -> None:
        if self._in_error and self.error is not None:
            self.error += data


def _parse(html: str) -> _PageParser:
    parser = _PageParser()
    parser.feed(html)
    return parser


class Browser:
    """A cookie-keeping user agent for the emulator's pages (so SSO and ``prompt=none`` work).

    Args:
        verify: CA bundle path (the emulator's ``ca_bundle``), or a bool, as in requests.
    """

    def __init__(self, verify: str | bool = True) -> None:
        import requests

        self.session = requests.Session()
        self.session.trust_env = False  # REQUESTS_CA_BUNDLE must not override our CA
        self.session.verify = verify

    def close(self) -> None:
        """Close the HTTP session."""
        self.session.close()

    def authorize(
        self,
        auth_uri: str,
        username: str | None = None,
        password: str | None = None,
        *,
        mfa_code: str | None = None,
        consent: bool = True,
    ) -> dict[str, str]:
        """Open an authorization URL and sign in; return what the app's redirect URI receives.

        Args:
            auth_uri: The URL from e.g. msal's ``initiate_auth_code_flow()["auth_uri"]``.
            username: Typed on the sign-in page (not needed with an existing session).
            password: Typed on the sign-in page.
            mfa_code: The one-time code, for users who need MFA.
            consent: Accept (True) or cancel (False) a consent page.

        Returns:
            The auth response: ``code``, ``state``, ``client_info``... or ``error``, ...

        Raises:
            SignInError: The emulator showed an error page or rejected the credentials.
        """
        host = urlsplit(auth_uri).netloc
        resp = self.session.get(auth_uri, allow_redirects=False, timeout=30)
        for _ in range(_MAX_STEPS):
            if resp.is_redirect:
                location = urljoin(resp.url, resp.headers["location"])
                if urlsplit(location).netloc == host:
                    resp = self.session.get(location, allow_redirects=False, timeout=30)
                    continue
                parts = urlsplit(location)
                return dict(parse_qsl(parts.fragment or parts.query, keep_blank_values=True))
            resp = self._step(resp, username, password, mfa_code, consent, done_ok=False)
            if isinstance(resp, dict):
                return resp
        raise SignInError("too many steps without reaching the redirect URI")

    def enter_device_code(
        self,
        user_code: str,
        username: str | None = None,
        password: str | None = None,
        *,
        verification_uri: str,
        mfa_code: str | None = None,
        consent: bool = True,
    ) -> None:
        """Type a device code on the device-login page and sign in (as the user on a phone).

        Raises:
            SignInError: Unknown/expired code, bad credentials, or an error page.
        """
        page = self.session.get(verification_uri, allow_redirects=False, timeout=30)
        form = next((f for f in _parse(page.text).forms if f.id == "devicecode"), None)
        if form is None:
            raise SignInError("the device-login page has no code form")
        resp = self.session.post(urljoin(page.url, form.action), data={"otc": user_code},
                                 allow_redirects=False, timeout=30)
        for _ in range(_MAX_STEPS):
            result = self._step(resp, username, password, mfa_code, consent, done_ok=True)
            if isinstance(result, dict):
                return
            resp = result
        raise SignInError("too many steps without finishing the device sign-in")

    def _step(self, resp: Any, username: str | None, password: str | None,
              mfa_code: str | None, consent: bool, *, done_ok: bool) -> Any:
        """Answer the form on one page; returns the next response, or a dict when finished."""
        page = _parse(resp.text)
        if done_ok and page.done:
            return {}
        forms = {f.id: f for f in page.forms}
        if "form_post" in forms:
            return dict(forms["form_post"].fields)
        if page.error is not None and (resp.status_code >= 400 or not page.forms
                                       or resp.request.method == "POST"):
            raise SignInError(page.error.strip())
        if "login" in forms:
            if username is None or password is None:
                raise SignInError("the sign-in page asks for a username and password")
            form, data = forms["login"], {"username": username, "password": password}
        elif "mfa" in forms:
            if mfa_code is None:
                raise SignInError("the sign-in asks for an MFA code")
            form, data = forms["mfa"], {"otp": mfa_code}
        elif "consent" in forms:
            form, data = forms["consent"], {"consent": "accept" if consent else "decline"}
        elif "devicecode" in forms:
            raise SignInError("the device code was not accepted")
        else:
            raise SignInError(f"unexpected page (HTTP {resp.status_code})")
        fields = dict(form.fields)
        fields.update(data)
        return self.session.post(urljoin(resp.url, form.action), data=fields,
                                 allow_redirects=False, timeout=30)


def complete_authorization(
    auth_uri: str,
    username: str | None = None,
    password: str | None = None,
    *,
    verify: str | bool = True,
    mfa_code: str | None = None,
    consent: bool = True,
) -> dict[str, str]:
    """One-shot :meth:`Browser.authorize` with a fresh browser (no session cookies)."""
    browser = Browser(verify)
    try:
        return browser.authorize(auth_uri, username, password, mfa_code=mfa_code,
                                 consent=consent)
    finally:
        browser.close()


def enter_device_code(
    flow: dict[str, Any],
    username: str | None = None,
    password: str | None = None,
    *,
    verify: str | bool = True,
    mfa_code: str | None = None,
    consent: bool = True,
) -> None:
    """One-shot :meth:`Browser.enter_device_code` for a devicecode response / msal flow dict.

    Raises:
        ValueError: ``flow`` lacks ``user_code`` or ``verification_uri``.
        SignInError: The code or the sign-in was rejected.
    """
    if not isinstance(flow, dict) or not all(
            isinstance(flow.get(k), str) for k in ("user_code", "verification_uri")):
        raise ValueError("flow must be a devicecode response with 'user_code' and "
                         "'verification_uri'")
    browser = Browser(verify)
    try:
        browser.enter_device_code(
            str(flow["user_code"]), username, password,
            verification_uri=str(flow["verification_uri"]), mfa_code=mfa_code, consent=consent,
        )
    finally:
        browser.close()
