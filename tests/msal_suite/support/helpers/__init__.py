"""Stands in for the ``tests/__init__.py`` of msal's repository (not in its sdist).

msal's test modules import ``unittest`` and ``Oauth2TestCase`` from their ``tests`` package.
"""

import unittest


class Oauth2TestCase(unittest.TestCase):
    """Base class of msal.oauth2cli's tests (those are excluded: oauth2cli is internal)."""


__all__ = ["Oauth2TestCase", "unittest"]
