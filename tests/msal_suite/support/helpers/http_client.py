"""Our own small equivalents of ``tests/http_client.py`` in msal's repository (not in its sdist).

``MinimalHttpClient`` is an msal-style ``http_client`` (``post``/``get``/``close``) over a
requests session; ``MinimalResponse`` is the response shape msal reads (``status_code``,
``text``, ``headers``, ``raise_for_status``), built from a requests response or by hand.
"""

from __future__ import annotations

from typing import Any

import requests


class MinimalResponse:
    """``status_code``, ``text`` and ``headers``, from a requests response or given directly."""

    headers: Any

    def __init__(self, requests_resp: Any = None, status_code: int | None = None,
                 text: str | None = None, headers: Any = None) -> None:
        self._raw = requests_resp
        self.status_code = status_code if status_code is not None else requests_resp.status_code
        self.text = text if text is not None else requests_resp.text
        # No headers attribute at all when none are given: msal tolerates such responses
        # (its test_*_should_tolerate_headerless_response checks that).
        if headers is not None:
            self.headers = headers
        elif requests_resp is not None:
            self.headers = requests_resp.headers

    def raise_for_status(self) -> None:
        if self._raw is not None:
            self._raw.raise_for_status()
        elif self.status_code >= 400:
            raise requests.HTTPError(f"HTTP {self.status_code}")


class MinimalHttpClient:
    """An msal ``http_client`` over a requests session."""

    def __init__(self, verify: Any = True, proxies: Any = None, timeout: Any = None) -> None:
        self.session = requests.Session()
        self.session.verify = verify
        self.session.proxies = proxies or {}
        self.timeout = timeout

    def post(self, url: str, params: Any = None, data: Any = None, headers: Any = None,
             **kwargs: Any) -> MinimalResponse:
        return MinimalResponse(requests_resp=self.session.post(
            url, params=params, data=data, headers=headers, timeout=self.timeout))

    def get(self, url: str, params: Any = None, headers: Any = None,
            **kwargs: Any) -> MinimalResponse:
        return MinimalResponse(requests_resp=self.session.get(
            url, params=params, headers=headers, timeout=self.timeout))

    def close(self) -> None:
        self.session.close()
