"""The emulator's token endpoint vs panva's oidc-provider (Node), client credentials over HTTPS.

Run: ``.venv/bin/python -m benchmarks.bench_oidc_provider [--requests 1000] [--rounds 5]
[--clients 4]``. Needs ``node`` and ``npm``; the first run does ``npm install`` in
``benchmarks/node`` (oidc-provider from the npm registry).

Both servers run in their own processes: the emulator as ``python -m entra_auth emulator``,
oidc-provider as ``node benchmarks/node/oidc_provider_server.mjs`` (RS256 JWT access tokens
through resource indicators, as Entra issues JWTs; client_secret_post). One load generator in
this process: ``clients`` keep-alive ``requests`` sessions in threads posting the same
client-credentials form shape to each in alternating rounds; medians of tokens/s.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

NODE_DIR = Path(__file__).with_name("node")
CLIENT_ID, CLIENT_SECRET = "bench-client", "bench-secret"


def _self_signed(directory: str) -> tuple[str, str]:
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    Path(cert_path).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    Path(key_path).write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return cert_path, key_path


def _install_once(npm: str) -> None:
    """npm install, once: the test command runs several interpreters' suites at the same time,
    and two installs into one node_modules would let one start a half-installed provider."""
    marker = NODE_DIR / "node_modules" / ".entra-auth-installed"
    with open(NODE_DIR / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not marker.exists():
            subprocess.run([npm, "install", "--no-audit", "--no-fund"], cwd=NODE_DIR,
                           check=True, stdout=subprocess.DEVNULL)
            marker.write_text("installed\n")


def start_oidc_provider() -> tuple[subprocess.Popen[str], str, dict[str, str], str]:
    """(process, token URL, form, CA bundle) of a running oidc-provider."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise RuntimeError("node and npm are needed for the oidc-provider comparison")
    _install_once(npm)
    directory = tempfile.mkdtemp()
    cert, key = _self_signed(directory)
    errors = open(os.path.join(directory, "stderr.txt"), "w+")  # noqa: SIM115 (the child's)
    proc = subprocess.Popen([node, "oidc_provider_server.mjs", cert, key, CLIENT_ID,
                             CLIENT_SECRET], cwd=NODE_DIR, stdout=subprocess.PIPE,
                            stderr=errors, text=True)
    assert proc.stdout is not None
    # Bounded: once (under the parallel test suite) the provider never said "ready" and the
    # harness waited on the pipe forever. It picks its own port: one chosen here could be
    # taken by another process before node listened on it.
    line = proc.stdout.readline() if select.select([proc.stdout], [], [], 60)[0] else None
    words = (line or "").split()
    if len(words) != 2 or words[0] != "ready" or not words[1].isdigit():
        proc.kill()
        proc.wait()
        errors.seek(0)
        said = [x for x in errors.read().splitlines() if "WARNING" not in x][-5:]
        errors.close()
        why = ("did not start within 60 s" if line is None
               else f"exited with status {proc.returncode} before it was ready")
        raise RuntimeError(f"oidc-provider {why}: {' | '.join(said) or 'no output'}")
    errors.close()
    port = int(words[1])
    form = {"grant_type": "client_credentials", "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET, "scope": "read"}
    return proc, f"https://127.0.0.1:{port}/token", form, cert


def start_emulator() -> tuple[subprocess.Popen[str], str, dict[str, str], str]:
    """(process, token URL, form, CA bundle) of the emulator in its own process."""
    from entra_auth.testing import WEB_APP_ID, WEB_APP_SECRET

    proc = subprocess.Popen([sys.executable, "-m", "entra_auth", "emulator"],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    info = json.loads(proc.stdout.readline())
    authority = info["authority"] if "authority" in info else info["authorities"][0]
    form = {"grant_type": "client_credentials", "client_id": WEB_APP_ID,
            "client_secret": WEB_APP_SECRET, "scope": "https://graph.microsoft.com/.default"}
    return proc, f"{authority}/oauth2/v2.0/token", form, info["ca_bundle"]


def _rate(url: str, form: dict[str, str], ca: str, count: int, clients: int) -> float:
    import requests

    per_client = max(1, count // clients)
    errors: list[str] = []
    sessions = [requests.Session() for _ in range(clients)]
    for session in sessions:  # connect (and TLS) before timing: keep-alive clients
        reply = session.post(url, data=form, verify=ca, timeout=30)
        if reply.status_code != 200 or "access_token" not in reply.json():
            raise RuntimeError(f"{url}: {reply.status_code} {reply.text[:200]}")

    def run(session: Any) -> None:
        try:
            for _ in range(per_client):
                reply = session.post(url, data=form, verify=ca, timeout=30)
                if reply.status_code != 200:
                    errors.append(str(reply.status_code))
                    return
        except Exception as exc:  # reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=run, args=(s,)) for s in sessions]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    for session in sessions:
        session.close()
    if errors:
        raise RuntimeError(f"{url}: {errors[0]}")
    return per_client * clients / elapsed


def compare(requests: int = 1000, rounds: int = 5, clients: int = 4) -> dict[str, float]:
    """Median tokens/s: {"entra_auth emulator": ..., "oidc-provider": ...}."""
    servers = {"entra_auth emulator": start_emulator(), "oidc-provider": start_oidc_provider()}
    try:
        rates: dict[str, list[float]] = {name: [] for name in servers}
        for _ in range(rounds):
            for name, (_, url, form, ca) in servers.items():
                rates[name].append(_rate(url, form, ca, requests, clients))
        return {name: statistics.median(values) for name, values in rates.items()}
    finally:
        for proc, *_ in servers.values():
            proc.terminate()
            proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    rates = compare(args.requests, args.rounds, args.clients)
    print(json.dumps(rates))
    print(f"emulator / oidc-provider: {rates['entra_auth emulator'] / rates['oidc-provider']:.2f}x")


if __name__ == "__main__":
    main()
