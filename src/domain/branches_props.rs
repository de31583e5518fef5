//! Properties of v2 versioning (`super::branches`) over random command
//! sequences: committed revisions never change, exactly one branch is live
//! and serves the active config, revision numbers are consecutive per
//! branch, and a rejected command changes nothing.

use std::collections::HashMap;

use proptest::prelude::*;
use serde_json::json;

use super::agent::OrgAccess;
use super::branches::BranchCommand;
use super::config::ConfigMap;
use super::versioning::{self, AgentRecord, Command, RevState, Rules};
use super::Millis;

use super::versioning_props::{hex_id, start_record, OWNER, T0};
const RULES: Rules = Rules {
    security_check_ms: 6000,
    access: OrgAccess { gated_models: false, conversational_agents: true, role: super::role::Role::Owner },
    config_freeze: false,
};

fn start() -> AgentRecord {
    start_record()
}

/// A command with branch and revision picks resolved against the record
/// at the time it runs (index modulo the current count).
#[derive(Debug, Clone)]
enum Op {
    Create(usize, u8),
    Rename(usize, u8),
    Archive(usize),
    Live(usize),
    Put(usize, u8, Option<u32>),
    Discard(usize),
    Publish(usize, bool),
    Scan(usize),
    Cancel(usize),
    Restore(usize, usize),
}

fn op() -> impl Strategy<Value = Op> {
    let b = 0..4usize;
    prop_oneof![
        (b.clone(), 0..4u8).prop_map(|(b, n)| Op::Create(b, n)),
        (b.clone(), 0..4u8).prop_map(|(b, n)| Op::Rename(b, n)),
        b.clone().prop_map(Op::Archive),
        b.clone().prop_map(Op::Live),
        (b.clone(), 0..6u8, proptest::option::of(0..4u32)).prop_map(|(b, p, e)| Op::Put(b, p, e)),
        b.clone().prop_map(Op::Discard),
        (b.clone(), proptest::bool::weighted(0.2)).prop_map(|(b, f)| Op::Publish(b, f)),
        (0..8usize).prop_map(Op::Scan),
        b.clone().prop_map(Op::Cancel),
        (b, 0..8usize).prop_map(|(b, r)| Op::Restore(b, r)),
    ]
}

fn patch(p: u8) -> ConfigMap {
    let v = match p {
        0 => json!({"firstMessage": "a"}),
        1 => json!({"firstMessage": "b"}),
        2 => json!({"globalPrompt": "p"}),
        3 => json!({"voiceDetectionConfig": {"confidence": 0.5}}),
        4 => json!({"voiceDetectionConfig": {"minVolume": 0.2}}),
        _ => json!({"firstMessage": ""}),
    };
    v.as_object().cloned().unwrap_or_default()
}

fn resolve(op: &Op, rec: &AgentRecord, fresh: &mut u64) -> BranchCommand {
    let pick = |i: usize| rec.branches[i % rec.branches.len()].id.to_string();
    let rows: Vec<&versioning::Version> = rec.versions.iter().collect();
    let row = |i: usize| rows[i % rows.len()].id.to_string();
    *fresh += 1;
    let new = hex_id(100 + *fresh);
    let names = ["exp", "staging", "Main", "x"];
    match op {
        Op::Create(b, n) => {
            BranchCommand::Create { id: new, source_branch_id: pick(*b), name: names[*n as usize].into() }
        }
        Op::Rename(b, n) => BranchCommand::Rename { branch: pick(*b), name: names[*n as usize].into() },
        Op::Archive(b) => BranchCommand::Archive { branch: pick(*b) },
        Op::Live(b) => BranchCommand::MakeLive { branch: pick(*b) },
        Op::Put(b, p, e) => {
            BranchCommand::PutDraft { branch: pick(*b), draft_id: new, patch: patch(*p), expected_revision: *e }
        }
        Op::Discard(b) => BranchCommand::DiscardDraft { branch: pick(*b) },
        Op::Publish(b, f) => BranchCommand::Publish { branch: pick(*b), revision_id: new, label: None, scan_fails: *f },
        Op::Scan(r) => BranchCommand::ScanComplete { revision_id: row(*r) },
        Op::Cancel(b) => BranchCommand::CancelPublish { branch: pick(*b) },
        Op::Restore(b, r) => BranchCommand::Restore { branch: pick(*b), revision_id: row(*r), new_id: new },
    }
}

/// Every state of the fold, with the number of rejected commands.
fn fold(ops: &[(Op, u16)]) -> (Vec<AgentRecord>, usize) {
    let (mut rec, mut now, mut fresh, mut rejected) = (start(), T0, 0, 0);
    let mut states = vec![rec.clone()];
    for (op, gap) in ops {
        now += Millis::from(*gap);
        let cmd = Command::Branch(resolve(op, &rec, &mut fresh));
        let before = rec.clone();
        match versioning::apply(&rec, &cmd, now, OWNER, RULES) {
            Ok(next) => rec = next,
            Err(_) => {
                assert_eq!(rec, before, "a rejected command changes nothing");
                rejected += 1;
            }
        }
        states.push(rec.clone());
    }
    (states, rejected)
}

fn ops() -> impl Strategy<Value = Vec<(Op, u16)>> {
    proptest::collection::vec((op(), 0..8000u16), 1..40)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// R017: under a config freeze, the frozen-out commands answer 423
    /// `Locked` from any state and change nothing; every other command
    /// answers exactly as without the freeze.
    #[test]
    fn a_config_freeze_locks_the_write_commands_and_nothing_else(ops in ops(), last in op()) {
        let (states, _) = fold(&ops);
        let rec = states.last().expect("a state");
        let cmd = resolve(&last, rec, &mut 1000);
        let frozen = Rules { config_freeze: true, ..RULES };
        let out = versioning::apply(rec, &Command::Branch(cmd.clone()), T0 + 90_000_000, OWNER, frozen);
        if cmd.frozen_out() {
            prop_assert_eq!(out, Err(super::DomainError::Locked(super::branches::CONFIG_FROZEN.into())));
        } else {
            let free = versioning::apply(rec, &Command::Branch(cmd), T0 + 90_000_000, OWNER, RULES);
            prop_assert_eq!(out, free);
        }
    }

    /// R068, R094: once committed, a revision's config, blocks, number and
    /// branch never change, and it stays committed.
    #[test]
    fn committed_revisions_never_change(ops in ops()) {
        let (states, _) = fold(&ops);
        let mut seen: HashMap<String, versioning::Version> = HashMap::new();
        for rec in &states {
            for v in rec.versions.iter().filter(|v| v.is_committed()) {
                if let Some(old) = seen.get(v.id.as_str()) {
                    prop_assert_eq!(&old.config, &v.config);
                    prop_assert_eq!(&old.blocks, &v.blocks);
                    prop_assert_eq!(old.revision_number, v.revision_number);
                    prop_assert_eq!(&old.branch, &v.branch);
                }
                seen.insert(v.id.to_string(), v.clone());
            }
            for id in seen.keys() {
                prop_assert!(rec.version(id).is_some_and(|v| v.state == RevState::Committed));
            }
        }
    }

    /// R068, R079, R089: exactly one live branch, never archived, whose
    /// head is the agent's active version.
    #[test]
    fn exactly_one_live_branch_serves_the_active_config(ops in ops()) {
        let (states, _) = fold(&ops);
        for rec in &states {
            let live = rec.branch(&rec.live_branch);
            prop_assert!(live.is_some_and(|b| !b.archived));
            prop_assert_eq!(live.and_then(|b| b.head_revision_id.clone()), Some(rec.agent.active_version_id.clone()));
            prop_assert_eq!(rec.branches.iter().filter(|b| b.is_default).count(), 1);
        }
    }

    /// R068: committed revisions of a branch are numbered 1..n, and at most
    /// one publish scans per branch (R088).
    #[test]
    fn revision_numbers_are_consecutive_per_branch(ops in ops()) {
        let (states, _) = fold(&ops);
        for rec in &states {
            for b in &rec.branches {
                let mut n: Vec<u32> = rec.branch_revisions(&b.id).filter(|v| v.is_committed()).filter_map(|v| v.revision_number).collect();
                n.sort_unstable();
                prop_assert_eq!(n.clone(), (1..=u32::try_from(n.len()).unwrap_or(0)).collect::<Vec<_>>());
                let scanning = rec.versions.iter().filter(|v| v.branch.as_deref() == Some(&b.id) && v.state == RevState::Scanning).count();
                prop_assert!(scanning <= 1);
                prop_assert_eq!(scanning == 1, b.publishing.is_some());
            }
        }
    }

    /// Every state survives being rebuilt from its own parts: drafts
    /// always hold one snapshot per revision (the conflict check's base).
    #[test]
    fn draft_snapshots_track_every_revision(ops in ops()) {
        let (states, _) = fold(&ops);
        for rec in &states {
            for d in rec.branches.iter().filter_map(|b| b.draft.as_ref()) {
                prop_assert_eq!(d.snapshots.len() + d.first_snapshot as usize, d.revision as usize + 1);
                prop_assert_eq!(d.snapshots.last(), Some(&d.config));
            }
        }
    }
}

#[test]
fn the_generator_reaches_commits_conflicts_and_live_switches() {
    let ops = vec![
        (Op::Put(0, 0, Some(0)), 0),
        (Op::Put(0, 2, Some(0)), 0),
        (Op::Put(0, 1, Some(0)), 0),
        (Op::Publish(0, false), 0),
        (Op::Scan(1), 6000),
        (Op::Create(0, 0), 0),
        (Op::Put(1, 3, None), 0),
        (Op::Publish(1, false), 0),
        (Op::Scan(2), 6000),
        (Op::Live(1), 0),
    ];
    let (states, rejected) = fold(&ops);
    let last = states.last().expect("state");
    assert_eq!(rejected, 1, "the third PUT conflicts on firstMessage");
    assert_eq!(last.branches.len(), 2);
    assert_eq!(last.live_branch, last.branches[1].id);
    assert_eq!(last.versions.iter().filter(|v| v.is_committed()).count(), 3);
}
