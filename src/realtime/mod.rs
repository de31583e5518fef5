//! The realtime agent WebSocket (BEHAVIOR §J): tokens and sessions.

/// Realtime state: register-call tokens, session limits, draining.
#[derive(Debug, Default)]
pub struct Realtime {}
