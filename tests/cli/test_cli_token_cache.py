"""`entra-auth token` answers from the cache: the .default reply echoes .default, so it hits."""

from __future__ import annotations

import json
import pathlib

from entra_auth.testing import Emulator

from .helpers import ALICE, cli_env, run_cli


def test_token_after_login_spends_no_refresh_token(emu: Emulator,
                                                   tmp_path: pathlib.Path) -> None:
    emu.settings.auto_approve = True  # the device code is approved as soon as it is issued
    env = cli_env(emu, str(tmp_path))
    login = run_cli(env, "login")
    assert login.returncode == 0, login.stderr
    posts = len(emu.requests_to("token"))
    for args in (["token"], ["token"], ["token", "--resource", "https://graph.microsoft.com"]):
        out = run_cli(env, *args)
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["account"] == ALICE
    assert len(emu.requests_to("token")) == posts  # all three from the cache
