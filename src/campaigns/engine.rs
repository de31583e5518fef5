//! The campaign engine: runs `crate::domain::campaign::apply` under the
//! tenant's campaign lock and carries out its effects (dial, cancel, wake
//! up, record events) on the clock.
//!
//! Each member becomes a call through the same path as `POST
//! /conversation/outbound` ([`Calls::place`]), so it
//! queues under the organization's concurrency limit (R108), emits SSE
//! events, milestones (webhooks) and gets a call log with `campaignId`.
//! Retries link to the previous attempt (R121). A member whose number is
//! on the Do-Not-Call list gets a call that ends `failed` without being
//! dialled: the member is done, never retried, and not among the contacts
//! called (`CallResult::Blocked`). `start` and `pause` take effect
//! [`TASK_DELAY_MS`] later, as the platform's queued tasks do.

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use serde_json::{Map, Value};

use super::{Campaign, CampaignCall, CampaignEvent, Contact, SCENARIO_COLUMN};
use crate::calls::caller_id::resolve;
use crate::calls::{Call, CallLink, CallRequest, CallType, Calls, Pin};
use crate::domain::call::CallStatus;
use crate::domain::campaign::{self, CallResult, CampaignStatus, Command, Effect, MemberState};
use crate::domain::{audience::to_e164, DomainError, Millis};
use crate::store::{CallBook, Store, Tenant};

/// How long a queued start or pause task takes to run, ms of the clock.
pub const TASK_DELAY_MS: Millis = 1_000;

/// L-H2 (inferred wording): no `phoneNumberIds` and no number on the agent.
pub const NO_PHONE: &str = "No phone number configured for this campaign";

/// A validated `POST /campaign` body (R159, R160).
#[derive(Debug, Clone)]
pub struct NewCampaign {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Agent id (24 hex).
    pub agent_id: String,
    /// Audience id (24 hex).
    pub audience_id: String,
    /// Caller-id product ids.
    pub phone_number_ids: Vec<String>,
    /// Start time, epoch ms (in the future).
    pub scheduled_at: Option<Millis>,
    /// 0–10.
    pub max_retries: u32,
    /// 1–1440 minutes.
    pub retry_delay_min: u32,
}

/// The campaign engine, shared by handlers and the calls' finish hook.
pub struct Campaigns {
    store: Arc<Store>,
    calls: Arc<Calls>,
}

impl std::fmt::Debug for Campaigns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Campaigns").finish_non_exhaustive()
    }
}

type TenantRef = Arc<Tenant>;

fn not_found() -> DomainError {
    DomainError::NotFound("Campaign not found".into())
}

impl Campaigns {
    /// An engine over `store` and `calls`; registers the finish hook that
    /// feeds every campaign call's end back into its campaign.
    pub fn new(store: Arc<Store>, calls: &Arc<Calls>) -> Arc<Self> {
        let me = Arc::new(Self { store, calls: Arc::clone(calls) });
        let weak: Weak<Self> = Arc::downgrade(&me);
        calls.on_finish(Arc::new(move |book, call| {
            if let Some(me) = weak.upgrade() {
                me.on_call_end(book, call);
            }
        }));
        me
    }

    /// The call engine.
    pub fn calls(&self) -> &Arc<Calls> {
        &self.calls
    }

    /// Creates a campaign (R161, R162) from the audience's current members.
    /// The agent must exist and not be archived; the audience must exist.
    /// A `scheduledAt` schedules the automatic start. Never dials. Every
    /// `phoneNumberIds` entry must be one of the organization's numbers
    /// (400 `Invalid product id`, design d11a §2.3).
    ///
    /// The agent is checked with the campaign book locked, the lock
    /// `Store::set_archived` holds while it archives: a concurrent archive
    /// either comes first (and this is 400) or sees this campaign (and is
    /// 409), never neither (R035, R174).
    pub fn create(self: &Arc<Self>, t: &TenantRef, new: NewCampaign) -> Result<Campaign, DomainError> {
        let now = self.store.clock().now();
        let mut book = t.campaigns();
        let archived = self
            .store
            .read_agent(t, &new.agent_id, |r| r.agent.archived)
            .map_err(|_| DomainError::invalid("Agent not found"))?;
        if archived {
            return Err(DomainError::invalid("Agent is archived and cannot initiate calls"));
        }
        let a = book.audience(&new.audience_id).ok_or_else(|| DomainError::invalid("Audience not found"))?;
        self.store.admit_campaign(t, book.campaign_count())?;
        self.store.check_products(t, &new.phone_number_ids)?;
        let contacts: Vec<Contact> = a
            .members
            .iter()
            .map(|m| Contact {
                member_id: m.id.clone(),
                phone: a.phone_of(m).to_string(),
                data: m.data.clone(),
                current_call: None,
                last_attempt: None,
            })
            .collect();
        let progress = campaign::new_progress(
            contacts.len(),
            new.max_retries,
            new.retry_delay_min,
            new.scheduled_at.is_some(),
            now,
        );
        let c = Campaign {
            id: self.store.ids().object_id(now),
            name: new.name,
            description: new.description,
            agent_id: new.agent_id,
            audience_id: new.audience_id,
            audience_name: a.name.clone(),
            phone_number_ids: new.phone_number_ids,
            scheduled_at: new.scheduled_at,
            retry_delay_min: new.retry_delay_min,
            created_at: now,
            progress,
            contacts,
            calls: Vec::new(),
            events: Vec::new(),
        };
        book.insert_campaign(c.clone());
        drop(book);
        if let Some(at) = c.scheduled_at {
            self.later(t, &c.id, at, Command::ScheduleDue);
        }
        Ok(c)
    }

    /// Deletes a campaign and its history (R172). Calls still waiting for
    /// a slot are cancelled; calls in progress finish on their own.
    pub fn delete(&self, t: &TenantRef, id: &str) -> Result<(), DomainError> {
        let mut book = t.campaigns();
        let c = book.remove_campaign(id).ok_or_else(not_found)?;
        for call in c.contacts.iter().filter_map(|x| x.current_call.as_deref()) {
            let _ = self.calls.cancel(t.calls(), call, true);
        }
        Ok(())
    }

    /// Applies an API or system command to campaign `id` and carries out
    /// its effects. Errors: 404 `Campaign not found`, or the rule's 400.
    pub fn run(self: &Arc<Self>, t: &TenantRef, id: &str, cmd: &Command) -> Result<(), DomainError> {
        let now = self.store.clock().now();
        let mut book = t.campaigns();
        let c = book.campaign_mut(id).ok_or_else(not_found)?;
        let cmd = match cmd {
            Command::ApplyPause { .. } => Command::ApplyPause { queued: self.queued_members(t, c) },
            Command::Stop { .. } => Command::Stop { queued: self.queued_members(t, c) },
            other => other.clone(),
        };
        let out = campaign::apply(&c.progress, &cmd, now)?;
        c.progress = out.next;
        self.carry_out(t, c, out.effects, now);
        Ok(())
    }

    /// Members whose current call has not been dialled yet.
    fn queued_members(&self, t: &Tenant, c: &Campaign) -> Vec<usize> {
        let waiting = |id: &str| {
            t.calls().get(id).is_some_and(|(call, _)| matches!(call.status, CallStatus::Pending | CallStatus::InQueue))
        };
        c.contacts
            .iter()
            .enumerate()
            .filter(|(_, x)| x.current_call.as_deref().is_some_and(waiting))
            .map(|(i, _)| i)
            .collect()
    }

    fn later(self: &Arc<Self>, t: &TenantRef, id: &str, at: Millis, cmd: Command) {
        let (me, t, id) = (Arc::clone(self), Arc::clone(t), id.to_string());
        self.store.clock().schedule(at, move || {
            let _ = me.run(&t, &id, &cmd);
        });
    }

    fn carry_out(self: &Arc<Self>, t: &TenantRef, c: &mut Campaign, effects: Vec<Effect>, now: Millis) {
        for e in effects {
            match e {
                Effect::QueueStart => self.later(t, &c.id, now + TASK_DELAY_MS, Command::Begin),
                Effect::QueuePause => {
                    self.later(t, &c.id, now + TASK_DELAY_MS, Command::ApplyPause { queued: Vec::new() });
                }
                Effect::WakeAt(at) => self.later(t, &c.id, at, Command::Tick),
                Effect::Event { action, trigger } => {
                    let id = self.store.ids().object_id(now);
                    c.events.push(CampaignEvent { id, action, trigger, at: now });
                }
                Effect::Cancel { member } => {
                    if let Some(call) = c.contacts[member].current_call.take() {
                        let _ = self.calls.cancel(t.calls(), &call, true);
                        c.calls.iter_mut().filter(|x| x.call_id == call).for_each(|x| x.cancelled_by_pause = true);
                    }
                }
                Effect::Dial { member, attempt } => {
                    if c.progress.status.is_terminal() {
                        continue;
                    }
                    if let Err(msg) = self.dial(t, c, member, attempt) {
                        let out = campaign::apply(&c.progress, &Command::Fail(msg), now);
                        if let Ok(out) = out {
                            c.progress = out.next;
                            self.carry_out(t, c, out.effects, now);
                        }
                    }
                }
            }
        }
    }

    /// Places attempt `attempt` of member `member`. Err is a campaign-level
    /// error (R167): no caller number (L-H2), an unknown scenario in the
    /// scenario column, or the agent refusing to call.
    fn dial(&self, t: &TenantRef, c: &mut Campaign, member: usize, attempt: u32) -> Result<(), String> {
        let linked = self.store.read_agent(t, &c.agent_id, |r| r.agent.telephony_product_id.first().cloned());
        let product = match c.phone_number_ids.as_slice() {
            [] => linked.ok().flatten().ok_or_else(|| NO_PHONE.to_string())?,
            ids => ids[member % ids.len()].clone(),
        };
        let contact = &c.contacts[member];
        let to = to_e164(&contact.phone);
        let scenario = scenario_for(&contact.data, attempt);
        if let Some(name) = scenario.as_deref().filter(|n| self.calls.library().get(n).is_none()) {
            return Err(format!(
                "Unknown scenario '{name}' in the {SCENARIO_COLUMN} column of member {}",
                contact.member_id
            ));
        }
        let variables: Map<String, Value> = contact
            .data
            .iter()
            .filter(|(k, _)| k.as_str() != SCENARIO_COLUMN)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let req = CallRequest {
            agent_id: c.agent_id.clone(),
            pin: Pin::Active,
            call_type: CallType::TelephonyOutbound,
            from: Some(resolve(t, Some(&product), &c.agent_id, &[], &to)),
            to: Some(to),
            variables,
            is_test: false,
            conversation_id: None,
            chat: false,
        };
        let link = CallLink {
            campaign_id: Some(c.id.clone()),
            retry_of: if attempt > 0 { contact.last_attempt.clone() } else { None },
        };
        let call = self.calls.place(t, scenario.as_deref(), req, link).map_err(|e| e.to_string())?;
        c.contacts[member].current_call = Some(call.call_id.clone());
        c.calls.push(CampaignCall { call_id: call.call_id, member, attempt, cancelled_by_pause: false });
        Ok(())
    }

    /// The finish hook: a campaign call of `book`'s organization ended.
    fn on_call_end(self: &Arc<Self>, book: &Arc<CallBook>, call: &Arc<Call>) {
        let Some(cid) = call.campaign_id.as_deref() else { return };
        // The organization may have been reset since: only its own book counts.
        let Some(t) = self.store.find_tenant(book.api_key()).filter(|t| Arc::ptr_eq(t.calls(), book)) else { return };
        let t = &t;
        let result = match call.status {
            _ if call.blocked_by.is_some() => CallResult::Blocked,
            CallStatus::Completed => CallResult::Connected,
            CallStatus::Failed | CallStatus::NoAnswer => CallResult::Unanswered,
            CallStatus::Cancelled => CallResult::Cancelled,
            CallStatus::Pending | CallStatus::InQueue | CallStatus::InProgress => return,
        };
        let now = self.store.clock().now();
        let mut book = t.campaigns();
        let Some(c) = book.campaign_mut(cid) else { return };
        let Some(member) = c.contacts.iter().position(|x| x.current_call.as_deref() == Some(call.call_id.as_str()))
        else {
            return;
        };
        c.contacts[member].current_call = None;
        c.contacts[member].last_attempt = Some(call.call_id.clone());
        if let Ok(out) = campaign::apply(&c.progress, &Command::CallEnded { member, result }, now) {
            c.progress = out.next;
            self.carry_out(t, c, out.effects, now);
        }
    }

    /// Carries on with a restored organization's campaigns
    /// (`crate::store::TenantSnapshot`): re-arms what their state says is
    /// pending on the clock. A scheduled campaign starts at `scheduledAt`
    /// (R162); a queued start or pause task runs [`TASK_DELAY_MS`] after
    /// the request (its `updatedAt`); a running campaign wakes for its
    /// earliest retry due (R167); and a member whose call ended before its
    /// campaign heard of it (a call the snapshot interrupted, say) is told
    /// now, through the same finish hook as any call end.
    pub fn resume(self: &Arc<Self>, t: &TenantRef) {
        let book = t.campaigns();
        let mut ended = Vec::new();
        for c in book.campaigns() {
            let p = &c.progress;
            let task = p.updated_at + TASK_DELAY_MS;
            match (p.status, c.scheduled_at) {
                (CampaignStatus::Scheduled, Some(at)) => self.later(t, &c.id, at, Command::ScheduleDue),
                (CampaignStatus::Processing, _) => self.later(t, &c.id, task, Command::Begin),
                (CampaignStatus::Running, _) => {
                    let due = p.members.iter().filter_map(|m| match m.state {
                        MemberState::Waiting { due } => Some(due),
                        MemberState::Dialling | MemberState::Done { .. } => None,
                    });
                    if let Some(at) = due.min() {
                        self.later(t, &c.id, at, Command::Tick);
                    }
                }
                _ => {}
            }
            if p.pause_requested {
                self.later(t, &c.id, task, Command::ApplyPause { queued: Vec::new() });
            }
            let dialling = c.contacts.iter().zip(&p.members).filter(|(_, m)| m.state == MemberState::Dialling);
            ended.extend(dialling.filter_map(|(x, _)| t.calls().get(x.current_call.as_deref()?)).map(|(call, _)| call));
        }
        drop(book);
        let now = self.store.clock().now();
        for call in ended.into_iter().filter(|c| c.status.is_terminal()) {
            let (me, book, call) = (Arc::clone(self), Arc::clone(t.calls()), Arc::new(call));
            self.store.clock().schedule(now, move || me.on_call_end(&book, &call));
        }
    }

    /// The campaign's calls by call id (a snapshot of the call book).
    pub fn calls_of(&self, t: &Tenant, id: &str) -> HashMap<String, Call> {
        t.calls().list(|c| c.campaign_id.as_deref() == Some(id)).into_iter().map(|c| (c.call_id.clone(), c)).collect()
    }
}

/// The scenario named for `attempt` in a member's scenario column:
/// `a|b|c` gives one per attempt and the last repeats; blank is `None`.
pub fn scenario_for(data: &Map<String, Value>, attempt: u32) -> Option<String> {
    let cell = data.get(SCENARIO_COLUMN).and_then(Value::as_str)?;
    let names: Vec<&str> = cell.split('|').map(str::trim).filter(|s| !s.is_empty()).collect();
    let i = usize::try_from(attempt).unwrap_or(usize::MAX).min(names.len().checked_sub(1)?);
    Some(names[i].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, ClockMode};
    use crate::domain::agent::NewAgent;
    use crate::domain::config;
    use crate::events::LifecycleBus;
    use crate::scenarios::Library;
    use crate::store::campaigns::{Audience, Member};

    fn engine() -> (Arc<Store>, Arc<Campaigns>) {
        let store = Arc::new(Store::new(Clock::new(ClockMode::Virtual), Some(1), 6000));
        let library = Arc::new(Library::load(None).expect("embedded scenarios"));
        let calls = Arc::new(Calls::new(Arc::clone(&store), library, Arc::new(LifecycleBus::default())));
        let campaigns = Campaigns::new(Arc::clone(&store), &calls);
        (store, campaigns)
    }

    fn new_agent() -> NewAgent {
        NewAgent {
            name: "Racer".into(),
            description: String::new(),
            telephony_product_id: Vec::new(),
            allow_inbound_call: true,
            config: config::defaults(),
        }
    }

    /// R035, R161, R174: an archive and a campaign creation for the same
    /// agent, started together on two threads, never both succeed; and
    /// whichever wins, the books agree (an archived agent has no active
    /// campaign, a created campaign's agent is not archived).
    #[test]
    fn archiving_and_creating_a_campaign_at_once_never_both_succeed() {
        let (store, campaigns) = engine();
        let t = store.tenant("sk_race");
        let audience_id = store.ids().object_id(0);
        let member = Member { id: store.ids().object_id(0), data: Map::new() };
        t.campaigns()
            .insert_audience(Audience {
                id: audience_id.clone(),
                name: "Race".into(),
                description: String::new(),
                phone_col: "phone".into(),
                id_col: None,
                columns: vec!["phone".into()],
                members: vec![member],
                created_at: 0,
                updated_at: 0,
            })
            .expect("room for an audience");
        let (mut archived_first, mut campaign_first) = (0, 0);
        for _ in 0..500 {
            let agent_id = store.create_agent(&t, new_agent());
            let start = std::sync::Barrier::new(2);
            let (archive, create) = std::thread::scope(|scope| {
                let archive = scope.spawn(|| {
                    start.wait();
                    store.set_archived(&t, &agent_id, true)
                });
                let create = scope.spawn(|| {
                    start.wait();
                    let new = NewCampaign {
                        name: "Race".into(),
                        description: String::new(),
                        agent_id: agent_id.clone(),
                        audience_id: audience_id.clone(),
                        phone_number_ids: Vec::new(),
                        scheduled_at: None,
                        max_retries: 0,
                        retry_delay_min: 1,
                    };
                    campaigns.create(&t, new)
                });
                (archive.join().expect("archive thread"), create.join().expect("create thread"))
            });
            let is_archived = store.read_agent(&t, &agent_id, |r| r.agent.archived).expect("agent");
            let active = t.campaigns().active_campaign(|c| c.agent_id == agent_id).is_some();
            match (&archive, &create) {
                (Ok(()), Err(e)) => {
                    assert_eq!(e.to_string(), "Agent is archived and cannot initiate calls");
                    assert!(is_archived && !active);
                    archived_first += 1;
                }
                (Err(e), Ok(_)) => {
                    assert!(e.to_string().starts_with("Agent is associated with the draft campaign"), "{e}");
                    assert!(!is_archived && active);
                    campaign_first += 1;
                }
                other => panic!("archive and campaign creation must exclude each other, got {other:?}"),
            }
        }
        println!("archive first: {archived_first}, campaign first: {campaign_first}");
    }

    #[test]
    fn the_scenario_column_names_one_scenario_per_attempt_and_the_last_repeats() {
        let data: Map<String, Value> =
            Map::from_iter([("scenario".to_string(), Value::from("no-answer | happy-path"))]);
        assert_eq!(scenario_for(&data, 0).as_deref(), Some("no-answer"));
        assert_eq!(scenario_for(&data, 1).as_deref(), Some("happy-path"));
        assert_eq!(scenario_for(&data, 5).as_deref(), Some("happy-path"));
        assert_eq!(scenario_for(&Map::new(), 0), None);
        let blank: Map<String, Value> = Map::from_iter([("scenario".to_string(), Value::from(""))]);
        assert_eq!(scenario_for(&blank, 0), None);
    }
}
