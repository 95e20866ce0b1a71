"""Which local addresses a TCP port listens on, read from the kernel's tables (Linux)."""

from __future__ import annotations

import socket


def listening_addresses(port: int) -> list[str]:
    """The local addresses of this machine's listening TCP sockets on ``port`` (Linux)."""
    found = []
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        with open(table) as f:
            next(f)
            for line in f:
                fields = line.split()
                address, hex_port = fields[1].split(":")
                if fields[3] == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                    packed = bytes.fromhex(address)
                    if width == 8:
                        found.append(socket.inet_ntop(socket.AF_INET, packed[::-1]))
                    else:
                        words = b"".join(packed[i:i + 4][::-1] for i in range(0, 16, 4))
                        found.append(socket.inet_ntop(socket.AF_INET6, words))
    return found
