//! `belong bench utility`: what the guard costs. Over generated
//! organizations (10–200 people in teams of 3–12, some under departments,
//! with joiners, leavers, moves and skippers over 12 monthly cycles), and
//! over the demo, the share of team × cycle cells with at least k
//! responses whose Belonging Index is released: with the plan decided
//! within each cycle alone (as before the guard across cycles), and with
//! the plan close decides now. The plan is the one close runs
//! (`pulse::guard::History::decide`), here in memory on the generated
//! rosters; the demo's comes from its closed cycles.

use std::collections::HashMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::bench_kit::open_app;
use crate::config::DatabaseUrl;
use crate::org::model::Team;
use crate::org::service::Directory;
use crate::privacy::plan::{self, Group};
use crate::pulse::guard::History;

/// Team × cycle cells with at least k responses, and how many of them
/// each plan released.
#[derive(Default)]
struct Tally {
    cells: usize,
    before: usize,
    after: usize,
    /// The most cells any plan releasing exact counts could, for the
    /// generated organizations (see [`ceiling`]).
    ceiling: usize,
}

impl Tally {
    /// Counts the cells of one cycle, given each response's groups.
    fn add(&mut self, before: &plan::Plan, after: &plan::Plan, member: &[Vec<Group>], k: u32) {
        let mut sizes: HashMap<i64, u32> = HashMap::new();
        for g in member.iter().flatten() {
            if let Group::Team(t) = g {
                *sizes.entry(*t).or_default() += 1;
            }
        }
        for (team, n) in &sizes {
            if *n >= k {
                self.cells += 1;
                self.before += usize::from(before.allows(&Group::Team(*team)));
                self.after += usize::from(after.allows(&Group::Team(*team)));
            }
        }
    }

    fn line(&self, what: &str) -> String {
        let pct = |x: usize| 100.0 * x as f64 / self.cells.max(1) as f64;
        let mut line = format!(
            "{what}: {} team × cycle cells with at least k responses; Belonging Index released in {:.1} % within each cycle alone (before), {:.1} % with the guard across cycles (now)",
            self.cells,
            pct(self.before),
            pct(self.after)
        );
        if self.ceiling > 0 {
            line.push_str(&format!(
                "; no plan releasing exact counts can pass {:.1} % under the worst case",
                pct(self.ceiling)
            ));
        }
        line
    }
}

/// The most cells of one team any plan could release, whatever it does
/// with the other groups, when each person answers the same every cycle:
/// the largest set of the team's cells (each its people, sorted) in which
/// no two differ by 1..k−1 people and whose span leaves room for k people
/// (a span of dimension d over n people holds a non-zero vector on at most
/// n − d + 1 of them). Both are only necessary, so the true ceiling is at
/// most this. Exhaustive over the 2¹² subsets of a team's cells.
fn ceiling(cells: &[Vec<usize>], k: usize) -> usize {
    let conflict = |a: &Vec<usize>, b: &Vec<usize>| {
        let d = a.iter().filter(|p| !b.contains(p)).count() + b.iter().filter(|p| !a.contains(p)).count();
        (1..k).contains(&d)
    };
    let mut best = 0;
    for subset in 1u32..(1 << cells.len()) {
        let chosen: Vec<&Vec<usize>> = (0..cells.len())
            .filter(|i| subset & (1 << i) != 0)
            .map(|i| &cells[i])
            .collect();
        if chosen.len() <= best {
            continue;
        }
        if chosen
            .iter()
            .enumerate()
            .any(|(i, a)| chosen[i + 1..].iter().any(|b| conflict(a, b)))
        {
            continue;
        }
        let mut people: Vec<usize> = chosen.iter().copied().flatten().copied().collect();
        people.sort_unstable();
        people.dedup();
        let vectors: Vec<Vec<f64>> = chosen
            .iter()
            .map(|c| people.iter().map(|p| f64::from(u8::from(c.contains(p)))).collect())
            .collect();
        if plan::rank(&vectors) + k <= people.len() + 1 {
            best = chosen.len();
        }
    }
    best
}

struct Person {
    team: usize,
    /// Month the person started, counted from the first cycle (negative:
    /// before it).
    start: i64,
    active: bool,
}

fn band(start: i64, month: i64) -> &'static str {
    crate::pulse::model::tenure_band_of(month - start)
}

/// One generated organization through 12 monthly cycles.
fn organization(rng: &mut StdRng, k: u32, tally: &mut Tally, slowest: &mut Duration) {
    let size = rng.gen_range(10..=200usize);
    // Teams of 3–12; with more than four teams, departments above them.
    let mut team_sizes = Vec::new();
    let mut left = size;
    while left > 0 {
        let n = rng.gen_range(3..=12usize).min(left);
        team_sizes.push(n);
        left -= n;
    }
    let departments = if team_sizes.len() > 4 {
        team_sizes.len().div_ceil(4)
    } else {
        0
    };
    let mut teams: Vec<Team> = (0..departments)
        .map(|d| Team {
            id: 1_000 + d as i64,
            name: format!("Department {d}"),
            parent_id: None,
            active: true,
        })
        .collect();
    for (t, _) in team_sizes.iter().enumerate() {
        teams.push(Team {
            id: t as i64 + 1,
            name: format!("Team {t}"),
            parent_id: (departments > 0).then(|| 1_000 + (t / 4) as i64),
            active: true,
        });
    }
    let dir = Directory {
        teams,
        people: Vec::new(),
    };
    let team_count = team_sizes.len();
    let mut people: Vec<Person> = team_sizes
        .iter()
        .enumerate()
        .flat_map(|(t, n)| (0..*n).map(move |_| t))
        .map(|team| Person {
            team,
            start: -rng.gen_range(0..72),
            active: true,
        })
        .collect();
    let candidates = crate::pulse::groups::candidates(&dir, &[]);
    let mut history = History {
        current: HashMap::new(),
        earlier: Vec::new(),
        released: Vec::new(),
        commented: Vec::new(),
        repeats: true,
    };
    let mut cells: HashMap<usize, Vec<Vec<usize>>> = HashMap::new();
    for month in 0..12i64 {
        if month > 0 {
            // About 1.5 % leave, 1.5 % join and 1 % move each month.
            let churn = |rng: &mut StdRng| rng.gen_bool((size as f64 * 0.015).min(1.0));
            if churn(rng) {
                let team = rng.gen_range(0..team_count);
                people.push(Person {
                    team,
                    start: month,
                    active: true,
                });
            }
            if churn(rng) {
                let p = rng.gen_range(0..people.len());
                people[p].active = false;
            }
            if rng.gen_bool((size as f64 * 0.01).min(1.0)) {
                let p = rng.gen_range(0..people.len());
                people[p].team = rng.gen_range(0..team_count);
            }
        }
        // About one in seven skips a cycle.
        let answering: Vec<usize> = (0..people.len())
            .filter(|p| people[*p].active && rng.gen_bool(0.85))
            .collect();
        let groups = |p: usize| {
            crate::pulse::groups::roster_groups(
                Some(people[p].team as i64 + 1),
                Some(band(people[p].start, month).into()),
                &dir,
            )
        };
        for t in 0..team_count {
            let team: Vec<usize> = answering.iter().copied().filter(|p| people[*p].team == t).collect();
            if team.len() >= k as usize {
                cells.entry(t).or_default().push(team);
            }
        }
        history.current = answering.iter().map(|p| (*p as i64, groups(*p))).collect();
        let member: Vec<Vec<Group>> = answering
            .iter()
            .map(|p| history.current[&(*p as i64)].clone())
            .collect();
        let started = Instant::now();
        let before = plan::decide(&candidates, &member, k);
        let after = history.decide(&candidates, &member, k, answering.len() as u32);
        *slowest = (*slowest).max(started.elapsed());
        tally.add(&before, &after, &member, k);
        let respondents = std::mem::take(&mut history.current);
        if after.comments.listed() {
            history.commented.push(respondents.keys().copied().collect());
        }
        history.earlier.push(plan::Earlier {
            released: after
                .published
                .iter()
                .filter(|g| crate::pulse::guard::from_roster(g))
                .cloned()
                .collect(),
            respondents,
        });
        history.released.push(after.published);
    }
    tally.ceiling += cells.values().map(|c| ceiling(c, k as usize)).sum::<usize>();
}

pub async fn utility(orgs: usize, seed: u64, database: Option<DatabaseUrl>) -> anyhow::Result<ExitCode> {
    let k = 5;
    println!("bench utility: {orgs} generated organizations (seed {seed}), k = {k}, 12 monthly cycles each …");
    let mut rng = StdRng::seed_from_u64(seed);
    let mut tally = Tally::default();
    let mut slowest = Duration::ZERO;
    let started = Instant::now();
    for _ in 0..orgs {
        organization(&mut rng, k, &mut tally, &mut slowest);
    }
    println!("{}", tally.line("generated"));
    println!(
        "plans decided in {:.1} s, the slowest cycle (within and across cycles) {:.0} ms",
        started.elapsed().as_secs_f64(),
        slowest.as_secs_f64() * 1000.0
    );
    println!("{}", demo(database).await?.line("demo"));
    Ok(ExitCode::SUCCESS)
}

/// The demo's twelve closed cycles: what they released, beside the plan
/// of each cycle decided within itself from the same rosters.
async fn demo(database: Option<DatabaseUrl>) -> anyhow::Result<Tally> {
    let (app, _, dir) = open_app(database, "utility.db").await?;
    crate::modules::seed_demo_if_empty(&app).await?;
    let org_id = super::bench_store::org_id(&app, crate::org::demo::ORG_SLUG).await?;
    let mut conn = app.db.acquire().await?;
    let directory = crate::org::service::team_tree(&mut conn, org_id).await?;
    let segments = crate::pulse::segments::list(&mut conn, org_id, false).await?;
    let candidates = crate::pulse::groups::candidates(&directory, &segments);
    let mut tally = Tally::default();
    for c in crate::pulse::service::cycles(&app, &crate::auth::Actor::system(org_id))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
    {
        let Some(stored) = c.plan.as_deref() else { continue };
        let after: plan::Plan = serde_json::from_str(stored)?;
        let member: Vec<Vec<Group>> = crate::pulse::guard::respondent_groups(&mut conn, &c, &directory)
            .await?
            .into_iter()
            .collect::<std::collections::BTreeMap<_, _>>()
            .into_values()
            .collect();
        let before = plan::decide(&candidates, &member, c.k);
        tally.add(&before, &after, &member, c.k);
    }
    drop(conn);
    app.db.close().await;
    if let Some(dir) = dir {
        let _ = std::fs::remove_dir_all(dir);
    }
    Ok(tally)
}
