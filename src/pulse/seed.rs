//! Cycles written directly, answers and all, past launch and the answer
//! writer: the demo's year of history and the benchmarks' cycles. What
//! they write is what launch and the writer write (the same store calls):
//! the cycle and its questions, its data key, and answers sealed to the
//! cycle's padded length. Rosters are the caller's (the demo's come month
//! by month, the benchmarks' in bulk). The store stays private to pulse.

use sqlx::AnyConnection;

use super::model::Question;
use super::sealed::{self, CycleKey};
use super::store::{self, Cycle, StoredResponse};
use crate::privacy::seal::MasterKey;

/// A cycle written by [`cycle`], ready for its answers.
pub struct Seeded {
    /// The questions asked, in the cycle's order.
    pub questions: Vec<Question>,
    key: CycleKey,
    padding: usize,
}

/// Writes the cycle (its id, pulse, number, dates and k), the questions it
/// asks and its data key, in the caller's transaction.
pub async fn cycle(
    conn: &mut AnyConnection,
    master: &MasterKey,
    cycle: &Cycle,
    asked: &[i64],
) -> Result<Seeded, sqlx::Error> {
    store::insert_cycle(&mut *conn, cycle).await?;
    store::insert_cycle_questions(&mut *conn, cycle.org_id, cycle.id, asked).await?;
    let key = sealed::create_key(&mut *conn, master, cycle.org_id, cycle.id).await?;
    let padding = sealed::cycle_padding(&mut *conn, cycle.org_id, cycle.id).await?;
    let questions = store::cycle_questions(conn, cycle.org_id, cycle.id).await?;
    Ok(Seeded {
        questions,
        key,
        padding,
    })
}

impl Seeded {
    /// Seals these answers and stores them, in random order.
    pub async fn answers(&self, conn: &mut AnyConnection, answers: &[StoredResponse]) -> Result<(), sqlx::Error> {
        sealed::insert(conn, &self.key, answers, self.padding).await
    }
}
