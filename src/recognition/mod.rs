//! Recognition: the thank-you board tied to the company's values,
//! reactions, recognition coverage for managers, and a chat webhook.

pub mod awards;
pub mod demo;
pub mod model;
pub mod mydata;
pub mod pages;
pub mod service;
mod store;

pub const MODULE: crate::module::Module = crate::module::Module {
    jobs: |jobs| {
        jobs.add::<service::PostToChat>();
    },
    demo: |app, org_id| Box::pin(demo::seed(app, org_id)),
    nav: &[crate::web::NavEntry {
        place: 20,
        label: "Thanks",
        href: "/thanks",
        needs: None,
        badge: None,
    }],
    my_data: |app, actor| Box::pin(mydata::part(app, actor)),
    home: |app, actor| Box::pin(pages::home(app, actor)),
    ..crate::module::Module::pages("recognition", pages::routes)
};
