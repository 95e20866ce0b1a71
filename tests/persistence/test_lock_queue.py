"""QueueLock: writers go first come, first served; a dead holder or waiter never blocks it."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from entra_auth.cache.queue_lock import QueueLock, queue_lock_supported
from entra_auth.errors import CacheError

pytestmark = pytest.mark.skipif(not queue_lock_supported(), reason="Linux OFD locks only")

HOLD = """
import sys, time
from entra_auth.cache.queue_lock import QueueLock
lock = QueueLock(sys.argv[1], timeout=30)
lock.acquire()
print("held", flush=True)
time.sleep(60)
"""


def tickets_taken(path: str) -> int:
    """The queue file's ticket counter (little-endian u64 at offset 0)."""
    with open(path, "rb") as f:
        return int.from_bytes(f.read(8).ljust(8, b"\0"), "little")


def test_waiters_go_in_the_order_they_came(tmp_path: Path) -> None:
    path = str(tmp_path / "q.lock")
    first = QueueLock(path)
    first.acquire()
    order: list[int] = []
    threads = []
    for i in range(6):  # separate objects: separate open file descriptions, like processes
        lock = QueueLock(path)

        def wait(lock: QueueLock = lock, i: int = i) -> None:
            lock.acquire()
            order.append(i)
            time.sleep(0.005)
            lock.release()

        threads.append(threading.Thread(target=wait))
        threads[-1].start()
        deadline = time.monotonic() + 30
        while tickets_taken(path) < i + 2 and time.monotonic() < deadline:
            time.sleep(0.001)  # each takes its ticket before the next starts
    first.release()
    for t in threads:
        t.join()
    assert order == list(range(6))


def test_a_killed_holder_and_a_waiter_that_gave_up_are_skipped(tmp_path: Path) -> None:
    path = str(tmp_path / "q.lock")
    holder = subprocess.Popen([sys.executable, "-c", HOLD, path], stdout=subprocess.PIPE,
                              text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    impatient = QueueLock(path, timeout=0.2)
    with pytest.raises(CacheError) as caught:
        impatient.acquire()
    assert caught.value.error == "cache_lock_timeout" and not impatient.locked
    assert tickets_taken(path) == 2  # the holder's and the impatient one's
    patient = QueueLock(path, timeout=30)
    got = threading.Event()

    def wait() -> None:
        patient.acquire()
        got.set()

    waiter = threading.Thread(target=wait)
    waiter.start()
    while tickets_taken(path) < 3:
        time.sleep(0.001)
    time.sleep(0.2)
    assert not got.is_set()  # the holder is alive
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert got.wait(5)  # the kernel dropped its lock; the gone waiter is skipped
    waiter.join()
    patient.release()
    again = QueueLock(path, timeout=1)
    again.acquire()
    again.release()


def test_a_child_forked_while_we_hold_the_lock_does_not_keep_it(tmp_path: Path) -> None:
    import os

    path = str(tmp_path / "q.lock")
    lock = QueueLock(path, timeout=5)
    lock.acquire()
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the child outlives our release, holding whatever it inherited
        os.close(write)
        os.read(read, 1)
        os._exit(0)
    os.close(read)
    try:
        lock.release()
        other = QueueLock(path, timeout=2)
        other.acquire()  # would time out if the child's copy kept our ticket locked
        other.release()
    finally:
        os.write(write, b"x")
        os.close(write)
        os.waitpid(child, 0)
