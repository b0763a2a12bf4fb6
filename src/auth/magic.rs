//! Sign-in links by email: single use, valid for 15 minutes, stored as a
//! hash. Asking for a link never reveals whether the address has an
//! account. An invitation is the same link, valid for a week, sent when a
//! person is added.

use askama::Template;
use jiff::Timestamp;

use super::store;
use super::{hash_token, random_token};
use crate::app::App;
use crate::jobs::email;
use crate::notify::email::OutgoingEmail;

pub const VALID_SECONDS: i64 = 15 * 60;

/// How long an invitation's link works.
pub const INVITATION_VALID_SECONDS: i64 = 7 * 24 * 60 * 60;

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

/// Who is invited, and by whom.
pub struct Invitation<'a> {
    pub org_id: i64,
    pub person_id: i64,
    pub name: &'a str,
    pub email: &'a str,
    pub invited_by: &'a str,
}

/// What an invitation email says, for both its parts.
struct Invite<'a> {
    name: &'a str,
    org_name: &'a str,
    org_slug: &'a str,
    invited_by: &'a str,
    link: &'a str,
    sign_in: &'a str,
}

#[derive(Template)]
#[template(path = "auth/templates/email_invitation.txt")]
struct InviteText<'a> {
    m: &'a Invite<'a>,
}

#[derive(Template)]
#[template(path = "auth/templates/email_invitation.html")]
struct InviteHtml<'a> {
    m: &'a Invite<'a>,
}

/// Queues an invitation: a sign-in link valid for a week, made and
/// queued in the caller's transaction (the one that adds the person), so
/// a person is invited exactly when they are added.
pub async fn invite(conn: &mut sqlx::AnyConnection, app: &App, who: &Invitation<'_>) -> Result<(), sqlx::Error> {
    let (org_name, org_slug) = store::org_name_and_slug(conn, who.org_id).await?;
    let token = random_token();
    let base = app.settings.public_url.trim_end_matches('/');
    let link = format!("{base}/signin/link/{token}");
    let sign_in = format!("{base}/signin");
    let m = &Invite {
        name: who.name,
        org_name: &org_name,
        org_slug: &org_slug,
        invited_by: who.invited_by,
        link: &link,
        sign_in: &sign_in,
    };
    let subject = format!("{} invites you to belong for {org_name}", who.invited_by);
    let message = OutgoingEmail::of(who.email.to_owned(), subject, &InviteText { m }, &InviteHtml { m });
    let now = app.now();
    store::insert_magic_link(
        conn,
        &hash_token(&token),
        (who.org_id, who.person_id),
        now.as_second(),
        now.as_second() + INVITATION_VALID_SECONDS,
    )
    .await?;
    email::queue(conn, &app.master_key, Some(who.org_id), &message, now).await?;
    Ok(())
}
