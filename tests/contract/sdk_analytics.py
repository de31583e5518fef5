"""SDK contract steps for the Analytics tag: every method of `client.atoms.analytics`.

Called from `sdk_contract.py`'s `main()` after the call and campaign steps, so
the organization holds ended calls (completed, cancelled, campaign calls) and
perhaps live web calls, which historical figures leave out (rule A1). The
steps check that the 18 figures agree with each other and with `GET
/conversation` (`calls.list`) for the same organization, rather than
hard-coding the earlier steps' numbers. The helpers (`sdk`, `check`, ...)
are the running script's own.
"""

import __main__ as contract  # sdk_contract.py, the script that runs these steps
from smallestai.atoms import BadRequestError, NotFoundError

# The ended statuses analytics count (A1), as `GET /conversation` filters them.
ENDED = "completed,failed,no_answer,cancelled"


def analytics_steps(client, agent_id):
    check, now, sdk, step = contract.check, contract.now, contract.sdk, contract.step
    analytics = client.atoms.analytics
    today = now().date()

    summary = sdk(analytics, "get_analytics_summary")[1]["data"]
    total = summary["totalCalls"]["current"]
    check(total >= 3, f"get_analytics_summary: totalCalls {summary['totalCalls']!r}")
    listed, _ = sdk(client.atoms.calls, "list", status_filter=ENDED, call_attempt_filter="all", limit=100)
    check(listed.data.pagination.total == total, f"summary {total} != calls.list {listed.data.pagination!r}")
    answered = sdk(client.atoms.calls, "list", status_filter="completed", call_attempt_filter="all", limit=100)[0]
    pickup = round(answered.data.pagination.total * 100 / total, 2)
    check(summary["pickupRate"]["current"] == pickup, f"summary pickupRate {summary['pickupRate']!r} != {pickup}")
    step(f"analytics.get_analytics_summary: {total:g} ended calls = calls.list, pickupRate {pickup}%")

    dashboard = sdk(analytics, "get_dashboard")[1]["data"]
    check(dashboard["summary"] == summary, f"get_dashboard: summary differs: {dashboard['summary']!r}"[:500])
    outcomes = sdk(analytics, "get_call_outcomes_timeseries")[1]["data"]
    check(dashboard["callOutcomesTimeseries"] == outcomes, "get_dashboard: callOutcomesTimeseries differs")
    check(outcomes["totals"]["total"] == total, f"get_call_outcomes_timeseries: totals {outcomes['totals']!r}")
    parts = sum(outcomes["totals"][k] for k in ("answered", "noAnswer", "failed", "cancelled"))
    check(parts == total, f"get_call_outcomes_timeseries: outcomes do not partition: {outcomes['totals']!r}")
    step("analytics.get_dashboard (panels = their own operations), get_call_outcomes_timeseries")

    def summed(method, key, field, **kw):  # a figure and the sum of `field` over its rows `key`
        data = sdk(analytics, method, **kw)[1]["data"]
        return data, sum(row[field] for row in data[key])

    volume, n = summed("get_call_volume_timeseries", "dataPoints", "totalCalls")
    check(n == total and dashboard["callVolumeTimeseries"] == volume, f"get_call_volume_timeseries: {volume!r}"[:500])
    hourly, n = summed("get_hourly_performance", "hours", "totalCalls")
    check(n == total and [h["hour"] for h in hourly["hours"]] == list(range(24)), f"get_hourly_performance: {n}")
    by_day, n = summed("get_call_counts_by_day", "callCountsByDay", "count")
    check(n == total, f"get_call_counts_by_day: {by_day!r}"[:500])
    weeks, n = summed("get_weekly_trends", "weeks", "totalCalls")
    check(n == total, f"get_weekly_trends: {weeks!r}"[:500])
    cohort, n = summed("get_attempt_cohort", "cohorts", "totalCalls")
    check(n == total and cohort["cohorts"][0]["attemptNumber"] == 1, f"get_attempt_cohort: {cohort!r}"[:500])
    agents, n = summed("get_agent_performance", "agents", "totalCalls", sort_by="totalCalls", sort_order="desc")
    counts = [a["totalCalls"] for a in agents["agents"]]
    check(n == total and counts == sorted(counts, reverse=True), f"get_agent_performance: {agents!r}"[:500])
    step("analytics: volume, hourly, by-day, weekly, cohort and agent series each add up to totalCalls")

    numbers = sdk(analytics, "get_pickup_rate_by_number")[1]["data"]
    check(dashboard["pickupRateByNumber"] == numbers, f"get_pickup_rate_by_number: {numbers!r}"[:500])
    trends = sdk(analytics, "get_phone_number_trends")[1]["data"]
    lines = sorted(t["phoneNumber"] for t in trends["trends"])
    check(lines == sorted(x["phoneNumber"] for x in numbers["numbers"]), f"get_phone_number_trends: {lines}")
    durations = sdk(analytics, "get_duration_stats")[1]["data"]
    check(durations["totalCalls"] == outcomes["totals"]["answered"], f"get_duration_stats: {durations!r}"[:500])
    check(durations["totalDurationMs"] == summary["totalDurationMs"]["current"], "get_duration_stats: totalDurationMs")
    step(f"analytics.get_pickup_rate_by_number / get_phone_number_trends: lines {lines}; get_duration_stats")

    usage = sdk(analytics, "get_usage_timeseries")[1]["data"]
    # Credit usage = the calls' cost + the ledger's other usage rows (rentals, scoring).
    rows = sdk(client.atoms.billing, "get_ledger", type="USAGE_DEDUCTION", limit=100)[1]["data"]["transactions"]
    other = -sum(r["amount"] for r in rows if not r.get("callId"))
    expected = summary["totalCost"]["current"] + other
    check(abs(usage["totalCredits"] - expected) < 1e-6,
          f"get_usage_timeseries: {usage!r} vs totalCost {summary['totalCost']!r} + other usage {other}")
    step(f"analytics.get_usage_timeseries: {usage['totalCredits']} credits = summary totalCost + {other:g} other usage")

    mine = sdk(analytics, "get_analytics_summary", agent_id=agent_id, call_type="outbound")[1]["data"]
    check(1 <= mine["totalCalls"]["current"] <= total, f"summary(agent_id, outbound): {mine['totalCalls']!r}")
    e = contract.expect_error(analytics, "get_analytics_summary", BadRequestError, 400, "dateFrom: must not be after dateTo",
                    date_from=now(), date_to=now().replace(year=2000))
    step(f"analytics filters: agent + outbound -> {mine['totalCalls']['current']:g}; dateFrom > dateTo raises {e.body!r}")

    log = sdk(analytics, "get_call_counts_log", page=1, limit=100)[1]["data"]
    check(log["totalCalls"] == total == len(log["calls"]), f"get_call_counts_log: {log['totalCalls']} rows")
    done = [c for c in log["calls"] if c["callStatus"] == "completed"]
    check(done, f"get_call_counts_log: no completed call: {log['calls']!r}"[:500])
    details = sdk(analytics, "get_conversation_details", done[0]["callId"])[1]["data"]
    check(details["callId"] == done[0]["callId"] and details["transcript"], f"get_conversation_details: {details!r}"[:500])
    check(any(ev["eventType"] == "call_end" for ev in details["events"]), f"get_conversation_details: events {details['events']!r}"[:500])
    e = contract.expect_error(analytics, "get_conversation_details", NotFoundError, 404, "Call log not found", "CALL-1767225600000-000000")
    contract.expect_error(analytics, "get_conversation_details", BadRequestError, 400, "Invalid call ID format", "nope")
    step(f"analytics.get_call_counts_log ({total:g} rows), get_conversation_details; unknown call raises {e.body!r}")

    conc = sdk(analytics, "get_analytics_concurrency", date=today, include_agents="true")[1]["data"]
    check(conc["date"] == today.isoformat() and isinstance(conc.get("byAgent"), list), f"get_analytics_concurrency: {conc!r}"[:500])
    starts = sdk(analytics, "get_call_start_distribution", date=today)[1]["data"]
    check(starts["totalCalls"] == sum(p["callCount"] for p in starts["dataPoints"]), f"get_call_start_distribution: {starts!r}"[:500])
    daily = sdk(analytics, "get_daily_call_summary", date=today, agent_id=agent_id)[1]["data"]
    check(daily["date"] == today.isoformat() and daily["totalCalls"] >= 1, f"get_daily_call_summary: {daily!r}")
    step(f"analytics.get_analytics_concurrency (peak {conc['peakConcurrent']}), get_call_start_distribution, "
         f"get_daily_call_summary ({daily['totalCalls']} calls today)")

