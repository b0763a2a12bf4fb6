//! The SQL of the job table and the schedules.

use jiff::Timestamp;
use sqlx::{AnyConnection, Row};

use crate::db::{Db, new_id};

/// A job row to insert: a plain payload, or '' and a sealed one.
pub struct NewJob<'a> {
    pub id: i64,
    pub org_id: Option<i64>,
    pub kind: &'a str,
    pub payload: &'a str,
    pub sealed: Option<Vec<u8>>,
    pub run_at: Timestamp,
    pub max_attempts: i64,
}

pub async fn insert(conn: &mut AnyConnection, job: NewJob<'_>, now: Timestamp) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "INSERT INTO jobs (id, org_id, kind, payload, sealed, run_at, attempts, max_attempts, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8)",
    )
    .bind(job.id)
    .bind(job.org_id)
    .bind(job.kind)
    .bind(job.payload)
    .bind(job.sealed)
    .bind(job.run_at.as_second())
    .bind(job.max_attempts)
    .bind(now.as_second())
    .execute(conn)
    .await?;
    Ok(job.id)
}

pub async fn insert_touch(db: &Db, label: &str, now: Timestamp) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO job_touches (label, at) VALUES ($1, $2)")
        .bind(label)
        .bind(now.as_second())
        .execute(&mut *db.acquire().await?)
        .await?;
    Ok(())
}

pub async fn sealed_pending(conn: &mut AnyConnection) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT COUNT(*) AS n FROM jobs WHERE sealed IS NOT NULL AND done_at IS NULL AND failed_at IS NULL")
        .fetch_one(conn)
        .await?
        .try_get("n")
}

/// A waiting job's id, plain payload and sealed payload.
pub type Waiting = (i64, String, Option<Vec<u8>>);

pub async fn waiting(db: &Db, kind: &str) -> Result<Vec<Waiting>, sqlx::Error> {
    sqlx::query(
        "SELECT id, payload, sealed FROM jobs WHERE kind = $1 AND done_at IS NULL AND failed_at IS NULL ORDER BY run_at, id",
    )
    .bind(kind)
    .fetch_all(&mut *db.acquire().await?)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("id")?, r.try_get("payload")?, r.try_get("sealed")?)))
    .collect()
}

pub async fn abandon_sealed(conn: &mut AnyConnection) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE jobs SET sealed = NULL, failed_at = created_at, last_error = 'sealed with a lost master key'
         WHERE sealed IS NOT NULL AND done_at IS NULL AND failed_at IS NULL",
    )
    .execute(conn)
    .await?
    .rows_affected())
}

pub struct Claimed {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub sealed: Option<Vec<u8>>,
    pub attempts: i64,
    pub max_attempts: i64,
}

/// Takes the lease on the next due job, in one statement.
pub async fn claim(db: &Db, worker: &str, now: i64, lease_until: i64) -> Result<Option<Claimed>, sqlx::Error> {
    let row = sqlx::query(crate::db::claim_job_sql(db.backend))
        .bind(lease_until)
        .bind(worker)
        .bind(now)
        .fetch_optional(&mut *db.acquire().await?)
        .await?;
    row.map(|r| {
        Ok(Claimed {
            id: r.try_get("id")?,
            kind: r.try_get("kind")?,
            payload: r.try_get("payload")?,
            sealed: r.try_get("sealed")?,
            attempts: r.try_get("attempts")?,
            max_attempts: r.try_get("max_attempts")?,
        })
    })
    .transpose()
}

/// Done: the lease released, the sealed payload erased.
pub async fn mark_done(db: &Db, id: i64, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE jobs SET done_at = $1, locked_until = NULL, last_error = NULL, sealed = NULL WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(&mut *db.acquire().await?)
        .await?;
    Ok(())
}

/// Failed: retried at `retry_at`, or given up for good (its sealed payload
/// erased).
pub async fn mark_failed(
    db: &Db,
    id: i64,
    error: &str,
    retry_at: i64,
    give_up: bool,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE jobs SET locked_until = NULL, last_error = $1, run_at = $2,
                         failed_at = CASE WHEN $3 = 1 THEN $4 ELSE NULL END,
                         sealed = CASE WHEN $3 = 1 THEN NULL ELSE sealed END
         WHERE id = $5",
    )
    .bind(error)
    .bind(retry_at)
    .bind(i64::from(give_up))
    .bind(now)
    .bind(id)
    .execute(&mut *db.acquire().await?)
    .await?;
    Ok(())
}

pub async fn pending_count(db: &Db) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT COUNT(*) AS n FROM jobs WHERE done_at IS NULL AND failed_at IS NULL")
        .fetch_one(&mut *db.acquire().await?)
        .await?
        .try_get("n")
}

/// Deletes every pending job of `kind` but the one that runs last.
pub async fn keep_latest_pending(db: &Db, kind: &str) -> Result<u64, sqlx::Error> {
    let conn = &mut *db.acquire().await?;
    let pending: Vec<(i64,)> =
        sqlx::query_as("SELECT id FROM jobs WHERE kind = $1 AND done_at IS NULL ORDER BY run_at DESC")
            .bind(kind)
            .fetch_all(&mut *conn)
            .await?;
    let mut gone = 0;
    for (id,) in pending.iter().skip(1) {
        gone += sqlx::query("DELETE FROM jobs WHERE id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?
            .rows_affected();
    }
    Ok(gone)
}

/// A schedule to insert; `on_conflict` says what happens to one of the
/// same name that exists already.
pub struct NewSchedule<'a> {
    pub org_id: Option<i64>,
    pub name: &'a str,
    pub kind: &'a str,
    pub payload: &'a str,
    pub rule: &'a str,
    pub time_zone: &'a str,
    pub next_run_at: Timestamp,
}

pub async fn upsert_schedule(
    db: &Db,
    s: NewSchedule<'_>,
    on_conflict: &'static str,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "INSERT INTO schedules (id, org_id, name, kind, payload, rule, time_zone, next_run_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (name) {on_conflict}"
    ))
    .bind(new_id())
    .bind(s.org_id)
    .bind(s.name)
    .bind(s.kind)
    .bind(s.payload)
    .bind(s.rule)
    .bind(s.time_zone)
    .bind(s.next_run_at.as_second())
    .bind(now.as_second())
    .execute(&mut *db.acquire().await?)
    .await?;
    Ok(())
}

pub async fn rule_of(db: &Db, name: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query("SELECT rule FROM schedules WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut *db.acquire().await?)
        .await?
        .map(|r| r.try_get("rule"))
        .transpose()
}

/// A schedule that has come due.
pub struct Due {
    pub id: i64,
    pub org_id: Option<i64>,
    pub kind: String,
    pub payload: String,
    pub rule: String,
    pub time_zone: String,
    pub next_run_at: i64,
}

pub async fn due_schedules(db: &Db, now: Timestamp) -> Result<Vec<Due>, sqlx::Error> {
    sqlx::query("SELECT id, org_id, kind, payload, rule, time_zone, next_run_at FROM schedules WHERE next_run_at <= $1")
        .bind(now.as_second())
        .fetch_all(&mut *db.acquire().await?)
        .await?
        .iter()
        .map(|r| {
            Ok(Due {
                id: r.try_get("id")?,
                org_id: r.try_get("org_id")?,
                kind: r.try_get("kind")?,
                payload: r.try_get("payload")?,
                rule: r.try_get("rule")?,
                time_zone: r.try_get("time_zone")?,
                next_run_at: r.try_get("next_run_at")?,
            })
        })
        .collect()
}

/// Moves a schedule on, if it still runs at `old` (two servers sharing
/// the database move it once); whether this call moved it.
pub async fn move_schedule(conn: &mut AnyConnection, id: i64, old: i64, next: Timestamp) -> Result<bool, sqlx::Error> {
    let moved = sqlx::query("UPDATE schedules SET next_run_at = $1 WHERE id = $2 AND next_run_at = $3")
        .bind(next.as_second())
        .bind(id)
        .bind(old)
        .execute(conn)
        .await?;
    Ok(moved.rows_affected() == 1)
}
