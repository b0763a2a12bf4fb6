//! Group commit for answers: one writer takes the answers that arrive
//! together (up to 64), already checked at the edge (`service::submit_sent`),
//! claims each person's participation, seals the answers and stores them in
//! one transaction, and replies to each only after the commit. One fsync then covers many answers, and a batch
//! is written in random order, so even the order of inserts says nothing
//! about who answered when (PRIVACY.md rule 2).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection};
use tokio::sync::{mpsc, oneshot};

use super::links::{BATCH, gather};
use super::model::SubmitError;
use super::model::{Question, Submission};
use super::sealed::{self, CycleKey};
use super::segments::SegmentQuestion;
use super::store::{self, StoredResponse};
use crate::clock::Clock;
use crate::config::Backend;
use crate::db::Db;
use crate::privacy::seal::MasterKey;

/// Answers stored between two WAL checkpoints. Fewer, larger checkpoints
/// write a page dirtied by many answers once: every 500 answers held the
/// p99 latency at 5,000 answers/s near 19 ms, every 5,000 near 9 ms (4 s
/// runs, `belong bench submit`).
const CHECKPOINT_EVERY: usize = 5000;
/// An answer checked at the edge, ready to claim: who answers which cycle
/// (resolved once, at the edge), what they answered, and the length the
/// cycle's answers seal to.
#[derive(Clone, Debug)]
pub struct Claim {
    pub org_id: i64,
    pub cycle_id: i64,
    pub person_id: i64,
    pub answer: Submission,
    pub padding: usize,
}

struct Queued {
    claim: Claim,
    reply: oneshot::Sender<Result<(), SubmitError>>,
}

enum Message {
    Submit(Queued),
    /// Let go of the writer's connection and stop; answered once it is
    /// closed.
    Stop(oneshot::Sender<()>),
}

/// A cycle's questions, frozen at launch.
pub type Frozen = Arc<Vec<Question>>;
/// An organization's active segment questions.
pub type Segments = Arc<Vec<SegmentQuestion>>;

/// The handle requests use; the writer task runs as long as it exists.
pub struct Writer {
    tx: mpsc::Sender<Message>,
    links: super::links::Links,
    /// Each cycle's questions, frozen at launch, keyed by organization and
    /// cycle: a cycle id is only ever looked up within the organization
    /// that asks.
    questions: Mutex<HashMap<(i64, i64), Frozen>>,
    /// Each organization's active segment questions, and when they were
    /// read: changed here, they are read again at once (`forget_segments`);
    /// changed by another server on the same database, within seconds.
    segments: Mutex<HashMap<i64, (i64, Segments)>>,
}

fn locked<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Cycles (or organizations) whose questions are kept at once; past it
/// the cache starts over.
const KEPT: usize = 1024;
/// Seconds segment questions are kept before they are read again.
const SEGMENTS_FOR: i64 = 10;

/// The app's part that holds its one writer, started on first use so that
/// it runs on the caller's runtime with the app's clock.
#[derive(Clone, Default)]
pub struct Slot(Arc<std::sync::OnceLock<Writer>>);

/// The app's writer of answers.
pub fn of(app: &crate::app::App) -> &Writer {
    app.part::<Slot>()
        .0
        .get_or_init(|| Writer::start(app.db.clone(), app.clock.clone(), app.master_key.clone()))
}

/// The app's writer if it was started (a server stopping finishes it).
pub fn started(app: &crate::app::App) -> Option<&Writer> {
    app.part::<Slot>().0.get()
}

impl Writer {
    pub fn start(db: Db, clock: Arc<dyn Clock>, master: MasterKey) -> Writer {
        let (tx, rx) = mpsc::channel(8192);
        let links = super::links::Links::start(db.clone());
        tokio::spawn(run(db, clock, master, rx));
        Writer {
            tx,
            links,
            questions: Mutex::new(HashMap::new()),
            segments: Mutex::new(HashMap::new()),
        }
    }

    /// The questions of a cycle of the organization (empty for a cycle it
    /// does not have), read once and then kept: they never change.
    pub async fn questions(&self, db: &Db, org_id: i64, cycle_id: i64) -> Result<Frozen, sqlx::Error> {
        if let Some(qs) = locked(&self.questions).get(&(org_id, cycle_id)) {
            return Ok(qs.clone());
        }
        let qs = Arc::new(super::store::cycle_questions(&mut *db.acquire().await?, org_id, cycle_id).await?);
        if !qs.is_empty() {
            let mut kept = locked(&self.questions);
            if kept.len() >= KEPT {
                kept.clear();
            }
            kept.insert((org_id, cycle_id), qs.clone());
        }
        Ok(qs)
    }

    /// The organization's active segment questions, as of at most
    /// [`SEGMENTS_FOR`] seconds ago.
    pub async fn segments(&self, db: &Db, org_id: i64, now: i64) -> Result<Segments, sqlx::Error> {
        if let Some((read, qs)) = locked(&self.segments).get(&org_id)
            && (*read..*read + SEGMENTS_FOR).contains(&now)
        {
            return Ok(qs.clone());
        }
        let qs = Arc::new(super::segments::list(&mut *db.acquire().await?, org_id, true).await?);
        let mut kept = locked(&self.segments);
        if kept.len() >= KEPT {
            kept.clear();
        }
        kept.insert(org_id, (now, qs.clone()));
        Ok(qs)
    }

    /// Whom a personal link is for, by its token's hash: (cycle,
    /// organization, person).
    pub async fn link(&self, token_hash: String) -> Result<Option<super::links::LinkFor>, sqlx::Error> {
        self.links.resolve(token_hash).await
    }

    /// Segment questions of the organization changed: read them again.
    pub fn forget_segments(&self, org_id: i64) {
        locked(&self.segments).remove(&org_id);
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

    /// Claims and stores one checked answer; returns once it is committed.
    pub async fn submit(&self, claim: Claim) -> Result<(), SubmitError> {
        let stopped = || SubmitError::Other(crate::error::AppError::internal("the answer writer stopped"));
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Message::Submit(Queued { claim, reply }))
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn run(db: Db, clock: Arc<dyn Clock>, master: MasterKey, mut rx: mpsc::Receiver<Message>) {
    // The writer keeps one connection to itself, so its page cache stays
    // warm with the pages answers go to. After an error it takes a new one.
    let mut held: Option<PoolConnection<Any>> = None;
    let mut rosters = Rosters::default();
    let mut since_checkpoint = 0usize;
    let checkpointing = Arc::new(AtomicBool::new(false));
    let mut restart_due = false;
    let mut batch: Vec<Queued> = Vec::with_capacity(BATCH);
    let mut stopping: Option<oneshot::Sender<()>> = None;
    while let Some(first) = rx.recv().await {
        match first {
            Message::Submit(s) => batch.push(s),
            Message::Stop(done) => {
                stopping = Some(done);
                break;
            }
        }
        for m in gather(&mut rx, BATCH - batch.len()).await {
            match m {
                Message::Submit(s) => batch.push(s),
                Message::Stop(done) => stopping = Some(done),
            }
        }
        let items: Vec<&Claim> = batch.iter().map(|q| &q.claim).collect();
        let outcomes = match store_held(&db, &master, &mut held, &mut rosters, clock.now().as_second(), &items).await {
            Ok(o) => o,
            // A database error fails the whole transaction: try each alone,
            // so one bad apple does not spoil the batch.
            Err(_) if items.len() > 1 => {
                let mut each = Vec::with_capacity(items.len());
                for item in &items {
                    let one =
                        store_held(&db, &master, &mut held, &mut rosters, clock.now().as_second(), &[*item]).await;
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
        if db.backend == Backend::Sqlite {
            if since_checkpoint >= CHECKPOINT_EVERY && !checkpointing.swap(true, Ordering::AcqRel) {
                since_checkpoint = 0;
                restart_due = true;
                tokio::spawn(checkpoint(db.clone(), checkpointing.clone()));
            } else if restart_due && !checkpointing.load(Ordering::Acquire) {
                restart_due = false;
                restart(&mut held).await;
            }
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

/// Each open cycle's roster as the writer has read it: (team, tenure band)
/// by person. Frozen at launch, it is read once per cycle, not a row per
/// answer.
type Roster = HashMap<i64, (Option<i64>, Option<String>)>;

#[derive(Default)]
struct Rosters {
    held: HashMap<(i64, i64), Arc<Roster>>,
}

/// Rosters held at once; past it the writer starts over.
const ROSTERS_KEPT: usize = 16;

impl Rosters {
    async fn get(&mut self, conn: &mut AnyConnection, org_id: i64, cycle_id: i64) -> Result<Arc<Roster>, sqlx::Error> {
        if let Some(r) = self.held.get(&(org_id, cycle_id)) {
            return Ok(r.clone());
        }
        let roster: Roster = store::roster_snapshot(conn, org_id, cycle_id)
            .await?
            .into_iter()
            .map(|(person, team, band)| (person, (team, band)))
            .collect();
        if self.held.len() >= ROSTERS_KEPT {
            self.held.clear();
        }
        let roster = Arc::new(roster);
        self.held.insert((org_id, cycle_id), roster.clone());
        Ok(roster)
    }

    fn held(&self, org_id: i64, cycle_id: i64) -> Option<&Roster> {
        self.held.get(&(org_id, cycle_id)).map(|r| r.as_ref())
    }

    fn forget(&mut self, org_id: i64, cycle_id: i64) {
        self.held.remove(&(org_id, cycle_id));
    }
}

/// Copies the WAL back into the database file on another connection,
/// while the writer goes on appending to it (SQLite's passive checkpoint).
/// Done inside a commit, as SQLite does by default, it held up every answer
/// waiting behind that commit for tens of milliseconds.
async fn checkpoint(db: Db, running: Arc<AtomicBool>) {
    let done = async {
        let mut conn = db.acquire().await?;
        // Again while answers keep coming faster than a pass copies them,
        // so that what is left for the writer's own pass is small.
        let mut before = 0;
        for _ in 0..CATCH_UP_PASSES {
            let log = passive_pass(&mut conn).await?;
            if log - before <= TAIL_FRAMES {
                break;
            }
            before = log;
        }
        Ok::<_, sqlx::Error>(())
    };
    if let Err(e) = done.await {
        tracing::warn!(error = %e, "WAL checkpoint failed");
    }
    running.store(false, Ordering::Release);
}

use crate::db::passive_checkpoint as passive_pass;

/// Passes a background checkpoint makes at most, and the WAL frames
/// appended during its last pass that it may leave to the writer's own
/// ([`restart`]): a pass of 1,000 frames held the writer 30–100 ms, one of
/// 200 about 10 ms.
const CATCH_UP_PASSES: usize = 8;
const TAIL_FRAMES: i64 = 256;

/// Copies, on the writer's connection between two batches, what the WAL
/// gained while [`checkpoint`] ran (little), so that the whole WAL is in
/// the database file and the next commit writes the WAL from its start
/// again, over pages the kernel already holds. Otherwise, under steady
/// answers, the background checkpoint never catches up with the end of the
/// WAL, which grows for good (450 MB in a 6 s run), every frame going to
/// new pages the kernel first zeroes: a fifth of the server's time. With
/// it the WAL stays under 70 MB and `belong bench submit` gave 6,400
/// answers/s instead of 5,500 (three runs each, side by side).
async fn restart(held: &mut Option<PoolConnection<Any>>) {
    let Some(conn) = held.as_mut() else { return };
    if let Err(e) = passive_pass(conn).await {
        tracing::warn!(error = %e, "WAL restart failed");
        *held = None;
    }
}

/// [`store_batch`] on the writer's own connection, taken from the pool
/// when it has none; a connection that failed is let go.
async fn store_held(
    db: &Db,
    master: &MasterKey,
    held: &mut Option<PoolConnection<Any>>,
    rosters: &mut Rosters,
    now: i64,
    items: &[&Claim],
) -> Result<Vec<Result<(), SubmitError>>, sqlx::Error> {
    let conn = match held {
        Some(c) => c,
        // The writer's task holds this one connection for good.
        None => held.insert(db.held_writer().await?),
    };
    let outcome = store_batch(db, master, conn, rosters, now, items).await;
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
    rosters: &mut Rosters,
    now: i64,
    items: &[&Claim],
) -> Result<Vec<Result<(), SubmitError>>, sqlx::Error> {
    let mut tx = db.begin_on(conn).await?;
    let keys = open_keys(&mut tx, db.backend, master, rosters, now, items).await?;
    let mut outcome = first_claims(&keys, items);
    for (org, cycle) in cycles_going(&outcome, items) {
        let roster = rosters.get(&mut tx, org, cycle).await?;
        mark(&mut tx, &roster, org, cycle, items, &mut outcome).await?;
    }
    seal_and_store(&mut tx, &keys, rosters, items, &outcome).await?;
    tx.commit().await?;
    Ok(outcome.into_iter().map(|o| o.unwrap_or(Ok(()))).collect())
}

/// An item's outcome: None while it goes on, else why it stopped.
type Outcome = Option<Result<(), SubmitError>>;

/// A cycle's key, or why it takes no answers: Err(true) no such cycle,
/// Err(false) closed.
type KeyOf = HashMap<(i64, i64), Result<CycleKey, bool>>;

/// The cycles concerned, each within its organization: still open, and
/// their keys. On PostgreSQL each cycle's row is share-locked (see
/// `store::window_locked`).
async fn open_keys(
    tx: &mut AnyConnection,
    backend: Backend,
    master: &MasterKey,
    rosters: &mut Rosters,
    now: i64,
    items: &[&Claim],
) -> Result<KeyOf, sqlx::Error> {
    let mut keys = KeyOf::new();
    for c in items {
        let at = (c.org_id, c.cycle_id);
        if keys.contains_key(&at) {
            continue;
        }
        let state = match store::window_locked(&mut *tx, backend, c.org_id, c.cycle_id).await? {
            None => Err(true),
            Some((opens, closes, None)) if opens <= now && now < closes => {
                // An open cycle without its key cannot take answers (it was
                // opened by a server with another master key, or is being
                // closed).
                match sealed::key(&mut *tx, master, c.org_id, c.cycle_id).await {
                    Ok(Some(k)) => Ok(k),
                    Ok(None) => Err(false),
                    Err(sealed::OpenError::Sql(e)) => return Err(e),
                    Err(e) => {
                        tracing::error!(cycle = c.cycle_id, error = %e, "cannot seal answers");
                        Err(false)
                    }
                }
            }
            Some(_) => Err(false),
        };
        if state.is_err() {
            rosters.forget(c.org_id, c.cycle_id);
        }
        keys.insert(at, state);
    }
    Ok(keys)
}

/// The first of a person's answers in the batch goes on; any other is
/// "already answered", and an answer to a cycle without a key stops.
fn first_claims(keys: &KeyOf, items: &[&Claim]) -> Vec<Outcome> {
    let mut claimed: HashSet<(i64, i64)> = HashSet::new();
    items
        .iter()
        .map(|c| match &keys[&(c.org_id, c.cycle_id)] {
            Err(true) => Some(Err(SubmitError::NotFound)),
            Err(false) => Some(Err(SubmitError::Closed)),
            Ok(_) if !claimed.insert((c.cycle_id, c.person_id)) => Some(Err(SubmitError::AlreadyAnswered)),
            Ok(_) => None,
        })
        .collect()
}

/// The cycles that items still going answer, in order of first item.
fn cycles_going(outcome: &[Outcome], items: &[&Claim]) -> Vec<(i64, i64)> {
    let mut cycles = Vec::new();
    for (o, c) in outcome.iter().zip(items) {
        if o.is_none() && !cycles.contains(&(c.org_id, c.cycle_id)) {
            cycles.push((c.org_id, c.cycle_id));
        }
    }
    cycles
}

/// Marks those still going in one cycle as having answered: one look for
/// those who already have (almost always none, so no rows come back), then
/// one update for the rest, whose count must match. Someone not on the
/// roster was not invited.
async fn mark(
    tx: &mut AnyConnection,
    roster: &Roster,
    org: i64,
    cycle: i64,
    items: &[&Claim],
    outcome: &mut [Outcome],
) -> Result<(), sqlx::Error> {
    let here = |o: &Outcome, c: &Claim| o.is_none() && c.org_id == org && c.cycle_id == cycle;
    for (o, c) in outcome.iter_mut().zip(items) {
        if here(o, c) && !roster.contains_key(&c.person_id) {
            *o = Some(Err(SubmitError::NotInvited));
        }
    }
    let persons: Vec<i64> = outcome
        .iter()
        .zip(items)
        .filter(|(o, c)| here(o, c))
        .map(|(_, c)| c.person_id)
        .collect();
    if persons.is_empty() {
        return Ok(());
    }
    let answered = store::already_answered(&mut *tx, org, cycle, &persons).await?;
    for (o, c) in outcome.iter_mut().zip(items) {
        if here(o, c) && answered.contains(&c.person_id) {
            *o = Some(Err(SubmitError::AlreadyAnswered));
        }
    }
    let persons: Vec<i64> = persons.into_iter().filter(|p| !answered.contains(p)).collect();
    if persons.is_empty() {
        return Ok(());
    }
    let marked = store::mark_answered(tx, org, cycle, &persons).await?;
    if marked != persons.len() as u64 {
        if items.len() > 1 {
            // Someone's participation row is missing or changed since the
            // look: store each alone, which tells them apart.
            return Err(sqlx::Error::Protocol("participation changed during the batch".into()));
        }
        outcome[0] = Some(Err(SubmitError::NotInvited));
    }
    Ok(())
}

/// Stores what was answered, sealed under each cycle's key, in random
/// order: every answer of a cycle seals to one length. Each one's group
/// snapshot comes from the cycle's roster, read once per cycle.
async fn seal_and_store(
    tx: &mut AnyConnection,
    keys: &KeyOf,
    rosters: &Rosters,
    items: &[&Claim],
    outcome: &[Outcome],
) -> Result<(), sqlx::Error> {
    let mut by_cycle: HashMap<(i64, i64), (Vec<StoredResponse>, usize)> = HashMap::new();
    for (o, c) in outcome.iter().zip(items) {
        if o.is_some() {
            continue;
        }
        let (team, band) = rosters
            .held(c.org_id, c.cycle_id)
            .and_then(|r| r.get(&c.person_id).cloned())
            .unwrap_or((None, None));
        let (answers, padding) = by_cycle.entry((c.org_id, c.cycle_id)).or_default();
        *padding = (*padding).max(c.padding);
        answers.push(StoredResponse {
            team_id: team,
            tenure_band: band,
            comment: c.answer.comment.clone(),
            answers: c.answer.answers.iter().map(|(q, v)| (*q, *v)).collect(),
            segments: c.answer.segments.clone(),
        });
    }
    for (at, (answers, padding)) in &by_cycle {
        let Some(Ok(key)) = keys.get(at) else { continue };
        sealed::insert(&mut *tx, key, answers, *padding).await?;
    }
    Ok(())
}
