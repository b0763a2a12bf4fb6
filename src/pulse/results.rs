//! Results of a group, computed once from the raw responses when a cycle
//! closes. Only groups in the publication plan get one; what a result holds
//! follows the thresholds of PRIVACY.md (rules 7, 8, 12).
//!
//! Every figure is a count of answers in a band of the scale: favourable
//! (4–5) or not on the 1–5 questions, promoters (9–10), passives (7–8) and
//! detractors (0–6) for eNPS. A band holds at least two scale points, so no
//! set of released counts, however combined across groups and cycles,
//! narrows an answer to a single point: integer reasoning over the 1–5
//! bounds has nothing to pin. Means and counts per scale point would (a
//! team of three at 3 of 3 favourable with mean 4.00 all answered 4), so
//! they are not released for any group.

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
    /// Promoters, passives and detractors (the 0–10 question).
    #[serde(default)]
    pub enps: Option<Enps>,
}

/// eNPS as the three bands it is made of, and the score they give.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Enps {
    pub promoters: u32,
    pub passives: u32,
    pub detractors: u32,
    /// % promoters minus % detractors, rounded.
    pub score: i64,
}

/// The band the released figures count an answer in: on the 1–5
/// questions 1 for favourable (4–5), else 0; on eNPS 2 for a promoter
/// (9–10), 1 for a passive (7–8), 0 for a detractor (0–6). None for free
/// text.
pub fn band(pillar: Pillar, value: i64) -> Option<i64> {
    match pillar {
        Pillar::Comment => None,
        Pillar::Enps => Some(match value {
            9.. => 2,
            7..=8 => 1,
            _ => 0,
        }),
        _ => Some(i64::from(value >= 4)),
    }
}

impl Enps {
    fn of(values: &[i64]) -> Enps {
        let count = |b: i64| values.iter().filter(|v| band(Pillar::Enps, **v) == Some(b)).count() as u32;
        Enps {
            promoters: count(2),
            passives: count(1),
            detractors: count(0),
            score: stats::enps(values),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct GroupResult {
    pub responses: u32,
    pub index: Share,
    pub pillars: BTreeMap<Pillar, Share>,
    pub questions: Vec<QuestionResult>,
    #[serde(default)]
    pub enps: Option<Enps>,
    pub stay: Option<Share>,
    /// The organization's comments, in a random order, when the plan
    /// releases them (rule 8); empty for every other group.
    pub comments: Vec<String>,
}

/// A released team group's figures in brief: its responses and the four
/// pillars' % favourable (in [`Pillar::BELONGING`]'s order).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Brief {
    pub responses: u32,
    pub pillars: [Option<f64>; 4],
}

impl Brief {
    pub fn of(r: &GroupResult) -> Brief {
        Brief {
            responses: r.responses,
            pillars: Pillar::BELONGING.map(|p| r.pillars.get(&p).map(|s| s.value)),
        }
    }

    pub fn pillar(&self, p: Pillar) -> Option<f64> {
        Pillar::BELONGING
            .iter()
            .position(|b| *b == p)
            .and_then(|i| self.pillars[i])
    }
}

/// Briefs as stored with a cycle: `key=responses,a,v,s,i;…`, each value in
/// Rust's shortest form that reads back the same, empty where absent.
pub fn write_briefs<'a>(briefs: impl Iterator<Item = (String, &'a GroupResult)>) -> String {
    let entries: Vec<String> = briefs
        .map(|(key, r)| {
            let b = Brief::of(r);
            let values: Vec<String> = b
                .pillars
                .iter()
                .map(|v| v.map(|v| v.to_string()).unwrap_or_default())
                .collect();
            format!("{key}={},{}", b.responses, values.join(","))
        })
        .collect();
    entries.join(";")
}

/// The briefs of `wanted` keys in a stored text; an entry that does not
/// read is corrupt data (an error).
pub fn read_briefs(
    text: &str,
    wanted: &std::collections::HashMap<String, usize>,
) -> Result<Vec<Option<Brief>>, String> {
    let mut out = vec![None; wanted.values().max().map_or(0, |m| m + 1)];
    for entry in text.split(';').filter(|e| !e.is_empty()) {
        let (key, values) = entry.split_once('=').ok_or_else(|| format!("no key in {entry:?}"))?;
        let Some(&at) = wanted.get(key) else { continue };
        let mut parts = values.split(',');
        let responses = parts
            .next()
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| format!("no responses in {entry:?}"))?;
        let mut pillars = [None; 4];
        for slot in &mut pillars {
            *slot = match parts.next() {
                Some("") => None,
                Some(v) => Some(v.parse::<f64>().map_err(|e| format!("{entry:?}: {e}"))?),
                None => return Err(format!("too few values in {entry:?}")),
            };
        }
        out[at] = Some(Brief { responses, pillars });
    }
    Ok(out)
}

/// Computes a group's result from its responses; `with_comments` when the
/// plan releases comments for it.
pub fn compute(questions: &[Question], responses: &[&StoredResponse], with_comments: bool) -> GroupResult {
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
        if q.pillar.scale().is_none() {
            continue;
        }
        let count = values.len() as u32;
        let favourable = (q.pillar != Pillar::Enps).then(|| stats::favourable(values));
        let bands = (q.pillar == Pillar::Enps).then(|| Enps::of(values));
        if bands.is_some() {
            enps = bands;
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
            enps: bands,
        });
    }
    let mut comments: Vec<String> = match with_comments {
        true => responses.iter().filter_map(|r| r.comment.clone()).collect(),
        false => Vec::new(),
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    fn q(id: i64, pillar: Pillar) -> Question {
        Question::sample(id, pillar)
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
        let g = compute(&qs, &refs, false);
        assert_eq!(g.responses, 6);
        // 12 pillar answers, 9 favourable.
        assert!((g.index.value - 75.0).abs() < 1e-9);
        assert!((g.pillars[&Pillar::Acceptance].value - 50.0).abs() < 1e-9);
        let enps = g.enps.unwrap();
        assert_eq!((enps.promoters, enps.passives, enps.detractors), (2, 0, 4));
        assert_eq!(enps.score, round(2.0 / 6.0 * 100.0 - 4.0 / 6.0 * 100.0));
        assert!(g.comments.is_empty(), "comments not released for this group");
        let g = compute(&qs, &refs, true);
        assert_eq!(g.comments.len(), 4);
    }

    fn round(x: f64) -> i64 {
        x.round() as i64
    }
}
