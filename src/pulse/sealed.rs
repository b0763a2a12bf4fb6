//! Answers of open cycles, sealed (PRIVACY.md rule 1).
//!
//! Each cycle gets a data key when it opens, stored only wrapped by the
//! master key. Every answer is sealed under it, padded to one length per
//! cycle, so neither its bytes nor its size say what was answered (a long
//! comment seals to as many bytes as no comment). At close the answers are
//! opened once and the sealed rows and the key are deleted: copies of them
//! left in old WAL frames, free pages or earlier backups can then no
//! longer be opened, even with the master key.

use std::collections::HashMap;

use rand::seq::SliceRandom;
use sqlx::AnyConnection;

use super::model::{MAX_COMMENT, Pillar, Question};
use super::store::{self, StoredResponse};
use crate::privacy::seal::{DataKey, MasterKey};

/// Version 2 stores a comment 3 bytes a character; 1 stored it in UTF-8.
const VERSION: u8 = 2;

fn key_purpose(org_id: i64, cycle_id: i64) -> Vec<u8> {
    format!("pulse cycle {org_id}/{cycle_id}").into_bytes()
}

fn answer_purpose(org_id: i64, cycle_id: i64) -> Vec<u8> {
    format!("pulse answer {org_id}/{cycle_id}").into_bytes()
}

/// The key of an open cycle, in memory.
#[derive(Clone)]
pub struct CycleKey {
    org_id: i64,
    cycle_id: i64,
    key: DataKey,
}

impl CycleKey {
    /// Seals one answer, padded to `len` plain bytes.
    pub fn seal(&self, answer: &StoredResponse, len: usize) -> Vec<u8> {
        let plain = encode(answer, len);
        self.key.seal(&answer_purpose(self.org_id, self.cycle_id), &plain)
    }

    pub fn open(&self, sealed: &[u8]) -> Option<StoredResponse> {
        let plain = self.key.open(&answer_purpose(self.org_id, self.cycle_id), sealed)?;
        decode(&plain)
    }
}

/// Makes the data key of a cycle that opens now, in the caller's
/// transaction.
pub async fn create_key(
    conn: &mut AnyConnection,
    master: &MasterKey,
    org_id: i64,
    cycle_id: i64,
) -> Result<CycleKey, sqlx::Error> {
    let (key, wrapped) = master.new_data_key(&key_purpose(org_id, cycle_id));
    store::insert_cycle_key(conn, org_id, cycle_id, &wrapped).await?;
    Ok(CycleKey { org_id, cycle_id, key })
}

/// Unwraps a cycle's key as stored; None when the master key does not open
/// it (another key file).
pub fn unwrap(master: &MasterKey, org_id: i64, cycle_id: i64, wrapped: &[u8]) -> Option<CycleKey> {
    let key = master.unwrap_data_key(&key_purpose(org_id, cycle_id), wrapped)?;
    Some(CycleKey { org_id, cycle_id, key })
}

/// Why the sealed answers of a cycle cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("the cycle's answers are sealed with another master key than the one given")]
    WrongKey,
    #[error("a sealed answer of the cycle does not open: it was altered or is damaged")]
    Damaged,
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
}

/// The cycle's key, or None when it has none (closed, or never opened).
pub async fn key(
    conn: &mut AnyConnection,
    master: &MasterKey,
    org_id: i64,
    cycle_id: i64,
) -> Result<Option<CycleKey>, OpenError> {
    match store::wrapped_key(conn, org_id, cycle_id).await? {
        None => Ok(None),
        Some(wrapped) => unwrap(master, org_id, cycle_id, &wrapped)
            .map(Some)
            .ok_or(OpenError::WrongKey),
    }
}

/// Every sealed answer of a cycle, opened.
pub async fn open_all(conn: &mut AnyConnection, key: &CycleKey) -> Result<Vec<StoredResponse>, OpenError> {
    store::sealed(conn, key.org_id, key.cycle_id)
        .await?
        .iter()
        .map(|sealed| key.open(sealed).ok_or(OpenError::Damaged))
        .collect()
}

/// Deletes a cycle's sealed answers and its key.
pub async fn destroy(conn: &mut AnyConnection, org_id: i64, cycle_id: i64) -> Result<(), sqlx::Error> {
    store::delete_sealed(conn, org_id, cycle_id).await
}

/// Gives an open cycle a new key under a new master key, discarding the
/// answers sealed under the old one (lost with it): everyone may answer
/// again (`belong key reset`).
pub async fn rekey(
    conn: &mut AnyConnection,
    master: &MasterKey,
    org_id: i64,
    cycle_id: i64,
) -> Result<(), sqlx::Error> {
    destroy(&mut *conn, org_id, cycle_id).await?;
    store::reset_answered(&mut *conn, org_id, cycle_id).await?;
    create_key(conn, master, org_id, cycle_id).await?;
    Ok(())
}

/// Open cycles whose answers need the master key: (organization, cycle,
/// sealed answers).
pub async fn dependents(conn: &mut AnyConnection) -> Result<Vec<(i64, i64, i64)>, sqlx::Error> {
    store::keyed_cycles(conn).await
}

/// The padded length of a cycle's answers, read from its questions and the
/// organization's active segment questions (as the writer computes it).
pub async fn cycle_padding(conn: &mut AnyConnection, org_id: i64, cycle_id: i64) -> Result<usize, sqlx::Error> {
    let qs = store::cycle_questions(&mut *conn, org_id, cycle_id).await?;
    let active = store::segment_questions(conn, org_id, true).await?;
    Ok(padding(&qs, active.iter().map(|q| &q.options)))
}

/// The padded length of answers to `questions`, given the options of the
/// organization's active segment questions.
pub fn padding<'a>(questions: &[Question], segment_options: impl IntoIterator<Item = &'a Vec<String>>) -> usize {
    padded_len(
        questions.iter().filter(|q| q.pillar.scale().is_some()).count(),
        questions.iter().any(|q| q.pillar == Pillar::Comment),
        segment_options,
    )
}

/// Seals answers of an open cycle and stores them, in random order within
/// the batch. Rows are appended (the next id), not placed at random: the
/// order of writes shows in WAL frames and transaction ids whatever the
/// id, which is why the rows are sealed, and an appended answer fills its
/// pages instead of dirtying a random one more (`belong bench submit`:
/// 5,600 → 6,600 answers/s).
pub async fn insert(
    conn: &mut AnyConnection,
    key: &CycleKey,
    answers: &[StoredResponse],
    len: usize,
) -> Result<(), sqlx::Error> {
    let mut order: Vec<&StoredResponse> = answers.iter().collect();
    order.shuffle(&mut rand::thread_rng());
    let rows: Vec<Vec<u8>> = order.into_iter().map(|a| key.seal(a, len)).collect();
    store::insert_sealed(conn, key.org_id, key.cycle_id, &rows).await
}

/// Moves answers stored before sealing existed (the `legacy_responses`
/// table of migration 0011): those of open cycles are sealed under a new
/// key of their cycle, those of closed cycles kept as a close keeps
/// them (what the cycle's plan released) (comments dropped: they live in the released results). Then
/// drops the table. Runs at start, once the master key is known.
pub async fn upgrade(db: &crate::db::Db, master: &MasterKey) -> Result<(), sqlx::Error> {
    // Looked at outside a transaction: at almost every start there is none.
    if !store::legacy_exists(&mut *db.acquire().await?, db.backend).await? {
        return Ok(());
    }
    let mut tx = db.begin().await?;
    let mut by_cycle: std::collections::BTreeMap<(i64, i64), Vec<StoredResponse>> = Default::default();
    for (at, r) in store::legacy_responses(&mut tx).await? {
        by_cycle.entry(at).or_default().push(r);
    }
    // Every open cycle gets its key, answered or not.
    for (org_id, cycle_id) in store::open_cycles_without_key(&mut tx).await? {
        let key = create_key(&mut tx, master, org_id, cycle_id).await?;
        if let Some(answers) = by_cycle.remove(&(org_id, cycle_id)) {
            let len = cycle_padding(&mut tx, org_id, cycle_id).await?;
            insert(&mut tx, &key, &answers, len).await?;
        }
    }
    // Each organization's team tree, read once: team → parent.
    let mut parents: HashMap<i64, HashMap<i64, Option<i64>>> = HashMap::new();
    for ((org_id, cycle_id), answers) in by_cycle {
        let Some(keeping) = store::keeping(&mut tx, org_id, cycle_id).await? else {
            continue;
        };
        if !keeping.keep_responses {
            continue;
        }
        if let std::collections::hash_map::Entry::Vacant(e) = parents.entry(org_id) {
            let tree = crate::org::service::team_tree(&mut tx, org_id).await?;
            e.insert(tree.teams.iter().map(|t| (t.id, t.parent_id)).collect());
        }
        let tree = &parents[&org_id];
        // A stored plan that does not read is corrupt data: an error.
        let plan: crate::privacy::plan::Plan = match keeping.plan.as_deref() {
            None => Default::default(),
            Some(p) => serde_json::from_str(p).map_err(|e| sqlx::Error::Decode(e.into()))?,
        };
        let questions = store::cycle_questions(&mut tx, org_id, cycle_id).await?;
        let k = keeping.k.max(1) as usize;
        let kept = super::keep::as_released(&answers, &plan, &questions, |t| tree.get(&t).copied().flatten(), k);
        store::insert_kept(&mut tx, org_id, cycle_id, &kept).await?;
    }
    store::drop_legacy(&mut tx).await?;
    tx.commit().await?;
    db.checkpoint().await?;
    tracing::info!("stored answers moved to sealed and coarsened storage");
    Ok(())
}

/// The plain length every answer of a cycle is padded to: enough for
/// every question answered, every segment question given its longest
/// option, and the longest comment in the widest characters, rounded up.
fn padded_len<'a>(
    scored_questions: usize,
    has_comment: bool,
    segment_options: impl IntoIterator<Item = &'a Vec<String>>,
) -> usize {
    let segments: usize = segment_options
        .into_iter()
        .map(|options| 10 + options.iter().map(String::len).max().unwrap_or(0))
        .sum();
    let comment = if has_comment { 4 + 3 * MAX_COMMENT } else { 0 };
    let need = 2 + 9 + 256 + 2 + 9 * scored_questions + 2 + segments + comment;
    need.div_ceil(512) * 512
}

/// version, flags (team, band, comment), [team i64], [band u8 len + bytes],
/// answers (u16 count, i64 question + u8 value each), segments (u16 count,
/// i64 question + u16 len + bytes each), [comment: u32 count of characters,
/// then each character in 3 bytes], zeros. Three bytes hold any character,
/// so the padding needs room for 3 bytes a character, not UTF-8's 4.
fn encode(r: &StoredResponse, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    out.push(VERSION);
    let flags =
        u8::from(r.team_id.is_some()) | u8::from(r.tenure_band.is_some()) << 1 | u8::from(r.comment.is_some()) << 2;
    out.push(flags);
    if let Some(team) = r.team_id {
        out.extend_from_slice(&team.to_le_bytes());
    }
    if let Some(band) = &r.tenure_band {
        let bytes = &band.as_bytes()[..band.len().min(255)];
        out.push(bytes.len() as u8);
        out.extend_from_slice(bytes);
    }
    out.extend_from_slice(&(r.answers.len() as u16).to_le_bytes());
    for (q, v) in &r.answers {
        out.extend_from_slice(&q.to_le_bytes());
        out.push(u8::try_from(*v).unwrap_or(u8::MAX));
    }
    out.extend_from_slice(&(r.segments.len() as u16).to_le_bytes());
    for (q, v) in &r.segments {
        out.extend_from_slice(&q.to_le_bytes());
        out.extend_from_slice(&(v.len() as u16).to_le_bytes());
        out.extend_from_slice(v.as_bytes());
    }
    if let Some(c) = &r.comment {
        out.extend_from_slice(&(c.chars().count() as u32).to_le_bytes());
        for ch in c.chars() {
            out.extend_from_slice(&(ch as u32).to_le_bytes()[..3]);
        }
    }
    // A submission the padding was not sized for (a segment question added
    // with longer options mid-cycle) grows the length to the next step.
    let target = if out.len() <= len {
        len
    } else {
        out.len().div_ceil(512) * 512
    };
    out.resize(target, 0);
    out
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes(self.take(2)?.try_into().ok()?))
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn i64(&mut self) -> Option<i64> {
        Some(i64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn text(&mut self, n: usize) -> Option<String> {
        String::from_utf8(self.take(n)?.to_vec()).ok()
    }
    /// `n` characters of 3 bytes each.
    fn chars(&mut self, n: usize) -> Option<String> {
        let mut text = String::with_capacity(n);
        for _ in 0..n {
            let b = self.take(3)?;
            text.push(char::from_u32(u32::from_le_bytes([b[0], b[1], b[2], 0]))?);
        }
        Some(text)
    }
}

fn decode(plain: &[u8]) -> Option<StoredResponse> {
    let mut r = Reader(plain);
    let version = r.u8()?;
    if version != VERSION && version != 1 {
        return None;
    }
    let flags = r.u8()?;
    let team_id = if flags & 1 != 0 { Some(r.i64()?) } else { None };
    let tenure_band = if flags & 2 != 0 {
        let n = r.u8()? as usize;
        Some(r.text(n)?)
    } else {
        None
    };
    let mut answers = Vec::new();
    for _ in 0..r.u16()? {
        answers.push((r.i64()?, i64::from(r.u8()?)));
    }
    let mut segments = Vec::new();
    for _ in 0..r.u16()? {
        let q = r.i64()?;
        let n = r.u16()? as usize;
        segments.push((q, r.text(n)?));
    }
    let comment = if flags & 4 != 0 {
        let n = r.u32()? as usize;
        Some(if version == 1 { r.text(n)? } else { r.chars(n)? })
    } else {
        None
    };
    Some(StoredResponse {
        team_id,
        tenure_band,
        comment,
        answers,
        segments,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(comment: Option<&str>) -> StoredResponse {
        StoredResponse {
            team_id: Some(42),
            tenure_band: Some("1 to 3 years".into()),
            comment: comment.map(str::to_owned),
            answers: vec![(1, 5), (2, 3), (9, 10)],
            segments: vec![(7, "Remote".into())],
        }
    }

    #[test]
    fn answers_seal_to_one_length_whatever_was_written() {
        let master = MasterKey::generate();
        let (key, _) = master.new_data_key(&key_purpose(1, 2));
        let key = CycleKey {
            org_id: 1,
            cycle_id: 2,
            key,
        };
        let len = padded_len(3, true, &[vec!["Remote".into(), "On-site".into()]]);
        let longest = "\u{1f600}".repeat(MAX_COMMENT);
        let bare = StoredResponse {
            team_id: None,
            tenure_band: None,
            comment: None,
            answers: vec![(1, 5), (2, 3), (9, 10)],
            segments: vec![],
        };
        let sealed: Vec<Vec<u8>> = [
            answer(None),
            answer(Some("short")),
            answer(Some(&longest)),
            bare.clone(),
        ]
        .iter()
        .map(|a| key.seal(a, len))
        .collect();
        assert!(sealed.iter().all(|s| s.len() == sealed[0].len()), "one length for all");
        let opened = key.open(&sealed[2]).unwrap();
        assert_eq!(opened.comment.as_deref(), Some(longest.as_str()));
        assert_eq!(opened.answers, answer(None).answers);
        assert_eq!(opened.segments, answer(None).segments);
        assert_eq!(opened.team_id, Some(42));
        let opened = key.open(&sealed[3]).unwrap();
        assert_eq!((opened.team_id, opened.tenure_band, opened.comment), (None, None, None));
        // Another cycle's key opens nothing.
        let (other, _) = master.new_data_key(&key_purpose(1, 3));
        let other = CycleKey {
            org_id: 1,
            cycle_id: 3,
            key: other,
        };
        assert!(other.open(&sealed[0]).is_none());
    }
}
