"""Azure CLI tokens: entra_auth's read of the CLI's token cache vs running ``az`` per token.

Run: ``.venv/bin/python -m benchmarks.bench_azure_cli [--repeats 30]``.

A temporary ``$AZURE_CONFIG_DIR`` holds what ``az login`` leaves (``azureProfile.json`` and an
MSAL cache written by the real msal) and a fake ``az`` on ``PATH`` (a Python script printing
``get-access-token`` JSON at once, so the process start is all it costs; the real ``az`` takes
about a second). Three contenders, interleaved, medians reported: entra_auth's
``AzureCliCredential`` served from the cache, the same credential forced to run ``az``, and
azure-identity's ``AzureCliCredential`` (which always runs ``az``).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
AZ_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
SCOPE = "https://management.core.windows.net//.default"
FAKE_AZ = """#!{python}
import json, sys, time
print(json.dumps({{"accessToken": "from-az", "expires_on": int(time.time()) + 3600,
                  "expiresOn": time.strftime("%Y-%m-%d %H:%M:%S.000000",
                                             time.localtime(time.time() + 3600)),
                  "tokenType": "Bearer", "tenant": "{tenant}", "subscription": "s"}}))
"""


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def prepare(root: Path) -> dict[str, str]:
    """An Azure CLI config dir with a cached token, and a PATH with a fake az."""
    import msal

    config, bin_dir = root / "azure", root / "bin"
    config.mkdir()
    bin_dir.mkdir()
    now = int(time.time())
    id_token = _b64({"alg": "none"}) + "." + _b64({
        "iss": f"https://login.microsoftonline.com/{TENANT}/v2.0", "aud": AZ_CLIENT_ID,
        "tid": TENANT, "oid": "o1", "sub": "s", "preferred_username": "dev@contoso.com",
        "iat": now, "exp": now + 3600}) + "."
    cache = msal.SerializableTokenCache()
    cache.add({"client_id": AZ_CLIENT_ID, "scope": [SCOPE],
               "token_endpoint": f"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token",
               "response": {"access_token": "cached", "expires_in": 3600,
                            "token_type": "Bearer", "refresh_token": "rt",
                            "client_info": _b64({"uid": "o1", "utid": TENANT}),
                            "id_token": id_token}})
    (config / "msal_token_cache.json").write_text(cache.serialize())
    (config / "azureProfile.json").write_text(json.dumps({"subscriptions": [{
        "id": "s", "isDefault": True, "tenantId": TENANT, "environmentName": "AzureCloud",
        "user": {"name": "dev@contoso.com", "type": "user"}}]}))
    az = bin_dir / "az"
    az.write_text(FAKE_AZ.format(python=sys.executable, tenant=TENANT))
    az.chmod(0o755)
    return {"AZURE_CONFIG_DIR": str(config),
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    from azure.identity import AzureCliCredential as AzureIdentityCli

    from entra_auth import AzureCliCredential

    with tempfile.TemporaryDirectory() as tmp:
        env = prepare(Path(tmp))
        os.environ.update(env)  # azure-identity reads os.environ
        contenders: dict[str, Callable[[], str]] = {
            "entra_auth, from the CLI's cache": lambda: AzureCliCredential().get_token(
                SCOPE).token,
            "entra_auth, running az": lambda: AzureCliCredential(
                use_token_cache=False).get_token(SCOPE).token,
            "azure-identity, running az": lambda: AzureIdentityCli().get_token(SCOPE).token,
        }
        assert contenders["entra_auth, from the CLI's cache"]() == "cached"
        samples: dict[str, list[float]] = {name: [] for name in contenders}
        for _ in range(args.repeats):
            for name, call in contenders.items():
                start = time.perf_counter()
                call()
                samples[name].append(time.perf_counter() - start)
        for name, values in samples.items():
            print(f"{name:36s} median {median_ms(values):8.2f} ms per token")


if __name__ == "__main__":
    main()
