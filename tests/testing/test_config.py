"""Declaring the directory in Python or JSON, and rejecting bad configurations clearly."""

from __future__ import annotations

import json
import pathlib

import pytest
import requests

from entra_auth.testing import (
    App,
    ConfigError,
    Emulator,
    EmulatorConfig,
    Resource,
    Settings,
    Tenant,
    User,
    config_from_dict,
    config_to_dict,
    default_config,
    generate_client_certificate,
    load_config,
)

TENANT = "11111111-2222-3333-4444-555555555555"
PUBLIC = "aaaaaaaa-0000-0000-0000-000000000001"


def _minimal() -> dict[str, object]:
    return {
        "tenants": [{"tenant_id": TENANT, "domain": "fabrikam.test"}],
        "users": [{"username": "carol@fabrikam.test", "password": "pw",
                   "display_name": "Carol"}],
        "apps": [{"client_id": PUBLIC, "redirect_uris": ["http://localhost"],
                  "consented_scopes": ["https://graph.microsoft.com/User.Read"]}],
        "resources": [{"app_id": "00000003-0000-0000-c000-000000000000",
                       "identifier_uri": "https://graph.microsoft.com",
                       "scopes": ["User.Read"]}],
        "settings": {"device_poll_interval": 1},
    }


def test_default_config_round_trips_through_json() -> None:
    config = default_config()
    again = config_from_dict(json.loads(json.dumps(config_to_dict(config))))
    assert again == config


def test_json_file_drives_the_emulator(tmp_path: pathlib.Path) -> None:
    cert = generate_client_certificate("fabrikam app")
    (tmp_path / "app.pem").write_text(cert.certificate_pem)
    data = _minimal()
    data["apps"].append({  # type: ignore[attr-defined]
        "client_id": "aaaaaaaa-0000-0000-0000-000000000002", "public_client": False,
        "certificates": ["app.pem"], "secrets": ["s3cret"]})
    path = tmp_path / "config.json"
    path.write_text(json.dumps(data))
    config = load_config(str(path))
    assert config.apps[1].certificates == [cert.certificate_pem]
    assert config.settings.device_poll_interval == 1
    with Emulator(config) as emu:
        resp = requests.post(emu.token_endpoint("fabrikam.test"), data={
            "grant_type": "password", "client_id": PUBLIC, "username": "carol@fabrikam.test",
            "password": "pw", "scope": "openid User.Read"}, verify=emu.ca_bundle, timeout=10)
        assert resp.status_code == 200, resp.text
        assert resp.json()["scope"] == "User.Read openid"


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda d: d.update(tenants=[]), "no tenant"),
    (lambda d: d.update(extra=1), "unknown field"),
    (lambda d: d["users"][0].update(mfa_required="yes"), "true or false"),
    (lambda d: d["users"][0].pop("password"), "missing required field 'password'"),
    (lambda d: d["users"].append(dict(d["users"][0])), "declared twice"),
    (lambda d: d["users"][0].update(tenant="elsewhere.test"), "unknown tenant"),
    (lambda d: d["apps"][0].update(certificates=["-----BEGIN CERTIFICATE-----\nnope"]),
     "unparseable certificate"),
    (lambda d: d["apps"][0].update(certificates=["missing.pem"]), "cannot read certificate"),
    (lambda d: d["settings"].update(access_token_lifetime=-5), "non-negative integer"),
    (lambda d: d["apps"][0].update(redirect_uris="http://localhost"), "must be a list"),
    (lambda d: d.update(apps={"client_id": 1}), "must be a list"),
    (lambda d: d["resources"].append(dict(d["resources"][0])), "declared twice"),
])
def test_bad_configs_name_the_problem(mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(json.dumps(_minimal()))
    mutate(data)
    with pytest.raises(ConfigError, match=message):
        config_from_dict(data)


def test_unreadable_and_invalid_json_files(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(str(tmp_path / "absent.json"))
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_config(str(bad))
    bad.write_text("[1, 2]")
    with pytest.raises(ConfigError, match="must be an object"):
        load_config(str(bad))


def test_python_declaration_and_runtime_edits(emu: Emulator) -> None:
    config = EmulatorConfig(
        tenants=[Tenant(TENANT, "fabrikam.test")],
        users=[User("dave@fabrikam.test", "pw")],
        apps=[App(PUBLIC, redirect_uris=["http://localhost"])],
        resources=[Resource("00000003-0000-0000-c000-000000000000",
                            "https://graph.microsoft.com", scopes=["User.Read"])],
        settings=Settings(access_token_lifetime=60),
    )
    assert config.users[0].object_id  # generated
    emu.add_user(User("erin@contoso.onmicrosoft.com", "pw", "Erin"))
    assert emu.user("ERIN@contoso.onmicrosoft.com").display_name == "Erin"
    emu.reset()
    with pytest.raises(LookupError, match="no user"):
        emu.user("erin@contoso.onmicrosoft.com")
    with pytest.raises(LookupError, match="no app"):
        emu.app("nope")
