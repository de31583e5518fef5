//! A campaign's lifecycle and its members' progress (BEHAVIOR R162–R167,
//! L-H5), as one pure function: [`apply`] takes the current [`Progress`],
//! a [`Command`] and "now", and returns the next progress plus the
//! [`Effect`]s the engine must carry out (dial a member, cancel queued
//! calls, wake up later, record an event).
//!
//! ```text
//! draft ─start─▶ processing ─begin─▶ running ─every member done─▶ completed
//! scheduled ─scheduledAt─▶ running          running ─pause…apply─▶ paused
//! scheduled ─start─▶ processing             paused ─start─▶ processing ─begin─▶ running
//! processing|running|paused ─stop─▶ running (calls in flight) ─last one ends─▶ completed
//! processing|running|paused ─stop─▶ completed (none in flight)
//! any non-terminal ─campaign-level error─▶ failed
//! ```
//!
//! `start` and `pause` are *requests*: they return at once and a task
//! moves the status later ([`Effect::QueueStart`], [`Effect::QueuePause`]),
//! as the platform's 202/200 answers say (R164, R166). A member is dialled
//! only when it is waiting and due, and is then "dialling" until its call
//! ends, so it never has two calls at once; a no-answer or failed attempt
//! waits `retryDelay` and is retried while attempts ≤ `maxRetries`
//! (R167). `completed` and `failed` absorb every command: the API commands
//! are refused, the system ones change nothing.
//!
//! `stop` is in no BEHAVIOR rule and not in the spec: the vendor's SDK
//! guide (`campaigns/dev-phone-calling/campaigns.mdx`, "Stopping a Running
//! Campaign", `Campaign.stop` → `POST /campaign/{id}/stop`) documents it
//! "only for running campaigns". The mock's reading (inferred): it takes
//! effect at once, dials nobody again (no retries either), cancels calls
//! still waiting for a slot as a pause does, and lets calls in progress
//! finish; the campaign is `completed` when the last of them ends.
//!
//! What this module does not do: place or cancel calls, read the clock or
//! know call ids. The engine (`crate::campaigns`) does that with the effects.

use serde::{Deserialize, Serialize};

use super::{DomainError, Millis};

/// Campaign status (R163). There is no `active` on the wire (L-H1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CampaignStatus {
    /// Created without `scheduledAt`; waits for `start`.
    Draft,
    /// Created with `scheduledAt`; starts itself then.
    Scheduled,
    /// A start (or resume) request is queued.
    Processing,
    /// Dialling.
    Running,
    /// No new dials; queued calls were cancelled.
    Paused,
    /// Every member is done.
    Completed,
    /// A campaign-level error (`error`, `failedAt`).
    Failed,
}

impl CampaignStatus {
    /// Every status, in the spec's order.
    pub const ALL: [Self; 7] =
        [Self::Draft, Self::Scheduled, Self::Processing, Self::Running, Self::Paused, Self::Completed, Self::Failed];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Scheduled => "scheduled",
            Self::Processing => "processing",
            Self::Running => "running",
            Self::Paused => "paused",
            Self::Completed => "completed",
            Self::Failed => "failed",
        }
    }

    /// The status named `s` (wire name), if any.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// `completed` or `failed`.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Failed)
    }
}

/// Every `eventAction` a campaign event may have (R170).
pub const EVENT_ACTIONS: [&str; 6] = [
    "campaign_started",
    "campaign_resumed",
    "campaign_paused",
    "campaign_stopped",
    "campaign_completed",
    "campaign_failed",
];

/// Who caused a campaign event (`triggerSource`, R170).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Trigger {
    /// An API call (`start`, `pause`, `stop`).
    Manual,
    /// `scheduledAt` was reached.
    Scheduler,
    /// The dialler itself (completion, failure).
    System,
}

impl Trigger {
    /// The wire name: `manual`, `system_scheduler` or `system`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manual => "manual",
            Self::Scheduler => "system_scheduler",
            Self::System => "system",
        }
    }
}

/// Where one member stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MemberState {
    /// To be dialled once the campaign runs and the clock reaches `due`
    /// (epoch ms; 0 for the first attempt).
    Waiting {
        /// Earliest dial time, epoch ms.
        due: Millis,
    },
    /// A call is placed and has not ended.
    Dialling,
    /// No more calls: answered, or out of retries, or cancelled.
    Done {
        /// A call of this member completed (`contacts_connected`).
        connected: bool,
    },
}

/// One member's progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberProgress {
    /// Calls placed that were not cancelled before dialling.
    pub attempts: u32,
    /// Its state.
    pub state: MemberState,
}

/// A campaign's lifecycle state: everything [`apply`] reads and writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// Status.
    pub status: CampaignStatus,
    /// Retries per member after the first attempt (0–10).
    pub max_retries: u32,
    /// Wait between an attempt's end and its retry, ms.
    pub retry_delay_ms: Millis,
    /// Last change, epoch ms; never goes backwards.
    pub updated_at: Millis,
    /// First time it ran, epoch ms.
    pub started_at: Option<Millis>,
    /// Last pause, epoch ms (`pausedAt`).
    pub paused_at: Option<Millis>,
    /// When it completed, epoch ms.
    pub completed_at: Option<Millis>,
    /// When it failed, epoch ms (`failedAt`).
    pub failed_at: Option<Millis>,
    /// Why it failed (`error`).
    pub error: Option<String>,
    /// A pause is requested and not yet applied.
    pub pause_requested: bool,
    /// The queued start resumes a paused run.
    pub resuming: bool,
    /// Stopped (`POST /campaign/{id}/stop`): nobody is dialled again, and
    /// it completes when the calls in progress end. Absent in state saved
    /// before stop existed (`false`).
    #[serde(default)]
    pub stop_requested: bool,
    /// Queued calls cancelled by pauses (`cancelledCallsCount`).
    pub cancelled_calls: u32,
    /// Retry dials so far (`retryAttempts`).
    pub retry_attempts: u32,
    /// One entry per audience member, in audience order.
    pub members: Vec<MemberProgress>,
}

/// How a member's call ended, as the campaign sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallResult {
    /// `completed`.
    Connected,
    /// `no_answer` or `failed` (busy counts as failed): retried.
    Unanswered,
    /// `cancelled` by someone else than a pause: not retried.
    Cancelled,
    /// Not dialled: the number is on the Do-Not-Call list
    /// (`crate::domain::dnc`). The member is done, never retried, and is
    /// not among `contacts_called` (no call was attempted, R169).
    Blocked,
}

/// Something that happens to a campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `POST /campaign/{id}/start` (R164, R165).
    Start,
    /// `POST /campaign/{id}/pause` (R166).
    Pause,
    /// `POST /campaign/{id}/stop` (inferred; see the module doc). `queued`
    /// lists the members whose call is still waiting for a slot; those
    /// calls are cancelled and counted, as by a pause.
    Stop {
        /// Member indexes with an undialled call.
        queued: Vec<usize>,
    },
    /// The clock reached `scheduledAt` (R162).
    ScheduleDue,
    /// The queued start task runs (`processing → running`).
    Begin,
    /// The queued pause task runs. `queued` lists the members whose call
    /// is still waiting for a slot; those calls are cancelled and counted.
    ApplyPause {
        /// Member indexes with an undialled call.
        queued: Vec<usize>,
    },
    /// A retry delay elapsed: dial whoever is due.
    Tick,
    /// A member's current call ended.
    CallEnded {
        /// Member index.
        member: usize,
        /// How it ended.
        result: CallResult,
    },
    /// A campaign-level error (R167), e.g. no phone number configured.
    Fail(String),
}

/// What the engine must do after a transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Run [`Command::Begin`] after the task delay.
    QueueStart,
    /// Run [`Command::ApplyPause`] after the task delay.
    QueuePause,
    /// Place a call for `member`; `attempt` is 0 for the first one.
    Dial {
        /// Member index.
        member: usize,
        /// Attempt number (0-based; ≥ 1 is a retry).
        attempt: u32,
    },
    /// Cancel `member`'s undialled call.
    Cancel {
        /// Member index.
        member: usize,
    },
    /// Run [`Command::Tick`] at this time (epoch ms).
    WakeAt(Millis),
    /// Append to the campaign's `events[]` (R170).
    Event {
        /// `eventAction`.
        action: &'static str,
        /// `triggerSource`.
        trigger: Trigger,
    },
}

/// The result of an accepted command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The new progress.
    pub next: Progress,
    /// What to do, in order.
    pub effects: Vec<Effect>,
}

/// The progress of a new campaign of `members` members (R162): `scheduled`
/// when it has a `scheduledAt`, else `draft`. `retry_delay_min` is minutes.
pub fn new_progress(members: usize, max_retries: u32, retry_delay_min: u32, scheduled: bool, now: Millis) -> Progress {
    Progress {
        status: if scheduled { CampaignStatus::Scheduled } else { CampaignStatus::Draft },
        max_retries,
        retry_delay_ms: Millis::from(retry_delay_min) * 60_000,
        updated_at: now,
        started_at: None,
        paused_at: None,
        completed_at: None,
        failed_at: None,
        error: None,
        pause_requested: false,
        resuming: false,
        stop_requested: false,
        cancelled_calls: 0,
        retry_attempts: 0,
        members: vec![MemberProgress { attempts: 0, state: MemberState::Waiting { due: 0 } }; members],
    }
}

fn refused(p: &Progress, verb: &str) -> DomainError {
    DomainError::invalid(format!("Campaign is {} and cannot be {verb}", p.status.as_str()))
}

/// Applies `cmd` at `now` (epoch ms). Only `Start`, `Pause` and `Stop` can
/// be refused (400, inferred messages `Campaign is <status> and cannot be
/// started|paused|stopped`); system commands that do not fit the status
/// change nothing (a stale timer, say).
pub fn apply(p: &Progress, cmd: &Command, now: Millis) -> Result<Outcome, DomainError> {
    use CampaignStatus as S;
    let mut n = p.clone();
    let mut fx = Vec::new();
    match (p.status, cmd) {
        // A stopped campaign only waits for its calls in progress (see the
        // module doc): start and pause change nothing.
        (S::Processing | S::Running | S::Paused, Command::Start | Command::Pause) if p.stop_requested => {}
        (S::Draft | S::Scheduled | S::Paused, Command::Start) => {
            n.status = S::Processing;
            n.resuming = p.status == S::Paused;
            n.pause_requested = false;
            fx.push(Effect::QueueStart);
        }
        (S::Processing | S::Running, Command::Start) => n.pause_requested = false,
        (S::Completed | S::Failed, Command::Start) => return Err(refused(p, "started")),
        (S::Processing | S::Running, Command::Pause) => {
            if !p.pause_requested {
                n.pause_requested = true;
                fx.push(Effect::QueuePause);
            }
        }
        (S::Paused, Command::Pause) => {}
        (S::Draft | S::Scheduled | S::Completed | S::Failed, Command::Pause) => return Err(refused(p, "paused")),
        (S::Processing | S::Running | S::Paused, Command::Stop { queued }) => {
            if !p.stop_requested {
                stop(&mut n, queued, now, &mut fx);
            }
        }
        (S::Draft | S::Scheduled | S::Completed | S::Failed, Command::Stop { .. }) => {
            return Err(refused(p, "stopped"))
        }
        (S::Scheduled, Command::ScheduleDue) => {
            n.status = S::Running;
            n.started_at.get_or_insert(now);
            fx.push(Effect::Event { action: "campaign_started", trigger: Trigger::Scheduler });
            dial_due(&mut n, now, &mut fx);
        }
        (S::Processing, Command::Begin) => {
            n.status = S::Running;
            n.started_at.get_or_insert(now);
            let action = if p.resuming { "campaign_resumed" } else { "campaign_started" };
            n.resuming = false;
            fx.push(Effect::Event { action, trigger: Trigger::Manual });
            dial_due(&mut n, now, &mut fx);
        }
        (S::Processing | S::Running, Command::ApplyPause { queued }) => {
            if p.pause_requested {
                pause(&mut n, queued, now, &mut fx);
            }
        }
        (S::Running, Command::Tick) => dial_due(&mut n, now, &mut fx),
        (S::Processing | S::Running | S::Paused, Command::CallEnded { member, result }) => {
            call_ended(&mut n, *member, *result, now, &mut fx);
        }
        (S::Draft | S::Scheduled | S::Processing | S::Running | S::Paused, Command::Fail(msg)) => {
            n.status = S::Failed;
            n.error = Some(msg.clone());
            n.failed_at = Some(now);
            n.pause_requested = false;
            fx.push(Effect::Event { action: "campaign_failed", trigger: Trigger::System });
        }
        (S::Draft | S::Processing | S::Running | S::Paused | S::Completed | S::Failed, Command::ScheduleDue)
        | (S::Draft | S::Scheduled | S::Running | S::Paused | S::Completed | S::Failed, Command::Begin)
        | (S::Draft | S::Scheduled | S::Paused | S::Completed | S::Failed, Command::ApplyPause { .. })
        | (S::Draft | S::Scheduled | S::Processing | S::Paused | S::Completed | S::Failed, Command::Tick)
        | (S::Draft | S::Scheduled | S::Completed | S::Failed, Command::CallEnded { .. })
        | (S::Completed | S::Failed, Command::Fail(_)) => {}
    }
    if n != *p {
        n.updated_at = p.updated_at.max(now);
    }
    Ok(Outcome { next: n, effects: fx })
}

/// Dials every waiting member that is due; asks to be woken for the rest;
/// completes the campaign when nobody is left.
fn dial_due(n: &mut Progress, now: Millis, fx: &mut Vec<Effect>) {
    for (i, m) in n.members.iter_mut().enumerate() {
        match m.state {
            MemberState::Waiting { due } if due <= now => {
                if m.attempts > 0 {
                    n.retry_attempts += 1;
                }
                fx.push(Effect::Dial { member: i, attempt: m.attempts });
                m.attempts += 1;
                m.state = MemberState::Dialling;
            }
            MemberState::Waiting { due } => fx.push(Effect::WakeAt(due)),
            MemberState::Dialling | MemberState::Done { .. } => {}
        }
    }
    complete_if_done(n, now, fx);
}

fn pause(n: &mut Progress, queued: &[usize], now: Millis, fx: &mut Vec<Effect>) {
    n.status = CampaignStatus::Paused;
    n.paused_at = Some(now);
    n.pause_requested = false;
    cancel_queued(n, queued, MemberState::Waiting { due: now }, fx);
    fx.push(Effect::Event { action: "campaign_paused", trigger: Trigger::Manual });
}

/// Cancels the undialled calls of the `queued` members (R166): the
/// attempt does not count, the call is counted in `cancelledCallsCount`,
/// and the member moves to `then`.
fn cancel_queued(n: &mut Progress, queued: &[usize], then: MemberState, fx: &mut Vec<Effect>) {
    for &i in queued {
        let Some(m) = n.members.get_mut(i) else { continue };
        if m.state == MemberState::Dialling {
            m.attempts = m.attempts.saturating_sub(1);
            if m.attempts > 0 {
                n.retry_attempts = n.retry_attempts.saturating_sub(1);
            }
            m.state = then;
            n.cancelled_calls += 1;
            fx.push(Effect::Cancel { member: i });
        }
    }
}

fn stop(n: &mut Progress, queued: &[usize], now: Millis, fx: &mut Vec<Effect>) {
    n.stop_requested = true;
    n.pause_requested = false;
    n.resuming = false;
    if n.status == CampaignStatus::Processing {
        // The queued start finds the campaign running and does nothing.
        n.status = CampaignStatus::Running;
    }
    cancel_queued(n, queued, MemberState::Done { connected: false }, fx);
    for m in &mut n.members {
        if let MemberState::Waiting { .. } = m.state {
            m.state = MemberState::Done { connected: false };
        }
    }
    fx.push(Effect::Event { action: "campaign_stopped", trigger: Trigger::Manual });
    complete_if_done(n, now, fx);
}

fn call_ended(n: &mut Progress, member: usize, result: CallResult, now: Millis, fx: &mut Vec<Effect>) {
    let Some(m) = n.members.get_mut(member) else { return };
    if m.state != MemberState::Dialling {
        return;
    }
    m.state = match result {
        CallResult::Connected => MemberState::Done { connected: true },
        CallResult::Cancelled | CallResult::Blocked => MemberState::Done { connected: false },
        CallResult::Unanswered if m.attempts <= n.max_retries && !n.stop_requested => {
            let due = now + n.retry_delay_ms;
            fx.push(Effect::WakeAt(due));
            MemberState::Waiting { due }
        }
        CallResult::Unanswered => MemberState::Done { connected: false },
    };
    complete_if_done(n, now, fx);
}

fn complete_if_done(n: &mut Progress, now: Millis, fx: &mut Vec<Effect>) {
    let all_done = n.members.iter().all(|m| matches!(m.state, MemberState::Done { .. }));
    let live = matches!(n.status, CampaignStatus::Running | CampaignStatus::Paused);
    if all_done && live {
        n.status = CampaignStatus::Completed;
        n.completed_at = Some(now);
        n.pause_requested = false;
        fx.push(Effect::Event { action: "campaign_completed", trigger: Trigger::System });
    }
}

#[cfg(test)]
#[path = "campaign_props.rs"]
mod props;
