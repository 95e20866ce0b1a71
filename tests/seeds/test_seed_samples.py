"""The code samples of the seed documents (MSAL Python's docs), run against the emulator.

Each sample is kept as written, changed only to ``import entra_auth as msal`` and to use the
emulator's client ids, authority, users and CA bundle in place of the placeholders. Samples
that need a browser use the emulator's scripted user agent where the docs say "the user
visits auth_uri". acquire_token_interactive samples are covered by tests/interactive.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from fake_time import FakeTime

import entra_auth as msal
from entra_auth.testing import (
    PUBLIC_CLIENT_ID,
    WEB_API_ID,
    WEB_API_SECRET,
    WEB_APP_ID,
    WEB_APP_SECRET,
    Browser,
    Emulator,
)

USER, PASSWORD = "alice@contoso.onmicrosoft.com", "alice-password"


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator() as emu:
        yield emu


@pytest.fixture
def emu(emulator: Emulator) -> Emulator:
    emulator.reset()
    emulator.settings.device_poll_interval = 1
    return emulator


def _pca(emu: Emulator, **kw: Any) -> Any:
    return msal.PublicClientApplication(PUBLIC_CLIENT_ID, authority=emu.authority(),
                                        verify=emu.ca_bundle, **kw)


def _browse(emu: Emulator, uri: str) -> dict[str, str]:
    browser = Browser(verify=emu.ca_bundle or True)
    try:
        return browser.authorize(uri, USER, PASSWORD)
    finally:
        browser.close()


def test_001_three_step_pattern(emu: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    # 001: "Usage", steps 1-3, with acquire_token_by_username_password as the actual method.
    from entra_auth import PublicClientApplication
    app = PublicClientApplication(
        PUBLIC_CLIENT_ID,
        authority=emu.authority(), verify=emu.ca_bundle)
    for _ in range(2):  # the second run finds the account and its token in the cache
        result = None  # It is just an initial value. Please follow instructions below.
        accounts = app.get_accounts()
        if accounts:
            print("Pick the account you want to use to proceed:")
            for a in accounts:
                print(a["username"])
            chosen = accounts[0]
            result = app.acquire_token_silent(["User.Read"], account=chosen)
        if not result:
            result = app.acquire_token_by_username_password(USER, PASSWORD, scopes=["User.Read"])
        if "access_token" in result:
            print(result["access_token"])  # Yay!
        else:
            print(result.get("error"))
            print(result.get("error_description"))
            print(result.get("correlation_id"))
    assert result["token_source"] == "cache"
    assert USER in capsys.readouterr().out


def test_000_device_flow(emu: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeTime(emu)  # the app waits on the emulator's clock: no real second per poll

    def sleep(seconds: float) -> None:
        fake.sleep(seconds)
        if len(fake.slept) == 1:
            phone()  # the user signs in on the phone while the app waits

    app = _pca(emu, clock=fake, sleep=sleep)
    config = {"scope": ["User.Read"]}
    flow = app.initiate_device_flow(scopes=config["scope"])
    if "user_code" not in flow:
        raise ValueError(
            "Fail to create device flow. Err: %s" % json.dumps(flow, indent=4))  # noqa: UP031 (as in the docs)

    print(flow["message"])
    sys.stdout.flush()  # Some terminal needs this to ensure the message is shown

    def phone() -> None:
        browser = Browser(verify=emu.ca_bundle or True)
        try:
            browser.enter_device_code(flow["user_code"], USER, PASSWORD,
                                      verification_uri=flow["verification_uri"])
        finally:
            browser.close()

    result = app.acquire_token_by_device_flow(flow)

    if "access_token" in result:
        access_token = result["access_token"]
    else:
        print(result.get("error"))
    assert access_token and flow["user_code"] in capsys.readouterr().out
    assert fake.slept == [1.0]  # one interval between the pending poll and the token


def test_000_username_password_and_get_accounts(emu: Emulator) -> None:
    app = _pca(emu)
    config = {"username": USER, "password": PASSWORD, "scope": ["User.Read"]}
    result = app.acquire_token_by_username_password(
        username=config["username"], password=config["password"], scopes=config["scope"])

    if "access_token" in result:
        access_token = result["access_token"]
    else:
        print(result.get("error"))
    user = result["id_token_claims"]
    accounts = app.get_accounts(username=user.get("preferred_username"))
    if accounts:
        chosen = accounts[0]
        result = app.acquire_token_silent(scopes=["User.Read"], account=chosen)
        if not result:
            result = app.acquire_token_by_username_password(USER, PASSWORD, scopes=["User.Read"])
        if "access_token" in result:
            access_token = result["access_token"]
    assert access_token and result["token_source"] == "cache"


def test_000_client_credentials(emu: Emulator) -> None:
    app = msal.ConfidentialClientApplication(WEB_APP_ID, WEB_APP_SECRET,
                                             authority=emu.authority(), verify=emu.ca_bundle)
    config = {"scope": ["https://graph.microsoft.com/.default"]}
    result = app.acquire_token_for_client(scopes=config["scope"])

    if "access_token" in result:
        access_token = result["access_token"]
    else:
        print(result.get("error"))
    assert access_token


def test_000_on_behalf_of(emu: Emulator) -> None:
    user_token = _pca(emu).acquire_token_by_username_password(
        USER, PASSWORD, [f"api://{WEB_API_ID}/access_as_user"])["access_token"]
    headers = {"Authorization": f"Bearer {user_token}"}
    _scopes = ["https://graph.microsoft.com/User.Read"]
    current_app_access_token = headers.get("Authorization", None)  # noqa: SIM910 (as in the docs)
    app = msal.ConfidentialClientApplication(WEB_API_ID, WEB_API_SECRET,
                                             authority=emu.authority(), verify=emu.ca_bundle)
    result = app.acquire_token_on_behalf_of(
        user_assertion=current_app_access_token.split(' ')[1],
        scopes=_scopes
    )
    assert "access_token" in result, result


def test_000_auth_code_flow(emu: Emulator) -> None:
    app = msal.ConfidentialClientApplication(WEB_APP_ID, WEB_APP_SECRET,
                                             authority=emu.authority(), verify=emu.ca_bundle)
    config = {"scope": ["User.Read"], "redirect_uri": "http://localhost/callback"}
    session: dict[str, Any] = {}
    flow = app.initiate_auth_code_flow(
        scopes=config["scope"], redirect_uri=config["redirect_uri"], state="your-state-value")

    if "error" in flow:
        print(flow.get("error"))

    session["flow"] = flow
    auth_response = _browse(emu, session["flow"]["auth_uri"])
    result = None
    try:
        result = app.acquire_token_by_auth_code_flow(session.get("flow", {}), auth_response)

        if "access_token" in result:
            access_token = result["access_token"]
        else:
            print(result.get("error"))
    except ValueError:  # Usually caused by CSRF
        pass  # Simply ignore them
    assert result is not None and access_token
    with pytest.raises(ValueError):  # the sample's CSRF branch
        app.acquire_token_by_auth_code_flow({}, auth_response)


def test_003_reserved_scopes_in_web_sample_raise_like_msal(emu: Emulator) -> None:
    # 003's Flask sample passes "profile" and "openid"; MSAL rejects reserved scopes too.
    msal_app = msal.ConfidentialClientApplication(
        client_id=WEB_APP_ID, client_credential=WEB_APP_SECRET,
        authority=emu.authority(), verify=emu.ca_bundle)
    with pytest.raises(ValueError, match="reserved"):
        msal_app.initiate_auth_code_flow(
            scopes=["User.Read", "profile", "openid"],
            redirect_uri="http://localhost/callback", state="s")


def test_003_refresh_token_and_account_management(emu: Emulator,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    emu.app(PUBLIC_CLIENT_ID).consented_scopes.append("https://graph.microsoft.com/Mail.Read")
    refresh_token = _pca(emu).acquire_token_by_username_password(
        USER, PASSWORD, ["User.Read"])["refresh_token"]
    app = _pca(emu)
    result = app.acquire_token_by_refresh_token(
        refresh_token=refresh_token,
        scopes=["User.Read", "Mail.Read"]
    )
    if "access_token" in result:
        print("Refresh token authentication successful!")
    accounts = app.get_accounts()
    print(f"Found {len(accounts)} cached accounts:")
    for i, account in enumerate(accounts):
        print(f"{i+1}. {account.get('username')}")
        print(f" Environment: {account.get('environment')}")
        print(f" Home Account ID: {account.get('home_account_id')}")
        print(f" Authority Type: {account.get('authority_type')}")
    for account in app.get_accounts():
        result = app.acquire_token_silent(
            scopes=["User.Read"],
            account=account
        )
        if "access_token" in result:
            print(f"Successfully acquired token for {account.get('username')}")
    specific_accounts = app.get_accounts(username="user@example.com")
    print(f"Accounts for user@example.com: {len(specific_accounts)}")
    if accounts:
        print(f"Removing account: {accounts[0].get('username')}")
        app.remove_account(accounts[0])
    remaining_accounts = app.get_accounts()
    print(f"Remaining accounts: {len(remaining_accounts)}")
    out = capsys.readouterr().out
    assert "Refresh token authentication successful!" in out
    assert f"Successfully acquired token for {USER}" in out
    assert "Accounts for user@example.com: 0" in out and "Remaining accounts: 0" in out


def test_003_username_password_error_handling(emu: Emulator,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    app = _pca(emu)
    username, password = USER, "wrong-password"
    result = app.acquire_token_by_username_password(
        username=username,
        password=password,
        scopes=["User.Read"]
    )
    if "access_token" in result:
        print("Username/password authentication successful!")
    else:
        print(f"Authentication failed: {result.get('error_description')}")
        if result.get('error') == 'invalid_grant':
            print("Invalid username or password")
        elif result.get('error') == 'interaction_required':
            print("Multi-factor authentication required - use interactive flow")
    assert "Invalid username or password" in capsys.readouterr().out


def test_002_authority_builder_and_http_cache(emu: Emulator) -> None:
    from entra_auth import AZURE_PUBLIC, AuthorityBuilder
    my_authority = AuthorityBuilder(AZURE_PUBLIC, "contoso.onmicrosoft.com")
    assert str(my_authority) == "https://login.microsoftonline.com/contoso.onmicrosoft.com"
    persisted_http_cache: dict[str, Any] = {}
    app = _pca(emu, http_cache=persisted_http_cache)
    app.acquire_token_by_username_password(USER, PASSWORD, ["User.Read"])
    assert persisted_http_cache  # discovery documents are kept for the next run
    import pickle

    assert pickle.loads(pickle.dumps(persisted_http_cache)) == persisted_http_cache
