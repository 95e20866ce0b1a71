"""Drivers and transports: the only places that do network I/O and sleep."""
