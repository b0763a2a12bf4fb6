//! Group commit for answers: one writer takes the submissions that arrive
//! together (up to 64), stores them in one transaction, and replies to each
//! only after the commit. One fsync then covers many answers, and a batch
//! is written in random order, so even the order of inserts says nothing
//! about who answered when (PRIVACY.md rule 2).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, Row};
use tokio::sync::{mpsc, oneshot};

use super::model::{Pillar, Question, parse_submission};
use super::sealed::{self, CycleKey};
use super::service::SubmitError;
use super::store::StoredResponse;
use crate::app::Clock;
use crate::config::Backend;
use crate::db::Db;
use crate::privacy::seal::MasterKey;

pub const BATCH: usize = 64;
/// Answers stored between two WAL checkpoints. Fewer, larger checkpoints
/// write a page dirtied by many answers once: every 500 answers held the
/// p99 latency at 5,000 answers/s near 19 ms, every 5,000 near 9 ms (4 s
/// runs, `belong bench submit`).
const CHECKPOINT_EVERY: usize = 5000;
/// Who is answering: a signed-in person (or API token), or the holder of a
/// personal link (its token's hash).
#[derive(Clone, Debug)]
pub enum Who {
    Person { org_id: i64, cycle_id: i64, person_id: i64 },
    Link { token_hash: String },
}

struct Submission {
    who: Who,
    fields: Vec<(String, String)>,
    reply: oneshot::Sender<Result<(), SubmitError>>,
}

enum Message {
    Submit(Submission),
    /// Let go of the writer's connection and stop; answered once it is
    /// closed.
    Stop(oneshot::Sender<()>),
}

/// The handle requests use; the writer task runs as long as it exists.
pub struct Writer {
    tx: mpsc::Sender<Message>,
}

impl Writer {
    pub fn start(db: Db, clock: Arc<dyn Clock>, master: MasterKey) -> Writer {
        let (tx, rx) = mpsc::channel(8192);
        tokio::spawn(run(db, clock, master, rx));
        Writer { tx }
    }

    /// Stores what is queued, closes the writer's connection and stops: a
    /// clean shutdown then leaves no WAL behind (see `Db::close`). Answers
    /// sent after this are refused.
    pub async fn stop(&self) {
        let (done, stopped) = oneshot::channel();
        if self.tx.send(Message::Stop(done)).await.is_ok() {
            let _ = stopped.await;
        }
    }

    /// Stores one whole answer; returns once it is committed. A field named
    /// `comment` is taken as the answer to the cycle's comment question.
    pub async fn submit(&self, who: Who, fields: Vec<(String, String)>) -> Result<(), SubmitError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Message::Submit(Submission { who, fields, reply }))
            .await
            .map_err(|_| SubmitError::Other(crate::web::AppError::internal("the answer writer stopped")))?;
        answer
            .await
            .map_err(|_| SubmitError::Other(crate::web::AppError::internal("the answer writer stopped")))?
    }
}

async fn run(db: Db, clock: Arc<dyn Clock>, master: MasterKey, mut rx: mpsc::Receiver<Message>) {
    // Keyed by (organization, cycle): a cycle id is only ever looked up
    // within the organization that asks.
    let mut questions: HashMap<(i64, i64), Arc<Vec<Question>>> = HashMap::new();
    // The writer keeps one connection to itself, so its page cache stays
    // warm with the pages answers go to. After an error it takes a new one.
    let mut held: Option<PoolConnection<Any>> = None;
    let mut since_checkpoint = 0usize;
    let checkpointing = Arc::new(AtomicBool::new(false));
    let mut batch: Vec<Submission> = Vec::with_capacity(BATCH);
    let mut stopping: Option<oneshot::Sender<()>> = None;
    while let Some(first) = rx.recv().await {
        match first {
            Message::Submit(s) => batch.push(s),
            Message::Stop(done) => {
                stopping = Some(done);
                break;
            }
        }
        // Let the requests being handled right now join this batch: yield
        // to them a few times while more keep arriving.
        let mut idle = 0;
        while batch.len() < BATCH && idle < 3 && stopping.is_none() {
            match rx.try_recv() {
                Ok(Message::Submit(s)) => {
                    batch.push(s);
                    idle = 0;
                }
                Ok(Message::Stop(done)) => stopping = Some(done),
                Err(_) => {
                    idle += 1;
                    tokio::task::yield_now().await;
                }
            }
        }
        let items: Vec<(Who, Vec<(String, String)>)> =
            batch.iter().map(|s| (s.who.clone(), s.fields.clone())).collect();
        let outcomes = match store_held(&db, &master, &mut held, clock.now().as_second(), &items, &mut questions).await
        {
            Ok(o) => o,
            // A database error fails the whole transaction: try each alone,
            // so one bad apple does not spoil the batch.
            Err(_) if items.len() > 1 => {
                let mut each = Vec::with_capacity(items.len());
                for item in &items {
                    let one = store_held(
                        &db,
                        &master,
                        &mut held,
                        clock.now().as_second(),
                        std::slice::from_ref(item),
                        &mut questions,
                    )
                    .await;
                    each.push(match one {
                        Ok(mut o) => o.remove(0),
                        Err(e) => Err(SubmitError::from(e)),
                    });
                }
                each
            }
            Err(e) => vec![Err(SubmitError::from(e))],
        };
        let stored = outcomes.iter().filter(|o| o.is_ok()).count();
        for (s, outcome) in batch.drain(..).zip(outcomes) {
            let _ = s.reply.send(outcome);
        }
        since_checkpoint += stored;
        if db.backend == Backend::Sqlite
            && since_checkpoint >= CHECKPOINT_EVERY
            && !checkpointing.swap(true, Ordering::AcqRel)
        {
            since_checkpoint = 0;
            tokio::spawn(checkpoint(db.clone(), checkpointing.clone()));
        }
        if stopping.is_some() {
            break;
        }
    }
    // Closing the connection (rather than dropping it into a pool that
    // outlives us) lets the last checkpoint empty the WAL.
    if let Some(conn) = held.take() {
        use sqlx::Connection;
        let _ = conn.detach().close().await;
    }
    if let Some(done) = stopping {
        let _ = done.send(());
    }
}

/// Copies the WAL back into the database file on another connection,
/// while the writer goes on appending to it (SQLite's passive checkpoint).
/// Done inside a commit, as SQLite does by default, it held up every answer
/// waiting behind that commit for tens of milliseconds.
async fn checkpoint(db: Db, running: Arc<AtomicBool>) {
    let done = match db.acquire().await {
        Ok(mut conn) => sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&mut *conn)
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    if let Err(e) = done {
        tracing::warn!(error = %e, "WAL checkpoint failed");
    }
    running.store(false, Ordering::Release);
}

/// [`store_batch`] on the writer's own connection, taken from the pool
/// when it has none; a connection that failed is let go.
async fn store_held(
    db: &Db,
    master: &MasterKey,
    held: &mut Option<PoolConnection<Any>>,
    now: i64,
    items: &[(Who, Vec<(String, String)>)],
    questions_cache: &mut HashMap<(i64, i64), Arc<Vec<Question>>>,
) -> Result<Vec<Result<(), SubmitError>>, sqlx::Error> {
    let conn = match held {
        Some(c) => c,
        None => {
            // The writer's task holds this one connection for good.
            let mut c = db.pool.acquire().await?;
            // Never back in the pool with the setting below.
            c.close_on_drop();
            if db.backend == Backend::Sqlite {
                // Checkpoints run beside the writer (see `checkpoint`),
                // not inside one of its commits.
                sqlx::query("PRAGMA wal_autocheckpoint = 0").execute(&mut *c).await?;
                // Answers land at random pages; a large cache saves reading
                // them back from the file at every batch.
                sqlx::query("PRAGMA cache_size = -65536").execute(&mut *c).await?;
            }
            held.insert(c)
        }
    };
    let outcome = store_batch(db, master, conn, now, items, questions_cache).await;
    if outcome.is_err() {
        *held = None;
    }
    outcome
}

/// Stores a batch in one transaction; the outcome of each item, in order.
async fn store_batch(
    db: &Db,
    master: &MasterKey,
    conn: &mut AnyConnection,
    now: i64,
    items: &[(Who, Vec<(String, String)>)],
    questions_cache: &mut HashMap<(i64, i64), Arc<Vec<Question>>>,
) -> Result<Vec<Result<(), SubmitError>>, sqlx::Error> {
    let mut outcome: Vec<Option<Result<(), SubmitError>>> = (0..items.len()).map(|_| None).collect();
    // Who each item is, as (org, cycle, person).
    let hashes: Vec<&str> = items
        .iter()
        .filter_map(|(w, _)| match w {
            Who::Link { token_hash } => Some(token_hash.as_str()),
            _ => None,
        })
        .collect();
    let mut by_hash: HashMap<String, (i64, i64, i64)> = HashMap::new();
    if !hashes.is_empty() {
        let sql = format!(
            "SELECT token_hash, cycle_id, org_id, person_id FROM invitations WHERE token_hash IN ({})",
            (1..=hashes.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut q = sqlx::query(&sql);
        for h in &hashes {
            q = q.bind(*h);
        }
        for r in q.fetch_all(&mut *conn).await? {
            by_hash.insert(
                r.try_get("token_hash")?,
                (r.try_get("org_id")?, r.try_get("cycle_id")?, r.try_get("person_id")?),
            );
        }
    }
    let mut who: Vec<Option<(i64, i64, i64)>> = Vec::with_capacity(items.len());
    for (i, (w, _)) in items.iter().enumerate() {
        let resolved = match w {
            Who::Person {
                org_id,
                cycle_id,
                person_id,
            } => Some((*org_id, *cycle_id, *person_id)),
            Who::Link { token_hash } => by_hash.get(token_hash).copied(),
        };
        if resolved.is_none() {
            outcome[i] = Some(Err(SubmitError::NotFound));
        }
        who.push(resolved);
    }

    let mut tx = db.begin_on(conn).await?;
    // The cycles concerned, each within its organization: open now, and
    // their questions. A cycle id of another organization is not found,
    // before anything else is looked at (and nothing is cached for it).
    // On PostgreSQL the cycle's row is share-locked, so a close (which
    // locks it for update) waits for this batch, or this batch for it.
    let mut open: HashMap<(i64, i64), Option<bool>> = HashMap::new();
    let mut keys: HashMap<(i64, i64), CycleKey> = HashMap::new();
    let lock = match db.backend {
        Backend::Postgres => " FOR SHARE",
        Backend::Sqlite => "",
    };
    for (org_id, cycle_id, _) in who.iter().flatten() {
        let key = (*org_id, *cycle_id);
        if open.contains_key(&key) {
            continue;
        }
        let row = sqlx::query(&format!(
            "SELECT opens_at, closes_at, closed_at FROM cycles WHERE org_id = $1 AND id = $2{lock}"
        ))
        .bind(org_id)
        .bind(cycle_id)
        .fetch_optional(&mut *tx)
        .await?;
        let state = match row {
            Some(r) => Some(
                r.try_get::<Option<i64>, _>("closed_at")?.is_none()
                    && r.try_get::<i64, _>("opens_at")? <= now
                    && now < r.try_get::<i64, _>("closes_at")?,
            ),
            None => None,
        };
        // An open cycle without its key cannot take answers (it was
        // opened by a server with another master key, or is being closed).
        let state = match state {
            Some(true) => match sealed::key(&mut tx, master, *org_id, *cycle_id).await {
                Ok(Some(k)) => {
                    keys.insert(key, k);
                    Some(true)
                }
                Ok(None) => Some(false),
                Err(sealed::OpenError::Sql(e)) => return Err(e),
                Err(e) => {
                    tracing::error!(cycle = cycle_id, error = %e, "cannot seal answers");
                    Some(false)
                }
            },
            other => other,
        };
        open.insert(key, state);
        if state.is_some() && !questions_cache.contains_key(&key) {
            let qs = super::store::cycle_questions(&mut tx, *org_id, *cycle_id).await?;
            questions_cache.insert(key, Arc::new(qs));
        }
    }

    // Check each answer; the first of a person's answers in the batch goes
    // on, any other is "already answered".
    let mut parsed: Vec<Option<super::model::Submission>> = (0..items.len()).map(|_| None).collect();
    let mut segment_values: Vec<Vec<(i64, String)>> = vec![Vec::new(); items.len()];
    let mut segment_questions: HashMap<i64, Vec<(i64, Vec<String>)>> = HashMap::new();
    let mut claimed: HashSet<(i64, i64)> = HashSet::new();
    for (i, (_, fields)) in items.iter().enumerate() {
        let Some((org_id, cycle_id, person_id)) = who[i] else {
            continue;
        };
        // Self-reported segments ride along as `s<ID>` fields.
        if let std::collections::hash_map::Entry::Vacant(e) = segment_questions.entry(org_id) {
            let rows = sqlx::query("SELECT id, options FROM segment_questions WHERE org_id = $1 AND active = 1")
                .bind(org_id)
                .fetch_all(&mut *tx)
                .await?;
            let mut qs = Vec::new();
            for r in rows {
                let options: String = r.try_get("options")?;
                qs.push((
                    r.try_get::<i64, _>("id")?,
                    serde_json::from_str::<Vec<String>>(&options).unwrap_or_default(),
                ));
            }
            e.insert(qs);
        }
        let mut segment_errors = Vec::new();
        let mut fields_left = Vec::new();
        for (k, v) in fields {
            let Some(id) = k.strip_prefix('s').and_then(|n| n.parse::<i64>().ok()) else {
                fields_left.push((k.clone(), v.clone()));
                continue;
            };
            let value = v.trim();
            match segment_questions[&org_id].iter().find(|(q, _)| *q == id) {
                None => segment_errors.push((k.clone(), "is not a question of this form".to_owned())),
                Some(_) if value.is_empty() || value.eq_ignore_ascii_case(super::segments::PREFER_NOT) => {}
                Some((_, options)) if options.iter().any(|o| o == value) => {
                    segment_values[i].push((id, value.to_owned()))
                }
                Some(_) => segment_errors.push((k.clone(), "choose one of the options".to_owned())),
            }
        }
        let fields = &fields_left;
        match open.get(&(org_id, cycle_id)).copied().flatten() {
            None => {
                outcome[i] = Some(Err(SubmitError::NotFound));
                continue;
            }
            Some(false) => {
                outcome[i] = Some(Err(SubmitError::Closed));
                continue;
            }
            Some(true) => {}
        }
        let qs = &questions_cache[&(org_id, cycle_id)];
        let comment_id = qs.iter().find(|q| q.pillar == Pillar::Comment).map(|q| q.id);
        let fields: Vec<(String, String)> = fields
            .iter()
            .map(|(k, v)| match (k.as_str(), comment_id) {
                ("comment", Some(c)) => (format!("q{c}"), v.clone()),
                _ => (k.clone(), v.clone()),
            })
            .collect();
        match parse_submission(qs, &fields) {
            Ok(_) if !segment_errors.is_empty() => outcome[i] = Some(Err(SubmitError::Invalid(segment_errors))),
            Ok(s) => {
                if claimed.insert((cycle_id, person_id)) {
                    parsed[i] = Some(s);
                } else {
                    outcome[i] = Some(Err(SubmitError::AlreadyAnswered));
                }
            }
            Err(e) => outcome[i] = Some(Err(SubmitError::Invalid(e))),
        }
    }

    // Mark them as having answered, per cycle, in one statement each.
    let mut cycles: Vec<(i64, i64)> = Vec::new();
    for (i, p) in parsed.iter().enumerate() {
        if p.is_some() {
            let (org, cycle, _) = who[i].expect("parsed implies resolved");
            if !cycles.contains(&(org, cycle)) {
                cycles.push((org, cycle));
            }
        }
    }
    let mut snapshot: HashMap<(i64, i64), (Option<i64>, Option<String>)> = HashMap::new();
    for (org, cycle) in &cycles {
        let persons: Vec<i64> = parsed
            .iter()
            .enumerate()
            .filter(|(i, p)| p.is_some() && who[*i].is_some_and(|w| w.1 == *cycle))
            .map(|(i, _)| who[i].expect("resolved").2)
            .collect();
        let list = (3..3 + persons.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let update = format!(
            "UPDATE participation SET answered = 1
             WHERE org_id = $1 AND cycle_id = $2 AND answered = 0 AND person_id IN ({list})
             RETURNING person_id"
        );
        let mut q = sqlx::query_as::<_, (i64,)>(&update).bind(org).bind(cycle);
        for p in &persons {
            q = q.bind(p);
        }
        let marked: HashSet<i64> = q.fetch_all(&mut *tx).await?.into_iter().map(|(p,)| p).collect();
        let select = format!(
            "SELECT person_id, team_id, tenure_band FROM cycle_roster WHERE org_id = $1 AND cycle_id = $2 AND person_id IN ({list})"
        );
        let mut q = sqlx::query(&select).bind(org).bind(cycle);
        for p in &persons {
            q = q.bind(p);
        }
        let mut on_roster = HashSet::new();
        for r in q.fetch_all(&mut *tx).await? {
            let person: i64 = r.try_get("person_id")?;
            on_roster.insert(person);
            snapshot.insert((*cycle, person), (r.try_get("team_id")?, r.try_get("tenure_band")?));
        }
        for (i, p) in parsed.iter_mut().enumerate() {
            let Some((_, c, person)) = who[i] else { continue };
            if p.is_some() && c == *cycle && !marked.contains(&person) {
                *p = None;
                outcome[i] = Some(Err(if on_roster.contains(&person) {
                    SubmitError::AlreadyAnswered
                } else {
                    SubmitError::NotInvited
                }));
            }
        }
    }

    // Store what was answered, sealed under each cycle's key, in random
    // order, with random ids: every answer of a cycle seals to one length.
    let mut by_cycle: HashMap<(i64, i64), Vec<StoredResponse>> = HashMap::new();
    for (i, p) in parsed.iter().enumerate() {
        let Some(s) = p else { continue };
        let (org, cycle, person) = who[i].expect("resolved");
        let (team, band) = snapshot.get(&(cycle, person)).cloned().unwrap_or((None, None));
        by_cycle.entry((org, cycle)).or_default().push(StoredResponse {
            team_id: team,
            tenure_band: band,
            comment: s.comment.clone(),
            answers: s.answers.iter().map(|(q, v)| (*q, *v)).collect(),
            segments: std::mem::take(&mut segment_values[i]),
        });
    }
    for ((org, cycle), answers) in &by_cycle {
        let len = sealed::padding(
            &questions_cache[&(*org, *cycle)],
            segment_questions[org].iter().map(|(_, options)| options),
        );
        sealed::insert(&mut tx, &keys[&(*org, *cycle)], answers, len).await?;
    }
    tx.commit().await?;
    Ok(outcome.into_iter().map(|o| o.unwrap_or(Ok(()))).collect())
}
