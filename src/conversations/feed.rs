//! Each person's calendar feed: a secret address a calendar app
//! subscribes to, listing their talks (who, what, when; never a note).
//! Only the token's SHA-256 is stored, so the address is shown once, when
//! it is made; making a new one or turning it off ends the old one.

use sha2::{Digest, Sha256};

use super::mail;
use super::store;
use crate::app::App;
use crate::audit::{self, Subject};
use crate::auth::Actor;
use crate::error::AppError;
use crate::notify::ical;
use crate::org::service::Directory;

/// Talks that ended longer ago than this are left out of a feed.
const PAST_DAYS: i64 = 90;

fn hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The feed's address for a token.
pub fn address(app: &App, token: &str) -> String {
    format!("{}/calendar/{token}.ics", app.settings.public_url.trim_end_matches('/'))
}

/// Whether the person has a feed turned on.
pub async fn is_on(app: &App, actor: &Actor) -> Result<bool, AppError> {
    Ok(store::has_feed(&mut *app.db.acquire().await?, actor.org_id, actor.person_id).await?)
}

/// Makes a new secret address for the person's feed (the old stops
/// working) and returns its token.
pub async fn renew(app: &App, actor: &Actor) -> Result<String, AppError> {
    let token: String = rand::random::<[u8; 32]>().iter().map(|b| format!("{b:02x}")).collect();
    let mut tx = app.db.begin().await?;
    store::put_feed(
        &mut tx,
        actor.org_id,
        actor.person_id,
        &hash(&token),
        app.now().as_second(),
    )
    .await?;
    audit::record(
        &mut tx,
        actor,
        "talk.feed_changed",
        Subject::Person(actor.person_id),
        "new address",
        app.now(),
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// Turns the person's feed off.
pub async fn turn_off(app: &App, actor: &Actor) -> Result<(), AppError> {
    let mut tx = app.db.begin().await?;
    store::delete_feed(&mut tx, actor.org_id, actor.person_id).await?;
    audit::record(
        &mut tx,
        actor,
        "talk.feed_changed",
        Subject::Person(actor.person_id),
        "turned off",
        app.now(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The feed a token opens, or None (unknown, turned off, or the person
/// is no longer active).
pub async fn calendar(app: &App, token: &str) -> Result<Option<String>, AppError> {
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let mut conn = app.db.acquire().await?;
    let Some((org_id, person)) = store::feed_owner(&mut conn, &hash(token)).await? else {
        return Ok(None);
    };
    let talks = store::talks_of(&mut conn, org_id, person).await?;
    let named: Vec<i64> = talks
        .iter()
        .flat_map(|t| [t.organizer_id, t.guest_id])
        .chain([person])
        .collect();
    let dir = Directory::with_people(&mut conn, org_id, &named).await?;
    if dir.person(person).is_none_or(|p| !p.active) {
        return Ok(None);
    }
    let templates = store::templates(&mut conn, org_id).await?;
    let since = app.now().as_second() - PAST_DAYS * 86_400;
    let events: Vec<ical::Event> = talks
        .iter()
        .filter(|t| t.status != "requested" && t.starts_at.is_some_and(|s| s >= since))
        .filter_map(|t| {
            let name = templates
                .iter()
                .find(|x| x.id == t.template_id)
                .map_or("Talk", |x| x.name.as_str());
            mail::event(app, &dir, t, name)
        })
        .collect();
    Ok(Some(ical::calendar(
        ical::Method::Publish,
        Some("Conversations (belong)"),
        &events,
        app.now(),
    )))
}
