"""Shared pieces of the CLI subcommands: options, configuration, the app, errors, exit codes.

Every failure becomes one ``entra-auth: error: ...`` line on stderr (details with
``--verbose``), never a traceback; exit codes are the ``EXIT_*`` constants. The subcommands
call their application through the flow driver (:func:`call`), as every other caller does.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NoReturn

from ..protocol.messages import app_call
from ..transport.driver import run_sync

if TYPE_CHECKING:
    from ..application import PublicClientApplication
    from ..protocol.client_app import SyncApp

__all__ = [
    "EXIT_CACHE",
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_NETWORK",
    "EXIT_NOT_SIGNED_IN",
    "EXIT_OK",
    "EXIT_USAGE",
    "CliError",
    "add_common_arguments",
    "build_app",
    "cache_path",
    "call",
    "fail_from_result",
    "guarded",
    "pick_account",
    "print_json",
]

EXIT_OK = 0
EXIT_ERROR = 1  # the identity provider or the API said no
EXIT_USAGE = 2  # bad arguments or configuration
EXIT_NETWORK = 3  # could not reach the authority or the API (DNS, refused, TLS, timeout)
EXIT_NOT_SIGNED_IN = 4  # no (matching) account in the cache: run `entra-auth login`
EXIT_CACHE = 5  # the local token cache can't be used: unreadable, unsafe, locked (see _cache)
EXIT_INTERRUPTED = 130

# Microsoft Graph Command Line Tools: a public client Microsoft registers for exactly this.
DEFAULT_CLIENT_ID = "14d82eec-204b-4c2f-b7e8-296a70dab67e"
DEFAULT_AUTHORITY = "https://login.microsoftonline.com/organizations"
GRAPH_DEFAULT_SCOPE = "https://graph.microsoft.com/.default"


class CliError(Exception):
    """A failure to report as one line, with an exit code and optional ``--verbose`` details."""

    def __init__(self, message: str, code: int = EXIT_ERROR,
                 details: list[str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.details = details or []


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """Options every subcommand takes (each also read from an environment variable)."""
    group = parser.add_argument_group("configuration")
    group.add_argument("--client-id", default=os.environ.get("ENTRA_AUTH_CLIENT_ID"),
                       help="public client (application) id [ENTRA_AUTH_CLIENT_ID; default: "
                            "Microsoft Graph Command Line Tools]")
    group.add_argument("--authority", default=os.environ.get("ENTRA_AUTH_AUTHORITY"),
                       help="authority URL, e.g. https://login.microsoftonline.com/TENANT "
                            "[ENTRA_AUTH_AUTHORITY; default: .../organizations]")
    group.add_argument("--ca-bundle", default=os.environ.get("ENTRA_AUTH_CA_BUNDLE"),
                       help="PEM file of CAs to trust, e.g. the emulator's "
                            "[ENTRA_AUTH_CA_BUNDLE, else REQUESTS_CA_BUNDLE]")
    group.add_argument("--cache-file", default=os.environ.get("ENTRA_AUTH_CACHE_FILE"),
                       help="token cache file [ENTRA_AUTH_CACHE_FILE; default: "
                            "$XDG_CONFIG_HOME/entra-auth/token_cache.json]")
    group.add_argument("--timeout", type=float, default=30.0,
                       help="seconds to wait for each HTTP reply (default 30)")
    group.add_argument("-v", "--verbose", action="store_true",
                       help="explain failures in more detail")


def add_account_argument(parser: argparse.ArgumentParser) -> None:
    """``--username``: which signed-in account to use."""
    parser.add_argument("-u", "--username", default=os.environ.get("ENTRA_AUTH_USERNAME"),
                        help="the signed-in account to use [ENTRA_AUTH_USERNAME; default: "
                             "the only one]")


def add_scope_arguments(parser: argparse.ArgumentParser, default_help: str) -> None:
    """``--scope`` (repeatable) and ``--resource``."""
    parser.add_argument("-s", "--scope", action="append", default=None, metavar="SCOPE",
                        help=f"scope to request; repeat for more ({default_help})")
    parser.add_argument("--resource", metavar="URI",
                        help="request RESOURCE/.default, e.g. https://graph.microsoft.com")


def config_dir(environ: Mapping[str, str] | None = None) -> str:
    """``$XDG_CONFIG_HOME/entra-auth`` (``~/.config/entra-auth``; ``%APPDATA%`` on Windows)."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CONFIG_HOME") or ""
    if not base and os.name == "nt":
        base = env.get("APPDATA") or ""
    if not base:
        base = os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "entra-auth")


def cache_path(args: argparse.Namespace) -> str:
    """The token cache file to use."""
    return str(args.cache_file or os.path.join(config_dir(), "token_cache.json"))


def verify_setting(args: argparse.Namespace) -> Any:
    """``verify=`` for requests: the CA bundle, or True (requests honours REQUESTS_CA_BUNDLE)."""
    if args.ca_bundle:
        if not os.path.isfile(args.ca_bundle):
            raise CliError(f"--ca-bundle {args.ca_bundle}: no such file", EXIT_USAGE)
        return args.ca_bundle
    return os.environ.get("REQUESTS_CA_BUNDLE") or True


def build_app(args: argparse.Namespace) -> PublicClientApplication:
    """The public client application with the persistent cache."""
    from ..application import PublicClientApplication
    from ..cache.file_cache import FileTokenCache

    cache = FileTokenCache(cache_path(args))
    try:
        return PublicClientApplication(
            args.client_id or DEFAULT_CLIENT_ID,
            authority=args.authority or DEFAULT_AUTHORITY,
            token_cache=cache, verify=verify_setting(args), timeout=args.timeout,
        )
    except ValueError as exc:
        raise CliError(f"invalid configuration: {exc}", EXIT_USAGE) from None


def call(app: SyncApp, method: str, *args: Any, **kwargs: Any) -> Any:
    """``app.method(*args, **kwargs)``, through the flow driver (an ``AppCall``)."""
    return run_sync(app_call(method, *args, **kwargs), app=app)


def pick_account(app: SyncApp, username: str | None) -> dict[str, Any]:
    """The cached account to use: ``username``'s, or the only one."""
    accounts: list[dict[str, Any]] = _checked(call(app, "get_accounts"))
    if username:
        accounts = [a for a in accounts if str(a.get("username", "")).lower()
                    == username.lower()]
        if not accounts:
            raise CliError(f"{username} is not signed in; run `entra-auth login`",
                           EXIT_NOT_SIGNED_IN)
    if not accounts:
        raise CliError("not signed in; run `entra-auth login` first", EXIT_NOT_SIGNED_IN)
    if len(accounts) > 1:
        names = ", ".join(str(a.get("username")) for a in accounts)
        raise CliError(f"several accounts are signed in ({names}); pick one with --username",
                       EXIT_USAGE)
    return accounts[0]


def _checked(value: Any) -> Any:
    if isinstance(value, dict) and "error" in value:
        fail_from_result(value)
    return value


def fail_from_result(result: Mapping[str, Any], doing: str = "") -> NoReturn:
    """Raise the CliError for an MSAL-style error dict."""
    error = str(result.get("error") or "unknown_error")
    description = str(result.get("error_description") or "").strip()
    first = description.splitlines()[0] if description else error
    code = EXIT_ERROR
    if error == "transport_error":
        code = EXIT_NETWORK
    elif error in ("interaction_required", "invalid_grant", "consent_required"):
        code = EXIT_NOT_SIGNED_IN
        first += " (run `entra-auth login` again)"
    details = [f"error: {error}"]
    if result.get("correlation_id"):
        details.append(f"correlation_id: {result['correlation_id']}")
    if description and description != first:
        details += ["description: " + line for line in description.splitlines()]
    raise CliError((doing + ": " if doing else "") + first, code, details)


def print_json(data: Any) -> None:
    """Pretty-print JSON to stdout."""
    print(json.dumps(data, indent=2, ensure_ascii=False))


# How to trust a CA, as the CLI spells it (the library's hint names verify=).
CLI_CA_HINT = ("to trust a private CA (the emulator's, a TLS-inspecting proxy's), pass its PEM "
               "file with --ca-bundle FILE or ENTRA_AUTH_CA_BUNDLE")


def _report(prog: str, message: str, details: list[str], verbose: bool) -> None:
    from ..transport.failures import CA_HINT

    message = message.replace(CA_HINT, CLI_CA_HINT)
    print(f"{prog}: error: {message}", file=sys.stderr)
    if verbose:
        for line in details:
            print(f"  {line}", file=sys.stderr)


def guarded(args: argparse.Namespace, body: Callable[[argparse.Namespace], int]) -> int:
    """Run a subcommand, turning every failure into one line and an exit code."""
    prog = f"entra-auth {getattr(args, 'command', '') or ''}".strip()
    verbose = bool(getattr(args, "verbose", False))
    try:
        return body(args)
    except CliError as exc:
        _report(prog, str(exc), exc.details, verbose)
        return exc.code
    except KeyboardInterrupt:
        print(f"\n{prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_ERROR
    except Exception as exc:  # the CLI promises one line, never a traceback
        code, message = _classify(exc)
        chain: list[str] = []
        cause: BaseException | None = exc
        while cause is not None and len(chain) < 5:
            chain.append(f"{type(cause).__module__}.{type(cause).__name__}")
            cause = cause.__cause__ or cause.__context__
        _report(prog, message, ["exception: " + " <- ".join(chain)], verbose)
        return code


def _classify(exc: Exception) -> tuple[int, str]:
    from ..credentials.environment import EnvironmentConfigError
    from ..errors import CacheError, EntraAuthError, InteractionRequiredError, TransportFailure
    from ._cache import cache_problem

    text = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
    if isinstance(exc, EnvironmentConfigError):
        return EXIT_USAGE, text
    if isinstance(exc, InteractionRequiredError):
        return EXIT_NOT_SIGNED_IN, f"{text} (run `entra-auth login`)"
    if isinstance(exc, TransportFailure):
        return EXIT_NETWORK, f"network failure: {text}"
    if isinstance(exc, CacheError):
        return EXIT_CACHE, cache_problem(exc)
    if isinstance(exc, EntraAuthError):
        return EXIT_ERROR, text
    if "requests" in sys.modules:
        import requests

        if isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout)):
            return EXIT_NETWORK, f"network failure: {network_failure(exc)}"
    if isinstance(exc, OSError):
        return EXIT_ERROR, f"{exc.strerror or text}"
    if isinstance(exc, ValueError):
        return EXIT_USAGE, text
    return EXIT_ERROR, f"unexpected {type(exc).__name__}: {text}"


def network_failure(exc: BaseException, method: str | None = None, url: str | None = None) -> str:
    """``METHOD URL: cause`` for a request that did not complete (from the exception's own
    request when ``method``/``url`` are not given)."""
    from ..transport.failures import describe, request_failure

    request = getattr(exc, "request", None)
    method = method or getattr(request, "method", None)
    url = url or getattr(request, "url", None)
    if isinstance(method, str) and isinstance(url, str):
        return request_failure(method, url, exc)
    return describe(exc).cause
