//! Results of a group, computed once from the raw responses when a cycle
//! closes. Only groups in the publication plan get one; what a result holds
//! follows the thresholds of PRIVACY.md (rules 7, 8, 12).

use std::collections::BTreeMap;

use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use super::model::{Pillar, Question};
use super::store::StoredResponse;
use crate::privacy::stats::{self, Share};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct QuestionResult {
    pub question_id: i64,
    pub text: String,
    pub pillar: Pillar,
    pub answers: u32,
    /// % favourable (1–5 questions).
    pub favourable: Option<Share>,
    pub mean: f64,
    /// Count per scale point; only with at least k + 3 answers (rule 12).
    pub distribution: Option<Vec<u32>>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct GroupResult {
    pub responses: u32,
    pub index: Share,
    pub pillars: BTreeMap<Pillar, Share>,
    pub questions: Vec<QuestionResult>,
    pub enps: Option<i64>,
    pub stay: Option<Share>,
    /// Shown only when at least k people of the group wrote one, in a
    /// random order (rule 8).
    pub comments: Vec<String>,
}

/// Computes a group's result from its responses.
pub fn compute(questions: &[Question], responses: &[&StoredResponse], k: u32) -> GroupResult {
    let pillar_of: BTreeMap<i64, Pillar> = questions.iter().map(|q| (q.id, q.pillar)).collect();
    let mut by_question: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for r in responses {
        for (q, v) in &r.answers {
            by_question.entry(*q).or_default().push(*v);
        }
    }
    let belonging: Vec<i64> = by_question
        .iter()
        .filter(|(q, _)| pillar_of.get(q).is_some_and(|p| p.is_belonging()))
        .flat_map(|(_, vs)| vs.iter().copied())
        .collect();
    let n = responses.len() as u32;
    let mut pillars = BTreeMap::new();
    for p in Pillar::BELONGING {
        let values: Vec<i64> = by_question
            .iter()
            .filter(|(q, _)| pillar_of.get(q) == Some(&p))
            .flat_map(|(_, vs)| vs.iter().copied())
            .collect();
        if !values.is_empty() {
            // Like the index, per respondent rather than per answer.
            pillars.insert(p, stats::belonging_index(&values, n));
        }
    }
    let mut question_results = Vec::new();
    let mut enps = None;
    let mut stay = None;
    for q in questions {
        let Some(values) = by_question.get(&q.id) else {
            continue;
        };
        let Some((low, high)) = q.pillar.scale() else {
            continue;
        };
        let count = values.len() as u32;
        let favourable = (q.pillar != Pillar::Enps).then(|| stats::favourable(values));
        if q.pillar == Pillar::Enps {
            enps = Some(stats::enps(values));
        }
        if q.pillar == Pillar::Stay {
            stay = favourable;
        }
        question_results.push(QuestionResult {
            question_id: q.id,
            text: q.text.clone(),
            pillar: q.pillar,
            answers: count,
            favourable,
            mean: stats::mean(values),
            distribution: (count >= k + 3).then(|| stats::distribution(values, low, high)),
        });
    }
    let mut comments: Vec<String> = responses.iter().filter_map(|r| r.comment.clone()).collect();
    if (comments.len() as u32) < k {
        comments.clear();
    }
    comments.shuffle(&mut rand::thread_rng());
    GroupResult {
        responses: n,
        index: stats::belonging_index(&belonging, n),
        pillars,
        questions: question_results,
        enps,
        stay,
        comments,
    }
}

/// Participation as rule 11 allows it to be shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Participation {
    /// The group has fewer than k people.
    SmallGroup,
    /// Fewer than k have answered.
    FewerThanK,
    /// Rounded down to 10 %.
    Percent(u32),
}

pub fn participation(people: u32, answered: u32, k: u32) -> Participation {
    if people < k {
        Participation::SmallGroup
    } else if answered < k {
        Participation::FewerThanK
    } else {
        Participation::Percent(answered * 100 / people / 10 * 10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(id: i64, pillar: Pillar) -> Question {
        Question {
            id,
            family: id,
            version: 1,
            pillar,
            text: format!("Q{id}"),
            builtin: true,
            retired: false,
        }
    }

    fn r(answers: &[(i64, i64)], comment: Option<&str>) -> StoredResponse {
        StoredResponse {
            segments: vec![],
            team_id: None,
            tenure_band: None,
            comment: comment.map(str::to_owned),
            answers: answers.to_vec(),
        }
    }

    #[test]
    fn a_group_result_follows_the_thresholds() {
        let qs = [
            q(1, Pillar::Acceptance),
            q(2, Pillar::Value),
            q(3, Pillar::Enps),
            q(4, Pillar::Comment),
        ];
        let rs: Vec<StoredResponse> = (0..6)
            .map(|i| {
                r(
                    &[(1, if i < 3 { 5 } else { 2 }), (2, 4), (3, if i < 2 { 10 } else { 5 })],
                    (i < 4).then_some("ok"),
                )
            })
            .collect();
        let refs: Vec<&StoredResponse> = rs.iter().collect();
        let g = compute(&qs, &refs, 5);
        assert_eq!(g.responses, 6);
        // 12 pillar answers, 9 favourable.
        assert!((g.index.value - 75.0).abs() < 1e-9);
        assert!((g.pillars[&Pillar::Acceptance].value - 50.0).abs() < 1e-9);
        assert_eq!(g.enps, Some(round(2.0 / 6.0 * 100.0 - 4.0 / 6.0 * 100.0)));
        assert!(g.questions.iter().all(|q| q.distribution.is_none()), "6 < k + 3");
        assert!(g.comments.is_empty(), "4 commenters < k");
        let g = compute(&qs, &refs, 3);
        assert_eq!(g.comments.len(), 4);
        assert_eq!(g.questions[0].distribution, Some(vec![0, 3, 0, 0, 3]));
    }

    fn round(x: f64) -> i64 {
        x.round() as i64
    }

    #[test]
    fn participation_is_coarse() {
        assert_eq!(participation(4, 4, 5), Participation::SmallGroup);
        assert_eq!(participation(12, 4, 5), Participation::FewerThanK);
        assert_eq!(participation(12, 11, 5), Participation::Percent(90));
        assert_eq!(participation(12, 5, 5), Participation::Percent(40));
    }
}
