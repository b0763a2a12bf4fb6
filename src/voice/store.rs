//! SQL of the feedback box. Nothing here reads or writes who a sender is:
//! the tables have no column for it.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

#[derive(Clone, Debug)]
pub struct Thread {
    pub id: i64,
    pub org_id: i64,
    pub team_id: Option<i64>,
    pub pillar: Option<String>,
    pub topic: Option<String>,
    pub status: super::model::Status,
    pub assignee_id: Option<i64>,
    pub opened_day: String,
    pub delivered_day: Option<String>,
    pub first_reply_day: Option<String>,
    pub closing_note: Option<String>,
    pub abusive: bool,
    /// The day it was hidden as abusive (none for threads hidden before
    /// the day was kept).
    pub hidden_day: Option<String>,
    /// The action a recipient linked it to.
    pub action_id: Option<i64>,
}

#[derive(Clone, Debug)]
pub struct Message {
    pub from_sender: bool,
    pub author_id: Option<i64>,
    pub body: String,
    pub day: String,
    pub delivered: bool,
}

const THREAD_COLUMNS: &str = "id, org_id, team_id, pillar, topic, status, assignee_id, opened_day, delivered_day,
                              first_reply_day, closing_note, abusive, hidden_day, action_id";

fn thread_from_row(r: &AnyRow) -> Result<Thread, sqlx::Error> {
    Ok(Thread {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        team_id: r.try_get("team_id")?,
        pillar: r.try_get("pillar")?,
        topic: r.try_get("topic")?,
        status: {
            let raw: String = r.try_get("status")?;
            // Corrupt data is an error, not a new thread.
            super::model::Status::parse(&raw)
                .map_err(|e| sqlx::Error::Decode(format!("thread status {raw:?}: {e}").into()))?
        },
        assignee_id: r.try_get("assignee_id")?,
        opened_day: r.try_get("opened_day")?,
        delivered_day: r.try_get("delivered_day")?,
        first_reply_day: r.try_get("first_reply_day")?,
        closing_note: r.try_get("closing_note")?,
        abusive: r.try_get::<i64, _>("abusive")? != 0,
        hidden_day: r.try_get("hidden_day")?,
        action_id: r.try_get("action_id")?,
    })
}

pub struct NewThread<'a> {
    pub id: i64,
    pub org_id: i64,
    pub team_id: Option<i64>,
    pub pillar: Option<&'a str>,
    pub topic: Option<&'a str>,
    pub code_hash: &'a str,
    pub day: &'a str,
}

pub async fn insert_thread(conn: &mut AnyConnection, t: &NewThread<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO feedback_threads (id, org_id, team_id, pillar, topic, code_hash, opened_day)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(t.id)
    .bind(t.org_id)
    .bind(t.team_id)
    .bind(t.pillar)
    .bind(t.topic)
    .bind(t.code_hash)
    .bind(t.day)
    .execute(conn)
    .await?;
    Ok(())
}

/// Appends a message at the thread's next position.
pub async fn insert_message(
    conn: &mut AnyConnection,
    thread: &Thread,
    from_sender: bool,
    author_id: Option<i64>,
    body: &str,
    day: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO feedback_messages (thread_id, position, org_id, from_sender, author_id, body, day, delivered)
         SELECT $1, COALESCE(MAX(position), 0) + 1, $2, $3, $4, $5, $6, $7
         FROM feedback_messages WHERE thread_id = $1",
    )
    .bind(thread.id)
    .bind(thread.org_id)
    .bind(i64::from(from_sender))
    .bind(author_id)
    .bind(body)
    .bind(day)
    // The sender's words wait for the next digest; a recipient's reply is
    // for the sender, who reads it whenever they come with the code.
    .bind(i64::from(!from_sender))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn thread_by_code(conn: &mut AnyConnection, code_hash: &str) -> Result<Option<Thread>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {THREAD_COLUMNS} FROM feedback_threads WHERE code_hash = $1"
    ))
    .bind(code_hash)
    .fetch_optional(conn)
    .await?
    .as_ref()
    .map(thread_from_row)
    .transpose()
}

pub async fn thread(conn: &mut AnyConnection, org_id: i64, id: i64) -> Result<Option<Thread>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {THREAD_COLUMNS} FROM feedback_threads WHERE org_id = $1 AND id = $2"
    ))
    .bind(org_id)
    .bind(id)
    .fetch_optional(conn)
    .await?
    .as_ref()
    .map(thread_from_row)
    .transpose()
}

/// Every thread of an organization that a digest has delivered.
pub async fn delivered_threads(conn: &mut AnyConnection, org_id: i64) -> Result<Vec<Thread>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {THREAD_COLUMNS} FROM feedback_threads
         WHERE org_id = $1 AND delivered_day IS NOT NULL ORDER BY opened_day DESC, id"
    ))
    .bind(org_id)
    .fetch_all(conn)
    .await?
    .iter()
    .map(thread_from_row)
    .collect()
}

pub async fn messages(conn: &mut AnyConnection, thread_id: i64) -> Result<Vec<Message>, sqlx::Error> {
    sqlx::query(
        "SELECT from_sender, author_id, body, day, delivered FROM feedback_messages
         WHERE thread_id = $1 ORDER BY position",
    )
    .bind(thread_id)
    .fetch_all(conn)
    .await?
    .iter()
    .map(|r| {
        Ok(Message {
            from_sender: r.try_get::<i64, _>("from_sender")? != 0,
            author_id: r.try_get("author_id")?,
            body: r.try_get("body")?,
            day: r.try_get("day")?,
            delivered: r.try_get::<i64, _>("delivered")? != 0,
        })
    })
    .collect()
}

/// Per thread of the organization: its message count, the day of its last
/// delivered message, and whether the sender spoke last.
pub async fn thread_summaries(
    conn: &mut AnyConnection,
    org_id: i64,
) -> Result<std::collections::HashMap<i64, (i64, String, bool)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT thread_id, position, from_sender, day FROM feedback_messages
         WHERE org_id = $1 AND delivered = 1 ORDER BY thread_id, position",
    )
    .bind(org_id)
    .fetch_all(conn)
    .await?;
    let mut out = std::collections::HashMap::new();
    for r in rows {
        let entry = out
            .entry(r.try_get::<i64, _>("thread_id")?)
            .or_insert((0, String::new(), false));
        entry.0 += 1;
        entry.1 = r.try_get("day")?;
        entry.2 = r.try_get::<i64, _>("from_sender")? != 0;
    }
    Ok(out)
}

/// Marks what was waiting as delivered, on `day`; returns the recipients'
/// groups (team or `None` for HR) with the number of new threads and of
/// new messages in threads they already had.
pub async fn deliver_waiting(
    conn: &mut AnyConnection,
    org_id: i64,
    day: &str,
) -> Result<Vec<(Option<i64>, usize, usize)>, sqlx::Error> {
    let fresh = sqlx::query(
        "SELECT id, team_id FROM feedback_threads WHERE org_id = $1 AND delivered_day IS NULL AND abusive = 0",
    )
    .bind(org_id)
    .fetch_all(&mut *conn)
    .await?;
    let follow_ups = sqlx::query(
        "SELECT t.id, t.team_id FROM feedback_messages m JOIN feedback_threads t ON t.id = m.thread_id
         WHERE m.org_id = $1 AND m.delivered = 0 AND t.delivered_day IS NOT NULL AND t.abusive = 0",
    )
    .bind(org_id)
    .fetch_all(&mut *conn)
    .await?;
    sqlx::query("UPDATE feedback_threads SET delivered_day = $1 WHERE org_id = $2 AND delivered_day IS NULL")
        .bind(day)
        .bind(org_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE feedback_messages SET delivered = 1 WHERE org_id = $1 AND delivered = 0")
        .bind(org_id)
        .execute(&mut *conn)
        .await?;
    let mut groups: Vec<(Option<i64>, usize, usize)> = Vec::new();
    let mut bump = |team: Option<i64>, new_thread: bool| {
        let at = match groups.iter().position(|g| g.0 == team) {
            Some(i) => i,
            None => {
                groups.push((team, 0, 0));
                groups.len() - 1
            }
        };
        if new_thread {
            groups[at].1 += 1;
        } else {
            groups[at].2 += 1;
        }
    };
    for r in &fresh {
        bump(r.try_get("team_id")?, true);
    }
    for r in &follow_ups {
        bump(r.try_get("team_id")?, false);
    }
    Ok(groups)
}

pub async fn set_status(
    conn: &mut AnyConnection,
    thread: &Thread,
    status: &str,
    note: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE feedback_threads SET status = $1, closing_note = $2 WHERE org_id = $3 AND id = $4")
        .bind(status)
        .bind(note)
        .bind(thread.org_id)
        .bind(thread.id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_assignee(conn: &mut AnyConnection, thread: &Thread, assignee: Option<i64>) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE feedback_threads SET assignee_id = $1 WHERE org_id = $2 AND id = $3")
        .bind(assignee)
        .bind(thread.org_id)
        .bind(thread.id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_action(conn: &mut AnyConnection, thread: &Thread, action: Option<i64>) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE feedback_threads SET action_id = $1 WHERE org_id = $2 AND id = $3")
        .bind(action)
        .bind(thread.org_id)
        .bind(thread.id)
        .execute(conn)
        .await?;
    Ok(())
}

/// A recipient answered: the first answer's day is kept for response times,
/// and a new thread counts as acknowledged.
pub async fn note_reply(conn: &mut AnyConnection, thread: &Thread, day: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE feedback_threads SET first_reply_day = COALESCE(first_reply_day, $1),
         status = CASE WHEN status = 'new' THEN 'acknowledged' ELSE status END
         WHERE org_id = $2 AND id = $3",
    )
    .bind(day)
    .bind(thread.org_id)
    .bind(thread.id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn mark_abusive(conn: &mut AnyConnection, thread: &Thread, day: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE feedback_threads SET abusive = 1, hidden_day = $1 WHERE org_id = $2 AND id = $3")
        .bind(day)
        .bind(thread.org_id)
        .bind(thread.id)
        .execute(conn)
        .await?;
    Ok(())
}

/// An owner's undo of "hide as abusive".
pub async fn unhide(conn: &mut AnyConnection, thread: &Thread) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE feedback_threads SET abusive = 0, hidden_day = NULL WHERE org_id = $1 AND id = $2")
        .bind(thread.org_id)
        .bind(thread.id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The messages a person put their name to, as a sender who signed or as a
/// recipient replying, oldest first: (from the sender's side, body, day).
pub async fn messages_by(
    conn: &mut AnyConnection,
    org_id: i64,
    person_id: i64,
) -> Result<Vec<(bool, String, String)>, sqlx::Error> {
    sqlx::query(
        "SELECT from_sender, body, day FROM feedback_messages WHERE org_id = $1 AND author_id = $2
         ORDER BY day, thread_id, position",
    )
    .bind(org_id)
    .bind(person_id)
    .fetch_all(conn)
    .await?
    .iter()
    .map(|r| {
        Ok((
            r.try_get::<i64, _>("from_sender")? != 0,
            r.try_get("body")?,
            r.try_get("day")?,
        ))
    })
    .collect()
}

/// A sealed message waiting for the digest.
pub async fn insert_pending(conn: &mut AnyConnection, org_id: i64, sealed: &[u8]) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO feedback_pending (org_id, sealed) VALUES ($1, $2)")
        .bind(org_id)
        .bind(sealed)
        .execute(conn)
        .await?;
    Ok(())
}

/// Every waiting sealed row (of one organization, or of all): (row id,
/// organization, sealed bytes).
pub async fn pending_rows(
    conn: &mut AnyConnection,
    org_id: Option<i64>,
) -> Result<Vec<(i64, i64, Vec<u8>)>, sqlx::Error> {
    let rows = match org_id {
        Some(org) => {
            sqlx::query("SELECT id, org_id, sealed FROM feedback_pending WHERE org_id = $1")
                .bind(org)
                .fetch_all(conn)
                .await?
        }
        None => {
            sqlx::query("SELECT id, org_id, sealed FROM feedback_pending")
                .fetch_all(conn)
                .await?
        }
    };
    rows.iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("org_id")?, r.try_get("sealed")?)))
        .collect()
}

pub async fn delete_pending(conn: &mut AnyConnection, ids: &[i64]) -> Result<(), sqlx::Error> {
    for chunk in ids.chunks(500) {
        let sql = format!(
            "DELETE FROM feedback_pending WHERE id IN {}",
            crate::db::placeholders(1, chunk.len())
        );
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(id);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}
