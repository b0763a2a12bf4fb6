//! The insights part of `belong bench results`: on the bench's history,
//! actions on the latest cycles with an update each, an initiative over
//! six teams that started two thirds of the way through (on a pillar the
//! history asks), and a signed-in
//! employee to read "You said, we did".

use crate::app::App;
use crate::auth::{Actor, Role};
use crate::insights::model::{ActionInput, InitiativeInput, Visibility};
use crate::shared::Pillar;

/// What the timed requests need: the initiative, and a session cookie of
/// an employee.
pub(super) struct Prepared {
    pub initiative: i64,
    pub session: String,
}

fn fail(e: crate::error::AppError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

pub(super) async fn prepare(
    app: &App,
    org_id: i64,
    owner: i64,
    pulse: i64,
    cycles: &[(i64, i64)],
    persons: &[(i64, Option<i64>)],
    pillar: Pillar,
) -> anyhow::Result<Prepared> {
    let actor = Actor {
        org_id,
        person_id: owner,
        role: Role::Owner,
    };
    let shared = crate::pulse::service::Anonymity {
        k: crate::pulse::service::anonymity(app, org_id).await.map_err(fail)?.k,
        share_results: true,
        share_team_results: true,
    };
    crate::pulse::service::set_anonymity(app, &actor, shared)
        .await
        .map_err(fail)?;
    let (employee, team) = persons
        .iter()
        .find(|(id, team)| *id != owner && team.is_some())
        .copied()
        .ok_or_else(|| anyhow::anyhow!("no one in a team"))?;
    let today = app.now().to_zoned(jiff::tz::TimeZone::UTC).date();
    // Two actions on each of the last six cycles: the employee's team's
    // and the organization's, each with an update.
    for (i, (cycle, _)) in cycles.iter().rev().take(6).enumerate() {
        for team_id in [team, None] {
            let input = ActionInput {
                title: format!("Action {i} on the results"),
                description: "What will be done, and by when.".into(),
                pillar: Some(Pillar::BELONGING[i % 4]),
                team_id,
                owner_id: employee,
                due_date: today.saturating_add(jiff::Span::new().days(30)),
                visibility: Visibility::Org,
                cycle_id: Some(*cycle),
            };
            let id = crate::insights::service::create(app, &actor, &input)
                .await
                .map_err(fail)?;
            let progress = crate::insights::service::Progress {
                note: "Under way.",
                status: "in_progress",
                due_date: "",
            };
            crate::insights::service::add_update(app, &actor, id, progress)
                .await
                .map_err(fail)?;
        }
    }
    let mut teams: Vec<i64> = persons.iter().filter_map(|(_, t)| *t).collect();
    teams.sort_unstable();
    teams.dedup();
    let start = cycles[cycles.len() * 2 / 3].1;
    let input = InitiativeInput {
        name: "Weekly huddles".into(),
        description: String::new(),
        practice: "huddles".into(),
        pillar,
        pulse_id: pulse,
        starts_on: jiff::Timestamp::from_second(start)?
            .to_zoned(jiff::tz::TimeZone::UTC)
            .date(),
        ends_on: None,
        sub_teams: true,
        teams: teams
            .iter()
            .step_by(teams.len().div_ceil(6).max(1))
            .take(6)
            .map(|t| (*t, None))
            .collect(),
    };
    let initiative = crate::insights::initiatives::create(app, &actor, &input)
        .await
        .map_err(fail)?;
    let session = crate::auth::session::start(&app.db, org_id, employee, app.now(), 24).await?;
    Ok(Prepared { initiative, session })
}
