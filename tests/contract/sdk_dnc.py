"""SDK contract steps for the DNC and Concurrency tags: every method of
`client.atoms.dnc` and `client.atoms.concurrency`.

Called from `sdk_contract.py`'s `main()` after the call and campaign steps.
Entries reach the Do-Not-Call list through the control API's manual upload
(`POST /_admin/dnc`), as the platform has no public write; the key's role is
switched through `PUT /_admin/access` to see the admin check. The helpers
(`sdk`, `check`, `admin`, ...) are the running script's own.
"""

import __main__ as contract  # sdk_contract.py, the script that runs these steps
from smallestai.atoms import BadRequestError, NotFoundError
from smallestai.core.api_error import ApiError

# Numbers no other step dials.
AGENT_NUMBER = "+15551000091"
ORG_NUMBER = "+15551000092"


def dnc_concurrency_steps(client, agent_id):
    dnc_steps(client, agent_id)
    concurrency_steps(client, agent_id)


def dnc_steps(client, agent_id):
    check, sdk, step, admin = contract.check, contract.sdk, contract.step, contract.admin
    dnc, key = client.atoms.dnc, contract.KEY

    empty, _ = sdk(dnc, "list")
    check(empty.data.entries == [] and empty.data.pagination.total == 0, f"dnc.list on a fresh key: {empty!r}")
    added = admin("POST", f"/dnc?apiKey={key}", {"phoneNumbers": [AGENT_NUMBER], "agentId": agent_id})
    check(added == {"added": 1, "skipped": 0}, f"POST /_admin/dnc (agent): {added!r}")
    added = admin("POST", f"/dnc?apiKey={key}", {"phoneNumbers": [ORG_NUMBER[1:]]})
    check(added == {"added": 1, "skipped": 0}, f"POST /_admin/dnc (organization): {added!r}")

    listed, raw = sdk(dnc, "list")
    rows = [(e.phone_number, e.agent_id, e.source) for e in listed.data.entries]
    check(rows == [(ORG_NUMBER, None, "manual_upload"), (AGENT_NUMBER, agent_id, "manual_upload")], f"dnc.list: {rows}")
    check("agentId" not in raw["data"]["entries"][0], f"an org-wide entry has no agentId: {raw['data']['entries'][0]!r}")
    step("dnc.list: two manual uploads, newest first, the org-wide one without agentId")

    scoped, _ = sdk(dnc, "list", agent_id=agent_id)
    check([e.phone_number for e in scoped.data.entries] == [AGENT_NUMBER], f"dnc.list(agent_id): {scoped!r}")
    found, _ = sdk(dnc, "list", search=ORG_NUMBER[-4:])
    check([e.phone_number for e in found.data.entries] == [ORG_NUMBER], f"dnc.list(search): {found!r}")
    sorted_, _ = sdk(dnc, "list", sort_field="phoneNumber", sort_order="asc", page="2", offset="1")
    page = sorted_.data.pagination
    check([e.phone_number for e in sorted_.data.entries] == [ORG_NUMBER], f"dnc.list(page 2): {sorted_!r}")
    check((page.page, page.offset, page.total, page.total_pages, page.has_more) == (2, 1, 2, 2, False), f"{page!r}")
    step("dnc.list: agent_id scope, search, sort by phoneNumber, page 2 of 2")

    e = contract.expect_error(dnc, "list", BadRequestError, 400, "Invalid agent id", agent_id="nope")
    contract.expect_error(dnc, "list", NotFoundError, 404, "Resource not found", agent_id="0" * 24)
    step(f"dnc.list: a malformed agent id raises BadRequestError {e.body!r}; an unknown one NotFoundError")

    calls = client.atoms.calls
    placed, _ = sdk(calls, "start_outbound_call", agent_id=agent_id, phone_number=AGENT_NUMBER)
    call_id = placed.data.conversation_id
    contract.advance(1)
    log, raw = sdk(calls, "get", call_id)
    check(log.data.status == "failed", f"a listed number is not dialled: {log.data!r}"[:500])
    check("Do-Not-Call" in (raw["data"].get("callFailureReason") or ""), f"call failure reason: {raw['data']!r}"[:500])
    step(f"calls.start_outbound_call to a listed number -> {call_id} failed without dialling")
    admin("DELETE", f"/dnc?apiKey={key}")


def concurrency_steps(client, agent_id):
    check, sdk, step, admin = contract.check, contract.sdk, contract.step, contract.admin
    concurrency, key = client.atoms.concurrency, contract.KEY

    got, _ = sdk(concurrency, "get_concurrency")
    limit = got.data.org_limit
    check(got.data.agents == [] and got.data.unreserved_pool == limit, f"get_concurrency: {got.data!r}")
    item = {"agent_id": agent_id, "webcall": 0, "outbound": 1, "inbound": 0, "chat": 1}
    updated, _ = sdk(concurrency, "update_concurrency_reservations", reservations=[item])
    check(updated.data.updated == 1, f"update_concurrency_reservations: {updated!r}")
    got, _ = sdk(concurrency, "get_concurrency")
    row = got.data.agents[0] if got.data.agents else None
    check(row is not None and (row.agent_id, row.outbound, row.chat) == (agent_id, 1, 1), f"{got.data!r}")
    check((got.data.total_reserved, got.data.unreserved_pool) == (2, limit - 2), f"get_concurrency: {got.data!r}")
    step(f"concurrency.update_concurrency_reservations, get_concurrency: 2 of {limit:g} slots reserved")

    admin("PUT", f"/access?apiKey={key}", {"role": "member"})
    e = contract.expect_error(concurrency, "update_concurrency_reservations", ApiError, 403, "Admin role required",
                              reservations=[item])
    admin("PUT", f"/access?apiKey={key}", {"role": "owner"})
    too_many = dict(item, outbound=limit + 1)
    contract.expect_error(concurrency, "update_concurrency_reservations", BadRequestError, 400, "exceeds",
                          reservations=[too_many])
    zeros = dict(item, outbound=0, chat=0)
    sdk(concurrency, "update_concurrency_reservations", reservations=[zeros])
    got, _ = sdk(concurrency, "get_concurrency")
    check(got.data.agents == [] and got.data.total_reserved == 0, f"all zeros removes the agent: {got.data!r}")
    step(f"concurrency: a member key gets {e.status_code}, over the limit 400, all zeros removes the reservation")
