//! The account half of the platform: plan and limits (`GET
//! /user/subscription`, `/_admin/plan`), the credit ledger under
//! `/payment/v1` (balance = sum of the ledger after calls, rentals and a
//! top-up), phone numbers (`/product/*`), invoices and compliance.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::call_helpers::{agent, outbound, outbound_reply, run_to_end};
use crate::helpers::{Reply, TestServer};

const KEY: &str = "sk_account";

/// `GET /payment/v1/…` with `key`.
async fn payment(s: &TestServer, path: &str, key: &str) -> Reply {
    s.raw(Method::GET, &format!("{}/payment/v1{path}", s.root()), Some(key), None).await
}

/// Every ledger row of `key` (one page of up to 100, window: the last 7
/// days of the clock).
async fn ledger(s: &TestServer, key: &str) -> Vec<Value> {
    let r = payment(s, "/credits/ledger?limit=100", key).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["data"]["transactions"].as_array().expect("transactions").clone()
}

async fn balance(s: &TestServer, key: &str) -> f64 {
    let r = payment(s, "/credits/balance", key).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["data"]["creditBalance"].as_f64().expect("creditBalance")
}

/// The ledger's amounts add up to the balance, and every `balanceAfter`
/// is the running sum (oldest first).
async fn assert_ledger_is_the_balance(s: &TestServer, key: &str) {
    let rows = ledger(s, key).await;
    let mut running = 0.0;
    for row in rows.iter().rev() {
        running += row["amount"].as_f64().expect("amount");
        assert!((row["balanceAfter"].as_f64().expect("balanceAfter") - running).abs() < 1e-6, "{row}");
    }
    assert!((balance(s, key).await - running).abs() < 1e-6, "balance = sum of the ledger");
}

/// Searches the inventory (`country`, plivo) and rents the first number
/// offered; returns the rented product's id.
pub(crate) async fn rent_number(s: &TestServer, key: &str, country: &str) -> String {
    let found = s.get(&format!("/product/get-available-numbers?countryCode={country}&provider=plivo"), key).await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.text);
    let number = found.body["data"][0]["phoneNumber"].as_str().expect("a number on offer").to_string();
    let r = s.post("/product/rent-number", key, json!({"phoneNumber": number, "provider": "plivo"})).await;
    assert_eq!((r.status, &r.body["data"]), (StatusCode::OK, &json!({"requiresAction": false})), "{}", r.text);
    let list = s.get("/product/phone-numbers", key).await;
    let item = list.body["data"]
        .as_array()
        .expect("list")
        .iter()
        .find(|p| p["attributes"]["phoneNumber"].as_str().is_some_and(|n| n.trim_start_matches('+') == number));
    item.and_then(|p| p["_id"].as_str()).expect("rented number listed").to_string()
}

#[tokio::test]
async fn the_subscription_reports_the_default_plan_and_the_balance() {
    let s = TestServer::start().await;
    let r = s.get("/user/subscription", KEY).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let d = &r.body["data"];
    assert_eq!(d["planId"], "plan_standard");
    assert_eq!(d["organization"], s.get("/user", KEY).await.body["data"]["organizationId"]);
    assert_eq!(d["currentCredits"].as_f64(), Some(balance(&s, KEY).await));
    for f in ["telephony", "phoneNumbers", "campaigns", "webhooks", "knowledgeBase"] {
        assert_eq!(d["features"][f], true, "{f}");
    }
    assert!(d["limits"]["agents"].as_u64().is_some_and(|n| n > 0));
    assert_ledger_is_the_balance(&s, KEY).await;
}

#[tokio::test]
async fn the_ledger_equals_the_balance_after_a_rental_a_connected_call_an_unanswered_call_and_a_top_up() {
    let s = TestServer::start().await;
    let start = balance(&s, KEY).await;
    let product = rent_number(&s, KEY, "US").await;
    let after_rent = balance(&s, KEY).await;
    let rental = ledger(&s, KEY).await[0].clone();
    assert_eq!(rental["transactionType"], "USAGE_DEDUCTION");
    assert!((after_rent - start - rental["amount"].as_f64().expect("amount")).abs() < 1e-6);
    assert!(product.len() == 24);

    let a = agent(&s, KEY, "billed").await;
    let connected = outbound(&s, KEY, &a, "+14155550123", None).await;
    let log = run_to_end(&s, KEY, &connected, 600).await;
    let cost = log["callCost"].as_f64().expect("callCost");
    assert!(cost > 0.0, "the default scenario connects and costs something");
    let rows = ledger(&s, KEY).await;
    let row = rows.iter().find(|r| r["callId"] == connected.as_str()).expect("the call is billed");
    assert!((row["amount"].as_f64().expect("amount") + cost).abs() < 1e-6, "{row}");

    let unanswered = outbound(&s, KEY, &a, "+14155550124", Some("no-answer")).await;
    let log = run_to_end(&s, KEY, &unanswered, 600).await;
    assert_eq!(log["callCost"].as_f64(), Some(0.0));
    assert!(!ledger(&s, KEY).await.iter().any(|r| r["callId"] == unanswered.as_str()), "no row for cost 0");

    let top = s.admin(Method::POST, &format!("/credits?apiKey={KEY}"), Some(json!({"amount": 25}))).await;
    assert_eq!(top.status, StatusCode::OK, "{}", top.text);
    assert_eq!(top.body["entry"]["transactionType"], "CREDIT_PURCHASE");
    let invoices = payment(&s, "/invoices", KEY).await;
    assert_eq!(invoices.body["data"].as_array().map(Vec::len), Some(1), "a purchase issues a paid invoice");
    assert_ledger_is_the_balance(&s, KEY).await;
}

/// `(date, credits)` of a ledger row: its UTC day and its spend.
fn spend(row: &Value) -> (String, f64) {
    let day = row["createdAt"].as_str().expect("createdAt")[..10].to_string();
    (day, -row["amount"].as_f64().expect("amount"))
}

/// Credit usage counts every usage row of the ledger, not only calls: a
/// number's rental on its day and its renewal a cycle later, read back
/// from the ledger (which a restart keeps).
#[tokio::test]
async fn number_rental_and_renewal_count_in_the_credit_usage_timeseries() {
    let (s, key) = (TestServer::start().await, "sk_usage_rental");
    rent_number(&s, key, "US").await;
    let rental = spend(&ledger(&s, key).await[0]);
    s.advance(35.0 * 86_400.0).await;
    let renewal = ledger(&s, key)
        .await
        .iter()
        .find(|r| r["transactionType"] == "USAGE_DEDUCTION" && r["callId"].is_null())
        .map(spend)
        .expect("a renewal within the ledger's last 7 days");
    assert!(rental.1 > 0.0 && renewal.1 > 0.0 && renewal.0 > rental.0, "{rental:?} {renewal:?}");

    let r = s.get(&format!("/analytics/usage/timeseries?dateFrom={}", rental.0), key).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let days: Vec<(String, f64)> = r.body["data"]["dayWiseCredits"]
        .as_array()
        .expect("dayWiseCredits")
        .iter()
        .map(|d| (d["date"].as_str().unwrap_or_default().to_string(), d["credits"].as_f64().unwrap_or(f64::NAN)))
        .collect();
    assert_eq!(days, vec![rental.clone(), renewal.clone()], "{}", r.text);
    assert_eq!(r.body["data"]["totalCredits"].as_f64(), Some(rental.1 + renewal.1), "{}", r.text);
}

#[tokio::test]
async fn plan_limits_are_enforced_with_the_platforms_errors() {
    let s = TestServer::start().await;
    let a = agent(&s, KEY, "limited").await;
    let r = s
        .admin(Method::PUT, &format!("/plan?apiKey={KEY}"), Some(json!({"limits": {"dailyCalls": 1, "numbers": 1}})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(s.get("/user/subscription", KEY).await.body["data"]["limits"]["dailyCalls"], 1);

    outbound(&s, KEY, &a, "+14155550123", None).await;
    let second = outbound_reply(&s, KEY, &a, "+14155550124", None).await;
    assert_eq!(second.status, StatusCode::FORBIDDEN, "{}", second.text);
    assert!(second.error().starts_with("Plan limit reached"), "{}", second.text);

    rent_number(&s, KEY, "US").await;
    let found = s.get("/product/get-available-numbers?countryCode=US&provider=plivo", KEY).await;
    let number = found.body["data"][0]["phoneNumber"].clone();
    let before = balance(&s, KEY).await;
    let r = s.post("/product/rent-number", KEY, json!({"phoneNumber": number, "provider": "plivo"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(r.error(), "Plan limit reached: your plan allows at most 1 phone numbers");
    assert_eq!(balance(&s, KEY).await, before, "a refusal charges nothing");

    s.admin(Method::PUT, &format!("/plan?apiKey={KEY}"), Some(json!({"features": {"telephony": false}}))).await;
    let r = s
        .post(
            "/product/import-phone-number",
            KEY,
            json!({"phoneNumber": "+15550001", "sipTerminationUrl": "sip.example.invalid"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
}

#[tokio::test]
async fn without_credits_a_call_is_refused_and_nothing_is_placed() {
    let s = TestServer::start().await;
    let a = agent(&s, KEY, "broke").await;
    let all = balance(&s, KEY).await;
    let body = json!({"amount": -all, "type": "ADMIN_ADJUSTMENT"});
    let r = s.admin(Method::POST, &format!("/credits?apiKey={KEY}"), Some(body)).await;
    assert_eq!((r.status, r.body["creditBalance"].as_f64()), (StatusCode::OK, Some(0.0)), "{}", r.text);
    let refused = outbound_reply(&s, KEY, &a, "+14155550123", None).await;
    assert_eq!((refused.status, refused.error()), (StatusCode::BAD_REQUEST, "Organization has no credits available"));
    // R190: register-call refuses too, before any token is minted.
    let refused = s.post("/conversation/register-call", KEY, json!({"agent_id": a})).await;
    assert_eq!((refused.status, refused.error()), (StatusCode::BAD_REQUEST, "Organization has no credits available"));
    assert_eq!(s.get("/conversation?limit=10", KEY).await.body["data"]["logs"], json!([]));
    assert_ledger_is_the_balance(&s, KEY).await;
}

#[tokio::test]
async fn a_number_is_rented_listed_and_released_and_held_by_one_organization_only() {
    let s = TestServer::start().await;
    let product = rent_number(&s, KEY, "US").await;
    let item = s.get("/product/phone-numbers", KEY).await.body["data"][0].clone();
    let mut keys: Vec<_> = item.as_object().expect("item").keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["__v", "_id", "agentId", "attributes", "createdAt", "isActive", "productType", "updatedAt"]);
    let number = item["attributes"]["phoneNumber"].as_str().expect("number").trim_start_matches('+').to_string();
    let other = s.post("/product/rent-number", "sk_other", json!({"phoneNumber": number, "provider": "plivo"})).await;
    assert_eq!(other.error(), format!("Phone number {number} is not available"));

    let all = s.get("/product/all-numbers", KEY).await;
    assert_eq!(all.body["data"]["telephonyProducts"].as_array().map(Vec::len), Some(1));
    let r = s.post("/product/release-number", KEY, json!({"productId": product})).await;
    assert_eq!((r.status, &r.body["data"]), (StatusCode::OK, &json!({"success": true})), "{}", r.text);
    assert_eq!(s.get("/product/phone-numbers", KEY).await.body["data"], json!([]));
    let again = s.post("/product/release-number", KEY, json!({"productId": product})).await;
    assert_eq!((again.status, again.error()), (StatusCode::BAD_REQUEST, "Invalid product id"));
    let r = s.post("/product/rent-number", "sk_other", json!({"phoneNumber": number, "provider": "plivo"})).await;
    assert_eq!(r.status, StatusCode::OK, "released numbers are on offer again: {}", r.text);
}

#[tokio::test]
async fn an_open_invoice_locks_renting_until_it_is_paid_and_unknown_invoices_are_404() {
    let s = TestServer::start().await;
    let inv = s.admin(Method::POST, &format!("/invoices?apiKey={KEY}"), Some(json!({"amount": 12.5}))).await;
    assert_eq!(inv.status, StatusCode::OK, "{}", inv.text);
    let id = inv.body["id"].as_str().expect("invoice id").to_string();
    assert_eq!(s.get("/product/unpaid-invoices", KEY).await.body["data"], json!({"paymentRequired": true}));
    let r = s.get("/product/proration-amount", KEY).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(r.error(), "Your organization has unpaid invoices. Please pay the outstanding balance to continue.");

    let paid = s.admin(Method::POST, &format!("/invoices/{id}/pay?apiKey={KEY}"), None).await;
    assert_eq!(paid.status, StatusCode::OK, "{}", paid.text);
    assert_eq!(s.get("/product/unpaid-invoices", KEY).await.body["data"], json!({"paymentRequired": false}));
    rent_number(&s, KEY, "US").await;

    let pdf = payment(&s, &format!("/invoices/{id}/pdf"), KEY).await;
    let url = pdf.body["data"]["pdfUrl"].as_str().expect("pdfUrl").to_string();
    let file = s.http.get(&url).send().await.expect("pdf");
    assert_eq!(file.headers()["content-type"], "application/pdf");
    let missing = payment(&s, "/invoices/in_000000000000000000000000/pdf", KEY).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.body["success"], false);
    assert_eq!(missing.body["error"]["code"], "not_found");
    let foreign = payment(&s, &format!("/invoices/{id}/pdf"), "sk_other").await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND, "another organization's invoice is not found");
}

/// A multipart body: text fields, then one PDF part per name in `files`.
pub(crate) fn form(fields: &[(&str, &str)], files: &[&str]) -> (String, Vec<u8>) {
    let boundary = "atomsmockboundary7MA4YWxkTrZu0gW";
    let mut body = String::new();
    for (name, value) in fields {
        body += &format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n");
    }
    for file in files {
        body += &format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{file}\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4 test\r\n"
        );
    }
    body += &format!("--{boundary}--\r\n");
    (format!("multipart/form-data; boundary={boundary}"), body.into_bytes())
}

/// Sends the multipart form of `fields` and `files` (see [`form`]) to
/// `path` under `/atoms/v1`; returns the status and the JSON body.
async fn send_form(
    s: &TestServer,
    method: Method,
    path: &str,
    fields: &[(&str, &str)],
    files: &[&str],
) -> (StatusCode, Value) {
    let (ct, body) = form(fields, files);
    let req = s.http.request(method, format!("{}{path}", s.base())).bearer_auth(KEY).header("content-type", ct);
    let res = req.body(body).send().await.expect("form request");
    (res.status(), res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn renting_in_a_regulated_country_needs_an_accepted_application_reviewed_on_the_clock() {
    let s = TestServer::start().await;
    let q = "countryIso=GB&numberType=local&userType=business";
    let found = s.get("/product/get-available-numbers?countryCode=GB&provider=plivo", KEY).await;
    let number = found.body["data"][0]["phoneNumber"].clone();
    let refused = s.post("/product/rent-number", KEY, json!({"phoneNumber": number, "provider": "plivo"})).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert!(refused.error().starts_with("Compliance approval is required to rent numbers in GB"), "{}", refused.text);
    assert_eq!(s.get(&format!("/compliance/status?{q}"), KEY).await.body["data"]["step"], "form");

    let req = s.get(&format!("/compliance/requirements?{q}"), KEY).await;
    let docs: Vec<Value> = req.body["data"]["documentTypes"]
        .as_array()
        .expect("documentTypes")
        .iter()
        .map(|d| {
            let fields = d["requiredFields"].as_array().into_iter().flatten();
            let data: serde_json::Map<String, Value> =
                fields.filter_map(|f| Some((f["fieldName"].as_str()?.to_string(), json!("filled")))).collect();
            json!({"documentTypeId": d["documentTypeId"], "dataFields": data})
        })
        .collect();
    assert!(!docs.is_empty(), "GB needs documents: {}", req.text);
    let names: Vec<String> = (0..docs.len()).map(|i| format!("doc{i}.pdf")).collect();
    let docs = Value::from(docs).to_string();
    let fields = [
        ("countryIso", "GB"),
        ("numberType", "local"),
        ("userType", "business"),
        ("endUser", r#"{"name":"Acme Ltd"}"#),
        ("documents", docs.as_str()),
    ];
    let files: Vec<&str> = names.iter().map(String::as_str).collect();
    let (status, app) = send_form(&s, Method::POST, "/compliance/applications", &fields, &files).await;
    assert_eq!(status, StatusCode::CREATED, "{app}");
    assert_eq!(app["data"]["status"], "submitted");
    let id = app["data"]["_id"].as_str().expect("application id").to_string();

    s.advance(121.0).await;
    let refreshed = s.post(&format!("/compliance/applications/{id}/refresh"), KEY, json!({})).await;
    assert_eq!(refreshed.body["data"]["status"], "accepted", "{}", refreshed.text);
    assert_eq!(s.get(&format!("/compliance/status?{q}"), KEY).await.body["data"]["step"], "accepted");
    let r = s.post("/product/rent-number", KEY, json!({"phoneNumber": number, "provider": "plivo"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

#[tokio::test]
async fn a_rejected_application_can_be_resubmitted_and_decisions_can_be_forced() {
    let s = TestServer::start().await;
    let fields = [
        ("countryIso", "DE"),
        ("numberType", "local"),
        ("userType", "individual"),
        ("endUser", r#"{"name":"Ada"}"#),
        ("documents", "[]"),
    ];
    let (status, app) = send_form(&s, Method::POST, "/compliance/applications", &fields, &[]).await;
    assert_eq!(status, StatusCode::CREATED, "{app}");
    let id = app["data"]["_id"].as_str().expect("id").to_string();
    let (dup, _) = send_form(&s, Method::POST, "/compliance/applications", &fields, &[]).await;
    assert_eq!(dup, StatusCode::CONFLICT);

    let r = s
        .admin(
            Method::POST,
            &format!("/compliance/{id}?apiKey={KEY}"),
            Some(json!({"decision": "reject", "reason": "blurry"})),
        )
        .await;
    assert_eq!((r.status, &r.body["status"]), (StatusCode::OK, &json!("rejected")), "{}", r.text);
    let path = format!("/compliance/applications/{id}");
    let (status, app) = send_form(&s, Method::PATCH, &path, &[("documents", "[]")], &[]).await;
    assert_eq!((status, &app["data"]["status"]), (StatusCode::OK, &json!("submitted")), "{app}");
    let (again, _) = send_form(&s, Method::PATCH, &path, &[("documents", "[]")], &[]).await;
    assert_eq!(again, StatusCode::BAD_REQUEST, "only rejected applications are resubmitted");
    let missing = s.post("/compliance/applications/000000000000000000000000/refresh", KEY, json!({})).await;
    assert_eq!((missing.status, missing.error()), (StatusCode::NOT_FOUND, "Compliance application not found"));
}

#[tokio::test]
async fn the_agent_and_campaign_limits_and_the_campaigns_feature_are_enforced() {
    let s = TestServer::start().await;
    let r = s
        .admin(Method::PUT, &format!("/plan?apiKey={KEY}"), Some(json!({"limits": {"agents": 1, "campaigns": 1}})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let first = s.create_agent(KEY, "only").await;
    let refused = s.post("/agent", KEY, json!({"name": "second"})).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    assert_eq!(refused.error(), "Plan limit reached: your plan allows at most 1 agents");
    let r = s.delete(&format!("/agent/{first}/archive"), KEY).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = s.post("/agent", KEY, json!({"name": "after archive"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "archived agents do not count: {}", r.text);
    let (archived, first) = (first, r.body["data"].as_str().expect("agent id").to_string());
    let r = s.delete(&format!("/agent/{archived}/archive?on=false"), KEY).await;
    assert_eq!((r.status, r.error()), (StatusCode::FORBIDDEN, "Plan limit reached: your plan allows at most 1 agents"));
    assert_eq!(s.get(&format!("/agent/{archived}"), KEY).await.body["data"]["archived"], true, "still archived");
    let aud = crate::campaigns::audience(&s, KEY, "phone\n+14155550101\n").await;
    let body = json!({"name": "one", "agentId": first, "audienceId": aud});
    crate::campaigns::new_campaign(&s, KEY, body.clone()).await;
    let second = s.post("/campaign", KEY, body.clone()).await;
    assert_eq!(
        (second.status, second.error()),
        (StatusCode::FORBIDDEN, "Plan limit reached: your plan allows at most 1 campaigns")
    );

    s.admin(
        Method::PUT,
        &format!("/plan?apiKey={KEY}"),
        Some(json!({"limits": {"campaigns": 10}, "features": {"campaigns": false}})),
    )
    .await;
    let off = s.post("/campaign", KEY, body).await;
    assert_eq!((off.status, off.error()), (StatusCode::FORBIDDEN, "Your plan does not include campaigns"));
}

#[tokio::test]
async fn without_the_webhooks_feature_webhooks_and_subscriptions_are_refused() {
    let s = TestServer::start().await;
    let a = s.create_agent(KEY, "hooked").await;
    let hook = crate::webhooks::create_webhook(&s, KEY, "http://127.0.0.1:9/hook", &a, &["pre-conversation"]).await;
    s.admin(Method::PUT, &format!("/plan?apiKey={KEY}"), Some(json!({"features": {"webhooks": false}}))).await;
    let body =
        json!({"endpoint": "http://127.0.0.1:9/other", "events": [{"agentId": a, "eventType": "pre-conversation"}]});
    let r = s.post("/webhook", KEY, body).await;
    assert_eq!((r.status, r.error()), (StatusCode::BAD_REQUEST, "Your plan does not include webhooks"));
    let body = json!({"eventTypes": ["post-conversation"], "webhookId": hook});
    let r = s.post(&format!("/agent/{a}/webhook-subscriptions"), KEY, body).await;
    assert_eq!((r.status, r.error()), (StatusCode::BAD_REQUEST, "Your plan does not include webhooks"));

    // Deliveries are skipped while the feature is off. Events are routed in
    // order, so once another organization's later call is delivered, this
    // one's event has been routed (and skipped).
    let skipped = crate::webhooks::place_call(&s, KEY, &a, json!({})).await;
    let b = s.create_agent("sk_hooks_on", "hooked too").await;
    crate::webhooks::create_webhook(&s, "sk_hooks_on", "http://127.0.0.1:9/later", &b, &["pre-conversation"]).await;
    let later = crate::webhooks::place_call(&s, "sk_hooks_on", &b, json!({})).await;
    s.advance(120.0).await;
    let r = crate::webhooks::wait(&s, &format!("callId={later}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let logged = s.admin(Method::GET, &format!("/webhooks/deliveries?callId={skipped}"), None).await;
    assert_eq!(logged.body["deliveries"], json!([]), "{}", logged.text);
}

#[tokio::test]
async fn live_k1_a_rented_number_given_as_from_product_id_is_the_caller_id() {
    let s = TestServer::start().await;
    let product = rent_number(&s, KEY, "US").await;
    let list = s.get("/product/phone-numbers", KEY).await;
    let number = list.body["data"][0]["attributes"]["phoneNumber"].as_str().expect("number").to_string();
    let a = agent(&s, KEY, "caller").await;
    let body = json!({"agentId": a, "phoneNumber": "+14155550123", "fromProductId": product});
    let r = s.post("/conversation/outbound", KEY, body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let id = r.body["data"]["conversationId"].as_str().expect("call id");
    let d = s.get(&format!("/conversation/{id}"), KEY).await.body["data"].clone();
    assert_eq!(d["from"], json!(format!("+{}", number.trim_start_matches('+'))));

    // Never the callee: a call to that very number comes from the agent's
    // own attached number, the next source.
    let second = rent_number(&s, KEY, "US").await;
    let r = s.post("/agent", KEY, json!({"name": "numbered", "telephonyProductId": [second]})).await;
    let numbered = r.body["data"].as_str().expect("agent id").to_string();
    let own = s.get(&format!("/agent/{numbered}"), KEY).await.body["data"]["phoneNumber"][0].clone();
    let callee = d["from"].as_str().expect("number").to_string();
    let body = json!({"agentId": numbered, "phoneNumber": callee, "fromProductId": product});
    let r = s.post("/conversation/outbound", KEY, body).await;
    let id = r.body["data"]["conversationId"].as_str().expect("call id");
    let d = s.get(&format!("/conversation/{id}"), KEY).await.body["data"].clone();
    assert_eq!((&d["from"], &d["to"]), (&own, &json!(callee)), "{d}");
}

#[tokio::test]
async fn a_campaign_calls_from_the_rented_number_in_its_phone_number_ids() {
    let s = TestServer::start().await;
    let product = rent_number(&s, KEY, "US").await;
    let list = s.get("/product/phone-numbers", KEY).await;
    let number = list.body["data"][0]["attributes"]["phoneNumber"].as_str().expect("number").to_string();
    let a = s.create_agent(KEY, "dialler").await;
    let aud = crate::campaigns::audience(&s, KEY, "phone\n+15552000001\n").await;
    let body = json!({"name": "From rented", "agentId": a, "audienceId": aud, "phoneNumberIds": [product]});
    let id = crate::campaigns::new_campaign(&s, KEY, body).await;
    let r = s.post(&format!("/campaign/{id}/start"), KEY, json!({})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    s.advance(1.0).await;
    let logs = s.get(&format!("/conversation?agentId={a}"), KEY).await;
    let from = &logs.body["data"]["logs"][0]["from"];
    assert_eq!(from, &json!(format!("+{}", number.trim_start_matches('+'))), "{}", logs.text);
}

/// The status and error of campaign `id`.
async fn campaign_state(s: &TestServer, key: &str, id: &str) -> (Value, Value) {
    let c = crate::campaigns::campaign(s, key, id).await;
    (c["campaign"]["status"].clone(), c["campaign"]["error"].clone())
}

/// Creates a one-member campaign for agent `a` (no retries) with `extra`
/// fields, starts it and lets a second pass; returns its id.
async fn run_one(s: &TestServer, key: &str, a: &str, extra: Value) -> String {
    let aud = crate::campaigns::audience(s, key, "phone\n+15552000001\n").await;
    let mut body = json!({"name": "One", "agentId": a, "audienceId": aud, "maxRetries": 0});
    body.as_object_mut().expect("object").extend(extra.as_object().cloned().unwrap_or_default());
    let id = crate::campaigns::new_campaign(s, key, body).await;
    let r = s.post(&format!("/campaign/{id}/start"), key, json!({})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    s.advance(1.0).await;
    id
}

/// L-H2, R159, R167, design d11a §2.3: on a fresh key a campaign has no
/// number and fails; after renting one and attaching it to the agent
/// (`PATCH /agent`), the next campaign calls from it and completes.
#[tokio::test]
async fn a_campaign_on_a_fresh_key_completes_after_renting_a_number_and_attaching_it() {
    let (s, key) = (TestServer::start().await, "sk_fresh_campaign");
    let a = s.create_agent(key, "fresh").await;
    let doomed = run_one(&s, key, &a, json!({})).await;
    assert_eq!(campaign_state(&s, key, &doomed).await.0, "failed");
    let product = rent_number(&s, key, "US").await;
    let r = s.patch(&format!("/agent/{a}"), key, json!({"telephonyProductId": [product]})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let id = run_one(&s, key, &a, json!({})).await;
    s.advance(3600.0).await;
    assert_eq!(campaign_state(&s, key, &id).await, (json!("completed"), Value::Null));
    let number = s.get(&format!("/agent/{a}"), key).await.body["data"]["phoneNumber"][0].clone();
    let logs = s.get(&format!("/conversation?agentId={a}"), key).await;
    assert_eq!(logs.body["data"]["logs"][0]["from"], number, "the attached number is the caller ID");
}

/// Design d11a §2.3, R104's message: `phoneNumberIds` must name this
/// organization's own numbers; another organization's or an unknown id is
/// 400 `Invalid product id` and no campaign is stored.
#[tokio::test]
async fn campaign_phone_number_ids_must_be_the_organizations_own_numbers() {
    let s = TestServer::start().await;
    let foreign = rent_number(&s, "sk_other_org", "US").await;
    let a = s.create_agent(KEY, "picky").await;
    let aud = crate::campaigns::audience(&s, KEY, "phone\n+15552000001\n").await;
    for id in [foreign.as_str(), "60d0fe4f5311236168a109cb"] {
        let body = json!({"name": "Borrowed", "agentId": a, "audienceId": aud, "phoneNumberIds": [id]});
        let r = s.post("/campaign", KEY, body).await;
        assert_eq!((r.status, r.error()), (StatusCode::BAD_REQUEST, "Invalid product id"), "{}", r.text);
    }
    let listed = s.get("/campaign", KEY).await;
    assert_eq!(listed.body["data"]["campaigns"].as_array().map(Vec::len), Some(0), "{}", listed.text);
}

/// R167, design d11a §2.2–2.3: a member dial the account refuses (no
/// credits) is a campaign-level error: the campaign fails with the
/// account's message and places no call.
#[tokio::test]
async fn a_campaign_dial_refused_for_credits_fails_the_campaign_with_that_error() {
    let (s, key) = (TestServer::start().await, "sk_broke_campaign");
    let product = rent_number(&s, key, "US").await;
    let a = s.create_agent(key, "broke dialler").await;
    let body = json!({"amount": -balance(&s, key).await, "type": "ADMIN_ADJUSTMENT"});
    let r = s.admin(Method::POST, &format!("/credits?apiKey={key}"), Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let id = run_one(&s, key, &a, json!({"phoneNumberIds": [product]})).await;
    assert_eq!(campaign_state(&s, key, &id).await, (json!("failed"), json!("Organization has no credits available")));
    assert_eq!(s.get("/conversation?limit=10", key).await.body["data"]["logs"], json!([]));
}
