//! The SQL of conversations, every statement scoped by org_id. Words said
//! in a talk reach this file sealed (`Vec<u8>`); it never sees them open.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::model::Question;

/// One version of a template.
#[derive(Clone, Debug)]
pub struct TemplateRow {
    pub id: i64,
    pub family: i64,
    pub version: i64,
    pub kind: String,
    pub name: String,
    pub questions: Vec<Question>,
    pub current: bool,
}

fn template(r: &AnyRow) -> Result<TemplateRow, sqlx::Error> {
    let questions: String = r.try_get("questions")?;
    Ok(TemplateRow {
        id: r.try_get("id")?,
        family: r.try_get("family")?,
        version: r.try_get("version")?,
        kind: r.try_get("kind")?,
        name: r.try_get("name")?,
        questions: serde_json::from_str(&questions).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        current: r.try_get::<i64, _>("current")? == 1,
    })
}

/// Every version of every template of the organization, oldest first.
pub async fn templates(conn: &mut AnyConnection, org_id: i64) -> Result<Vec<TemplateRow>, sqlx::Error> {
    sqlx::query(
        "SELECT id, family, version, kind, name, questions, current FROM talk_templates
         WHERE org_id = $1 ORDER BY family, version",
    )
    .bind(org_id)
    .fetch_all(conn)
    .await?
    .iter()
    .map(template)
    .collect()
}

/// Adds a version; a built-in first version already there is kept (two
/// requests may create the built-ins at once).
pub async fn insert_template(
    conn: &mut AnyConnection,
    org_id: i64,
    t: &TemplateRow,
    now: i64,
) -> Result<(), sqlx::Error> {
    let questions = serde_json::to_string(&t.questions).expect("questions serialize");
    sqlx::query(
        "INSERT INTO talk_templates (id, org_id, family, version, kind, name, questions, current, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
    )
    .bind(t.id)
    .bind(org_id)
    .bind(t.family)
    .bind(t.version)
    .bind(&t.kind)
    .bind(&t.name)
    .bind(questions)
    .bind(i64::from(t.current))
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Changes a version no talk has used yet.
pub async fn rewrite_template(
    conn: &mut AnyConnection,
    org_id: i64,
    id: i64,
    name: &str,
    questions: &[Question],
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE talk_templates SET name = $1, questions = $2 WHERE org_id = $3 AND id = $4")
        .bind(name)
        .bind(serde_json::to_string(questions).expect("questions serialize"))
        .bind(org_id)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The version is no longer the one new talks use.
pub async fn retire_template(conn: &mut AnyConnection, org_id: i64, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE talk_templates SET current = 0 WHERE org_id = $1 AND id = $2")
        .bind(org_id)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn template_used(conn: &mut AnyConnection, org_id: i64, id: i64) -> Result<bool, sqlx::Error> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM talks WHERE org_id = $1 AND template_id = $2")
        .bind(org_id)
        .bind(id)
        .fetch_one(conn)
        .await?;
    Ok(n > 0)
}

/// A talk as stored (its words are in notes and actions).
#[derive(Clone, Debug)]
pub struct TalkRow {
    pub id: i64,
    pub template_id: i64,
    pub organizer_id: i64,
    pub guest_id: i64,
    pub requested_by: Option<i64>,
    pub status: String,
    pub starts_at: Option<i64>,
    pub minutes: i64,
    pub zone: String,
    pub sequence: i64,
    pub created_at: i64,
}

impl TalkRow {
    pub fn has(&self, person: i64) -> bool {
        self.organizer_id == person || self.guest_id == person
    }

    /// The other of the two.
    pub fn other(&self, person: i64) -> i64 {
        if self.organizer_id == person {
            self.guest_id
        } else {
            self.organizer_id
        }
    }

    /// The pair, lower id first.
    pub fn pair(&self) -> (i64, i64) {
        pair(self.organizer_id, self.guest_id)
    }
}

pub fn pair(a: i64, b: i64) -> (i64, i64) {
    (a.min(b), a.max(b))
}

const TALK_COLUMNS: &str =
    "id, template_id, organizer_id, guest_id, requested_by, status, starts_at, minutes, zone, sequence, created_at";

fn talk(r: &AnyRow) -> Result<TalkRow, sqlx::Error> {
    Ok(TalkRow {
        id: r.try_get("id")?,
        template_id: r.try_get("template_id")?,
        organizer_id: r.try_get("organizer_id")?,
        guest_id: r.try_get("guest_id")?,
        requested_by: r.try_get("requested_by")?,
        status: r.try_get("status")?,
        starts_at: r.try_get("starts_at")?,
        minutes: r.try_get("minutes")?,
        zone: r.try_get("zone")?,
        sequence: r.try_get("sequence")?,
        created_at: r.try_get("created_at")?,
    })
}

pub async fn insert_talk(conn: &mut AnyConnection, org_id: i64, t: &TalkRow) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "INSERT INTO talks (org_id, {TALK_COLUMNS}, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)"
    ))
    .bind(org_id)
    .bind(t.id)
    .bind(t.template_id)
    .bind(t.organizer_id)
    .bind(t.guest_id)
    .bind(t.requested_by)
    .bind(&t.status)
    .bind(t.starts_at)
    .bind(t.minutes)
    .bind(&t.zone)
    .bind(t.sequence)
    .bind(t.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn talk_by_id(conn: &mut AnyConnection, org_id: i64, id: i64) -> Result<Option<TalkRow>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {TALK_COLUMNS} FROM talks WHERE org_id = $1 AND id = $2"
    ))
    .bind(org_id)
    .bind(id)
    .fetch_optional(conn)
    .await?
    .as_ref()
    .map(talk)
    .transpose()
}

/// The talks a person takes part in, by time (requests last).
pub async fn talks_of(conn: &mut AnyConnection, org_id: i64, person: i64) -> Result<Vec<TalkRow>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {TALK_COLUMNS} FROM talks WHERE org_id = $1 AND (organizer_id = $2 OR guest_id = $2)
         ORDER BY starts_at, created_at"
    ))
    .bind(org_id)
    .bind(person)
    .fetch_all(conn)
    .await?
    .iter()
    .map(talk)
    .collect()
}

/// Every talk of the organization (for counts and reminders).
pub async fn all_talks(conn: &mut AnyConnection, org_id: i64) -> Result<Vec<TalkRow>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {TALK_COLUMNS} FROM talks WHERE org_id = $1 ORDER BY starts_at"
    ))
    .bind(org_id)
    .fetch_all(conn)
    .await?
    .iter()
    .map(talk)
    .collect()
}

/// Sets the time (and the organizer, when a request is accepted); the
/// invite's sequence goes up and the reminder is due again.
pub async fn set_time(conn: &mut AnyConnection, org_id: i64, t: &TalkRow, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE talks SET starts_at = $1, minutes = $2, status = $3, sequence = $4, organizer_id = $5,
                guest_id = $6, zone = $7, reminded = 0, updated_at = $8
         WHERE org_id = $9 AND id = $10",
    )
    .bind(t.starts_at)
    .bind(t.minutes)
    .bind(&t.status)
    .bind(t.sequence)
    .bind(t.organizer_id)
    .bind(t.guest_id)
    .bind(&t.zone)
    .bind(now)
    .bind(org_id)
    .bind(t.id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_status(
    conn: &mut AnyConnection,
    org_id: i64,
    id: i64,
    status: &str,
    sequence: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE talks SET status = $1, sequence = $2, updated_at = $3 WHERE org_id = $4 AND id = $5")
        .bind(status)
        .bind(sequence)
        .bind(now)
        .bind(org_id)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Scheduled talks starting in `from..to` not yet reminded of.
pub async fn to_remind(conn: &mut AnyConnection, org_id: i64, from: i64, to: i64) -> Result<Vec<TalkRow>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {TALK_COLUMNS} FROM talks WHERE org_id = $1 AND status = 'scheduled' AND reminded = 0
         AND starts_at >= $2 AND starts_at < $3 ORDER BY starts_at"
    ))
    .bind(org_id)
    .bind(from)
    .bind(to)
    .fetch_all(conn)
    .await?
    .iter()
    .map(talk)
    .collect()
}

pub async fn mark_reminded(conn: &mut AnyConnection, org_id: i64, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE talks SET reminded = 1 WHERE org_id = $1 AND id = $2")
        .bind(org_id)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// A note, sealed: `scope` 0 is shared, else its author's id.
#[derive(Clone, Debug)]
pub struct NoteRow {
    pub question: i64,
    pub scope: i64,
    pub sealed: Vec<u8>,
    pub updated_at: i64,
    pub updated_by: i64,
}

/// A talk's notes that `reader` may open: the shared ones and their own.
pub async fn notes(
    conn: &mut AnyConnection,
    org_id: i64,
    talk_id: i64,
    reader: i64,
) -> Result<Vec<NoteRow>, sqlx::Error> {
    sqlx::query(
        "SELECT question, scope, sealed, updated_at, updated_by FROM talk_notes
         WHERE org_id = $1 AND talk_id = $2 AND (scope = 0 OR scope = $3) ORDER BY question, scope",
    )
    .bind(org_id)
    .bind(talk_id)
    .bind(reader)
    .fetch_all(conn)
    .await?
    .iter()
    .map(|r| {
        Ok(NoteRow {
            question: r.try_get("question")?,
            scope: r.try_get("scope")?,
            sealed: r.try_get("sealed")?,
            updated_at: r.try_get("updated_at")?,
            updated_by: r.try_get("updated_by")?,
        })
    })
    .collect()
}

pub async fn put_note(conn: &mut AnyConnection, org_id: i64, talk_id: i64, note: &NoteRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO talk_notes (org_id, talk_id, question, scope, sealed, updated_at, updated_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (talk_id, question, scope) DO UPDATE
         SET sealed = excluded.sealed, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
    )
    .bind(org_id)
    .bind(talk_id)
    .bind(note.question)
    .bind(note.scope)
    .bind(&note.sealed)
    .bind(note.updated_at)
    .bind(note.updated_by)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete_note(
    conn: &mut AnyConnection,
    org_id: i64,
    talk_id: i64,
    question: i64,
    scope: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM talk_notes WHERE org_id = $1 AND talk_id = $2 AND question = $3 AND scope = $4")
        .bind(org_id)
        .bind(talk_id)
        .bind(question)
        .bind(scope)
        .execute(conn)
        .await?;
    Ok(())
}

/// An action item, its words sealed.
#[derive(Clone, Debug)]
pub struct ActionRow {
    pub id: i64,
    pub talk_id: i64,
    pub person_low: i64,
    pub person_high: i64,
    pub owner_id: i64,
    pub due_date: String,
    pub status: String,
    pub sealed: Vec<u8>,
    pub created_at: i64,
    pub closed_at: Option<i64>,
}

const ACTION_COLUMNS: &str =
    "id, talk_id, person_low, person_high, owner_id, due_date, status, sealed, created_at, closed_at";

fn action(r: &AnyRow) -> Result<ActionRow, sqlx::Error> {
    Ok(ActionRow {
        id: r.try_get("id")?,
        talk_id: r.try_get("talk_id")?,
        person_low: r.try_get("person_low")?,
        person_high: r.try_get("person_high")?,
        owner_id: r.try_get("owner_id")?,
        due_date: r.try_get("due_date")?,
        status: r.try_get("status")?,
        sealed: r.try_get("sealed")?,
        created_at: r.try_get("created_at")?,
        closed_at: r.try_get("closed_at")?,
    })
}

pub async fn insert_action(conn: &mut AnyConnection, org_id: i64, a: &ActionRow) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "INSERT INTO talk_actions (org_id, {ACTION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    ))
    .bind(org_id)
    .bind(a.id)
    .bind(a.talk_id)
    .bind(a.person_low)
    .bind(a.person_high)
    .bind(a.owner_id)
    .bind(&a.due_date)
    .bind(&a.status)
    .bind(&a.sealed)
    .bind(a.created_at)
    .bind(a.closed_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The action items of a pair, oldest first.
pub async fn actions_of_pair(
    conn: &mut AnyConnection,
    org_id: i64,
    (low, high): (i64, i64),
) -> Result<Vec<ActionRow>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {ACTION_COLUMNS} FROM talk_actions WHERE org_id = $1 AND person_low = $2 AND person_high = $3
         ORDER BY created_at, id"
    ))
    .bind(org_id)
    .bind(low)
    .bind(high)
    .fetch_all(conn)
    .await?
    .iter()
    .map(action)
    .collect()
}

/// The action items of everyone a person shares talks with.
pub async fn actions_of(conn: &mut AnyConnection, org_id: i64, person: i64) -> Result<Vec<ActionRow>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {ACTION_COLUMNS} FROM talk_actions WHERE org_id = $1 AND (person_low = $2 OR person_high = $2)
         ORDER BY created_at, id"
    ))
    .bind(org_id)
    .bind(person)
    .fetch_all(conn)
    .await?
    .iter()
    .map(action)
    .collect()
}

pub async fn action_by_id(conn: &mut AnyConnection, org_id: i64, id: i64) -> Result<Option<ActionRow>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {ACTION_COLUMNS} FROM talk_actions WHERE org_id = $1 AND id = $2"
    ))
    .bind(org_id)
    .bind(id)
    .fetch_optional(conn)
    .await?
    .as_ref()
    .map(action)
    .transpose()
}

pub async fn set_action(
    conn: &mut AnyConnection,
    org_id: i64,
    id: i64,
    status: &str,
    due_date: &str,
    closed_at: Option<i64>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE talk_actions SET status = $1, due_date = $2, closed_at = $3 WHERE org_id = $4 AND id = $5")
        .bind(status)
        .bind(due_date)
        .bind(closed_at)
        .bind(org_id)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// When each action item of the organization was closed as done, with
/// its pair: counts only.
pub async fn done_actions(conn: &mut AnyConnection, org_id: i64) -> Result<Vec<(i64, i64, i64)>, sqlx::Error> {
    sqlx::query(
        "SELECT closed_at, person_low, person_high FROM talk_actions
         WHERE org_id = $1 AND status = 'done' AND closed_at IS NOT NULL",
    )
    .bind(org_id)
    .fetch_all(conn)
    .await?
    .iter()
    .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
    .collect()
}

/// A pair's cadence for a template family.
#[derive(Clone, Debug)]
pub struct CadenceRow {
    pub person_low: i64,
    pub person_high: i64,
    pub family: i64,
    pub every_days: i64,
    pub organizer_id: i64,
    pub reminded_for: Option<String>,
    pub created_at: i64,
}

pub async fn cadences(conn: &mut AnyConnection, org_id: i64) -> Result<Vec<CadenceRow>, sqlx::Error> {
    sqlx::query(
        "SELECT person_low, person_high, family, every_days, organizer_id, reminded_for, created_at
         FROM talk_cadences WHERE org_id = $1 ORDER BY created_at",
    )
    .bind(org_id)
    .fetch_all(conn)
    .await?
    .iter()
    .map(|r| {
        Ok(CadenceRow {
            person_low: r.try_get("person_low")?,
            person_high: r.try_get("person_high")?,
            family: r.try_get("family")?,
            every_days: r.try_get("every_days")?,
            organizer_id: r.try_get("organizer_id")?,
            reminded_for: r.try_get("reminded_for")?,
            created_at: r.try_get("created_at")?,
        })
    })
    .collect()
}

pub async fn put_cadence(conn: &mut AnyConnection, org_id: i64, c: &CadenceRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO talk_cadences (org_id, person_low, person_high, family, every_days, organizer_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (org_id, person_low, person_high, family) DO UPDATE
         SET every_days = excluded.every_days, organizer_id = excluded.organizer_id",
    )
    .bind(org_id)
    .bind(c.person_low)
    .bind(c.person_high)
    .bind(c.family)
    .bind(c.every_days)
    .bind(c.organizer_id)
    .bind(c.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete_cadence(
    conn: &mut AnyConnection,
    org_id: i64,
    (low, high): (i64, i64),
    family: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM talk_cadences WHERE org_id = $1 AND person_low = $2 AND person_high = $3 AND family = $4")
        .bind(org_id)
        .bind(low)
        .bind(high)
        .bind(family)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_reminded_for(
    conn: &mut AnyConnection,
    org_id: i64,
    (low, high): (i64, i64),
    family: i64,
    due: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE talk_cadences SET reminded_for = $1
         WHERE org_id = $2 AND person_low = $3 AND person_high = $4 AND family = $5",
    )
    .bind(due)
    .bind(org_id)
    .bind(low)
    .bind(high)
    .bind(family)
    .execute(conn)
    .await?;
    Ok(())
}

/// Whose feed a token's hash opens: (org, person).
pub async fn feed_owner(conn: &mut AnyConnection, token_hash: &str) -> Result<Option<(i64, i64)>, sqlx::Error> {
    sqlx::query("SELECT org_id, person_id FROM calendar_feeds WHERE token_hash = $1")
        .bind(token_hash)
        .fetch_optional(conn)
        .await?
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .transpose()
}

pub async fn has_feed(conn: &mut AnyConnection, org_id: i64, person: i64) -> Result<bool, sqlx::Error> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM calendar_feeds WHERE org_id = $1 AND person_id = $2")
        .bind(org_id)
        .bind(person)
        .fetch_one(conn)
        .await?;
    Ok(n > 0)
}

/// A new token for the person's feed; the old one stops working.
pub async fn put_feed(
    conn: &mut AnyConnection,
    org_id: i64,
    person: i64,
    token_hash: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO calendar_feeds (person_id, org_id, token_hash, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (person_id) DO UPDATE SET token_hash = excluded.token_hash, created_at = excluded.created_at",
    )
    .bind(person)
    .bind(org_id)
    .bind(token_hash)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete_feed(conn: &mut AnyConnection, org_id: i64, person: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM calendar_feeds WHERE org_id = $1 AND person_id = $2")
        .bind(org_id)
        .bind(person)
        .execute(conn)
        .await?;
    Ok(())
}

/// What is a leaver's alone, erased with their personal data: their
/// private notes and their calendar feed. Shared notes and action items
/// stay: they are the other person's record too.
pub async fn erase_person(conn: &mut AnyConnection, org_id: i64, person: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM talk_notes WHERE org_id = $1 AND scope = $2")
        .bind(org_id)
        .bind(person)
        .execute(&mut *conn)
        .await?;
    delete_feed(conn, org_id, person).await
}
