//! Organization: organizations (tenants), people, teams, the CSV import of
//! an HRIS export, and the demo organization.

pub mod api;
pub mod audit_log;
pub mod demo;
pub mod import;
pub mod model;
pub mod mydata;
pub mod pages;
pub mod seed;
pub mod service;
pub mod setup;
mod store;

pub const MODULE: crate::module::Module = crate::module::Module {
    api: api::api,
    nav: &[
        crate::web::NavEntry {
            place: 40,
            label: "People",
            href: "/people",
            needs: Some(crate::auth::Permission::ManagePeople),
            badge: None,
        },
        crate::web::NavEntry {
            place: 41,
            label: "Teams",
            href: "/teams",
            needs: Some(crate::auth::Permission::ManagePeople),
            badge: None,
        },
        crate::web::NavEntry {
            place: 42,
            label: "Import",
            href: "/import",
            needs: Some(crate::auth::Permission::ManagePeople),
            badge: None,
        },
        crate::web::NavEntry {
            place: 60,
            label: "Audit log",
            href: "/audit",
            needs: Some(crate::auth::Permission::ViewAuditLog),
            badge: None,
        },
    ],
    home: |app, actor| Box::pin(pages::home(app, actor)),
    my_data: |app, actor| Box::pin(mydata::part(app, actor)),
    parts: |parts| {
        parts.insert(setup::SetupCode::new());
    },
    ..crate::module::Module::pages("org", routes)
};

fn routes() -> axum::Router<crate::app::AppState> {
    pages::routes().merge(audit_log::routes()).merge(setup::routes())
}
