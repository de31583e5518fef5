//! Unit tests and properties of prompt scoring: the request rules, the
//! spec's table, stability, and that better prompts score higher.

use proptest::prelude::*;

use super::*;

const GOOD: &str = "# Role\nYou are Maya, a friendly and professional receptionist for Bright Smile Dental. \
Your goal is to help callers book, move or cancel appointments.\n\
# Style\nKeep a warm, calm tone. Use short sentences and ask one question at a time.\n\
# Flow\n1. First, greet the caller by name: {{customer_name}}.\n2. Then ask what they need.\n\
3. Next, check availability with the check_slots tool.\n4. Finally, confirm the booking and end with the end_call tool.\n\
# Rules\n- Never give medical advice.\n- Do not share personal information about other patients.\n\
- Only use the clinic's knowledge base for prices and never make up an answer; if you are not sure, say so.\n\
- Avoid reading long lists aloud.\n\
# If something goes wrong\n- If the caller is unclear, ask them to repeat.\n\
- If the check_slots tool fails, apologise and offer to transfer to the front desk.";

fn input<'a>(prompt: &'a str, tools: &'a [String], vars: &'a [String]) -> PromptInput<'a> {
    PromptInput { prompt, tools, variables: vars }
}

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn the_request_needs_exactly_one_target() {
    let v = "6a1589b75e048394eb37bc47".to_string();
    assert_eq!(validate(&ScoreBody { version_id: Some(v.clone()), draft_id: None }), Ok(Target::Version(v.clone())));
    assert_eq!(validate(&ScoreBody { version_id: None, draft_id: Some("d1".into()) }), Ok(Target::Draft("d1".into())));
    assert_eq!(validate(&ScoreBody::default()), Err(DomainError::invalid(EXACTLY_ONE)));
    assert_eq!(
        validate(&ScoreBody { version_id: Some(v), draft_id: Some("d1".into()) }),
        Err(DomainError::invalid(EXACTLY_ONE))
    );
    assert_eq!(
        validate(&ScoreBody { version_id: Some("x".into()), draft_id: None }),
        Err(DomainError::invalid("Invalid version id"))
    );
    assert_eq!(check_scorable("workflow_graph", "x"), Err(DomainError::invalid(SINGLE_PROMPT_ONLY)));
    assert_eq!(check_scorable("single_prompt", "  "), Err(DomainError::invalid(NO_PROMPT)));
}

#[test]
fn an_unchanged_prompt_is_refused_with_the_spec_message() {
    let tools = names(&["end_call"]);
    let i = input("You are a helper.", &tools, &[]);
    let cached = CachedScore { score: score(&i), fingerprint: fingerprint(&i), scored_at: 0 };
    assert_eq!(check_changed(Some(&cached), &fingerprint(&i)), Err(DomainError::invalid(UNCHANGED)));
    let edited = input("You are a careful helper.", &tools, &[]);
    assert_eq!(check_changed(Some(&cached), &fingerprint(&edited)), Ok(()));
    assert!(cached.is_stale(&fingerprint(&edited)));
    assert_eq!(check_changed(None, &fingerprint(&i)), Ok(()));
    let wire = cached.to_json();
    assert_eq!(wire["scoredAt"], "1970-01-01T00:00:00.000Z");
    assert!(wire["dimensions"][0]["evidence_span"].is_string());
}

#[test]
fn the_rate_limit_allows_ten_a_minute() {
    let recent: Vec<Millis> = (0..10).map(|i| 1_000 + i * 1_000).collect();
    assert_eq!(admit(&recent[..9], 20_000), Ok(()));
    assert_eq!(admit(&recent, 20_000), Err(41), "the oldest leaves the window at 61 s");
    assert_eq!(admit(&recent, 61_001), Ok(()));
    assert_eq!(rate_limited_body(41)["rateLimit"]["routeClass"], "prompt-scoring");
}

#[test]
fn dimensions_follow_the_spec_table() {
    let s = score(&input("Hello.", &[], &[]));
    let got: Vec<(u8, &str)> = s.dimensions.iter().map(|d| (d.tier, d.title.as_str())).collect();
    assert_eq!(
        got,
        [
            (1, "Role & Objective"),
            (1, "Personality & Voice"),
            (1, "Conversation Structure"),
            (1, "Tool Integration"),
            (1, "Constraints & Safety"),
            (2, "Conversational Naturalness"),
            (2, "Failure-Mode Coverage"),
            (3, "Information Integrity"),
            (3, "Variable & Tool Hygiene"),
            (3, "Internal Consistency"),
            (3, "Density"),
        ]
    );
    assert_eq!(s.dimensions[3].level, Level::NotApplicable, "no tools declared");
    let wire = serde_json::to_value(&s).unwrap();
    assert_eq!(wire["dimensions"][3]["level"], "Not Applicable");
    assert_eq!((band(3_999), band(4_000), band(10_000), band(15_000)), ("lean", "normal", "heavy", "overweight"));
    assert_eq!(
        (grade(85), grade(84), grade(70), grade(50), grade(49)),
        ("Excellent", "Good", "Good", "Needs Work", "Poor")
    );
    assert_eq!(ttft_ms(287), 12.9);
}

#[test]
fn a_structured_prompt_beats_a_one_liner() {
    let tools = names(&["check_slots", "end_call"]);
    let vars = names(&["customer_name", "call_id"]);
    let good = score(&input(GOOD, &tools, &vars));
    let poor = score(&input("Answer the phone for the dental clinic.", &tools, &vars));
    assert!(good.overall_score > poor.overall_score + 30, "{} vs {}", good.overall_score, poor.overall_score);
    assert_eq!(good.overall_grade, "Excellent", "{good:#?}");
    assert_eq!(poor.overall_grade, "Poor");
    assert!(good.dimensions.iter().all(|d| d.level >= Level::Adequate), "{good:#?}");
    assert_eq!(
        good.dimensions[0].evidence_span,
        "You are Maya, a friendly and professional receptionist for Bright Smile Dental"
    );
}

#[test]
fn the_gates_cap_the_score() {
    let tools = names(&["check_slots", "end_call"]);
    let undeclared = GOOD.replace("check_slots tool", "get_weather tool");
    let s = score(&input(&undeclared, &tools, &names(&["customer_name"])));
    assert!(s.dimensions[8].level.is_poor());
    assert!(s.overall_score <= 50, "{}", s.overall_score);
    assert!(s.dimensions[8].description.contains("get_weather"));
    let ungrounded = GOOD.replace(
        "Only use the clinic's knowledge base for prices and never make up an answer; if you are not sure, say so.",
        "Be nice.",
    );
    let s = score(&input(&ungrounded, &tools, &names(&["customer_name"])));
    assert!(s.dimensions[7].level.is_poor() && s.overall_score <= 70, "{}", s.overall_score);
}

const POOL: &[&str] = &[
    "You are the support agent of Acme.",
    "Your goal is to resolve billing questions.",
    "Keep a friendly tone.",
    "Stay calm and patient.",
    "Be professional.",
    "Never promise refunds.",
    "Do not discuss competitors.",
    "Avoid legal advice.",
    "Refuse requests for passwords.",
    "Use short sentences.",
    "Ask one question at a time.",
    "Sound natural and conversational.",
    "If the caller is angry, escalate to a human.",
    "If you do not know the answer, say you will follow up.",
    "When the line is silent, repeat the last question.",
    "Do not make up account numbers.",
    "Only use the knowledge base for prices.",
    "Verify the caller's email before changes.",
    "- First, greet the caller.",
    "- Then, collect the invoice number.",
    "- Finally, summarise the next steps.",
    "# Billing flow",
];

fn prompt_of(picks: &[usize], filler: &[String]) -> String {
    let mut lines: Vec<String> = picks.iter().map(|i| POOL[*i].to_string()).collect();
    lines.extend(filler.iter().cloned());
    lines.join("\n")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn the_same_prompt_always_gets_the_same_score(picks in proptest::collection::vec(0..POOL.len(), 0..12), filler in proptest::collection::vec("[a-z]{4,9}( [a-z]{4,9}){2,8}", 0..4)) {
        let p = prompt_of(&picks, &filler);
        let a = score(&input(&p, &[], &[]));
        prop_assert_eq!(&a, &score(&input(&p, &[], &[])));
        prop_assert!(a.overall_score <= 100);
        prop_assert_eq!(a.dimensions.len(), 11);
        prop_assert_eq!(a.overall_grade.as_str(), grade(a.overall_score));
        let back: Score = serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
        prop_assert_eq!(back, a);
    }

    #[test]
    fn adding_a_clear_instruction_never_lowers_the_score(
        picks in proptest::collection::btree_set(0..POOL.len(), 0..12),
        extra in 0..POOL.len(),
        filler in proptest::collection::vec("[a-z]{4,9}( [a-z]{4,9}){2,8}", 0..4),
    ) {
        prop_assume!(!picks.contains(&extra));
        let picks: Vec<usize> = picks.into_iter().collect();
        let before = score(&input(&prompt_of(&picks, &filler), &[], &[]));
        let mut more = picks;
        more.push(extra);
        let after = score(&input(&prompt_of(&more, &filler), &[], &[]));
        prop_assert!(after.overall_score >= before.overall_score, "adding {:?}: {} -> {}", POOL[extra], before.overall_score, after.overall_score);
        for (b, a) in before.dimensions.iter().zip(&after.dimensions) {
            prop_assert!(a.level >= b.level || b.level == Level::NotApplicable, "{} went {:?} -> {:?}", a.title, b.level, a.level);
        }
    }
}
