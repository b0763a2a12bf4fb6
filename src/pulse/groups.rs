//! Which candidate groups a cycle has and which of them a response or a
//! roster entry belongs to, from the pulse's own records (team snapshot,
//! tenure band, self-reported segments) through `privacy::groups`.

use super::segments::SegmentQuestion;
use super::store::StoredResponse;
use crate::org::service::Directory;
use crate::privacy::groups;
use crate::privacy::plan::Group;

pub use crate::privacy::groups::TENURE;

/// Every group a cycle of this organization may release.
pub fn candidates(dir: &Directory, segments: &[SegmentQuestion]) -> Vec<Group> {
    let teams: Vec<(i64, Option<i64>)> = dir.teams.iter().map(|t| (t.id, t.parent_id)).collect();
    let segments: Vec<(String, Vec<String>)> = segments.iter().map(|q| (q.key(), q.options.clone())).collect();
    groups::candidates(&teams, &super::model::TENURE_BANDS, &segments)
}

/// The groups a response belongs to, among the candidates.
pub fn memberships(r: &StoredResponse, dir: &Directory) -> Vec<Group> {
    let up = r.team_id.into_iter().flat_map(|t| dir.teams_up(t));
    let segments = r.segments.iter().map(|(s, v)| (super::segments::key(*s), v.clone()));
    groups::memberships(r.team_id, up, r.tenure_band.as_deref(), segments)
}

/// The groups a roster entry (team snapshot, tenure band) puts a person
/// in: what anyone who knows the roster knows.
pub fn roster_groups(team: Option<i64>, band: Option<String>, dir: &Directory) -> Vec<Group> {
    let up = team.into_iter().flat_map(|t| dir.teams_up(t));
    groups::memberships(team, up, band.as_deref(), std::iter::empty())
}
