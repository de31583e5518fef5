//! Unit tests and properties of the Do-Not-Call list: E.164 matching with
//! or without `+`, org-wide versus agent scope, all-or-nothing uploads,
//! and `GET /dnc` paging, search and sort.

use std::collections::BTreeSet;

use proptest::prelude::*;
use serde_json::json;

use super::*;

const T0: Millis = 1_767_225_600_000;
const AGENT_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaa";
const AGENT_B: &str = "bbbbbbbbbbbbbbbbbbbbbbbb";
const ORG: &str = "0123456789abcdef01234567";

fn manual(phone: &str, agent: Option<&str>) -> NewEntry {
    NewEntry {
        phone_number: phone.into(),
        agent_id: agent.map(str::to_string),
        source: Source::ManualUpload,
        detected_in_call_id: None,
    }
}

/// A generator of distinct 24-hex ids.
fn ids() -> impl FnMut() -> String {
    let mut n = 0u32;
    move || {
        n += 1;
        format!("{n:024x}")
    }
}

fn list_of(entries: &[(&str, Option<&str>)]) -> DncList {
    let mut l = DncList::default();
    let mut id = ids();
    for (i, (p, a)) in entries.iter().enumerate() {
        l.add(manual(p, *a), &mut id, T0 + i64::try_from(i).unwrap() * 1000).unwrap();
    }
    l
}

fn query(pairs: &[(&str, &str)]) -> DncQuery {
    let v: serde_json::Map<String, Value> = pairs.iter().map(|(k, v)| ((*k).to_string(), json!(v))).collect();
    parse_query(&serde_json::from_value(Value::Object(v)).unwrap()).unwrap()
}

#[test]
fn numbers_match_with_or_without_the_plus() {
    assert_eq!(normalize(" 14155550123 "), Some("+14155550123".into()));
    assert_eq!(normalize("+14155550123"), Some("+14155550123".into()));
    assert_eq!(normalize("+1 415 555"), None);
    assert_eq!(normalize("0415555012"), None);
    let l = list_of(&[("14155550123", None)]);
    assert_eq!(l.entries().next().unwrap().phone_number, "+14155550123");
    assert!(l.blocking("+14155550123", AGENT_A).is_some());
    assert!(l.blocking("14155550123", AGENT_B).is_some());
    assert!(l.blocking("not a number", AGENT_B).is_none());
}

#[test]
fn an_org_wide_entry_blocks_every_agent_and_an_agent_entry_only_its_agent() {
    let l = list_of(&[("+14155550001", None), ("+14155550002", Some(AGENT_A))]);
    assert!(l.blocking("+14155550001", AGENT_A).is_some() && l.blocking("+14155550001", AGENT_B).is_some());
    assert_eq!(l.blocking("+14155550002", AGENT_A).map(|e| e.agent_id.as_deref()), Some(Some(AGENT_A)));
    assert!(l.blocking("+14155550002", AGENT_B).is_none());
    assert!(l.blocking("+14155550003", AGENT_A).is_none());
}

#[test]
fn a_number_is_listed_once_per_scope() {
    let mut l = list_of(&[("+14155550001", Some(AGENT_A))]);
    let mut id = ids();
    assert_eq!(l.add(manual("14155550001", Some(AGENT_A)), &mut id, T0 + 9), Ok(false));
    assert_eq!(l.add(manual("14155550001", None), &mut id, T0 + 9), Ok(true), "another scope is another entry");
    assert_eq!(l.len(), 2);
    assert_eq!(l.add(manual("+1415", None), &mut id, T0), Err(DomainError::invalid("Invalid phone number")));
}

#[test]
fn an_upload_is_all_or_nothing() {
    let mut l = list_of(&[("+14155550001", None)]);
    let before = l.clone();
    let bad = vec![manual("+14155550002", None), manual("12", None)];
    assert!(l.add_all(bad, ids(), T0).is_err());
    assert_eq!(l, before, "a rejected upload writes nothing");
    let ok = vec![manual("+14155550001", None), manual("14155550002", None), manual("+14155550002", None)];
    assert_eq!(l.add_all(ok, ids(), T0), Ok(UploadSummary { added: 1, skipped: 2 }));
}

#[test]
fn the_list_never_grows_past_its_bound() {
    let mut l = DncList::default();
    let many: Vec<NewEntry> = (0..MAX_ENTRIES).map(|i| manual(&format!("+1415{i:07}"), None)).collect();
    assert_eq!(l.add_all(many, ids(), T0).map(|s| s.added), Ok(MAX_ENTRIES));
    let before = l.len();
    assert_eq!(l.add(manual("+19999999999", None), ids(), T0), Err(DomainError::invalid(LIST_FULL)));
    assert_eq!(l.add_all(vec![manual("+19999999999", None)], ids(), T0), Err(DomainError::invalid(LIST_FULL)));
    assert_eq!(l.add(manual("+14150000001", None), ids(), T0), Ok(false), "a listed number is still fine");
    assert_eq!(l.len(), before);
}

#[test]
fn an_opt_out_creates_a_call_outcome_entry_in_the_scenarios_scope() {
    let e = opt_out_entry(OptOutScope::Agent, "+14155550001", AGENT_A, "CALL-1767225600000-abcdef");
    assert_eq!((e.agent_id.as_deref(), e.source), (Some(AGENT_A), Source::CallOutcome));
    assert_eq!(e.detected_in_call_id.as_deref(), Some("CALL-1767225600000-abcdef"));
    let e = opt_out_entry(OptOutScope::Organization, "+14155550001", AGENT_A, "CALL-1767225600000-abcdef");
    assert_eq!(e.agent_id, None);
    assert_eq!(serde_json::from_value::<OptOutScope>(json!("organization")).unwrap(), OptOutScope::Organization);
}

#[test]
fn items_have_exactly_the_spec_keys_and_org_wide_ones_no_agent() {
    let mut l = DncList::default();
    let e = opt_out_entry(OptOutScope::Agent, "14155550001", AGENT_A, "CALL-1767225600000-abcdef");
    l.add(e, ids(), T0).unwrap();
    l.add(manual("+14155550002", None), ids(), T0 + 1).unwrap();
    let page = serde_json::to_value(l.list(&query(&[]), ORG)).unwrap();
    let agent = &page["entries"][1];
    let keys: BTreeSet<&str> = agent.as_object().unwrap().keys().map(String::as_str).collect();
    let want = ["agentId", "createdAt", "detectedInCallId", "id", "orgId", "phoneNumber", "source", "updatedAt"];
    assert_eq!(keys, want.into_iter().collect());
    assert_eq!(agent["source"], "call_outcome");
    assert_eq!(agent["createdAt"], "2026-01-01T00:00:00.000Z");
    let org = &page["entries"][0];
    assert!(org.get("agentId").is_none() && org["detectedInCallId"].is_null());
    assert_eq!((org["source"].as_str(), org["orgId"].as_str()), (Some("manual_upload"), Some(ORG)));
    assert_eq!(page["pagination"], json!({"page": 1, "offset": 50, "total": 2, "totalPages": 1, "hasMore": false}));
}

#[test]
fn the_query_defaults_clamps_and_reads_numbers_like_express() {
    let d = query(&[]);
    assert_eq!((d.page, d.size, d.sort_field, d.sort_order), (1, 50, SortField::CreatedAt, SortOrder::Desc));
    assert_eq!((query(&[("page", "0"), ("offset", "0")]).page, query(&[("offset", "0")]).size), (1, 1));
    assert_eq!(query(&[("offset", "100000")]).size, 500);
    assert_eq!((query(&[("page", "3abc")]).page, query(&[("page", "abc")]).page), (3, 1));
    assert_eq!(query(&[("offset", " -4")]).size, 1);
    assert_eq!(query(&[("search", "   ")]).search, None);
    let err = |pairs: &[(&str, &str)]| {
        let v: serde_json::Map<String, Value> = pairs.iter().map(|(k, v)| ((*k).to_string(), json!(v))).collect();
        parse_query(&serde_json::from_value(Value::Object(v)).unwrap()).unwrap_err().to_string()
    };
    assert_eq!(err(&[("agentId", "nope")]), "Invalid agent id");
    assert_eq!(
        err(&[("sortField", "updatedAt")]),
        "sortField: Invalid enum value. Expected 'createdAt' | 'phoneNumber', received 'updatedAt'"
    );
    assert_eq!(
        err(&[("sortOrder", "DESC")]),
        "sortOrder: Invalid enum value. Expected 'asc' | 'desc', received 'DESC'"
    );
}

#[test]
fn search_sort_and_agent_scope() {
    let l = list_of(&[("+14155550003", None), ("+442071234567", Some(AGENT_A)), ("+14155550001", Some(AGENT_B))]);
    let phones = |q: DncQuery| l.list(&q, ORG).entries.into_iter().map(|e| e.phone_number).collect::<Vec<_>>();
    assert_eq!(phones(query(&[])), ["+14155550001", "+442071234567", "+14155550003"], "newest first");
    assert_eq!(phones(query(&[("sortField", "phoneNumber"), ("sortOrder", "asc")]))[0], "+14155550001");
    assert_eq!(phones(query(&[("search", "4155")])).len(), 2);
    assert_eq!(phones(query(&[("search", "+4420")])), ["+442071234567"]);
    assert_eq!(phones(query(&[("search", "442071234567")])), ["+442071234567"]);
    assert_eq!(phones(query(&[("agentId", AGENT_A)])), ["+442071234567"], "org-wide entries are not the agent's");
    let p = l.list(&query(&[("offset", "2"), ("page", "2")]), ORG).pagination;
    assert_eq!((p.total, p.total_pages, p.has_more, p.offset), (3, 2, false, 2));
}

#[test]
fn uploads_are_parsed_with_field_messages() {
    let ok = parse_upload(&json!({"phoneNumbers": ["14155550001", " +14155550002"], "agentId": AGENT_A})).unwrap();
    assert_eq!(ok.len(), 2);
    assert!(ok.iter().all(|e| e.source == Source::ManualUpload && e.agent_id.as_deref() == Some(AGENT_A)));
    let err = |v: Value| parse_upload(&v).unwrap_err().to_string();
    assert_eq!(err(json!({})), "phoneNumbers: Required");
    assert_eq!(err(json!({"phoneNumbers": "x"})), "phoneNumbers: Expected array, received string");
    assert_eq!(err(json!({"phoneNumbers": []})), "phoneNumbers: Array must contain between 1 and 10000 element(s)");
    assert_eq!(err(json!({"phoneNumbers": ["+14155550001", 5]})), "phoneNumbers.1: Expected string, received number");
    assert_eq!(err(json!({"phoneNumbers": ["12"]})), "phoneNumbers.0: Invalid phone number");
    assert_eq!(err(json!({"phoneNumbers": ["14155550001"], "agentId": "x"})), "Invalid agent id");
}

/// A small pool of numbers, each written with or without its `+`.
fn any_number() -> impl Strategy<Value = String> {
    (0u8..6, any::<bool>()).prop_map(|(n, plus)| format!("{}1415555000{n}", if plus { "+" } else { "" }))
}

fn any_scope() -> impl Strategy<Value = Option<&'static str>> {
    prop_oneof![Just(None), Just(Some(AGENT_A)), Just(Some(AGENT_B))]
}

proptest! {
    /// Enforcement agrees with the plain rule "listed org-wide, or listed
    /// for this agent", whatever the spelling of the number.
    #[test]
    fn blocking_is_org_wide_or_same_agent(
        adds in proptest::collection::vec((any_number(), any_scope()), 0..12),
        probe in any_number(),
    ) {
        let mut l = DncList::default();
        let mut model: BTreeSet<(String, Option<&str>)> = BTreeSet::new();
        let mut id = ids();
        for (p, a) in &adds {
            let added = l.add(manual(p, *a), &mut id, T0).unwrap();
            prop_assert_eq!(added, model.insert((normalize(p).unwrap(), *a)), "an entry is new once per scope");
        }
        prop_assert_eq!(l.len(), model.len());
        let key = normalize(&probe).unwrap();
        for agent in [AGENT_A, AGENT_B] {
            let want = model.contains(&(key.clone(), None)) || model.contains(&(key.clone(), Some(agent)));
            prop_assert_eq!(l.blocking(&probe, agent).is_some(), want);
        }
    }

    /// Walking the pages returns every matching entry exactly once, in
    /// order, with consistent `total`, `totalPages` and `hasMore`.
    #[test]
    fn pages_partition_the_matching_entries(
        adds in proptest::collection::vec((any_number(), any_scope()), 0..15),
        size in 1usize..5,
        by_phone in any::<bool>(),
        asc in any::<bool>(),
    ) {
        let mut l = DncList::default();
        let mut id = ids();
        for (i, (p, a)) in adds.iter().enumerate() {
            l.add(manual(p, *a), &mut id, T0 + i64::try_from(i % 4).unwrap()).unwrap();
        }
        let base = [
            ("offset", size.to_string()),
            ("sortField", if by_phone { "phoneNumber" } else { "createdAt" }.to_string()),
            ("sortOrder", if asc { "asc" } else { "desc" }.to_string()),
        ];
        let all = l.list(&query(&[("offset", "500"), ("sortField", &base[1].1), ("sortOrder", &base[2].1)]), ORG);
        let mut walked = Vec::new();
        for page in 1.. {
            let page = page.to_string();
            let pairs: Vec<(&str, &str)> =
                base.iter().map(|(k, v)| (*k, v.as_str())).chain([("page", page.as_str())]).collect();
            let p = l.list(&query(&pairs), ORG);
            prop_assert_eq!(p.pagination.total, l.len());
            prop_assert_eq!(p.pagination.total_pages, l.len().div_ceil(size));
            prop_assert!(p.entries.len() <= size);
            walked.extend(p.entries);
            if !p.pagination.has_more {
                break;
            }
        }
        prop_assert_eq!(&walked, &all.entries);
        let ids: BTreeSet<&str> = walked.iter().map(|e| e.id.as_str()).collect();
        prop_assert_eq!(ids.len(), l.len());
        let keys: Vec<&str> =
            walked.iter().map(|e| if by_phone { e.phone_number.as_str() } else { e.created_at.as_str() }).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        if !asc {
            sorted.reverse();
        }
        prop_assert_eq!(keys, sorted);
    }

    /// The list survives a JSON round trip (a persistence snapshot).
    #[test]
    fn the_list_survives_a_json_round_trip(adds in proptest::collection::vec((any_number(), any_scope()), 0..10)) {
        let mut l = DncList::default();
        let mut id = ids();
        for (p, a) in &adds {
            l.add(manual(p, *a), &mut id, T0).unwrap();
        }
        let back: DncList = serde_json::from_str(&serde_json::to_string(&l).unwrap()).unwrap();
        prop_assert_eq!(back, l);
    }
}
