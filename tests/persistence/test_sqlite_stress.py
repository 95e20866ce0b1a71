"""Stress: 8 processes x 200 users into one SqliteTokenCache, writers killed with SIGKILL.

Every user whose write a process acknowledged is in the database afterwards, with all four
entries, and the database passes SQLite's integrity check.
"""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from entra_auth.cache.sqlite_cache import SqliteTokenCache

from .sqlite_writer import CLIENT_ID, HOST

WRITER = Path(__file__).with_name("sqlite_writer.py")
ROOT = Path(__file__).parents[2]
WORKERS, USERS = 8, 200


class Worker:
    def __init__(self, path: Path, first: int, count: int) -> None:
        self.acked: list[int] = []
        self.proc = subprocess.Popen(
            [sys.executable, str(WRITER), str(path), str(first), str(count)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(ROOT),
            env={**os.environ, "PYTHONPATH": str(ROOT)})
        self._reader = threading.Thread(target=self._read)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            word, _, value = line.strip().partition(" ")
            if word == "ok":
                self.acked.append(int(value))

    def finish(self) -> int:
        code = self.proc.wait(timeout=600)
        self._reader.join()
        return code


@pytest.mark.stress
def test_eight_processes_two_hundred_users_each_with_sigkills(cache_dir: Path) -> None:
    path = cache_dir / "stress.db"
    SqliteTokenCache(path)  # created once, as a deployment would
    workers = [Worker(path, w * 1000, USERS) for w in range(WORKERS)]
    done: list[Worker] = []
    rng = random.Random(17)
    for _ in range(6):  # kill a running worker mid-write, start one that goes on
        deadline = time.monotonic() + 60
        while True:
            running = [i for i, w in enumerate(workers)
                       if w.proc.poll() is None and len(w.acked) >= 3]
            if running or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        if not running:
            break
        time.sleep(rng.uniform(0.0, 0.05))
        index = rng.choice(running)
        victim = workers[index]
        victim.proc.kill()
        victim.finish()
        done.append(victim)
        start = victim.acked[-1] + 1
        remaining = (start // 1000) * 1000 + USERS - start
        workers[index] = Worker(path, start, remaining)
    for worker in workers:
        assert worker.finish() == 0, worker.proc.stderr.read() if worker.proc.stderr else ""
    kills = len(done)
    assert kills >= 3
    acked = {i for w in workers + done for i in w.acked}
    assert len(acked) == WORKERS * USERS
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    cache = SqliteTokenCache(path)
    accounts = {a["home_account_id"].split(".")[0] for a in cache.find_accounts()}
    assert accounts >= {f"user-{i:05d}" for i in acked}
    for i in sorted(acked)[::97]:  # and each user's tokens are all there
        home = f"user-{i:05d}.72f988bf-86f1-41af-91ab-2d7cd011db47"
        assert cache.find_access_token(client_id=CLIENT_ID, environments=[HOST],
                                       realm="72f988bf-86f1-41af-91ab-2d7cd011db47",
                                       scopes=["User.Read"], home_account_id=home)
        assert cache.find_refresh_tokens(home_account_id=home, environments=[HOST])
