//! The guard played by an attacker who knows everything but the answers:
//! the roster of every cycle, who answered, everyone's self-reported
//! segment, and — the worst case — that each person gives the same answers
//! and the same comment in every cycle. It reads every released figure of
//! every closed cycle through the API and the CSV export, and what a copy
//! of the database keeps of the answers (the rows kept under each team),
//! and tries:
//!
//! - linear algebra: some combination of released groups (of any cycles)
//!   whose support is 1..k−1 people (a null-space test over person types,
//!   in arithmetic modulo a prime, apart from the plan's floating point);
//! - integer reasoning: the 1–5 (0–10) bounds, every released count, sum
//!   and count per scale point, propagated to a fixpoint, then exhaustive
//!   search over the people of small groups: an answer narrowed to one
//!   value is exposed;
//! - comment lists: a comment's writer is among the people who answered
//!   exactly the cycles whose lists, for groups they were in, hold it.
//!
//! Three fixed cases (the bounds, the comment list, history) exposed people
//! on the plan before this guard; a generated suite of organizations with
//! joiners, leavers, moves and skippers must expose no one.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use belong::auth::{Actor, Role};
use belong::pulse::model::Pillar;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::Row;

use crate::helpers::{Api, PASSWORD, TestApp, both_databases, token_for};

both_databases!(
    fixed_case_the_bounds_pin_no_answer,
    fixed_case_comment_lists_cannot_be_differenced,
    fixed_case_a_leaver_and_a_skipper_stay_hidden_across_cycles,
    generated_organizations_expose_no_one,
);

/// One simulated person: fixed answers (the worst case), a fixed comment.
#[derive(Clone)]
struct Sim {
    id: i64,
    team: Option<usize>,
    active: bool,
    /// Answer per question id; missing ones default to `base`.
    answers: HashMap<i64, i64>,
    base: i64,
    segment: Option<String>,
    comment: Option<String>,
    /// By API token (else through the form's path).
    token: Option<String>,
}

struct World {
    org: i64,
    slug: String,
    teams: Vec<i64>,
    people: Vec<Sim>,
    pulse: i64,
    segment: Option<i64>,
    hr: Api,
    k: u32,
    /// Closed cycle ids, oldest first.
    cycles: Vec<i64>,
}

fn owner(org: i64) -> Actor {
    Actor {
        org_id: org,
        person_id: 0,
        role: Role::Owner,
    }
}

impl World {
    /// An organization with `teams` (parent index per team) and an HR
    /// admin outside every team; k as given.
    async fn new(app: &TestApp, slug: &str, parents: &[Option<usize>], k: u32, segment: bool) -> World {
        let org = app.org(slug, slug).await;
        let hr_id = app
            .person(org, "Hera Hr", &format!("hera@{slug}.example"), Role::HrAdmin, None)
            .await;
        sqlx::query("UPDATE organizations SET anonymity_k = $1 WHERE id = $2")
            .bind(k as i64)
            .bind(org)
            .execute(&app.state.db.pool)
            .await
            .unwrap();
        let mut teams: Vec<i64> = Vec::new();
        for (i, p) in parents.iter().enumerate() {
            let id = app.team(org, &format!("Team {i}"), p.map(|p| teams[p])).await;
            teams.push(id);
        }
        let segment = match segment {
            true => Some(
                belong::pulse::segments::add(&app.state, &owner(org), "Where do you work?", "Remote\nOffice")
                    .await
                    .unwrap(),
            ),
            false => None,
        };
        let bank = belong::pulse::service::question_bank(&app.state, org).await.unwrap();
        let questions: Vec<(i64, bool)> = belong::pulse::model::default_selection(&bank)
            .into_iter()
            .filter(|(_, core)| *core)
            .collect();
        let input = belong::pulse::model::PulseInput {
            title: "Pulse".into(),
            schedule: belong::pulse::model::Schedule::Once,
            open_days: 7,
            remind_days: 3,
            per_cycle: questions.len() as i64,
            teams: None,
            questions,
        };
        let pulse = belong::pulse::service::create_pulse(&app.state, &owner(org), &input)
            .await
            .unwrap();
        let hr = Api::new(app, &token_for(app, org, hr_id).await);
        World {
            org,
            slug: slug.into(),
            teams,
            people: Vec::new(),
            pulse,
            segment,
            hr,
            k,
            cycles: Vec::new(),
        }
    }

    async fn join(&mut self, app: &TestApp, team: Option<usize>, base: i64, start: &str, by_api: bool) -> usize {
        let n = self.people.len();
        let id = app
            .member(
                self.org,
                &format!("Person {n}"),
                &format!("p{n}@{}.example", self.slug),
                team.map(|t| self.teams[t]),
            )
            .await;
        sqlx::query("UPDATE people SET start_date = $1 WHERE id = $2")
            .bind(start)
            .bind(id)
            .execute(&app.state.db.pool)
            .await
            .unwrap();
        let token = match by_api {
            true => Some(token_for(app, self.org, id).await),
            false => None,
        };
        self.people.push(Sim {
            id,
            team,
            active: true,
            answers: HashMap::new(),
            base,
            segment: None,
            comment: Some(format!("Comment of person {n}")),
            token,
        });
        n
    }

    async fn leave(&mut self, app: &TestApp, i: usize) {
        self.people[i].active = false;
        sqlx::query("UPDATE people SET active = 0 WHERE id = $1")
            .bind(self.people[i].id)
            .execute(&app.state.db.pool)
            .await
            .unwrap();
    }

    async fn moves(&mut self, app: &TestApp, i: usize, team: usize) {
        self.people[i].team = Some(team);
        sqlx::query("UPDATE people SET team_id = $1 WHERE id = $2")
            .bind(self.teams[team])
            .bind(self.people[i].id)
            .execute(&app.state.db.pool)
            .await
            .unwrap();
    }

    /// Opens a cycle, has everyone active answer but `skip`, closes it.
    async fn cycle(&mut self, app: &TestApp, skip: &[usize]) {
        let cycle = belong::pulse::service::launch(&app.state, self.org, self.pulse)
            .await
            .unwrap();
        let mut conn = app.state.db.pool.acquire().await.unwrap();
        let qs = belong::pulse::service::cycle_questions(&mut conn, self.org, cycle)
            .await
            .unwrap();
        drop(conn);
        for (i, p) in self.people.iter().enumerate() {
            if !p.active || skip.contains(&i) {
                continue;
            }
            let value = |q: &belong::pulse::model::Question| {
                let v = *p.answers.get(&q.id).unwrap_or(&p.base);
                if q.pillar == Pillar::Enps { v * 2 } else { v }
            };
            let scale: Vec<&belong::pulse::model::Question> =
                qs.iter().filter(|q| q.pillar.scale().is_some()).collect();
            let has_comment = qs.iter().any(|q| q.pillar == Pillar::Comment);
            match &p.token {
                Some(token) => {
                    let answers: serde_json::Map<String, serde_json::Value> =
                        scale.iter().map(|q| (q.id.to_string(), value(q).into())).collect();
                    let mut body = serde_json::json!({"answers": answers});
                    if has_comment && let Some(c) = &p.comment {
                        body["comment"] = c.clone().into();
                    }
                    if let (Some(seg), Some(choice)) = (self.segment, &p.segment) {
                        body["segments"] = serde_json::json!({ seg.to_string(): choice });
                    }
                    let r = Api::new(app, token)
                        .call("POST", &format!("/api/v1/cycles/{cycle}/responses"), Some(body))
                        .await;
                    assert_eq!(r.status, 201, "{}", r.json);
                }
                None => {
                    let mut fields: Vec<(String, String)> = scale
                        .iter()
                        .map(|q| (format!("q{}", q.id), value(q).to_string()))
                        .collect();
                    if let Some(c) = &p.comment
                        && let Some(q) = qs.iter().find(|q| q.pillar == Pillar::Comment)
                    {
                        fields.push((format!("q{}", q.id), c.clone()));
                    }
                    if let (Some(seg), Some(choice)) = (self.segment, &p.segment) {
                        fields.push((format!("s{seg}"), choice.clone()));
                    }
                    belong::pulse::service::submit(&app.state, self.org, cycle, p.id, &fields)
                        .await
                        .unwrap();
                }
            }
        }
        let closed = self
            .hr
            .call("POST", &format!("/api/v1/cycles/{cycle}/close"), None)
            .await;
        assert!(closed.status < 300, "{}", closed.json);
        self.cycles.push(cycle);
    }

    /// Everything the attacker knows and everything released.
    async fn observe(&self, app: &TestApp) -> Observed {
        let by_id: HashMap<i64, usize> = self.people.iter().enumerate().map(|(i, p)| (p.id, i)).collect();
        let teams: Vec<(i64, Option<i64>)> = sqlx::query("SELECT id, parent_id FROM teams WHERE org_id = $1")
            .bind(self.org)
            .fetch_all(&app.state.db.pool)
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get("id"), r.get("parent_id")))
            .collect();
        let parent: HashMap<i64, Option<i64>> = teams.into_iter().collect();
        let mut obs = Observed {
            k: self.k,
            exhaustive: 8,
            people: self.people.len(),
            figures: Vec::new(),
            comments: Vec::new(),
            truth: self.people.clone(),
        };
        for (c, cycle) in self.cycles.iter().enumerate() {
            // The roster and participation, as the database holds them.
            let rows = sqlx::query(
                "SELECT r.person_id, r.team_id, r.tenure_band FROM cycle_roster r
                 JOIN participation x ON x.cycle_id = r.cycle_id AND x.person_id = r.person_id
                 WHERE r.cycle_id = $1 AND x.answered = 1",
            )
            .bind(cycle)
            .fetch_all(&app.state.db.pool)
            .await
            .unwrap();
            let mut member: Vec<(usize, BTreeSet<String>)> = Vec::new();
            for r in &rows {
                let person = by_id[&r.get::<i64, _>("person_id")];
                let mut keys = BTreeSet::from(["org".to_owned()]);
                if let Some(t) = r.get::<Option<i64>, _>("team_id") {
                    keys.insert(format!("team-only:{t}"));
                    let mut at = Some(t);
                    while let Some(x) = at {
                        keys.insert(format!("team:{x}"));
                        at = parent.get(&x).copied().flatten();
                    }
                }
                if let Some(b) = r.get::<Option<String>, _>("tenure_band") {
                    keys.insert(format!("segment:tenure={b}"));
                }
                if let (Some(seg), Some(v)) = (self.segment, &self.people[person].segment) {
                    keys.insert(format!("segment:s{seg}={v}"));
                }
                member.push((person, keys));
            }
            let first = self
                .hr
                .call("GET", &format!("/api/v1/cycles/{cycle}/results"), None)
                .await;
            assert_eq!(first.status, 200, "{}", first.json);
            let groups: Vec<String> = first.json["groups"]
                .as_array()
                .unwrap()
                .iter()
                .map(|g| g.as_str().unwrap().to_owned())
                .collect();
            for key in groups {
                let r = self
                    .hr
                    .call(
                        "GET",
                        &format!("/api/v1/cycles/{cycle}/results?group={}", urlencode(&key)),
                        None,
                    )
                    .await;
                assert_eq!(r.status, 200, "{}", r.json);
                let people: Vec<usize> = member
                    .iter()
                    .filter(|(_, keys)| keys.contains(&key))
                    .map(|(p, _)| *p)
                    .collect();
                match r.json["status"].as_str().unwrap() {
                    "released" => {
                        let result = &r.json["result"];
                        assert_eq!(
                            result["responses"].as_u64().unwrap() as usize,
                            people.len(),
                            "{key} in cycle {c}: the attacker's roster agrees with the figures"
                        );
                        obs.read(c, &key, &people, result);
                    }
                    status => {
                        assert!(r.json["result"].is_null(), "{status} {key} says nothing");
                        assert!(
                            r.json["reason"].as_str().is_some_and(|s| s.len() > 20),
                            "{key}: withheld figures are explained: {}",
                            r.json
                        );
                    }
                }
            }
            obs.read_kept(app, c, *cycle, &rows, &parent, &by_id).await;
            // The heatmap releases only what the results released.
            let heat = self
                .hr
                .call("GET", &format!("/api/v1/cycles/{cycle}/heatmap"), None)
                .await;
            assert_eq!(heat.status, 200);
            let released_teams = obs
                .figures
                .iter()
                .filter(|f| f.cycle == c && f.group.starts_with("team:"))
                .count();
            assert!(heat.json.as_array().unwrap().len() <= released_teams);
        }
        obs
    }

    /// The CSV export, signed in as HR: the same statuses as the API.
    async fn export_agrees(&self, app: &TestApp, obs: &Observed) {
        let hr = app.browser();
        hr.sign_in(&self.slug, &format!("hera@{}.example", self.slug), PASSWORD)
            .await;
        for (c, cycle) in self.cycles.iter().enumerate() {
            let csv = hr.get(&format!("/pulse/cycles/{cycle}/export.csv")).await;
            assert_eq!(csv.status, 200);
            let released: BTreeSet<&str> = obs
                .figures
                .iter()
                .filter(|f| f.cycle == c)
                .map(|f| f.group.as_str())
                .collect();
            for line in csv.body.lines().skip(1) {
                let cells: Vec<&str> = line.split(',').collect();
                let key = cells[0].trim_start_matches('\'');
                assert_eq!(
                    cells[2] == "released",
                    released.contains(key),
                    "cycle {c}: the export and the API agree on {key}"
                );
            }
        }
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b':' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One released figure: a count or sum over the answers of a set of
/// people to one question (people assumed to answer the same every cycle).
#[derive(Clone, Debug)]
struct Figure {
    cycle: usize,
    group: String,
    people: Vec<usize>,
    question: i64,
    /// The 0–10 question (else 1–5).
    enps: bool,
    kind: Kind,
}

#[derive(Clone, Debug, PartialEq)]
enum Kind {
    /// How many answered at least this value.
    AtLeast(i64, i64),
    /// How many answered at most this value.
    AtMost(i64, i64),
    /// How many answered exactly this value.
    Exactly(i64, i64),
    /// The sum of the answers.
    Sum(i64),
    /// Only that the group was released (for the linear test).
    Released,
}

/// A kept response as a copy of the database holds it: team, tenure band,
/// segments, answers.
type KeptRow = (Option<i64>, Option<String>, Option<String>, String);

struct Observed {
    k: u32,
    /// The most people the integer search enumerates together.
    exhaustive: usize,
    people: usize,
    figures: Vec<Figure>,
    /// (cycle, group, people, comments listed).
    comments: Vec<(usize, String, Vec<usize>, Vec<String>)>,
    truth: Vec<Sim>,
}

impl Observed {
    /// Reads every number of a released result, in whatever shape it is.
    fn read(&mut self, cycle: usize, key: &str, people: &[usize], r: &serde_json::Value) {
        let n = people.len() as f64;
        let mut push = |question: i64, enps: bool, kind: Kind| {
            self.figures.push(Figure {
                cycle,
                group: key.to_owned(),
                people: people.to_vec(),
                question,
                enps,
                kind,
            })
        };
        push(0, false, Kind::Released);
        for q in r["questions"].as_array().unwrap() {
            let id: i64 = q["question_id"].as_i64().unwrap();
            let enps = q["pillar"] == "enps";
            let low = if enps { 0 } else { 1 };
            if let Some(f) = q["favourable"]["value"].as_f64() {
                push(id, enps, Kind::AtLeast(4, (f * n / 100.0).round() as i64));
            }
            if let Some(m) = q["mean"].as_f64() {
                push(id, enps, Kind::Sum((m * n).round() as i64));
            }
            if let Some(d) = q["distribution"].as_array() {
                for (i, c) in d.iter().enumerate() {
                    push(id, enps, Kind::Exactly(low + i as i64, c.as_i64().unwrap()));
                }
            }
            if let Some(e) = q["enps"].as_object() {
                push(id, enps, Kind::AtLeast(9, e["promoters"].as_i64().unwrap()));
                push(id, enps, Kind::AtMost(6, e["detractors"].as_i64().unwrap()));
            }
        }
        let comments: Vec<String> = r["comments"]
            .as_array()
            .map(|a| a.iter().map(|c| c.as_str().unwrap().to_owned()).collect())
            .unwrap_or_default();
        if !comments.is_empty() {
            self.comments.push((cycle, key.to_owned(), people.to_vec(), comments));
        }
    }

    /// What a copy of the database keeps of a closed cycle's answers, read
    /// as an attacker who knows the roster and who answered: the rows kept
    /// under a team were written by the people who answered under it and
    /// under none of its sub-teams that rows were kept for. Each such class
    /// is a figure like the released ones (its bands per question), and
    /// the class must be one the released figures make: a team released
    /// in that cycle, or the organization.
    async fn read_kept(
        &mut self,
        app: &TestApp,
        c: usize,
        cycle: i64,
        rows: &[sqlx::any::AnyRow],
        parent: &HashMap<i64, Option<i64>>,
        by_id: &HashMap<i64, usize>,
    ) {
        let enps: BTreeSet<i64> = sqlx::query("SELECT id FROM questions WHERE pillar = 'enps'")
            .fetch_all(&app.state.db.pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<i64, _>("id"))
            .collect();
        let kept: Vec<KeptRow> =
            sqlx::query("SELECT team_id, tenure_band, segments, answers FROM responses WHERE cycle_id = $1")
                .bind(cycle)
                .fetch_all(&app.state.db.pool)
                .await
                .unwrap()
                .iter()
                .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
                .collect();
        let under: BTreeSet<Option<i64>> = kept.iter().map(|r| r.0).collect();
        for (team, band, segments, _) in &kept {
            assert!(
                band.is_none() && segments.is_none(),
                "cycle {c}: a kept row carries a tenure band or a segment"
            );
            let key = team.map_or("org".to_owned(), |t| format!("team:{t}"));
            assert!(
                self.figures.iter().any(|f| f.cycle == c && f.group == key),
                "cycle {c}: rows are kept under {key}, which was not released"
            );
        }
        let mut class: BTreeMap<Option<i64>, Vec<usize>> = BTreeMap::new();
        for r in rows {
            let mut at = r.get::<Option<i64>, _>("team_id");
            while let Some(t) = at {
                if under.contains(&Some(t)) {
                    break;
                }
                at = parent.get(&t).copied().flatten();
            }
            class.entry(at).or_default().push(by_id[&r.get::<i64, _>("person_id")]);
        }
        for (team, people) in class {
            let answers: Vec<Vec<(i64, i64)>> = kept
                .iter()
                .filter(|r| r.0 == team)
                .map(|r| {
                    r.3.split(';')
                        .filter_map(|p| p.split_once('='))
                        .map(|(q, v)| (q.parse().unwrap(), v.parse().unwrap()))
                        .collect()
                })
                .collect();
            if answers.is_empty() {
                continue;
            }
            assert_eq!(
                answers.len(),
                people.len(),
                "cycle {c}: the rows kept under {team:?} are its people's"
            );
            let group = format!("kept:{}", team.map_or("org".to_owned(), |t| t.to_string()));
            let questions: BTreeSet<i64> = answers.iter().flatten().map(|(q, _)| *q).collect();
            for q in questions {
                let count = |b: i64| answers.iter().flatten().filter(|(x, v)| *x == q && *v == b).count() as i64;
                let is_enps = enps.contains(&q);
                let kinds = match is_enps {
                    true => vec![Kind::AtLeast(9, count(2)), Kind::AtMost(6, count(0))],
                    false => vec![Kind::AtLeast(4, count(1))],
                };
                for kind in kinds {
                    self.figures.push(Figure {
                        cycle: c,
                        group: group.clone(),
                        people: people.clone(),
                        question: q,
                        enps: is_enps,
                        kind,
                    });
                }
            }
        }
    }

    /// Every way the attacker finds to expose someone, in words.
    fn exposures(&self) -> Vec<String> {
        let mut found = self.linear();
        found.extend(self.integer());
        found.extend(self.comment_lists());
        found
    }

    /// Released sets of people whose combination isolates 1..k−1 people.
    fn linear(&self) -> Vec<String> {
        let mut sets: BTreeSet<Vec<usize>> = BTreeSet::new();
        for f in &self.figures {
            if f.kind == Kind::Released {
                sets.insert(f.people.clone());
            }
        }
        let sets: Vec<Vec<usize>> = sets.into_iter().collect();
        let found = belong::privacy::oracle::isolations(&sets, self.people, self.k);
        assert!(found.complete, "the attacker's search is too large for this test");
        found
            .found
            .iter()
            .map(|people| format!("a combination of released groups isolates people {people:?}"))
            .collect()
    }

    /// Answers narrowed to a single value by the released counts and sums.
    fn integer(&self) -> Vec<String> {
        let mut found = Vec::new();
        let questions: BTreeSet<i64> = self.figures.iter().map(|f| f.question).filter(|q| *q != 0).collect();
        for q in questions {
            let figs: Vec<&Figure> = self.figures.iter().filter(|f| f.question == q).collect();
            let enps = figs.iter().any(|f| f.enps);
            let (low, high) = if enps { (0, 10) } else { (1, 5) };
            // Each person's possible values.
            let mut dom: Vec<BTreeSet<i64>> = vec![(low..=high).collect(); self.people];
            let involved: BTreeSet<usize> = figs.iter().flat_map(|f| f.people.iter().copied()).collect();
            let holds = |f: &Figure, vals: &[i64]| -> bool {
                let got = |pred: &dyn Fn(i64) -> bool| vals.iter().filter(|v| pred(**v)).count() as i64;
                match f.kind {
                    Kind::AtLeast(t, c) => got(&|v| v >= t) == c,
                    Kind::AtMost(t, c) => got(&|v| v <= t) == c,
                    Kind::Exactly(t, c) => got(&|v| v == t) == c,
                    Kind::Sum(s) => vals.iter().sum::<i64>() == s,
                    Kind::Released => true,
                }
            };
            // Propagation: a value of a person survives when the rest of
            // each figure's people can still make it hold (checked on
            // counts and sums through their domains' bounds).
            let mut changed = true;
            while changed {
                changed = false;
                for f in &figs {
                    for &p in &f.people {
                        let keep: BTreeSet<i64> = dom[p].iter().copied().filter(|v| feasible(f, p, *v, &dom)).collect();
                        if keep.len() < dom[p].len() {
                            dom[p] = keep;
                            changed = true;
                        }
                    }
                }
            }
            // Exhaustive search over the people of each pair of small
            // overlapping figures, with every figure inside them.
            for (a, f) in figs.iter().enumerate() {
                for g in &figs[a..] {
                    let mut union: Vec<usize> = f.people.clone();
                    union.extend(g.people.iter().filter(|p| !f.people.contains(p)));
                    let space = union.iter().fold(1usize, |a, p| a.saturating_mul(dom[*p].len()));
                    if union.len() > self.exhaustive || space > 100_000 {
                        continue;
                    }
                    let sub: Vec<(&Figure, Vec<usize>)> = figs
                        .iter()
                        .filter(|h| h.people.iter().all(|p| union.contains(p)))
                        .map(|h| {
                            (
                                *h,
                                h.people
                                    .iter()
                                    .map(|p| union.iter().position(|u| u == p).unwrap())
                                    .collect(),
                            )
                        })
                        .collect();
                    let mut seen: Vec<BTreeSet<i64>> = vec![BTreeSet::new(); union.len()];
                    let mut vals = vec![0i64; union.len()];
                    let mut picked = Vec::new();
                    enumerate(&union, &dom, 0, &mut vals, &mut |vals| {
                        let ok = sub.iter().all(|(h, at)| {
                            picked.clear();
                            picked.extend(at.iter().map(|i| vals[*i]));
                            holds(h, &picked)
                        });
                        if ok {
                            for (i, v) in vals.iter().enumerate() {
                                seen[i].insert(*v);
                            }
                        }
                    });
                    for (i, p) in union.iter().enumerate() {
                        if !seen[i].is_empty() {
                            dom[*p] = seen[i].clone();
                        }
                    }
                }
            }
            for p in involved {
                let truth = self.truth[p].answers.get(&q).copied().unwrap_or(self.truth[p].base);
                let truth = if enps { truth * 2 } else { truth };
                assert!(dom[p].contains(&truth), "the attacker's reasoning is sound");
                if dom[p].len() == 1 {
                    found.push(format!("person {p}'s answer to question {q} is pinned to {truth}"));
                }
            }
        }
        found
    }

    /// Comments whose writer is narrowed to fewer than k people.
    fn comment_lists(&self) -> Vec<String> {
        let mut found = Vec::new();
        let texts: BTreeSet<&String> = self.comments.iter().flat_map(|(_, _, _, c)| c.iter()).collect();
        for text in texts {
            // The writer is in every listing group holding it, and (writing
            // the same every cycle they answer) in no listing group without it.
            let candidates: Vec<usize> = (0..self.people)
                .filter(|p| {
                    self.comments
                        .iter()
                        .all(|(_, _, people, list)| people.contains(p) == list.contains(text))
                })
                .collect();
            let writer = self.truth.iter().position(|s| s.comment.as_ref() == Some(text));
            if let Some(w) = writer {
                assert!(candidates.contains(&w), "the comment reasoning is sound");
            }
            if (candidates.len() as u32) < self.k {
                found.push(format!("the comment {text:?} narrows to people {candidates:?}"));
            }
        }
        found
    }
}

/// Whether person `p` taking value `v` leaves figure `f` satisfiable by
/// the others within their domains (counts: how many could / must meet
/// the condition; sums: the bounds).
fn feasible(f: &Figure, p: usize, v: i64, dom: &[BTreeSet<i64>]) -> bool {
    let others = f.people.iter().filter(|o| **o != p);
    let count = |pred: &dyn Fn(i64) -> bool, c: i64| {
        let mine = i64::from(pred(v));
        let (mut must, mut may) = (0, 0);
        for o in others.clone() {
            let yes = dom[*o].iter().any(|x| pred(*x));
            let no = dom[*o].iter().any(|x| !pred(*x));
            if yes && !no {
                must += 1;
            }
            if yes {
                may += 1;
            }
        }
        (mine + must..=mine + may).contains(&c)
    };
    match f.kind {
        Kind::AtLeast(t, c) => count(&|x| x >= t, c),
        Kind::AtMost(t, c) => count(&|x| x <= t, c),
        Kind::Exactly(t, c) => count(&|x| x == t, c),
        Kind::Sum(s) => {
            let lo: i64 = others.clone().map(|o| dom[*o].first().copied().unwrap_or(0)).sum();
            let hi: i64 = others.map(|o| dom[*o].last().copied().unwrap_or(0)).sum();
            (v + lo..=v + hi).contains(&s)
        }
        Kind::Released => true,
    }
}

fn enumerate(people: &[usize], dom: &[BTreeSet<i64>], i: usize, vals: &mut Vec<i64>, f: &mut dyn FnMut(&[i64])) {
    if i == people.len() {
        f(vals);
        return;
    }
    for v in &dom[people[i]] {
        vals[i] = *v;
        enumerate(people, dom, i + 1, vals, f);
    }
}

/// The fixed cases must expose someone on the plan before this guard;
/// set BELONG_GUARD_REPORT to print what the attacker found.
fn report(case: &str, found: &[String]) {
    if std::env::var_os("BELONG_GUARD_REPORT").is_some() {
        eprintln!("{case}: {} exposures", found.len());
        for f in found.iter().take(10) {
            eprintln!("  {f}");
        }
    }
}

/// k = 4. A team {p5…p9} and the tenure band {p2, p3, p7, p8, p9}: the
/// linear guard allows both (the smallest combination touches 4 people),
/// but their counts and sums pin answers. A team of k all favourable
/// with mean 4.00 pins all of them.
async fn fixed_case_the_bounds_pin_no_answer(app: TestApp) {
    let mut w = World::new(&app, "bounds", &[None, None, None], 4, false).await;
    // p0…p4 in team 0, p5…p9 in team 1 (the example's people), four
    // more in team 2, all favourable at 4.
    let bands = ["2026-09-01", "2025-06-01"]; // under 1 year, 1 to 3 years
    for i in 0..14usize {
        let team = match i {
            0..=4 => 0,
            5..=9 => 1,
            _ => 2,
        };
        let band = if [2, 3, 7, 8, 9].contains(&i) {
            bands[1]
        } else {
            bands[0]
        };
        w.join(&app, Some(team), 3, band, i % 2 == 0).await;
    }
    // The example's answers to the first question.
    let q = first_question(&app, &w).await;
    for (i, v) in [
        (2, 3),
        (3, 3),
        (5, 4),
        (6, 1),
        (7, 5),
        (8, 5),
        (9, 1),
        (10, 4),
        (11, 4),
        (12, 4),
        (13, 4),
    ] {
        w.people[i].answers.insert(q, v);
    }
    w.cycle(&app, &[0]).await;
    let obs = w.observe(&app).await;
    w.export_agrees(&app, &obs).await;
    let found = obs.exposures();
    report("bounds", &found);
    assert!(found.is_empty(), "{found:#?}");
    app.run_jobs().await;
}

async fn first_question(app: &TestApp, w: &World) -> i64 {
    let bank = belong::pulse::service::question_bank(&app.state, w.org).await.unwrap();
    bank.iter().find(|q| q.pillar == Pillar::Acceptance).unwrap().id
}

/// Team Care: five remote and one who preferred not to say; team Ops:
/// five remote, five at the office. org − Remote − Office is the one who
/// did not say, so the plan withholds Office; a comment listed for Care
/// and not for Remote was written by that very person.
async fn fixed_case_comment_lists_cannot_be_differenced(app: TestApp) {
    let mut w = World::new(&app, "lists", &[None, None], 5, true).await;
    for i in 0..16usize {
        let team = if i < 6 { 0 } else { 1 };
        let p = w
            .join(&app, Some(team), 2 + (i as i64 % 4), "2020-01-01", i % 3 == 0)
            .await;
        w.people[p].segment = match i {
            0..=4 | 6..=10 => Some("Remote".into()),
            5 => None,
            _ => Some("Office".into()),
        };
    }
    w.cycle(&app, &[]).await;
    let obs = w.observe(&app).await;
    w.export_agrees(&app, &obs).await;
    let found = obs.exposures();
    report("comment lists", &found);
    assert!(found.is_empty(), "{found:#?}");
    app.run_jobs().await;
}

/// Teams A and B of six. Cycle 2: someone of A has left; cycle 3: someone
/// of B skips. team(c2) − team(c1) is the leaver, org(c3) − org(c2) the
/// skipper, each answering the same every time.
async fn fixed_case_a_leaver_and_a_skipper_stay_hidden_across_cycles(app: TestApp) {
    let mut w = World::new(&app, "history", &[None, None], 5, false).await;
    for i in 0..12usize {
        w.join(&app, Some(i / 6), 1 + (i as i64 * 7 % 5), "2020-01-01", i % 2 == 1)
            .await;
    }
    w.cycle(&app, &[]).await;
    w.leave(&app, 0).await;
    w.cycle(&app, &[]).await;
    w.cycle(&app, &[6]).await;
    let obs = w.observe(&app).await;
    w.export_agrees(&app, &obs).await;
    let found = obs.exposures();
    report("history", &found);
    assert!(found.is_empty(), "{found:#?}");
    // Not dark for good: the steady team B keeps its figures.
    let b = format!("team:{}", w.teams[1]);
    assert!(obs.figures.iter().any(|f| f.cycle == 1 && f.group == b));
    app.run_jobs().await;
}

/// Organizations of 8–40 people in teams of 3–12 (some nested), with a
/// segment question in half of them, answered by form and API, over 2–6
/// cycles with joiners, leavers, moves and skippers.
async fn generated_organizations_expose_no_one(app: TestApp) {
    let orgs: usize = std::env::var("BELONG_GUARD_ORGS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let mut rng = StdRng::seed_from_u64(11);
    let (mut cells, mut shown) = (0usize, 0usize);
    for n in 0..orgs {
        let k = rng.gen_range(3..=5u32);
        let teams = rng.gen_range(1..=4usize);
        let parents: Vec<Option<usize>> = (0..teams)
            .map(|i| (i > 0 && rng.gen_bool(0.3)).then(|| rng.gen_range(0..i)))
            .collect();
        let mut w = World::new(&app, &format!("gen{n}"), &parents, k, rng.gen_bool(0.5)).await;
        let q = first_question(&app, &w).await;
        for t in 0..teams {
            for _ in 0..rng.gen_range(3..=10) {
                let start = ["2026-10-01", "2025-01-01", "2020-01-01"][rng.gen_range(0..3)];
                let p = w
                    .join(&app, Some(t), rng.gen_range(1..=5), start, rng.gen_bool(0.3))
                    .await;
                w.people[p].answers.insert(q, rng.gen_range(1..=5));
                if w.segment.is_some() {
                    w.people[p].segment =
                        [None, Some("Remote".to_owned()), Some("Office".to_owned())][rng.gen_range(0..3)].clone();
                }
                if rng.gen_bool(0.5) {
                    w.people[p].comment = None;
                }
            }
        }
        for c in 0..rng.gen_range(2..=6) {
            if c > 0 {
                if rng.gen_bool(0.4) {
                    let t = rng.gen_range(0..teams);
                    let p = w
                        .join(&app, Some(t), rng.gen_range(1..=5), "2026-11-01", rng.gen_bool(0.3))
                        .await;
                    w.people[p].answers.insert(q, rng.gen_range(1..=5));
                }
                if rng.gen_bool(0.3) {
                    let p = rng.gen_range(0..w.people.len());
                    w.leave(&app, p).await;
                }
                if rng.gen_bool(0.3) && teams > 1 {
                    let p = rng.gen_range(0..w.people.len());
                    let t = rng.gen_range(0..teams);
                    w.moves(&app, p, t).await;
                }
            }
            let skip: Vec<usize> = (0..w.people.len()).filter(|_| rng.gen_bool(0.1)).collect();
            w.cycle(&app, &skip).await;
        }
        let t0 = std::time::Instant::now();
        let mut obs = w.observe(&app).await;
        let t1 = t0.elapsed();
        obs.exhaustive = 4;
        if n % 10 == 0 {
            w.export_agrees(&app, &obs).await;
        }
        let found = obs.exposures();
        if std::env::var_os("BELONG_GUARD_REPORT").is_some() {
            eprintln!("org {n}: observe {t1:?}, attack {:?}", t0.elapsed() - t1);
        }
        assert!(found.is_empty(), "organization {n}: {found:#?}");
        for (c, _) in w.cycles.iter().enumerate() {
            for t in &w.teams {
                let key = format!("team:{t}");
                let size = obs_team_size(&app, &w, c, *t).await;
                if size >= k as usize {
                    cells += 1;
                    shown += usize::from(obs.figures.iter().any(|f| f.cycle == c && f.group == key));
                }
            }
        }
    }
    eprintln!(
        "generated organizations: {orgs}; team × cycle cells with at least k responses: {cells}, released {shown}"
    );
    assert!(shown > 0, "the guard does not darken everything");
    app.run_jobs().await;
}

/// Responses of a team (with sub-teams) in a closed cycle, from the roster.
async fn obs_team_size(app: &TestApp, w: &World, cycle: usize, team: i64) -> usize {
    let dir = belong::org::service::directory(&app.state.db, w.org).await.unwrap();
    let rows = sqlx::query(
        "SELECT r.team_id FROM cycle_roster r JOIN participation x ON x.cycle_id = r.cycle_id AND x.person_id = r.person_id
         WHERE r.cycle_id = $1 AND x.answered = 1",
    )
    .bind(w.cycles[cycle])
    .fetch_all(&app.state.db.pool)
    .await
    .unwrap();
    rows.iter()
        .filter(|r| {
            r.get::<Option<i64>, _>("team_id")
                .is_some_and(|t| dir.team_within(t, team))
        })
        .count()
}
