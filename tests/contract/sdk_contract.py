#!/usr/bin/env python3
"""Contract test: the official Python SDK (smallestai==5.14.0) against atoms-mock.

Usage: ATOMS_MOCK_BASE=http://127.0.0.1:PORT/atoms/v1 python sdk_contract.py

Every platform request goes through the SDK's own generated methods
(`client.atoms.<area>.with_raw_response.<method>`, the same code path as the
plain method). The SDK builds its response models with `construct_type`,
which never fails, so each answer is also validated strictly against the
SDK's response model (`parse_obj_as`): a mock answer whose shape or types
disagree with the SDK's model fails the step.

The mock must run with a virtual clock (`--clock virtual`), the default
6-second security check and otherwise default flags (versioning `auto`: v1
and v2 clients on one server). The script starts where every SDK quick start
does, `client.atoms.user`, drives one agent through the v1 flow and another
through the SDK's own v2 helpers (`Versioning.edit_and_publish`,
`AgentTools.add_transfer_call` / `get_tools`). The only non-SDK requests go
to the mock's control API (plain HTTP): `/_admin/clock` to read and advance
the clock, `/_admin/journal/wait` to see a helper's publish arrive before
moving the clock past its security scan, `/_admin/concurrency` to make a
call queue, and `/_admin/dnc` and `/_admin/access` for the Do-Not-Call and
concurrency steps (`sdk_dnc.py`). The other areas have modules of their own
(`sdk_account.py`, `sdk_analytics.py`, `sdk_knowledge.py`, `sdk_branches.py`
for the v2 branch and revision operations, `sdk_streams.py` for the SSE live
events and the campaign CSV, `sdk_helpers.py` for the SDK's hand-written
helpers, which send their own requests). Every generated method is wrapped first
(`record_calls`): the run fails unless each of them was called at least
once, so a method a newer SDK adds is not silently left out. Prints one `ok`
line per step and `PASS sdk contract` at the end; exits non-zero on the
first failure.

Set SDK_CONTRACT_EXTRAS=1 to also print, per response, the keys the SDK's
model does not declare (with the declared fields that came back null or
absent, marked MISSING): the place to look for a renamed field.
"""

import datetime as dt
import json
import os
import pathlib
import sys
import tempfile
import threading
import traceback
import urllib.error
import urllib.request
import uuid

# The SDK's telemetry is CLI-only, but keep a test run off the network anyway.
os.environ.setdefault("SMALLESTAI_TELEMETRY", "0")
os.environ.setdefault("DO_NOT_TRACK", "1")

import pydantic  # noqa: E402
from smallestai import SmallestAI, SmallestAIEnvironment  # noqa: E402
from smallestai.atoms import BadRequestError, ConflictError, NotFoundError  # noqa: E402
from smallestai.atoms.helpers import AgentTools, DraftConflictError, Versioning  # noqa: E402
from smallestai.core.api_error import ApiError  # noqa: E402
from smallestai.core.pydantic_utilities import parse_obj_as  # noqa: E402
from sdk_analytics import analytics_steps  # noqa: E402
from sdk_dnc import dnc_concurrency_steps  # noqa: E402

import sdk_branches  # noqa: E402
import sdk_helpers  # noqa: E402
import sdk_knowledge  # noqa: E402
import sdk_streams  # noqa: E402

BASE = os.environ.get("ATOMS_MOCK_BASE", "").rstrip("/")
if not BASE.endswith("/atoms/v1"):
    sys.exit("ATOMS_MOCK_BASE must be http://HOST:PORT/atoms/v1")
ROOT = BASE[: -len("/atoms/v1")]
# A fresh key per run: a new, empty organization on the mock.
KEY = f"sdk-contract-{uuid.uuid4().hex[:12]}"
# The mock's default security-check window (--security-check-secs).
SECURITY_CHECK_SECS = 6
# A phone number id for campaigns (the mock accepts any ObjectId).


class ContractFailure(Exception):
    """A step's expectation did not hold."""


def check(cond, msg):
    if not cond:
        raise ContractFailure(msg)


def step(msg):
    print(f"ok  {msg}", flush=True)


def sdk(area, method, *args, **kwargs):
    """Calls `area.method` through the SDK; returns (typed model, raw JSON).

    The typed model is what the plain SDK method returns. It is re-validated
    strictly against the SDK's own response type so that a mock answer the
    SDK only tolerates (wrong types, bad datetimes) fails here.
    """
    what = f"{type(area).__name__}.{method}"
    res = getattr(area.with_raw_response, method)(*args, **kwargs)
    typed = res.data
    raw = res._response.json()  # the httpx response behind the SDK's HttpResponse
    try:
        parse_obj_as(type(typed), raw)
    except pydantic.ValidationError as e:
        raise ContractFailure(
            f"{what}: the response does not validate against {type(typed).__name__}:\n{e}\n{json.dumps(raw)[:1500]}"
        )
    if os.environ.get("SDK_CONTRACT_EXTRAS"):
        for path, keys in unknown_keys(typed, what):
            print(f"    extra {path}: {sorted(keys)}", flush=True)
    # R004; a few routes (agent call logs, metric templates, concurrency) say `success`, and
    # the by-audience-member export is a bare object without either (R008).
    fields = type(typed).model_fields
    flag = "success" if "success" in fields else "status" if "status" in fields else None
    if flag:
        check(raw.get(flag) is True, f"{what}: envelope {flag} is not true: {json.dumps(raw)[:500]}")
        check(getattr(typed, flag, None) is True, f"{what}: typed .{flag} is not True: {typed!r}")
    return typed, raw


def unknown_keys(value, path):
    """Yields (path, keys) for each model in `value` holding keys its SDK type does not declare."""
    if isinstance(value, pydantic.BaseModel):
        extra = getattr(value, "__pydantic_extra__", None) or {}
        if extra:
            missing = [f.alias or n for n, f in type(value).model_fields.items() if getattr(value, n, None) is None]
            yield path, set(extra) | {f"MISSING:{m}" for m in missing}
        for name in type(value).model_fields:
            yield from unknown_keys(getattr(value, name, None), f"{path}.{name}")
        for k, v in extra.items():
            yield from unknown_keys(v, f"{path}.{k}")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value[:3]):
            yield from unknown_keys(v, f"{path}[{i}]")


def expect_error(area, method, cls, status, needle, *args, **kwargs):
    """Calls `area.method`, which must raise the SDK error `cls`."""
    what = f"{type(area).__name__}.{method}"
    try:
        getattr(area, method)(*args, **kwargs)
    except ApiError as e:
        check(isinstance(e, cls), f"{what}: raised {type(e).__name__}, not {cls.__name__}: {e}")
        check(e.status_code == status, f"{what}: status {e.status_code}, body {e.body!r}")
        check(needle in json.dumps(e.body), f"{what}: body {e.body!r} lacks {needle!r}")
        return e
    raise ContractFailure(f"{what}: no error raised")


def admin(method, path, body=None):
    """The mock's control API (plain HTTP, no auth): returns the parsed JSON."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"{ROOT}/_admin{path}", data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            status, raw = res.status, res.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    text = raw.decode("utf-8", "replace")
    check(status == 200, f"{method} /_admin{path}: HTTP {status}: {text[:500]}")
    return json.loads(text)


def advance(seconds):
    return admin("POST", "/clock/advance", {"seconds": seconds}).get("now")


def now():
    return dt.datetime.fromisoformat(admin("GET", "/clock")["now"].replace("Z", "+00:00"))


# --- coverage: every generated SDK method ---------------------------------------

# (area, method) of each generated SDK method a step has called, plainly or
# through `with_raw_response`.
CALLED = set()


def sdk_methods(client):
    """Yields (area name, area, method name) for each public method of each
    `client.atoms.<area>` that has a `with_raw_response` (the generated
    clients)."""
    for name in dir(client.atoms):
        area = getattr(client.atoms, name)
        if name.startswith("_") or not hasattr(area, "with_raw_response"):
            continue
        for method in dir(area):
            if not method.startswith("_") and method != "with_raw_response" and callable(getattr(area, method)):
                yield name, area, method


def record_calls(client):
    """Wraps every generated method (plain and raw) so that the SDK's own
    helpers' calls count too; `main()` fails when a method was never called:
    a method a newer SDK adds fails the contract until a step covers it."""
    for name, area, method in sdk_methods(client):
        for target in (area, area.with_raw_response):
            original = getattr(target, method)

            def wrapped(*args, _original=original, _key=(name, method), **kwargs):
                CALLED.add(_key)
                return _original(*args, **kwargs)

            setattr(target, method, wrapped)


def uncalled(client):
    return sorted(f"{name}.{method}" for name, _, method in sdk_methods(client) if (name, method) not in CALLED)


# --- agents, templates, metric templates -------------------------------------


def agent_steps(client):
    agents = client.atoms.agents

    created, _ = sdk(
        agents,
        "create_agent",
        name="SDK contract agent",
        description="created by the SDK contract test",
        language={"switching": {"isEnabled": False}},
    )
    agent_id = created.data
    check(isinstance(agent_id, str) and len(agent_id) == 24, f"create_agent: .data is not an id: {created!r}")
    step(f"agents.create_agent -> {agent_id}")

    got, _ = sdk(agents, "get_agent", agent_id)
    agent = got.data
    check(agent is not None, f"get_agent: no data: {got!r}")
    check(agent.id == agent_id, f"get_agent: id {agent.id!r} != {agent_id!r}")
    check(bool(agent.active_version_id), f"get_agent: activeVersionId not set: {agent!r}")
    check(agent.name == "SDK contract agent", f"get_agent: name {agent.name!r}")
    check(agent.archived is False, f"get_agent: archived {agent.archived!r}")
    check(bool(agent.organization), f"get_agent: no organization: {agent!r}")
    switching = agent.language.switching if agent.language else None
    check(
        switching is not None and switching.is_enabled is False,
        f"get_agent: language.switching.isEnabled not false: {agent.language!r}",
    )
    step(f"agents.get_agent: id round-trips, activeVersionId={agent.active_version_id}")

    expect_error(agents, "get_agent", BadRequestError, 400, "No agent found", "0" * 24)
    step("agents.get_agent(unknown) raises BadRequestError (400 No agent found)")

    updated, _ = sdk(agents, "update_agent", agent_id, name="SDK contract agent v2", description="renamed")
    check(updated.data == agent_id, f"update_agent: data {updated.data!r} is not the agent id")
    got, _ = sdk(agents, "get_agent", agent_id)
    check(got.data.name == "SDK contract agent v2", f"update_agent: name now {got.data.name!r}")
    check(got.data.description == "renamed", f"update_agent: description now {got.data.description!r}")
    step("agents.update_agent: name and description changed")

    templates, _ = sdk(client.atoms.agent_templates, "list_agent_templates")
    check(templates.data, f"list_agent_templates: empty: {templates!r}")
    template = templates.data[0]
    check(bool(template.id) and bool(template.name), f"list_agent_templates: template without id/name: {template!r}")
    us, _ = sdk(client.atoms.agent_templates, "list_agent_templates", region="us")
    regions = {t.region for t in us.data or []}
    check(us.data and len(us.data) < len(templates.data) and regions == {"US"}, f"list_agent_templates(us): {regions}")
    step(f"agent_templates.list_agent_templates: {len(templates.data)} templates, {len(us.data)} with region=us")

    from_template, _ = sdk(
        client.atoms.agent_templates,
        "create_agent_from_template",
        agent_name="SDK contract from template",
        template_id=template.id,
        agent_description="from a template",
    )
    templated_id = from_template.data
    check(isinstance(templated_id, str) and len(templated_id) == 24, f"create_agent_from_template: {from_template!r}")
    got, _ = sdk(agents, "get_agent", templated_id)
    check(got.data.name == "SDK contract from template", f"from template: name {got.data.name!r}")
    step(f"agent_templates.create_agent_from_template({template.id}) -> {templated_id}")

    dup, _ = sdk(agents, "duplicate_agent", agent_id, target_organization_id=agent.organization)
    dup_id = dup.data.id if dup.data else None
    check(bool(dup_id) and dup_id != agent_id, f"duplicate_agent: {dup!r}")
    got, _ = sdk(agents, "get_agent", dup_id)
    check(got.data.name == "SDK contract agent v2", f"duplicate: name {got.data.name!r}")
    step(f"agents.duplicate_agent -> {dup_id}")

    archived, _ = sdk(agents, "archive_agent", dup_id)
    check(archived.data.message == "Agent archived", f"archive_agent: {archived!r}")
    got, _ = sdk(agents, "get_agent", dup_id)
    check(got.data.archived is True, f"archive_agent: archived {got.data.archived!r}")
    listed, _ = sdk(agents, "list_agents", archived=True)
    ids = [a.id for a in listed.data.agents or []]
    check(ids == [dup_id], f"list_agents(archived=True): {ids}")
    listed, _ = sdk(agents, "list_agents")
    ids = [a.id for a in listed.data.agents or []]
    check(dup_id not in ids, f"list_agents: archived agent listed: {ids}")
    unarchived, _ = sdk(agents, "archive_agent", dup_id, on=False)
    check(unarchived.data.message == "Agent unarchived", f"archive_agent(on=False): {unarchived!r}")
    got, _ = sdk(agents, "get_agent", dup_id)
    check(got.data.archived is False, f"archive_agent(on=False): archived {got.data.archived!r}")
    step("agents.archive_agent, then archive_agent(on=False) unarchives")

    listed, _ = sdk(agents, "list_agents")
    ids = [a.id for a in listed.data.agents or []]
    check(sorted(ids) == sorted([agent_id, templated_id, dup_id]), f"list_agents: {ids}")
    # LIVE list table: {agents, hasMore, isSearchResults, totalCount, totalPages}, not the spec's {agents, total}.
    listed, raw = sdk(agents, "list_agents")
    data = raw["data"]
    check(sorted(data) == ["agents", "hasMore", "isSearchResults", "totalCount", "totalPages"], f"list_agents: {sorted(data)}")
    check((data["totalCount"], data["totalPages"], data["hasMore"]) == (3, 1, False), f"list_agents: {data!r}"[:500])
    listed, raw = sdk(agents, "list_agents", search="from template", page=1, offset=10)
    ids = [a.id for a in listed.data.agents or []]
    check(ids == [templated_id] and raw["data"]["isSearchResults"] is True, f"list_agents(search): {ids}")
    listed, _ = sdk(agents, "list_agents", sort_field="name", sort_order="asc", offset=2, page=1)
    names = [a.name for a in listed.data.agents or []]
    check(len(names) == 2 and names == sorted(names), f"list_agents(sort name asc, offset 2): {names}")
    listed, _ = sdk(agents, "list_agents", type="single_prompt")
    check(len(listed.data.agents or []) == 3, f"list_agents(type=single_prompt): {listed.data!r}"[:500])
    step("agents.list_agents: all, archived, search, type, sort and page size")

    metrics, _ = sdk(client.atoms.disposition_metric_templates, "list_disposition_metric_templates")
    check(metrics.data, f"list_disposition_metric_templates: empty: {metrics!r}")
    types = {m.disposition_metric_type for m in metrics.data}
    check(all(m.identifier for m in metrics.data) and "BOOLEAN" in types, f"metric templates: {metrics.data!r}")
    step(f"disposition_metric_templates.list_disposition_metric_templates: {len(metrics.data)}")

    return agent_id, agent.active_version_id


# --- v1 versioning -----------------------------------------------------------

FIRST_MESSAGE = "Hello {{customer_name}}, this is the SDK contract test"
ANALYTICS = {
    "dispositionMetrics": [
        {
            "identifier": "call_resolved",
            "dispositionMetricPrompt": "Was the issue resolved?",
            "dispositionMetricType": "BOOLEAN",
        },
        {
            "identifier": "customer_sentiment",
            "dispositionMetricPrompt": "Sentiment?",
            "dispositionMetricType": "ENUM",
            "choices": ["positive", "neutral", "negative"],
        },
    ]
}


def versioning_steps(client, agent_id, active_version):
    drafts = client.atoms.agent_versioning_drafts
    versions = client.atoms.agent_versioning_versions

    created, _ = sdk(drafts, "create_draft", agent_id, source_version_id=active_version, draft_name="sdk draft")
    draft = created.data
    draft_id = draft.draft_id if draft else None
    check(bool(draft_id), f"create_draft: no draftId: {created!r}")
    check(draft.status == "draft" and draft.source_version_id == active_version, f"create_draft: {draft!r}")
    check(draft.draft_name == "sdk draft", f"create_draft: draftName {draft.draft_name!r}")
    step(f"agent_versioning_drafts.create_draft from {active_version} -> {draft_id}")

    listed, _ = sdk(drafts, "list_active_drafts", agent_id)
    check([d.draft_id for d in listed.data or []] == [draft_id], f"list_active_drafts: {listed.data!r}"[:500])
    step("agent_versioning_drafts.list_active_drafts lists the draft")

    renamed, _ = sdk(drafts, "rename_draft", agent_id, draft_id, draft_name="sdk draft renamed")
    check(renamed.data.draft_name == "sdk draft renamed", f"rename_draft: {renamed!r}")
    step("agent_versioning_drafts.rename_draft")

    edited, _ = sdk(
        drafts,
        "update_draft_config",
        agent_id,
        draft_id,
        first_message=FIRST_MESSAGE,
        default_variables={"customer_name": "Ada"},
        post_call_analytics_config=ANALYTICS,
    )
    revision = edited.data.draft_revision if edited.data else None
    check(isinstance(revision, int) and revision >= 1, f"update_draft_config: draftRevision {revision!r}")
    detail, _ = sdk(drafts, "get_draft_detail", agent_id, draft_id)
    check(detail.data.latest.draft_id == draft_id, f"get_draft_detail: {detail.data!r}"[:500])
    check(detail.data.latest.draft_revision == revision, f"get_draft_detail: revision {detail.data.latest!r}"[:500])
    check(detail.data.edit_count == len(detail.data.edit_history or []) >= 1, f"get_draft_detail: {detail.data!r}"[:500])
    step(f"agent_versioning_drafts.update_draft_config (firstMessage, analytics) -> revision {revision}; get_draft_detail")

    got, _ = sdk(client.atoms.agents, "get_agent", agent_id, draft_id=draft_id)
    resolved = got.data.resolved_config
    check(resolved is not None and resolved.first_message == FIRST_MESSAGE, f"get_agent(draft_id): {resolved!r}"[:500])
    check(got.data.config_source == "draft", f"get_agent(draft_id): _configSource {got.data.config_source!r}")
    step("agents.get_agent(draft_id=...): _resolvedConfig from the draft, _configSource=draft")

    diff, _ = sdk(drafts, "get_draft_diff", agent_id, draft_id)
    check(diff.data.has_changes is True, f"get_draft_diff: {diff.data!r}"[:500])
    changed = sorted(k for k, v in (diff.data.sections or {}).items() if v.changed)
    check(changed, f"get_draft_diff: no changed section: {diff.data!r}"[:500])
    step(f"agent_versioning_drafts.get_draft_diff: changed {changed}")

    published, _ = sdk(
        drafts, "publish_draft", agent_id, draft_id, label="sdk-contract", description="published by the SDK", activate=True
    )
    version = published.data
    version_id = version.id if version else None
    check(bool(version_id), f"publish_draft: no data._id: {published!r}")
    check(version.status == "published" and version.version_number == 2, f"publish_draft: {version!r}")
    check(version.label == "sdk-contract", f"publish_draft: label {version.label!r}")
    check(version.is_active is False, f"publish_draft: isActive is not false: {version!r}")
    step(f"agent_versioning_drafts.publish_draft -> version {version_id}, isActive=false (security check pending)")

    expect_error(versions, "activate_version", ConflictError, 409, "security check pending", agent_id, version_id)
    step("agent_versioning_versions.activate_version during the security check raises ConflictError (409)")

    step(f"advance virtual clock {SECURITY_CHECK_SECS}s -> {advance(SECURITY_CHECK_SECS)}")

    activated, _ = sdk(versions, "activate_version", agent_id, version_id)
    check(activated.data is not None and activated.data.is_active is True, f"activate_version: {activated!r}")
    check(activated.data.id == version_id, f"activate_version: {activated.data!r}")
    step("agent_versioning_versions.activate_version after the security check -> isActive=true")

    got, _ = sdk(client.atoms.agents, "get_agent", agent_id)
    check(got.data.active_version_id == version_id, f"get_agent: activeVersionId {got.data.active_version_id!r}")
    resolved = got.data.resolved_config
    check(resolved is not None and resolved.first_message == FIRST_MESSAGE, f"get_agent: {resolved!r}"[:500])
    pca = resolved.post_call_analytics_config
    metrics = [(m.identifier, m.disposition_metric_type) for m in (pca.disposition_metrics if pca else None) or []]
    check(
        metrics == [("call_resolved", "BOOLEAN"), ("customer_sentiment", "ENUM")],
        f"get_agent: postCallAnalyticsConfig {pca!r}",
    )
    step("agents.get_agent: activeVersionId is the new version, _resolvedConfig updated")

    listed, _ = sdk(versions, "list_published_versions", agent_id, limit=10)
    numbers = [(v.id, v.version_number, v.is_active) for v in listed.data.versions or []]
    check(
        sorted(numbers, key=lambda t: t[1]) == [(active_version, 1, False), (version_id, 2, True)],
        f"list_published_versions: {numbers}",
    )
    check(listed.data.total == 2, f"list_published_versions: total {listed.data.total!r}")
    step("agent_versioning_versions.list_published_versions: v1 inactive, v2 active")

    detail, _ = sdk(versions, "get_version_detail", agent_id, version_id)
    check(detail.data.version.id == version_id, f"get_version_detail: {detail.data!r}"[:500])
    # resolvedConfig is keyed by config section (R060).
    sections = detail.data.resolved_config or {}
    holder = [name for name, sec in sections.items() if (sec or {}).get("firstMessage") == FIRST_MESSAGE]
    check(len(holder) == 1, f"get_version_detail: firstMessage not in one section: {sections!r}"[:800])
    step(f"agent_versioning_versions.get_version_detail: resolvedConfig.{holder[0]}.firstMessage")

    meta, _ = sdk(versions, "update_version_metadata", agent_id, version_id, label="sdk-contract-pinned", is_pinned=True)
    check(meta.data.label == "sdk-contract-pinned" and meta.data.is_pinned is True, f"update_version_metadata: {meta!r}")
    pinned, _ = sdk(versions, "list_published_versions", agent_id, is_pinned=True)
    check([v.id for v in pinned.data.versions or []] == [version_id], f"list_published_versions(is_pinned): {pinned!r}")
    step("agent_versioning_versions.update_version_metadata (label, pin); list_published_versions(is_pinned=True)")

    vdiff, _ = sdk(versions, "diff_two_versions", agent_id, version_a=active_version, version_b=version_id)
    sections = [d.section for d in vdiff.data.diffs or []]
    check(sections, f"diff_two_versions: no diffs: {vdiff.data!r}"[:500])
    step(f"agent_versioning_versions.diff_two_versions: {sections}")

    # A second draft: a draft test call, then discard it.
    created, _ = sdk(drafts, "create_draft", agent_id, source_version_id=version_id)
    draft2 = created.data.draft_id
    test_call, _ = sdk(drafts, "test_call_with_draft_config", agent_id, draft2, mode="chat")
    check((test_call.data.call_id or "").startswith("CALL-"), f"test_call_with_draft_config: {test_call!r}")
    test_call2, _ = sdk(versions, "test_call_with_version_config", agent_id, version_id, mode="webcall")
    check((test_call2.data.call_id or "").startswith("CALL-"), f"test_call_with_version_config: {test_call2!r}")
    sdk(drafts, "discard_draft", agent_id, draft2)
    listed, _ = sdk(drafts, "list_active_drafts", agent_id)
    check(not listed.data, f"discard_draft: drafts left: {listed.data!r}"[:500])
    step("drafts.test_call_with_draft_config, versions.test_call_with_version_config, drafts.discard_draft")
    return version_id


# --- webhooks ----------------------------------------------------------------


def webhook_steps(client, agent_id):
    hooks = client.atoms.webhooks
    # Nothing listens there; the webhook is deleted before any call is placed.
    endpoint = f"http://127.0.0.1:9/sdk-contract/{uuid.uuid4().hex[:8]}"
    created, _ = sdk(
        hooks,
        "create",
        endpoint=endpoint,
        description="sdk contract hook",
        events=[{"agentId": agent_id, "eventType": "post-conversation"}],
    )
    webhook_id = created.data
    check(isinstance(webhook_id, str) and len(webhook_id) == 24, f"webhooks.create: {created!r}")
    step(f"webhooks.create -> {webhook_id}")

    got, _ = sdk(hooks, "get_webhooks", webhook_id=webhook_id)
    hook = got.data
    check(not isinstance(hook, list) and hook.id == webhook_id, f"get_webhooks(webhook_id): {hook!r}"[:500])
    check(hook.url == endpoint and hook.description == "sdk contract hook", f"get_webhooks: {hook!r}"[:500])
    check(bool(hook.decrypted_secret_key), f"get_webhooks: no decryptedSecretKey: {hook!r}"[:500])
    subs = [(sub.agent_id.id if sub.agent_id else None, sub.event_type) for sub in hook.subscriptions or []]
    check(subs == [(agent_id, "post-conversation")], f"get_webhooks: subscriptions {subs}")
    step("webhooks.get_webhooks(webhook_id): url, secret and populated subscription")

    listed, _ = sdk(hooks, "get_webhooks")
    check(isinstance(listed.data, list) and [h.id for h in listed.data] == [webhook_id], f"get_webhooks(): {listed!r}"[:500])
    step("webhooks.get_webhooks() lists it")

    sdk(hooks, "update", webhook_id, description="updated", headers={"x-api-key": "sdk-contract"})
    got, _ = sdk(hooks, "get_webhooks", webhook_id=webhook_id)
    check(got.data.description == "updated", f"webhooks.update: description {got.data.description!r}")
    step("webhooks.update: description changed")

    subs, _ = sdk(hooks, "get_webhook_subscriptions_for_an_agent", agent_id)
    check([(x.webhook_id, x.event_type) for x in subs.data or []] == [(webhook_id, "post-conversation")], f"{subs!r}")
    step("webhooks.get_webhook_subscriptions_for_an_agent")

    sdk(
        hooks,
        "replace_webhook_subscriptions_for_an_agent",
        agent_id,
        webhook_id=webhook_id,
        event_types=["pre-conversation", "analytics-completed"],
    )
    subs, _ = sdk(hooks, "get_webhook_subscriptions_for_an_agent", agent_id)
    events = sorted(x.event_type for x in subs.data or [])
    check(events == ["analytics-completed", "pre-conversation"], f"replace_webhook_subscriptions: {events}")
    step("webhooks.replace_webhook_subscriptions_for_an_agent")

    sdk(hooks, "delete_webhook_subscriptions_for_an_agent", agent_id)
    subs, _ = sdk(hooks, "get_webhook_subscriptions_for_an_agent", agent_id)
    check(not subs.data, f"delete_webhook_subscriptions_for_an_agent: {subs!r}")
    step("webhooks.delete_webhook_subscriptions_for_an_agent")

    sdk(hooks, "delete", webhook_id)
    listed, _ = sdk(hooks, "get_webhooks")
    check(not listed.data, f"webhooks.delete: still listed: {listed!r}"[:500])
    e = expect_error(hooks, "delete", NotFoundError, 404, "Webhook not found", webhook_id)
    step(f"webhooks.delete; deleting again raises NotFoundError {e.body!r}")


# --- calls and conversations -------------------------------------------------


def call_steps(client, agent_id, version_id):
    calls = client.atoms.calls
    convs = client.atoms.conversations
    to = "+14155550123"

    placed, _ = sdk(calls, "start_outbound_call", agent_id=agent_id, phone_number=to, variables={"customer_name": "Bea"})
    call_id = placed.data.conversation_id if placed.data else None
    check(bool(call_id) and call_id.startswith("CALL-"), f"start_outbound_call: {placed!r}")
    step(f"calls.start_outbound_call -> {call_id}")

    log, _ = sdk(calls, "get", call_id)
    check(log.data.call_id == call_id and log.data.to == to, f"calls.get: {log.data!r}"[:500])
    check(log.data.status == "pending" and log.data.type == "telephony_outbound", f"calls.get: {log.data!r}"[:500])
    step(f"calls.get (just placed): status={log.data.status}")

    to_cancel, _ = sdk(calls, "start_outbound_call", agent_id=agent_id, phone_number="+14155550124")
    cancel_id = to_cancel.data.conversation_id
    cancelled, _ = sdk(convs, "cancel", call_id=cancel_id, reason="sdk contract")
    c = cancelled.data
    check((c.call_id, c.status, c.previous_status) == (cancel_id, "cancelled", "pending"), f"conversations.cancel: {c!r}")
    step(f"conversations.cancel -> {c.status} (was {c.previous_status})")

    # Calls are dispatched on the next clock tick. Then cap the organization's
    # concurrency at the calls running now, so the next call waits in the
    # queue, and cancel it there.
    advance(1)
    log, _ = sdk(calls, "get", call_id)
    check(log.data.status == "in_progress", f"calls.get after 1s: status {log.data.status!r}")
    running = admin("GET", f"/concurrency?apiKey={KEY}")["running"]
    admin("PUT", f"/concurrency?apiKey={KEY}", {"limit": running})
    queued, _ = sdk(calls, "start_outbound_call", agent_id=agent_id, phone_number="+14155550125")
    queued_id = queued.data.conversation_id
    advance(1)
    log, _ = sdk(calls, "get", queued_id)
    check(log.data.status == "in_queue", f"calls.get(queued): status {log.data.status!r}")
    cq, _ = sdk(convs, "cancel_queued", queued_id)
    check((cq.data.call_id, cq.data.status) == (queued_id, "cancelled"), f"cancel_queued: {cq.data!r}")
    admin("PUT", f"/concurrency?apiKey={KEY}", {"limit": 10})
    step(f"conversations.cancel_queued on an in_queue call (concurrency limit {running})")

    step(f"advance virtual clock 60s -> {advance(60)}")

    log, _ = sdk(calls, "get", call_id)
    d = log.data
    check(d.status == "completed", f"calls.get: status {d.status!r}")
    check(d.transcript and d.transcript[0].role == "agent", f"calls.get: transcript {d.transcript!r}"[:500])
    check("Bea" in (d.transcript[0].content or ""), f"calls.get: first message not personalised: {d.transcript[0]!r}")
    check(d.variables.get("customer_name") == "Bea", f"calls.get: variables {d.variables!r}")
    check(isinstance(d.duration, float) and d.duration > 0, f"calls.get: duration {d.duration!r}")
    check(d.agent is not None and d.agent.id == agent_id, f"calls.get: agent {d.agent!r}"[:300])
    check(bool(d.recording_url), "calls.get: no recordingUrl")
    check(d.turn_latency_metrics is not None and d.turn_latency_metrics.turns, f"calls.get: {d.turn_latency_metrics!r}")
    pca = d.post_call_analytics
    got_metrics = {m.identifier: m.value for m in (pca.disposition_metrics or [])} if pca else {}
    check(set(got_metrics) == {"call_resolved", "customer_sentiment"}, f"calls.get: postCallAnalytics {pca!r}")
    check(all(isinstance(v, str) for v in got_metrics.values()), f"calls.get: metric values not strings: {got_metrics}")
    step(f"calls.get (ended): completed, {len(d.transcript)} turns, analytics {got_metrics}")

    # The draft and version test calls above are this agent's web calls.
    listed, _ = sdk(
        calls, "list", agent_ids=agent_id, call_types="telephony_outbound", limit=10, sort_by="createdAt", sort_order="asc"
    )
    rows = listed.data.logs or []
    check([r.call_id for r in rows] == [call_id, cancel_id, queued_id], f"calls.list: {[r.call_id for r in rows]}")
    check(rows[0].agent_id == agent_id and rows[0].status == "completed", f"calls.list: {rows[0]!r}"[:500])
    check(rows[0].version_id == version_id, f"calls.list: versionId {rows[0].version_id!r} != {version_id!r}")
    check(rows[0].disposition_metrics == got_metrics, f"calls.list: dispositionMetrics {rows[0].disposition_metrics!r}")
    check(listed.data.pagination.total == 3, f"calls.list: pagination {listed.data.pagination!r}")
    config = sorted((m.identifier, m.type) for m in listed.data.disposition_metrics_config or [])
    check([i for i, _ in config] == ["call_resolved", "customer_sentiment"], f"calls.list: dispositionMetricsConfig {config}")
    since = now() - dt.timedelta(hours=1)
    filtered, _ = sdk(calls, "list", status_filter="cancelled", date_from=since)
    ids = sorted(r.call_id for r in filtered.data.logs or [])
    check(ids == sorted([cancel_id, queued_id]), f"calls.list(status_filter=cancelled, date_from): {ids}")
    step("calls.list: agent filter, sort, pagination, metrics; status/date/type filters")

    e = expect_error(convs, "cancel", BadRequestError, 400, "has already ended", call_id=call_id)
    step(f"conversations.cancel on an ended call raises BadRequestError {e.body!r}")
    e = expect_error(calls, "get", NotFoundError, 404, "No conversation found", "CALL-1767225600000-000000")
    step(f"calls.get(unknown) raises NotFoundError {e.body!r}")

    found, _ = sdk(calls, "search", call_ids=[call_id, cancel_id, "CALL-0000000000000-000000"])
    check(sorted(r.call_id for r in found.data.logs or []) == sorted([call_id, cancel_id]), f"calls.search: {found!r}"[:500])
    check((found.data.total, found.data.requested_count) == (2, 3), f"calls.search: {found.data!r}"[:300])
    step("calls.search: unknown ids skipped")

    url, _ = sdk(convs, "get_a_time_limited_recording_download_url", call_id)
    check((url.data.presigned_url or "").startswith("http"), f"recording download url: {url!r}")
    step("conversations.get_a_time_limited_recording_download_url")

    retries, _ = sdk(convs, "list_retry_attempts", call_id)
    # The whole family, parent first (R117): a call never retried is alone.
    family = [r.get("callId") for r in retries.data.retries or []]
    check(family == [call_id], f"list_retry_attempts: {family}")
    step("conversations.list_retry_attempts: just the call itself")

    agent_logs, _ = sdk(client.atoms.agents, "get_agent_call_logs", agent_id, page=1, offset=10)
    check(call_id in [x.call_id for x in agent_logs.data.call_logs or []], f"get_agent_call_logs: {agent_logs!r}"[:500])
    step(f"agents.get_agent_call_logs: {agent_logs.data.total_count:.0f} logs")

    web, _ = sdk(client.atoms.web_call, "start_web_call_conversation", agent_id=agent_id)
    check((web.data.call_id or "").startswith("CALL-") and web.data.token, f"start_web_call_conversation: {web!r}")
    chat, _ = sdk(client.atoms.web_call, "start_web_chat_conversation", agent_id=agent_id)
    check((chat.data.call_id or "").startswith("CALL-"), f"start_web_chat_conversation: {chat!r}")
    step("web_call.start_web_call_conversation, start_web_chat_conversation")

    token, _ = sdk(client.atoms.realtime, "register_call", agent_id=agent_id, mode="webcall", variables={"customer_name": "Ada"})
    check((token.data.access_token or "").startswith("wct_"), f"register_call: {token!r}")
    check(token.data.expires_in == 30 and token.data.sample_rate == 24000, f"register_call: {token!r}")
    step("realtime.register_call -> wct_ token, expires_in 30")


# --- audiences and campaigns -------------------------------------------------


def campaign_steps(client, agent_id):
    audiences = client.atoms.audience
    campaigns = client.atoms.campaigns
    csv = b"phone,name\n+15551000001,Ann\n+15551000002,Bob\n"
    created, _ = sdk(
        audiences,
        "create_audience_with_csv_upload",
        name="SDK contract audience",
        phone_number_column_name="phone",
        file=("audience.csv", csv, "text/csv"),
        description="two members",
        identifier_column_name="name",
    )
    audience = created.data
    audience_id = audience.id if audience else None
    check(bool(audience_id), f"create_audience_with_csv_upload: {created!r}")
    check(audience.name == "SDK contract audience" and audience.phone_number_column_name == "phone", f"{audience!r}")
    step(f"audience.create_audience_with_csv_upload -> {audience_id}")

    got, _ = sdk(audiences, "get", audience_id)
    check(got.data.id == audience_id and got.data.description == "two members", f"audience.get: {got.data!r}")
    e = expect_error(audiences, "get", NotFoundError, 404, "Audience not found", "0" * 24)
    step(f"audience.get; unknown id raises NotFoundError {e.body!r}")

    added, _ = sdk(audiences, "add_audience_members", audience_id, members=[{"phone": "+15551000003", "name": "Cid"}])
    check(added.data and added.data[0].data.added == 1, f"add_audience_members: {added!r}")
    members, _ = sdk(audiences, "get_audience_members", audience_id, page=1, offset=10)
    names = sorted((m.data or {}).get("name") for m in members.data.members or [])
    check(names == ["Ann", "Bob", "Cid"] and members.data.total_count == 3, f"get_audience_members: {members.data!r}"[:500])
    search, _ = sdk(audiences, "search_audience_members", audience_id, query="Cid")
    hits = search.data.members or []
    check([(m.data or {}).get("name") for m in hits] == ["Cid"], f"search_audience_members: {search.data!r}"[:500])
    deleted, _ = sdk(audiences, "delete_audience_members", audience_id, member_ids=[hits[0].id])
    check(deleted.data.deleted_count == 1, f"delete_audience_members: {deleted!r}")
    step("audience.add_audience_members, get_audience_members, search_audience_members, delete_audience_members")

    listed, _ = sdk(audiences, "list")
    rows = [(a.id, a.member_count) for a in listed.data or []]
    check(rows == [(audience_id, 2)], f"audience.list: {rows}")
    step("audience.list: memberCount 2")

    # phoneNumberIds must name the organization's own numbers: rent one first.
    numbers = client.atoms.phone_numbers
    offered = sdk(numbers, "search_rentable", country_code="US", provider="plivo")[1]["data"][0]["phoneNumber"]
    sdk(numbers, "rent", phone_number=offered, provider="plivo")
    phone_number_id = sdk(numbers, "list")[1]["data"][0]["_id"]
    scheduled = (now() + dt.timedelta(hours=1)).replace(microsecond=0)
    created, _ = sdk(
        campaigns,
        "create",
        name="SDK contract campaign",
        audience_id=audience_id,
        agent_id=agent_id,
        description="created by the SDK contract test",
        phone_number_ids=[phone_number_id],
        scheduled_at=scheduled,
        max_retries=1,
        retry_delay=15,
    )
    campaign = created.data
    campaign_id = campaign.id if campaign else None
    check(bool(campaign_id), f"campaigns.create: {created!r}")
    check(campaign.status == "scheduled" and campaign.scheduled_at == scheduled, f"campaigns.create: {campaign!r}")
    check((campaign.agent_id, campaign.audience_id) == (agent_id, audience_id), f"campaigns.create: {campaign!r}")
    check((campaign.max_retries, campaign.retry_delay) == (1, 15), f"campaigns.create: {campaign!r}")
    step(f"campaigns.create -> {campaign_id} (scheduled {scheduled.isoformat()})")

    got, _ = sdk(campaigns, "get", campaign_id)
    c = got.data.campaign
    check(c.id == campaign_id and c.status == "scheduled", f"campaigns.get: {c!r}")
    check(c.agent is not None and c.audience is not None, f"campaigns.get: agent/audience not populated: {c!r}")
    step("campaigns.get: scheduled, agent and audience populated")

    listed, _ = sdk(campaigns, "list", page=1, offset=10, status="scheduled")
    check([x.id for x in listed.data.campaigns or []] == [campaign_id], f"campaigns.list: {listed.data!r}"[:500])
    check(listed.data.pagination.total == 1, f"campaigns.list: pagination {listed.data.pagination!r}")
    step("campaigns.list(status=scheduled)")

    started, _ = sdk(campaigns, "start_or_resume", campaign_id)
    check(started.data.campaign_id == campaign_id, f"campaigns.start_or_resume: {started!r}")
    advance(2)
    got, _ = sdk(campaigns, "get", campaign_id)
    check(got.data.campaign.status == "running", f"after start: status {got.data.campaign.status!r}")
    sdk(campaigns, "pause", campaign_id)
    advance(2)
    got, _ = sdk(campaigns, "get", campaign_id)
    check(got.data.campaign.status == "paused", f"after pause: status {got.data.campaign.status!r}")
    step("campaigns.start_or_resume -> running, pause -> paused")

    exported, _ = sdk(campaigns, "export_campaign_results_by_audience_member", campaign_id)
    check(exported.campaign == "SDK contract campaign", f"export: campaign {exported.campaign!r}")
    check(exported.total_audience_members == 2 and len(exported.data or []) == 2, f"export: {exported!r}"[:500])
    step("campaigns.export_campaign_results_by_audience_member: 2 members")

    # Both members were dialled before the pause; once those calls end nobody
    # is left, so the campaign completes and can be deleted with its audience.
    advance(120)
    got, _ = sdk(campaigns, "get", campaign_id)
    check(got.data.campaign.status == "completed", f"campaign after 120s: {got.data.campaign.status!r}")
    check(got.data.metrics.contacts_called == 2, f"campaign metrics: {got.data.metrics!r}")
    step("advance 120s: campaign completed, 2 contacts called")
    sdk_streams.campaign_logs(client, campaign_id, calls=2)

    sdk(campaigns, "delete", campaign_id)
    listed, _ = sdk(campaigns, "list")
    check(not listed.data.campaigns, f"campaigns.delete: still listed: {listed.data!r}"[:500])
    sdk(audiences, "delete_audience", audience_id)
    listed, _ = sdk(audiences, "list")
    check(not listed.data, f"audience.delete_audience: still listed: {listed.data!r}"[:500])
    step("campaigns.delete, audience.delete_audience")


# --- first contact -----------------------------------------------------------


def user_steps(client):
    """`GET /user` first, as every SDK quick start does (LIVE U1)."""
    user, raw = sdk(client.atoms.user, "get_user_details")
    keys = sorted(raw["data"])
    want = ["_id", "authProvider", "firstName", "isEmailVerified", "lastName", "organizationId", "userEmail"]
    check(keys == want, f"user.get_user_details: keys {keys}")
    org = user.data.organization_id
    check(isinstance(org, str) and len(org) == 24, f"user.get_user_details: organizationId {org!r}")
    step(f"user.get_user_details -> organization {org}")
    return org


# --- v2 versioning through the SDK's helpers -----------------------------------


def in_thread(fn):
    """Runs `fn` in a thread (the SDK helpers poll with real sleeps while the
    mock's clock stands still); returns `join()`, which gives its result or
    re-raises its error."""
    box = {}

    def run():
        try:
            box["value"] = fn()
        except BaseException as e:  # handed to the caller by join()
            box["error"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()

    def join():
        t.join(60)
        check(not t.is_alive(), "the SDK helper did not return within 60 s")
        if "error" in box:
            raise box["error"]
        return box["value"]

    return join


def last_seq():
    return admin("GET", "/journal?limit=0")["lastSeq"]


def settle_publish(join, agent_id, branch_id, since, status=202):
    """Waits until a helper's publish of the branch draft has been answered
    (request journal) with `status`, then moves the clock past its security
    scan (202 `scanning`; a 200 `committed` needs no scan: R086)."""
    path = f"/agent/{agent_id}/branches/{branch_id}/draft/publish"
    query = f"since={since}&apiKey={KEY}&method=POST&pathPrefix={path}&timeoutMs=30000"
    try:
        entry = admin("GET", f"/journal/wait?{query}")
    except ContractFailure:
        join()  # the helper's own error explains a publish that never came
        raise
    check(entry["response"]["status"] == status, f"publish answered {entry['response']['status']}, not {status}")
    if status == 202:
        advance(SECURITY_CHECK_SECS)


def v2_steps(client, organization):
    """A v2 client on its own agent: the branch model, on the same server and key as the v1 flow (LIVE V1)."""
    agents = client.atoms.agents
    created, _ = sdk(agents, "create_agent", name="SDK v2 agent", language={"switching": {"isEnabled": False}})
    agent_id = created.data
    got, _ = sdk(agents, "get_agent", agent_id)
    check(got.data.organization == organization, f"get_agent: organization {got.data.organization!r} != {organization!r}")
    v = Versioning(client)

    listed, _ = sdk(v.branches, "list", agent_id)
    entries = listed.data.branches or []
    check(len(entries) == 1 and entries[0].is_live and entries[0].branch.is_default, f"branches.list: {listed.data!r}"[:500])
    main_id = entries[0].branch.id
    step(f"agent_versioning_branches.list -> Main {main_id} (the agent is now on the branch model)")

    since = last_seq()
    job = in_thread(lambda: v.edit_and_publish(
        agent_id, main_id, label="sdk v2 first", first_message="v2 hello", global_prompt="Be brief.",
        poll_interval=0.05, timeout=30,
    ))
    settle_publish(job, agent_id, main_id, since)
    first = job()
    check(first.status == "published" and first.revision_number == 2, f"edit_and_publish: {first!r}"[:500])
    step(f"Versioning.edit_and_publish -> revision {first.revision_number} published")

    # LIVE V2: right after a publish the branch still has its draft document.
    draft, _ = sdk(v.branches, "get_draft", agent_id, main_id)
    expected = draft.data.latest.draft_revision
    check(expected == 1, f"get_draft right after a publish: draftRevision {expected!r}")
    since = last_seq()
    job = in_thread(lambda: v.edit_and_publish(
        agent_id, main_id, label="sdk v2 second", expected_revision=expected, first_message="v2 hello again",
        poll_interval=0.05, timeout=30,
    ))
    settle_publish(job, agent_id, main_id, since)
    second = job()
    check(second.status == "published" and second.revision_number == 3, f"edit_and_publish: {second!r}"[:500])
    got, _ = sdk(agents, "get_agent", agent_id)
    resolved = got.data.resolved_config
    check(resolved.first_message == "v2 hello again" and resolved.global_prompt == "Be brief.", f"{resolved!r}"[:500])
    check(got.data.active_version_id == second.id, f"activeVersionId {got.data.active_version_id!r}")
    step(f"get_draft -> draftRevision {expected}; edit_and_publish(expected_revision={expected}) -> revision 3 live")

    try:
        v.update_draft(agent_id, main_id, expected_revision=expected, first_message="stale edit")
        raise ContractFailure("update_draft with a stale expected_revision did not conflict")
    except DraftConflictError as e:
        check("firstMessage" in (e.fields or [d.get("path") for d in e.diffs]), f"DraftConflictError: {e.conflict!r}")
    step("Versioning.update_draft with a stale expected_revision raises DraftConflictError")

    e = expect_error(
        client.atoms.agent_versioning_drafts, "create_draft", ConflictError, 409, "versioning_v2_migration_required",
        agent_id, source_version_id=second.id,
    )
    step(f"agent_versioning_drafts.create_draft on the v2 agent raises ConflictError {e.body.get('error_type')!r}")

    tools = AgentTools(api_key=KEY, base_url=BASE, poll_interval=0.05, publish_timeout=30)
    since = last_seq()
    job = in_thread(lambda: tools.add_transfer_call(
        agent_id, number="+15551234567", transfer_type="warm_transfer", on_hold_music="relaxing_sound",
    ))
    settle_publish(job, agent_id, main_id, since)
    written = job()
    check(written.name == "transfer_call", f"add_transfer_call: {written!r}")
    live = tools.get_tools(agent_id)
    found = [t for t in live if getattr(t, "name", None) == "transfer_call"]
    check(len(found) == 1, f"get_tools: {live!r}"[:500])
    t = found[0]
    check(t.transfer_number == "+15551234567" and t.transfer_option.type == "warm_transfer", f"get_tools: {t!r}"[:500])
    check(t.on_hold_music == "relaxing_sound", f"get_tools: onHoldMusic {t.on_hold_music!r}")
    got, _ = sdk(agents, "get_agent", agent_id)
    check(got.data.resolved_config.first_message == "v2 hello again", "AgentTools kept the prompt and first message")
    step("AgentTools.add_transfer_call (draft, publish, make live) -> get_tools reads it from workflow_tools")


def main():
    print(f"atoms-mock SDK contract against {BASE}", flush=True)
    client = SmallestAI(
        api_key=KEY,
        environment=SmallestAIEnvironment(atoms=BASE, waves=ROOT, waves_ws=ROOT, payment=ROOT),
    )
    record_calls(client)
    try:
        organization = user_steps(client)
        agent_id, active_version = agent_steps(client)
        version_id = versioning_steps(client, agent_id, active_version)
        v2_steps(client, organization)
        webhook_steps(client, agent_id)
        call_steps(client, agent_id, version_id)
        campaign_steps(client, agent_id)
        analytics_steps(client, agent_id)
        dnc_concurrency_steps(client, agent_id)
        __import__("sdk_account").account_steps(client, sys.modules[__name__])
        sdk_knowledge.steps(client, agent_id, version_id, sys.modules[__name__])
        sdk_branches.steps(client)
        sdk_streams.live_events(client, agent_id)
        with tempfile.TemporaryDirectory() as tmp:
            sdk_helpers.steps(client, pathlib.Path(tmp))
        missing = uncalled(client)
        check(not missing, f"{len(missing)} SDK methods no step calls: {missing}")
        step(f"all {len(set(CALLED))} generated SDK methods called")
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
