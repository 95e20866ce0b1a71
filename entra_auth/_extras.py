"""Optional dependencies: a clear ImportError naming the extra to install."""

from __future__ import annotations

__all__ = ["missing_extra"]


def missing_extra(module: str, package: str, extra: str, cause: ImportError) -> ImportError:
    """An ImportError for ``module`` needing ``package`` from the ``extra`` extra.

    Args:
        module: The entra_auth module that needs it, e.g. ``entra_auth.web.flask``.
        package: The distribution users know, e.g. ``Flask``.
        extra: The entra-auth extra that installs it.
        cause: The original error (its ``name`` is kept).
    """
    error = ImportError(f'{module} needs {package}: pip install "entra-auth[{extra}]"',
                        name=cause.name)
    error.__cause__ = cause
    return error
