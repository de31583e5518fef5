//! Campaigns and audiences (BEHAVIOR §H, §I).

/// One organization's audiences and campaigns.
#[derive(Debug, Default)]
pub struct CampaignBook {}

/// The campaign engine.
#[derive(Debug, Default)]
pub struct Campaigns {}
