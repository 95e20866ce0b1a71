"""A requests session that trusts exactly one server certificate, by thumbprint.

Service Fabric's managed identity endpoint serves a self-signed certificate and tells its
applications the certificate's SHA-1 thumbprint (``IDENTITY_SERVER_THUMBPRINT``): the
connection is accepted only if the server's certificate has that thumbprint (urllib3's
``assert_fingerprint``), which is stricter than a CA check, not looser.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["pinned_session"]


def pinned_session(url: str, thumbprint: str) -> Any:
    """A ``requests.Session`` whose requests to ``url``'s origin must present the certificate
    with ``thumbprint`` (hex SHA-1 or SHA-256, separators allowed).

    Raises:
        ValueError: ``thumbprint`` is not a SHA-1 or SHA-256 hex digest.
    """
    import requests
    from requests.adapters import HTTPAdapter

    digest = re.sub(r"[^0-9a-fA-F]", "", thumbprint).lower()
    if len(digest) not in (40, 64) or len(digest) != len(thumbprint.replace(":", "").strip()):
        raise ValueError("IDENTITY_SERVER_THUMBPRINT is not a SHA-1 or SHA-256 hex thumbprint")

    class PinnedAdapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            kwargs["assert_fingerprint"] = digest
            super().init_poolmanager(*args, **kwargs)

        def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
            # The pin replaces CA verification (the certificate is self-signed).
            super().cert_verify(conn, url, False, cert)  # type: ignore[no-untyped-call]
            conn.assert_fingerprint = digest

    origin = re.match(r"^https://[^/?#]+", url)
    if origin is None:
        raise ValueError("the Service Fabric identity endpoint must be an https URL")
    pinned_origin = origin.group(0)

    class RefusingAdapter(HTTPAdapter):
        def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
            # verify=False below holds for the pinned origin only: a redirect or a request
            # anywhere else is refused rather than sent unverified.
            raise requests.ConnectionError(
                f"this session reaches only {pinned_origin}, not {request.url}")

    session = requests.Session()
    session.mount("https://", RefusingAdapter())
    session.mount("http://", RefusingAdapter())
    session.mount(pinned_origin + "/", PinnedAdapter())  # the longest prefix wins
    session.verify = False  # for the pinned origin the pin decides (see RefusingAdapter)
    return session
