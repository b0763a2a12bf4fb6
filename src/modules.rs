//! The composition root: every module declared once, and from those
//! declarations the app with its parts, the router, the OpenAPI document
//! and the job registry. Nothing below this file names a product module's
//! routes or jobs.

use axum::Router;
use utoipa_axum::router::OpenApiRouter;

use crate::app::{App, AppState};
use crate::config::Settings;
use crate::db::Db;
use crate::jobs::Registry;
use crate::module::Module;
use crate::privacy::seal::MasterKey;

/// Every module, in the order their routes are merged.
pub const MODULES: &[Module] = &[
    crate::account::MODULE,
    crate::org::MODULE,
    crate::pulse::MODULE,
    crate::recognition::MODULE,
    crate::voice::MODULE,
    crate::insights::MODULE,
    crate::conversations::MODULE,
];

/// The app, with every module's parts and the job registry in it.
pub fn app(db: Db, settings: Settings, master_key: MasterKey) -> App {
    let mut app = App::new(db, settings, master_key);
    app.parts.insert(jobs());
    let mut nav: Vec<_> = MODULES.iter().flat_map(|m| m.nav.iter().copied()).collect();
    nav.push(crate::mydata::NAV);
    nav.sort_by_key(|e| e.place);
    app.parts.insert(crate::web::Nav(nav));
    app.parts
        .insert(crate::module::HomeHooks(MODULES.iter().map(|m| m.home).collect()));
    app.parts
        .insert(crate::module::MyDataHooks(MODULES.iter().map(|m| m.my_data).collect()));
    for m in MODULES {
        (m.parts)(&mut app.parts);
    }
    app
}

/// Every kind of job: the platform's own and each module's.
pub fn jobs() -> Registry {
    let mut registry = Registry::with_platform_jobs();
    for m in MODULES {
        (m.jobs)(&mut registry);
    }
    registry
}

fn api() -> OpenApiRouter<AppState> {
    MODULES
        .iter()
        .fold(OpenApiRouter::default(), |api, m| api.merge((m.api)()))
}

/// The OpenAPI document of every module's API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    crate::web::openapi::document_of(api()).1
}

/// Every route of the application, with the layers of `web`.
pub fn router(state: AppState) -> Router {
    let pages = MODULES
        .iter()
        .fold(Router::new(), |routes, m| routes.merge((m.pages)()));
    let routes = pages
        .merge(crate::web::openapi::serve(api()))
        .merge(crate::home::routes())
        .merge(crate::mydata::routes());
    crate::web::router(state, routes)
}

/// Seeds the demo organization on an empty database; false if there was
/// an organization already.
pub async fn seed_demo_if_empty(app: &App) -> anyhow::Result<bool> {
    if crate::org::service::count_orgs(&app.db).await? > 0 {
        return Ok(false);
    }
    seed_demo(app).await?;
    Ok(true)
}

/// The demo organization (its people and teams), then each module's part.
pub async fn seed_demo(app: &App) -> anyhow::Result<()> {
    let org_id = crate::org::demo::seed(app).await?;
    for m in MODULES {
        (m.demo)(app, org_id).await?;
    }
    Ok(())
}
