//! "My data": everything stored about the signed-in person, on a page and
//! as a JSON download, with who has viewed their record. Later modules add
//! their part here.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;

use super::api::PersonOut;
use super::{service, store};
use crate::app::AppState;
use crate::audit::{self, Entry, Filter, Subject};
use crate::error::AppError;
use crate::web::{CurrentPerson, Layout, render};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/account/data", get(show_my_data))
        .route("/account/data.json", get(download_my_data))
}

#[derive(Serialize)]
struct TokenInfo {
    name: String,
    created_at: String,
    last_used_at: Option<String>,
    revoked: bool,
}

#[derive(Serialize)]
struct MyData {
    person: PersonOut,
    organization: String,
    team: Option<String>,
    manager: Option<String>,
    active_sign_ins: i64,
    api_tokens: Vec<TokenInfo>,
    /// Reads of and changes to your record, by whom.
    about_you: Vec<Entry>,
    /// What you did that the audit log keeps.
    by_you: Vec<Entry>,
}

async fn collect(app: &AppState, me: &CurrentPerson) -> Result<MyData, AppError> {
    let (org_id, id) = (me.actor.org_id, me.actor.person_id);
    let dir = service::directory(&app.db, org_id).await?;
    let person = dir.person(id).ok_or(AppError::Unauthorized)?;
    let org = store::org_by_id(&mut *app.db.acquire().await?, org_id)
        .await?
        .ok_or(AppError::Unauthorized)?;
    let sessions: i64 = {
        use sqlx::Row;
        sqlx::query("SELECT COUNT(*) AS n FROM sessions WHERE org_id = $1 AND person_id = $2 AND expires_at > $3")
            .bind(org_id)
            .bind(id)
            .bind(app.now().as_second())
            .fetch_one(&mut *app.db.acquire().await?)
            .await?
            .try_get("n")?
    };
    let day = |t: jiff::Timestamp| t.strftime("%Y-%m-%d").to_string();
    let api_tokens = crate::auth::tokens::list(&app.db, org_id, id)
        .await?
        .into_iter()
        .map(|t| TokenInfo {
            name: t.name,
            created_at: day(t.created_at),
            last_used_at: t.last_used_at.map(day),
            revoked: t.revoked_at.is_some(),
        })
        .collect();
    let about = Filter {
        subject_person: id.to_string(),
        ..Filter::default()
    };
    let by = Filter {
        actor: id.to_string(),
        ..Filter::default()
    };
    Ok(MyData {
        person: PersonOut::from(person),
        organization: org.name,
        team: person.team_id.map(|t| dir.team_path(t)),
        manager: person.manager_id.and_then(|m| dir.person(m)).map(|m| m.name.clone()),
        active_sign_ins: sessions,
        api_tokens,
        about_you: audit::list(&app.db, org_id, &about).await?,
        by_you: audit::list(&app.db, org_id, &by).await?,
    })
}

#[derive(Template)]
#[template(path = "org/templates/my_data.html")]
struct MyDataPage {
    layout: Layout,
    data: MyData,
}

async fn show_my_data(State(app): State<AppState>, me: CurrentPerson, layout: Layout) -> Result<Response, AppError> {
    let data = collect(&app, &me).await?;
    Ok(render(&MyDataPage { layout, data }))
}

async fn download_my_data(State(app): State<AppState>, me: CurrentPerson) -> Result<Response, AppError> {
    let data = collect(&app, &me).await?;
    audit::record_now(
        &app.db,
        &me.actor,
        "data.exported",
        Subject::Person(me.actor.person_id),
        "own data",
        app.now(),
    )
    .await?;
    let body = serde_json::to_string_pretty(&data).map_err(AppError::internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"belong-my-data.json\"",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response())
}
