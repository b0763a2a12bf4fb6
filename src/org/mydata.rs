//! The organization's part of "My data": the person's record.

use askama::Template;
use serde::Serialize;

use super::api::PersonOut;
use super::{service, store};
use crate::app::App;
use crate::auth::Actor;
use crate::error::AppError;
use crate::module::MyData;

#[derive(Serialize, Template)]
#[template(path = "org/templates/my_data.html")]
struct Record {
    person: PersonOut,
    organization: String,
    team: Option<String>,
    manager: Option<String>,
}

pub async fn part(app: &App, actor: &Actor) -> Result<MyData, AppError> {
    let dir = service::directory(&app.db, actor.org_id).await?;
    let person = dir.person(actor.person_id).ok_or(AppError::Unauthorized)?;
    let org = store::org_by_id(&mut *app.db.acquire().await?, actor.org_id)
        .await?
        .ok_or(AppError::Unauthorized)?;
    let record = Record {
        person: PersonOut::from(person),
        organization: org.name,
        team: person.team_id.map(|t| dir.team_path(t)),
        manager: person.manager_id.and_then(|m| dir.person(m)).map(|m| m.name.clone()),
    };
    MyData::of(&record, &record)
}
