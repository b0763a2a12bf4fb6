//! Insights: acting on results. Actions planned on a result (or on
//! nothing), each with an owner, a due date, a group it is for and dated
//! updates; initiatives tried in some teams, with an impact report
//! computed only from released results; who may plan and read them is
//! checked in the services.

mod api;
mod chart;
mod demo;
pub mod impact;
pub mod initiative_pages;
pub mod initiatives;
pub mod jobs;
pub mod model;
pub mod mydata;
pub mod pages;
pub mod said;
pub mod service;
mod store;

pub const MODULE: crate::module::Module = crate::module::Module {
    nav: &[
        crate::web::NavEntry {
            place: 14,
            label: "You said, we did",
            href: "/you-said-we-did",
            needs: None,
            badge: None,
        },
        crate::web::NavEntry {
            place: 15,
            label: "Actions",
            href: "/actions",
            needs: None,
            badge: None,
        },
        crate::web::NavEntry {
            place: 16,
            label: "Initiatives",
            href: "/initiatives",
            needs: Some(crate::auth::Permission::PlanActions),
            badge: None,
        },
    ],
    my_data: |app, actor| Box::pin(mydata::part(app, actor)),
    demo: |app, org| Box::pin(demo::seed(app, org)),
    api: api::api,
    home: |app, actor| Box::pin(pages::home(app, actor)),
    parts: |parts| {
        parts.insert(crate::module::SinceHook(|conn, org, since| {
            Box::pin(service::since(conn, org, since))
        }));
    },
    jobs: |jobs| {
        jobs.add::<jobs::RemindOwners>().add::<jobs::OverdueDigest>();
    },
    ..crate::module::Module::pages("insights", pages::routes)
};
