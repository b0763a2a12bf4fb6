//! API tokens: made by a person on their settings page (or by an operator
//! on the command line), shown once, stored as a SHA-256, acting as that
//! person with that person's role.

use jiff::Timestamp;
use sqlx::Row;

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
    sqlx::query(
        "INSERT INTO api_tokens (id, org_id, person_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(new_id())
    .bind(org_id)
    .bind(person_id)
    .bind(name)
    .bind(hash_token(&secret))
    .bind(now.as_second())
    .execute(&mut *db.acquire().await?)
    .await?;
    Ok(secret)
}

fn ts(v: Option<i64>) -> Option<Timestamp> {
    v.and_then(|s| Timestamp::from_second(s).ok())
}

pub async fn list(db: &Db, org_id: i64, person_id: i64) -> Result<Vec<ApiToken>, sqlx::Error> {
    sqlx::query(
        "SELECT id, name, created_at, last_used_at, revoked_at FROM api_tokens
         WHERE org_id = $1 AND person_id = $2 ORDER BY created_at DESC, id",
    )
    .bind(org_id)
    .bind(person_id)
    .fetch_all(&mut *db.acquire().await?)
    .await?
    .iter()
    .map(|r| {
        Ok(ApiToken {
            id: r.try_get("id")?,
            name: r.try_get("name")?,
            created_at: ts(r.try_get("created_at")?).unwrap_or(Timestamp::UNIX_EPOCH),
            last_used_at: ts(r.try_get("last_used_at")?),
            revoked_at: ts(r.try_get("revoked_at")?),
        })
    })
    .collect()
}

/// Revokes one of the person's own tokens; false if there is no such token.
pub async fn revoke(db: &Db, org_id: i64, person_id: i64, id: i64, now: Timestamp) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE api_tokens SET revoked_at = $1
         WHERE org_id = $2 AND person_id = $3 AND id = $4 AND revoked_at IS NULL",
    )
    .bind(now.as_second())
    .bind(org_id)
    .bind(person_id)
    .bind(id)
    .execute(&mut *db.acquire().await?)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Revokes every live token of the person; how many there were.
pub async fn revoke_all(db: &Db, org_id: i64, person_id: i64, now: Timestamp) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE api_tokens SET revoked_at = $1 WHERE org_id = $2 AND person_id = $3 AND revoked_at IS NULL",
    )
    .bind(now.as_second())
    .bind(org_id)
    .bind(person_id)
    .execute(&mut *db.acquire().await?)
    .await?;
    Ok(done.rows_affected())
}

/// The actor a live token stands for. Notes the day of use, once a day.
pub async fn authenticate(db: &Db, secret: &str, now: Timestamp) -> Result<Option<Actor>, sqlx::Error> {
    if !secret.starts_with(PREFIX) || secret.len() > 200 {
        return Ok(None);
    }
    let hash = hash_token(secret);
    let row = sqlx::query(
        "SELECT t.id, t.org_id, t.person_id, t.last_used_at, p.role
         FROM api_tokens t JOIN people p ON p.org_id = t.org_id AND p.id = t.person_id
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND p.active = 1",
    )
    .bind(&hash)
    .fetch_optional(&mut *db.acquire().await?)
    .await?;
    let Some(row) = row else { return Ok(None) };
    // Only the day is noted, once a day: a write naming the token's person
    // at the second they call would sit beside what they did (an answer).
    let today = now.as_second().div_euclid(86_400) * 86_400;
    let last: Option<i64> = row.try_get("last_used_at")?;
    if last.is_none_or(|l| l < today) {
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(today)
            .bind(row.try_get::<i64, _>("id")?)
            .execute(&mut *db.acquire().await?)
            .await?;
    }
    let role: String = row.try_get("role")?;
    Ok(Some(Actor {
        org_id: row.try_get("org_id")?,
        person_id: row.try_get("person_id")?,
        role: Role::parse(&role).map_err(|e| sqlx::Error::Decode(e.into()))?,
    }))
}
