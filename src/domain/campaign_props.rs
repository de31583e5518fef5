//! Unit tests and properties of the campaign rules over random sequences
//! of commands and clock ticks.

use proptest::prelude::*;

use super::*;

const T0: Millis = 1_767_225_600_000;

fn run(p: &Progress, cmd: &Command, now: Millis) -> Outcome {
    apply(p, cmd, now).expect("accepted")
}

fn dials(fx: &[Effect]) -> Vec<(usize, u32)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Dial { member, attempt } => Some((*member, *attempt)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_scheduled_campaign_dials_everyone_when_due_and_retries_after_the_delay() {
    let p = new_progress(2, 1, 15, true, T0);
    assert_eq!(p.status, CampaignStatus::Scheduled);
    let o = run(&p, &Command::ScheduleDue, T0 + 10);
    assert_eq!(o.next.status, CampaignStatus::Running);
    assert_eq!(dials(&o.effects), vec![(0, 0), (1, 0)]);
    let o = run(&o.next, &Command::CallEnded { member: 0, result: CallResult::Unanswered }, T0 + 40);
    assert_eq!(o.effects, vec![Effect::WakeAt(T0 + 40 + 15 * 60_000)]);
    let o = run(&o.next, &Command::Tick, T0 + 40 + 15 * 60_000);
    assert_eq!(dials(&o.effects), vec![(0, 1)]);
    assert_eq!(o.next.retry_attempts, 1);
    let o = run(&o.next, &Command::CallEnded { member: 0, result: CallResult::Unanswered }, T0 + 20 * 60_000);
    assert_eq!(o.next.members[0].state, MemberState::Done { connected: false }, "out of retries");
    let o = run(&o.next, &Command::CallEnded { member: 1, result: CallResult::Connected }, T0 + 21 * 60_000);
    assert_eq!(o.next.status, CampaignStatus::Completed);
    assert_eq!(o.next.completed_at, Some(T0 + 21 * 60_000));
}

#[test]
fn start_is_a_request_and_pause_cancels_only_queued_calls() {
    let p = new_progress(3, 3, 15, false, T0);
    let o = run(&p, &Command::Start, T0);
    assert_eq!((o.next.status, o.effects.clone()), (CampaignStatus::Processing, vec![Effect::QueueStart]));
    let again = run(&o.next, &Command::Start, T0);
    assert!(again.effects.is_empty(), "idempotent");
    let o = run(&o.next, &Command::Begin, T0 + 1000);
    assert_eq!(dials(&o.effects).len(), 3);
    let o = run(&o.next, &Command::Pause, T0 + 2000);
    assert_eq!((o.next.status, o.effects.clone()), (CampaignStatus::Running, vec![Effect::QueuePause]));
    let o = run(&o.next, &Command::ApplyPause { queued: vec![1, 2] }, T0 + 3000);
    assert_eq!(o.next.status, CampaignStatus::Paused);
    assert_eq!(o.next.cancelled_calls, 2);
    assert_eq!(o.next.paused_at, Some(T0 + 3000));
    assert_eq!(o.next.members[1], MemberProgress { attempts: 0, state: MemberState::Waiting { due: T0 + 3000 } });
    let o = run(&o.next, &Command::CallEnded { member: 0, result: CallResult::Connected }, T0 + 9000);
    let o = run(&o.next, &Command::Start, T0 + 10_000);
    let o = run(&o.next, &Command::Begin, T0 + 11_000);
    assert_eq!(dials(&o.effects), vec![(1, 0), (2, 0)], "member 0 is never dialled again");
    assert!(o.effects.contains(&Effect::Event { action: "campaign_resumed", trigger: Trigger::Manual }));
}

#[test]
fn terminal_campaigns_refuse_start_and_pause_with_400_messages() {
    let mut p = new_progress(1, 0, 1, false, T0);
    p.status = CampaignStatus::Completed;
    assert_eq!(
        apply(&p, &Command::Start, T0),
        Err(DomainError::invalid("Campaign is completed and cannot be started"))
    );
    let p = new_progress(1, 0, 1, false, T0);
    assert_eq!(apply(&p, &Command::Pause, T0), Err(DomainError::invalid("Campaign is draft and cannot be paused")));
}

#[test]
fn an_empty_audience_completes_when_it_starts() {
    let p = new_progress(0, 3, 15, true, T0);
    assert_eq!(run(&p, &Command::ScheduleDue, T0).next.status, CampaignStatus::Completed);
}

#[test]
fn a_member_on_the_dnc_list_is_done_without_a_retry() {
    let p = new_progress(2, 3, 15, true, T0);
    let o = run(&p, &Command::ScheduleDue, T0);
    let o = run(&o.next, &Command::CallEnded { member: 0, result: CallResult::Blocked }, T0 + 10);
    assert_eq!(o.next.members[0].state, MemberState::Done { connected: false });
    assert!(o.effects.is_empty(), "no retry is scheduled: {:?}", o.effects);
    let o = run(&o.next, &Command::CallEnded { member: 1, result: CallResult::Connected }, T0 + 20);
    assert_eq!(o.next.status, CampaignStatus::Completed);
    assert_eq!(o.next.retry_attempts, 0);
}

#[test]
fn stop_cancels_queued_calls_retries_nobody_and_completes_when_the_last_call_ends() {
    let p = new_progress(4, 3, 15, false, T0);
    let o = run(&p, &Command::Start, T0);
    let o = run(&o.next, &Command::Begin, T0 + 1000);
    let o = run(&o.next, &Command::CallEnded { member: 3, result: CallResult::Unanswered }, T0 + 2000);
    // Member 0 is talking, 1 and 2 wait for a slot, 3 waits for its retry.
    let o = run(&o.next, &Command::Stop { queued: vec![1, 2] }, T0 + 3000);
    assert_eq!(o.next.status, CampaignStatus::Running, "a call is still in progress");
    assert_eq!(o.next.cancelled_calls, 2);
    assert_eq!(
        o.effects,
        vec![
            Effect::Cancel { member: 1 },
            Effect::Cancel { member: 2 },
            Effect::Event { action: "campaign_stopped", trigger: Trigger::Manual },
        ]
    );
    assert_eq!(o.next.members[3].state, MemberState::Done { connected: false }, "its retry is dropped");
    assert!(run(&o.next, &Command::Tick, T0 + 20 * 60_000).effects.is_empty(), "nobody is dialled again");
    let again = run(&o.next, &Command::Stop { queued: vec![] }, T0 + 4000);
    assert_eq!(again.next, o.next, "a second stop changes nothing");
    let o = run(&o.next, &Command::CallEnded { member: 0, result: CallResult::Unanswered }, T0 + 5000);
    assert_eq!((o.next.status, o.next.completed_at), (CampaignStatus::Completed, Some(T0 + 5000)));
    assert_eq!(o.next.members[0].state, MemberState::Done { connected: false }, "no retry after a stop");
}

#[test]
fn stop_completes_at_once_with_no_call_in_progress_and_is_refused_before_a_start() {
    let p = new_progress(2, 3, 15, false, T0);
    assert_eq!(
        apply(&p, &Command::Stop { queued: vec![] }, T0),
        Err(DomainError::invalid("Campaign is draft and cannot be stopped"))
    );
    let o = run(&p, &Command::Start, T0);
    let o = run(&o.next, &Command::Stop { queued: vec![] }, T0 + 500);
    assert_eq!(o.next.status, CampaignStatus::Completed);
    assert!(run(&o.next, &Command::Begin, T0 + 1000).effects.is_empty(), "the queued start finds it completed");
}

fn any_command(members: usize) -> impl Strategy<Value = Command> {
    let m = members.max(1);
    prop_oneof![
        Just(Command::Start),
        Just(Command::Pause),
        Just(Command::ScheduleDue),
        Just(Command::Begin),
        proptest::collection::vec(0..m, 0..3).prop_map(|queued| Command::ApplyPause { queued }),
        proptest::collection::vec(0..m, 0..3).prop_map(|queued| Command::Stop { queued }),
        Just(Command::Tick),
        (0..m, 0..4u8).prop_map(|(member, r)| Command::CallEnded {
            member,
            result: match r {
                0 => CallResult::Connected,
                1 => CallResult::Unanswered,
                2 => CallResult::Blocked,
                _ => CallResult::Cancelled,
            },
        }),
        Just(Command::Fail("No phone number configured".into())),
    ]
}

fn scenario() -> impl Strategy<Value = (Progress, Vec<(Command, Millis)>)> {
    (0usize..5, 0u32..4, 1u32..30, any::<bool>()).prop_flat_map(|(members, retries, delay, scheduled)| {
        let p = new_progress(members, retries, delay, scheduled, T0);
        let steps = proptest::collection::vec((any_command(members), 0i64..3_600_000), 0..60);
        (Just(p), steps)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_runs_keep_every_invariant((start, steps) in scenario()) {
        let mut p = start;
        let mut now = T0;
        let mut in_flight = vec![false; p.members.len()];
        let mut placed = vec![0u32; p.members.len()];
        for (cmd, dt) in steps {
            now += dt;
            let before = p.clone();
            let Ok(o) = apply(&p, &cmd, now) else {
                // Only API requests can be refused, and only on these statuses.
                let refusable = matches!(cmd, Command::Start | Command::Pause | Command::Stop { .. });
                prop_assert!(refusable);
                continue;
            };
            if before.status.is_terminal() {
                prop_assert_eq!(&o.next, &before, "terminal states absorb {:?}", cmd);
                prop_assert!(o.effects.is_empty());
            }
            prop_assert!(o.next.updated_at >= before.updated_at, "timestamps never go backwards");
            for t in [o.next.paused_at, o.next.completed_at, o.next.failed_at, o.next.started_at].into_iter().flatten() {
                prop_assert!(t <= o.next.updated_at.max(now));
            }
            if let Command::CallEnded { member, .. } = cmd {
                let was = before.members.get(member).map(|m| m.state);
                let is = o.next.members.get(member).map(|m| m.state);
                if was == Some(MemberState::Dialling) && is != Some(MemberState::Dialling) {
                    in_flight[member] = false;
                }
            }
            for e in &o.effects {
                match e {
                    Effect::Dial { member, attempt } => {
                        prop_assert!(!in_flight[*member], "member {} dialled while a call is live", member);
                        prop_assert_eq!(*attempt, placed[*member], "attempts count up by one");
                        in_flight[*member] = true;
                        placed[*member] += 1;
                        prop_assert!(placed[*member] <= before.max_retries + 1, "never more than 1 + maxRetries dials");
                        prop_assert_eq!(before.status.is_terminal(), false);
                        prop_assert!(!before.stop_requested && !o.next.stop_requested, "a stopped campaign dials nobody");
                    }
                    Effect::Cancel { member } => {
                        in_flight[*member] = false;
                        placed[*member] -= 1;
                    }
                    Effect::QueueStart | Effect::QueuePause | Effect::WakeAt(_) | Effect::Event { .. } => {}
                }
            }
            for (i, m) in o.next.members.iter().enumerate() {
                prop_assert_eq!(m.attempts, placed[i]);
                prop_assert_eq!(m.state == MemberState::Dialling, in_flight[i]);
            }
            if o.next.stop_requested && !o.next.status.is_terminal() {
                let talking = o.next.members.iter().any(|m| m.state == MemberState::Dialling);
                prop_assert!(talking, "a stopped campaign completes once no call is in progress");
            }
            if o.next.status == CampaignStatus::Completed {
                let all_done = o.next.members.iter().all(|m| matches!(m.state, MemberState::Done { .. }));
                prop_assert!(all_done);
            }
            let json = serde_json::to_string(&o.next).expect("serialize");
            let back: Progress = serde_json::from_str(&json).expect("deserialize");
            prop_assert_eq!(&back, &o.next, "JSON round trip");
            p = o.next;
        }
    }
}
