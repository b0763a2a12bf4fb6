//! The groups the guard decides over, built from nothing but ids and
//! labels so that every module releasing figures (the pulse, insights)
//! asks for the same groups: the candidates a cycle may release, and the
//! groups a person or a response belongs to.

use super::plan::Group;

/// The segment question of tenure bands (a roster fact, not an answer).
pub const TENURE: &str = "tenure";

/// Every group a cycle may release: the organization; each team with its
/// sub-teams, and without them where it has some; each tenure band; each
/// option of each segment question (`(key, options)`).
pub fn candidates(teams: &[(i64, Option<i64>)], bands: &[&str], segments: &[(String, Vec<String>)]) -> Vec<Group> {
    let has_children = |id: i64| teams.iter().any(|(_, parent)| *parent == Some(id));
    let mut c = vec![Group::Org];
    for (id, _) in teams {
        c.push(Group::Team(*id));
        if has_children(*id) {
            c.push(Group::TeamOnly(*id));
        }
    }
    for band in bands {
        c.push(tenure(band));
    }
    for (question, options) in segments {
        for value in options {
            c.push(Group::Segment {
                question: question.clone(),
                value: value.clone(),
            });
        }
    }
    c
}

/// The groups of someone in `team` (whose chain up, the team first, is
/// `teams_up`), in a tenure band, with segment answers `(key, value)`.
pub fn memberships(
    team: Option<i64>,
    teams_up: impl Iterator<Item = i64>,
    band: Option<&str>,
    segments: impl Iterator<Item = (String, String)>,
) -> Vec<Group> {
    let mut groups = vec![Group::Org];
    if let Some(team) = team {
        groups.push(Group::TeamOnly(team));
        groups.extend(teams_up.map(Group::Team));
    }
    groups.extend(band.map(tenure));
    groups.extend(segments.map(|(question, value)| Group::Segment { question, value }));
    groups
}

fn tenure(band: &str) -> Group {
    Group::Segment {
        question: TENURE.into(),
        value: band.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parent_team_is_offered_with_and_without_its_sub_teams() {
        let teams = [(1, None), (2, Some(1))];
        let c = candidates(&teams, &["new"], &[("s9".into(), vec!["remote".into()])]);
        assert_eq!(c.len(), 6, "{c:?}");
        assert!(c.contains(&Group::TeamOnly(1)) && !c.contains(&Group::TeamOnly(2)));
        let m = memberships(Some(2), [2, 1].into_iter(), Some("new"), std::iter::empty());
        assert_eq!(
            m,
            [
                Group::Org,
                Group::TeamOnly(2),
                Group::Team(2),
                Group::Team(1),
                tenure("new")
            ]
        );
        assert!(m.iter().all(|g| c.contains(g) || *g == Group::TeamOnly(2)));
    }
}
