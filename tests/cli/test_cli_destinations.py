"""The CLI sends a bearer token only where ``EntraAuth`` would: https (loopback excepted), the
scope's hosts, the configured Graph URL and ``--allow-host``. A refused URL exits 2 and nothing
is sent, not even a token request. A loopback listener, also the CLI's HTTP proxy (so that
``http://graph.microsoft.com`` reaches it), records every Authorization header it receives."""

from __future__ import annotations

import json
import pathlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from entra_auth.testing import WEB_APP_ID, WEB_APP_SECRET, Emulator

from .helpers import cli_env, run_cli


class Recorder:
    """A loopback HTTP server (and proxy) that records each request's target and Authorization."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str | None]] = []
        seen = self.seen

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                seen.append((self.command, self.path, self.headers.get("Authorization")))
                body = b"{}"
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_CONNECT = _any

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    rec = Recorder()
    yield rec
    rec.close()


def _env(emu: Emulator, tmp_path: pathlib.Path, rec: Recorder, **extra: str) -> dict[str, str]:
    env = cli_env(emu, str(tmp_path), AZURE_CLIENT_ID=WEB_APP_ID,
                  AZURE_TENANT_ID=emu.tenant_id, AZURE_CLIENT_SECRET=WEB_APP_SECRET,
                  AZURE_AUTHORITY_HOST=emu.base_url, **extra)
    for name in ("HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        env.pop(name, None)
        env.pop(name.lower(), None)
    # plain-http requests go through the recorder (https ones, to the emulator, go direct)
    env["HTTP_PROXY"] = env["http_proxy"] = rec.url
    return env


def _refused(emu: Emulator, env: dict[str, str], rec: Recorder, *args: str) -> str:
    emu.clear_log()
    proc = run_cli(env, *args, "--from-environment")
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert rec.seen == []  # nothing reached the listener
    assert emu.requests_to("token") == []  # not even a token request
    return lines[0]


def test_refused_destinations_get_nothing(emu: Emulator, tmp_path: pathlib.Path,
                                          recorder: Recorder) -> None:
    env = _env(emu, tmp_path, recorder)
    # plain http to Graph: the token would travel in clear text
    line = _refused(emu, env, recorder, "get", "http://graph.microsoft.com/v1.0/users")
    assert line.startswith("entra-auth get: error: refusing to send a token to "
                           "http://graph.microsoft.com/v1.0/users")
    assert "https only" in line
    # --resource names what the token is for, not where it may go
    line = _refused(emu, env, recorder, "post", f"{recorder.url}/collect?x=1", "--resource",
                    "https://graph.microsoft.com", "--body", "{}")
    assert f"{recorder.url}/collect" in line and "x=1" not in line
    assert "graph.microsoft.com" in line and "--allow-host 127.0.0.1" in line
    # a relative path on a plain-http Graph URL
    http_graph = dict(env, ENTRA_AUTH_GRAPH_URL="http://graph.example.test")
    line = _refused(emu, http_graph, recorder, "get", "/users")
    assert "http://graph.example.test/v1.0/users" in line and "https only" in line
    # a scope whose host can't be told: the caller must say where the token may go
    line = _refused(emu, env, recorder, "get", "https://api.contoso.test/items", "--scope",
                    "api://contoso-api/.default")
    assert "--allow-host" in line
    # user info in the URL is not echoed
    line = _refused(emu, env, recorder, "get", "http://user:pw@graph.microsoft.com/v1.0/me")
    assert "pw" not in line.split("error:", 1)[1]
    # a malformed --allow-host is a usage error, before anything is sent
    line = _refused(emu, env, recorder, "get", "/me", "--allow-host", "https://x.test/")
    assert "--allow-host" in line


def test_allowed_destinations_get_the_token(emu: Emulator, tmp_path: pathlib.Path,
                                            recorder: Recorder) -> None:
    env = _env(emu, tmp_path, recorder)
    # --allow-host widens the policy (loopback may use plain http)
    proc = run_cli(env, "get", f"{recorder.url}/collect", "--resource",
                   "https://graph.microsoft.com", "--allow-host", f"127.0.0.1:{recorder.port}",
                   "--from-environment")
    assert proc.returncode == 0, proc.stderr
    ((method, target, auth),) = recorder.seen
    assert method == "GET" and target.endswith("/collect")
    assert auth is not None and auth.startswith("Bearer ")
    # the configured Graph URL (the emulator) serves Graph's scope, relative or absolute
    echo = run_cli(env, "post", f"{emu.base_url}/echo", "--resource",
                   "https://graph.microsoft.com", "--body", "{}", "--from-environment")
    assert echo.returncode == 0, echo.stderr
    assert json.loads(echo.stdout)["method"] == "POST"
    assert len(recorder.seen) == 1


def test_the_rule_for_hosts_the_url_names() -> None:
    import argparse

    from entra_auth.commands._common import CliError
    from entra_auth.commands._destination import check_destination

    def check(url: str, scopes: list[str], graph: str = "https://graph.microsoft.com",
              allow: list[str] | None = None) -> str | None:
        try:
            check_destination(argparse.Namespace(allow_host=allow or []), url, scopes, graph)
        except CliError as exc:
            assert exc.code == 2
            return str(exc)
        return None

    graph = ["https://graph.microsoft.com/.default"]
    assert check("https://graph.microsoft.com/v1.0/me", ["User.Read"]) is None
    assert check("https://myvault.vault.azure.net/secrets/x",
                 ["https://vault.azure.net/.default"]) is None
    assert check("https://graph.microsoft.com.evil.test/v1.0/me", graph) is not None
    assert check("http://[::1]:8080/v1.0/me", graph, graph="http://[::1]:8080") is None
    assert "host is not" in str(check("http://[::1]:8081/v1.0/me", graph,
                                      graph="http://[::1]:8080"))
    assert check("https://api.contoso.test/x", ["api://contoso/.default"],
                 allow=["*.contoso.test"]) is None
    assert "https only" in str(check("http://api.contoso.test/x", ["api://contoso/.default"],
                                     allow=["api.contoso.test"]))
