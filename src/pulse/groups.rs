//! Which candidate groups a response or a roster entry belongs to: the
//! organization, its team with and without sub-teams and every team above,
//! its tenure band, its self-reported segments.

use super::store::StoredResponse;
use crate::privacy::plan::Group;

/// The segment question of tenure bands.
pub const TENURE: &str = "tenure";

/// The groups a response belongs to, among the candidates.
pub fn memberships(r: &StoredResponse, dir: &crate::org::service::Directory) -> Vec<Group> {
    let mut groups = vec![Group::Org];
    if let Some(team) = r.team_id {
        groups.push(Group::TeamOnly(team));
        groups.extend(dir.teams_up(team).map(Group::Team));
    }
    if let Some(band) = &r.tenure_band {
        groups.push(Group::Segment {
            question: TENURE.into(),
            value: band.clone(),
        });
    }
    for (segment, value) in &r.segments {
        groups.push(Group::Segment {
            question: format!("s{segment}"),
            value: value.clone(),
        });
    }
    groups
}

/// The groups a roster entry (team snapshot, tenure band) puts a person
/// in: what anyone who knows the roster knows.
pub fn roster_groups(team: Option<i64>, band: Option<String>, dir: &crate::org::service::Directory) -> Vec<Group> {
    let r = StoredResponse {
        segments: vec![],
        team_id: team,
        tenure_band: band,
        comment: None,
        answers: vec![],
    };
    memberships(&r, dir)
}
