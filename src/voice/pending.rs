//! Feedback sealed until the digest delivers it (PRIVACY.md rule 22).
//!
//! A new thread and a sender's follow-up are each stored as one row sealed
//! under the master key, padded to one length, with nothing in clear but
//! the organization: a copy of the database taken before the digest shows
//! that something was sent, not what, to whom, or on which thread. The
//! digest opens an organization's rows, writes threads and messages in
//! random order, and deletes the rows.

use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;

use super::model::{MAX_BODY, MAX_TOPIC};
use crate::privacy::seal::MasterKey;

const PURPOSE: &[u8] = b"belong feedback pending v1";
/// Every sealed row's plain length: room for the longest body and topic
/// with every character escaped in JSON (6 bytes), and the rest.
const LEN: usize = 6 * (MAX_BODY + MAX_TOPIC) + 2048;

/// What a sender wrote, waiting for the digest.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Pending {
    Thread {
        team_id: Option<i64>,
        pillar: Option<String>,
        topic: Option<String>,
        code_hash: String,
        body: String,
        /// The day it was written, shown to the sender only while it waits.
        day: String,
    },
    FollowUp {
        code_hash: String,
        /// Set only when the sender chose to sign.
        author_id: Option<i64>,
        body: String,
        day: String,
    },
}

impl Pending {
    pub fn code_hash(&self) -> &str {
        match self {
            Pending::Thread { code_hash, .. } | Pending::FollowUp { code_hash, .. } => code_hash,
        }
    }
}

fn seal(master: &MasterKey, p: &Pending) -> Vec<u8> {
    let json = serde_json::to_vec(p).expect("a pending message serializes");
    let mut plain = Vec::with_capacity(LEN.max(json.len() + 4));
    plain.extend_from_slice(&(json.len() as u32).to_le_bytes());
    plain.extend_from_slice(&json);
    plain.resize(LEN.max(plain.len()), 0);
    master.seal(PURPOSE, &plain)
}

fn open(master: &MasterKey, sealed: &[u8]) -> Option<Pending> {
    let plain = master.open(PURPOSE, sealed)?;
    let n = u32::from_le_bytes(plain.get(..4)?.try_into().ok()?) as usize;
    serde_json::from_slice(plain.get(4..4 + n)?).ok()
}

pub async fn insert(conn: &mut AnyConnection, master: &MasterKey, org_id: i64, p: &Pending) -> Result<(), sqlx::Error> {
    super::store::insert_pending(conn, org_id, &seal(master, p)).await
}

/// Every waiting row (of one organization, or of all), opened: (row id,
/// organization, what was written). A row the key cannot open is skipped
/// and logged: it was sealed under another key.
pub async fn all(
    conn: &mut AnyConnection,
    master: &MasterKey,
    org_id: Option<i64>,
) -> Result<Vec<(i64, i64, Pending)>, sqlx::Error> {
    let mut out = Vec::new();
    for (id, org, sealed) in super::store::pending_rows(conn, org_id).await? {
        match open(master, &sealed) {
            Some(p) => out.push((id, org, p)),
            None => tracing::error!(row = id, "a waiting feedback message cannot be opened with this key"),
        }
    }
    Ok(out)
}

/// What waits for the thread this code opens, oldest first: (row id,
/// organization, what was written).
pub async fn for_code(
    conn: &mut AnyConnection,
    master: &MasterKey,
    code_hash: &str,
) -> Result<Vec<(i64, i64, Pending)>, sqlx::Error> {
    let mut mine: Vec<(i64, i64, Pending)> = all(conn, master, None)
        .await?
        .into_iter()
        .filter(|(_, _, p)| p.code_hash() == code_hash)
        .collect();
    mine.sort_by_key(|(id, _, _)| *id);
    Ok(mine)
}

pub async fn delete(conn: &mut AnyConnection, ids: &[i64]) -> Result<(), sqlx::Error> {
    super::store::delete_pending(conn, ids).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_waiting_message_seals_to_one_length_and_opens_again() {
        let key = MasterKey::generate();
        let short = Pending::FollowUp {
            code_hash: "h".into(),
            author_id: None,
            body: "ok".into(),
            day: "2026-12-01".into(),
        };
        let long = Pending::Thread {
            team_id: Some(7),
            pillar: Some("value".into()),
            topic: Some("\u{1}".repeat(MAX_TOPIC)),
            code_hash: "h".repeat(64),
            body: "\u{1}".repeat(MAX_BODY),
            day: "2026-12-01".into(),
        };
        let (a, b) = (seal(&key, &short), seal(&key, &long));
        assert_eq!(a.len(), b.len());
        assert_eq!(open(&key, &a), Some(short));
        assert_eq!(open(&key, &b), Some(long));
        assert_eq!(open(&MasterKey::generate(), &a), None);
    }
}
