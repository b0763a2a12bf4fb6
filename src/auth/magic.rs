//! Sign-in links by email: single use, valid for 15 minutes, stored as a
//! hash. Asking for a link never reveals whether the address has an
//! account.

use askama::Template;
use jiff::Timestamp;
use sqlx::Row;

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
    let row = sqlx::query(
        "SELECT p.org_id, p.id, p.name, p.email, o.name AS org_name
         FROM people p JOIN organizations o ON o.id = p.org_id
         WHERE o.slug = $1 AND p.email_key = $2 AND p.active = 1",
    )
    .bind(slug)
    .bind(email_key)
    .fetch_optional(&mut *app.db.acquire().await?)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let (org_id, person_id): (i64, i64) = (row.try_get("org_id")?, row.try_get("id")?);
    let (name, address, org_name): (String, String, String) =
        (row.try_get("name")?, row.try_get("email")?, row.try_get("org_name")?);
    let token = random_token();
    let link = format!("{}/signin/link/{token}", app.settings.public_url.trim_end_matches('/'));
    let now = app.now();
    let m = &Link {
        name: &name,
        org_name: &org_name,
        link: &link,
    };
    let subject = format!("Your sign-in link for {org_name}");
    let message = OutgoingEmail::of(address, subject, &LinkText { m }, &LinkHtml { m });
    let mut tx = app.db.begin().await?;
    sqlx::query(
        "INSERT INTO magic_links (token_hash, org_id, person_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(hash_token(&token))
    .bind(org_id)
    .bind(person_id)
    .bind(now.as_second())
    .bind(now.as_second() + VALID_SECONDS)
    .execute(&mut *tx)
    .await?;
    email::queue(&mut tx, &app.master_key, Some(org_id), &message, now).await?;
    tx.commit().await?;
    Ok(Some(link))
}

/// Uses up a link: the (org, person) it signs in, or None if it is unknown,
/// used or expired. One statement, so two clicks at once sign in once.
pub async fn consume(app: &App, token: &str, now: Timestamp) -> Result<Option<(i64, i64)>, sqlx::Error> {
    let row = sqlx::query(
        "UPDATE magic_links SET used_at = $1
         WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1
         RETURNING org_id, person_id",
    )
    .bind(now.as_second())
    .bind(hash_token(token))
    .fetch_optional(&mut *app.db.acquire().await?)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let (org_id, person_id): (i64, i64) = (row.try_get("org_id")?, row.try_get("person_id")?);
    let active = sqlx::query("SELECT 1 FROM people WHERE org_id = $1 AND id = $2 AND active = 1")
        .bind(org_id)
        .bind(person_id)
        .fetch_optional(&mut *app.db.acquire().await?)
        .await?
        .is_some();
    Ok(active.then_some((org_id, person_id)))
}
