//! The account's part of "My data": where the person is signed in, and
//! their API tokens.

use askama::Template;
use serde::Serialize;

use crate::app::App;
use crate::auth::Actor;
use crate::error::AppError;
use crate::module::MyData;

#[derive(Serialize)]
struct TokenInfo {
    name: String,
    created_at: String,
    last_used_at: Option<String>,
    revoked: bool,
}

#[derive(Serialize, Template)]
#[template(path = "account/templates/my_data.html")]
struct Account {
    active_sign_ins: i64,
    api_tokens: Vec<TokenInfo>,
}

pub async fn part(app: &App, actor: &Actor) -> Result<MyData, AppError> {
    let (org_id, id) = (actor.org_id, actor.person_id);
    let day = |t: jiff::Timestamp| t.strftime("%Y-%m-%d").to_string();
    let api_tokens = crate::auth::tokens::list(&app.db, org_id, id)
        .await?
        .into_iter()
        .map(|t| TokenInfo {
            name: t.name,
            created_at: day(t.created_at),
            last_used_at: t.last_used_at.map(day),
            revoked: t.revoked_at.is_some(),
        })
        .collect();
    let account = Account {
        active_sign_ins: crate::auth::session::count_live(&app.db, org_id, id, app.now()).await?,
        api_tokens,
    };
    MyData::of(&account, &account)
}
