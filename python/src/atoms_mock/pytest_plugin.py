"""pytest plugin (registered through the `pytest11` entry point, so it is
active wherever the package is installed).

Fixtures:
    atoms_mock: session-scoped `AtomsMock`, one server per test session
        (with pytest-xdist, one per worker: each worker's virtual clock is
        its own). Stopped when the session ends.
    atoms_org: function-scoped `AtomsOrg`, a fresh API key (its own empty
        organization) per test, so tests never see each other's state;
        reset after the test.
    webhook_receiver: function-scoped `WebhookReceiver` on loopback, bound
        to the test's `atoms_org`, that checks `X-Signature`.

Settings (command-line option, else `pytest.ini` / `[tool.pytest.ini_options]`):
    --atoms-mock-clock / atoms_mock_clock: `virtual` (default) or `real`.
    --atoms-mock-seed / atoms_mock_seed: seed for ids and timestamps.
    --atoms-mock-fixtures / atoms_mock_fixtures: fixture directory (an ini
        value is relative to the ini file).
    --atoms-mock-arg / atoms_mock_args: more server flags, e.g.
        `atoms_mock_args = --security-check-secs 0 --concurrency-limit 3`.
    --atoms-mock-url / atoms_mock_url: use a server that is already
        running instead of starting one (all xdist workers then share it).

When a test that used the server fails, the server's log (stderr: warnings
and errors unless `ATOMS_MOCK_LOG` says more; the last 64 KiB) is added to
the report as the section "atoms-mock server log".
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from . import __version__
from ._server import AtomsMock, AtomsOrg
from ._webhooks import WebhookReceiver

#: How much of the server log (its last bytes) a failed test's report shows.
_LOG_TAIL = 64 * 1024


class Settings(NamedTuple):
    """The `atoms_mock` fixture's server settings, resolved from options
    and ini values."""

    clock: str
    seed: int | None
    fixtures: Path | None
    args: list[str]
    url: str | None


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("atoms-mock", "atoms-mock server for the atoms_mock fixture")
    group.addoption("--atoms-mock-clock", choices=("real", "virtual"), help="clock of the server (default: virtual)")
    group.addoption("--atoms-mock-seed", type=int, help="seed for deterministic ids and timestamps")
    group.addoption("--atoms-mock-fixtures", help="directory of fixture files replacing the embedded ones")
    group.addoption(
        "--atoms-mock-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="extra server argument, repeatable (e.g. --atoms-mock-arg=--security-check-secs=0)",
    )
    group.addoption("--atoms-mock-url", help="use this running server instead of starting one")
    parser.addini("atoms_mock_clock", "clock of the atoms_mock server: virtual (default) or real", default="virtual")
    parser.addini("atoms_mock_seed", "seed of the atoms_mock server", default="")
    parser.addini(
        "atoms_mock_fixtures", "fixture directory of the atoms_mock server, relative to the ini file", default=""
    )
    parser.addini("atoms_mock_args", "extra atoms_mock server arguments", type="args", default=[])
    parser.addini("atoms_mock_url", "use this running atoms-mock server instead of starting one", default="")


def settings(config: pytest.Config) -> Settings:
    """The server settings for `config`: command-line options win over ini values."""
    clock = config.getoption("atoms_mock_clock") or str(config.getini("atoms_mock_clock")).strip() or "virtual"
    if clock not in ("real", "virtual"):
        raise pytest.UsageError(f"atoms_mock_clock must be 'real' or 'virtual', not {clock!r}")
    seed: int | None = config.getoption("atoms_mock_seed")
    if seed is None and str(config.getini("atoms_mock_seed")).strip():
        try:
            seed = int(str(config.getini("atoms_mock_seed")).strip())
        except ValueError:
            raise pytest.UsageError("atoms_mock_seed must be an integer") from None
    fixtures: Path | None = None
    if config.getoption("atoms_mock_fixtures"):
        fixtures = Path(config.getoption("atoms_mock_fixtures")).resolve()
    elif str(config.getini("atoms_mock_fixtures")).strip():
        base = Path(config.inipath).parent if config.inipath else config.rootpath
        fixtures = (base / str(config.getini("atoms_mock_fixtures")).strip()).resolve()
    args = list(config.getini("atoms_mock_args")) + list(config.getoption("atoms_mock_arg"))
    url = config.getoption("atoms_mock_url") or str(config.getini("atoms_mock_url")).strip() or None
    return Settings(clock, seed, fixtures, args, url)


def pytest_report_header(config: pytest.Config) -> str:
    s = settings(config)
    where = f"server {s.url}" if s.url else f"clock {s.clock}"
    return f"atoms-mock {__version__}: {where}"


@pytest.fixture(scope="session")
def atoms_mock(pytestconfig: pytest.Config) -> Iterator[AtomsMock]:
    """The session's atoms-mock server (see the module docstring for its
    settings). Stopped when the session ends; one per xdist worker."""
    s = settings(pytestconfig)
    if s.url:
        yield AtomsMock.connect(s.url)
        return
    mock = AtomsMock.start(clock=s.clock, seed=s.seed, fixtures=s.fixtures, args=s.args)
    try:
        yield mock
    finally:
        mock.stop()


@pytest.fixture
def atoms_org(atoms_mock: AtomsMock) -> Iterator[AtomsOrg]:
    """A fresh organization (a new random API key) for this test only, with
    `client` (a `smallestai.SmallestAI`) and `api_key`. Reset afterwards."""
    org = atoms_mock.new_org()
    yield org
    org.reset()


@pytest.fixture
def webhook_receiver(atoms_org: AtomsOrg) -> Iterator[WebhookReceiver]:
    """A loopback webhook endpoint for this test: register `url` (or call
    `subscribe(agent_id)`), then `next_event()` returns each delivery after
    checking its `X-Signature`."""
    with WebhookReceiver(org=atoms_org) as receiver:
        yield receiver


def _mock_of(item: pytest.Item) -> AtomsMock | None:
    funcargs: Any = getattr(item, "funcargs", None) or {}
    mock = funcargs.get("atoms_mock")
    return mock if isinstance(mock, AtomsMock) else None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    mock = _mock_of(item)
    if report.failed and mock is not None:
        text = mock.log(max(0, mock.log_offset() - _LOG_TAIL)).strip()
        if text:
            report.sections.append(("atoms-mock server log", text))
