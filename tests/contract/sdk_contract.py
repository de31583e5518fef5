#!/usr/bin/env python3
"""Contract test: the official Python SDK (smallestai==5.14.0) against atoms-mock.

Usage: ATOMS_MOCK_BASE=http://127.0.0.1:PORT/atoms/v1 python sdk_contract.py

The mock must run with a virtual clock (`--clock virtual`): the v1 flow
advances it through `POST /_admin/clock/advance`. Prints one line per step
and exits non-zero on the first failure. Plain-HTTP steps use only the
standard library (urllib.request).
"""

import json
import os
import sys
import traceback
import urllib.error
import urllib.request
import uuid

# The SDK's telemetry is CLI-only, but keep a test run off the network anyway.
os.environ.setdefault("SMALLESTAI_TELEMETRY", "0")
os.environ.setdefault("DO_NOT_TRACK", "1")

from smallestai import SmallestAI, SmallestAIEnvironment  # noqa: E402
from smallestai.atoms import BadRequestError  # noqa: E402
from smallestai.core.api_error import ApiError  # noqa: E402

BASE = os.environ.get("ATOMS_MOCK_BASE", "").rstrip("/")
if not BASE.endswith("/atoms/v1"):
    sys.exit("ATOMS_MOCK_BASE must be http://HOST:PORT/atoms/v1")
ROOT = BASE[: -len("/atoms/v1")]
# A fresh key per run: a new, empty organization on the mock.
KEY = f"sdk-contract-{uuid.uuid4().hex[:12]}"


class ContractFailure(Exception):
    """A step's expectation did not hold."""


def check(cond, msg):
    if not cond:
        raise ContractFailure(msg)


def step(msg):
    print(f"ok  {msg}", flush=True)


def http(method, url, body=None, key=KEY):
    """Sends a request; returns (status, parsed JSON body or None, raw text)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if key is not None:
        req.add_header("Authorization", f"Bearer {key}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            status, raw = res.status, res.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    text = raw.decode("utf-8", "replace")
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    return status, parsed, text


def expect(status, want, text, what):
    check(status == want, f"{what}: expected HTTP {want}, got {status}: {text[:500]}")


def sdk_steps(client):
    agents = client.atoms.agents

    created = agents.create_agent(
        name="SDK contract agent",
        language={"switching": {"isEnabled": False}},
    )
    agent_id = created.data
    check(isinstance(agent_id, str) and agent_id, f"create_agent: .data is not an id: {created!r}")
    step(f"sdk create_agent -> {agent_id}")

    got = agents.get_agent(agent_id)
    agent = got.data
    check(agent is not None, f"get_agent: no data: {got!r}")
    check(agent.id == agent_id, f"get_agent: id {agent.id!r} != {agent_id!r}")
    check(bool(agent.active_version_id), f"get_agent: activeVersionId not set: {agent!r}")
    check(agent.name == "SDK contract agent", f"get_agent: name {agent.name!r}")
    switching = agent.language.switching if agent.language else None
    check(
        switching is not None and switching.is_enabled is False,
        f"get_agent: language.switching.isEnabled not false: {agent.language!r}",
    )
    step(f"sdk get_agent: id round-trips, activeVersionId={agent.active_version_id}")

    listed = agents.list_agents()
    ids = [a.id for a in (listed.data.agents or [])] if listed.data else []
    check(agent_id in ids, f"list_agents: {agent_id} not in {ids}")
    step(f"sdk list_agents includes the agent ({len(ids)} listed)")

    unknown = "0" * 24
    try:
        agents.get_agent(unknown)
    except ApiError as e:
        check(isinstance(e, BadRequestError), f"get_agent(unknown): {type(e).__name__}, not BadRequestError: {e}")
        check(e.status_code == 400, f"get_agent(unknown): status {e.status_code}, body {e.body!r}")
        check(
            "No agent found" in json.dumps(e.body),
            f"get_agent(unknown): body {e.body!r}",
        )
        step(f"sdk get_agent(unknown) raises {type(e).__name__} (400 No agent found)")
    else:
        raise ContractFailure("get_agent(unknown): no error raised")

    return agent_id, agent.active_version_id


def http_steps(agent_id, active_version):
    agent_url = f"{BASE}/agent/{agent_id}"

    status, body, text = http("POST", f"{agent_url}/drafts", {"sourceVersionId": active_version})
    expect(status, 201, text, "fork draft")
    draft_id = body["data"]["draftId"]
    step(f"http fork draft from {active_version} -> draftId {draft_id}")

    first_message = "Hello from the SDK contract test"
    status, body, text = http(
        "PATCH", f"{agent_url}/drafts/{draft_id}/config", {"firstMessage": first_message}
    )
    expect(status, 200, text, "patch draft config")
    step("http PATCH draft config firstMessage")

    status, body, text = http(
        "POST",
        f"{agent_url}/drafts/{draft_id}/publish",
        {"label": "sdk-contract", "activate": True},
    )
    expect(status, 201, text, "publish")
    version = body["data"]
    version_id = version.get("_id")
    check(bool(version_id), f"publish: no data._id: {text[:500]}")
    check(version.get("isActive") is False, f"publish: isActive is not false: {text[:500]}")
    step(f"http publish -> version {version_id}, isActive=false (security check pending)")

    activate_url = f"{agent_url}/versions/{version_id}/activate"
    status, body, text = http("PATCH", activate_url)
    expect(status, 409, text, "activate during security check")
    step("http activate during security check -> 409")

    status, body, text = http("POST", f"{ROOT}/_admin/clock/advance", {"seconds": 6}, key=None)
    expect(status, 200, text, "advance clock")
    step(f"http advance virtual clock 6s -> {body.get('now') if body else text}")

    status, body, text = http("PATCH", activate_url)
    expect(status, 200, text, "activate after security check")
    check(body["data"].get("isActive") is True, f"activate: isActive is not true: {text[:500]}")
    step("http activate after security check -> 200, isActive=true")

    status, body, text = http("GET", agent_url)
    expect(status, 200, text, "get agent")
    data = body["data"]
    check(
        data.get("activeVersionId") == version_id,
        f"get agent: activeVersionId {data.get('activeVersionId')!r} != {version_id!r}",
    )
    resolved = data.get("_resolvedConfig") or {}
    check(
        resolved.get("firstMessage") == first_message,
        f"get agent: _resolvedConfig.firstMessage {resolved.get('firstMessage')!r}",
    )
    step("http GET agent: activeVersionId is the new version, _resolvedConfig.firstMessage updated")


def main():
    print(f"atoms-mock SDK contract against {BASE}", flush=True)
    client = SmallestAI(
        api_key=KEY,
        environment=SmallestAIEnvironment(atoms=BASE, waves=ROOT, waves_ws=ROOT, payment=ROOT),
    )
    try:
        agent_id, active_version = sdk_steps(client)
        http_steps(agent_id, active_version)
    except ContractFailure as e:
        print(f"FAIL {e}", flush=True)
        return 1
    except Exception:  # an SDK or transport error is a failure too
        print("FAIL unexpected error:", flush=True)
        traceback.print_exc()
        return 1
    print("PASS sdk contract", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
