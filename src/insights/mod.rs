//! Insights: acting on results. Actions planned on a result (or on
//! nothing), each with an owner, a due date, a group it is for and dated
//! updates; who may plan and read them is checked in the service.

pub mod impact;
pub mod model;
pub mod mydata;
pub mod pages;
pub mod service;
mod store;

pub const MODULE: crate::module::Module = crate::module::Module {
    nav: &[crate::web::NavEntry {
        place: 15,
        label: "Actions",
        href: "/actions",
        needs: None,
        badge: None,
    }],
    my_data: |app, actor| Box::pin(mydata::part(app, actor)),
    ..crate::module::Module::pages("insights", pages::routes)
};
