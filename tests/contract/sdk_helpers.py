"""SDK contract steps for the SDK's hand-written helpers
(`smallestai.atoms.helpers`): `Audience`, `CallAnalytics`, `Campaign`, `KB`
and `AgentTools.remove_tool`. Unlike the generated clients they send their
own paths, query names and bodies with `requests` (a CSV built from
`firstName,lastName,phoneNumber`, `agentIds`/`campaignIds` filters,
`limit` on `GET /campaign`, a PDF upload, `Campaign.stop`), so they can
disagree with the mock where the generated clients agree.

Called from `sdk_contract.py`'s `main()`. Left out on purpose: `Secrets`
(`/secret`), `Tools` (`/tool`) and `MultiAgent` (`workflowType:
multi_agents`, a `playbooks` config section) use routes and values that no
reference the mock follows describes (not in the spec, BEHAVIOR, LIVE or the
docs pages), so the mock does not serve them (404, and 400 for the
workflow type); `CallAnalytics.get_post_call_config`/`set_post_call_config`
call `/agent/{id}/post-call-analytics`: BEHAVIOR R215 says there is no
standalone endpoint (the spec, the newest source, has none; the post-call
metrics guide says so; the older analytics guide shows the helper, L-K2):
404, checked below. `KB.add_text` calls `items/upload-text`,
which the helper itself expects may be missing and handles: it gets 404.
The helpers (`check`, `sdk`, ...) are the running script's own.
"""

import __main__ as contract  # sdk_contract.py, the script that runs these steps
import requests
from smallestai.atoms.helpers import KB, AgentTools, Audience, CallAnalytics, Campaign

# A minimal PDF: the KB helper uploads files as application/pdf.
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def steps(client, tmp_dir):
    check, step = contract.check, contract.step
    base, key = contract.BASE, contract.KEY
    agent_id = contract.sdk(client.atoms.agents, "create_agent", name="SDK helpers agent")[0].data

    audiences = Audience(base_url=base, api_key=key)
    created = audiences.create(
        name="Helper audience", phone_numbers=["+15551000201", "+15551000202"], names=[("Ann", "Lee"), ("Bob", "Ray")]
    )
    audience_id = created["data"]["_id"]
    audiences.add_contacts(audience_id, phone_numbers=["+15551000203"], names=[("Cid", "Moe")])
    members = audiences.get_members(audience_id)["data"]["members"]
    rows = sorted((m["data"]["firstName"], m["data"]["phoneNumber"]) for m in members)
    check(rows == [("Ann", "+15551000201"), ("Bob", "+15551000202"), ("Cid", "+15551000203")], f"get_members: {rows}")
    check(audiences.get(audience_id)["data"]["name"] == "Helper audience", "Audience.get")
    check(audience_id in [a["_id"] for a in audiences.list()["data"]], "Audience.list")
    step("Audience.create (CSV built by the helper), add_contacts, get_members, get, list")

    numbers = client.atoms.phone_numbers
    offered = contract.sdk(numbers, "search_rentable", country_code="US", provider="plivo")[1]["data"][0]["phoneNumber"]
    contract.sdk(numbers, "rent", phone_number=offered, provider="plivo")
    phone_id = next(n["_id"] for n in contract.sdk(numbers, "list")[1]["data"] if n["attributes"]["phoneNumber"].endswith(offered[-10:]))
    campaigns = Campaign(base_url=base, api_key=key)
    campaign_id = campaigns.create(
        name="Helper campaign", agent_id=agent_id, audience_id=audience_id, phone_ids=[phone_id], max_retries=0
    )["data"]["_id"]
    check(campaigns.get(campaign_id)["data"]["campaign"]["status"] == "draft", "Campaign.get after create")
    check(campaign_id in [c["_id"] for c in campaigns.list()["data"]["campaigns"]], "Campaign.list")
    campaigns.start(campaign_id)
    contract.advance(1)
    check(campaigns.get(campaign_id)["data"]["campaign"]["status"] == "running", "Campaign.start -> running")
    campaigns.stop(campaign_id)
    contract.advance(120)
    got = campaigns.get(campaign_id)["data"]
    check(got["campaign"]["status"] == "completed", f"Campaign.stop -> {got['campaign']['status']!r}")
    actions = [e["eventAction"] for e in got["events"]]
    check(actions == ["campaign_started", "campaign_stopped", "campaign_completed"], f"campaign events {actions}")
    step(f"Campaign.create, get, list, start, stop -> completed ({', '.join(actions)})")

    calls = CallAnalytics(base_url=base, api_key=key)
    listed = calls.get_calls(agent_id=agent_id, campaign_id=campaign_id, status="completed", call_type="telephony_outbound")
    logs = listed["data"]["logs"]
    check(len(logs) == 3 and all(x["campaignId"] == campaign_id for x in logs), f"get_calls: {listed['data']!r}"[:500])
    one = calls.get_call(logs[0]["callId"])["data"]
    check(one["callId"] == logs[0]["callId"] and one["status"] == "completed", f"get_call: {one!r}"[:300])
    found = calls.search_calls([x["callId"] for x in logs])["data"]
    check(found["total"] == 3, f"search_calls: {found!r}"[:300])
    try:
        calls.get_post_call_config(agent_id)
        raise contract.ContractFailure("GET /agent/{id}/post-call-analytics answered, but R215 says it does not exist")
    except requests.HTTPError as e:
        check(e.response.status_code == 404, f"get_post_call_config: HTTP {e.response.status_code}")
    step("CallAnalytics.get_calls (agentIds, campaignIds, statusFilter, callTypes), get_call, search_calls; "
         "post-call config: 404 (R215)")

    campaigns.delete(campaign_id)
    audiences.delete(audience_id)
    check(audience_id not in [a["_id"] for a in audiences.list()["data"]], "Audience.delete")
    step("Campaign.delete, Audience.delete")

    pdf = tmp_dir / "guide.pdf"
    pdf.write_bytes(PDF)
    kb = KB(base_url=base, api_key=key)
    kb_id = kb.create(name="Helper KB", description="from the KB helper", file_paths=[str(pdf)],
                      urls=["https://example.com/a"], text="Opening hours are 9 to 5.")["data"]["_id"]
    check(kb.get(kb_id)["data"]["name"] == "Helper KB", "KB.get")
    check(kb_id in [k["_id"] for k in kb.list()["data"]], "KB.list")
    kb.add_file(kb_id, str(pdf))
    kb.add_url(kb_id, "https://example.com/b")
    scraped = sorted(u["url"] for u in kb.get_scraped_urls(kb_id)["data"])
    check(scraped == ["https://example.com/a", "https://example.com/b"], f"get_scraped_urls: {scraped}")
    items = kb.get_items(kb_id)["data"]
    check(len(items) >= 2, f"get_items: {items!r}"[:500])
    kb.delete_item(kb_id, items[0]["_id"])
    check(len(kb.get_items(kb_id)["data"]) == len(items) - 1, "KB.delete_item")
    kb.delete(kb_id)
    check(kb_id not in [k["_id"] for k in kb.list()["data"]], "KB.delete")
    step("KB.create (PDF, URL, text: the helper's own 404 fallback), get, list, add_file, add_url, "
         "get_scraped_urls, get_items, delete_item, delete")

    tools = AgentTools(api_key=key, base_url=base, poll_interval=0.05, publish_timeout=30)
    # The removal brings back content that already passed a scan, so its
    # publish commits at once (200, R086) where the addition scans (202).
    for action, status in ((lambda: tools.add_transfer_call(agent_id, number="+15551234567"), 202),
                           (lambda: tools.remove_tool(agent_id, "transfer_call"), 200)):
        since = contract.last_seq()
        job = contract.in_thread(action)
        branch_id = contract.sdk(client.atoms.agent_versioning_branches, "list", agent_id)[0].data.branches[0].branch.id
        contract.settle_publish(job, agent_id, branch_id, since, status)
        job()
    check(tools.get_tools(agent_id) == [], f"remove_tool: {tools.get_tools(agent_id)!r}")
    step("AgentTools.add_transfer_call then remove_tool: no tools left")
