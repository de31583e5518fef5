//! The processing lifecycle of a knowledge-base item or scraped URL, on
//! the mock's clock, as one pure function.
//!
//! ```text
//! queued ──Begin (after the queue delay)──▶ working ──Finish(Ok)──▶ done
//!                                              └─────Finish(Err)──▶ failed
//! ```
//!
//! Wire names: items say `pending, processing, completed, failed` (OAS
//! #KnowledgeBaseItem.processingStatus); scraped URLs say `pending,
//! scraping, indexed, failed` (OAS GET /knowledgebase/{id}/scraped-urls).
//! The store creates the record with [`start`], schedules each
//! [`Effect::WakeAt`] on the clock and, when it fires, resolves the
//! content (the PDF's text, or what the control API says the URL returns)
//! and applies [`Command::Finish`]. `done` and `failed` absorb every
//! command, so a stale timer (say, for an item deleted and re-created)
//! changes nothing.

use serde::{Deserialize, Serialize};

use super::super::{DomainError, Millis};

/// Longest text kept per item or URL, characters; longer text is cut at
/// a character boundary (the mock's memory bound; inferred).
pub const MAX_TEXT_CHARS: usize = 100_000;
/// Time from creation until processing starts, ms.
pub const QUEUE_MS: Millis = 1_000;
/// Base processing time, ms; files add [`MS_PER_MIB`] per MiB.
pub const BASE_WORK_MS: Millis = 2_000;
/// Extra processing time per MiB of file, ms.
pub const MS_PER_MIB: Millis = 1_000;
/// Longest processing time, ms.
pub const MAX_WORK_MS: Millis = 60_000;

/// Where a record stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// Waiting to start (`pending`).
    Queued,
    /// Being extracted or fetched (`processing` / `scraping`).
    Working,
    /// Searchable (`completed` / `indexed`).
    Done,
    /// Gave up; `error` says why (`failed`).
    Failed,
}

impl Stage {
    /// The item's `processingStatus`.
    pub fn item_status(self) -> &'static str {
        match self {
            Self::Queued => "pending",
            Self::Working => "processing",
            Self::Done => "completed",
            Self::Failed => "failed",
        }
    }

    /// The scraped URL's `status`.
    pub fn url_status(self) -> &'static str {
        match self {
            Self::Queued => "pending",
            Self::Working => "scraping",
            Self::Done => "indexed",
            Self::Failed => "failed",
        }
    }

    /// `Done` or `Failed`.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Done | Self::Failed)
    }
}

/// What processing extracted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extract {
    /// A title (the page's `<title>`), if any.
    pub title: Option<String>,
    /// Plain text, whitespace collapsed.
    pub text: String,
}

/// The lifecycle state of one item or URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Work {
    /// Stage.
    pub stage: Stage,
    /// How long `Working` lasts, ms (fixed at creation).
    pub work_ms: Millis,
    /// Extracted text (empty until `Done`; text items start with it).
    pub text: String,
    /// Page title, once known.
    pub title: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
    /// Last change, epoch ms; never goes backwards.
    pub updated_at: Millis,
}

/// Something that happens to a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// The queue delay elapsed.
    Begin,
    /// Processing ended: the extracted content, or why it failed.
    Finish(Result<Extract, String>),
}

/// Which command a timer delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// Deliver [`Command::Begin`].
    Begin,
    /// Resolve the content and deliver [`Command::Finish`].
    Finish,
}

/// What the store must do after a transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Schedule a timer at this time (epoch ms).
    WakeAt(Millis, Wake),
}

/// An accepted command's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The new state.
    pub next: Work,
    /// What to schedule.
    pub effects: Vec<Effect>,
}

/// Processing time for `size` bytes (0 for URLs and text), ms:
/// [`BASE_WORK_MS`] plus [`MS_PER_MIB`] per started MiB, at most
/// [`MAX_WORK_MS`].
pub fn work_ms(size: u64) -> Millis {
    let mib = Millis::try_from(size.div_ceil(1 << 20)).unwrap_or(Millis::MAX);
    BASE_WORK_MS.saturating_add(mib.saturating_mul(MS_PER_MIB)).min(MAX_WORK_MS)
}

/// A new queued record of `size` bytes created at `now`, and the timer
/// that starts it.
pub fn start(size: u64, now: Millis) -> Outcome {
    let next = Work {
        stage: Stage::Queued,
        work_ms: work_ms(size),
        text: String::new(),
        title: None,
        error: None,
        updated_at: now,
    };
    Outcome { next, effects: vec![Effect::WakeAt(now + QUEUE_MS, Wake::Begin)] }
}

/// The timer a record at `w` waits for, if any: a queued one begins
/// [`QUEUE_MS`] after it was queued, a working one finishes `work_ms` after
/// it began (the same instants [`start`] and [`apply`] schedule), so a
/// restored snapshot can re-arm its timers.
pub fn pending_wake(w: &Work) -> Option<(Millis, Wake)> {
    match w.stage {
        Stage::Queued => Some((w.updated_at + QUEUE_MS, Wake::Begin)),
        Stage::Working => Some((w.updated_at + w.work_ms, Wake::Finish)),
        Stage::Done | Stage::Failed => None,
    }
}

/// A text item: `Done` at once with `text` (control API and fixtures).
pub fn done_with(extract: Extract, now: Millis) -> Work {
    Work { stage: Stage::Done, work_ms: 0, text: cut(extract.text), title: extract.title, error: None, updated_at: now }
}

fn cut(mut text: String) -> String {
    if let Some((i, _)) = text.char_indices().nth(MAX_TEXT_CHARS) {
        text.truncate(i);
    }
    text
}

/// Applies `cmd` at `now` (epoch ms). Never refuses: commands that do not
/// fit the stage (a stale or repeated timer) change nothing.
pub fn apply(w: &Work, cmd: &Command, now: Millis) -> Result<Outcome, DomainError> {
    let mut n = w.clone();
    let mut effects = Vec::new();
    match (w.stage, cmd) {
        (Stage::Queued, Command::Begin) => {
            n.stage = Stage::Working;
            effects.push(Effect::WakeAt(now.max(w.updated_at) + w.work_ms, Wake::Finish));
        }
        (Stage::Working, Command::Finish(Ok(x))) => {
            n.stage = Stage::Done;
            n.text = cut(x.text.clone());
            n.title.clone_from(&x.title);
        }
        (Stage::Working, Command::Finish(Err(e))) => {
            n.stage = Stage::Failed;
            n.error = Some(e.clone());
        }
        (Stage::Queued, Command::Finish(_))
        | (Stage::Working, Command::Begin)
        | (Stage::Done | Stage::Failed, Command::Begin | Command::Finish(_)) => {}
    }
    if n != *w {
        n.updated_at = w.updated_at.max(now);
    }
    Ok(Outcome { next: n, effects })
}
