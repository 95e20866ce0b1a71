"""The CLI's failures: one readable line on stderr, a meaningful exit code, never a traceback."""

from __future__ import annotations

import json
import pathlib
import subprocess

import pytest

from entra_auth.testing import WEB_APP_ID, WEB_APP_SECRET, Emulator

from .helpers import cli_env, run_cli

COMMANDS = ["login", "accounts", "logout", "token", "get", "post", "put", "patch", "delete",
            "decode", "emulator"]


def _one_line_error(proc: subprocess.CompletedProcess[str], code: int, prefix: str) -> str:
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(prefix), lines[0]
    assert "Traceback" not in proc.stderr
    return lines[0]


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    from entra_auth import cli

    with pytest.raises(SystemExit) as top:
        cli.main(["--help"])
    assert top.value.code == 0
    listing = capsys.readouterr().out
    for name in COMMANDS:
        assert name in listing
        with pytest.raises(SystemExit) as sub:
            cli.main([name, "--help"])
        assert sub.value.code == 0
        assert f"usage: entra-auth {name}" in capsys.readouterr().out, name
    assert run_cli({"PATH": "/usr/bin:/bin"}, "token", "--help").returncode == 0


def test_bad_arguments_exit_2_with_one_line(tmp_path: pathlib.Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "XDG_CONFIG_HOME": str(tmp_path)}
    line = _one_line_error(run_cli(env, "token", "--bogus"), 2, "entra-auth: error:")
    assert "--bogus" in line
    _one_line_error(run_cli(env, "get"), 2, "entra-auth get: error: the following arguments")
    _one_line_error(run_cli(env, "login", "--timeout", "soon"), 2, "entra-auth login: error:")
    _one_line_error(run_cli(env, "nosuchcommand"), 2, "entra-auth: error:")
    _one_line_error(run_cli(env, "token", "--from-environment", "--managed-identity"), 2,
                    "entra-auth token: error: argument --managed-identity")
    _one_line_error(run_cli(env, "get", "/me", "--ca-bundle", "/nope.pem"),
                    2, "entra-auth get: error: --ca-bundle /nope.pem: no such file")


def test_network_failures_are_one_line_exit_3(emu: Emulator, tmp_path: pathlib.Path) -> None:
    env = cli_env(emu, str(tmp_path), ENTRA_AUTH_AUTHORITY="https://127.0.0.1:9/contoso")
    line = _one_line_error(run_cli(env, "login"), 3, "entra-auth login: error:")
    assert "127.0.0.1:9" in line or "connect" in line.lower()
    verbose = run_cli(env, "login", "--verbose")
    assert verbose.returncode == 3 and len(verbose.stderr.strip().splitlines()) > 1
    assert "error: transport_error" in verbose.stderr and "Traceback" not in verbose.stderr
    # the emulator's CA not trusted: TLS fails, reported as such
    untrusted = cli_env(emu, str(tmp_path), ENTRA_AUTH_CA_BUNDLE="")
    untrusted.pop("REQUESTS_CA_BUNDLE", None)
    _one_line_error(run_cli(untrusted, "login"), 3, "entra-auth login: error:")


def test_api_errors_and_unknown_hosts(emu: Emulator, tmp_path: pathlib.Path) -> None:
    env = cli_env(emu, str(tmp_path), AZURE_CLIENT_ID=WEB_APP_ID,
                  AZURE_TENANT_ID=emu.tenant_id, AZURE_CLIENT_SECRET=WEB_APP_SECRET,
                  AZURE_AUTHORITY_HOST=emu.base_url)
    # an app-only token can't read /me: the API's error is shown, exit 1
    me = run_cli(env, "get", "/me", "--from-environment")
    line = _one_line_error(me, 1, "entra-auth get: error: GET ")
    assert "HTTP 400" in line and "delegated" in line
    assert json.loads(me.stdout)["error"]["code"] == "BadRequest"
    assert WEB_APP_SECRET not in me.stderr + me.stdout
    # a host whose scope can't be guessed
    _one_line_error(run_cli(env, "get", "https://api.example.org/items"), 2,
                    "entra-auth get: error: cannot tell which scope to request for "
                    "api.example.org")
    # the API is down
    emu.inject_fault("echo", "status", status=503, times=1)
    down = run_cli(env, "get", f"{emu.base_url}/echo", "--from-environment", "--resource",
                   "https://graph.microsoft.com")
    assert "HTTP 503" in _one_line_error(down, 1, "entra-auth get: error:")


def test_app_only_tokens_from_environment_and_managed_identity(
        emu: Emulator, tmp_path: pathlib.Path) -> None:
    env = cli_env(emu, str(tmp_path), AZURE_CLIENT_ID=WEB_APP_ID,
                  AZURE_TENANT_ID=emu.tenant_id, AZURE_CLIENT_SECRET=WEB_APP_SECRET,
                  AZURE_AUTHORITY_HOST=emu.base_url)
    token = run_cli(env, "token", "--from-environment")
    assert token.returncode == 0, token.stderr
    assert json.loads(token.stdout)["token_type"] == "Bearer"
    echo = run_cli(env, "delete", f"{emu.base_url}/echo/item/1", "--from-environment",
                   "--resource", "https://graph.microsoft.com")
    assert echo.returncode == 0 and json.loads(echo.stdout)["method"] == "DELETE"
    mi_env = cli_env(emu, str(tmp_path), AZURE_POD_IDENTITY_AUTHORITY_HOST=emu.base_url)
    mi = run_cli(mi_env, "token", "--managed-identity", "--raw")
    assert mi.returncode == 0 and mi.stdout.count(".") == 2
    no_mi = run_cli(cli_env(emu, str(tmp_path)), "token", "--managed-identity")
    assert "no managed identity is available" in _one_line_error(no_mi, 1, "entra-auth token:")
    broken = dict(env, AZURE_CLIENT_SECRET="")
    line = _one_line_error(run_cli(broken, "token", "--from-environment"), 2,
                           "entra-auth token: error: no credential in the environment")
    assert "AZURE_CLIENT_SECRET" in line


def test_wrong_account_and_not_signed_in(emu: Emulator, tmp_path: pathlib.Path) -> None:
    env = cli_env(emu, str(tmp_path))
    _one_line_error(run_cli(env, "get", "/me"), 4, "entra-auth get: error: not signed in")
    _one_line_error(run_cli(env, "logout", "-u", "bob@contoso.onmicrosoft.com"), 4,
                    "entra-auth logout: error: bob@contoso.onmicrosoft.com is not signed in")


@pytest.mark.parametrize("text", ["not-a-token", "a.b.c", "eyJhbGciOiJub25lIn0.W10.x"])
def test_decode_rejects_garbage_without_echoing_it(text: str, tmp_path: pathlib.Path) -> None:
    proc = run_cli({"PATH": "/usr/bin:/bin"}, "decode", text)
    line = _one_line_error(proc, 1, "entra-auth decode: error: not a JWT")
    assert text not in line


def test_version_flag_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    import entra_auth
    from entra_auth import cli

    with pytest.raises(SystemExit) as done:
        cli.main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"entra-auth {entra_auth.__version__}"
    assert entra_auth.__version__ == version("entra-auth")  # one source: _version.py
