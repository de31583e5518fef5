"""`AtomsMock` without the pytest fixtures: the bundled executable, start and
stop, flags, failure reporting, and the control helpers over `/_admin`."""

from __future__ import annotations

import os
import re
import sys
import sysconfig
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from support import require

atoms_mock = require("atoms_mock")
from atoms_mock import AtomsMock, AtomsMockError, WaitTimeoutError  # noqa: E402

CARGO_TOML = Path(__file__).resolve().parents[2] / "Cargo.toml"


def test_version_is_the_crates():
    if not CARGO_TOML.is_file():
        pytest.skip("not running from a checkout: no Cargo.toml to compare with")
    crate = re.search(r'^version = "([^"]+)"', CARGO_TOML.read_text(), re.M)
    assert crate is not None
    assert atoms_mock.__version__ == crate.group(1)


def test_the_executable_comes_from_the_installed_package():
    if os.environ.get(atoms_mock.EXECUTABLE_ENV):
        pytest.skip(f"${atoms_mock.EXECUTABLE_ENV} overrides the bundled executable")
    exe = atoms_mock.executable()
    assert exe.parent == Path(sysconfig.get_path("scripts")), exe
    assert os.access(exe, os.X_OK)


def test_start_serves_on_a_free_loopback_port_and_stop_is_graceful():
    with AtomsMock.start(clock="virtual", seed=7) as mock:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", mock.base_url), mock.base_url
        assert mock.atoms_url == mock.base_url + "/atoms/v1"
        assert mock.ws_url == mock.base_url.replace("http://", "ws://") + "/atoms/v1/agent/connect"
        assert mock.startup_seconds is not None
        assert mock.startup_seconds > 0
        assert mock.clock() == {"mode": "virtual", "now": "2026-01-01T00:00:00Z", "nowMs": 1767225600000}
        assert mock.returncode is None
    assert mock.returncode == 0, mock.log()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(mock.base_url + "/healthz", timeout=5)
    mock.stop()  # idempotent


def test_keyword_flags_reach_the_server():
    with AtomsMock.start(concurrency_limit=3, versioning="v2") as mock:
        assert mock.concurrency("sk_flags")["limit"] == 3
        assert mock.versioning("sk_flags")["mode"] == "v2"
        with pytest.raises(AtomsMockError) as e:
            mock.advance(1)
        assert e.value.status == 409  # the default clock is real


def test_a_server_that_cannot_start_reports_its_log(tmp_path):
    (tmp_path / "templates.json").write_text("[{}]")
    with pytest.raises(AtomsMockError, match=r"templates\.json") as e:
        AtomsMock.start(fixtures=tmp_path)
    assert "exited with code" in str(e.value)
    assert "--- server log ---" in str(e.value)


def test_connect_attaches_without_owning_the_server():
    with AtomsMock.start() as mock:
        other = AtomsMock.connect(mock.atoms_url)
        assert other.base_url == mock.base_url
        other.stop()  # no-op: the server is not its own
        assert mock.clock()["mode"] == "real"


def test_control_helpers_drive_the_control_api():
    with AtomsMock.start(clock="virtual", seed=1) as mock:
        org = mock.new_org()
        headers = {**org.headers}
        created = mock.request("POST", "/atoms/v1/agent", {"name": "helpers"}, headers=headers)
        agent_id = created["data"]

        # journal and wait_for_request
        entry = org.wait_for_request(method="POST", path_prefix="/agent", timeout=5)
        assert (entry["response"]["status"], entry["apiKey"]) == (201, org.api_key)
        assert org.journal(method="POST")["entries"][-1]["seq"] == entry["seq"]
        with pytest.raises(WaitTimeoutError):
            org.wait_for_request(since=entry["seq"], timeout=0.2)

        # faults: a rule answers before the handler, then expires
        fault_id = mock.faults.add("/agent/*", method="GET", api_key=org.api_key, status=503, times=1)
        with pytest.raises(AtomsMockError) as e:
            mock.request("GET", f"/atoms/v1/agent/{agent_id}", headers=headers)
        assert e.value.status == 503
        assert mock.request("GET", f"/atoms/v1/agent/{agent_id}", headers=headers)["data"]["_id"] == agent_id
        assert [(f["id"], f["hits"], f["remaining"]) for f in mock.faults.list()] == [(fault_id, 1, 0)]
        mock.faults.remove(fault_id)
        assert mock.faults.list() == []
        mock.faults.add("/**", status=500)
        mock.faults.clear()
        assert mock.faults.list() == []

        # scenarios, versioning, concurrency, clock
        assigned = mock.assign_scenario("busy", agent_id=agent_id)
        assert assigned["byAgent"][agent_id] == "busy"
        assert agent_id not in mock.unassign_scenario(agent_id=agent_id)["byAgent"]
        assert mock.assign_scenario("no-answer", phone="+14155550199")["byPhone"]["+14155550199"] == "no-answer"
        with pytest.raises(AtomsMockError, match="Unknown scenario"):
            mock.assign_scenario("no-such-scenario")
        assert org.set_versioning("v2")["mode"] == "v2"
        assert org.set_concurrency(2)["limit"] == 2
        assert mock.advance(6)["now"] == "2026-01-01T00:00:06Z"

        # a per-key reset forgets that organization only
        org.reset()
        with pytest.raises(AtomsMockError) as e:
            mock.request("GET", f"/atoms/v1/agent/{agent_id}", headers=headers)
        assert e.value.status == 400
        assert mock.versioning(org.api_key)["mode"] == "auto"
        assert mock.deliveries() == []
        assert mock.admin("GET", "/realtime")["draining"] is False


@pytest.mark.skipif(sys.platform == "win32", reason="the stand-in is a shell script")
def test_a_server_that_never_gets_ready_is_stopped(tmp_path, monkeypatch: pytest.MonkeyPatch):
    silent = tmp_path / "silent-server"
    silent.write_text("#!/bin/sh\necho 'starting slowly' >&2\nexec sleep 60\n")
    silent.chmod(0o755)
    monkeypatch.setenv(atoms_mock.EXECUTABLE_ENV, str(silent))
    with pytest.raises(AtomsMockError, match=r"was not ready within 0\.5 s(.|\n)*starting slowly"):
        AtomsMock.start(timeout=0.5)
