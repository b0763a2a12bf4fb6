//! The pulse's part of "My data": the cycles a person was asked to answer,
//! what each recorded about them (team, tenure band) and whether they
//! answered. Their answers are stored with nothing that ties them to the
//! person, so no page can show them.

use askama::Template;
use serde::Serialize;

use super::store;
use crate::app::App;
use crate::auth::Actor;
use crate::error::AppError;

#[derive(Serialize)]
struct Asked {
    pulse: String,
    opened: String,
    team: Option<String>,
    tenure_band: Option<String>,
    answered: Option<bool>,
}

#[derive(Serialize, Template)]
#[template(path = "pulse/templates/my_data.html")]
struct Pulses {
    pulse_cycles: Vec<Asked>,
}

pub async fn part(app: &App, actor: &Actor) -> Result<crate::module::MyData, AppError> {
    let dir = crate::org::service::directory(&app.db, actor.org_id).await?;
    let conn = &mut *app.db.acquire().await?;
    let (_, zone) = crate::org::service::time_zone(conn, actor.org_id).await?;
    let pulse_cycles = store::rosters_of(conn, actor.org_id, actor.person_id)
        .await?
        .into_iter()
        .map(|r| Asked {
            pulse: r.title,
            opened: jiff::Timestamp::from_second(r.opens_at)
                .map(|t| t.to_zoned(zone.clone()).strftime("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            team: r.team_id.map(|t| dir.team_path(t)),
            tenure_band: r.tenure_band,
            answered: r.answered,
        })
        .collect();
    let part = Pulses { pulse_cycles };
    crate::module::MyData::of(&part, &part)
}
