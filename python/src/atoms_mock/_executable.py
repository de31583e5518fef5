"""Finding the `atoms-mock` server executable that ships in this package's wheel."""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

#: Environment variable that names an `atoms-mock` executable to use instead
#: of the bundled one (for example a `cargo build` of a checkout).
EXECUTABLE_ENV = "ATOMS_MOCK_BIN"

_NAME = "atoms-mock" + (".exe" if sys.platform == "win32" else "")


def _candidates() -> Iterator[Path]:
    # pip installs a wheel's `.data/scripts` into the scheme's scripts
    # directory: the environment's, or the user's with `pip install --user`.
    yield Path(sysconfig.get_path("scripts")) / _NAME
    if sys.version_info >= (3, 10):
        user_scheme = sysconfig.get_preferred_scheme("user")
    else:  # pragma: no cover - Python 3.9
        user_scheme = "nt_user" if os.name == "nt" else "posix_user"
    yield Path(sysconfig.get_path("scripts", scheme=user_scheme)) / _NAME
    # `pip install --target DIR` puts scripts in DIR/bin next to the package.
    yield Path(__file__).resolve().parent.parent / "bin" / _NAME


def executable() -> Path:
    """The path of the `atoms-mock` server executable.

    Looks, in order, at `$ATOMS_MOCK_BIN`, the scripts directory of the
    environment this package is installed in (where the wheel puts it), the
    user scripts directory (`pip install --user`), `DIR/bin` for
    `pip install --target DIR`, and finally `PATH`.

    Raises:
        FileNotFoundError: no executable was found (the package was not
            installed from a wheel, e.g. the source tree is on `sys.path`).
    """
    override = os.environ.get(EXECUTABLE_ENV)
    if override:
        path = Path(override)
        if not path.is_file():
            raise FileNotFoundError(f"${EXECUTABLE_ENV} names {override!r}, which is not a file")
        return path
    for path in _candidates():
        if path.is_file():
            return path
    found = shutil.which(_NAME)
    if found:
        return Path(found)
    raise FileNotFoundError(
        f"the {_NAME} executable was not found next to this Python environment "
        f"({sysconfig.get_path('scripts')}) or on PATH; install the package with "
        f"`pip install atoms-mock` (or `pip install ./python` from a checkout), "
        f"or set ${EXECUTABLE_ENV}"
    )
