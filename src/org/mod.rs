//! Organization: organizations (tenants), people, teams, the CSV import of
//! an HRIS export, and the demo organization.

pub mod api;
pub mod audit_log;
pub mod demo;
pub mod import;
pub mod model;
pub mod mydata;
pub mod pages;
pub mod service;
pub mod store;

pub const MODULE: crate::module::Module = crate::module::Module {
    api: api::api,
    ..crate::module::Module::pages("org", routes)
};

fn routes() -> axum::Router<crate::app::AppState> {
    pages::routes().merge(mydata::routes()).merge(audit_log::routes())
}
