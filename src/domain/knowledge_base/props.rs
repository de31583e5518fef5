//! Properties of the knowledge-base rules: the processing lifecycle over
//! random command sequences, the matcher's determinism, and the parsers'
//! robustness on arbitrary input.

use proptest::prelude::*;

use super::matcher::{best_match, terms, Source};
use super::processing::{self, apply, Command, Effect, Stage, Wake, Work};
use super::upload::{is_pdf, pdf_text};
use super::web::{page_text, parse_sitemap};
use super::Extract;

const T0: i64 = 1_767_225_600_000;

fn any_command() -> impl Strategy<Value = Command> {
    prop_oneof![
        Just(Command::Begin),
        "[a-z ]{0,40}".prop_map(|t| Command::Finish(Ok(Extract { title: None, text: t }))),
        "[a-z ]{1,20}".prop_map(|e| Command::Finish(Err(e))),
    ]
}

#[test]
fn a_file_goes_pending_processing_completed_on_the_clock() {
    let o = processing::start(3 << 20, T0);
    assert_eq!(o.next.stage.item_status(), "pending");
    assert_eq!(o.effects, vec![Effect::WakeAt(T0 + processing::QUEUE_MS, Wake::Begin)]);
    let o = apply(&o.next, &Command::Begin, T0 + 1_000).unwrap();
    assert_eq!((o.next.stage.item_status(), o.next.stage.url_status()), ("processing", "scraping"));
    assert_eq!(o.effects, vec![Effect::WakeAt(T0 + 1_000 + 5_000, Wake::Finish)], "2 s + 1 s per MiB");
    let done = Command::Finish(Ok(Extract { title: Some("T".into()), text: "Hours: 9-5".into() }));
    let o = apply(&o.next, &done, T0 + 6_000).unwrap();
    assert_eq!((o.next.stage.item_status(), o.next.text.as_str()), ("completed", "Hours: 9-5"));
    assert_eq!(o.next.updated_at, T0 + 6_000);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn processing_keeps_its_invariants(size in 0u64..(200 << 20), steps in proptest::collection::vec((any_command(), 0i64..100_000), 0..12)) {
        let mut w: Work = processing::start(size, T0).next;
        prop_assert!(w.work_ms >= processing::BASE_WORK_MS && w.work_ms <= processing::MAX_WORK_MS);
        let mut now = T0;
        for (cmd, dt) in steps {
            now += dt;
            let before = w.clone();
            let o = apply(&w, &cmd, now).expect("processing never refuses");
            if before.stage.is_terminal() {
                prop_assert_eq!(&o.next, &before, "done and failed absorb {:?}", cmd);
                prop_assert!(o.effects.is_empty());
            }
            prop_assert!(o.next.updated_at >= before.updated_at, "timestamps never go backwards");
            for Effect::WakeAt(at, _) in &o.effects {
                prop_assert!(*at >= now, "timers are never in the past");
            }
            match (before.stage, o.next.stage) {
                (a, b) if a == b => {}
                (Stage::Queued, Stage::Working) | (Stage::Working, Stage::Done | Stage::Failed) => {}
                (a, b) => prop_assert!(false, "illegal move {:?} -> {:?}", a, b),
            }
            prop_assert_eq!(o.next.stage == Stage::Failed, o.next.error.is_some());
            let back: Work = serde_json::from_str(&serde_json::to_string(&o.next).unwrap()).unwrap();
            prop_assert_eq!(&back, &o.next, "JSON round trip");
            w = o.next;
        }
    }

    #[test]
    fn the_matcher_is_deterministic_and_order_free(
        texts in proptest::collection::vec("[a-z]{3,7}( [a-z]{3,7}){0,8}(\n[a-z]{3,7}( [a-z]{3,7}){0,8}){0,3}", 1..5),
        utterance in "[a-z]{3,7}( [a-z]{3,7}){0,5}",
    ) {
        let ids: Vec<String> = (0..texts.len()).map(|i| format!("{i:024x}")).collect();
        let sources: Vec<Source<'_>> = ids.iter().zip(&texts).map(|(id, t)| Source { id, text: t }).collect();
        let m = best_match(&utterance, &sources);
        let mut reversed = sources.clone();
        reversed.reverse();
        prop_assert_eq!(&m, &best_match(&utterance, &reversed), "source order does not matter");
        prop_assert_eq!(&m, &best_match(&utterance, &sources), "same input, same answer");
        match &m {
            Some(found) => {
                let q = terms(&utterance);
                prop_assert!(terms(&found.passage).iter().any(|t| q.contains(t)), "a match shares a term");
                let src = sources.iter().find(|s| s.id == found.source_id).expect("from a given source");
                prop_assert!(src.text.contains(&found.passage), "quoted verbatim");
            }
            None => {
                let q = terms(&utterance);
                prop_assert!(texts.iter().all(|t| terms(t).is_disjoint(&q)), "no match only when nothing is shared");
            }
        }
    }

    #[test]
    fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400), text in "\\PC{0,300}") {
        let _ = is_pdf(&bytes);
        let _ = pdf_text(&bytes);
        let _ = page_text(&text, "text/html");
        let _ = parse_sitemap(&text);
        let mut pdfish = b"BT (".to_vec();
        pdfish.extend_from_slice(&bytes);
        let _ = pdf_text(&pdfish);
    }
}
