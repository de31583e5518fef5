//! Webhooks (BEHAVIOR §G): management state and the dispatcher.

/// One organization's webhooks and subscriptions.
#[derive(Debug, Default)]
pub struct WebhookBook {}

/// Delivers call milestones to subscribed webhooks.
#[derive(Debug, Default)]
pub struct Dispatcher {}
