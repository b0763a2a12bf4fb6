//! Server-side sessions. The browser holds a random token in an HttpOnly
//! cookie; the database holds only its hash, so a stolen backup cannot be
//! replayed as a sign-in.

use jiff::Timestamp;
use sqlx::Row;

use super::{Actor, Role, hash_token, random_token};
use crate::db::Db;

pub const COOKIE: &str = "belong_session";

/// A live sign-in, with what every page needs to know about the person.
#[derive(Clone, Debug)]
pub struct Session {
    pub actor: Actor,
    pub csrf_token: String,
    pub person_name: String,
    pub org_name: String,
    pub must_change_password: bool,
}

/// Starts a session and returns the token for the cookie.
pub async fn start(db: &Db, org_id: i64, person_id: i64, now: Timestamp, hours: i64) -> Result<String, sqlx::Error> {
    let token = random_token();
    sqlx::query(
        "INSERT INTO sessions (token_hash, org_id, person_id, csrf_token, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(hash_token(&token))
    .bind(org_id)
    .bind(person_id)
    .bind(random_token())
    .bind(now.as_second())
    .bind(now.as_second() + hours * 3600)
    .execute(&mut *db.acquire().await?)
    .await?;
    Ok(token)
}

/// The session a cookie token stands for, if it is live and its person is
/// still active.
pub async fn load(db: &Db, token: &str, now: Timestamp) -> Result<Option<Session>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT s.org_id, s.person_id, s.csrf_token, p.role, p.name, p.must_change_password,
                o.name AS org_name
         FROM sessions s
         JOIN people p ON p.org_id = s.org_id AND p.id = s.person_id
         JOIN organizations o ON o.id = s.org_id
         WHERE s.token_hash = $1 AND s.expires_at > $2 AND p.active = 1",
    )
    .bind(hash_token(token))
    .bind(now.as_second())
    .fetch_optional(&mut *db.acquire().await?)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let role: String = row.try_get("role")?;
    Ok(Some(Session {
        actor: Actor {
            org_id: row.try_get("org_id")?,
            person_id: row.try_get("person_id")?,
            role: Role::parse(&role).map_err(|e| sqlx::Error::Decode(e.into()))?,
        },
        csrf_token: row.try_get("csrf_token")?,
        person_name: row.try_get("name")?,
        org_name: row.try_get("org_name")?,
        must_change_password: row.try_get::<i64, _>("must_change_password")? != 0,
    }))
}

pub async fn end(db: &Db, token: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(hash_token(token))
        .execute(&mut *db.acquire().await?)
        .await?;
    Ok(())
}

/// How many browsers a person is signed in on.
pub async fn count_live(db: &Db, org_id: i64, person_id: i64, now: Timestamp) -> Result<i64, sqlx::Error> {
    let row =
        sqlx::query("SELECT COUNT(*) AS n FROM sessions WHERE org_id = $1 AND person_id = $2 AND expires_at > $3")
            .bind(org_id)
            .bind(person_id)
            .bind(now.as_second())
            .fetch_one(&mut *db.acquire().await?)
            .await?;
    row.try_get("n")
}

/// Ends every session of a person except, optionally, one to keep.
pub async fn end_all_for(db: &Db, org_id: i64, person_id: i64, keep_token: Option<&str>) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE org_id = $1 AND person_id = $2 AND token_hash <> $3")
        .bind(org_id)
        .bind(person_id)
        .bind(keep_token.map(hash_token).unwrap_or_default())
        .execute(&mut *db.acquire().await?)
        .await?;
    Ok(())
}

/// Removes expired sessions (run at start-up; later by the job worker).
pub async fn purge_expired(db: &Db, now: Timestamp) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(now.as_second())
        .execute(&mut *db.acquire().await?)
        .await?;
    Ok(done.rows_affected())
}
