//! The owner's audit log page: the log (`crate::audit`) with the names
//! of the people in it.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;

use crate::app::AppState;
use crate::audit::{self, Entry, Filter, Subject};
use crate::auth::Permission;
use crate::error::AppError;
use crate::web::{CurrentPerson, Layout, Query, render};

pub fn routes() -> Router<AppState> {
    Router::new().route("/audit", get(show_audit_log))
}

#[derive(Template)]
#[template(path = "org/templates/audit.html")]
struct AuditPage {
    layout: Layout,
    entries: Vec<Entry>,
    actions: Vec<String>,
    people: Vec<(i64, String)>,
    filter: Filter,
    page: i64,
    has_next: bool,
}

async fn show_audit_log(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Query(filter): Query<Filter>,
) -> Result<Response, AppError> {
    me.actor.require(Permission::ViewAuditLog)?;
    let entries = audit::list(&app.db, me.actor.org_id, me.actor.person_id, &filter).await?;
    audit::record_now(&app.db, &me.actor, "audit_log.viewed", Subject::AuditLog, "", app.now()).await?;
    let dir = super::service::directory(&app.db, me.actor.org_id).await?;
    let mut people: Vec<(i64, String)> = dir.people.iter().map(|p| (p.id, p.name.clone())).collect();
    people.sort_by_key(|p| p.1.to_lowercase());
    let page = filter.page.parse().unwrap_or(1).max(1);
    Ok(render(&AuditPage {
        layout,
        has_next: entries.len() as i64 == audit::PAGE_SIZE,
        entries,
        actions: audit::actions(&app.db, me.actor.org_id).await?,
        people,
        filter,
        page,
    }))
}
