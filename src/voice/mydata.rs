//! The feedback box's part of "My data": only what a person put their name
//! to. What they sent without signing is tied to no one, so nothing here
//! can show it.

use askama::Template;
use serde::Serialize;

use super::store;
use crate::app::App;
use crate::auth::Actor;
use crate::error::AppError;
use crate::module::MyData;

#[derive(Serialize)]
struct Said {
    day: String,
    body: String,
}

#[derive(Serialize, Template)]
#[template(path = "voice/templates/my_data.html")]
struct Signed {
    /// Messages you sent and chose to sign.
    messages_you_signed: Vec<Said>,
    /// Replies you wrote as a recipient.
    replies_you_wrote: Vec<Said>,
}

pub async fn part(app: &App, actor: &Actor) -> Result<MyData, AppError> {
    let mut signed = Signed {
        messages_you_signed: Vec::new(),
        replies_you_wrote: Vec::new(),
    };
    let conn = &mut *app.db.acquire().await?;
    for (from_sender, body, day) in store::messages_by(conn, actor.org_id, actor.person_id).await? {
        let list = match from_sender {
            true => &mut signed.messages_you_signed,
            false => &mut signed.replies_you_wrote,
        };
        list.push(Said { day, body });
    }
    MyData::of(&signed, &signed)
}
