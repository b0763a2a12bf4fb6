//! The pages of signing in and of one's account: the sign-in form and
//! links, signing out, changing the password, API tokens. The rules behind
//! them (passwords, sessions, throttles, links, tokens) live in `auth`.

pub mod mydata;
pub mod pages;

pub const MODULE: crate::module::Module = crate::module::Module {
    nav: &[
        crate::web::NavEntry {
            place: 51,
            label: "API tokens",
            href: "/account/tokens",
            needs: None,
            badge: None,
        },
        crate::web::NavEntry {
            place: 52,
            label: "Password",
            href: "/account/password",
            needs: None,
            badge: None,
        },
    ],
    my_data: |app, actor| Box::pin(mydata::part(app, actor)),
    ..crate::module::Module::pages("account", pages::routes)
};
