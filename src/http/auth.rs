//! Bearer auth (R002, R003) as a route layer: a request to a route that
//! exists is authorized before its handler runs; a method and path without
//! a route never reach it, so they answer Express's 404 page without a key
//! (LIVE T2).
//!
//! A hand-written tower [`Layer`] rather than `axum::middleware::from_fn`:
//! the check is synchronous, so a refusal is a ready answer and an
//! authorized request goes straight to the route's own future, with no
//! boxed future, no clone of the route and no `Next` per request.

use std::convert::Infallible;
use std::future::{ready, Ready};
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::Response;
use futures_util::future::Either;
use tower::{Layer, Service};

use super::error::{envelope, UNAUTHORIZED};
use super::extract::{self, Org};
use crate::state::AppState;

/// Which requests of the routes it wraps [`Auth`] checks.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Scope {
    /// The platform API's routes, except the realtime WebSocket, whose
    /// handshake accepts `?token=` too (R193).
    Platform,
    /// Only `/payment/v1` (the control API and the file routes are open).
    Payment,
}

impl Scope {
    fn covers(self, path: &str) -> bool {
        match self {
            Self::Platform => path != super::calls::realtime::CONNECT_PATH,
            Self::Payment => path.starts_with(super::billing::PAYMENT_PREFIX),
        }
    }
}

/// The auth layer over the routes of one router (see the module doc).
#[derive(Debug, Clone)]
pub(crate) struct Auth {
    state: AppState,
    scope: Scope,
}

impl Auth {
    /// Checks the requests `scope` covers against `state`'s keys.
    pub(crate) fn new(state: AppState, scope: Scope) -> Self {
        Self { state, scope }
    }
}

impl<S> Layer<S> for Auth {
    type Service = Authorized<S>;

    fn layer(&self, inner: S) -> Authorized<S> {
        Authorized { inner, auth: self.clone() }
    }
}

/// A route behind [`Auth`].
#[derive(Debug, Clone)]
pub(crate) struct Authorized<S> {
    inner: S,
    auth: Auth,
}

impl<S> Service<Request> for Authorized<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<Ready<Result<Response, Infallible>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        if self.auth.scope.covers(req.uri().path()) {
            if let Some(refused) = refusal(&self.auth.state, &mut req) {
                return Either::Left(ready(Ok(refused)));
            }
        }
        Either::Right(self.inner.call(req))
    }
}

/// R002, R003: any non-empty Bearer token is a key unless `--require-key`
/// lists the accepted ones; the caller's organization goes into the
/// request as [`Org`] (and `None` comes back). Otherwise the 401 envelope.
fn refusal(s: &AppState, req: &mut Request) -> Option<Response> {
    let Some(key) = extract::bearer(req.headers()) else {
        return Some(envelope(StatusCode::UNAUTHORIZED, UNAUTHORIZED));
    };
    if !s.config.require_keys.is_empty() && !s.config.require_keys.iter().any(|k| k == key) {
        return Some(envelope(StatusCode::UNAUTHORIZED, UNAUTHORIZED));
    }
    let tenant = s.store.tenant(key);
    req.extensions_mut().insert(Org(tenant));
    None
}
