"""Prerequisite checks of the package's own tests.

The tests need the installed package (with its executable) and, for the SDK
tests, `smallestai`. Without them the tests are skipped with a notice on a
developer's machine, but fail when the `CI` environment variable is set.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest


def require(module: str) -> ModuleType:
    """Import `module`, or skip the calling test module (fail under CI)."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        message = f"{module} is not installed ({e}); pip install './python[test]'"
        if os.environ.get("CI"):
            pytest.fail(f"{message} (CI is set, so this fails instead of skipping)", pytrace=False)
        pytest.skip(message, allow_module_level=True)
