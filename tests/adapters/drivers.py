"""One interface over the three HTTP clients the adapter serves, so each scenario runs on all."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import requests


@dataclass
class Reply:
    status: int
    history: list[int]
    body: bytes
    raw: Any

    def json(self) -> Any:
        import json

        return json.loads(self.body)


def _chunks(body: bytes) -> Iterator[bytes]:
    yield body[:3]
    yield body[3:]


async def _achunks(body: bytes) -> AsyncIterator[bytes]:
    yield body[:3]
    yield body[3:]


class RequestsDriver:
    name = "requests"

    def __init__(self, auth: Any, verify: str | None) -> None:
        self.session = requests.Session()
        self.session.trust_env = False  # else REQUESTS_CA_BUNDLE overrides verify
        self.session.verify = verify if verify else True
        self.session.auth = auth

    def send(self, method: str, url: str, body: bytes | None = None, stream: bool = False,
             follow: bool = True) -> Reply:
        data: Any = _chunks(body) if stream and body is not None else body
        r = self.session.request(method, url, data=data, allow_redirects=follow, timeout=30)
        return Reply(r.status_code, [h.status_code for h in r.history], r.content, r)

    def close(self) -> None:
        self.session.close()


class HttpxDriver:
    name = "httpx"

    def __init__(self, auth: Any, verify: str | None) -> None:
        self.client = httpx.Client(auth=auth, verify=verify or True, timeout=30)

    def send(self, method: str, url: str, body: bytes | None = None, stream: bool = False,
             follow: bool = True) -> Reply:
        content: Any = _chunks(body) if stream and body is not None else body
        r = self.client.request(method, url, content=content, follow_redirects=follow)
        return Reply(r.status_code, [h.status_code for h in r.history], r.content, r)

    def close(self) -> None:
        self.client.close()


class AsyncHttpxDriver:
    """httpx.AsyncClient on one long-lived event loop (an aio app's client is bound to it)."""

    name = "httpx-async"

    def __init__(self, auth: Any, verify: str | None) -> None:
        self.auth = auth
        self.verify = verify or True
        self.loop = asyncio.new_event_loop()

    def send(self, method: str, url: str, body: bytes | None = None, stream: bool = False,
             follow: bool = True) -> Reply:
        async def go() -> Reply:
            async with httpx.AsyncClient(auth=self.auth, verify=self.verify, timeout=30) as c:
                content: Any = _achunks(body) if stream and body is not None else body
                r = await c.request(method, url, content=content, follow_redirects=follow)
                return Reply(r.status_code, [h.status_code for h in r.history], r.content, r)

        return self.loop.run_until_complete(go())

    def close(self) -> None:
        self.loop.close()


DRIVERS = {"requests": RequestsDriver, "httpx": HttpxDriver, "httpx-async": AsyncHttpxDriver}
