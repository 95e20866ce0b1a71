"""The CLI names what failed: method, URL and cause of a network failure, the host of an
untrusted certificate and the ``--ca-bundle`` option, and an unknown ``--client-id``."""

from __future__ import annotations

import pathlib
import socket
import sys

from entra_auth.testing import WEB_APP_ID, WEB_APP_SECRET, Emulator

from .helpers import ALICE, cli_env, run_cli

UNKNOWN_APP = "00000000-1111-2222-3333-444444444444"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _one_line(proc: object, code: int) -> str:
    returncode, stderr = proc.returncode, proc.stderr  # type: ignore[attr-defined]
    assert returncode == code, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return str(lines[0])


def test_api_request_refused_names_method_url_and_cause(
    emu: Emulator, tmp_path: pathlib.Path
) -> None:
    port = _closed_port()
    env = cli_env(emu, str(tmp_path), AZURE_CLIENT_ID=WEB_APP_ID,
                  AZURE_TENANT_ID=emu.tenant_id, AZURE_CLIENT_SECRET=WEB_APP_SECRET,
                  AZURE_AUTHORITY_HOST=emu.base_url)
    proc = run_cli(env, "get", f"https://127.0.0.1:{port}/v1.0/users?$top=1",
                   "--from-environment", "--resource", "https://graph.microsoft.com",
                   "--allow-host", "127.0.0.1")
    assert _one_line(proc, 3) == (
        f"entra-auth get: error: GET https://127.0.0.1:{port}/v1.0/users: connection refused")


def test_authority_refused_names_method_url_and_cause(
    emu: Emulator, tmp_path: pathlib.Path
) -> None:
    port = _closed_port()
    env = cli_env(emu, str(tmp_path), ENTRA_AUTH_AUTHORITY=f"https://127.0.0.1:{port}/contoso")
    line = _one_line(run_cli(env, "login"), 3)
    assert f"GET https://127.0.0.1:{port}/" in line and line.endswith(": connection refused")


def test_untrusted_certificate_names_the_host_and_ca_bundle(
    emu: Emulator, tmp_path: pathlib.Path
) -> None:
    env = cli_env(emu, str(tmp_path), ENTRA_AUTH_CA_BUNDLE="", AZURE_CLIENT_ID=WEB_APP_ID,
                  AZURE_TENANT_ID=emu.tenant_id, AZURE_CLIENT_SECRET=WEB_APP_SECRET,
                  AZURE_AUTHORITY_HOST=emu.base_url)
    env.pop("REQUESTS_CA_BUNDLE", None)
    env.pop("SSL_CERT_FILE", None)
    for command in (["login"], ["token", "--from-environment"]):
        line = _one_line(run_cli(env, *command), 3)
        assert f"GET {emu.base_url}/" in line, line
        assert "certificate verification failed for 127.0.0.1" in line, line
        assert "--ca-bundle FILE" in line and "verify=" not in line, line


def test_token_with_an_unknown_client_id_names_the_application(
    emu: Emulator, tmp_path: pathlib.Path
) -> None:
    emu.settings.auto_approve = True
    browser = tmp_path / "browser.py"
    # A browser command that loads the page, posts the form to the CLI's listener and exits.
    browser.write_text(
        "import re, sys, requests\n"
        f"page = requests.get(sys.argv[1], verify={str(emu.ca_bundle)!r}, timeout=20)\n"
        "action = re.search(r'action=\"([^\"]+)\"', page.text).group(1)\n"
        "fields = dict(re.findall(r'name=\"([^\"]+)\" value=\"([^\"]*)\"', page.text))\n"
        "requests.post(action, data=fields, timeout=20)\n")
    env = cli_env(emu, str(tmp_path), BROWSER=f"{sys.executable} {browser} %s")
    login = run_cli(env, "login", "--browser", "--login-hint", ALICE)
    assert login.returncode == 0, login.stderr
    assert run_cli(env, "token", "--raw").returncode == 0
    line = _one_line(run_cli(env, "token", "--client-id", UNKNOWN_APP), 1)
    assert line.startswith(f"entra-auth token: error: application {UNKNOWN_APP}: AADSTS700016")
    assert f"'{UNKNOWN_APP}' was not found" in line
