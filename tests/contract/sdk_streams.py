"""SDK contract steps for the two streamed answers: the live events of a
call (`client.atoms.live_transcripts.subscribe_to_live_events`, SSE,
BEHAVIOR R127) and a campaign's call log (`client.atoms.campaigns
.export_campaign_logs`, CSV, R176).

`live_events` runs from `sdk_contract.py`'s `main()`; `campaign_logs` from
its campaign steps while the campaign still exists. The SDK's iterators are
read to the end: a stream that never ends fails the join's timeout. The
helpers (`sdk`, `check`, `admin`, ...) are the running script's own.
"""

import csv
import io

import __main__ as contract  # sdk_contract.py, the script that runs these steps
from smallestai.atoms import BadRequestError


def live_events(client, agent_id):
    """Subscribes before the call starts, then moves the clock through the
    call: every event arrives live, in order, and the stream ends after
    `sse_close`."""
    check, sdk, step = contract.check, contract.sdk, contract.step
    placed, _ = sdk(client.atoms.calls, "start_outbound_call", agent_id=agent_id, phone_number="+14155550131")
    call_id = placed.data.conversation_id

    since = contract.last_seq()
    job = contract.in_thread(lambda: list(client.atoms.live_transcripts.subscribe_to_live_events(call_id=call_id)))
    query = f"since={since}&apiKey={contract.KEY}&method=GET&pathPrefix=/events&timeoutMs=30000"
    opened = contract.admin("GET", f"/journal/wait?{query}")
    check(opened["response"]["status"] == 200, f"GET /events answered {opened['response']['status']}")
    contract.advance(60)
    events = job()

    kinds = [e.event_type for e in events]
    check(kinds[0] == "sse_init" and kinds[-1] == "sse_close", f"live events: first/last {kinds[:1]} {kinds[-1:]}")
    check(kinds.index("call_start") < kinds.index("call_end") < kinds.index("sse_close"), f"live events order: {kinds}")
    check(all(e.call_id == call_id for e in events if e.event_type not in ("sse_init", "sse_close")), "events of another call")
    said = [e.tts_text for e in events if e.event_type == "tts_completed"]
    log, _ = sdk(client.atoms.calls, "get", call_id)
    agent_turns = [t.content for t in log.data.transcript if t.role == "agent"]
    check(len(said) == len(agent_turns) and len(said) >= 1, f"tts_completed {said} vs transcript {agent_turns}")
    end = next(e for e in events if e.event_type == "call_end")
    check(end.metadata["call_status"] == log.data.status == "completed", f"call_end metadata {end.metadata!r}")
    step(f"live_transcripts.subscribe_to_live_events: {len(events)} events live, sse_init … call_end … sse_close")


def campaign_logs(client, campaign_id, calls):
    """The campaign's CSV: a header and one row per call attempt (`calls`)."""
    check, step = contract.check, contract.step
    campaigns = client.atoms.campaigns
    body = b"".join(campaigns.export_campaign_logs(campaign_id)).decode()
    rows = list(csv.reader(io.StringIO(body)))
    check(len(rows) == 1 + calls, f"export_campaign_logs: {len(rows) - 1} rows, expected {calls}:\n{body[:800]}")
    check(all(len(r) == len(rows[0]) for r in rows), f"export_campaign_logs: ragged rows:\n{body[:800]}")
    try:
        b"".join(campaigns.export_campaign_logs("0" * 24))  # a streamed answer raises while it is read
        raise contract.ContractFailure("export_campaign_logs of an unknown campaign raised nothing")
    except BadRequestError as err:
        e = err
        check("no campaign found" in str(e.body), f"export_campaign_logs(unknown): {e.body!r}")
    step(f"campaigns.export_campaign_logs: header {rows[0][:4]}…, {calls} rows; unknown id raises {e.body!r}"[:300])
