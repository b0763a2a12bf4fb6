//! A year of monthly pulses for the demo organization, with a story: the
//! Mobile team's sense of Integration drops for a few months after it goes
//! remote-first, then recovers once it starts a daily huddle.

use jiff::{SignedDuration, ToSpan};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::model::PulseInput;
use super::model::{Pillar, Schedule, rotate, tenure_band};
use super::service;
use crate::app::App;
use crate::auth::Actor;
use crate::db::new_id;

const COMMENTS: &[&str] = &[
    "The new onboarding buddy system made my first weeks much easier.",
    "I would like clearer priorities when projects change direction.",
    "Team lunches on Thursdays help a lot.",
    "Sometimes decisions are made before we are asked.",
    "I appreciate that my manager checks in regularly.",
    "Workload has been heavy this month.",
    "The thank-you board is a nice touch.",
    "More skills workshops, please.",
    "Meetings across time zones are hard to attend.",
    "I feel trusted to do my job.",
];

/// How likely a favourable answer is, for a team and pillar in month `m`.
fn propensity(team: &str, pillar: Pillar, m: i64) -> f64 {
    let base: f64 = match pillar {
        Pillar::Acceptance => 0.80,
        Pillar::Value => 0.68,
        Pillar::Support => 0.74,
        Pillar::Integration => 0.72,
        Pillar::Stay => 0.70,
        _ => 0.7,
    };
    let team_shift = match team {
        "Support" => -0.06,
        "Design" => 0.05,
        "Sales" => -0.03,
        _ => 0.0,
    };
    // Mobile went remote-first in month 4; the daily huddle began in month 8.
    let story = if team == "Mobile" && matches!(pillar, Pillar::Integration | Pillar::Stay) {
        match m {
            0..=3 => 0.0,
            4 => -0.15,
            5..=7 => -0.35,
            8 => -0.2,
            9 => -0.08,
            _ => 0.03,
        }
    } else {
        0.0
    };
    (base + team_shift + story).clamp(0.05, 0.97)
}

fn agree(rng: &mut StdRng, p: f64) -> i64 {
    if rng.gen_bool(p) {
        if rng.gen_bool(0.45) { 5 } else { 4 }
    } else {
        *[1, 2, 2, 3, 3, 3].get(rng.gen_range(0..6)).unwrap_or(&3)
    }
}

/// Seeds twelve closed monthly cycles (and schedules the next one).
pub async fn seed(app: &App, org_id: i64) -> anyhow::Result<()> {
    let actor = Actor::system(org_id);
    let bank = service::question_bank(app, org_id)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let questions = super::model::default_selection(&bank);
    let input = PulseInput {
        title: "Monthly belonging pulse".into(),
        schedule: Schedule::Monthly,
        open_days: 7,
        remind_days: 3,
        per_cycle: super::model::DEFAULT_PER_CYCLE,
        teams: None,
        questions: questions.clone(),
    };
    let pulse_id = service::create_pulse(app, &actor, &input)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let core: Vec<i64> = questions.iter().filter(|(_, c)| *c).map(|(id, _)| *id).collect();
    let mut last_asked: Vec<(i64, Option<i64>)> = questions
        .iter()
        .filter(|(_, c)| !*c)
        .map(|(id, _)| (*id, None))
        .collect();
    let dir = crate::org::service::directory(&app.db, org_id)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut rng = StdRng::seed_from_u64(12);
    let now = app.now();
    for m in 0..12i64 {
        let opened = now
            .to_zoned(jiff::tz::TimeZone::UTC)
            .checked_sub((12 - m).months())?
            .timestamp();
        let closes = opened + SignedDuration::from_hours(24 * 7);
        let mut asked = rotate(&core, &last_asked, super::model::DEFAULT_PER_CYCLE as usize);
        asked.sort_by_key(|id| questions.iter().position(|(q, _)| q == id));
        for entry in &mut last_asked {
            if asked.contains(&entry.0) {
                entry.1 = Some(m + 1);
            }
        }
        let cycle_id = new_id();
        let mut tx = app.db.begin().await?;
        let cycle = super::store::Cycle {
            id: cycle_id,
            org_id,
            pulse_id,
            title: input.title.clone(),
            number: m + 1,
            opens_at: opened.as_second(),
            closes_at: closes.as_second(),
            closed_at: None,
            k: 5,
            plan: None,
        };
        let seeded = super::seed::cycle(&mut tx, &app.master_key, &cycle, &asked).await?;
        let mut sealed = Vec::new();
        let on = opened.to_zoned(jiff::tz::TimeZone::UTC).date();
        // Everyone employed that month (leavers until they left).
        let roster = dir
            .people
            .iter()
            .filter(|p| p.end_date.is_none_or(|e| e > on) && p.start_date.is_none_or(|s| s <= on));
        for p in roster {
            let team = p
                .team_id
                .and_then(|t| dir.team(t))
                .map(|t| t.name.clone())
                .unwrap_or_default();
            let band = tenure_band(p.start_date, on);
            let answered = rng.gen_bool(0.85);
            super::store::add_to_roster(&mut tx, &cycle, p.id, p.team_id, band).await?;
            if answered {
                super::store::mark_answered(&mut tx, org_id, cycle_id, &[p.id]).await?;
            }
            if !answered {
                continue;
            }
            let comment = rng.gen_bool(0.3).then(|| COMMENTS[rng.gen_range(0..COMMENTS.len())]);
            let mut answers = Vec::new();
            for q in &asked {
                let pillar = bank
                    .iter()
                    .find(|b| b.id == *q)
                    .map(|b| b.pillar)
                    .unwrap_or(Pillar::Comment);
                let value = match pillar {
                    Pillar::Comment => continue,
                    Pillar::Enps => {
                        let p = propensity(&team, Pillar::Stay, m);
                        if rng.gen_bool(p * 0.55) {
                            rng.gen_range(9..=10)
                        } else if rng.gen_bool(0.5) {
                            rng.gen_range(7..=8)
                        } else {
                            rng.gen_range(2..=6)
                        }
                    }
                    other => agree(&mut rng, propensity(&team, other, m)),
                };
                answers.push((*q, value));
            }
            sealed.push(super::store::StoredResponse {
                team_id: p.team_id,
                tenure_band: band.map(str::to_owned),
                comment: comment.map(str::to_owned),
                answers,
                segments: Vec::new(),
            });
        }
        seeded.answers(&mut tx, &sealed).await?;
        tx.commit().await?;
        service::close(app, org_id, cycle_id)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let conn = &mut *app.db.acquire().await?;
        super::store::set_closed_at(conn, org_id, cycle_id, cycle.closes_at).await?;
    }
    // Closing queued a launch for each month; only the next one is due.
    crate::jobs::keep_latest_pending::<super::service::LaunchPulse>(&app.db).await?;
    Ok(())
}
