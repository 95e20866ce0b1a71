"""``entra-auth login --browser``: the BROWSER command plays a browser that the emulator signs in
at once (auto-approve), redirecting to the CLI's loopback listener."""

from __future__ import annotations

import json
import pathlib
import sys

from entra_auth.testing import Emulator

from .helpers import ALICE, cli_env, run_cli


def test_browser_login(emu: Emulator, tmp_path: pathlib.Path) -> None:
    emu.settings.auto_approve = True
    fake_browser = tmp_path / "browser.py"
    # Like a real browser launcher it returns at once; the "browser" loads the page meanwhile.
    fake_browser.write_text(
        "import subprocess, sys\n"
        "if len(sys.argv) == 2:\n"
        "    subprocess.Popen([sys.executable, __file__, sys.argv[1], 'load'])\n"
        "else:\n"
        "    import re, requests\n"
        f"    page = requests.get(sys.argv[1], verify={str(emu.ca_bundle)!r}, timeout=20)\n"
        "    # response_mode=form_post: submit the self-posting form, as a browser's script does\n"
        "    action = re.search(r'action=\"([^\"]+)\"', page.text).group(1)\n"
        "    fields = dict(re.findall(r'name=\"([^\"]+)\" value=\"([^\"]*)\"', page.text))\n"
        "    requests.post(action, data=fields, timeout=20)\n")
    env = cli_env(emu, str(tmp_path), BROWSER=f"{sys.executable} {fake_browser} %s")
    done = run_cli(env, "login", "--browser", "--login-hint", ALICE)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"Signed in as {ALICE}."
    assert emu.requests_to("authorize")[0].query["login_hint"] == ALICE
    assert json.loads(run_cli(env, "accounts").stdout)[0]["username"] == ALICE
