"""One credential from laptop to cloud, in an Azure SDK-style pipeline (azure-core).

``entra_auth.DefaultAzureCredential`` tries, in azure-identity's order: the environment's
service principal (``AZURE_CLIENT_ID``/``AZURE_TENANT_ID``/``AZURE_CLIENT_SECRET``), workload
identity, managed identity, ``entra-auth login``, the Azure CLI and the Azure Developer CLI,
and remembers the first that works. Here it feeds azure-core's ``BearerTokenCredentialPolicy``
(what every Azure SDK client uses) and an OpenAI-style token callback.

With no ``AZURE_CLIENT_ID`` set it starts the local emulator in-process and plays "in Azure":
the emulator's managed identity endpoint stands in for IMDS (nothing leaves the machine).

``python examples/azure_sdk_default_credential.py [URL] [--scope SCOPE]``
(needs ``pip install azure-core``)
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping

from azure.core.exceptions import ClientAuthenticationError
from azure.core.pipeline import Pipeline
from azure.core.pipeline.policies import BearerTokenCredentialPolicy, RetryPolicy
from azure.core.pipeline.transport import RequestsTransport
from azure.core.rest import HttpRequest

import entra_auth


def run(url: str, scope: str, environ: Mapping[str, str] | None = None) -> int:
    env = os.environ if environ is None else environ
    credential = entra_auth.DefaultAzureCredential(environ=environ)
    transport = RequestsTransport(connection_verify=env.get("REQUESTS_CA_BUNDLE") or True)
    pipeline = Pipeline(transport=transport, policies=[
        RetryPolicy(total=2), BearerTokenCredentialPolicy(credential, scope)])
    try:
        with pipeline:
            reply = pipeline.run(HttpRequest("GET", url)).http_response
    except ClientAuthenticationError as exc:  # every source said why it could not help
        print(f"azure_sdk_default_credential: {exc.message}", file=sys.stderr)
        return 2
    source = credential.successful_credential
    print(f"token from: {getattr(source, 'name', type(source).__name__)}")
    print(f"HTTP {reply.status_code}")
    print(reply.text()[:300])
    # The same chain as a bare token callback (AzureOpenAI(azure_ad_token_provider=...)).
    provider = entra_auth.get_bearer_token_provider(credential, scope)
    print(f"token provider hands out the same token: {provider() == provider()}")
    credential.close()
    return 0 if reply.status_code < 400 else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", default="https://graph.microsoft.com/v1.0/users")
    parser.add_argument("--scope", default="https://graph.microsoft.com/.default")
    args = parser.parse_args(argv)
    if os.environ.get("AZURE_CLIENT_ID"):
        return run(args.url, args.scope)
    from entra_auth.testing import Emulator

    with Emulator() as emu:
        # An isolated environment: managed identity answers from the emulator; no CLI on PATH.
        environ = {"AZURE_POD_IDENTITY_AUTHORITY_HOST": emu.base_url,
                   "REQUESTS_CA_BUNDLE": str(emu.ca_bundle), "PATH": ""}
        url = args.url if "://" in args.url and "graph.microsoft.com" not in args.url \
            else emu.echo_url
        return run(url, args.scope, environ)


if __name__ == "__main__":
    sys.exit(main())
