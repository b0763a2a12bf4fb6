//! The SQL of signing in: accounts and their password hashes, sign-in
//! links, sessions and API tokens. Secrets arrive here hashed.

use jiff::Timestamp;
use sqlx::{AnyConnection, Row};

use super::tokens::ApiToken;
use crate::db::Db;

/// What signing in to organization `slug` as `email_key` finds.
pub struct Account {
    /// The organization, or 0 when there is none with this slug (the
    /// throttle still counts the attempt).
    pub org_id: i64,
    /// The active person with this email, if any.
    pub person_id: Option<i64>,
    pub password_hash: Option<String>,
    pub must_change_password: bool,
}

pub async fn find(db: &Db, slug: &str, email_key: &str) -> Result<Account, sqlx::Error> {
    let row = sqlx::query(
        "SELECT o.id AS org_id, p.id AS person_id, p.password_hash, p.must_change_password
         FROM organizations o
         LEFT JOIN people p ON p.org_id = o.id AND p.email_key = $2 AND p.active = 1
         WHERE o.slug = $1",
    )
    .bind(slug)
    .bind(email_key)
    .fetch_optional(&mut *db.acquire().await?)
    .await?;
    let Some(row) = row else {
        return Ok(Account {
            org_id: 0,
            person_id: None,
            password_hash: None,
            must_change_password: false,
        });
    };
    Ok(Account {
        org_id: row.try_get("org_id")?,
        person_id: row.try_get("person_id")?,
        password_hash: row.try_get("password_hash")?,
        must_change_password: row.try_get::<Option<i64>, _>("must_change_password")?.unwrap_or(0) != 0,
    })
}

/// The slug of the only organization, when there is exactly one.
pub async fn only_org_slug(db: &Db) -> Result<Option<String>, sqlx::Error> {
    let rows = sqlx::query("SELECT slug FROM organizations ORDER BY slug LIMIT 2")
        .fetch_all(&mut *db.acquire().await?)
        .await?;
    Ok(match rows.as_slice() {
        [one] => Some(one.try_get("slug")?),
        _ => None,
    })
}

/// True on an empty installation, before its first organization.
pub async fn no_org_yet(db: &Db) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query("SELECT 1 FROM organizations LIMIT 1")
        .fetch_optional(&mut *db.acquire().await?)
        .await?
        .is_none())
}

pub async fn password_hash(db: &Db, org_id: i64, person_id: i64) -> Result<Option<String>, sqlx::Error> {
    sqlx::query("SELECT password_hash FROM people WHERE org_id = $1 AND id = $2")
        .bind(org_id)
        .bind(person_id)
        .fetch_one(&mut *db.acquire().await?)
        .await?
        .try_get("password_hash")
}

/// A chosen password replaces the old one (and any one-time password).
pub async fn set_password_hash(
    db: &Db,
    org_id: i64,
    person_id: i64,
    hash: &str,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE people SET password_hash = $1, must_change_password = 0, updated_at = $2
         WHERE org_id = $3 AND id = $4",
    )
    .bind(hash)
    .bind(now.as_second())
    .bind(org_id)
    .bind(person_id)
    .execute(&mut *db.acquire().await?)
    .await?;
    Ok(())
}

/// The active person a sign-in link would be for.
pub struct Recipient {
    pub org_id: i64,
    pub person_id: i64,
    pub name: String,
    pub email: String,
    pub org_name: String,
}

pub async fn link_recipient(db: &Db, slug: &str, email_key: &str) -> Result<Option<Recipient>, sqlx::Error> {
    sqlx::query(
        "SELECT p.org_id, p.id, p.name, p.email, o.name AS org_name
         FROM people p JOIN organizations o ON o.id = p.org_id
         WHERE o.slug = $1 AND p.email_key = $2 AND p.active = 1",
    )
    .bind(slug)
    .bind(email_key)
    .fetch_optional(&mut *db.acquire().await?)
    .await?
    .map(|r| {
        Ok(Recipient {
            org_id: r.try_get("org_id")?,
            person_id: r.try_get("id")?,
            name: r.try_get("name")?,
            email: r.try_get("email")?,
            org_name: r.try_get("org_name")?,
        })
    })
    .transpose()
}

/// An organization's name and short name (its slug, typed to sign in).
pub async fn org_name_and_slug(conn: &mut AnyConnection, org_id: i64) -> Result<(String, String), sqlx::Error> {
    let row = sqlx::query("SELECT name, slug FROM organizations WHERE id = $1")
        .bind(org_id)
        .fetch_one(conn)
        .await?;
    Ok((row.try_get("name")?, row.try_get("slug")?))
}

pub async fn insert_magic_link(
    conn: &mut AnyConnection,
    token_hash: &str,
    (org_id, person_id): (i64, i64),
    now: i64,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO magic_links (token_hash, org_id, person_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash)
    .bind(org_id)
    .bind(person_id)
    .bind(now)
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks a live, unused link used, in one statement; whom it was for.
pub async fn use_magic_link(db: &Db, token_hash: &str, now: i64) -> Result<Option<(i64, i64)>, sqlx::Error> {
    sqlx::query(
        "UPDATE magic_links SET used_at = $1
         WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1
         RETURNING org_id, person_id",
    )
    .bind(now)
    .bind(token_hash)
    .fetch_optional(&mut *db.acquire().await?)
    .await?
    .map(|r| Ok((r.try_get("org_id")?, r.try_get("person_id")?)))
    .transpose()
}

pub async fn person_active(db: &Db, org_id: i64, person_id: i64) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query("SELECT 1 FROM people WHERE org_id = $1 AND id = $2 AND active = 1")
            .bind(org_id)
            .bind(person_id)
            .fetch_optional(&mut *db.acquire().await?)
            .await?
            .is_some(),
    )
}

/// A session row to insert.
pub struct NewSession<'a> {
    pub token_hash: &'a str,
    pub org_id: i64,
    pub person_id: i64,
    pub csrf_token: &'a str,
    pub created_at: i64,
    pub expires_at: i64,
}

pub async fn insert_session(db: &Db, s: NewSession<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sessions (token_hash, org_id, person_id, csrf_token, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(s.token_hash)
    .bind(s.org_id)
    .bind(s.person_id)
    .bind(s.csrf_token)
    .bind(s.created_at)
    .bind(s.expires_at)
    .execute(&mut *db.acquire().await?)
    .await?;
    Ok(())
}

/// A live session of an active person, as stored.
pub struct SessionRow {
    pub org_id: i64,
    pub person_id: i64,
    pub csrf_token: String,
    pub role: String,
    pub person_name: String,
    pub org_name: String,
    pub must_change_password: bool,
}

pub async fn live_session(db: &Db, token_hash: &str, now: i64) -> Result<Option<SessionRow>, sqlx::Error> {
    sqlx::query(
        "SELECT s.org_id, s.person_id, s.csrf_token, p.role, p.name, p.must_change_password,
                o.name AS org_name
         FROM sessions s
         JOIN people p ON p.org_id = s.org_id AND p.id = s.person_id
         JOIN organizations o ON o.id = s.org_id
         WHERE s.token_hash = $1 AND s.expires_at > $2 AND p.active = 1",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(&mut *db.acquire().await?)
    .await?
    .map(|r| {
        Ok(SessionRow {
            org_id: r.try_get("org_id")?,
            person_id: r.try_get("person_id")?,
            csrf_token: r.try_get("csrf_token")?,
            role: r.try_get("role")?,
            person_name: r.try_get("name")?,
            org_name: r.try_get("org_name")?,
            must_change_password: r.try_get::<i64, _>("must_change_password")? != 0,
        })
    })
    .transpose()
}

pub async fn delete_session(db: &Db, token_hash: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(&mut *db.acquire().await?)
        .await?;
    Ok(())
}

pub async fn count_live_sessions(db: &Db, org_id: i64, person_id: i64, now: i64) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT COUNT(*) AS n FROM sessions WHERE org_id = $1 AND person_id = $2 AND expires_at > $3")
        .bind(org_id)
        .bind(person_id)
        .bind(now)
        .fetch_one(&mut *db.acquire().await?)
        .await?
        .try_get("n")
}

/// Deletes a person's sessions but the one with `keep_hash` ('' keeps none).
pub async fn delete_sessions_but(db: &Db, org_id: i64, person_id: i64, keep_hash: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE org_id = $1 AND person_id = $2 AND token_hash <> $3")
        .bind(org_id)
        .bind(person_id)
        .bind(keep_hash)
        .execute(&mut *db.acquire().await?)
        .await?;
    Ok(())
}

pub async fn delete_expired_sessions(db: &Db, now: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(now)
        .execute(&mut *db.acquire().await?)
        .await?
        .rows_affected())
}

/// An API token row to insert.
pub struct NewToken<'a> {
    pub id: i64,
    pub org_id: i64,
    pub person_id: i64,
    pub name: &'a str,
    pub token_hash: &'a str,
    pub created_at: i64,
}

pub async fn insert_token(db: &Db, t: NewToken<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO api_tokens (id, org_id, person_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(t.id)
    .bind(t.org_id)
    .bind(t.person_id)
    .bind(t.name)
    .bind(t.token_hash)
    .bind(t.created_at)
    .execute(&mut *db.acquire().await?)
    .await?;
    Ok(())
}

fn ts(v: Option<i64>) -> Option<Timestamp> {
    v.and_then(|s| Timestamp::from_second(s).ok())
}

pub async fn tokens_of(db: &Db, org_id: i64, person_id: i64) -> Result<Vec<ApiToken>, sqlx::Error> {
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

/// Revokes one live token of the person, or (`id` None) all of them; how
/// many were revoked.
pub async fn revoke_tokens(
    db: &Db,
    org_id: i64,
    person_id: i64,
    id: Option<i64>,
    now: i64,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE api_tokens SET revoked_at = $1
         WHERE org_id = $2 AND person_id = $3 AND revoked_at IS NULL AND ($4 = 0 OR id = $5)",
    )
    .bind(now)
    .bind(org_id)
    .bind(person_id)
    .bind(i64::from(id.is_some()))
    .bind(id.unwrap_or(0))
    .execute(&mut *db.acquire().await?)
    .await?
    .rows_affected())
}

/// A live token of an active person, as stored.
pub struct TokenRow {
    pub id: i64,
    pub org_id: i64,
    pub person_id: i64,
    pub last_used_at: Option<i64>,
    pub role: String,
}

pub async fn live_token(db: &Db, token_hash: &str) -> Result<Option<TokenRow>, sqlx::Error> {
    sqlx::query(
        "SELECT t.id, t.org_id, t.person_id, t.last_used_at, p.role
         FROM api_tokens t JOIN people p ON p.org_id = t.org_id AND p.id = t.person_id
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND p.active = 1",
    )
    .bind(token_hash)
    .fetch_optional(&mut *db.acquire().await?)
    .await?
    .map(|r| {
        Ok(TokenRow {
            id: r.try_get("id")?,
            org_id: r.try_get("org_id")?,
            person_id: r.try_get("person_id")?,
            last_used_at: r.try_get("last_used_at")?,
            role: r.try_get("role")?,
        })
    })
    .transpose()
}

pub async fn note_token_used(db: &Db, id: i64, day: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
        .bind(day)
        .bind(id)
        .execute(&mut *db.acquire().await?)
        .await?;
    Ok(())
}
