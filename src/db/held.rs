//! One pooled connection per task at a time.
//!
//! A handler that holds a connection while it asks the pool for another
//! works when the server is quiet and deadlocks it when it is busy: with
//! as many such requests as the pool has connections, each holds one and
//! waits for a second that never comes. [`Conn`] and [`Tx`] count what the
//! current task holds; the request layer and the job worker run each unit
//! of work inside [`one_connection_per_task`], and debug builds (the test
//! suite) panic when a second connection is asked for, so every path the
//! suite walks is checked, not only those a load test happens to hit.

use std::cell::Cell;
use std::future::Future;
use std::ops::{Deref, DerefMut};

use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection};

tokio::task_local! {
    static HELD: Cell<u32>;
}

/// Runs `work` with the one-connection rule checked.
pub async fn one_connection_per_task<F: Future>(work: F) -> F::Output {
    HELD.scope(Cell::new(0), work).await
}

/// Marks a connection held by the current task while it lives.
pub(super) struct Guard {
    counted: bool,
}

impl Guard {
    pub(super) fn take() -> Guard {
        let counted = HELD
            .try_with(|held| {
                let before = held.get();
                if before > 0 {
                    if cfg!(debug_assertions) {
                        panic!(
                            "a task asked for a second database connection while holding one; \
                             pass the connection (or transaction) it holds instead"
                        );
                    }
                    // A release build goes on (the pool may well have room),
                    // but says so: under load this is how the pool deadlocks.
                    tracing::warn!("a request asked for a second database connection while holding one");
                }
                held.set(before + 1);
            })
            .is_ok();
        Guard { counted }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if self.counted {
            let _ = HELD.try_with(|held| held.set(held.get().saturating_sub(1)));
        }
    }
}

/// A pooled connection, counted as held by its task.
pub struct Conn {
    // Field order: the connection goes back before the count drops.
    inner: PoolConnection<Any>,
    _guard: Guard,
}

impl Conn {
    pub(super) fn new(inner: PoolConnection<Any>, guard: Guard) -> Conn {
        Conn { inner, _guard: guard }
    }
}

impl Deref for Conn {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.inner
    }
}

impl DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.inner
    }
}

/// A transaction on a pooled connection, counted as held by its task.
/// Dropped without [`Tx::commit`], it rolls back.
pub struct Tx {
    inner: sqlx::Transaction<'static, Any>,
    _guard: Guard,
}

impl Tx {
    pub(super) fn new(inner: sqlx::Transaction<'static, Any>, guard: Guard) -> Tx {
        Tx { inner, _guard: guard }
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.inner.commit().await
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.inner.rollback().await
    }
}

impl Deref for Tx {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.inner
    }
}

impl DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.inner
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    #[should_panic(expected = "second database connection")]
    async fn a_second_connection_in_one_task_is_refused() {
        one_connection_per_task(async {
            let _first = Guard::take();
            let _second = Guard::take();
        })
        .await;
    }

    #[tokio::test]
    async fn connections_taken_one_after_another_are_fine() {
        one_connection_per_task(async {
            drop(Guard::take());
            let _again = Guard::take();
        })
        .await;
    }

    /// The rule is only checked where connections come through `Db`: the
    /// product's code never reaches into the pool itself. The writer (a
    /// task that owns one connection) and the benches are the exceptions.
    #[test]
    fn product_code_takes_connections_only_through_db() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut stack = vec![root.clone()];
        let mut offenders = Vec::new();
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let rel = path.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
                if rel.starts_with("db/") || rel.starts_with("cli/bench") || rel == "pulse/writer.rs" {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                for (n, line) in text.lines().enumerate() {
                    if line.contains("db.pool") {
                        offenders.push(format!("src/{rel}:{}", n + 1));
                    }
                }
            }
        }
        assert!(offenders.is_empty(), "use Db::acquire or Db::begin: {offenders:?}");
    }
}
