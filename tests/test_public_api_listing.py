"""``entra_auth``'s public API is listed once: the ``if TYPE_CHECKING:`` block of ``__init__.py``.

Type checkers read the block (each line's ``import X as X`` marks a re-export); at run time
``_EXPORTS`` and ``__all__`` are read from the same block, so the two can't drift apart.
"""

from __future__ import annotations

import ast
import pathlib

import entra_auth


def _type_checking_block() -> list[ast.ImportFrom]:
    tree = ast.parse(pathlib.Path(entra_auth.__file__).read_text(encoding="utf-8"))
    blocks = [node for node in tree.body if isinstance(node, ast.If)
              and ast.unparse(node.test) == "TYPE_CHECKING or _SOURCELESS"]
    assert len(blocks) == 1
    imports = blocks[0].body
    assert all(isinstance(node, ast.ImportFrom) for node in imports)
    return imports  # type: ignore[return-value]


def test_exports_are_what_python_reads_in_the_type_checking_block() -> None:
    listed = {}
    for node in _type_checking_block():
        for alias in node.names:
            assert alias.asname == alias.name, f"{alias.name}: not re-exported (import X as X)"
            assert alias.name not in listed, f"{alias.name} listed twice"
            listed[alias.name] = "." * node.level + (node.module or "")
    assert listed == entra_auth._EXPORTS
    assert sorted(entra_auth.__all__) == sorted([*listed, "__version__"])
    assert dir(entra_auth) == sorted(entra_auth.__all__)


def test_public_names_keep_their_objects() -> None:
    from entra_auth.application import PublicClientApplication
    from entra_auth.azure.credential import EntraTokenCredential

    assert entra_auth.PublicClientApplication is PublicClientApplication
    assert entra_auth.EntraTokenCredential is EntraTokenCredential


def test_the_listing_is_read_from_a_zip_archive_too(tmp_path: pathlib.Path) -> None:
    # A zipapp (or any zip on sys.path) has no file to open: the importer gives the source.
    import subprocess
    import sys
    import zipfile

    package = pathlib.Path(entra_auth.__file__).parent
    archive = tmp_path / "app.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in package.rglob("*.py"):
            zipped.write(path, str(path.relative_to(package.parent)))
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import entra_auth; "
            "assert entra_auth.__file__.startswith(sys.argv[1]), entra_auth.__file__; "
            "print(len(entra_auth.__all__), entra_auth.Prompt.LOGIN)")
    out = subprocess.run([sys.executable, "-I", "-c", code, str(archive)], capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == [str(len(entra_auth.__all__)), "login"]


def test_without_source_the_names_are_imported_at_once(tmp_path: pathlib.Path) -> None:
    # A frozen application or a .pyc-only install has no source to read the listing from:
    # the listing block then runs as plain imports, and every public name is there.
    import compileall
    import shutil
    import subprocess
    import sys

    package = pathlib.Path(entra_auth.__file__).parent
    copy = tmp_path / "entra_auth"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert compileall.compile_dir(str(copy), quiet=1, legacy=True)
    for source in copy.rglob("*.py"):
        source.unlink()
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import entra_auth; "
            "assert entra_auth.__file__.endswith('.pyc'), entra_auth.__file__; "
            "assert 'entra_auth.application' in sys.modules; "
            "print(len(entra_auth.__all__), sorted(entra_auth.__all__) == dir(entra_auth), "
            "entra_auth.Prompt.LOGIN)")
    out = subprocess.run([sys.executable, "-I", "-c", code, str(tmp_path)],
                         capture_output=True, text=True, check=True).stdout.split()
    assert out == [str(len(entra_auth.__all__)), "True", "login"]
