//! Limits failed sign-ins per account and per IP address. Counts live in
//! the database, so they hold across restarts and across server processes.

use jiff::Timestamp;
use sqlx::Row;

use crate::db::Db;

/// Failures allowed per window before further attempts are refused.
pub const ACCOUNT_LIMIT: i64 = 5;
pub const IP_LIMIT: i64 = 30;
/// Length of a window, in seconds.
pub const WINDOW: i64 = 15 * 60;

pub fn account_key(org_id: i64, email_key: &str) -> String {
    format!("account:{org_id}:{email_key}")
}

pub fn ip_key(ip: std::net::IpAddr) -> String {
    format!("ip:{ip}")
}

/// Sign-in links asked for per address and per IP within a window.
pub const LINK_ACCOUNT_LIMIT: i64 = 3;
pub const LINK_IP_LIMIT: i64 = 20;

pub fn link_keys(org_slug: &str, email_key: &str, ip: std::net::IpAddr) -> [(String, i64); 2] {
    [
        (format!("link:{org_slug}:{email_key}"), LINK_ACCOUNT_LIMIT),
        (format!("link-ip:{ip}"), LINK_IP_LIMIT),
    ]
}

/// `Err(seconds)` when one of the keys has used up its failures: how long
/// until the window ends.
pub async fn check(db: &Db, keys: &[(String, i64)], now: Timestamp) -> Result<Result<(), i64>, sqlx::Error> {
    let now = now.as_second();
    for (key, limit) in keys {
        let row = sqlx::query("SELECT window_start, failures FROM sign_in_failures WHERE throttle_key = $1")
            .bind(key)
            .fetch_optional(&mut *db.acquire().await?)
            .await?;
        if let Some(row) = row {
            let start: i64 = row.try_get("window_start")?;
            let failures: i64 = row.try_get("failures")?;
            if start + WINDOW > now && failures >= *limit {
                return Ok(Err(start + WINDOW - now));
            }
        }
    }
    Ok(Ok(()))
}

/// Counts one attempt (a failed sign-in, a link request) against each key, opening a new window where the
/// old one has ended.
pub async fn record(db: &Db, keys: &[(String, i64)], now: Timestamp) -> Result<(), sqlx::Error> {
    let now = now.as_second();
    let mut tx = db.begin().await?;
    for (key, _) in keys {
        sqlx::query(
            "INSERT INTO sign_in_failures (throttle_key, window_start, failures) VALUES ($1, $2, 1)
             ON CONFLICT (throttle_key) DO UPDATE SET
               failures = CASE WHEN sign_in_failures.window_start + $3 > $2
                               THEN sign_in_failures.failures + 1 ELSE 1 END,
               window_start = CASE WHEN sign_in_failures.window_start + $3 > $2
                                   THEN sign_in_failures.window_start ELSE $2 END",
        )
        .bind(key)
        .bind(now)
        .bind(WINDOW)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

pub async fn clear(db: &Db, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sign_in_failures WHERE throttle_key = $1")
        .bind(key)
        .execute(&mut *db.acquire().await?)
        .await?;
    Ok(())
}
