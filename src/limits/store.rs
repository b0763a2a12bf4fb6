//! The SQL of throttles and token buckets: each check-and-count is one
//! statement.

use sqlx::{AnyConnection, Row};

use crate::db::Db;

/// Counts a failure against `key` unless it is waiting (`next_at` in the
/// future); the failures counted, or None while it waits. Failures older
/// than `quiet` seconds are forgotten.
pub async fn count_failure(
    conn: &mut AnyConnection,
    key: &str,
    now: i64,
    quiet: i64,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query(
        "INSERT INTO throttles (throttle_key, failures, last_at, next_at) VALUES ($1, 1, $2, $2)
         ON CONFLICT (throttle_key) DO UPDATE SET
           failures = CASE WHEN throttles.last_at + $3 <= $2 THEN 1 ELSE throttles.failures + 1 END,
           last_at = $2
         WHERE throttles.next_at <= $2
         RETURNING failures",
    )
    .bind(key)
    .bind(now)
    .bind(quiet)
    .fetch_optional(conn)
    .await?
    .map(|r| r.try_get("failures"))
    .transpose()
}

pub async fn next_at(conn: &mut AnyConnection, key: &str) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT next_at FROM throttles WHERE throttle_key = $1")
        .bind(key)
        .fetch_one(conn)
        .await?
        .try_get("next_at")
}

pub async fn set_next_at(conn: &mut AnyConnection, key: &str, next_at: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE throttles SET next_at = $1 WHERE throttle_key = $2")
        .bind(next_at)
        .bind(key)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn delete_throttle(db: &Db, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM throttles WHERE throttle_key = $1")
        .bind(key)
        .execute(&mut *db.acquire().await?)
        .await?;
    Ok(())
}

/// Takes one failure back; the delay goes once fewer than `free` remain.
pub async fn uncount_failure(db: &Db, key: &str, free: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE throttles SET failures = failures - 1,
                next_at = CASE WHEN failures - 1 < $2 THEN 0 ELSE next_at END
         WHERE throttle_key = $1 AND failures > 0",
    )
    .bind(key)
    .bind(free)
    .execute(&mut *db.acquire().await?)
    .await?;
    Ok(())
}

/// Takes a thousand thousandths from the bucket if, refilled by one
/// thousand every `every_ms` up to `full`, it holds them; whether it did.
pub async fn take_token(
    conn: &mut AnyConnection,
    key: &str,
    full: i64,
    now_ms: i64,
    every_ms: i64,
) -> Result<bool, sqlx::Error> {
    // Tokens now = what was left plus the refill since, at most a full bucket.
    Ok(sqlx::query(
        "INSERT INTO rate_buckets (bucket_key, tokens, at_ms) VALUES ($1, $2 - 1000, $3)
         ON CONFLICT (bucket_key) DO UPDATE SET
           tokens = (CASE WHEN rate_buckets.tokens + ($3 - rate_buckets.at_ms) * 1000 / $4 > $2 THEN $2
                          ELSE rate_buckets.tokens + ($3 - rate_buckets.at_ms) * 1000 / $4 END) - 1000,
           at_ms = $3
         WHERE (CASE WHEN rate_buckets.tokens + ($3 - rate_buckets.at_ms) * 1000 / $4 > $2 THEN $2
                     ELSE rate_buckets.tokens + ($3 - rate_buckets.at_ms) * 1000 / $4 END) >= 1000
         RETURNING tokens",
    )
    .bind(key)
    .bind(full)
    .bind(now_ms)
    .bind(every_ms)
    .fetch_optional(conn)
    .await?
    .is_some())
}

/// What a bucket held (thousandths) and when.
pub async fn bucket(conn: &mut AnyConnection, key: &str) -> Result<(i64, i64), sqlx::Error> {
    let row = sqlx::query("SELECT tokens, at_ms FROM rate_buckets WHERE bucket_key = $1")
        .bind(key)
        .fetch_one(conn)
        .await?;
    Ok((row.try_get("tokens")?, row.try_get("at_ms")?))
}

pub async fn put_back(db: &Db, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE rate_buckets SET tokens = tokens + 1000 WHERE bucket_key = $1")
        .bind(key)
        .execute(&mut *db.acquire().await?)
        .await?;
    Ok(())
}
