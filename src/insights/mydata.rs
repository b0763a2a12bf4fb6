//! Insights' part of "My data": the actions a person owns or planned, the
//! updates they wrote, and the initiatives they defined or proposed.

use askama::Template;
use serde::Serialize;

use super::store;
use crate::app::App;
use crate::auth::Actor;
use crate::error::AppError;
use crate::module::MyData;

#[derive(Serialize)]
struct ActionOut {
    title: String,
    status: String,
    due_date: String,
}

#[derive(Serialize)]
struct UpdateOut {
    action: String,
    on: String,
    note: String,
}

#[derive(Serialize, Template)]
#[template(path = "insights/templates/my_data.html")]
struct Insights {
    actions_owned: Vec<ActionOut>,
    actions_planned: Vec<ActionOut>,
    action_updates_written: Vec<UpdateOut>,
    /// Initiatives they defined or proposed: (name, starts on).
    initiatives_proposed: Vec<(String, String)>,
}

pub async fn part(app: &App, actor: &Actor) -> Result<MyData, AppError> {
    let (org_id, id) = (actor.org_id, actor.person_id);
    let conn = &mut *app.db.acquire().await?;
    let (_, zone) = crate::org::service::time_zone(conn, org_id).await?;
    let all = store::actions(conn, org_id).await?;
    let out = |a: &store::ActionRow| ActionOut {
        title: a.title.clone(),
        status: super::model::Status::parse(&a.status).map_or_else(|_| a.status.clone(), |s| s.label().to_owned()),
        due_date: a.due_date.clone(),
    };
    let part = Insights {
        actions_owned: all.iter().filter(|a| a.owner_id == id).map(out).collect(),
        actions_planned: all.iter().filter(|a| a.creator_id == id).map(out).collect(),
        action_updates_written: store::updates_by(conn, org_id, id)
            .await?
            .into_iter()
            .map(|(action, note, at)| UpdateOut {
                action,
                on: jiff::Timestamp::from_second(at)
                    .map(|t| t.to_zoned(zone.clone()).strftime("%Y-%m-%d").to_string())
                    .unwrap_or_default(),
                note,
            })
            .collect(),
        initiatives_proposed: store::initiatives(conn, org_id)
            .await?
            .into_iter()
            .filter(|i| i.proposer_id == id)
            .map(|i| (i.name, i.starts_on))
            .collect(),
    };
    MyData::of(&part, &part)
}
