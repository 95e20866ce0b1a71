"""Property: whatever a client sends, the emulator answers 2xx/3xx/4xx, never a 500."""

from __future__ import annotations

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from property.budget import examples

from entra_auth.testing import PUBLIC_CLIENT_ID, WEB_APP_ID, Emulator

FIELDS = ["grant_type", "client_id", "client_secret", "scope", "code", "redirect_uri",
          "code_verifier", "refresh_token", "username", "password", "device_code", "assertion",
          "requested_token_use", "client_assertion", "client_assertion_type", "claims",
          "response_type", "response_mode", "prompt", "max_age", "login_hint", "state",
          "code_challenge", "code_challenge_method", "ctx", "step", "otc"]
VALUES = st.one_of(
    st.sampled_from(["password", "client_credentials", "refresh_token", "authorization_code",
                     "urn:ietf:params:oauth:grant-type:device_code",
                     "urn:ietf:params:oauth:grant-type:jwt-bearer", PUBLIC_CLIENT_ID,
                     WEB_APP_ID, "openid User.Read", "https://graph.microsoft.com/.default",
                     "code", "none", "login", "{}", '{"access_token": 1}', "a.b.c", "S256"]),
    st.text(max_size=40),
)
FORMS = st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=8)
PATHS = st.sampled_from(["oauth2/v2.0/token", "oauth2/v2.0/authorize",
                         "oauth2/v2.0/devicecode", "v2.0/.well-known/openid-configuration",
                         "discovery/v2.0/keys"])


def test_random_requests_never_break_the_server(emu: Emulator, http: requests.Session) -> None:
    @settings(examples, suppress_health_check=[*examples.suppress_health_check,
                                               HealthCheck.function_scoped_fixture])
    @given(form=FORMS, path=PATHS, as_query=st.booleans(),
           tenant=st.sampled_from([emu.tenant_id, "common", "contoso.onmicrosoft.com", "x"]))
    def check(form: dict[str, str], path: str, as_query: bool, tenant: str) -> None:
        url = f"{emu.base_url}/{tenant}/{path}"
        if as_query:
            resp = http.get(url, params=form, allow_redirects=False, timeout=10)
        else:
            resp = http.post(url, data=form, allow_redirects=False, timeout=10)
        assert resp.status_code < 500, (resp.status_code, resp.text[:300])
        if resp.headers.get("content-type", "").startswith("application/json"):
            resp.json()

    check()
    assert emu.internal_errors == []
