"""The pytest plugin, used the way a project's tests use it: the SDK through
`atoms_org.client`, the virtual clock through `atoms_mock.advance`, signed
webhooks through `webhook_receiver`, and parallel tests under pytest-xdist.

The package's `pyproject.toml` sets no `atoms_mock_*` option, so these tests
also show the defaults (a virtual clock)."""

from __future__ import annotations

import sys
import textwrap
import urllib.error
import urllib.request

import pytest
from support import require

atoms_mock_pkg = require("atoms_mock")
smallestai = require("smallestai")
require("xdist")

from smallestai.atoms import ConflictError  # noqa: E402

from atoms_mock import EVENT_TYPES, AtomsMock, AtomsOrg, WebhookReceiver, WebhookSignatureError  # noqa: E402

#: The default `--security-check-secs`: a new version cannot be activated
#: before this many seconds of the mock's clock (BEHAVIOR R047).
SECURITY_CHECK_SECS = 6


def test_atoms_org_creates_an_agent_through_smallestai(atoms_org: AtomsOrg):
    agents = atoms_org.client.atoms.agents
    agent_id = agents.create_agent(name="plugin agent", language={"switching": {"isEnabled": False}}).data
    agent = agents.get_agent(agent_id).data
    assert (agent.id, agent.name, agent.archived) == (agent_id, "plugin agent", False)
    assert agent.active_version_id
    assert [a.id for a in agents.list_agents().data.agents] == [agent_id]


def test_v1_publish_then_activate_after_advancing_the_virtual_clock(atoms_mock: AtomsMock, atoms_org: AtomsOrg):
    client = atoms_org.client
    drafts = client.atoms.agent_versioning_drafts
    versions = client.atoms.agent_versioning_versions
    agent_id = client.atoms.agents.create_agent(name="versioned").data
    v1 = client.atoms.agents.get_agent(agent_id).data.active_version_id

    draft_id = drafts.create_draft(agent_id, source_version_id=v1).data.draft_id
    drafts.update_draft_config(agent_id, draft_id, first_message="Hello from v2.")
    version = drafts.publish_draft(agent_id, draft_id, label="v2").data
    assert (version.version_number, version.is_active) == (2, False)

    with pytest.raises(ConflictError) as e:
        versions.activate_version(agent_id, version.id)
    assert "security check pending" in str(e.value.body)

    atoms_mock.advance(SECURITY_CHECK_SECS)
    assert versions.activate_version(agent_id, version.id).data.is_active is True
    agent = client.atoms.agents.get_agent(agent_id).data
    assert agent.active_version_id == version.id
    assert agent.resolved_config.first_message == "Hello from v2."


def test_webhook_receiver_gets_the_three_signed_events_of_a_call(
    atoms_mock: AtomsMock, atoms_org: AtomsOrg, webhook_receiver: WebhookReceiver
):
    client = atoms_org.client
    agent_id = client.atoms.agents.create_agent(name="hooked", default_variables={"customer_name": "Ada"}).data
    webhook_id = client.atoms.webhooks.create(
        endpoint=webhook_receiver.url,
        description="plugin test",
        events=[{"agentId": agent_id, "eventType": e} for e in EVENT_TYPES],
    ).data
    webhook_receiver.secret = client.atoms.webhooks.get_webhooks(webhook_id=webhook_id).data.decrypted_secret_key

    call_id = client.atoms.calls.start_outbound_call(
        agent_id=agent_id, phone_number="+14155550123"
    ).data.conversation_id
    received = []
    # Connect (pre-conversation), hang up (post-conversation), analytics ready.
    for seconds in (3, 20, 15):
        atoms_mock.advance(seconds)
        received.append(webhook_receiver.next_event(timeout=10))
    assert [e.event for e in received] == [f"{agent_id}.{t}" for t in EVENT_TYPES]
    assert {e.call_id for e in received} == {call_id}
    assert all(e.signature_valid(webhook_receiver.secret) for e in received)
    assert received[1].metadata["callData"]["callStatus"] == "completed"

    # The delivery log saw the receiver's 200 for each, with the same bytes
    # (the last entry is finished once the mock has read the answer).
    assert atoms_mock.wait_for_delivery(call_id=call_id, event="analytics-completed")["result"] == "SUCCEEDED"
    logged = atoms_mock.deliveries(call_id=call_id)
    assert [(d["event"], d["result"]) for d in logged] == [(t, "SUCCEEDED") for t in EVENT_TYPES]
    assert [d["request"]["body"] for d in logged] == [e.raw.decode() for e in received]


def test_webhook_receiver_subscribe_and_a_bad_signature(atoms_mock: AtomsMock, atoms_org: AtomsOrg, webhook_receiver):
    agent_id = atoms_org.client.atoms.agents.create_agent(name="subscribed").data
    webhook_receiver.subscribe(agent_id, events=["pre-conversation"])
    atoms_org.client.atoms.calls.start_outbound_call(agent_id=agent_id, phone_number="+14155550123")
    atoms_mock.advance(3)
    assert webhook_receiver.next_event().event_type == "pre-conversation"

    # A forged delivery is answered 401 and fails verification.
    forged = urllib.request.Request(
        webhook_receiver.url, data=b'{"event": "x.pre-conversation"}', method="POST", headers={"X-Signature": "0" * 64}
    )
    with pytest.raises(urllib.error.HTTPError) as answered:
        urllib.request.build_opener(urllib.request.ProxyHandler({})).open(forged, timeout=5)
    assert answered.value.code == 401
    with pytest.raises(WebhookSignatureError):
        webhook_receiver.next_event()


def test_parallel_tests_on_one_server_do_not_see_each_others_agents(
    pytester: pytest.Pytester, atoms_mock: AtomsMock, monkeypatch: pytest.MonkeyPatch
):
    """Two tests run at the same time in two xdist workers that share this
    session's server (`--atoms-mock-url`). Each creates agents, then waits
    (through the request journal) until the other has created its own, and
    only then lists: it sees exactly its own agents, and the other's ids are
    unknown to it. Run one after the other, each would time out waiting."""
    monkeypatch.setenv("PEERS_SINCE", str(atoms_mock.journal(limit=0)["lastSeq"]))
    pytester.makepyfile(
        test_isolation=textwrap.dedent(
            """
            import json, os
            import pytest
            from smallestai.atoms import BadRequestError

            @pytest.mark.parametrize("side", ["left", "right"])
            def test_sees_only_its_own_agents(atoms_mock, atoms_org, side):
                agents = atoms_org.client.atoms.agents
                mine = {agents.create_agent(name=f"{side}-{i}").data for i in range(3)}
                theirs = set()
                since = int(os.environ["PEERS_SINCE"])
                while len(theirs) < 3:
                    entry = atoms_mock.wait_for_request(
                        method="POST", path_prefix="/agent", status="2xx", since=since, timeout=60)
                    since = entry["seq"]
                    if entry["apiKey"] != atoms_org.api_key:
                        theirs.add(json.loads(entry["response"]["body"]["text"])["data"])
                listed = agents.list_agents(offset=100).data
                assert {a.id for a in listed.agents} == mine and listed.totalCount == 3
                for agent_id in theirs:
                    with pytest.raises(BadRequestError):
                        agents.get_agent(agent_id)
                print("worker", os.environ.get("PYTEST_XDIST_WORKER"))
            """
        )
    )
    result = pytester.runpytest_subprocess(
        "-n", "2", "-p", "no:cacheprovider", f"--atoms-mock-url={atoms_mock.base_url}"
    )
    result.assert_outcomes(passed=2)


def test_settings_come_from_the_ini_file_and_the_command_line(pytester: pytest.Pytester):
    pytester.makeini("[pytest]\natoms_mock_args = --concurrency-limit 4\natoms_mock_clock = virtual\n")
    pytester.makepyfile(
        test_settings=textwrap.dedent(
            """
            def test_settings(atoms_mock, atoms_org):
                assert atoms_mock.clock()["mode"] == "real"
                assert atoms_mock.concurrency(atoms_org.api_key)["limit"] == 4
                assert atoms_mock.versioning(atoms_org.api_key)["mode"] == "v2"
            """
        )
    )
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--atoms-mock-clock=real", "--atoms-mock-arg=--versioning=v2"
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["atoms-mock *: clock real"])


@pytest.mark.skipif(sys.platform == "win32", reason="the wrapper is a shell script")
def test_a_failing_test_reports_the_server_log(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    # The server logs only warnings and errors; a wrapper around the bundled
    # executable ($ATOMS_MOCK_BIN) writes a known line to its stderr.
    wrapper = pytester.path / "atoms-mock-wrapper"
    wrapper.write_text(f'#!/bin/sh\necho "a line in the server log" >&2\nexec "{atoms_mock_pkg.executable()}" "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv(atoms_mock_pkg.EXECUTABLE_ENV, str(wrapper))
    pytester.makepyfile(
        test_fails="def test_passes(atoms_org):\n    pass\n\ndef test_fails(atoms_org):\n    assert False\n"
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*atoms-mock server log*", "a line in the server log"])
    assert result.stdout.str().count("a line in the server log") == 1
