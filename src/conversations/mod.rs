//! Conversations: stay interviews, career talks and 1:1s between two
//! people, with their questions, shared and private notes and action
//! items, calendar invites and feeds, and reminders. What is said is
//! readable by the two people only (private notes by their author), and
//! stored sealed under the master key; HR and owners read counts.

mod api;
mod cadence;
mod demo;
pub mod feed;
pub mod jobs;
mod mail;
pub mod model;
mod mydata;
pub mod pages;
pub mod service;
mod store;

pub const MODULE: crate::module::Module = crate::module::Module {
    nav: &[crate::web::NavEntry {
        place: 17,
        label: "Talks",
        href: "/talks",
        needs: None,
        badge: None,
    }],
    my_data: |app, actor| Box::pin(mydata::part(app, actor)),
    demo: |app, org| Box::pin(demo::seed(app, org)),
    api: api::api,
    home: |app, actor| Box::pin(pages::home(app, actor)),
    jobs: |jobs| {
        jobs.add::<jobs::Remind>();
    },
    parts: |parts| {
        let mut hooks = parts.remove::<crate::module::EraseHooks>().unwrap_or_default();
        hooks
            .0
            .push(|conn, org, person| Box::pin(store::erase_person(conn, org, person)));
        parts.insert(hooks);
    },
    ..crate::module::Module::pages("conversations", pages::routes)
};
