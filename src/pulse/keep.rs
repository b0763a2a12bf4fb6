//! What is kept of a cycle's answers once its results are released
//! (PRIVACY.md rule 2): no comment, and attributes coarse enough that
//! every combination stored is shared by at least k kept responses, so
//! joining them with the roster and participation narrows no one below k.
//!
//! Close keeps no more than it released ([`as_released`]): each response
//! under the deepest team the plan released for it (none: the
//! organization), with its answers as the bands the figures count. The
//! responses kept under one team are that team's released figure less its
//! released sub-teams', a combination of released figures, so the guard
//! that let those out — across every cycle of the pulse — covers what is
//! kept too: a copy of the database read cycle against cycle (a joiner, a
//! skipper) isolates no one the released figures do not. Bands, like the
//! figures, never pin an answer to one point, even where a whole group
//! answered alike.
//!
//! A response of a group smaller than k is generalized one step at a time
//! — its team to the parent team (up to none: the whole organization),
//! then its tenure band dropped, then its segment answers — until its
//! group reaches k. Responses that even fully generalized number fewer
//! than k borrow from groups with more than k; failing that, they are not
//! kept at all (the released figures counted them already).

use std::collections::HashMap;

use rand::seq::SliceRandom;

use super::model::{Pillar, Question};
use super::store::StoredResponse;
use crate::privacy::plan::{Group, Plan};

/// What close keeps of `responses`, given the plan it released (see the
/// module's documentation), shuffled. Responses under no released group
/// are not kept (the released figures counted them already).
pub fn as_released(
    responses: &[StoredResponse],
    plan: &Plan,
    questions: &[Question],
    parent: impl Fn(i64) -> Option<i64>,
    k: usize,
) -> Vec<StoredResponse> {
    let pillar: HashMap<i64, Pillar> = questions.iter().map(|q| (q.id, q.pillar)).collect();
    let kept: Vec<StoredResponse> = responses
        .iter()
        .filter_map(|r| {
            let team = crate::shared::tree::up(r.team_id, &parent).find(|t| plan.allows(&Group::Team(*t)));
            if team.is_none() && !plan.allows(&Group::Org) {
                return None;
            }
            Some(StoredResponse {
                team_id: team,
                tenure_band: None,
                comment: None,
                answers: r
                    .answers
                    .iter()
                    .filter_map(|(q, v)| Some((*q, super::results::band(*pillar.get(q)?, *v)?)))
                    .collect(),
                segments: Vec::new(),
            })
        })
        .collect();
    // Released groups hold 0 or at least k already; this only shuffles.
    coarsen(&kept, parent, k)
}

/// The attributes of a kept response, as stored.
type Attributes = (Option<i64>, Option<String>, Vec<(i64, String)>);

fn attributes(r: &StoredResponse) -> Attributes {
    let mut segments = r.segments.clone();
    segments.sort();
    (r.team_id, r.tenure_band.clone(), segments)
}

/// One step coarser.
fn generalize(r: &mut StoredResponse, parent: &impl Fn(i64) -> Option<i64>) {
    if let Some(team) = r.team_id {
        r.team_id = parent(team);
    } else if r.tenure_band.is_some() {
        r.tenure_band = None;
    } else {
        r.segments.clear();
    }
}

fn count(attrs: &[Attributes]) -> HashMap<&Attributes, usize> {
    let mut sizes = HashMap::new();
    for a in attrs {
        *sizes.entry(a).or_insert(0) += 1;
    }
    sizes
}

fn class_sizes(kept: &[StoredResponse]) -> HashMap<Attributes, usize> {
    let mut sizes = HashMap::new();
    for r in kept {
        *sizes.entry(attributes(r)).or_insert(0) += 1;
    }
    sizes
}

/// The responses to keep, coarsened, without comments, in random order.
pub fn coarsen(responses: &[StoredResponse], parent: impl Fn(i64) -> Option<i64>, k: usize) -> Vec<StoredResponse> {
    let k = k.max(1);
    let mut kept: Vec<StoredResponse> = responses
        .iter()
        .map(|r| StoredResponse {
            comment: None,
            ..r.clone()
        })
        .collect();
    // The most specific small groups step first, so that sibling teams
    // meet at their parent before the parent's own people move on up.
    // Each team's depth (steps to the top) is found once.
    let mut depths: HashMap<i64, usize> = HashMap::new();
    for start in kept.iter().filter_map(|r| r.team_id) {
        if depths.contains_key(&start) {
            continue;
        }
        let mut chain = Vec::new();
        let mut known = None;
        for t in crate::shared::tree::up(Some(start), &parent) {
            if let Some(depth) = depths.get(&t) {
                known = Some(*depth);
                break;
            }
            chain.push(t);
        }
        let base = known.map_or(0, |d| d + 1);
        for (i, t) in chain.iter().rev().enumerate() {
            depths.insert(*t, base + i);
        }
    }
    let rank = |r: &StoredResponse| match (r.team_id, &r.tenure_band, r.segments.is_empty()) {
        (Some(t), _, _) => 3 + depths.get(&t).copied().unwrap_or(0),
        (None, Some(_), _) => 2,
        (None, None, false) => 1,
        (None, None, true) => 0,
    };
    loop {
        let attrs: Vec<Attributes> = kept.iter().map(attributes).collect();
        let sizes = count(&attrs);
        let small: Vec<bool> = attrs.iter().map(|a| sizes[a] < k).collect();
        let top = kept
            .iter()
            .zip(&small)
            .filter(|(_, s)| **s)
            .map(|(r, _)| rank(r))
            .max()
            .unwrap_or(0);
        if top == 0 {
            break;
        }
        for (r, s) in kept.iter_mut().zip(&small) {
            if *s && rank(r) == top {
                generalize(r, &parent);
            }
        }
    }
    // Whatever is still in a small group is fully generalized: at most one
    // such group is left.
    let sizes = class_sizes(&kept);
    let bare: Attributes = (None, None, Vec::new());
    let short = k.saturating_sub(sizes.get(&bare).copied().unwrap_or(0));
    if short > 0 && sizes.get(&bare).is_some_and(|n| *n > 0) {
        let mut rng = rand::thread_rng();
        // Borrow from the groups that can spare someone and stay at k.
        let mut spare: Vec<usize> = Vec::new();
        let mut left: HashMap<Attributes, usize> = sizes.clone();
        let mut order: Vec<usize> = (0..kept.len()).collect();
        order.shuffle(&mut rng);
        for i in order {
            let a = attributes(&kept[i]);
            if a != bare && left[&a] > k {
                *left.get_mut(&a).expect("counted") -= 1;
                spare.push(i);
                if spare.len() == short {
                    break;
                }
            }
        }
        if spare.len() == short {
            for i in spare {
                let r = &mut kept[i];
                r.team_id = None;
                r.tenure_band = None;
                r.segments.clear();
            }
        } else {
            kept.retain(|r| attributes(r) != bare);
        }
    }
    kept.shuffle(&mut rand::thread_rng());
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(team: Option<i64>, band: Option<&str>, seg: Option<&str>) -> StoredResponse {
        StoredResponse {
            team_id: team,
            tenure_band: band.map(str::to_owned),
            comment: Some("a comment".into()),
            answers: vec![(1, 4)],
            segments: seg.map(|s| vec![(9, s.to_owned())]).unwrap_or_default(),
        }
    }

    /// Teams: 1 is the root; 2 and 3 are its children; 4 is a child of 2.
    fn parent(t: i64) -> Option<i64> {
        match t {
            2 | 3 => Some(1),
            4 => Some(2),
            _ => None,
        }
    }

    fn assert_k_anonymous(kept: &[StoredResponse], k: usize) {
        for (a, n) in class_sizes(kept) {
            assert!(n >= k, "{a:?} is shared by {n} kept responses, fewer than {k}");
        }
        assert!(kept.iter().all(|r| r.comment.is_none()), "no comment is kept");
    }

    #[test]
    fn groups_of_k_stay_as_they_are() {
        let all: Vec<_> = (0..6)
            .map(|_| r(Some(4), Some("under 1 year"), Some("Remote")))
            .collect();
        let kept = coarsen(&all, parent, 5);
        assert_eq!(kept.len(), 6);
        assert_k_anonymous(&kept, 5);
        assert!(kept.iter().all(|x| x.team_id == Some(4) && x.segments.len() == 1));
    }

    #[test]
    fn small_teams_roll_up_before_tenure_and_segments_go() {
        let mut all = Vec::new();
        // Team 4 has three, team 2 two: together five, at team 2.
        for _ in 0..3 {
            all.push(r(Some(4), Some("under 1 year"), None));
        }
        for _ in 0..2 {
            all.push(r(Some(2), Some("under 1 year"), None));
        }
        // Team 3: five, with mixed bands and segments: they lose bands and
        // segments only after rising to the root and beyond.
        all.push(r(Some(3), Some("under 1 year"), Some("Remote")));
        all.push(r(Some(3), Some("1 to 3 years"), Some("Office")));
        all.push(r(Some(3), Some("1 to 3 years"), None));
        all.push(r(Some(3), None, None));
        all.push(r(Some(3), Some("3 years or more"), Some("Remote")));
        let kept = coarsen(&all, parent, 5);
        assert_k_anonymous(&kept, 5);
        assert_eq!(kept.len(), 10);
        assert_eq!(kept.iter().filter(|x| x.team_id == Some(2)).count(), 5);
    }

    #[test]
    fn a_remainder_too_small_borrows_or_is_not_kept() {
        let mut all: Vec<_> = (0..7).map(|_| r(Some(2), None, None)).collect();
        all.push(r(None, Some("under 1 year"), None));
        // One fully generalized response; team 2 can spare two and stay at five.
        let kept = coarsen(&all, |_| None, 5);
        assert_k_anonymous(&kept, 5);
        // Team 2 (7) generalizes nobody, so the lone one would need four
        // more: team 2 can spare only two, and the lone one is dropped.
        assert_eq!(kept.len(), 7);
        let mut all: Vec<_> = (0..12).map(|_| r(Some(2), None, None)).collect();
        all.push(r(None, Some("under 1 year"), None));
        let kept = coarsen(&all, |_| None, 5);
        assert_k_anonymous(&kept, 5);
        assert_eq!(kept.len(), 13, "borrowed four from team 2's twelve");
        assert_eq!(
            coarsen(&all[..3], |_| None, 5).len(),
            0,
            "fewer than k in all: nothing kept"
        );
    }

    #[test]
    fn random_rosters_always_come_out_k_anonymous() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for _ in 0..200 {
            let n = rng.gen_range(0..60);
            let all: Vec<_> = (0..n)
                .map(|_| {
                    let team = [None, Some(1), Some(2), Some(3), Some(4)][rng.gen_range(0..5)];
                    let band = [None, Some("under 1 year"), Some("1 to 3 years")][rng.gen_range(0..3)];
                    let seg = [None, Some("Remote"), Some("Office")][rng.gen_range(0..3)];
                    r(team, band, seg)
                })
                .collect();
            let k = rng.gen_range(3..8);
            let kept = coarsen(&all, parent, k);
            assert_k_anonymous(&kept, k);
            assert!(kept.len() <= all.len());
        }
    }

    fn question(id: i64, pillar: Pillar) -> Question {
        Question::sample(id, pillar)
    }

    fn plan(published: &[Group]) -> Plan {
        Plan {
            k: 2,
            published: published.iter().cloned().collect(),
            ..Plan::default()
        }
    }

    #[test]
    fn close_keeps_no_more_than_it_released() {
        let questions = [
            question(1, Pillar::Acceptance),
            question(2, Pillar::Enps),
            question(3, Pillar::Comment),
        ];
        let answer = |team: Option<i64>, a: i64, e: i64| StoredResponse {
            answers: vec![(1, a), (2, e), (3, 1)],
            ..r(team, Some("under 1 year"), Some("Remote"))
        };
        // Team 4 was withheld (across cycles, say): its people are kept
        // under team 2, as its released figure counts them.
        let responses = vec![
            answer(Some(4), 5, 10),
            answer(Some(4), 3, 8),
            answer(Some(2), 4, 6),
            answer(Some(3), 2, 9),
            answer(None, 1, 0),
        ];
        let released = plan(&[Group::Org, Group::Team(1), Group::Team(2)]);
        // The plan is what holds released groups at k; with k = 1 here,
        // the check below it does nothing.
        let kept = as_released(&responses, &released, &questions, parent, 1);
        let mut teams: Vec<Option<i64>> = kept.iter().map(|r| r.team_id).collect();
        teams.sort();
        assert_eq!(teams, [None, Some(1), Some(2), Some(2), Some(2)]);
        assert!(
            kept.iter()
                .all(|r| r.tenure_band.is_none() && r.segments.is_empty() && r.comment.is_none())
        );
        let mut answers: Vec<Vec<(i64, i64)>> = kept.iter().map(|r| r.answers.clone()).collect();
        answers.sort();
        // Bands only: favourable or not; detractor, passive, promoter. Free
        // text is not kept.
        assert_eq!(
            answers,
            [
                vec![(1, 0), (2, 0)],
                vec![(1, 0), (2, 1)],
                vec![(1, 0), (2, 2)],
                vec![(1, 1), (2, 0)],
                vec![(1, 1), (2, 2)]
            ]
        );
        // Without the organization, those under no released team go.
        let kept = as_released(&responses, &plan(&[Group::Team(2)]), &questions, parent, 1);
        assert_eq!(kept.len(), 3);
        assert!(kept.iter().all(|r| r.team_id == Some(2)));
    }
}
