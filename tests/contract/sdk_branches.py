"""SDK contract steps for the v2 branch and revision operations the helper
flow of `sdk_contract.py` does not reach: `create_branch`, `rename`,
`publish_draft` / `cancel_publish`, `discard_draft`, `make_live`, `test_call` and `archive`
on `client.atoms.agent_versioning_branches`, and `list`, `get`,
`get_history`, `diff` and `restore` on `client.atoms.agent_versioning_revisions`
(BEHAVIOR R080–R099).

Called from `sdk_contract.py`'s `main()`, on an agent of its own. Publishes
go through the mock's security scan, which passes `SECURITY_CHECK_SECS`
after the publish on the virtual clock; the helpers (`sdk`, `check`,
`advance`, ...) are the running script's own.
"""

import __main__ as contract  # sdk_contract.py, the script that runs these steps
from smallestai.atoms import ConflictError, ForbiddenError, NotFoundError


def steps(client):
    check, sdk, step = contract.check, contract.sdk, contract.step
    agents = client.atoms.agents
    branches = client.atoms.agent_versioning_branches
    revisions = client.atoms.agent_versioning_revisions

    agent_id = sdk(agents, "create_agent", name="SDK branches agent")[0].data
    listed, _ = sdk(branches, "list", agent_id)
    main = listed.data.branches[0].branch
    check(main.name == "Main" and main.is_default and main.head_revision_id, f"branches.list: {main!r}")

    created, _ = sdk(branches, "create_branch", agent_id, source_branch_id=main.id, name="feature")
    feature = created.data
    check(feature.name == "feature" and not feature.is_default, f"create_branch: {feature!r}")
    check(feature.source_branch_id == main.id and feature.source_revision_id == main.head_revision_id, f"{feature!r}")
    e = contract.expect_error(
        branches, "create_branch", ConflictError, 409, "branch_name_exists", agent_id, source_branch_id=main.id, name="feature"
    )
    step(f"branches.create_branch -> {feature.id} forked from Main's head; a taken name raises {e.body.get('error_type')!r}")

    renamed, _ = sdk(branches, "rename", agent_id, feature.id, name="feature-2")
    check(renamed.data.name == "feature-2", f"rename: {renamed.data!r}")
    got, _ = sdk(branches, "get", agent_id, feature.id)
    check(got.data.branch.name == "feature-2" and not got.data.is_live, f"branches.get after rename: {got.data!r}"[:500])
    step("branches.rename -> feature-2 (branches.get reads it back)")

    # A publish scans; cancelling it leaves the branch as it was and the draft open.
    sdk(branches, "update_draft", agent_id, feature.id, first_message="Hello from the feature branch.")
    _, raw = sdk(branches, "publish_draft", agent_id, feature.id, label="first try")
    check(raw["data"].get("state") == "scanning", f"publish_draft: {raw!r}"[:500])
    sdk(branches, "cancel_publish", agent_id, feature.id)
    contract.advance(contract.SECURITY_CHECK_SECS)
    got, _ = sdk(branches, "get", agent_id, feature.id)
    check(got.data.branch.head_revision_id == feature.head_revision_id, f"cancelled publish moved the head: {got.data!r}"[:500])
    check(got.data.has_open_draft, f"cancel_publish closed the draft: {got.data!r}"[:500])
    step("branches.publish_draft -> scanning; cancel_publish: head unchanged, draft still open")

    sdk(branches, "discard_draft", agent_id, feature.id)
    got, _ = sdk(branches, "get", agent_id, feature.id)
    check(not got.data.has_open_draft, f"discard_draft left a draft open: {got.data!r}"[:500])
    e = contract.expect_error(branches, "get_draft", NotFoundError, 404, "Draft not found", agent_id, feature.id)
    step(f"branches.discard_draft: no open draft; get_draft raises {e.body!r} (R085, R084)")

    sdk(branches, "update_draft", agent_id, feature.id, first_message="Hello from the feature branch.")
    first = publish(client, agent_id, feature.id, "first")
    sdk(branches, "update_draft", agent_id, feature.id, first_message="Hello again from the feature branch.")
    second = publish(client, agent_id, feature.id, "second")
    check(second.revision_number == first.revision_number + 1, f"revision numbers {first.revision_number}, {second.revision_number}")
    listed, _ = sdk(revisions, "list", agent_id, feature.id)
    ids = [r.id for r in listed.data.revisions if r.status == "published"]
    check(ids[:2] == [second.id, first.id], f"revisions.list (newest first): {ids}")
    got, _ = sdk(revisions, "get", agent_id, feature.id, first.id)
    r = got.data.revision
    check(r.id == first.id and r.label == "first", f"revisions.get: {r!r}"[:500])
    step(f"publish twice -> revisions {first.revision_number}, {second.revision_number}; revisions.list, revisions.get")

    history, raw = sdk(revisions, "get_history", agent_id, feature.id, second.id)
    trail = [t["revision"]["_id"] for t in raw["data"]["trail"]]
    check(raw["data"]["revision"]["_id"] == second.id, f"get_history: revision {raw['data']['revision']['_id']!r}")
    check(first.id in trail and second.id not in trail, f"get_history (R093): trail {trail} lacks the earlier {first.id}")
    diff, raw = sdk(revisions, "diff", agent_id, a=first.id, b=second.id)
    paths = [c["path"] for d in raw["data"]["diffs"] for c in d["changes"]]
    check("firstMessage" in paths, f"revisions.diff {first.id}..{second.id}: {raw['data']!r}"[:500])
    step(f"revisions.get_history; revisions.diff -> {paths}")

    restored, raw = sdk(revisions, "restore", agent_id, feature.id, first.id)
    contract.advance(contract.SECURITY_CHECK_SECS)
    listed, _ = sdk(revisions, "list", agent_id, feature.id)
    head = listed.data.revisions[0]
    check(head.revision_number == second.revision_number + 1, f"restore: head {head!r}"[:500])
    check(head.restored_from_revision_id == first.id, f"restore: restoredFromRevisionId {head.restored_from_revision_id!r}")
    step(f"revisions.restore({first.revision_number}) -> revision {head.revision_number} at the head")

    live, _ = sdk(branches, "make_live", agent_id, feature.id)
    got, _ = sdk(agents, "get_agent", agent_id)
    check(got.data.active_version_id == head.id, f"make_live: activeVersionId {got.data.active_version_id!r} != {head.id!r}")
    e = contract.expect_error(branches, "archive", ForbiddenError, 403, "live branch", agent_id, feature.id)
    step(f"branches.make_live -> the agent serves {head.id}; archiving the live branch raises {e.body!r}"[:300])

    call, raw = sdk(branches, "test_call", agent_id, feature.id, mode="webcall")
    check(str(raw["data"].get("callId", "")).startswith("CALL-"), f"test_call: {raw!r}"[:500])
    step(f"branches.test_call(mode=webcall) -> {raw['data']['callId']}")

    sdk(branches, "make_live", agent_id, main.id)
    sdk(branches, "archive", agent_id, feature.id)
    listed, _ = sdk(branches, "list", agent_id)
    check([b.branch.id for b in listed.data.branches] == [main.id], f"archived branch still listed: {listed.data!r}"[:500])
    step("branches.make_live(Main), archive(feature-2): no longer listed")


def publish(client, agent_id, branch_id, label):
    """Publishes the branch's draft (202 `scanning`, no revision yet: R086)
    and moves the clock past its scan; returns the committed head revision."""
    sdk, check = contract.sdk, contract.check
    _, raw = sdk(client.atoms.agent_versioning_branches, "publish_draft", agent_id, branch_id, label=label)
    check(raw["data"].get("state") == "scanning" and "revision" not in raw["data"], f"publish_draft: {raw!r}"[:500])
    contract.advance(contract.SECURITY_CHECK_SECS)
    got, _ = sdk(client.atoms.agent_versioning_branches, "get", agent_id, branch_id)
    head = got.data.branch.head_revision_id
    revision, _ = sdk(client.atoms.agent_versioning_revisions, "get", agent_id, branch_id, head)
    r = revision.data.revision
    check(r.status == "published" and r.label == label, f"head after the scan (R087): {r!r}"[:500])
    return r
