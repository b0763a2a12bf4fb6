//! Conversations' part of "My data": every talk the person took part in,
//! with its shared notes, their own private notes (never the other's) and
//! its action items.

use askama::Template;
use serde::Serialize;

use super::{service, store};
use crate::app::App;
use crate::auth::Actor;
use crate::error::AppError;
use crate::module::MyData;

#[derive(Serialize)]
struct NoteOut {
    question: String,
    shared_note: String,
    your_private_note: String,
}

#[derive(Serialize)]
struct ItemOut {
    text: String,
    owner: String,
    due_date: String,
    status: String,
}

#[derive(Serialize)]
struct TalkOut {
    template: String,
    with: String,
    when: String,
    status: String,
    notes: Vec<NoteOut>,
    action_items: Vec<ItemOut>,
}

#[derive(Serialize, Template)]
#[template(path = "conversations/templates/my_data.html")]
struct Conversations {
    talks: Vec<TalkOut>,
    calendar_feed_on: bool,
}

pub async fn part(app: &App, actor: &Actor) -> Result<MyData, AppError> {
    let conn = &mut *app.db.acquire().await?;
    let mut talks = Vec::new();
    for t in store::talks_of(conn, actor.org_id, actor.person_id).await? {
        let v = service::talk_view(app, conn, actor, &t).await?;
        talks.push(TalkOut {
            template: v.template,
            with: v.other,
            when: v.when,
            status: v.status.label().to_owned(),
            notes: v
                .questions
                .into_iter()
                .filter(|q| !q.shared.is_empty() || !q.private.is_empty())
                .map(|q| NoteOut {
                    question: q.text,
                    shared_note: q.shared,
                    your_private_note: q.private,
                })
                .collect(),
            action_items: v
                .actions
                .into_iter()
                .map(|a| ItemOut {
                    text: a.text,
                    owner: a.owner,
                    due_date: a.due_date,
                    status: super::model::action_status_label(&a.status).to_owned(),
                })
                .collect(),
        });
    }
    let part = Conversations {
        talks,
        calendar_feed_on: store::has_feed(conn, actor.org_id, actor.person_id).await?,
    };
    MyData::of(&part, &part)
}
