"""Which scopes a CLI call needs, and getting the token: signed-in user, environment, or
managed identity (``--from-environment`` / ``--managed-identity``)."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ._common import (
    EXIT_USAGE,
    GRAPH_DEFAULT_SCOPE,
    CliError,
    build_app,
    call,
    fail_from_result,
    pick_account,
    verify_setting,
)

if TYPE_CHECKING:
    from ..protocol.client_app import SyncPublicApp

__all__ = ["acquire", "add_identity_arguments", "resolve_scopes", "resolve_url"]

# API hosts whose scope we can tell from the URL, as az rest does
_KNOWN_RESOURCES = {
    "graph.microsoft.com": "https://graph.microsoft.com",
    "graph.microsoft.us": "https://graph.microsoft.us",
    "dod-graph.microsoft.us": "https://dod-graph.microsoft.us",
    "microsoftgraph.chinacloudapi.cn": "https://microsoftgraph.chinacloudapi.cn",
    "management.azure.com": "https://management.azure.com",
    "vault.azure.net": "https://vault.azure.net",
}
DEFAULT_GRAPH_URL = "https://graph.microsoft.com"


def add_identity_arguments(parser: argparse.ArgumentParser) -> None:
    """``--from-environment`` and ``--managed-identity``: app-only tokens, no sign-in."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--from-environment", action="store_true",
                       help="app-only token from AZURE_CLIENT_ID/AZURE_TENANT_ID/"
                            "AZURE_CLIENT_SECRET (or certificate, or federated token file)")
    group.add_argument("--managed-identity", nargs="?", const="system", metavar="ID",
                       help="app-only token from this machine's managed identity "
                            "(a user-assigned identity's client id or resource id)")
    group.add_argument("--default-credential", action="store_true",
                       help="the first source that works, in DefaultAzureCredential's order: "
                            "environment, workload identity, managed identity, entra-auth "
                            "login, Azure CLI, Azure Developer CLI [AZURE_TOKEN_CREDENTIALS]")


def graph_url(args: argparse.Namespace) -> str:
    """Where relative URLs go: ``--graph-url`` or ENTRA_AUTH_GRAPH_URL (default Graph)."""
    value = getattr(args, "graph_url", None) or os.environ.get("ENTRA_AUTH_GRAPH_URL")
    return str(value or DEFAULT_GRAPH_URL).rstrip("/")


def resolve_url(args: argparse.Namespace, url: str) -> str:
    """An absolute URL; ``/me`` and ``me`` become ``{graph}/v1.0/me``."""
    if url.startswith(("https://", "http://")):
        return url
    if "://" in url:
        raise CliError(f"unsupported URL scheme in {url.split('://')[0]!r}", EXIT_USAGE)
    path = "/" + url.lstrip("/")
    if not path.startswith(("/v1.0/", "/beta/")) and path not in ("/v1.0", "/beta"):
        path = "/v1.0" + path
    return graph_url(args) + path


def resolve_scopes(args: argparse.Namespace, url: str | None = None) -> list[str]:
    """``--scope``s, else ``--resource``/.default, else the URL's API, else Graph."""
    if args.scope:
        scopes = [s for item in args.scope for s in item.replace(",", " ").split()]
        _check_scope_shape(scopes)
        return scopes
    if args.resource:
        return [args.resource.rstrip("/") + "/.default"]
    if url is None:
        return [GRAPH_DEFAULT_SCOPE]
    host = (urlsplit(url).hostname or "").lower()
    if host == (urlsplit(graph_url(args)).hostname or "").lower():
        return [GRAPH_DEFAULT_SCOPE]
    for known, resource in _KNOWN_RESOURCES.items():
        if host == known or host.endswith("." + known):
            return [resource + "/.default"]
    raise CliError(f"cannot tell which scope to request for {host or url}; pass --scope or "
                   "--resource", EXIT_USAGE)


def _example(resource: str) -> str:
    return "User.Read" if resource.lower() == DEFAULT_GRAPH_URL else "PERMISSION"


def _check_scope_shape(scopes: list[str]) -> None:
    """A usage error naming what to pass instead of a scope Entra would refuse."""
    from ..protocol.scope_shape import scope_shape_problem, suggest_for_scope

    for scope in scopes:
        if suggest_for_scope(scope) is not None and "://" in scope:
            resource = scope.rstrip("/")
            raise CliError(f"--scope {scope} is a resource, not a scope: pass --resource "
                           f"{resource} (or --scope {resource}/.default), or a permission "
                           f"such as --scope {resource}/{_example(resource)}", EXIT_USAGE)
    problem = scope_shape_problem(scopes)
    if problem is not None:
        raise CliError(f"--scope: {problem}", EXIT_USAGE)


def acquire(args: argparse.Namespace, scopes: list[str]) -> dict[str, Any]:
    """A token result for ``scopes`` (raises CliError when there is none)."""
    if getattr(args, "managed_identity", None):
        return _managed_identity(args, scopes)
    if getattr(args, "default_credential", False):
        return _default_credential(scopes)
    if getattr(args, "from_environment", False):
        from ..environment import from_environment

        app = from_environment(verify=verify_setting(args), timeout=args.timeout)
        result: dict[str, Any] = call(app, "acquire_token_for_client", scopes)
        if "access_token" not in result:
            fail_from_result(result, "token request failed")
        return result
    app = build_app(args)
    account = pick_account(app, getattr(args, "username", None))
    found = call(app, "acquire_token_silent_with_error", scopes, account=account)
    if not found:
        _check_application(app, scopes)
        raise CliError(f"no token for {' '.join(scopes)} in the cache; run "
                       "`entra-auth login --scope ...`", 4)
    if "access_token" not in found:
        fail_from_result(found, "token request failed")
    found["_account"] = account
    return dict(found)


def _check_application(app: SyncPublicApp, scopes: list[str]) -> None:
    """Nothing cached for this client id: a mistyped ``--client-id`` is the usual reason.

    Ask the authority (a device-code request, never completed) whether it knows the
    application, so its answer (AADSTS700016 "Application with identifier ... was not
    found", or a confidential client's AADSTS7000218) names the application, as ``login``
    does.
    """
    probe = call(app, "initiate_device_flow", scopes=scopes)
    if isinstance(probe, dict) and "user_code" not in probe and probe.get("error"):
        if probe.get("error") == "transport_error":
            fail_from_result(probe, "token request failed")
        fail_from_result(probe, f"application {app.client_id}")


def _managed_identity(args: argparse.Namespace, scopes: list[str]) -> dict[str, Any]:
    from ..managed_identity import (
        ManagedIdentityClient,
        SystemAssignedManagedIdentity,
        UserAssignedManagedIdentity,
    )

    if len(scopes) != 1:
        raise CliError("a managed identity token is for one resource; give one scope",
                       EXIT_USAGE)
    which = str(args.managed_identity)
    identity: Any
    if which == "system":
        identity = SystemAssignedManagedIdentity()
    elif which.lower().startswith("/subscriptions/"):
        identity = UserAssignedManagedIdentity(resource_id=which)
    else:
        identity = UserAssignedManagedIdentity(client_id=which)
    client = ManagedIdentityClient(identity, verify=verify_setting(args))
    result = client.acquire_token_for_client(resource=scopes[0])
    if "access_token" not in result:
        fail_from_result(result, "managed identity token request failed")
    return result


def _default_credential(scopes: list[str]) -> dict[str, Any]:
    import time

    from ..azure.default_credential import DefaultAzureCredential, DefaultCredentialError

    try:
        credential = DefaultAzureCredential()
        try:
            info = credential.get_token_info(*scopes)
            source = credential.successful_credential
        finally:
            credential.close()
    except DefaultCredentialError as exc:
        raise CliError("no credential source could get a token (-v lists each and why)", 4,
                       [f"{name}: {why}" for name, why in exc.attempts]) from None
    except ValueError as exc:  # a bad AZURE_TOKEN_CREDENTIALS
        raise CliError(str(exc), EXIT_USAGE) from None
    return {"access_token": info.token, "token_type": info.token_type,
            "expires_in": max(int(info.expires_on - time.time()), 0),
            "token_source": getattr(source, "name", None)}
