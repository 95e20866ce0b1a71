"""A stand-in ``msal`` package that is entra_auth, for running msal 1.39's own unit tests.

Names msal documents as public resolve to entra_auth's objects. Any other name (an msal
internal a test reaches for) resolves to a recording placeholder, so the harness can tell a
test that needs msal internals from one that fails on a real difference.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
from typing import Any

# msal module -> public name -> (entra_auth module, name)
PUBLIC: dict[str, dict[str, tuple[str, str]]] = {
    "msal": {
        "ClientApplication": ("entra_auth", "ClientApplication"),
        "ConfidentialClientApplication": ("entra_auth", "ConfidentialClientApplication"),
        "PublicClientApplication": ("entra_auth", "PublicClientApplication"),
        "Prompt": ("entra_auth", "Prompt"),
        "IdTokenError": ("entra_auth", "IdTokenError"),
        "TokenCache": ("entra_auth", "TokenCache"),
        "SerializableTokenCache": ("entra_auth", "SerializableTokenCache"),
        "ManagedIdentityClient": ("entra_auth", "ManagedIdentityClient"),
        "SystemAssignedManagedIdentity": ("entra_auth", "SystemAssignedManagedIdentity"),
        "UserAssignedManagedIdentity": ("entra_auth", "UserAssignedManagedIdentity"),
        "ManagedIdentityError": ("entra_auth", "ManagedIdentityError"),
        "AutoRefresher": ("entra_auth", "AutoRefresher"),
        "__version__": ("entra_auth", "__version__"),
    },
}
PUBLIC["msal.application"] = {
    name: PUBLIC["msal"][name]
    for name in ("ClientApplication", "ConfidentialClientApplication", "PublicClientApplication")
} | {"extract_certs": ("entra_auth.application", "extract_certs")}
PUBLIC["msal.token_cache"] = {
    name: PUBLIC["msal"][name] for name in ("TokenCache", "SerializableTokenCache")
}
PUBLIC["msal.managed_identity"] = {
    name: PUBLIC["msal"][name]
    for name in ("ManagedIdentityClient", "SystemAssignedManagedIdentity",
                 "UserAssignedManagedIdentity", "ManagedIdentityError")
} | {"ManagedIdentity": ("entra_auth", "ManagedIdentity")} | {
    name: ("entra_auth.managed_identity", name)
    for name in ("get_managed_identity_source", "APP_SERVICE", "AZURE_ARC", "CLOUD_SHELL",
                 "MACHINE_LEARNING", "SERVICE_FABRIC", "DEFAULT_TO_VM")
}
PUBLIC["msal.authority"] = {
    name: ("entra_auth", name)
    for name in ("AuthorityBuilder", "AZURE_PUBLIC", "AZURE_CHINA", "AZURE_US_GOVERNMENT")
}

#: (kind, dotted name) of every internal touched since the harness last cleared it:
#: "looked up" (e.g. by mock.patch) or "used" (called, iterated, an attribute read)
ACCESSES: list[tuple[str, str]] = []


class Internal:
    """What an msal internal resolves to: records each use and then fails it."""

    def __init__(self, dotted: str) -> None:
        object.__setattr__(self, "_dotted", dotted)

    def _used(self) -> AssertionError:
        dotted = object.__getattribute__(self, "_dotted")
        ACCESSES.append(("used", dotted))
        return AssertionError(f"msal internal {dotted} has no entra_auth equivalent")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise self._used()

    def __getattr__(self, name: str) -> Any:
        raise self._used()

    def __iter__(self) -> Any:
        raise self._used()

    def __getitem__(self, key: Any) -> Any:
        raise self._used()

    def __repr__(self) -> str:
        return f"<msal internal {object.__getattribute__(self, '_dotted')}>"


def _module_getattr(module_name: str) -> Any:
    def __getattr__(name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        target = PUBLIC.get(module_name, {}).get(name)
        if target is not None:
            value = getattr(importlib.import_module(target[0]), target[1])
        else:
            ACCESSES.append(("looked up", f"{module_name}.{name}"))
            value = Internal(f"{module_name}.{name}")
        return value
    return __getattr__


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Makes every ``msal.*`` submodule exist, as a module of placeholders."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname.startswith("msal."):
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec: Any) -> types.ModuleType:
        module = types.ModuleType(spec.name)
        module.__path__ = []  # type: ignore[attr-defined]
        module.__getattr__ = _module_getattr(spec.name)  # type: ignore[method-assign]
        module.__all__ = sorted(PUBLIC.get(spec.name, {}))  # type: ignore[attr-defined]
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        return None


sys.meta_path.insert(0, _Finder())

# A drop-in user's one switch (docs/client.md, Logging): msal's logging configuration, e.g.
# the tests' assertLogs("msal.token_cache"), then receives entra_auth's records.
importlib.import_module("entra_auth").log_as_msal()
__getattr__ = _module_getattr("msal")
__all__ = sorted(PUBLIC["msal"])
