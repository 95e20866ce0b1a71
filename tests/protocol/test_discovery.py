"""Discovery URLs per authority kind, loopback self-discovery, and host aliases."""

from __future__ import annotations

import pytest

from entra_auth.protocol.authority import parse_authority
from entra_auth.protocol.discovery import authority_aliases, discover

from .helpers import Driver, json_response, make_ctx


@pytest.mark.parametrize(
    ("authority", "config_url"),
    [
        ("https://contoso.b2clogin.com/contoso.onmicrosoft.com/B2C_1_signin",
         "https://contoso.b2clogin.com/contoso.onmicrosoft.com/B2C_1_signin/v2.0/"
         ".well-known/openid-configuration"),
        ("https://fs.contoso.com/adfs", "https://fs.contoso.com/adfs/.well-known/openid-configuration"),
        ("https://contoso.ciamlogin.com", "https://contoso.ciamlogin.com/contoso.onmicrosoft.com/"
         "v2.0/.well-known/openid-configuration"),
        ("https://login.microsoftonline.com/common",
         "https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration"),
    ],
)
def test_no_instance_discovery_for_known_kinds(authority: str, config_url: str) -> None:
    ctx = make_ctx()
    d = Driver(discover(ctx, parse_authority(authority)))
    assert d.start().url == config_url
    d.send(json_response({"authorization_endpoint": "https://h/t/a",
                          "token_endpoint": "https://h/tenant-x/oauth2/v2.0/token"}))
    assert d.result.realm == "tenant-x"
    assert Driver(discover(ctx, parse_authority(authority))).start() is None  # memoized


def test_loopback_authority_discovers_itself_and_can_skip_it() -> None:
    ctx = make_ctx()
    auth = parse_authority("http://127.0.0.1:9999/tenant")
    req = Driver(discover(ctx, auth)).start()
    assert req.url.startswith("http://127.0.0.1:9999/common/discovery/instance?api-version=1.0")
    for flag in ({"instance_discovery": False}, {"validate_authority": False}):
        req = Driver(discover(make_ctx(**flag), auth)).start()
        assert req.url == "http://127.0.0.1:9999/tenant/v2.0/.well-known/openid-configuration"


def test_aliases_from_instance_discovery_metadata() -> None:
    ctx = make_ctx()
    auth = parse_authority("https://login.windows.net/common")
    d = Driver(authority_aliases(ctx, auth))
    req = d.start()
    assert "api-version=1.1" in req.url and req.url.startswith("https://login.windows.net/")
    d.send(json_response({"metadata": [
        {"aliases": ["login.microsoftonline.com", "login.windows.net", "sts.windows.net"]}]}))
    assert d.result == ("login.windows.net", "login.microsoftonline.com", "sts.windows.net")
    assert Driver(authority_aliases(ctx, auth)).start() is None
