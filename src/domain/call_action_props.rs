//! Unit tests and properties of the call-action rules.

use proptest::prelude::*;

use super::*;

const AGENT: &str = "60d0fe4f5311236168a109ca";
const OTHER: &str = "60d0fe4f5311236168a109cb";
const T0: Millis = 1_767_225_600_000;

fn body(category: &str, phone: Option<&str>) -> ActionBody {
    ActionBody {
        agent_id: Some(AGENT.into()),
        category: Some(category.into()),
        provider: Some("hubspot".into()),
        action_type: Some("update".into()),
        object: Some("contact".into()),
        config: Some(ConfigBody {
            phone_number_field_name: phone.map(str::to_string),
            conditions: None,
            body: Some(r#"{"id": "{{callId}}", "status": "{{callStatus}}", "x": "{{unknown}}"}"#.into()),
        }),
    }
}

fn action(id: &str, category: &str, agent: &str) -> CallAction {
    let mut b = body(category, Some("phone"));
    b.agent_id = Some(agent.into());
    validate_create(&b, id.into(), "o".into(), T0).expect("valid")
}

fn ended<'a>(vars: &'a Map<String, Value>, status: &'a str) -> EndedCall<'a> {
    EndedCall {
        call_id: "CALL-1767225600000-abcdef",
        agent_id: AGENT,
        status,
        call_type: "telephony_outbound",
        duration_seconds: 42.5,
        disconnect_reason: "user_hangup",
        from: "+14155550100",
        to: "+14155550123",
        variables: vars,
    }
}

#[test]
fn trigger_actions_need_a_phone_field_on_create_and_after_update() {
    assert_eq!(
        validate_create(&body("trigger", None), "i".into(), "o".into(), T0),
        Err(DomainError::invalid(PHONE_FIELD_REQUIRED))
    );
    assert_eq!(
        validate_create(&body("trigger", Some("  ")), "i".into(), "o".into(), T0),
        Err(DomainError::invalid(PHONE_FIELD_REQUIRED))
    );
    let post = validate_create(&body("post-call", None), "i".into(), "o".into(), T0).unwrap();
    let to_trigger = ActionBody { category: Some("trigger".into()), ..ActionBody::default() };
    assert_eq!(apply_update(&post, &to_trigger, T0 + 1), Err(DomainError::invalid(PHONE_FIELD_REQUIRED)));
    let with_phone = ActionBody {
        category: Some("trigger".into()),
        config: Some(ConfigBody { phone_number_field_name: Some("phone".into()), ..ConfigBody::default() }),
        ..ActionBody::default()
    };
    let t = apply_update(&post, &with_phone, T0 + 1).unwrap();
    assert_eq!((t.category, t.updated_at, t.config.body.is_some()), (Category::Trigger, T0 + 1, true), "body kept");
}

#[test]
fn create_reports_each_missing_or_bad_field() {
    let mut b = body("post-call", None);
    b.category = Some("during".into());
    assert_eq!(
        validate_create(&b, "i".into(), "o".into(), T0),
        Err(DomainError::invalid("category: Invalid enum value. Expected 'trigger' | 'post-call', received 'during'"))
    );
    b.category = None;
    assert_eq!(validate_create(&b, "i".into(), "o".into(), T0), Err(DomainError::invalid("category: Required")));
    let mut b = body("post-call", None);
    b.agent_id = Some("x".into());
    assert_eq!(validate_create(&b, "i".into(), "o".into(), T0), Err(DomainError::invalid("Invalid agent id")));
    let mut b = body("post-call", None);
    b.config = Some(ConfigBody {
        conditions: Some(vec![ConditionBody {
            field: Some("a".into()),
            operator: Some("like".into()),
            value: Some("b".into()),
        }]),
        ..ConfigBody::default()
    });
    let err = validate_create(&b, "i".into(), "o".into(), T0).unwrap_err().to_string();
    assert!(err.starts_with("config.conditions.0.operator: Invalid enum value."), "{err}");
    assert_eq!(validate_list(&ListQuery::default()), Err(DomainError::invalid("agentId: Required")));
}

#[test]
fn a_post_call_action_fires_once_per_call_of_its_agent_with_the_body_filled() {
    let actions = [action("a1", "post-call", AGENT), action("a2", "post-call", OTHER), action("a3", "trigger", AGENT)];
    let vars = Map::from_iter([("customer".to_string(), json!("Ana"))]);
    let runs = post_call_runs(&actions, &ended(&vars, "completed"), T0);
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].action_id, "a1");
    assert_eq!(runs[0].call_id.as_deref(), Some("CALL-1767225600000-abcdef"));
    assert_eq!(runs[0].payload, r#"{"id": "CALL-1767225600000-abcdef", "status": "completed", "x": "{{unknown}}"}"#);
    let mut only_completed = actions[0].clone();
    only_completed.config.conditions =
        vec![Condition { field: "callStatus".into(), operator: Operator::Eq, value: "completed".into() }];
    assert!(post_call_runs(std::slice::from_ref(&only_completed), &ended(&vars, "no_answer"), T0).is_empty());
}

#[test]
fn a_trigger_places_a_call_to_the_record_number_or_records_why_not() {
    let actions = [action("t1", "trigger", AGENT), action("p1", "post-call", AGENT)];
    let ev = ProviderEvent {
        provider: "HubSpot".into(),
        object: Some("contact".into()),
        action_type: Some(ActionType::Update),
        record: Map::from_iter([
            ("phone".into(), json!("+14155550123")),
            ("name".into(), json!("Ana")),
            ("tags".into(), json!(["x"])),
        ]),
    };
    let (dials, failed) = plan_trigger(&actions, &ev, T0);
    assert!(failed.is_empty());
    assert_eq!(dials.len(), 1);
    assert_eq!((dials[0].agent_id.as_str(), dials[0].phone.as_str()), (AGENT, "+14155550123"));
    assert_eq!(dials[0].variables.len(), 2, "scalar fields only");
    let create = ProviderEvent { action_type: Some(ActionType::Create), ..ev.clone() };
    assert!(plan_trigger(&actions, &create, T0).0.is_empty(), "the operation must match");
    let no_phone = ProviderEvent { record: Map::from_iter([("phone".into(), json!("n/a"))]), ..ev };
    let (dials, failed) = plan_trigger(&actions, &no_phone, T0);
    assert!(dials.is_empty());
    assert_eq!(failed[0].outcome, "failed");
}

#[test]
fn conditions_compare_numbers_as_numbers() {
    let f: Fields = [("duration".to_string(), "42.5".to_string()), ("tier".to_string(), "gold".to_string())].into();
    let c = |field: &str, operator, value: &str| Condition { field: field.into(), operator, value: value.into() };
    assert!(holds(&c("duration", Operator::Gt, "30"), &f));
    assert!(holds(&c("duration", Operator::Eq, "42.50"), &f));
    assert!(!holds(&c("tier", Operator::Gt, "a"), &f), "ordering needs numbers");
    assert!(holds(&c("tier", Operator::In, "silver, gold"), &f));
    assert!(holds(&c("missing", Operator::Neq, "x"), &f) && !holds(&c("missing", Operator::Eq, "x"), &f));
}

fn any_operator() -> impl Strategy<Value = Operator> {
    proptest::sample::select(vec![
        Operator::Eq,
        Operator::Neq,
        Operator::Gt,
        Operator::Gte,
        Operator::Lt,
        Operator::Lte,
        Operator::In,
        Operator::Nin,
        Operator::Contains,
        Operator::NotContains,
        Operator::StartsWith,
        Operator::EndsWith,
    ])
}

proptest! {
    #[test]
    fn negated_operators_are_exact_complements(got in "[a-c0-9.,]{0,6}", value in "[a-c0-9., ]{0,6}", present in any::<bool>()) {
        let f: Fields = if present { [("f".to_string(), got)].into() } else { Fields::new() };
        let c = |operator| Condition { field: "f".into(), operator, value: value.clone() };
        if present {
            prop_assert_eq!(holds(&c(Operator::Eq), &f), !holds(&c(Operator::Neq), &f));
            prop_assert_eq!(holds(&c(Operator::In), &f), !holds(&c(Operator::Nin), &f));
            prop_assert_eq!(holds(&c(Operator::Contains), &f), !holds(&c(Operator::NotContains), &f));
        }
    }

    #[test]
    fn post_call_runs_are_at_most_one_per_matching_action(
        specs in proptest::collection::vec((any::<bool>(), any::<bool>(), any_operator(), "[a-z0-9]{0,4}"), 0..8),
        status in proptest::sample::select(vec!["completed", "no_answer", "failed", "cancelled"]),
    ) {
        let actions: Vec<CallAction> = specs.iter().enumerate().map(|(i, (post, mine, op, value))| {
            let mut a = action(&format!("a{i}"), if *post { "post-call" } else { "trigger" }, if *mine { AGENT } else { OTHER });
            a.config.conditions = vec![Condition { field: "callStatus".into(), operator: *op, value: value.clone() }];
            a
        }).collect();
        let vars = Map::new();
        let call = ended(&vars, status);
        let runs = post_call_runs(&actions, &call, T0);
        let mut seen = std::collections::BTreeSet::new();
        for r in &runs {
            prop_assert!(seen.insert(r.action_id.clone()), "once per action and call");
            let a = actions.iter().find(|a| a.id == r.action_id).unwrap();
            prop_assert!(a.category == Category::PostCall && a.agent_id == AGENT);
            prop_assert!(conditions_hold(a, &call_fields(&call)));
            prop_assert_eq!(r.fired_at, T0);
        }
        let eligible = actions.iter().filter(|a| a.category == Category::PostCall && a.agent_id == AGENT && conditions_hold(a, &call_fields(&call))).count();
        prop_assert_eq!(runs.len(), eligible);
    }

    #[test]
    fn body_templates_never_panic_and_keep_plain_text(t in "\\PC{0,60}") {
        let filled = fill_body(&t, &Fields::new());
        prop_assert_eq!(filled, t, "nothing to fill leaves the text as it is");
    }

    #[test]
    fn actions_survive_a_json_round_trip(post in any::<bool>(), n in 0usize..3) {
        let mut a = action("x", if post { "post-call" } else { "trigger" }, AGENT);
        a.config.conditions = vec![Condition { field: "f".into(), operator: Operator::StartsWith, value: "v".into() }; n];
        let back: CallAction = serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
        prop_assert_eq!(back, a);
    }
}
