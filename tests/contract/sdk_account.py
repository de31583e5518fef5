"""SDK contract steps for the account half: `client.atoms.user.get_subscription`,
`.account`, `.billing` (the SDK's `payment` base URL), `.phone_numbers` and
`.compliance`. Every method of those namespaces is called through the SDK and
its raw answer validated strictly against the SDK's own model (`h.sdk`).

`h` is the `sdk_contract` module: its `sdk`, `check`, `step`, `expect_error`
and `admin` helpers and the SDK error classes.
"""

import json


def account_steps(client, h):
    user, account, billing, numbers = client.atoms.user, client.atoms.account, client.atoms.billing, client.atoms.phone_numbers

    sub, raw = h.sdk(user, "get_subscription")
    check_plan = raw["data"]
    h.check(check_plan["planId"] == "plan_standard", f"user.get_subscription: planId {check_plan['planId']!r}")
    h.check(check_plan["features"]["telephony"] is True, f"user.get_subscription: features {check_plan['features']}")
    h.step(f"user.get_subscription -> {check_plan['planId']}, {check_plan['currentCredits']} credits")

    details, raw = h.sdk(account, "get_account_details")
    h.check(raw["organizations"], f"account.get_account_details: no organizations: {raw}")
    h.sdk(account, "update_organization_name", name="SDK contract org")
    details, raw = h.sdk(account, "get_account_details")
    h.check(raw["organizations"][0]["name"] == "SDK contract org", f"account: rename not applied: {raw}")
    h.step("account.get_account_details / update_organization_name")

    found, raw = h.sdk(numbers, "search_rentable", country_code="US", provider="plivo")
    h.check(raw["data"], f"phone_numbers.search_rentable: nothing on offer: {raw}")
    number = raw["data"][0]["phoneNumber"]
    h.sdk(numbers, "preview_prorated_rental_cost_for_renting_a_phone_number_today")
    before = h.sdk(billing, "get_balance")[1]["data"]["creditBalance"]
    h.sdk(numbers, "rent", phone_number=number, provider="plivo")
    listed = h.sdk(numbers, "list")[1]["data"]
    mine = [p for p in listed if p["attributes"]["phoneNumber"].lstrip("+") == number.lstrip("+")]
    h.check(len(listed) == 2 and len(mine) == 1, f"phone_numbers.list (the campaign's and this one): {listed}")
    product_id = mine[0]["_id"]
    h.step(f"phone_numbers.search_rentable / rent / list -> {number} as {product_id}")

    imported = h.sdk(numbers, "import_sip", phone_number="+15550009999", sip_termination_url="sip:trunk.example.invalid")[1]
    h.check(imported["data"]["productType"] == "custom", f"phone_numbers.import_sip: {imported}")
    every = h.sdk(numbers, "list_all_phone_numbers_platform_sip")[1]["data"]
    h.check(len(every["telephonyProducts"]) == 2 and len(every["customProducts"]) == 1, f"all numbers: {every}")
    h.sdk(numbers, "get_stripe_customer_portal_url")
    unpaid = h.sdk(numbers, "check_whether_the_organization_has_unpaid_invoices")[1]["data"]
    h.check(unpaid == {"paymentRequired": False}, f"unpaid invoices: {unpaid}")
    h.sdk(numbers, "release", product_id=product_id)
    h.step("phone_numbers.import_sip / list_all / portal / unpaid invoices / release")

    balance = h.sdk(billing, "get_balance")[1]["data"]["creditBalance"]
    h.check(balance < before, f"billing.get_balance: the rental was not charged ({before} -> {balance})")
    h.admin("POST", f"/credits?apiKey={h.KEY}", {"amount": 10})
    ledger = h.sdk(billing, "get_ledger", limit=100)[1]["data"]
    total = sum(row["amount"] for row in ledger["transactions"])
    balance = h.sdk(billing, "get_balance")[1]["data"]["creditBalance"]
    h.check(abs(total - balance) < 1e-6, f"billing.get_ledger: rows sum to {total}, balance {balance}")
    h.sdk(billing, "get_ledger", type="USAGE_DEDUCTION", scope="platform")
    h.sdk(billing, "get_usage_breakdown")
    invoices = h.sdk(billing, "list_invoices")[1]["data"]
    h.check(len(invoices) == 1, f"billing.list_invoices: {invoices}")
    pdf = h.sdk(billing, "get_invoice_pdf", invoices[0]["id"])[1]["data"]
    h.check(pdf["pdfUrl"].endswith(".pdf"), f"billing.get_invoice_pdf: {pdf}")
    h.step(f"billing: balance {balance} = sum of {len(ledger['transactions'])} ledger rows; invoice PDF")

    compliance_steps(client.atoms.compliance, h)


def compliance_steps(compliance, h):
    query = {"country_iso": "DE", "number_type": "local", "user_type": "business"}
    h.sdk(compliance, "get_compliance_status", **query)
    req = h.sdk(compliance, "get_compliance_requirements", **query)[1]["data"]
    docs = [
        {"documentTypeId": d["documentTypeId"], "dataFields": {f["fieldName"]: "filled" for f in d["requiredFields"]}}
        for d in req["documentTypes"]
    ]
    files = [(f"doc{i}.pdf", b"%PDF-1.4 contract", "application/pdf") for i in range(len(docs))]
    app = h.sdk(
        compliance,
        "submit",
        **query,
        end_user=json.dumps({"name": "Contract GmbH"}),
        documents=json.dumps(docs),
        files=files,
    )[1]["data"]
    h.check(app["status"] == "submitted", f"compliance.submit: {app}")
    app_id = app["_id"]
    h.admin("POST", f"/compliance/{app_id}?apiKey={h.KEY}", {"decision": "reject", "reason": "contract test"})
    again = h.sdk(compliance, "resubmit", app_id, documents=json.dumps(docs), files=files)[1]["data"]
    h.check(again["status"] == "submitted", f"compliance.resubmit: {again}")
    h.sdk(compliance, "refresh_compliance_application_status", app_id)
    h.step("compliance: status / requirements / submit / resubmit / refresh")
