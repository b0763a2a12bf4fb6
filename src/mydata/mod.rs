//! "My data", above the modules: everything stored about the signed-in
//! person, on a page and as a JSON download. Each module adds what it
//! keeps (through the hooks the composition root put among the app's
//! parts); the audit log adds who viewed or changed their record and what
//! they did.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::app::AppState;
use crate::audit::{self, Entry, Filter, Subject};
use crate::error::AppError;
use crate::web::{CurrentPerson, Layout, render};

/// Its link in the main navigation.
pub const NAV: crate::web::NavEntry = crate::web::NavEntry {
    place: 50,
    label: "My data",
    href: "/account/data",
    needs: None,
    badge: None,
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/account/data", get(show_my_data))
        .route("/account/data.json", get(download_my_data))
}

struct Collected {
    fields: serde_json::Map<String, serde_json::Value>,
    sections: Vec<String>,
    /// Reads of and changes to your record, by whom.
    about_you: Vec<Entry>,
    /// What you did that the audit log keeps.
    by_you: Vec<Entry>,
}

async fn collect(app: &AppState, me: &CurrentPerson) -> Result<Collected, AppError> {
    let mut fields = serde_json::Map::new();
    let mut sections = Vec::new();
    for hook in &app.part::<crate::module::MyDataHooks>().0 {
        let part = hook(app, &me.actor).await?;
        for (key, value) in part.fields {
            if fields.insert(key.clone(), value).is_some() {
                return Err(AppError::internal(format!("two modules give my data a field {key:?}")));
            }
        }
        if !part.html.is_empty() {
            sections.push(part.html);
        }
    }
    let (org_id, id) = (me.actor.org_id, me.actor.person_id);
    let about = Filter {
        subject_person: id.to_string(),
        ..Filter::default()
    };
    let by = Filter {
        actor: id.to_string(),
        ..Filter::default()
    };
    Ok(Collected {
        fields,
        sections,
        about_you: audit::list(&app.db, org_id, id, &about).await?,
        by_you: audit::list(&app.db, org_id, id, &by).await?,
    })
}

#[derive(Template)]
#[template(path = "mydata/templates/my_data.html")]
struct MyDataPage {
    layout: Layout,
    sections: Vec<String>,
    about_you: Vec<Entry>,
    by_you: Vec<Entry>,
}

async fn show_my_data(State(app): State<AppState>, me: CurrentPerson, layout: Layout) -> Result<Response, AppError> {
    let data = collect(&app, &me).await?;
    Ok(render(&MyDataPage {
        layout,
        sections: data.sections,
        about_you: data.about_you,
        by_you: data.by_you,
    }))
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
    let mut all = data.fields;
    let entries = |e: Vec<Entry>| serde_json::to_value(e).map_err(AppError::internal);
    all.insert("about_you".into(), entries(data.about_you)?);
    all.insert("by_you".into(), entries(data.by_you)?);
    let body = serde_json::to_string_pretty(&all).map_err(AppError::internal)?;
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
