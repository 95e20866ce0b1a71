"""The layers of docs/architecture.md hold: every module imports only what its layer may.

The rules are read from docs/architecture.md's tables, so the document and this test can't
diverge: "Layers" (which files form a layer, and which layers it may import), "Third-party
imports" (stdlib and third-party modules a layer must not import) and "Known exceptions"
(imports that break a rule today, each with a reason; listed until fixed, and an entry that
no longer breaks anything fails too). Imports are read with ``ast``: at module level, inside
functions and under ``TYPE_CHECKING`` alike, relative ones resolved. Also here: ``import
entra_auth`` stays cheap, and every public name resolves.
"""

from __future__ import annotations

import ast
import functools
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "entra_auth"
DOC = ROOT / "docs" / "architecture.md"
HEAVY = ("requests", "httpx", "jwt", "cryptography", "wrapt")


# -- reading docs/architecture.md -------------------------------------------------------------


def doc_table(header: tuple[str, ...], doc: str | None = None) -> list[list[str]]:
    """The body rows of the Markdown table whose header cells are ``header``."""
    lines = (doc if doc is not None else DOC.read_text(encoding="utf-8")).splitlines()
    for i, line in enumerate(lines):
        if _cells(line) == list(header):
            rows = []
            for row in lines[i + 2:]:
                if not row.startswith("|"):
                    break
                rows.append(_cells(row))
            return rows
    raise AssertionError(f"docs/architecture.md has no table headed {' | '.join(header)}")


def _cells(line: str) -> list[str]:
    if not line.startswith("|"):
        return []
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _code(cell: str) -> list[str]:
    """The `backticked` items of a cell."""
    return re.findall(r"`([^`]+)`", cell)


def _paths(cell: str) -> list[str]:
    """The `backticked` files (``x.py``) and packages (``x/``) of a cell; prose may name more."""
    return [item for item in _code(cell) if item.endswith((".py", "/"))]


@dataclass
class Layer:
    name: str
    members: list[str]  # "protocol/" (a package and everything in it) or "errors.py"
    may_import: set[str] = field(default_factory=set)  # layer names
    may_import_files: set[str] = field(default_factory=set)  # single files of other layers
    anything: bool = False

    def allows(self, layer: Layer, path: str) -> bool:
        return (self.anything or layer.name == self.name or layer.name in self.may_import
                or path in self.may_import_files)


def read_layers(doc: str | None = None) -> list[Layer]:
    """The "Layers" table: | Layer | Files | May import |."""
    layers = []
    for name, files, may in doc_table(("Layer", "Files", "May import"), doc):
        layer = Layer(name.strip("*"), _paths(files))
        text = re.sub(r"`[^`]+`", "", may)
        layer.may_import_files = set(_paths(may))
        layer.anything = "anything" in text.split()
        words = {w.strip() for w in re.split(r"[,;]", text) if w.strip()}
        layer.may_import = words - {"anything", "nothing", "(lazily)"}
        layers.append(layer)
    return layers


@dataclass(frozen=True)
class ThirdPartyRule:
    files: list[str]  # files and packages ("protocol/"), or whole layers (by name)
    forbidden: frozenset[str]
    except_files: frozenset[str]
    layers: frozenset[str] = frozenset()


def read_third_party_rules(doc: str | None = None) -> list[ThirdPartyRule]:
    """The "Third-party imports" table: | Files | Must not import | Except |.

    A Files cell names `files` and packages, and layers by their plain names.
    """
    rules = []
    for files, forbidden, except_ in doc_table(("Files", "Must not import", "Except"), doc):
        words = re.sub(r"`[^`]+`", "", files)
        layers = frozenset(w.strip() for w in words.split(",") if w.strip())
        rules.append(ThirdPartyRule(_paths(files), frozenset(_code(forbidden)),
                                    frozenset(_paths(except_)), layers))
    return rules


def read_known_exceptions(doc: str | None = None) -> set[tuple[str, str]]:
    """The "Known exceptions" table: | File | Imports | Why, and what would fix it |."""
    rows = doc_table(("File", "Imports", "Why, and what would fix it"), doc)
    return {(_paths(file)[0], _code(imports)[0]) for file, imports, _ in rows}


def owner(path: str, layers: list[Layer]) -> Layer | None:
    """The layer a file belongs to: the longest member naming it or a package holding it."""
    best: tuple[int, Layer] | None = None
    for layer in layers:
        for member in layer.members:
            if covers(member, path) and (best is None or len(member) > best[0]):
                best = (len(member), layer)
    return best[1] if best else None


def covers(member: str, path: str) -> bool:
    """Whether a table's ``member`` (a file, or a package ending in ``/``) holds ``path``."""
    return path == member or (member.endswith("/") and path.startswith(member))


# -- reading the package's imports ------------------------------------------------------------


@dataclass(frozen=True)
class Import:
    file: str  # the importing file, relative to entra_auth/ ("protocol/silent.py")
    line: int
    text: str  # the statement as written
    target: str  # an entra_auth file ("cache/schema.py"), or a top-level module name ("time")
    internal: bool


def package_files() -> list[str]:
    return sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py"))


def _file_of(module: str) -> str | None:
    """The file of a dotted module under entra_auth (``a.b`` -> ``a/b.py``), if there is one."""
    rel = Path(*module.split("."))
    for candidate in (rel.with_suffix(".py"), rel / "__init__.py"):
        if (PACKAGE / candidate).is_file():
            return str(candidate)
    return None


def imports_of(file: str, source: str | None = None) -> list[Import]:
    """Every import statement of ``file``, wherever it is, resolved to what it imports."""
    if source is None:
        return _imports_of_package_file(file)
    return _imports_in(file, source)


@functools.cache
def _imports_of_package_file(file: str) -> list[Import]:
    # each file is checked against every rule, by more than one test: parse it once
    return _imports_in(file, (PACKAGE / file).read_text(encoding="utf-8"))


def _imports_in(file: str, source: str) -> list[Import]:
    tree = ast.parse(source, file)
    package = list(Path(file).parent.parts)
    found = []
    for node in ast.walk(tree):
        text = ast.unparse(node) if isinstance(node, (ast.Import, ast.ImportFrom)) else ""
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            targets = [node.module or ""]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - (node.level - 1)]
            module = [*base, *(node.module.split(".") if node.module else [])]
            # "from . import x" / "from .a import b": x and b may be modules themselves
            targets = [".".join(["entra_auth", *module, alias.name]) for alias in node.names]
            targets = [t if _file_of(t[len("entra_auth."):]) else ".".join(
                ["entra_auth", *module]) for t in targets]
        for target in targets:
            if target == "__future__":
                continue
            if target == "entra_auth" or target.startswith("entra_auth."):
                dotted = target[len("entra_auth."):] if target != "entra_auth" else ""
                while dotted and _file_of(dotted) is None:  # "from x import attr" as module
                    dotted = dotted.rpartition(".")[0]
                resolved = _file_of(dotted) if dotted else "__init__.py"
                assert resolved, f"{file}:{node.lineno}: {text} names no file of entra_auth"
                found.append(Import(file, node.lineno, text, resolved, True))
            else:
                found.append(Import(file, node.lineno, text, target.split(".")[0], False))
    return found


# -- checking ---------------------------------------------------------------------------------


def layer_violations(layers: list[Layer]) -> dict[tuple[str, str], str]:
    """(file, imported file) -> why, for every import the "Layers" table forbids."""
    found = {}
    for file in package_files():
        layer = owner(file, layers)
        assert layer is not None, f"{file} is in no layer of docs/architecture.md"
        for imp in imports_of(file):
            if not imp.internal:
                continue
            target = owner(imp.target, layers)
            assert target is not None, f"{imp.target} is in no layer of docs/architecture.md"
            if not layer.allows(target, imp.target):
                allowed = ", ".join(sorted(layer.may_import | layer.may_import_files)) or "none"
                found[(file, imp.target)] = (
                    f"{file}:{imp.line}: `{imp.text}`: the {layer.name} layer may not import "
                    f"{imp.target} (layer {target.name}); it may import: {allowed}")
    return found


def third_party_violations(
    rules: list[ThirdPartyRule], layers: list[Layer] | None = None
) -> dict[tuple[str, str], str]:
    """(file, module) -> why, for every import the "Third-party imports" table forbids."""
    found = {}
    for file in package_files():
        layer = owner(file, layers if layers is not None else LAYERS)
        for rule in rules:
            named = any(covers(f, file) for f in rule.files) or (
                layer is not None and layer.name in rule.layers)
            if not named or file in rule.except_files:
                continue
            for imp in imports_of(file):
                if not imp.internal and imp.target in rule.forbidden:
                    what = ", ".join([*rule.files, *sorted(rule.layers)])
                    found[(file, imp.target)] = (
                        f"{file}:{imp.line}: `{imp.text}`: {what} must not import "
                        f"{imp.target} (docs/architecture.md, Third-party imports)")
    return found


LAYERS = read_layers()


def test_every_file_of_the_package_is_in_exactly_one_layer() -> None:
    members = [m for layer in LAYERS for m in layer.members]
    assert len(members) == len(set(members)), "a file or package listed in two layers"
    missing = [m for m in members if not (PACKAGE / m).exists() or (
        m.endswith("/") != (PACKAGE / m).is_dir())]
    assert missing == [], f"docs/architecture.md's Layers table names what is not there: {missing}"
    homeless = [f for f in package_files() if owner(f, LAYERS) is None]
    assert homeless == [], f"in no layer of docs/architecture.md's Layers table: {homeless}"
    names = {layer.name for layer in LAYERS}
    for layer in LAYERS:
        assert layer.may_import <= names, f"{layer.name} may import unknown layers"
        for path in layer.may_import_files:
            assert (PACKAGE / path).is_file(), f"{layer.name} may import {path}: no such file"


def test_the_other_tables_name_files_that_exist() -> None:
    named = {f for rule in read_third_party_rules() for f in [*rule.files, *rule.except_files]}
    named |= {file for file, _ in read_known_exceptions()}
    missing = sorted(f for f in named if not (PACKAGE / f).exists())
    assert missing == [], f"docs/architecture.md names files that are not there: {missing}"
    layer_names = {layer.name for layer in LAYERS}
    for rule in read_third_party_rules():
        assert rule.layers <= layer_names, f"unknown layers in {rule}"


def test_every_package_and_top_level_module_is_named_in_the_layers_table() -> None:
    # A new package or top-level module gets its own line (it is not swept into a layer); a
    # package split between layers (aio/: its namespace and its applications) names its files.
    members = {m for layer in LAYERS for m in layer.members}
    members |= {m.split("/", 1)[0] + "/" for m in members if m.endswith(".py") and "/" in m}
    top = {p.name + ("/" if p.is_dir() else "") for p in PACKAGE.iterdir()
           if p.suffix == ".py" or (p / "__init__.py").is_file()}
    assert top - members == set()


def test_every_import_keeps_to_the_layers_table() -> None:
    known = read_known_exceptions()
    found = layer_violations(LAYERS) | third_party_violations(read_third_party_rules())
    new = [why for key, why in sorted(found.items()) if key not in known]
    assert not new, "imports against docs/architecture.md:\n" + "\n".join(new)


def test_every_known_exception_still_breaks_a_rule() -> None:
    found = layer_violations(LAYERS) | third_party_violations(read_third_party_rules())
    stale = sorted(read_known_exceptions() - set(found))
    assert not stale, (f"fixed, so remove them from docs/architecture.md's Known exceptions: "
                       f"{stale}")


def test_the_checker_reads_every_kind_of_import() -> None:
    doc = """
| Layer | Files | May import |
|---|---|---|
| low | `errors.py` | nothing |
| flows | `protocol/` | low, `cache/schema.py` |
| top | `__init__.py`, `aio.py` | anything |
"""
    layers = read_layers(doc)
    assert [layer.name for layer in layers] == ["low", "flows", "top"]
    assert layers[1].may_import == {"low"} and layers[1].may_import_files == {"cache/schema.py"}
    assert layers[2].anything and not layers[0].may_import
    assert owner("protocol/grants/refresh.py", layers) is layers[1]
    assert owner("cache/token_cache.py", layers) is None
    source = """
import time, urllib.parse
from typing import TYPE_CHECKING
from entra_auth.protocol.messages import HttpRequest
from . import policy
from .. import errors
from ..protocol import app_flows
if TYPE_CHECKING:
    from ..cache.schema import compute_ext_cache_key
def later():
    from ..transport.driver import run_sync
"""
    found = [(imp.target, imp.internal) for imp in imports_of("adapters/new.py", source)]
    assert sorted(found) == [
        ("adapters/policy.py", True), ("cache/schema.py", True), ("errors.py", True),
        ("protocol/app_flows.py", True), ("protocol/messages.py", True),
        ("time", False), ("transport/driver.py", True), ("typing", False), ("urllib", False)]
    rule = ThirdPartyRule(["cache/"], frozenset({"time"}), frozenset({"cache/file_cache.py"}))
    timed = {file for file, _ in third_party_violations([rule])}
    by_layer = ThirdPartyRule([], frozenset({"time"}), frozenset({"cache/file_cache.py"}),
                              frozenset({"cache"}))
    in_layer = third_party_violations([by_layer], [Layer("cache", ["cache/"])])
    assert {file for file, _ in in_layer} == timed
    expected = {f for f in package_files() if f.startswith("cache/") and f != "cache/file_cache.py"
                and any(imp.target == "time" for imp in imports_of(f))}
    assert timed == expected and timed


def test_import_entra_auth_imports_no_heavy_dependency() -> None:
    code = (
        "import sys, entra_auth\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "", f"import entra_auth pulled in: {out}"


def test_protocol_core_does_no_io() -> None:
    # The rule as the architecture states it, whatever the table says.
    rule = next(r for r in read_third_party_rules() if r.files == ["protocol/"])
    assert {"requests", "httpx", "asyncio", "socket", "time", "ssl", "urllib3"} <= rule.forbidden
    assert rule.except_files == frozenset()
    offenders = {imp.file: imp.target for f in package_files() if f.startswith("protocol/")
                 for imp in imports_of(f) if not imp.internal and imp.target in rule.forbidden}
    assert offenders == {}


def test_every_public_name_resolves() -> None:
    import entra_auth

    names = entra_auth.__all__
    assert len(names) == len(set(names)), "a public name listed twice"
    exports = getattr(entra_auth, "_EXPORTS", None)  # the lazy table, where there is one
    if exports is not None:
        assert set(names) - {"__version__"} == set(exports)
    for name in names:
        assert getattr(entra_auth, name) is not None
    assert set(names) <= set(dir(entra_auth))
