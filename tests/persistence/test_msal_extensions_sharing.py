"""One cache file written by entra_auth and msal-extensions at once: they exclude each other.

Both take ``<path>.lockfile`` the way msal-extensions does; entra_auth also removes a lock file
left by a writer that was killed, and pauses for msal-extensions' 0.25 s poll once it has seen
one of its writers, so neither side is starved into its lock timeout.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from entra_auth.cache.file_cache import FileTokenCache

from .mixed_writer import event

WRITER = Path(__file__).with_name("mixed_writer.py")
ROOT = Path(__file__).parents[2]


class Writer:
    """A writer process whose acknowledged tokens are collected as it prints them."""

    def __init__(self, lib: str, path: Path, first: int, count: int) -> None:
        self.lib = lib
        self.acked: list[int] = []
        self.lock_errors = 0
        self.proc = subprocess.Popen(
            [sys.executable, str(WRITER), lib, str(path), str(first), str(count)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(ROOT),
            env={**os.environ, "PYTHONPATH": str(ROOT)})
        self.ready = threading.Event()
        self._reader = threading.Thread(target=self._read)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            word, _, value = line.strip().partition(" ")
            if word == "ready":
                self.ready.set()
            elif word == "ok":
                self.acked.append(int(value))
            elif word == "lockerror":
                self.lock_errors += 1

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.finish()

    def finish(self, timeout: float = 300) -> int:
        code = self.proc.wait(timeout=timeout)
        self._reader.join()
        return code


def stored_ids(path: Path) -> set[int]:
    document = json.loads(path.read_text())
    return {int(e["target"].split("-")[1].split("/")[0])
            for e in document.get("AccessToken", {}).values()}


@pytest.mark.stress
def test_mixed_writers_with_sigkills_lose_nothing(cache_dir: Path) -> None:
    path = cache_dir / "shared.json"
    per_writer = 30
    writers = [Writer(lib, path, w * 1000, per_writer)
               for w, lib in enumerate(["entra_auth", "msal-extensions"] * 4)]
    killed: list[Writer] = []
    # Kill entra_auth writers mid-run (whatever they are doing, locks held or not) and start
    # a replacement that goes on from the next token.
    for victim_index in (0, 2, 4):
        victim = writers[victim_index]
        deadline = time.monotonic() + 120
        while len(victim.acked) < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.003 * victim_index)
        victim.kill()
        killed.append(victim)
        start = victim.acked[-1] + 1
        remaining = victim_index * 1000 + per_writer - start
        writers[victim_index] = Writer("entra_auth", path, start, remaining)
    for writer in writers:
        assert writer.finish() == 0, writer.proc.stderr.read() if writer.proc.stderr else ""
    acked = {i for w in writers + killed for i in w.acked}
    assert len(acked) == 8 * per_writer
    assert stored_ids(path) >= acked  # every acknowledged token is in the file
    assert [(w.lib, w.lock_errors) for w in writers + killed if w.lock_errors] == []
    assert not Path(str(path) + ".lockfile").exists()
    # And the file serves both libraries.
    assert len(list(FileTokenCache(path).search("AccessToken"))) >= len(acked)


def test_a_lock_file_left_by_a_killed_msal_extensions_writer_is_cleared(
        cache_dir: Path) -> None:
    path = cache_dir / "c.json"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\n"
         "from msal_extensions.token_cache import CrossPlatLock\n"
         "lock = CrossPlatLock(sys.argv[1]); lock.__enter__(); print('held', flush=True)\n"
         "time.sleep(60)", str(path) + ".lockfile"],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    cache = FileTokenCache(path, lock_timeout=0.5)
    from entra_auth.errors import CacheError

    with pytest.raises(CacheError) as caught:  # a live holder: we wait, then give up
        cache.add(event(1))
    assert caught.value.error == "cache_lock_timeout"
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert Path(str(path) + ".lockfile").exists()  # msal-extensions never removes it
    cache.add(event(2))  # its writer is dead: the file is removed and we proceed
    assert stored_ids(path) == {2}
    assert not Path(str(path) + ".lockfile").exists()
    # msal-extensions proceeds at once too.
    from msal_extensions import FilePersistence, PersistedTokenCache

    PersistedTokenCache(FilePersistence(str(path))).add(event(3))
    assert stored_ids(path) == {2, 3}


def test_private_files_of_dead_lock_takers_are_removed(cache_dir: Path) -> None:
    path = cache_dir / "c.json"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    leftover = cache_dir / f"c.json.lockfile.{dead}.7f00.tmp"
    leftover.write_text(f"{dead} killed between link and unlink")
    mine = cache_dir / f"c.json.lockfile.{os.getpid()}.7f01.tmp"
    mine.write_text("a live process's")
    FileTokenCache(path).add(event(1))
    assert not leftover.exists() and mine.exists()
