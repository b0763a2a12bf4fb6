//! Sign-in links by email: single use, valid for 15 minutes, stored as a
//! hash. Asking for a link never reveals whether the address has an
//! account.

use askama::Template;
use jiff::Timestamp;

use super::store;
use super::{hash_token, random_token};
use crate::app::App;
use crate::jobs::email;
use crate::notify::email::OutgoingEmail;

pub const VALID_SECONDS: i64 = 15 * 60;

/// What a sign-in link email says, for both its parts.
struct Link<'a> {
    name: &'a str,
    org_name: &'a str,
    link: &'a str,
}

#[derive(Template)]
#[template(path = "auth/templates/email_magic_link.txt")]
struct LinkText<'a> {
    m: &'a Link<'a>,
}

#[derive(Template)]
#[template(path = "auth/templates/email_magic_link.html")]
struct LinkHtml<'a> {
    m: &'a Link<'a>,
}

/// Creates a link for the active person with this email in the
/// organization, if there is one, and queues the email. Returns the link
/// (for the demo console) when one was made.
pub async fn request(app: &App, slug: &str, email_key: &str) -> Result<Option<String>, sqlx::Error> {
    let Some(to) = store::link_recipient(&app.db, slug, email_key).await? else {
        return Ok(None);
    };
    let token = random_token();
    let link = format!("{}/signin/link/{token}", app.settings.public_url.trim_end_matches('/'));
    let now = app.now();
    let m = &Link {
        name: &to.name,
        org_name: &to.org_name,
        link: &link,
    };
    let subject = format!("Your sign-in link for {}", to.org_name);
    let message = OutgoingEmail::of(to.email.clone(), subject, &LinkText { m }, &LinkHtml { m });
    let mut tx = app.db.begin().await?;
    let whom = (to.org_id, to.person_id);
    store::insert_magic_link(
        &mut tx,
        &hash_token(&token),
        whom,
        now.as_second(),
        now.as_second() + VALID_SECONDS,
    )
    .await?;
    email::queue(&mut tx, &app.master_key, Some(to.org_id), &message, now).await?;
    tx.commit().await?;
    Ok(Some(link))
}

/// Uses up a link: the (org, person) it signs in, or None if it is unknown,
/// used or expired. One statement, so two clicks at once sign in once.
pub async fn consume(app: &App, token: &str, now: Timestamp) -> Result<Option<(i64, i64)>, sqlx::Error> {
    let Some((org_id, person_id)) = store::use_magic_link(&app.db, &hash_token(token), now.as_second()).await? else {
        return Ok(None);
    };
    let active = store::person_active(&app.db, org_id, person_id).await?;
    Ok(active.then_some((org_id, person_id)))
}
