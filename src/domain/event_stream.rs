//! Who may still subscribe to a call's event stream (`GET /events`,
//! BEHAVIOR R124, L-F4), and which of its events the stream carries
//! (R129). The spec (2026-08) gives 400 for a completed call; the older
//! events guide (2026-03) lets clients subscribe to a "recently completed"
//! one. The mock follows the newer spec, as L-F4 says to; the guide's
//! window is a mock extension a server opts into (`--sse-replay-secs`).
//! Pure: `now` is passed in.

use super::Millis;

/// Whether a call that ended at `ended_at` (`None`: still running) can be
/// subscribed to at `now`, when an ended call stays open to subscribers
/// for `replay_ms` after its end (`--sse-replay-secs`; 0 by default: a
/// call that has ended is 400 `Call is already completed` at once, R124,
/// L-F4).
pub fn subscribable(ended_at: Option<Millis>, now: Millis, replay_ms: Millis) -> bool {
    ended_at.is_none_or(|end| now - end < replay_ms)
}

/// The event types `GET /events` carries: the spec's `event_type` enum
/// (BEHAVIOR R129).
pub const STREAMED_TYPES: [&str; 22] = [
    "sse_init",
    "call_start",
    "call_end",
    "turn_latency",
    "user_interim_transcription",
    "user_transcription",
    "tts_completed",
    "metrics",
    "agent_node_state",
    "hopping",
    "knowledgebase",
    "variable_extraction",
    "pre_call_api",
    "post_call_api",
    "agent_error",
    "agent_log",
    "tool_call_start",
    "tool_call_end",
    "tool_call_error",
    "call_cancelled",
    "call_recording",
    "sse_close",
];

/// Whether an event of `event_type` goes out on `GET /events`. The call
/// log (`GET /conversation/{id}`, `events`) also records
/// `llm_full_response_end`, which the older events deep dive shows on the
/// stream (L-F3); the newer spec's enum (R129) leaves it out, so the
/// stream does too (newer source chosen).
pub fn streamed(event_type: &str) -> bool {
    STREAMED_TYPES.contains(&event_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ended_call_is_closed_to_subscribers_unless_a_replay_window_is_open() {
        assert!(subscribable(None, 1_000_000, 0));
        assert!(!subscribable(Some(5), 5, 0), "R124, L-F4: at once by default");
        assert!(subscribable(Some(0), 59_999, 60_000));
        assert!(!subscribable(Some(0), 60_000, 60_000));
    }

    #[test]
    fn the_stream_carries_the_spec_enum_r129_and_not_llm_full_response_end() {
        assert!(STREAMED_TYPES.iter().all(|t| streamed(t)));
        assert!(streamed("tts_completed"));
        assert!(!streamed("llm_full_response_end"));
        assert!(!streamed(""));
    }
}
