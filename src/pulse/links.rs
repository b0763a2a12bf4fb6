//! Personal links resolved in batches: the tokens of the answers arriving
//! together are looked up in one query, as the writer stores them in one
//! transaction, instead of one query (and one trip to a pooled connection)
//! each. Only hashes are looked up; the token itself never leaves the edge.

use std::collections::HashMap;

use tokio::sync::{mpsc, oneshot};

use crate::db::Db;

/// Who a link is for: (cycle, organization, person).
pub use super::store::LinkFor;

type Reply = oneshot::Sender<Result<Option<LinkFor>, String>>;

pub struct Links {
    tx: mpsc::Sender<(String, Reply)>,
}

impl Links {
    pub fn start(db: Db) -> Links {
        let (tx, rx) = mpsc::channel(8192);
        tokio::spawn(run(db, rx));
        Links { tx }
    }

    /// Whom the link with this token hash is for, if anyone.
    pub async fn resolve(&self, token_hash: String) -> Result<Option<LinkFor>, sqlx::Error> {
        let stopped = || sqlx::Error::Protocol("the link lookup stopped".into());
        let (reply, answer) = oneshot::channel();
        self.tx.send((token_hash, reply)).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?.map_err(sqlx::Error::Protocol)
    }
}

async fn run(db: Db, mut rx: mpsc::Receiver<(String, Reply)>) {
    let mut batch: Vec<(String, Reply)> = Vec::with_capacity(BATCH);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        let room = BATCH - 1;
        batch.extend(gather(&mut rx, room).await);
        match lookup(&db, &batch).await {
            Ok(found) => {
                for (hash, reply) in batch.drain(..) {
                    let _ = reply.send(Ok(found.get(&hash).copied()));
                }
            }
            Err(e) => {
                let message = e.to_string();
                for (_, reply) in batch.drain(..) {
                    let _ = reply.send(Err(message.clone()));
                }
            }
        }
    }
}

async fn lookup(db: &Db, batch: &[(String, Reply)]) -> Result<HashMap<String, LinkFor>, sqlx::Error> {
    let hashes: Vec<&str> = batch.iter().map(|(h, _)| h.as_str()).collect();
    super::store::invitations_by_hash(&mut *db.acquire().await?, &hashes).await
}

pub const BATCH: usize = 64;

/// Lets the requests being handled right now join a batch: takes up to
/// `room` more messages, yielding to them a few times while more keep
/// arriving.
pub(super) async fn gather<T>(rx: &mut mpsc::Receiver<T>, room: usize) -> Vec<T> {
    let mut got = Vec::new();
    let mut idle = 0;
    while got.len() < room && idle < 3 {
        match rx.try_recv() {
            Ok(m) => {
                got.push(m);
                idle = 0;
            }
            Err(_) => {
                idle += 1;
                tokio::task::yield_now().await;
            }
        }
    }
    got
}
