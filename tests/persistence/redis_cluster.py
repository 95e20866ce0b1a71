"""A real three-node Redis Cluster on loopback for the tests: start, restart a node, stop."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

NODES = 3


def _port_pair_free(port: int) -> bool:
    # A cluster node also listens on port + 10000 (the cluster bus).
    for candidate in (port, port + 10000):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", candidate))
            except OSError:
                return False
    return True


def _free_ports(count: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port < 55000 and port not in ports and _port_pair_free(port):
            ports.append(port)
    return ports


class RedisCluster:
    """Three ``redis-server --cluster-enabled yes`` primaries (AOF on, fsync always)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.cli = shutil.which("redis-cli") or "/usr/bin/redis-cli"
        self.ports = _free_ports(NODES)
        self.procs: dict[int, subprocess.Popen[bytes]] = {}

    def _start_node(self, port: int) -> None:
        node_dir = self.workdir / str(port)
        node_dir.mkdir(parents=True, exist_ok=True)
        self.procs[port] = subprocess.Popen(
            [self.binary, "--port", str(port), "--bind", "127.0.0.1",
             "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
             "--cluster-node-timeout", "2000", "--appendonly", "yes",
             "--appendfsync", "always", "--save", "", "--dir", str(node_dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        self._wait(lambda: self._ping(port), f"node {port} did not start")

    def start(self) -> RedisCluster:
        for port in self.ports:
            self._start_node(port)
        subprocess.run(
            [self.cli, "--cluster", "create", *(f"127.0.0.1:{p}" for p in self.ports),
             "--cluster-replicas", "0", "--cluster-yes"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60,
        )
        self.wait_healthy()
        return self

    def restart(self, index: int) -> None:
        """SIGKILL one node and start it again on the same port, data dir and cluster config."""
        self.kill(index)
        self.start_again(index)

    def kill(self, index: int) -> None:
        """SIGKILL one node."""
        proc = self.procs[self.ports[index]]
        proc.kill()
        proc.wait()

    def start_again(self, index: int) -> None:
        """Start a killed node again (same port, data dir, nodes.conf); wait until healthy."""
        self._start_node(self.ports[index])
        self.wait_healthy()

    def stop(self) -> None:
        for proc in self.procs.values():
            proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def client(self, **options: Any) -> Any:
        import redis.cluster

        return redis.cluster.RedisCluster(host="127.0.0.1", port=self.ports[0], **options)

    def async_client(self, **options: Any) -> Any:
        import redis.asyncio.cluster

        return redis.asyncio.cluster.RedisCluster(host="127.0.0.1", port=self.ports[0], **options)

    def node_of(self, key: str) -> int:
        """The index of the node serving ``key``."""
        import redis

        slot = redis.Redis(host="127.0.0.1", port=self.ports[0]).cluster("keyslot", key)
        for index, port in enumerate(self.ports):
            if self._serves(port, int(slot)):
                return index
        raise AssertionError(f"no node serves slot {slot}")

    def _serves(self, port: int, slot: int) -> bool:
        import redis

        node = redis.Redis(host="127.0.0.1", port=port)
        try:
            for start, end, primary, *_ in node.execute_command("CLUSTER", "SLOTS"):
                if start <= slot <= end and int(primary[1]) == port:
                    return True
            return False
        finally:
            node.close()

    def flushall(self) -> None:
        import redis

        for port in self.ports:
            node = redis.Redis(host="127.0.0.1", port=port)
            node.flushall()
            node.close()

    def wait_healthy(self) -> None:
        self._wait(lambda: all(self._state_ok(p) for p in self.ports), "cluster not healthy")

    def _ping(self, port: int) -> bool:
        import redis

        node = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1)
        try:
            return bool(node.ping())
        except redis.RedisError:
            return False
        finally:
            node.close()

    def _state_ok(self, port: int) -> bool:
        import redis

        node = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1)
        try:
            info = node.execute_command("CLUSTER", "INFO")
            text = info.decode() if isinstance(info, bytes) else str(info)
            return "cluster_state:ok" in text
        except redis.RedisError:
            return False
        finally:
            node.close()

    @staticmethod
    def _wait(check: Any, message: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise RuntimeError(message)
            time.sleep(0.05)
