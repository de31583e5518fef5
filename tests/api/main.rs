//! Black-box tests: each starts the real server in-process on
//! 127.0.0.1:0 and talks HTTP to it.

mod call_helpers;
mod helpers;
mod prereq;

mod account;
mod agents;
mod analytics;
mod architecture;
mod bad_input;
mod call_logs;
mod call_store;
mod campaigns;
mod concurrency;
mod conformance;
mod control;
mod cross_key;
mod dnc;
mod events_sse;
mod integration;
mod knowledge_actions;
mod lifecycle_v1;
mod lifecycle_v2;
mod live;
mod live_versioning;
mod memory_limit;
mod openapi_drift;
mod openapi_schemas;
#[cfg(unix)] // stops the binary with SIGTERM
mod persistence;
mod realtime;
mod realtime_contract;
mod realtime_tools;
mod scenarios;
mod sdk_contract;
mod tenancy;
mod transport;
mod webhooks;
