"""Stands in for ``tests/broker_util.py`` of msal's repository: no broker here."""


def is_pymsalruntime_installed() -> bool:
    """pymsalruntime (the WAM broker) is never installed for these runs."""
    return False
