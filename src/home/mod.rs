//! The home page, above the modules: a greeting, then what each module
//! shows this person (its notices, then its cards), through the hooks the
//! composition root put among the app's parts.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;

use crate::app::AppState;
use crate::error::AppError;
use crate::web::{CurrentPerson, Layout, render};

pub fn routes() -> Router<AppState> {
    Router::new().route("/", get(home))
}

#[derive(Template)]
#[template(path = "home/templates/home.html")]
struct HomePage {
    layout: Layout,
    name: String,
    org_name: String,
    role: &'static str,
    notices: Vec<String>,
    cards: Vec<String>,
    /// The owner's set-up checklist, shown until every step is done.
    steps: Vec<crate::module::Step>,
}

impl HomePage {
    fn steps_done(&self) -> usize {
        self.steps.iter().filter(|s| s.done).count()
    }
}

async fn home(State(app): State<AppState>, me: CurrentPerson, layout: Layout) -> Result<Response, AppError> {
    let (mut notices, mut cards, mut steps) = (Vec::new(), Vec::new(), Vec::new());
    for hook in &app.part::<crate::module::HomeHooks>().0 {
        let part = hook(&app, &me.actor).await?;
        notices.extend(part.notices);
        cards.extend(part.cards);
        steps.extend(part.steps);
    }
    if me.actor.role == crate::auth::Role::Owner {
        steps.push(crate::module::Step {
            place: 10,
            text: "Turn on email (start belong with --smtp-host, see the README), so invitations and pulses reach people",
            href: "/",
            done: app.mailer.is_on(),
        });
    }
    steps.sort_by_key(|s| s.place);
    if steps.iter().all(|s| s.done) {
        steps.clear();
    }
    Ok(render(&HomePage {
        layout,
        name: me.session.person_name.clone(),
        org_name: me.session.org_name.clone(),
        role: me.actor.role.label(),
        notices,
        cards,
        steps,
    }))
}
