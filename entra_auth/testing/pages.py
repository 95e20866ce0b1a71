"""HTML pages of the emulator's sign-in experience: plain forms, no external assets.

Stable element ids (``username``, ``password``, ``otp``, ``otc``, ``submit``, ``accept``,
``decline``, ``error``) let a headless browser or :mod:`.user_agent` drive them.
"""

from __future__ import annotations

from html import escape

__all__ = [
    "code_entry_page", "consent_page", "done_page", "error_page", "form_post_page",
    "login_page", "mfa_page",
]

_STYLE = (
    "body{font-family:sans-serif;background:#f2f2f2;margin:0}"
    "main{max-width:420px;margin:60px auto;background:#fff;padding:32px;"
    "box-shadow:0 2px 6px rgba(0,0,0,.2)}"
    "input[type=text],input[type=password],input[type=email]{width:100%;padding:8px;"
    "margin:6px 0 14px;box-sizing:border-box}"
    "button{padding:8px 24px;margin-right:8px}#error{color:#c00}"
)


def _page(title: str, body: str, status_note: str = "") -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main><h1>{escape(title)}</h1>{status_note}{body}</main></body></html>\n"
    )


def _error_note(message: str | None) -> str:
    return f'<p id="error" role="alert">{escape(message)}</p>' if message else ""


def _hidden(fields: dict[str, str]) -> str:
    return "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in fields.items()
    )


def login_page(action: str, ctx: str, app_name: str, *, login_hint: str = "",
               error: str | None = None) -> str:
    """Username and password form."""
    body = (
        f"<p>to continue to <b>{escape(app_name)}</b></p>"
        f'<form id="login" method="post" action="{escape(action)}">'
        f"{_hidden({'ctx': ctx, 'step': 'login'})}"
        '<label for="username">Email or username</label>'
        f'<input type="email" id="username" name="username" value="{escape(login_hint)}" '
        'autocomplete="username" required>'
        '<label for="password">Password</label>'
        '<input type="password" id="password" name="password" '
        'autocomplete="current-password" required>'
        '<button type="submit" id="submit">Sign in</button></form>'
    )
    return _page("Sign in", body, _error_note(error))


def mfa_page(action: str, ctx: str, *, error: str | None = None) -> str:
    """One-time code form (the second factor)."""
    body = (
        "<p>Enter the code from your authenticator app.</p>"
        f'<form id="mfa" method="post" action="{escape(action)}">'
        f"{_hidden({'ctx': ctx, 'step': 'mfa'})}"
        '<label for="otp">Code</label>'
        '<input type="text" id="otp" name="otp" inputmode="numeric" '
        'autocomplete="one-time-code" required>'
        '<button type="submit" id="submit">Verify</button></form>'
    )
    return _page("Verify your identity", body, _error_note(error))


def consent_page(action: str, ctx: str, app_name: str, permissions: list[str]) -> str:
    """Permission consent: Accept / Cancel."""
    items = "".join(f"<li>{escape(p)}</li>" for p in permissions)
    body = (
        f"<p><b>{escape(app_name)}</b> needs permission to:</p><ul>{items}</ul>"
        f'<form id="consent" method="post" action="{escape(action)}">'
        f"{_hidden({'ctx': ctx, 'step': 'consent'})}"
        '<button type="submit" id="accept" name="consent" value="accept">Accept</button>'
        '<button type="submit" id="decline" name="consent" value="decline">Cancel</button>'
        "</form>"
    )
    return _page("Permissions requested", body)


def code_entry_page(action: str, *, error: str | None = None) -> str:
    """The device-login page where a user types the code shown on the device."""
    body = (
        "<p>Enter the code displayed on your app or device.</p>"
        f'<form id="devicecode" method="post" action="{escape(action)}">'
        '<label for="otc">Code</label>'
        '<input type="text" id="otc" name="otc" autocomplete="off" required>'
        '<button type="submit" id="submit">Next</button></form>'
    )
    return _page("Enter code", body, _error_note(error))


def done_page(app_name: str) -> str:
    """Shown after a device-flow sign-in completes."""
    body = (
        f'<p id="done">You have signed in to the <b>{escape(app_name)}</b> application on '
        "your device. You may now close this window.</p>"
    )
    return _page("You're all set", body)


def declined_page() -> str:
    """Shown after a device-flow consent is declined."""
    return _page("Sign-in cancelled", '<p id="done">You declined. You may close this window.</p>')


def error_page(code: int, message: str) -> str:
    """A sign-in error the browser shows (when redirecting back is unsafe)."""
    body = f'<p id="error" role="alert">AADSTS{code}: {escape(message)}</p>'
    return _page("Sorry, but we're having trouble signing you in.", body)


def form_post_page(redirect_uri: str, fields: dict[str, str]) -> str:
    """response_mode=form_post: an auto-submitting form to the redirect URI."""
    body = (
        f'<form id="form_post" method="post" action="{escape(redirect_uri)}">'
        f"{_hidden(fields)}"
        '<noscript><button type="submit" id="submit">Continue</button></noscript></form>'
        "<script>document.getElementById('form_post').submit();</script>"
    )
    return _page("Working...", body)
