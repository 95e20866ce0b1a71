"""errors.py's docstring draws every exception class of the package, with its module and bases.

The rule: every exception class with a public name, defined in a public module of entra_auth,
appears in one of the docstring's two trees (the one callers see, or the internal one) under
its first base, with its other bases as ``(+Base)`` and its defining module. Private modules
(a path part starting with ``_``) and the flow vocabulary (``protocol.messages``, whose
exceptions a driver throws into a flow) are internal by rule and need no line.
"""

from __future__ import annotations

import builtins
import importlib
import pkgutil
import re
from dataclasses import dataclass

import entra_auth
from entra_auth import errors

# Exceptions thrown into flows by the drivers: the flow vocabulary, never seen by a caller.
FLOW_VOCABULARY = ("entra_auth.protocol.messages",)
# A node line: the tree's drawing, the class, its further bases, and its module.
_NODE = re.compile(
    r"^(?P<prefix>(?:[│ ]   )*)(?:[├└]── )?(?P<name>[A-Z]\w*)"
    r"(?: \(\+(?P<extra>[\w, +]+)\))?(?:\s+(?P<module>[a-z_][\w.]*))?\s*$"
)


@dataclass(frozen=True)
class Node:
    name: str
    module: str | None  # None for a builtin
    bases: tuple[str, ...]  # first the tree parent, then the (+Base) ones
    line: str


def tree_nodes(doc: str) -> list[Node]:
    """The classes drawn in the docstring's ``::`` blocks, each with its bases."""
    nodes: list[Node] = []
    blocks = re.findall(r"::\n\n((?:    .*\n|\n)+)", doc)
    assert len(blocks) == 2, "errors.py's docstring should draw two trees (public, internal)"
    for block in blocks:
        parents: list[str] = []
        for raw in block.splitlines():
            text = raw[4:]
            if not text.strip() or ("── " not in text and text[0] in "│ "):
                continue  # blank, or a description line
            match = _NODE.match(text)
            assert match, f"errors.py docstring: can't read the tree line {raw.strip()!r}"
            depth = len(match["prefix"]) // 4 + (1 if "── " in text else 0)
            del parents[depth:]
            extra = tuple(b.strip() for b in (match["extra"] or "").replace("+", "").split(","))
            bases = ((parents[-1],) if parents else ()) + tuple(b for b in extra if b)
            module = match["module"]
            nodes.append(Node(match["name"], f"entra_auth.{module}" if module else None,
                              bases, raw.strip()))
            parents.append(match["name"])
    return nodes


def _public_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(entra_auth.__path__, "entra_auth."):
        parts = info.name.split(".")[1:]
        if any(part.startswith("_") for part in parts) or info.name in FLOW_VOCABULARY:
            continue
        names.append(info.name)
    return names


def exception_classes() -> dict[str, type[BaseException]]:
    """Every exception class with a public name defined in a public module, by name."""
    found: dict[str, type[BaseException]] = {}
    for module_name in _public_modules():
        module = importlib.import_module(module_name)
        for name, value in list(vars(module).items()):
            # type(), not isinstance(): a lazy object (django's settings) must stay unevaluated.
            if not issubclass(type(value), type) or name.startswith("_"):
                continue
            if issubclass(value, BaseException) and value.__module__ == module_name:
                assert name not in found, f"two exception classes named {name}"
                found[name] = value
    return found


NODES = tree_nodes(errors.__doc__ or "")
CLASSES = exception_classes()


def test_the_tree_is_read() -> None:
    classes = [node.name for node in NODES if node.module]
    assert {"EntraAuthError", "WebAuthError", "FlowError", "IdTokenError"} <= set(classes)
    assert len(classes) == len(set(classes)), "a class drawn twice"
    assert next(n for n in NODES if n.name == "InteractionRequiredError").bases == (
        "TokenRequestError",)
    assert next(n for n in NODES if n.name == "EnvironmentConfigError").bases == (
        "EntraAuthError", "ValueError")


def expected_line(cls: type[BaseException]) -> str:
    """The node line a class should have, and the node it belongs under."""
    first, *extra = (base.__name__ for base in cls.__bases__)
    plus = f" (+{', '.join(extra)})" if extra else ""
    return f"'{cls.__name__}{plus}  {cls.__module__.removeprefix('entra_auth.')}' under {first}"


def test_every_exception_class_is_in_the_tree_with_its_module_and_bases() -> None:
    drawn = {node.name: node for node in NODES if node.module}
    problems = []
    for name, cls in sorted(CLASSES.items()):
        node = drawn.get(name)
        bases = tuple(base.__name__ for base in cls.__bases__)
        if node is None:
            problems.append(f"errors.py's docstring lacks {expected_line(cls)}")
        elif node.module != cls.__module__ or node.bases != bases:
            problems.append(f"errors.py's docstring has {node.line!r}, should have "
                            f"{expected_line(cls)}")
    assert not problems, "\n".join(problems)


def test_every_class_in_the_tree_exists_where_it_says() -> None:
    problems = []
    for node in NODES:
        if node.module is None:
            if not isinstance(getattr(builtins, node.name, None), type):
                problems.append(f"{node.line!r}: no module, and not a builtin")
            continue
        try:
            cls = getattr(importlib.import_module(node.module), node.name, None)
        except ImportError:
            cls = None
        if not (isinstance(cls, type) and issubclass(cls, BaseException)):
            problems.append(f"{node.line!r}: {node.module} defines no exception {node.name}")
        elif tuple(base.__name__ for base in cls.__bases__) != node.bases:
            problems.append(f"{node.line!r}: its bases are {cls.__bases__}")
    assert not problems, "\n".join(problems)


def test_the_public_names_of_the_package_are_in_the_callers_tree() -> None:
    # Whatever entra_auth, entra_auth.web and entra_auth.testing export is for callers.
    public_tree = tree_nodes(errors.__doc__ or "")
    internal_start = [n.name for n in public_tree].index("Exception", 1)
    callers = {node.name for node in public_tree[:internal_start]}
    exported = set()
    for package in ("entra_auth", "entra_auth.web", "entra_auth.testing"):
        module = importlib.import_module(package)
        for name in module.__all__:
            value = getattr(module, name)
            if isinstance(value, type) and issubclass(value, BaseException):
                exported.add(name)
    assert exported - callers == set(), "exported, so the callers' tree must draw them"
