"""The real ``entra-auth`` command against the emulator: login by device code on a terminal
(a test plays the user), accounts, token, get /v1.0/me, logout."""

from __future__ import annotations

import json
import os
import pathlib
import re
import signal
import stat
import threading

from entra_auth.testing import Emulator, enter_device_code

from .helpers import ALICE, ALICE_PW, CODE_RE, Terminal, cli_env, run_cli


def _play_user(emu: Emulator, code: str, errors: list[BaseException]) -> threading.Thread:
    def sign_in() -> None:
        try:
            enter_device_code({"user_code": code, "verification_uri": emu.device_login_url},
                              ALICE, ALICE_PW, verify=str(emu.ca_bundle))
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    thread = threading.Thread(target=sign_in)
    thread.start()
    return thread


def test_login_token_get_me_logout(emu: Emulator, tmp_path: pathlib.Path) -> None:
    env = cli_env(emu, str(tmp_path))
    with Terminal(env, "login") as term:
        code = term.read_until(CODE_RE).group(1)
        # the live countdown ticks on the terminal (rewriting its line) before anyone signs in
        term.read_until(r"\d\d:\d\d left")
        ticks = re.findall(r"\r[^\r\n]*?(\d\d):(\d\d) left", term.read_for(2.2))
        seconds = [int(m) * 60 + int(s) for m, s in ticks]
        assert len(set(seconds)) >= 2 and seconds == sorted(seconds, reverse=True), ticks
        assert f"code {code}" in term.screen.rsplit("\r", 1)[-1]
        errors: list[BaseException] = []
        _play_user(emu, code, errors).join(timeout=30)
        assert errors == []
        assert term.wait() == 0, term.screen
        assert f"Signed in as {ALICE}." in term.screen
        assert "Traceback" not in term.screen
    cache_file = tmp_path / "entra-auth" / "token_cache.json"
    assert stat.S_IMODE(os.stat(cache_file).st_mode) == 0o600
    assert ALICE in cache_file.read_text()

    accounts = run_cli(env, "accounts")
    assert accounts.returncode == 0 and json.loads(accounts.stdout)[0]["username"] == ALICE

    token = run_cli(env, "token")
    assert token.returncode == 0, token.stderr
    info = json.loads(token.stdout)
    assert info["account"] == ALICE and info["token_type"] == "Bearer"
    raw = run_cli(env, "token", "--raw", "--scope", "User.Read")
    assert raw.stdout.strip().count(".") == 2

    decoded = run_cli(env, "decode", stdin=raw.stdout)
    claims = json.loads(decoded.stdout)["payload"]
    assert claims["preferred_username"] == ALICE and "exp" in json.loads(decoded.stdout)["times"]

    me = run_cli(env, "get", f"{emu.base_url}/v1.0/me")
    assert me.returncode == 0, me.stderr
    assert json.loads(me.stdout)["userPrincipalName"] == ALICE
    assert me.stdout.startswith("{\n  ")  # pretty-printed
    relative = run_cli(env, "get", "/me")
    assert json.loads(relative.stdout)["userPrincipalName"] == ALICE
    # any host with an explicit resource: the bearer-checked echo answers a POST
    echo = run_cli(env, "post", f"{emu.base_url}/echo", "--resource",
                   "https://graph.microsoft.com", "--body", '{"hello": "world"}')
    assert echo.returncode == 0, echo.stderr
    assert json.loads(json.loads(echo.stdout)["body"]) == {"hello": "world"}
    assert json.loads(echo.stdout)["method"] == "POST"

    out = run_cli(env, "logout")
    assert out.returncode == 0 and f"Signed out {ALICE}." in out.stdout
    assert json.loads(run_cli(env, "accounts").stdout) == []
    after = run_cli(env, "token")
    assert after.returncode == 4
    assert after.stderr.strip() == ("entra-auth token: error: not signed in; run "
                                    "`entra-auth login` first")


def test_ctrl_c_cancels_the_device_code_wait(emu: Emulator, tmp_path: pathlib.Path) -> None:
    with Terminal(cli_env(emu, str(tmp_path)), "login") as term:
        term.read_until(r"\d\d:\d\d left")
        term.proc.send_signal(signal.SIGINT)
        assert term.wait() == 130
        assert "entra-auth login: error: sign-in cancelled" in term.screen
        assert "Traceback" not in term.screen


def test_without_a_terminal_there_is_no_countdown(emu: Emulator, tmp_path: pathlib.Path) -> None:
    env = cli_env(emu, str(tmp_path))
    import subprocess

    from .helpers import entra_auth_command

    proc = subprocess.Popen([*entra_auth_command(), "login"], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    line = proc.stderr.readline()
    match = CODE_RE.search(line)
    assert match, line
    errors: list[BaseException] = []
    _play_user(emu, match.group(1), errors).join(timeout=30)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and errors == []
    assert "left" not in err and out.strip() == f"Signed in as {ALICE}."
