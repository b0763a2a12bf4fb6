//! Background jobs: a table of work, a worker in the same process that
//! runs due jobs with retries and backoff, and recurring schedules.
//!
//! A worker claims a job by taking a lease on it in one statement, so two
//! `belong serve` processes sharing a database never run the same job at
//! once; a job whose worker died is claimed again when its lease ends.
//! Finished work is marked done in the same breath, so a job queued before
//! a crash runs once after the restart.

pub mod email;
pub mod schedule;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use jiff::Timestamp;
use serde::Deserialize;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::Row;

use crate::app::App;
use crate::db::{Db, new_id};

/// How long a claimed job is reserved for its worker.
pub const LEASE_SECONDS: i64 = 300;
/// How often an idle worker looks for due jobs.
pub const POLL: Duration = Duration::from_millis(500);
pub const DEFAULT_MAX_ATTEMPTS: i64 = 8;

type HandlerFuture<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;
type Handler = for<'a> fn(&'a App, &'a str) -> HandlerFuture<'a>;

/// A kind of background work. The value is the job's payload, stored as
/// JSON; a module declares its jobs and registers them at the composition
/// root, so this module names none of them.
pub trait Job: Serialize + DeserializeOwned + Send + 'static {
    /// Stored with every queued job: never renamed once released.
    const KIND: &'static str;

    /// Does the work; an error is recorded and the job retried with backoff.
    fn run(self, app: &App) -> impl Future<Output = Result<(), String>> + Send;
}

/// What a job's work returned, as the job's outcome: the value is
/// dropped (the work's effect is in the database), an error kept as text
/// for the job's record and the log.
pub trait IntoOutcome {
    fn into_outcome(self) -> Result<(), String>;
}

impl<T, E: std::fmt::Display> IntoOutcome for Result<T, E> {
    fn into_outcome(self) -> Result<(), String> {
        self.map(|_| ()).map_err(|e| e.to_string())
    }
}

/// Every kind of job a server runs, filled at the composition root and
/// kept among the app's parts.
#[derive(Clone, Default)]
pub struct Registry {
    handlers: HashMap<&'static str, Handler>,
}

impl Registry {
    /// The platform's own jobs (email, the test touch); modules add theirs.
    pub fn with_platform_jobs() -> Registry {
        let mut registry = Registry::default();
        registry.add::<email::SendEmail>().add::<Touch>();
        registry
    }

    /// Adds the job kind `J`; a kind registered twice is a programming error.
    pub fn add<J: Job>(&mut self) -> &mut Registry {
        let before = self.handlers.insert(J::KIND, handle::<J>);
        assert!(before.is_none(), "job kind {} registered twice", J::KIND);
        self
    }
}

fn handle<'a, J: Job>(app: &'a App, payload: &'a str) -> HandlerFuture<'a> {
    Box::pin(async move {
        let job: J = serde_json::from_str(payload).map_err(|e| format!("unreadable {} job: {e}", J::KIND))?;
        job.run(app).await
    })
}

/// A job that only records that it ran: used by the tests that kill the
/// server, and harmless anywhere else.
#[derive(Serialize, Deserialize)]
#[serde(transparent)]
pub struct Touch(pub String);

impl Job for Touch {
    const KIND: &'static str = "jobs.touch";

    async fn run(self, app: &App) -> Result<(), String> {
        sqlx::query("INSERT INTO job_touches (label, at) VALUES ($1, $2)")
            .bind(self.0)
            .bind(app.now().as_second())
            .execute(&mut *app.db.acquire().await.map_err(|e| e.to_string())?)
            .await
            .into_outcome()
    }
}

/// Queues `job` to run at `run_at`, inside the caller's transaction so the
/// job exists exactly when the change that wants it is committed.
pub async fn enqueue<J: Job>(
    conn: &mut sqlx::AnyConnection,
    org_id: Option<i64>,
    job: &J,
    run_at: Timestamp,
    now: Timestamp,
) -> Result<i64, sqlx::Error> {
    let payload = serde_json::to_string(job).expect("a job serializes");
    enqueue_raw(conn, org_id, J::KIND, &payload, run_at, now).await
}

/// [`enqueue`] with the kind and payload as stored (a schedule's).
async fn enqueue_raw(
    conn: &mut sqlx::AnyConnection,
    org_id: Option<i64>,
    kind: &str,
    payload: &str,
    run_at: Timestamp,
    now: Timestamp,
) -> Result<i64, sqlx::Error> {
    insert(conn, new_id(), org_id, kind, payload, None, run_at, now).await
}

/// The one INSERT of a job: a plain payload, or '' and a sealed one.
#[allow(clippy::too_many_arguments)]
async fn insert(
    conn: &mut sqlx::AnyConnection,
    id: i64,
    org_id: Option<i64>,
    kind: &str,
    payload: &str,
    sealed: Option<Vec<u8>>,
    run_at: Timestamp,
    now: Timestamp,
) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "INSERT INTO jobs (id, org_id, kind, payload, sealed, run_at, attempts, max_attempts, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8)",
    )
    .bind(id)
    .bind(org_id)
    .bind(kind)
    .bind(payload)
    .bind(sealed)
    .bind(run_at.as_second())
    .bind(DEFAULT_MAX_ATTEMPTS)
    .bind(now.as_second())
    .execute(conn)
    .await?;
    Ok(id)
}

/// Queues a job whose payload carries a secret (a link with its token):
/// the payload is stored sealed under the master key, bound to the job, and
/// erased once the job is done or given up.
pub async fn enqueue_sealed<J: Job>(
    conn: &mut sqlx::AnyConnection,
    master: &crate::privacy::seal::MasterKey,
    org_id: Option<i64>,
    job: &J,
    run_at: Timestamp,
    now: Timestamp,
) -> Result<i64, sqlx::Error> {
    let payload = serde_json::to_string(job).expect("a job serializes");
    let id = new_id();
    let sealed = master.seal(&sealed_purpose(id), payload.as_bytes());
    insert(conn, id, org_id, J::KIND, "", Some(sealed), run_at, now).await
}

fn sealed_purpose(job_id: i64) -> Vec<u8> {
    format!("job payload {job_id}").into_bytes()
}

/// A job's payload as its handler gets it: the sealed one opened, or the
/// plain one; None when the sealed one does not open with this key.
fn open_payload(
    master: &crate::privacy::seal::MasterKey,
    job_id: i64,
    payload: String,
    sealed: Option<&[u8]>,
) -> Option<String> {
    match sealed {
        None => Some(payload),
        Some(sealed) => master
            .open(&sealed_purpose(job_id), sealed)
            .and_then(|p| String::from_utf8(p).ok()),
    }
}

/// Jobs still waiting whose payload is sealed: they need the master key.
pub async fn sealed_pending(conn: &mut sqlx::AnyConnection) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT COUNT(*) AS n FROM jobs WHERE sealed IS NOT NULL AND done_at IS NULL AND failed_at IS NULL")
        .fetch_one(conn)
        .await?
        .try_get("n")
}

/// The payloads of waiting jobs of `kind`, sealed ones opened with the
/// master key (what the worker will run; tests read queued emails so).
pub async fn waiting_payloads(
    db: &Db,
    master: &crate::privacy::seal::MasterKey,
    kind: &str,
) -> Result<Vec<String>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, payload, sealed FROM jobs WHERE kind = $1 AND done_at IS NULL AND failed_at IS NULL ORDER BY run_at, id",
    )
    .bind(kind)
    .fetch_all(&mut *db.acquire().await?)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let sealed: Option<Vec<u8>> = r.try_get("sealed")?;
        out.extend(open_payload(
            master,
            r.try_get("id")?,
            r.try_get("payload")?,
            sealed.as_deref(),
        ));
    }
    Ok(out)
}

/// Gives up every waiting job whose payload is sealed (under a key that
/// is lost); returns how many.
pub async fn abandon_sealed(conn: &mut sqlx::AnyConnection) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE jobs SET sealed = NULL, failed_at = created_at, last_error = 'sealed with a lost master key'
         WHERE sealed IS NOT NULL AND done_at IS NULL AND failed_at IS NULL",
    )
    .execute(conn)
    .await?
    .rows_affected())
}

struct Claimed {
    id: i64,
    kind: String,
    payload: String,
    sealed: Option<Vec<u8>>,
    attempts: i64,
    max_attempts: i64,
}

async fn claim(db: &Db, worker: &str, now: i64) -> Result<Option<Claimed>, sqlx::Error> {
    let row = sqlx::query(crate::db::claim_job_sql(db.backend))
        .bind(now + LEASE_SECONDS)
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

/// Seconds to wait before the next attempt: 15 s, 30 s, 1 min… up to 1 h.
pub fn backoff(attempts: i64) -> i64 {
    (15i64 << attempts.clamp(0, 12).saturating_sub(1)).min(3600)
}

/// Queues what the schedules owe, then runs every due job. Returns how many
/// jobs ran (successfully or not).
pub async fn run_due(app: &App, worker: &str) -> Result<usize, sqlx::Error> {
    let registry = app.part::<Registry>();
    schedule::queue_due(app).await?;
    let mut ran = 0;
    while let Some(job) = claim(&app.db, worker, app.now().as_second()).await? {
        ran += 1;
        let payload = open_payload(&app.master_key, job.id, job.payload.clone(), job.sealed.as_deref());
        let outcome = match (registry.handlers.get(job.kind.as_str()), payload) {
            (_, None) => Err("the payload does not open with this server's master key".to_owned()),
            (Some(run), Some(payload)) => match tokio::time::timeout(
                Duration::from_secs(120),
                crate::db::one_connection_per_task(run(app, &payload)),
            )
            .await
            {
                Ok(r) => r,
                Err(_) => Err("timed out after 120 s".to_owned()),
            },
            (None, _) => Err(format!("no handler for job kind {:?}", job.kind)),
        };
        let now = app.now().as_second();
        match outcome {
            Ok(()) => {
                sqlx::query(
                    "UPDATE jobs SET done_at = $1, locked_until = NULL, last_error = NULL, sealed = NULL WHERE id = $2",
                )
                .bind(now)
                .bind(job.id)
                .execute(&mut *app.db.acquire().await?)
                .await?;
                tracing::info!(job = job.id, kind = %job.kind, attempt = job.attempts, "job done");
            }
            Err(error) => {
                let error: String = error.chars().take(500).collect();
                let give_up = job.attempts >= job.max_attempts;
                sqlx::query(
                    "UPDATE jobs SET locked_until = NULL, last_error = $1, run_at = $2,
                                     failed_at = CASE WHEN $3 = 1 THEN $4 ELSE NULL END,
                                     sealed = CASE WHEN $3 = 1 THEN NULL ELSE sealed END
                     WHERE id = $5",
                )
                .bind(&error)
                .bind(now + backoff(job.attempts))
                .bind(i64::from(give_up))
                .bind(now)
                .bind(job.id)
                .execute(&mut *app.db.acquire().await?)
                .await?;
                if give_up {
                    tracing::error!(job = job.id, kind = %job.kind, %error, "job failed for good");
                } else {
                    tracing::warn!(job = job.id, kind = %job.kind, attempt = job.attempts, %error, "job failed; will retry");
                }
            }
        }
    }
    Ok(ran)
}

/// Runs jobs until `stop` turns true; the job under way finishes first.
pub async fn work(app: std::sync::Arc<App>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let worker = format!("worker-{:x}", new_id());
    tracing::info!(%worker, "job worker started");
    loop {
        if let Err(e) = run_due(&app, &worker).await {
            tracing::error!(error = %e, "job worker could not reach the database");
        }
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            break;
        }
    }
    tracing::info!("job worker stopped");
}

/// Counts of jobs by state, for the operations page and tests.
pub async fn pending_count(db: &Db) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT COUNT(*) AS n FROM jobs WHERE done_at IS NULL AND failed_at IS NULL")
        .fetch_one(&mut *db.acquire().await?)
        .await?
        .try_get("n")
}

/// Keeps only the latest pending job of kind `J` (by when it runs),
/// deleting the others; how many went.
pub async fn keep_latest_pending<J: Job>(db: &Db) -> Result<u64, sqlx::Error> {
    let conn = &mut *db.acquire().await?;
    let pending: Vec<(i64,)> =
        sqlx::query_as("SELECT id FROM jobs WHERE kind = $1 AND done_at IS NULL ORDER BY run_at DESC")
            .bind(J::KIND)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(1), 15);
        assert_eq!(backoff(2), 30);
        assert_eq!(backoff(3), 60);
        assert_eq!(backoff(20), 3600);
    }
}
