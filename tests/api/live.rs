//! One test per fact of `LIVE.md` about transport, first contact, list
//! shapes and config defaults, each against a server started as
//! `atoms-mock` with no flags (`TestServer::start_no_flags`). The
//! versioning and caller-ID facts are in `live_versioning`.

use atoms_mock::http::transport::CorsOrigins;
use atoms_mock::Config;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::TestServer;

const KEY: &str = "sk_live_facts";
const JSON_UTF8: &str = "application/json; charset=utf-8";

/// The keys of a JSON object, sorted.
fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default();
    k.sort();
    k
}

/// LIVE T2's page for `method` and `path`.
fn express_404(method: &str, path: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Error</title>\n</head>\n\
         <body>\n<pre>Cannot {method} {path}</pre>\n</body>\n</html>\n"
    )
}

#[tokio::test]
async fn live_t1_every_json_answer_says_charset_utf_8_errors_included() {
    let s = TestServer::start_no_flags().await;
    let agent = s.create_agent(KEY, "t1").await;
    let answers = [
        s.get("/agent", KEY).await,
        s.post("/agent", KEY, json!({"name": "created"})).await,
        s.get(&format!("/agent/{agent}"), KEY).await,
        s.get("/agent/0123456789abcdef01234567", KEY).await,
        s.get("/agent/not-an-id", KEY).await,
        s.call(Method::GET, "/agent", None, None).await,
        s.raw(Method::POST, &format!("{}/agent", s.base()), Some(KEY), Some(b"{oops".to_vec())).await,
        s.post(&format!("/agent/{agent}/drafts"), KEY, json!({})).await,
        s.admin(Method::GET, "/clock", None).await,
        s.raw(Method::GET, &format!("{}/healthz", s.root()), None, None).await,
    ];
    let statuses: Vec<u16> = answers.iter().map(|r| r.status.as_u16()).collect();
    assert_eq!(statuses, [200, 201, 200, 400, 400, 401, 400, 400, 200, 200]);
    for r in &answers {
        assert_eq!(r.content_type, JSON_UTF8, "{} {}", r.status, r.text);
    }
}

#[tokio::test]
async fn live_t2_a_path_without_a_route_answers_express_s_404_page_byte_for_byte() {
    let s = TestServer::start_no_flags().await;
    let agent = s.create_agent(KEY, "t2").await;
    for (method, path, key) in [
        (Method::GET, "/atoms/v1/organization".to_string(), Some(KEY)),
        (Method::GET, "/atoms/v1/organization".to_string(), None),
        (Method::PUT, "/atoms/v1/agent".to_string(), Some(KEY)),
        (Method::DELETE, format!("/atoms/v1/agent/{agent}"), Some(KEY)),
        (Method::POST, "/atoms/v1/organization/".to_string(), Some(KEY)),
        (Method::GET, "/nowhere".to_string(), None),
    ] {
        let r = s.raw(method.clone(), &format!("{}{path}", s.root()), key, None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{method} {path}");
        assert_eq!(r.content_type, "text/html; charset=utf-8", "{method} {path}");
        assert_eq!(r.text, express_404(method.as_str(), &path), "the path as sent");
    }
    // A route that exists answers an unknown id in the JSON envelope.
    let r = s.get("/agent/0123456789abcdef01234567", KEY).await;
    assert_eq!((r.status, r.error(), r.content_type.as_str()), (StatusCode::BAD_REQUEST, "No agent found", JSON_UTF8));
    let r = s.get(&format!("/agent/{agent}/versions/0123456789abcdef01234567"), KEY).await;
    assert_eq!((r.status, r.body["status"].clone()), (StatusCode::NOT_FOUND, json!(false)));
}

#[tokio::test]
async fn live_t3_a_malformed_agent_id_is_400_invalid_agent_id() {
    let s = TestServer::start_no_flags().await;
    let r = s.get("/agent/xyz", KEY).await;
    assert_eq!(r.body, json!({"status": false, "errors": ["Invalid agent id"]}));
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn express_habits_trailing_slash_json_content_type_and_bearer_case() {
    let s = TestServer::start_no_flags().await;
    // A trailing slash matches the route.
    let r =
        s.raw(Method::POST, &format!("{}/agent/", s.base()), Some(KEY), Some(br#"{"name":"slash"}"#.to_vec())).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let agent = r.body["data"].as_str().expect("id").to_string();
    let r = s.get(&format!("/agent/{agent}/"), KEY).await;
    assert_eq!((r.status, r.body["data"]["name"].clone()), (StatusCode::OK, json!("slash")));

    // A body is JSON only with a JSON Content-Type; otherwise it counts as empty.
    let post = |ct: &'static str| {
        s.http
            .post(format!("{}/agent", s.base()))
            .bearer_auth(KEY)
            .header("content-type", ct)
            .body(r#"{"name": "typed"}"#)
            .send()
    };
    for ct in ["text/plain", "application/x-www-form-urlencoded"] {
        let res = post(ct).await.expect("send");
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{ct}");
        let body: Value = res.json().await.expect("json");
        assert_eq!(body, json!({"status": false, "errors": ["name: Required"]}), "{ct}");
    }
    assert_eq!(post("Application/JSON; charset=utf-8").await.expect("send").status(), StatusCode::CREATED);
    let res = s.http.post(format!("{}/agent", s.base())).bearer_auth(KEY).body(r#"{"name": "x"}"#).send().await;
    assert_eq!(res.expect("send").status(), StatusCode::BAD_REQUEST, "no Content-Type: no JSON");
    // The control API reads any body as JSON (curl -d sends form encoding).
    let url = format!("{}/_admin/versioning?apiKey={KEY}", s.root());
    let res = s.http.put(url).header("content-type", "application/x-www-form-urlencoded").body(r#"{"mode":"v2"}"#);
    let body: Value = res.send().await.expect("send").json().await.expect("json");
    assert_eq!(body["mode"], "v2");

    // The Bearer scheme is case-insensitive; other schemes are 401.
    for scheme in ["bearer", "BEARER", "BeArEr"] {
        let res = s.http.get(format!("{}/agent", s.base())).header("authorization", format!("{scheme} {KEY}"));
        let body: Value = res.send().await.expect("send").json().await.expect("json");
        assert_eq!(body["data"]["totalCount"], 2, "{scheme}");
    }
    let res = s.http.get(format!("{}/agent", s.base())).header("authorization", format!("Basic {KEY}"));
    assert_eq!(res.send().await.expect("send").status(), StatusCode::UNAUTHORIZED);
}

/// `OPTIONS path` as a browser preflight from `origin`.
async fn preflight(s: &TestServer, origin: &str) -> reqwest::Response {
    s.http
        .request(Method::OPTIONS, format!("{}/agent", s.base()))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization,content-type")
        .send()
        .await
        .expect("preflight")
}

fn header(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

#[tokio::test]
async fn cors_answers_preflights_and_marks_every_answer_by_default() {
    let s = TestServer::start_no_flags().await;
    let res = preflight(&s, "https://app.example.com").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "access-control-allow-origin").as_deref(), Some("*"));
    assert!(header(&res, "access-control-allow-methods").is_some_and(|m| m.contains("POST") && m.contains("PATCH")));
    assert_eq!(header(&res, "access-control-allow-headers").as_deref(), Some("authorization,content-type"));
    for (key, path) in [(Some(KEY), "/agent"), (None, "/agent"), (Some(KEY), "/organization")] {
        let mut req = s.http.get(format!("{}{path}", s.base())).header("origin", "https://app.example.com");
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        let res = req.send().await.expect("send");
        assert_eq!(header(&res, "access-control-allow-origin").as_deref(), Some("*"), "{path} {}", res.status());
        assert!(header(&res, "access-control-expose-headers").is_some_and(|h| h.contains("x-request-id")));
    }
}

#[tokio::test]
async fn cors_vary_is_tower_http_s_default_once_on_every_answer_and_absent_when_off() {
    const VARY: &str = "origin, access-control-request-method, access-control-request-headers";
    let vary = |res: &reqwest::Response| {
        res.headers().get_all("vary").iter().map(|v| v.as_bytes().to_vec()).collect::<Vec<_>>()
    };
    let s = TestServer::start_no_flags().await;
    let res = preflight(&s, "https://app.example.com").await;
    assert_eq!(vary(&res), [VARY.as_bytes()], "preflight");
    for (key, path) in [(Some(KEY), "/agent"), (None, "/agent"), (Some(KEY), "/organization")] {
        let mut req = s.http.get(format!("{}{path}", s.base())).header("origin", "https://app.example.com");
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        let res = req.send().await.expect("send");
        assert_eq!(vary(&res), [VARY.as_bytes()], "{path} {}", res.status());
    }
    let off = TestServer::with_config(Config { port: 0, cors: CorsOrigins::Off, ..Config::default() }).await;
    let res = off.http.get(format!("{}/agent", off.base())).bearer_auth(KEY).send().await.expect("send");
    assert!(vary(&res).is_empty());
}

#[tokio::test]
async fn cors_is_configurable_off_or_per_origin() {
    let off = TestServer::with_config(Config { port: 0, cors: CorsOrigins::Off, ..Config::default() }).await;
    let res = preflight(&off, "https://app.example.com").await;
    assert_eq!(header(&res, "access-control-allow-origin"), None);
    let listed = "https://app.example.com".parse::<CorsOrigins>().expect("origin list");
    let one = TestServer::with_config(Config { port: 0, cors: listed, ..Config::default() }).await;
    let res = preflight(&one, "https://app.example.com").await;
    assert_eq!(header(&res, "access-control-allow-origin").as_deref(), Some("https://app.example.com"));
    assert!(header(&res, "vary").is_some_and(|v| v.contains("origin")));
    let res = preflight(&one, "https://evil.example").await;
    assert_eq!(header(&res, "access-control-allow-origin"), None);
}

#[tokio::test]
async fn live_u1_get_user_has_exactly_the_live_keys_tied_to_the_key_s_organization() {
    let s = TestServer::start_no_flags().await;
    let r = s.get("/user", KEY).await;
    assert_eq!((r.status, r.body["status"].clone()), (StatusCode::OK, json!(true)));
    let user = &r.body["data"];
    assert_eq!(
        keys(user),
        ["_id", "authProvider", "firstName", "isEmailVerified", "lastName", "organizationId", "userEmail"]
    );
    let agent = s.create_agent(KEY, "u1").await;
    let a = s.get(&format!("/agent/{agent}"), KEY).await.body["data"].clone();
    assert_eq!((&user["organizationId"], &user["_id"]), (&a["organization"], &a["createdBy"]));
    let other = s.get("/user", "sk_someone_else").await.body["data"].clone();
    assert_ne!(other["organizationId"], user["organizationId"]);
    assert_eq!(s.call(Method::GET, "/user", None, None).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn account_details_and_the_organization_name_follow_the_spec() {
    let s = TestServer::start_no_flags().await;
    let user = s.get("/user", KEY).await.body["data"].clone();
    let r = s.get("/account/get-account-details", KEY).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["userId"], user["_id"], "a bare object, as documented");
    assert_eq!((r.body["email"].clone(), r.body["phone"].clone()), (user["userEmail"].clone(), Value::Null));
    let org = &r.body["organizations"][0];
    assert_eq!((org["orgId"].clone(), org["roleId"].clone()), (user["organizationId"].clone(), json!(0)));

    let put = |body: Value| s.call(Method::PUT, "/account/update-org-name", Some(KEY), Some(body));
    let r = put(json!({"name": " Acme Inc. "})).await;
    assert_eq!((r.status, r.body.clone()), (StatusCode::OK, json!({"success": true, "name": "Acme Inc."})));
    let r = s.get("/account/get-account-details", KEY).await;
    assert_eq!(r.body["organizations"][0]["name"], "Acme Inc.");
    for bad in [json!({}), json!({"name": ""}), json!({"name": "  "}), json!({"name": 7})] {
        let r = put(bad.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(r.body, json!({"success": false, "message": "Organization name is required"}), "{bad}");
    }
    let r = s.get("/account/get-account-details", KEY).await;
    assert_eq!(r.body["organizations"][0]["name"], "Acme Inc.", "a rejected rename changes nothing");
}

/// `GET /agent?q`: names, hasMore, isSearchResults, totalCount, totalPages.
async fn list_page(s: &TestServer, q: &str) -> (Vec<String>, Value, Value, Value, Value) {
    let d = s.get(&format!("/agent?{q}"), KEY).await.body["data"].clone();
    let names = d["agents"].as_array().into_iter().flatten().filter_map(|a| a["name"].as_str().map(str::to_owned));
    (
        names.collect(),
        d["hasMore"].clone(),
        d["isSearchResults"].clone(),
        d["totalCount"].clone(),
        d["totalPages"].clone(),
    )
}

#[tokio::test]
async fn live_list_get_agent_has_the_live_shape_and_its_query_parameters_work() {
    let s = TestServer::start_no_flags().await;
    for name in ["alpha", "beta", "gamma"] {
        s.create_agent(KEY, name).await;
    }
    let r = s.get("/agent", KEY).await;
    assert_eq!(keys(&r.body["data"]), ["agents", "hasMore", "isSearchResults", "totalCount", "totalPages"]);
    let page = |q: &'static str| list_page(&s, q);
    let (f, t) = (json!(false), json!(true));
    assert_eq!(
        page("sortField=name&sortOrder=asc&limit=2").await,
        (vec!["alpha".into(), "beta".into()], t.clone(), f.clone(), json!(3), json!(2))
    );
    assert_eq!(
        page("sortField=name&sortOrder=asc&limit=2&page=2").await,
        (vec!["gamma".into()], f.clone(), f.clone(), json!(3), json!(2))
    );
    assert_eq!(
        page("sortField=name&sortOrder=asc&offset=1&page=3").await.0,
        ["gamma"],
        "offset is the spec's page size"
    );
    assert_eq!(page("search=ET").await, (vec!["beta".into()], f.clone(), t, json!(1), json!(1)));
    assert_eq!(page("search=zzz").await.4, json!(0));
}

#[tokio::test]
async fn live_list_templates_and_every_other_list_have_the_live_shapes() {
    let s = TestServer::start_no_flags().await;
    let r = s.get("/agent/template", KEY).await;
    let items = r.body["data"].as_array().expect("a list");
    assert!(!items.is_empty());
    for t in items {
        assert_eq!(
            keys(t),
            [
                "_id",
                "avatarUrl",
                "callType",
                "defaultLanguage",
                "description",
                "id",
                "industry",
                "name",
                "region",
                "singlePromptConfig",
                "trending",
                "useCase",
                "workflowType"
            ]
        );
    }
    let r = s.get("/conversation?limit=5", KEY).await;
    assert_eq!(keys(&r.body["data"]), ["dispositionMetricsConfig", "logs", "pagination"]);
    let r = s.get("/campaign", KEY).await;
    assert_eq!(keys(&r.body["data"]), ["campaigns", "pagination", "totalCampaignCount"]);
    assert!(s.get("/webhook", KEY).await.body["data"].is_array(), "a list, not the spec example's object");
    let r = s.post("/knowledgebase", KEY, json!({"name": "Shapes", "description": "d"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let kbs = s.get("/knowledgebase", KEY).await.body["data"].clone();
    let kb = kbs.as_array().and_then(|l| l.first()).expect("a list with the new base");
    assert_eq!(keys(kb), ["__v", "_id", "createdBy", "description", "name", "organization"]);
    crate::account::rent_number(&s, KEY, "US").await;
    let numbers = s.get("/product/phone-numbers", KEY).await.body["data"].clone();
    let number = numbers.as_array().and_then(|l| l.first()).expect("a list with the rented number");
    assert_eq!(
        keys(number),
        ["__v", "_id", "agentId", "attributes", "createdAt", "isActive", "productType", "updatedAt"]
    );
    assert!(s.get("/audience", KEY).await.body["data"].is_array());
    let r = s.get("/events", KEY).await;
    assert_eq!((r.status, r.body["status"].clone()), (StatusCode::BAD_REQUEST, json!(false)));
    assert!(r.body.get("data").is_none(), "{}", r.text);
}

#[tokio::test]
async fn the_create_with_ai_questionnaire_is_served() {
    let s = TestServer::start_no_flags().await;
    let r = s.get("/agent/prompt-config", KEY).await;
    assert_eq!((r.status, r.body["success"].clone()), (StatusCode::OK, json!(true)));
    let d = &r.body["data"];
    assert_eq!(d["defaultLabel"], "default");
    let questions = d["questions"].as_array().expect("questions");
    assert!(!questions.is_empty());
    assert!(questions.iter().all(|q| q["examples"]["default"].is_string() && q["text"].is_string()));
}

#[tokio::test]
async fn live_c1_config_defaults_and_default_equal_values_make_no_diff_entry() {
    let s = TestServer::start_no_flags().await;
    let agent = s.create_agent(KEY, "c1").await;
    let a = s.get(&format!("/agent/{agent}"), KEY).await.body["data"].clone();
    assert_eq!(
        (a["denoisingConfig"]["isEnabled"].clone(), a["redactionConfig"]["isEnabled"].clone()),
        (json!(false), json!(true))
    );
    assert_eq!(a["widgetConfig"]["position"], "bottom-right", "the spec's widget defaults");
    assert!(a.get("archivedAt").is_none(), "absent until archived");

    // v1: a draft that sets the defaults explicitly has nothing to diff.
    let draft = s.fork_draft(KEY, &agent).await;
    let defaults = json!({"redactionConfig": {"isEnabled": true}, "denoisingConfig": {"isEnabled": false}});
    assert_eq!(
        s.patch(&format!("/agent/{agent}/drafts/{draft}/config"), KEY, defaults.clone()).await.status,
        StatusCode::OK
    );
    let d = s.get(&format!("/agent/{agent}/drafts/{draft}/diff"), KEY).await.body["data"].clone();
    assert_eq!((d["hasChanges"].clone(), d["diffs"].clone()), (json!(false), json!([])));
    let off = json!({"redactionConfig": {"isEnabled": false}});
    assert_eq!(
        s.patch(&format!("/agent/{agent}/drafts/{draft}/config"), KEY, off.clone()).await.status,
        StatusCode::OK
    );
    let d = s.get(&format!("/agent/{agent}/drafts/{draft}/diff"), KEY).await.body["data"].clone();
    let change = json!([{"section": "privacy", "changes": [{"path": "redactionConfig.isEnabled", "oldValue": true, "newValue": false}]}]);
    assert_eq!((d["hasChanges"].clone(), d["diffs"].clone()), (json!(true), change.clone()));

    // v2 (another agent, moved to branches by its first branch call): the same.
    let other = s.create_agent(KEY, "c1-v2").await;
    let branches = s.get(&format!("/agent/{other}/branches"), KEY).await;
    let main = branches.body["data"]["branches"][0]["branch"]["_id"].as_str().expect("Main").to_string();
    let head = branches.body["data"]["branches"][0]["branch"]["headRevisionId"].as_str().expect("head").to_string();
    let draft_path = format!("/agent/{other}/branches/{main}/draft");
    let put = |body: Value| s.call(Method::PUT, &draft_path, Some(KEY), Some(body));
    assert_eq!(put(defaults).await.status, StatusCode::OK);
    let diff = format!("/agent/{other}/diff?a={head}&b={main}:draft");
    assert_eq!(s.get(&diff, KEY).await.body["data"]["diffs"], json!([]));
    assert_eq!(put(off).await.status, StatusCode::OK);
    assert_eq!(s.get(&diff, KEY).await.body["data"]["diffs"], change);
}
