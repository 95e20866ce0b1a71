"""The one pair of drivers (transport/driver.py) answering every message of the vocabulary."""

from __future__ import annotations

import asyncio
import pathlib
import threading
from collections.abc import Generator
from typing import Any

import pytest

from entra_auth.protocol.messages import (
    AppCall,
    AppFlow,
    ForgetToken,
    HttpRequest,
    HttpResponse,
    NeedToken,
    SendError,
    ShowMessage,
    Sleep,
    app_call,
)
from entra_auth.transport.driver import Done, resume, run_async, run_sync, start

PACKAGE = pathlib.Path(__file__).resolve().parents[2] / "entra_auth"


class Cache:
    """msal's token cache surface that ForgetToken uses: search + remove_at."""

    def __init__(self, secrets: list[str]) -> None:
        self.entries = [{"secret": s} for s in secrets]

    def search(self, kind: str, query: dict[str, str]) -> list[dict[str, str]]:
        assert kind == "AccessToken"
        return [e for e in self.entries if e["secret"] == query["secret"]]

    def remove_at(self, entry: dict[str, str]) -> None:
        self.entries.remove(entry)


class SyncApp:
    def __init__(self) -> None:
        self.token_cache = Cache(["old", "other"])
        self.threads: list[int] = []

    def get_accounts(self, username: str | None = None) -> list[dict[str, str]]:
        self.threads.append(threading.get_ident())
        return [{"username": username or "anyone"}]


class AsyncApp:
    def __init__(self) -> None:
        self.threads: list[int] = []

    async def get_accounts(self, username: str | None = None) -> list[dict[str, str]]:
        self.threads.append(threading.get_ident())
        return [{"username": username or "anyone"}]


def app_flow() -> AppFlow[tuple[Any, ...]]:
    accounts = yield AppCall("get_accounts", (), {"username": "ada"})
    shown = yield ShowMessage("enter the code")
    forgotten = yield ForgetToken("old")
    return accounts, shown, forgotten


def test_run_sync_answers_app_calls_prompts_and_forget_token() -> None:
    app, prompts = SyncApp(), []
    result = run_sync(app_flow(), app=app, prompt=prompts.append)
    assert result == ([{"username": "ada"}], None, None)
    assert prompts == ["enter the code"]
    assert app.token_cache.entries == [{"secret": "other"}]  # the rejected token is gone
    assert app.threads == [threading.get_ident()]  # called in the caller's thread


def test_run_async_awaits_an_async_app_on_the_loop() -> None:
    app, prompts = AsyncApp(), []

    async def main() -> tuple[Any, int]:
        result = await run_async(app_flow(), app=app, prompt=prompts.append)
        return result, threading.get_ident()

    result, loop_thread = asyncio.run(main())
    assert result == ([{"username": "ada"}], None, None)
    assert prompts == ["enter the code"]
    assert app.threads == [loop_thread]


def test_run_async_runs_a_sync_app_in_a_worker_thread() -> None:
    app = SyncApp()

    async def main() -> int:
        await run_async(app_flow(), app=app, prompt=lambda text: None)
        return threading.get_ident()

    loop_thread = asyncio.run(main())
    assert len(app.threads) == 1 and app.threads[0] != loop_thread  # the loop never blocked
    assert app.token_cache.entries == [{"secret": "other"}]


def test_app_call_is_one_call_through_the_driver() -> None:
    assert run_sync(app_call("get_accounts", username="bo"), app=SyncApp()) == [
        {"username": "bo"}]
    assert asyncio.run(run_async(app_call("get_accounts"), app=AsyncApp())) == [
        {"username": "anyone"}]


def test_forget_token_leaves_an_app_without_a_cache_alone() -> None:
    def flow() -> AppFlow[str]:
        yield ForgetToken("old")
        return "done"

    assert run_sync(flow(), app=object()) == "done"


class Transport:
    def __init__(self, *answers: HttpResponse | SendError) -> None:
        self.answers = list(answers)

    def send(self, request: HttpRequest) -> HttpResponse:
        answer = self.answers.pop(0)
        if isinstance(answer, SendError):
            raise answer
        return answer


def test_send_error_is_thrown_into_the_flow_and_sleep_is_answered() -> None:
    slept: list[float] = []

    def flow() -> AppFlow[list[object]]:
        seen: list[object] = []
        try:
            yield HttpRequest("GET", "https://example.test/")
        except SendError as exc:
            seen.append(exc.kind)
        yield Sleep(-1.0)
        seen.append((yield HttpRequest("GET", "https://example.test/")))
        return seen

    transport = Transport(SendError("reset", kind="read"), HttpResponse(200))
    result = run_sync(flow(), transport, sleep=slept.append)
    assert result[0] == "read" and isinstance(result[1], HttpResponse)
    assert slept == [0.0]  # a negative wait is no wait


def test_a_message_without_its_answerer_is_a_type_error_and_closes_the_flow() -> None:
    closed: list[bool] = []

    def flow() -> AppFlow[None]:
        try:
            yield AppCall("get_accounts")
        finally:
            closed.append(True)

    with pytest.raises(TypeError, match="without app="):
        run_sync(flow())
    assert closed == [True]

    def foreign() -> Generator[Any, Any, None]:
        yield NeedToken()  # the adapters answer this one, not the drivers

    with pytest.raises(TypeError, match="can't answer NeedToken"):
        run_sync(foreign())


def test_start_and_resume_step_a_flow_to_done() -> None:
    def flow() -> Generator[str, int, int]:
        first = yield "a"
        second = yield "b"
        return first + second

    f = flow()
    assert start(f) == "a"
    assert resume(f, 1) == "b"
    done = resume(f, 2)
    assert isinstance(done, Done) and done.result == 3

    def empty() -> Generator[str, int, str]:
        return "nothing asked"
        yield "never"

    done_at_once = start(empty())
    assert isinstance(done_at_once, Done) and done_at_once.result == "nothing asked"


def test_only_the_driver_module_catches_stop_iteration() -> None:
    catching = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "except StopIteration" in path.read_text(encoding="utf-8")
    )
    assert catching == ["transport/driver.py"]
