//! Voice: the anonymous feedback box. A sender holds a secret code, the
//! only key to their thread; recipients (a team's managers, or HR and the
//! owners) get new messages in a daily digest and answer in an inbox.

pub mod demo;
pub mod model;
pub mod mydata;
pub mod pages;
pub mod pending;
pub mod service;
mod store;

pub const MODULE: crate::module::Module = crate::module::Module {
    jobs: |jobs| {
        jobs.add::<service::Digest>();
    },
    demo: |app, org_id| Box::pin(demo::seed(app, org_id)),
    nav: &[
        crate::web::NavEntry {
            place: 30,
            label: "Feedback",
            href: "/voice",
            needs: None,
            badge: None,
        },
        crate::web::NavEntry {
            place: 31,
            label: "Inbox",
            href: "/voice/inbox",
            needs: Some(crate::auth::Permission::ReceiveTeamFeedback),
            badge: Some(|app, actor| Box::pin(service::waiting(app, actor))),
        },
    ],
    my_data: |app, actor| Box::pin(mydata::part(app, actor)),
    home: |app, actor| Box::pin(pages::home(app, actor)),
    ..crate::module::Module::pages("voice", pages::routes)
};
