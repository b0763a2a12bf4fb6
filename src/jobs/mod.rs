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
mod store;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::app::App;
use crate::db::{Db, new_id};
use jiff::Timestamp;
use serde::Deserialize;
use serde::Serialize;
use serde::de::DeserializeOwned;
use store::NewJob;

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
        store::insert_touch(&app.db, &self.0, app.now()).await.into_outcome()
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
    let job = NewJob {
        id: new_id(),
        org_id,
        kind,
        payload,
        sealed: None,
        run_at,
        max_attempts: DEFAULT_MAX_ATTEMPTS,
    };
    store::insert(conn, job, now).await
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
    let job = NewJob {
        id,
        org_id,
        kind: J::KIND,
        payload: "",
        sealed: Some(sealed),
        run_at,
        max_attempts: DEFAULT_MAX_ATTEMPTS,
    };
    store::insert(conn, job, now).await
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
    store::sealed_pending(conn).await
}

/// The payloads of waiting jobs of `kind`, sealed ones opened with the
/// master key (what the worker will run; tests read queued emails so).
pub async fn waiting_payloads(
    db: &Db,
    master: &crate::privacy::seal::MasterKey,
    kind: &str,
) -> Result<Vec<String>, sqlx::Error> {
    Ok(store::waiting(db, kind)
        .await?
        .into_iter()
        .filter_map(|(id, payload, sealed)| open_payload(master, id, payload, sealed.as_deref()))
        .collect())
}

/// Gives up every waiting job whose payload is sealed (under a key that
/// is lost); returns how many.
pub async fn abandon_sealed(conn: &mut sqlx::AnyConnection) -> Result<u64, sqlx::Error> {
    store::abandon_sealed(conn).await
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
    while let Some(job) = {
        let now = app.now().as_second();
        store::claim(&app.db, worker, now, now + LEASE_SECONDS).await?
    } {
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
                store::mark_done(&app.db, job.id, now).await?;
                tracing::info!(job = job.id, kind = %job.kind, attempt = job.attempts, "job done");
            }
            Err(error) => {
                let error: String = error.chars().take(500).collect();
                let give_up = job.attempts >= job.max_attempts;
                store::mark_failed(&app.db, job.id, &error, now + backoff(job.attempts), give_up, now).await?;
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
    store::pending_count(db).await
}

/// Keeps only the latest pending job of kind `J` (by when it runs),
/// deleting the others; how many went.
pub async fn keep_latest_pending<J: Job>(db: &Db) -> Result<u64, sqlx::Error> {
    store::keep_latest_pending(db, J::KIND).await
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
