"""Configuration of the package's own tests (see `support.py` for the
prerequisite checks)."""

pytest_plugins = ["pytester"]
