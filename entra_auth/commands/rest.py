"""``entra-auth get|post|put|patch|delete URL``: call an API with a bearer token, like ``az rest``.

The scope comes from ``--scope``/``--resource`` or the URL (Graph's for Graph URLs, and for
relative URLs such as ``/me``, which go to ``--graph-url``). JSON replies are pretty-printed.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ._common import (
    EXIT_ERROR,
    EXIT_NETWORK,
    EXIT_OK,
    EXIT_USAGE,
    CliError,
    add_account_argument,
    add_common_arguments,
    add_scope_arguments,
    guarded,
    network_failure,
    verify_setting,
)
from ._destination import add_destination_arguments, check_destination
from ._tokens import acquire, add_identity_arguments, graph_url, resolve_scopes, resolve_url

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the HTTP commands' options."""
    parser.add_argument("url", metavar="URL",
                        help="absolute URL, or a Graph path such as /me or /v1.0/users")
    parser.add_argument("-b", "--body", metavar="DATA",
                        help="request body: JSON text, @FILE, or - for stdin")
    parser.add_argument("-H", "--header", action="append", default=[], metavar="NAME:VALUE",
                        help="extra request header; repeat for more")
    parser.add_argument("--graph-url", metavar="URL",
                        help="base URL for relative paths and Graph's scope "
                             "[ENTRA_AUTH_GRAPH_URL; default https://graph.microsoft.com]")
    add_scope_arguments(parser, "default: from the URL")
    add_destination_arguments(parser)
    add_account_argument(parser)
    add_identity_arguments(parser)
    add_common_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Send the request and print the reply."""
    return guarded(args, _rest)


def _body(value: str | None) -> bytes | None:
    if value is None:
        return None
    if value == "-":
        return sys.stdin.buffer.read()
    if value.startswith("@"):
        path = value[1:]
        try:
            with open(path, "rb") as fh:
                return fh.read()
        except OSError as exc:
            raise CliError(f"--body {value}: {exc.strerror}", EXIT_USAGE) from None
    return value.encode("utf-8")


def _headers(items: list[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise CliError(f"--header {item!r}: expected NAME:VALUE", EXIT_USAGE)
        headers[name.strip()] = value.strip()
    return headers


def _show(text: str) -> str:
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def _api_message(text: str) -> str:
    try:
        data: Any = json.loads(text)
    except ValueError:
        return ""
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):  # Graph / ARM: {"error": {"code", "message"}}
        return f"{error.get('code', '')}: {error.get('message', '')}".strip(": ")
    if isinstance(error, str):
        return f"{error}: {data.get('error_description', '')}".strip(": ")
    return ""


def _rest(args: argparse.Namespace) -> int:
    method = str(args.command).upper()
    url = resolve_url(args, args.url)
    scopes = resolve_scopes(args, url)
    check_destination(args, url, scopes, graph_url(args))  # before any token is requested
    headers = _headers(args.header)
    body = _body(args.body)
    if body is not None and not any(h.lower() == "content-type" for h in headers):
        try:
            json.loads(body)
            headers["Content-Type"] = "application/json"
        except ValueError:
            headers["Content-Type"] = "text/plain; charset=utf-8"
    token = acquire(args, scopes)["access_token"]
    headers["Authorization"] = f"Bearer {token}"
    import requests

    # verify= per request: requests lets REQUESTS_CA_BUNDLE beat only a session's verify
    try:
        response = requests.Session().request(method, url, data=body, headers=headers,
                                              verify=verify_setting(args), timeout=args.timeout,
                                              allow_redirects=False)
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
        raise CliError(network_failure(exc, method, url), EXIT_NETWORK,
                       [f"exception: {type(exc).__module__}.{type(exc).__name__}"]) from None
    text = response.text
    if text:
        print(_show(text))
    if response.status_code >= 400:
        detail = _api_message(text)
        raise CliError(f"{method} {url.split('?')[0]}: HTTP {response.status_code} "
                       f"{response.reason}" + (f" ({detail})" if detail else ""), EXIT_ERROR,
                       [f"request-id: {response.headers.get('request-id', '-')}"])
    if args.verbose:
        print(f"HTTP {response.status_code} {response.reason}", file=sys.stderr)
    return EXIT_OK
