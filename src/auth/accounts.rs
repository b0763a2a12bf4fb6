//! The SQL of signing in with a password: finding the account, and
//! reading and changing its password hash. The pages are `account`'s.

use jiff::Timestamp;
use sqlx::Row;

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
