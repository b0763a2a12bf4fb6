//! The database: one pool type for SQLite and PostgreSQL, migrations, ids,
//! and the few statements that differ between the two.
//!
//! Product code writes one SQL text for both engines (`$1` parameters,
//! `ON CONFLICT`, `RETURNING`; ids and times as integers, dates as text).

use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

pub use crate::config::Backend;
use crate::config::DatabaseUrl;

mod held;
pub use held::{Conn, Tx, one_connection_per_task};

/// The pool and which engine is behind it.
#[derive(Clone, Debug)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

impl Db {
    /// Opens the database (creating an SQLite file if missing) and brings
    /// its schema up to date.
    pub async fn connect(url: &DatabaseUrl) -> Result<Db, sqlx::Error> {
        Db::open(url, true).await
    }

    /// Opens a database that must exist already: commands that read or
    /// copy one (`backup`, `import`, `admin token`) must not leave an
    /// empty database behind a mistyped path and "succeed".
    pub async fn connect_existing(url: &DatabaseUrl) -> Result<Db, sqlx::Error> {
        if let Some(path) = url.sqlite_path()
            && !std::path::Path::new(path).exists()
        {
            return Err(sqlx::Error::Configuration(
                format!("there is no database file at {path}").into(),
            ));
        }
        Db::open(url, false).await
    }

    async fn open(url: &DatabaseUrl, create: bool) -> Result<Db, sqlx::Error> {
        sqlx::any::install_default_drivers();
        let backend = url.backend();
        let mut driver_url = url.expose().to_owned();
        if backend == Backend::Sqlite && !driver_url.contains("mode=") {
            driver_url.push_str(if driver_url.contains('?') { "&" } else { "?" });
            driver_url.push_str(if create { "mode=rwc" } else { "mode=rw" });
        }
        let options: AnyConnectOptions = driver_url.parse()?;
        let pool_options = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 8 } else { 16 })
            // A SQLite connection is a file handle in this process: it
            // cannot go stale, so it is not pinged before every use (a round
            // trip to its worker thread, which cost answers 10 % of their
            // rate in `belong bench submit`). PostgreSQL's still are.
            .test_before_acquire(backend == Backend::Postgres)
            .acquire_timeout(Duration::from_secs(10));
        let pool = match backend {
            Backend::Sqlite => {
                pool_options
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            // WAL lets readers go on while one writer commits;
                            // FULL sync because answers must survive power loss.
                            conn.execute("PRAGMA journal_mode = WAL").await?;
                            conn.execute("PRAGMA synchronous = FULL").await?;
                            conn.execute("PRAGMA foreign_keys = ON").await?;
                            conn.execute("PRAGMA busy_timeout = 5000").await?;
                            // Deleted rows (sealed answers and keys at close,
                            // erased secrets) are overwritten, not left in
                            // free space.
                            conn.execute("PRAGMA secure_delete = ON").await?;
                            // 16 MB of page cache per connection: answers go
                            // in at random places of their B-tree (random ids).
                            conn.execute("PRAGMA cache_size = -16000").await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?
            }
            Backend::Postgres => pool_options.connect_with(options).await?,
        };
        let db = Db { pool, backend };
        db.migrate().await?;
        // A WAL grown large before a crash slows every start and holds old
        // frames: fold it into the database and empty it.
        db.checkpoint().await?;
        Ok(db)
    }

    async fn migrate(&self) -> Result<(), sqlx::Error> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.pool).await?;
        Ok(())
    }

    /// Starts a transaction. SQLite ones take the write lock at once
    /// (`BEGIN IMMEDIATE`): a transaction that reads first and writes later
    /// would otherwise fail with "database is locked" when another writer
    /// got there in between, instead of waiting its turn.
    ///
    /// Cancellation-safe: the `BEGIN` runs in a task of its own, so a caller
    /// dropped while it waits (a client hanging up during the busy wait)
    /// never leaves a connection in the pool inside a transaction that no
    /// [`Tx`] owns. The task's finished `Tx` is dropped with the task's
    /// output, and a dropped `Tx` rolls back before its connection is used
    /// again.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        let guard = held::Guard::take();
        let (pool, backend) = (self.pool.clone(), self.backend);
        let begun = tokio::spawn(async move {
            match backend {
                Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await,
                Backend::Postgres => pool.begin().await,
            }
        });
        match begun.await {
            Ok(tx) => Ok(Tx::new(tx?, guard)),
            Err(e) => Err(sqlx::Error::WorkerCrashed).inspect_err(|_| tracing::error!(error = %e, "BEGIN task failed")),
        }
    }

    /// [`Db::begin`] for a rule that reads rows of an organization, checks
    /// them and then writes (keep an active owner, no reply to a resolved
    /// thread, one award round at a time, k not lowered under answers):
    /// two such transactions of one organization never interleave. SQLite's
    /// `BEGIN IMMEDIATE` serializes them already; PostgreSQL, at READ
    /// COMMITTED, would let both read before either writes, so the
    /// organization's row is locked first, before anything is read, and
    /// each statement after it sees what the one before committed.
    pub async fn begin_rule(&self, org_id: i64) -> Result<Tx, sqlx::Error> {
        let mut tx = self.begin().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT id FROM organizations WHERE id = $1 FOR UPDATE")
                .bind(org_id)
                .fetch_optional(&mut *tx)
                .await?;
        }
        Ok(tx)
    }

    /// A connection from the pool, for reads and single statements. A
    /// task may hold one connection (or one [`Tx`]) at a time: asking for
    /// a second while holding one is how a busy server deadlocks its pool,
    /// so debug builds (the test suite) panic there, naming the rule.
    pub async fn acquire(&self) -> Result<Conn, sqlx::Error> {
        let guard = held::Guard::take();
        Ok(Conn::new(self.pool.acquire().await?, guard))
    }

    /// True when a write transaction can begin now (the health check): on
    /// SQLite that means taking the write lock, so a connection stuck in a
    /// transaction shows here. Gives up after `within`.
    pub async fn can_write(&self, within: Duration) -> bool {
        // The timeout may cancel this: `begin` is cancellation-safe, and a
        // dropped `Tx` rolls back.
        let probe = async {
            match self.begin().await {
                Ok(tx) => tx.rollback().await.is_ok(),
                Err(_) => false,
            }
        };
        matches!(tokio::time::timeout(within, probe).await, Ok(true))
    }

    /// Starts a transaction on a connection held outside the pool, the
    /// same way as [`Db::begin`].
    pub async fn begin_on<'c>(
        &self,
        conn: &'c mut sqlx::AnyConnection,
    ) -> Result<sqlx::Transaction<'c, sqlx::Any>, sqlx::Error> {
        use sqlx::Connection;
        match self.backend {
            Backend::Sqlite => conn.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => conn.begin().await,
        }
    }

    /// Writes a consistent copy of a live SQLite database to `dest`.
    /// PostgreSQL has its own tool for this (`pg_dump`), so it is refused.
    pub async fn backup_to(&self, dest: &str) -> Result<(), BackupError> {
        match self.backend {
            Backend::Sqlite => {
                if std::path::Path::new(dest).exists() {
                    return Err(BackupError::DestinationExists);
                }
                // VACUUM INTO reads one snapshot, so writers carrying on
                // meanwhile do not tear the copy.
                sqlx::query("VACUUM INTO $1").bind(dest).execute(&self.pool).await?;
                Ok(())
            }
            Backend::Postgres => Err(BackupError::UsePgDump),
        }
    }

    /// Copies the whole WAL into the database file and truncates it to
    /// nothing (SQLite; PostgreSQL needs nothing). Done at start-up and at
    /// a clean stop.
    pub async fn checkpoint(&self) -> Result<(), sqlx::Error> {
        if self.backend == Backend::Sqlite {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&mut *self.acquire().await?)
                .await?;
        }
        Ok(())
    }

    /// Takes a connection out of the pool for one task to hold for good
    /// (the answer writer): never back in the pool, since on SQLite its
    /// checkpoints are left to [`passive_checkpoint`] beside it, not run
    /// inside one of its commits, and its page cache is large (answers
    /// land at random pages; it saves reading them back at every batch).
    pub async fn held_writer(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>, sqlx::Error> {
        let mut c = self.pool.acquire().await?;
        c.close_on_drop();
        if self.backend == Backend::Sqlite {
            sqlx::query("PRAGMA wal_autocheckpoint = 0").execute(&mut *c).await?;
            sqlx::query("PRAGMA cache_size = -65536").execute(&mut *c).await?;
        }
        Ok(c)
    }

    /// Closes the pool after a last checkpoint, so a clean stop leaves no
    /// WAL behind.
    pub async fn close(&self) {
        if let Err(e) = self.checkpoint().await {
            tracing::warn!(error = %e, "checkpoint at shutdown failed");
        }
        self.pool.close().await;
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("the destination file exists already; choose a new file name")]
    DestinationExists,
    #[error(
        "belong does not back up PostgreSQL itself: use pg_dump (for example `pg_dump --format=custom DBNAME > belong.dump`)"
    )]
    UsePgDump,
    #[error("backup failed: {0}")]
    Sql(#[from] sqlx::Error),
}

/// A new random row id: positive, 63 bits. Random ids reveal neither how
/// many rows exist nor in which order they were written.
pub fn new_id() -> i64 {
    loop {
        let id = rand::random::<i64>() & i64::MAX;
        if id != 0 {
            return id;
        }
    }
}

/// The `VALUES` list of a multi-row INSERT: `rows` groups of `width`
/// parameters, numbered from `$1`.
pub fn placeholders(rows: usize, width: usize) -> String {
    (0..rows)
        .map(|r| {
            let cols: Vec<String> = (0..width).map(|c| format!("${}", 1 + r * width + c)).collect();
            format!("({})", cols.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Rows per multi-row INSERT. SQLite looks bound parameters up by a linear
/// scan, so binding costs grow with the square of a statement's parameters:
/// several small statements beat one large one.
pub const ROWS_PER_INSERT: usize = 16;

/// True when the error is a violated UNIQUE constraint.
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(e) => e.is_unique_violation(),
        _ => false,
    }
}

/// Claims the most overdue job for a worker: $1 lease end, $2 worker name,
/// $3 now. PostgreSQL skips rows another worker is claiming; the outer
/// conditions are checked again on the locked row, so a job is never
/// handed to two workers.
pub fn claim_job_sql(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => {
            "UPDATE jobs SET locked_until = $1, locked_by = $2, attempts = attempts + 1
             WHERE id = (SELECT id FROM jobs
                         WHERE done_at IS NULL AND failed_at IS NULL AND run_at <= $3
                           AND (locked_until IS NULL OR locked_until <= $3)
                         ORDER BY run_at LIMIT 1)
               AND done_at IS NULL AND (locked_until IS NULL OR locked_until <= $3)
             RETURNING id, kind, payload, sealed, attempts, max_attempts"
        }
        Backend::Postgres => {
            "UPDATE jobs SET locked_until = $1, locked_by = $2, attempts = attempts + 1
             WHERE id = (SELECT id FROM jobs
                         WHERE done_at IS NULL AND failed_at IS NULL AND run_at <= $3
                           AND (locked_until IS NULL OR locked_until <= $3)
                         ORDER BY run_at LIMIT 1
                         FOR UPDATE SKIP LOCKED)
               AND done_at IS NULL AND (locked_until IS NULL OR locked_until <= $3)
             RETURNING id, kind, payload, sealed, attempts, max_attempts"
        }
    }
}

/// One passive checkpoint (SQLite): copies what it can of the WAL into the
/// database file without waiting for anyone; the frames the WAL holds.
pub async fn passive_checkpoint(conn: &mut sqlx::AnyConnection) -> Result<i64, sqlx::Error> {
    let (_, log, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(conn).await?;
    Ok(log)
}
