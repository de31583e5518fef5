//! The socket loop of one realtime session, after the HTTP upgrade.
//!
//! 1. **Setup.** For the control API's `setupMs` (default 0) of mock clock
//!    time, client messages get `error {code: no_session}` (R198).
//! 2. **Start.** The live call is created and asks for a concurrency slot
//!    (CONC). Without one it waits `in_queue`; client messages keep
//!    getting `error {code: no_session}` until it connects, and a client
//!    that leaves meanwhile cancels it (`wait_for_slot`). Once connected,
//!    `session.created` goes out first (R197); then the conversation
//!    begins.
//! 3. **Loop.** Each `select!` arm becomes an `Input`: a client frame,
//!    the conversation's next deadline on the mock's clock, the call's hub
//!    (a cancel ends the session), or server shutdown. Frames the
//!    conversation produced are sent after every input; once it is over
//!    the socket closes with 1000 (after `session.closed`) or 4000 (after
//!    a fatal `error`, R212). On server shutdown the call fails with
//!    `system_error`, `session.closed {reason: ended}` goes out and the
//!    socket closes with 1001 (going away).
//!
//! Bad client frames get `error {code: invalid_event}` and the session
//! stays open (R211); so do the client-tools errors (LIVE W1). The organization's session slot is held until the
//! task ends.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use tokio::sync::broadcast::error::RecvError;

use super::conversation::Conversation;
use super::protocol::{self, CloseReason, Inbound, ServerFrame};
use super::{Mode, Realtime, SessionSlot};
use crate::calls::{Calls, LiveCall, NewCall};
use crate::clock::Clock;
use crate::domain::Millis;
use crate::events::HubMessage;
use crate::store::{Store, Tenant};

/// Close code when the server shuts down under a session.
const CLOSE_GOING_AWAY: u16 = 1001;

/// Everything the handshake settled (R193–R196).
#[derive(Debug)]
pub struct Admission {
    /// The organization.
    pub tenant: Arc<Tenant>,
    /// The call to create: agent, config, variables, scenario.
    pub new: NewCall,
    /// The session mode.
    pub mode: Mode,
    /// The negotiated rate, Hz.
    pub sample_rate: u32,
    /// The organization's session slot, freed when the session ends.
    pub slot: SessionSlot,
}

/// The server's handles a session uses (a narrow view of the server
/// state, so realtime does not depend on the HTTP layer's state).
#[derive(Debug, Clone)]
pub struct Services {
    /// Ids and the clock.
    pub store: Arc<Store>,
    /// The call engine: the session's call is a live call.
    pub calls: Arc<Calls>,
    /// The setup delay and the session bookkeeping.
    pub realtime: Arc<Realtime>,
    /// Turns `true` when the server shuts down.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
}

enum Input {
    Client(Option<Result<Message, axum::Error>>),
    Tick,
    Hub(Result<HubMessage, RecvError>),
    Shutdown,
}

type Timer = Pin<Box<dyn Future<Output = ()> + Send>>;

async fn send(socket: &mut WebSocket, frame: &ServerFrame) -> Result<(), axum::Error> {
    socket.send(Message::Text(frame.to_json().into())).await
}

/// Answers client messages with `no_session` until `setup_ms` of mock
/// time has passed. `false` if the client left meanwhile.
async fn setup(socket: &mut WebSocket, clock: &Clock, setup_ms: Millis) -> bool {
    if setup_ms <= 0 {
        return true;
    }
    let mut timer: Timer = Box::pin(clock.sleep(clock.now() + setup_ms));
    let not_ready =
        ServerFrame::Error { code: "no_session".into(), message: "No session yet: wait for session.created".into() };
    loop {
        tokio::select! {
            () = &mut timer => return true,
            m = socket.recv() => match m {
                Some(Ok(Message::Text(_) | Message::Binary(_))) => {
                    if send(socket, &not_ready).await.is_err() {
                        return false;
                    }
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Close(_)) | Err(_)) | None => return false,
            },
        }
    }
}

/// Waits while the session's call is queued for a concurrency slot,
/// answering client messages with `no_session`, until the call connects
/// (its hub's `call_start`) or ends elsewhere (a cancel): `true`, the
/// session goes on. A client that leaves, or a server shutdown, abandons
/// the queued call (`cancelled`): `false`, the session is over.
async fn wait_for_slot(
    socket: &mut WebSocket,
    clock: &Clock,
    live: &LiveCall,
    shutdown: &mut tokio::sync::watch::Receiver<bool>,
) -> bool {
    let mut hub = live.hub().subscribe().rx;
    let not_ready = ServerFrame::Error {
        code: "no_session".into(),
        message: "No session yet: waiting for a free concurrency slot".into(),
    };
    const LEFT: &str = "Session closed while waiting for a slot";
    while live.is_queued() {
        let input = tokio::select! {
            m = hub.recv() => Input::Hub(m),
            m = socket.recv() => Input::Client(m),
            _ = shutdown.wait_for(|stop| *stop) => Input::Shutdown,
        };
        match input {
            Input::Hub(Ok(HubMessage::Closed(_)) | Err(RecvError::Closed)) => return true,
            Input::Hub(_) | Input::Tick | Input::Client(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => {}
            Input::Client(Some(Ok(Message::Text(_) | Message::Binary(_)))) => {
                if send(socket, &not_ready).await.is_err() {
                    return !live.abandon(clock.now(), LEFT);
                }
            }
            Input::Client(Some(Ok(Message::Close(_)) | Err(_)) | None) => return !live.abandon(clock.now(), LEFT),
            Input::Shutdown => {
                live.abandon(clock.now(), "Server shutting down");
                let frame = CloseFrame { code: CLOSE_GOING_AWAY, reason: "server shutting down".into() };
                let _ = socket.send(Message::Close(Some(frame))).await;
                return false;
            }
        }
    }
    true
}

/// Runs one session to its end.
pub async fn run(mut socket: WebSocket, s: Services, adm: Admission) {
    let Admission { tenant, new, mode, sample_rate, slot: _slot } = adm;
    let clock = s.store.clock().clone();
    if !setup(&mut socket, &clock, s.realtime.setup_ms()).await {
        return;
    }
    let mut shutdown = s.shutdown;
    let (live, call) = s.calls.start_live(&tenant, new);
    if !wait_for_slot(&mut socket, &clock, &live, &mut shutdown).await {
        return;
    }
    let now = clock.now();
    let mut hub = Some(live.hub().subscribe().rx);
    let mut conv = Conversation::new(live, &call, mode, sample_rate).with_knowledge(Arc::clone(&tenant));
    let created = ServerFrame::SessionCreated {
        session_id: s.store.ids().uuid(),
        call_id: call.call_id.clone(),
        sample_rate,
        channels: 1,
    };
    conv.reply(created);
    if conv.begin(now).is_err() {
        conv.ended_elsewhere();
    }
    let mut armed: Option<Millis> = None;
    let mut timer: Timer = Box::pin(std::future::pending());
    loop {
        for frame in conv.take_frames() {
            if send(&mut socket, &frame).await.is_err() {
                conv.close(clock.now(), CloseReason::WebsocketClosed);
                return;
            }
        }
        if let Some(code) = conv.closing() {
            let _ = socket.send(Message::Close(Some(CloseFrame { code, reason: "".into() }))).await;
            return;
        }
        let deadline = conv.deadline();
        if deadline != armed {
            armed = deadline;
            timer = match deadline {
                Some(d) => Box::pin(clock.sleep(d)),
                None => Box::pin(std::future::pending()),
            };
        }
        let input = tokio::select! {
            m = socket.recv() => Input::Client(m),
            () = &mut timer => Input::Tick,
            m = async { match hub.as_mut() { Some(rx) => rx.recv().await, None => std::future::pending().await } } => Input::Hub(m),
            _ = shutdown.wait_for(|stop| *stop) => Input::Shutdown,
        };
        let now = clock.now();
        let res = match input {
            Input::Tick => {
                // The timer completed: never poll it again.
                armed = None;
                timer = Box::pin(std::future::pending());
                conv.tick(now)
            }
            Input::Client(Some(Ok(Message::Text(text)))) => match protocol::parse(&text) {
                Ok(Inbound::Audio(pcm)) => conv.audio(&pcm, now),
                Ok(Inbound::Text(t)) => conv.text(t, now),
                Ok(Inbound::NoOp) => conv.tick(now),
                Ok(Inbound::Tools(tools)) => conv.declare_tools(&tools, now),
                Ok(Inbound::ToolResult { call_id, output }) => conv.tool_result(&call_id, &output, now),
                Ok(Inbound::Close) => conv.tick(now).map(|()| conv.close(now, CloseReason::ClientRequested)),
                Err(message) => {
                    conv.reply(ServerFrame::invalid(message));
                    Ok(())
                }
            },
            Input::Client(Some(Ok(Message::Binary(_)))) => {
                conv.reply(ServerFrame::invalid("binary frames are not supported: send JSON text frames"));
                Ok(())
            }
            Input::Client(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => Ok(()),
            Input::Client(Some(Ok(Message::Close(_)) | Err(_)) | None) => {
                conv.close(now, CloseReason::WebsocketClosed);
                return;
            }
            Input::Hub(Ok(HubMessage::Closed(_)) | Err(RecvError::Closed)) => {
                hub = None;
                conv.ended_elsewhere();
                Ok(())
            }
            Input::Hub(Ok(HubMessage::Event(_)) | Err(RecvError::Lagged(_))) => Ok(()),
            Input::Shutdown => {
                conv.shut_down(now);
                for frame in conv.take_frames() {
                    if send(&mut socket, &frame).await.is_err() {
                        return;
                    }
                }
                let frame = CloseFrame { code: CLOSE_GOING_AWAY, reason: "server shutting down".into() };
                let _ = socket.send(Message::Close(Some(frame))).await;
                return;
            }
        };
        if res.is_err() {
            conv.ended_elsewhere();
        }
    }
}
