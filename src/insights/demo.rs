//! The demo's part of insights, after the pulse's year of cycles: the
//! actions teams took on their results, with updates, and the "weekly
//! huddles" initiative Mobile started after its dip in Integration.

use super::model::{ActionInput, InitiativeInput, Visibility};
use super::{initiatives, service};
use crate::app::App;
use crate::auth::Actor;
use crate::org::service::Directory;
use crate::shared::Pillar;

/// (team or None for the organization, who plans it, title, pillar, the
/// cycle number it answers, updates as (status, note)).
type DemoAction = (
    Option<&'static str>,
    &'static str,
    &'static str,
    Pillar,
    i64,
    &'static [(&'static str, &'static str)],
);

const ACTIONS: &[DemoAction] = &[
    (
        Some("Mobile"),
        "Rui Almeida",
        "A short daily huddle for Mobile",
        Pillar::Integration,
        7,
        &[
            (
                "in_progress",
                "Started at 9:30 Lisbon time, fifteen minutes, cameras optional.",
            ),
            (
                "done",
                "Kept it: people say they hear about changes first now, and the remote half joins every day.",
            ),
        ],
    ),
    (
        None,
        "Jonas Weber",
        "Publish a decision log with the reasons behind each decision",
        Pillar::Acceptance,
        11,
        &[(
            "in_progress",
            "The first twelve decisions are written up; leadership reviews the log every Friday.",
        )],
    ),
    (
        Some("Support"),
        "Samir Khan",
        "A buddy for every new joiner in Support",
        Pillar::Support,
        10,
        &[(
            "in_progress",
            "Four buddies volunteered; the two newest joiners have one.",
        )],
    ),
    (
        Some("Platform"),
        "Lena Fischer",
        "A thank-you round at every sprint review",
        Pillar::Value,
        12,
        &[],
    ),
    (
        Some("Design"),
        "Clara Schmidt",
        "Open the monthly design critique to other teams",
        Pillar::Integration,
        9,
        &[
            ("in_progress", "Two critiques held with engineers joining."),
            (
                "dropped",
                "Folded into the new cross-team demo day instead, which more people attend.",
            ),
        ],
    ),
];

fn fail(e: crate::error::AppError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

pub async fn seed(app: &App, org_id: i64) -> anyhow::Result<()> {
    let dir = Directory::load(&mut *app.db.acquire().await?, org_id).await?;
    let system = Actor::system(org_id);
    let as_person = |name: &str| {
        dir.people.iter().find(|p| p.name == name).map(|p| Actor {
            org_id,
            person_id: p.id,
            role: p.role,
        })
    };
    let team = |name: &str| dir.teams.iter().find(|t| t.name == name).map(|t| t.id);
    // Everyone sees the organization's results and their own team's.
    let k = crate::pulse::service::anonymity(app, org_id).await.map_err(fail)?.k;
    let shared = crate::pulse::service::Anonymity {
        k,
        share_results: true,
        share_team_results: true,
    };
    crate::pulse::service::set_anonymity(app, &system, shared)
        .await
        .map_err(fail)?;
    let mut cycles = crate::pulse::service::cycles(app, &system).await.map_err(fail)?;
    cycles.sort_by_key(|c| c.number);
    let Some(pulse_id) = cycles.first().map(|c| c.pulse_id) else {
        return Ok(());
    };
    let today = app.now().to_zoned(jiff::tz::TimeZone::UTC).date();
    for (i, (team_name, planner, title, pillar, number, updates)) in ACTIONS.iter().enumerate() {
        let Some(actor) = as_person(planner) else { continue };
        let team_id = team_name.and_then(team);
        // Someone of the team owns it; the planner, for the organization.
        let owner = team_id
            .and_then(|t| {
                dir.people
                    .iter()
                    .find(|p| p.team_id == Some(t) && p.role == crate::auth::Role::Employee)
            })
            .map_or(actor.person_id, |p| p.id);
        let input = ActionInput {
            title: (*title).into(),
            description: String::new(),
            pillar: Some(*pillar),
            team_id,
            owner_id: owner,
            due_date: today.saturating_add(jiff::Span::new().days(21 + 7 * i as i64)),
            visibility: if team_id.is_none() {
                Visibility::Org
            } else {
                Visibility::Group
            },
            cycle_id: cycles.iter().find(|c| c.number == *number).map(|c| c.id),
        };
        let id = service::create(app, &actor, &input).await.map_err(fail)?;
        for (status, note) in *updates {
            let progress = service::Progress {
                note,
                status,
                due_date: "",
            };
            service::add_update(app, &actor, id, progress).await.map_err(fail)?;
        }
    }
    // Mobile's dip began in month 5 (cycle 5); the huddles began with
    // cycle 9.
    let (Some(hr), Some(mobile), Some(start)) = (
        as_person("Jonas Weber"),
        team("Mobile"),
        cycles.iter().find(|c| c.number == 9),
    ) else {
        return Ok(());
    };
    let starts_on = jiff::Timestamp::from_second(start.opens_at)?
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    let input = InitiativeInput {
        name: "Weekly huddles".into(),
        description: "Mobile went remote-first and its sense of Integration dipped for four months; a weekly huddle with async check-ins for those who cannot join."
            .into(),
        practice: "huddles".into(),
        pillar: Pillar::Integration,
        pulse_id,
        starts_on,
        ends_on: None,
        sub_teams: false,
        teams: vec![(mobile, None)],
    };
    initiatives::create(app, &hr, &input).await.map_err(fail)?;
    Ok(())
}
