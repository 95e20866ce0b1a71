"""Regenerate ``classified.json``: ``python -m tests.msal_suite.classify`` from the repo root.

Runs msal 1.39's unit tests against msal and against entra_auth (through the shim, which
records each msal internal a test looks up or uses), scans each test's source for internals
the shim can't see (the ``post=`` hook, private attributes, patch targets inside the test),
and writes which tests are public-API tests that pass on msal, and why the others aren't.
"""

from __future__ import annotations

import ast
import json
import pathlib
import tempfile

from .runner import prepare, run
from .selection import CLASSIFIED, EXCLUDED_FILES

# Decorator patches that only stand in for the network (msal's discovery requests).
NETWORK_STUBS = {"looked up msal.authority.tenant_discovery",
                 "looked up msal.authority._instance_discovery"}


def _methods(tree: ast.Module, cls: ast.ClassDef) -> dict[str, ast.FunctionDef]:
    found = {f.name: f for f in cls.body if isinstance(f, ast.FunctionDef)}
    for base in cls.bases:
        for other in tree.body:
            if (isinstance(base, ast.Name) and isinstance(other, ast.ClassDef)
                    and other.name == base.id):
                for name, fn in _methods(tree, other).items():
                    found.setdefault(name, fn)
    return found


def _patch_target(call: ast.Call) -> str | None:
    """``msal.x.y`` when ``call`` is ``patch("msal.x.y", ...)`` (or ``mock.patch(...)``)."""
    func = call.func
    name = func.id if isinstance(func, ast.Name) else (
        func.attr if isinstance(func, ast.Attribute) else "")
    if name != "patch" or not call.args:
        return None
    first = call.args[0]
    if isinstance(first, ast.Constant) and isinstance(first.value, str) and (
            first.value.startswith("msal.")):
        return first.value
    return None


def _flags(fn: ast.FunctionDef, methods: dict[str, ast.FunctionDef], seen: set[str]) -> set[str]:
    """Internals a method (and the helpers it calls on self) uses, outside its decorators."""
    if fn.name in seen:
        return set()
    seen.add(fn.name)
    decorators = {id(n) for d in fn.decorator_list for n in ast.walk(d)}
    found: set[str] = set()
    for node in ast.walk(fn):
        if id(node) in decorators:
            continue
        if isinstance(node, ast.keyword) and node.arg == "post":
            found.add("the post= test hook (msal.oauth2cli)")
        elif (isinstance(node, ast.Attribute) and node.attr.startswith("_")
              and not node.attr.startswith("__")
              and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))):
            found.add(f"private attribute .{node.attr}")
        elif isinstance(node, ast.Call) and _patch_target(node):
            found.add(f"patches {_patch_target(node)}")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and isinstance(node.func.value, ast.Name) and node.func.value.id == "self"
              and node.func.attr in methods):
            found |= _flags(methods[node.func.attr], methods, seen)
    return found


def scan(path: pathlib.Path) -> dict[str, set[str]]:
    """Test id -> internals found in its source."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    result: dict[str, set[str]] = {}
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        methods = _methods(tree, cls)
        for name, fn in methods.items():
            if name.startswith("test"):
                flags = _flags(fn, methods, set())
                for setup in ("setUp", "setUpClass"):
                    if setup in methods:
                        flags |= _flags(methods[setup], methods, set())
                result[f"tests/{path.name}::{cls.name}::{name}"] = flags
    return result


def classify(workdir: pathlib.Path) -> dict[str, object]:
    tests = prepare(workdir)
    files = sorted(f"tests/{p.name}" for p in tests.glob("test_*.py")
                   if f"tests/{p.name}" not in EXCLUDED_FILES)
    on_msal = run(workdir, files, against="msal", report_name="msal.json")
    on_ours = run(workdir, files, against="entra_auth", report_name="entra_auth.json")
    static: dict[str, set[str]] = {}
    for name in files:
        static.update(scan(workdir / name))
    included: list[str] = []
    excluded: dict[str, list[str]] = {}
    for test_id, entry in sorted(on_msal.items()):
        if "::" not in test_id:
            continue
        if entry.get("outcome") != "passed":
            why = f"{entry.get('outcome')} on msal itself here"
            if entry.get("error"):
                error = str(entry["error"]).replace(str(workdir), "<workdir>")
                why += f": {error[:160]}"
            excluded[test_id] = [why]
            continue
        ours = on_ours.get(test_id, {})
        reasons = set(ours.get("internals", [])) - NETWORK_STUBS
        reasons |= static.get(test_id, set())
        error = str(ours.get("error", ""))
        if error.startswith("NameError"):
            reasons.add(f"a name star-imported from an msal module: {error[:120]}")
        if error.startswith("AttributeError") and "'_" in error:
            reasons.add(f"private attribute: {error[:120]}")
        if reasons:
            excluded[test_id] = sorted(reasons)
        else:
            included.append(test_id)
    return {"msal": "1.39.0", "included": included, "excluded": excluded}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = classify(pathlib.Path(tmp))
    CLASSIFIED.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{len(data['included'])} included, {len(data['excluded'])} excluded")  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
