"""Azure regional token endpoints (ESTS-R) for client-credential requests.

A region comes from ``azure_region`` (a name), or with ``ATTEMPT_REGION_DISCOVERY`` (True) from
the ``REGION_NAME`` variable and then Azure IMDS; ``MSAL_FORCE_REGION`` applies when the app
made no choice. Region names are checked against Azure's naming pattern before use.
"""

from __future__ import annotations

import json
import logging
import re
from urllib.parse import urlsplit, urlunsplit

from .context import ClientContext, FlowError
from .messages import Flow, HttpRequest
from .throttling import send

__all__ = ["check_explicit_region", "regional_endpoint", "regional_host", "resolve_region"]

logger = logging.getLogger("entra_auth.region")

_VALID_REGION = re.compile(r"^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$")
IMDS_URL = "http://169.254.169.254/metadata/instance/compute/location?format=text&api-version=2021-01-01"
_CENTRAL_HOSTS = frozenset(
    {"login.microsoftonline.com", "login.microsoft.com", "login.windows.net", "sts.windows.net"}
)


def valid_region(region: object) -> str | None:
    """The region name if it is well-formed, else None (with a warning)."""
    if isinstance(region, str):
        name = region.strip().lower().replace(" ", "")
        if name and _VALID_REGION.match(name):
            return name
        if name:
            logger.warning("Ignoring a malformed Azure region name %r", name[:64])
    return None


def check_explicit_region(region: object, name: str) -> str:
    """``region`` when it is a well-formed region name, else ``ValueError`` naming ``name``.

    For names the caller chose (``azure_region``, ``MSAL_FORCE_REGION``): as in MSAL, a
    malformed one is a configuration error, not something to work around by using the global
    endpoint. Names found by detection (``REGION_NAME``, IMDS) go through :func:`valid_region`.
    """
    if isinstance(region, str) and _VALID_REGION.fullmatch(region):
        return region
    raise ValueError(
        f"Invalid {name}={region!r:.80}. It must be a lowercase DNS label that starts with a "
        "letter, contains only letters, digits and internal hyphens, and is at most 63 "
        "characters (e.g. 'westus2')."
    )


def regional_host(region: str, instance: str) -> str:
    """``{region}.login.microsoft.com`` for the public cloud, ``{region}.{host}`` otherwise."""
    if instance in _CENTRAL_HOSTS:
        return f"{region}.login.microsoft.com"
    return f"{region}.{instance}"


def regional_endpoint(endpoint: str, region: str) -> str:
    """``endpoint`` with its host replaced by the regional host (port kept)."""
    parts = urlsplit(endpoint)
    host = parts.hostname or ""
    netloc = regional_host(region, host) + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def resolve_region(ctx: ClientContext) -> Flow[str | None]:
    """The region to use for this app (memoized), or None when regional use is off."""
    configured = ctx.azure_region
    if configured is None:
        forced = ctx.environ.get("MSAL_FORCE_REGION")
        configured = forced if forced else None
    if configured is None or configured is False:
        return None
    if configured is not True:
        return valid_region(configured)
    if "detected" in ctx.shared.region:
        return ctx.shared.region["detected"]
    region_name = ctx.environ.get("REGION_NAME", "")
    # A REGION_NAME that is set decides, as in msal: a malformed one means the global
    # endpoint, not a probe of IMDS.
    detected = valid_region(region_name) if region_name else (yield from _ask_imds(ctx))
    with ctx.shared.lock:
        ctx.shared.region["detected"] = detected
    return detected


def _ask_imds(ctx: ClientContext) -> Flow[str | None]:
    request = HttpRequest(
        "GET", IMDS_URL, {"Metadata": "true"}, None, idempotent=True, timeout=2.0
    )
    try:
        response = yield from send(ctx, request, throttle=False)
    except FlowError:
        logger.info("Azure IMDS is unreachable; not using a regional endpoint")
        return None
    if response.status_code != 200:
        return None
    text = response.text.strip()
    if text.startswith("{"):
        try:
            location = json.loads(text).get("location")
        except (ValueError, AttributeError, RecursionError):
            return None
        text = location if isinstance(location, str) else ""
    return valid_region(text)
