//! The anonymity threshold and the differencing guard: the only gate
//! between stored answers and any output (PRIVACY.md rules 7–15).

pub mod groups;
pub mod oracle;
pub mod plan;
pub mod rules;
pub mod seal;
pub mod stats;
mod store;

/// The default anonymity threshold k, and the lowest an org may set.
pub const DEFAULT_K: u32 = 5;
pub const MIN_K: u32 = 3;
/// The highest k the settings accept.
pub const MAX_K: u32 = 50;
