//! The route table and the OpenAPI document from one list of handlers,
//! with the document built only when it is asked for.
//!
//! [`routes!`] takes the same handler list as `utoipa_axum::routes!` (each
//! handler carries its `#[utoipa::path]`) and registers every handler at
//! the path and methods its annotation names, so a route cannot be served
//! without being documented. Unlike `utoipa_axum`'s macro, it does not
//! build the operations and schemas at start-up: it keeps, per call, a
//! function that builds them with `utoipa_axum::routes!`, and
//! [`OpenApiRouter::into_openapi`] replays the same `routes`, `merge` and
//! `nest` steps through `utoipa_axum`'s router, so the document is the one
//! `utoipa_axum` builds, byte for byte. The route table is built from the
//! same recipe, at a prefix if asked ([`OpenApiRouter::into_router_at`]:
//! the platform's routes are registered at `/atoms/v1` rather than nested
//! there, which would rebuild each request's URI). Start-up thus neither runs nor
//! pages in the documentation code of every operation (the document is
//! only served by `GET /openapi.json`, built once there; BENCHMARKS.md,
//! "Idle RSS and readiness").

use std::convert::Infallible;

use axum::extract::Request;
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, Route};
use axum::Router;
use tower::{Layer, Service};
use utoipa_axum::router::UtoipaMethodRouter;

/// Builds one [`routes!`] call's operations and schemas (and a method
/// router, which the replay drops).
pub(crate) type DocFn<S> = fn() -> UtoipaMethodRouter<S>;

/// One step of a router's recipe, in the order the router was built: the
/// route table is built from it (at a prefix, see
/// [`OpenApiRouter::into_router_at`]) and so is the document.
enum Step<S> {
    /// A [`routes!`] call: its paths, handlers and documentation.
    Routes(Handlers<S>),
    /// An undocumented route.
    Route(String, MethodRouter<S>),
    /// [`Router::layer`] or [`Router::route_layer`] over the routes so far.
    Layer(Box<dyn FnOnce(Router<S>) -> Router<S>>),
    /// [`OpenApiRouter::merge`] of another router's recipe.
    Merge(Vec<Step<S>>),
    /// [`OpenApiRouter::nest`] of another router's recipe under a prefix.
    Nest(String, Vec<Step<S>>),
}

/// What [`routes!`] gives [`OpenApiRouter::routes`]: the handlers' paths,
/// their method router, and the function that documents them.
pub(crate) struct Handlers<S> {
    /// The annotations' paths, in order, each once.
    pub(crate) paths: Vec<String>,
    /// Every handler at the methods its annotation names.
    pub(crate) methods: MethodRouter<S>,
    /// Builds the handlers' operations and schemas.
    pub(crate) doc: DocFn<S>,
}

/// A layer axum's `Router::layer` and `Router::route_layer` accept (their
/// bounds, named once).
pub(crate) trait RouteLayer: Layer<Route, Service = Self::Wrapped> + Clone + Send + Sync + 'static {
    /// The wrapped route.
    type Wrapped: Service<Request, Response: IntoResponse + 'static, Error: Into<Infallible> + 'static, Future: Send + 'static>
        + Clone
        + Send
        + Sync
        + 'static;
}

impl<L> RouteLayer for L
where
    L: Layer<Route> + Clone + Send + Sync + 'static,
    L::Service: Service<Request> + Clone + Send + Sync + 'static,
    <L::Service as Service<Request>>::Response: IntoResponse + 'static,
    <L::Service as Service<Request>>::Error: Into<Infallible> + 'static,
    <L::Service as Service<Request>>::Future: Send + 'static,
{
    type Wrapped = L::Service;
}

/// A router's recipe: the API of `utoipa_axum::router::OpenApiRouter` that
/// the areas use, with the route table built by
/// [`into_router_at`](Self::into_router_at) (or `Router::from`) and the
/// document by [`into_openapi`](Self::into_openapi).
pub(crate) struct OpenApiRouter<S> {
    steps: Vec<Step<S>>,
}

impl<S: Clone + Send + Sync + 'static> OpenApiRouter<S> {
    /// No routes.
    pub(crate) fn new() -> Self {
        Self { steps: Vec::new() }
    }

    fn with(mut self, step: Step<S>) -> Self {
        self.steps.push(step);
        self
    }

    /// Serves a [`routes!`] list: each path gets the handlers' method
    /// router (as `utoipa_axum` does; an empty path is `/`).
    pub(crate) fn routes(self, handlers: Handlers<S>) -> Self {
        self.with(Step::Routes(handlers))
    }

    /// An undocumented route ([`Router::route`]).
    pub(crate) fn route(self, path: &str, method_router: MethodRouter<S>) -> Self {
        self.with(Step::Route(path.to_owned(), method_router))
    }

    /// [`Router::layer`]; the document is unchanged.
    pub(crate) fn layer<L: RouteLayer>(self, layer: L) -> Self {
        self.with(Step::Layer(Box::new(move |r: Router<S>| r.layer(layer))))
    }

    /// [`Router::route_layer`]; the document is unchanged.
    pub(crate) fn route_layer<L: RouteLayer>(self, layer: L) -> Self {
        self.with(Step::Layer(Box::new(move |r: Router<S>| r.route_layer(layer))))
    }

    /// [`Router::merge`], and the other router's operations.
    pub(crate) fn merge(self, other: Self) -> Self {
        self.with(Step::Merge(other.steps))
    }

    /// [`Router::nest`], and the other router's operations under `path`.
    pub(crate) fn nest(self, path: &str, other: Self) -> Self {
        self.with(Step::Nest(path.to_owned(), other.steps))
    }

    /// The route table with every path under `prefix`: what `Router::nest`
    /// serves, without the two layers `nest` puts on every route (which
    /// strip the prefix by rebuilding each request's URI). Handlers see
    /// the URI as sent.
    pub(crate) fn into_router_at(self, prefix: &str) -> Router<S> {
        build(self.steps, prefix)
    }

    /// The document: `base` (the frame) with every operation and schema
    /// of the routes, built by replaying the recipe through `utoipa_axum`.
    pub(crate) fn into_openapi(self, base: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
        replay(utoipa_axum::router::OpenApiRouter::with_openapi(base), self.steps).into_openapi()
    }
}

impl<S: Clone + Send + Sync + 'static> From<OpenApiRouter<S>> for Router<S> {
    fn from(r: OpenApiRouter<S>) -> Self {
        build(r.steps, "")
    }
}

/// `path` under `prefix`, as `Router::nest` joins them (`/` is the prefix
/// itself).
fn under(prefix: &str, path: &str) -> String {
    match (prefix, path) {
        ("", _) => path.to_owned(),
        (_, "/") => prefix.to_owned(),
        _ => format!("{prefix}{path}"),
    }
}

/// The route table of `steps`, every path under `prefix`.
fn build<S: Clone + Send + Sync + 'static>(steps: Vec<Step<S>>, prefix: &str) -> Router<S> {
    let mut router = Router::new();
    for step in steps {
        router = match step {
            Step::Routes(Handlers { paths, methods, .. }) => paths.iter().fold(router, |r, path| {
                let path = if path.is_empty() { "/" } else { path };
                r.route(&under(prefix, path), methods.clone())
            }),
            Step::Route(path, methods) => router.route(&under(prefix, &path), methods),
            Step::Layer(layer) => layer(router),
            Step::Merge(inner) => router.merge(build(inner, prefix)),
            Step::Nest(path, inner) => router.nest(&under(prefix, &path), build(inner, "")),
        };
    }
    router
}

/// Applies `steps` to `to` with `utoipa_axum`'s router, whose routing part
/// is discarded.
fn replay<S: Clone + Send + Sync + 'static>(
    mut to: utoipa_axum::router::OpenApiRouter<S>,
    steps: Vec<Step<S>>,
) -> utoipa_axum::router::OpenApiRouter<S> {
    for step in steps {
        to = match step {
            Step::Routes(Handlers { doc, .. }) => to.routes(doc()),
            Step::Route(..) | Step::Layer(_) => to,
            Step::Merge(inner) => to.merge(replay(utoipa_axum::router::OpenApiRouter::new(), inner)),
            Step::Nest(path, inner) => to.nest(&path, replay(utoipa_axum::router::OpenApiRouter::new(), inner)),
        };
    }
    to
}

/// `routes!(handler, …)`: the handlers for [`OpenApiRouter::routes`], each
/// at the path and methods of its `#[utoipa::path]`, documented lazily.
macro_rules! routes {
    ( $( $handler:path ),+ $(,)? ) => {{
        #[allow(unused_imports)]
        use utoipa_axum::PathItemExt as _;
        let mut paths = Vec::<String>::new();
        let mut methods = axum::routing::MethodRouter::new();
        $(
            // `paste!` passes the handler's path on as tokens, which the
            // arm naming its `#[utoipa::path]` struct needs.
            utoipa_axum::paste! {
                let path: String = utoipa_axum::routes!(@path [path()] of $handler);
                if !paths.contains(&path) {
                    paths.push(path);
                }
                for method in utoipa_axum::routes!(@path [methods()] of $handler) {
                    methods = methods.on(method.to_method_filter(), $handler);
                }
            }
        )+
        $crate::http::routes::Handlers { paths, methods, doc: || utoipa_axum::routes!($( $handler ),+) }
    }};
}
pub(crate) use routes;

/// An area's router from its handlers, one group per path: `router![a,
/// (get_b, put_b)]` is `OpenApiRouter::new().routes(routes!(a))
/// .routes(routes!(get_b, put_b))`. Handlers that share a path (one per
/// method) go in one parenthesised group, as `routes!` wants them.
macro_rules! router {
    (@group ( $( $handler:ident ),+ )) => { $crate::http::routes::routes!($( $handler ),+) };
    (@group $handler:ident) => { $crate::http::routes::routes!($handler) };
    ( $( $group:tt ),+ $(,)? ) => {
        $crate::http::routes::OpenApiRouter::new() $( .routes($crate::http::routes::router!(@group $group)) )+
    };
}
pub(crate) use router;
