//! API tokens: made by a person on their settings page (or by an operator
//! on the command line), shown once, stored as a SHA-256, acting as that
//! person with that person's role.

use jiff::Timestamp;

use super::store::{self, NewToken};
use super::{Actor, Role, hash_token, random_token};
use crate::db::{Db, new_id};

/// Tokens start with this, so they are easy to spot in a leaked file.
pub const PREFIX: &str = "blg_";

#[derive(Clone, Debug)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

/// A token's name: what it is for.
pub fn parse_name(raw: &str) -> Result<String, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Err("give the token a name that says what it is for".into());
    }
    if s.chars().count() > 100 || s.chars().any(char::is_control) {
        return Err("must be at most 100 characters, without control characters".into());
    }
    Ok(s.to_owned())
}

/// Makes a token for a person; returns the secret, which is not stored.
pub async fn create(db: &Db, org_id: i64, person_id: i64, name: &str, now: Timestamp) -> Result<String, sqlx::Error> {
    let secret = format!("{PREFIX}{}", random_token());
    let token = NewToken {
        id: new_id(),
        org_id,
        person_id,
        name,
        token_hash: &hash_token(&secret),
        created_at: now.as_second(),
    };
    store::insert_token(db, token).await?;
    Ok(secret)
}

pub async fn list(db: &Db, org_id: i64, person_id: i64) -> Result<Vec<ApiToken>, sqlx::Error> {
    store::tokens_of(db, org_id, person_id).await
}

/// Revokes one of the person's own tokens; false if there is no such token.
pub async fn revoke(db: &Db, org_id: i64, person_id: i64, id: i64, now: Timestamp) -> Result<bool, sqlx::Error> {
    Ok(store::revoke_tokens(db, org_id, person_id, Some(id), now.as_second()).await? == 1)
}

/// Revokes every live token of the person; how many there were.
pub async fn revoke_all(db: &Db, org_id: i64, person_id: i64, now: Timestamp) -> Result<u64, sqlx::Error> {
    store::revoke_tokens(db, org_id, person_id, None, now.as_second()).await
}

/// The actor a live token stands for. Notes the day of use, once a day.
pub async fn authenticate(db: &Db, secret: &str, now: Timestamp) -> Result<Option<Actor>, sqlx::Error> {
    if !secret.starts_with(PREFIX) || secret.len() > 200 {
        return Ok(None);
    }
    let Some(row) = store::live_token(db, &hash_token(secret)).await? else {
        return Ok(None);
    };
    // Only the day is noted, once a day: a write naming the token's person
    // at the second they call would sit beside what they did (an answer).
    let today = now.as_second().div_euclid(86_400) * 86_400;
    if row.last_used_at.is_none_or(|l| l < today) {
        store::note_token_used(db, row.id, today).await?;
    }
    Ok(Some(Actor {
        org_id: row.org_id,
        person_id: row.person_id,
        role: Role::parse(&row.role).map_err(|e| sqlx::Error::Decode(e.into()))?,
    }))
}
