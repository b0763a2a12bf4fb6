//! Pulse: anonymous belonging surveys — the question bank, pulses and their
//! cycles, invitations, the answer form, and results through the privacy
//! gate.

pub mod api;
pub mod chart;
pub mod demo;
pub mod groups;
pub mod guard;
pub mod jobs;
pub mod keep;
pub mod links;
pub mod model;
pub mod mydata;
pub mod pages;
pub mod results;
pub mod sealed;
pub mod seed;
pub mod segments;
pub mod service;
mod store;
pub mod writer;

pub use store::{Cycle, StoredResponse};

pub const MODULE: crate::module::Module = crate::module::Module {
    api: api::api,
    jobs: jobs::register,
    parts: |parts| {
        parts.insert(writer::Slot::default());
    },
    demo: |app, org_id| Box::pin(demo::seed(app, org_id)),
    nav: &[
        crate::web::NavEntry {
            place: 10,
            label: "Pulse",
            href: "/pulse",
            needs: None,
            badge: None,
        },
        crate::web::NavEntry {
            place: 61,
            label: "Settings",
            href: "/settings",
            needs: Some(crate::auth::Permission::ManageSettings),
            badge: None,
        },
    ],
    home: |app, actor| Box::pin(pages::home(app, actor)),
    my_data: |app, actor| Box::pin(mydata::part(app, actor)),
    ..crate::module::Module::pages("pulse", pages::routes)
};
