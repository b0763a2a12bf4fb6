//! The audit log: who read sensitive data or changed roles, and when.
//! Owners browse it (`org::audit_log`); each person sees the entries about
//! themselves.

use jiff::Timestamp;
use sqlx::{AnyConnection, Row};

use crate::auth::Actor;
use crate::db::{Db, new_id};

/// What an entry is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    Person(i64),
    Team(i64),
    /// The list of people as a whole.
    People,
    Import(i64),
    AuditLog,
    /// A pulse cycle's results.
    Cycle(i64),
    /// A feedback-box thread, read or changed by a recipient.
    FeedbackThread(i64),
    /// The organization's settings.
    Settings,
}

impl Subject {
    fn parts(self) -> (&'static str, Option<i64>) {
        match self {
            Subject::Person(id) => ("person", Some(id)),
            Subject::Team(id) => ("team", Some(id)),
            Subject::People => ("people", None),
            Subject::Import(id) => ("import", Some(id)),
            Subject::AuditLog => ("audit_log", None),
            Subject::Cycle(id) => ("cycle", Some(id)),
            Subject::FeedbackThread(id) => ("feedback_thread", Some(id)),
            Subject::Settings => ("settings", None),
        }
    }
}

/// Writes an entry in the caller's transaction (or on its connection).
pub async fn record(
    conn: &mut AnyConnection,
    actor: &Actor,
    action: &str,
    subject: Subject,
    detail: &str,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    let (subject_type, subject_id) = subject.parts();
    sqlx::query(
        "INSERT INTO audit_events (id, org_id, actor_id, action, subject_type, subject_id, detail, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(new_id())
    .bind(actor.org_id)
    .bind(actor.person_id)
    .bind(action)
    .bind(subject_type)
    .bind(subject_id)
    .bind(detail)
    .bind(now.as_second())
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes an entry on its own.
pub async fn record_now(
    db: &Db,
    actor: &Actor,
    action: &str,
    subject: Subject,
    detail: &str,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    let mut conn = db.acquire().await?;
    record(&mut conn, actor, action, subject, detail, now).await
}

/// One entry, with the names resolved for display.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Entry {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
}

/// Filters for browsing; empty strings mean "any".
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct Filter {
    pub action: String,
    pub actor: String,
    pub subject_person: String,
    pub page: String,
}

pub const PAGE_SIZE: i64 = 100;

/// Entries of an organization, newest first.
pub async fn list(db: &Db, org_id: i64, filter: &Filter) -> Result<Vec<Entry>, sqlx::Error> {
    let page: i64 = filter.page.parse().unwrap_or(1).clamp(1, 100_000);
    let actor: i64 = filter.actor.parse().unwrap_or(-1);
    let subject: i64 = filter.subject_person.parse().unwrap_or(-1);
    let rows = sqlx::query(
        "SELECT e.at, e.action, e.subject_type, e.subject_id, e.detail, e.actor_id,
                a.name AS actor_name, s.name AS subject_name, t.name AS team_name
         FROM audit_events e
         LEFT JOIN people a ON a.org_id = e.org_id AND a.id = e.actor_id
         LEFT JOIN people s ON s.org_id = e.org_id AND e.subject_type = 'person' AND s.id = e.subject_id
         LEFT JOIN teams t ON t.org_id = e.org_id AND e.subject_type = 'team' AND t.id = e.subject_id
         WHERE e.org_id = $1
           AND ($2 = '' OR e.action = $2)
           AND ($3 = -1 OR e.actor_id = $3)
           AND ($4 = -1 OR (e.subject_type = 'person' AND e.subject_id = $4))
         ORDER BY e.at DESC, e.id
         LIMIT $5 OFFSET $6",
    )
    .bind(org_id)
    .bind(filter.action.trim())
    .bind(actor)
    .bind(subject)
    .bind(PAGE_SIZE)
    .bind((page - 1) * PAGE_SIZE)
    .fetch_all(&mut *db.acquire().await?)
    .await?;
    rows.iter().map(entry_from_row).collect()
}

fn entry_from_row(r: &sqlx::any::AnyRow) -> Result<Entry, sqlx::Error> {
    let at: i64 = r.try_get("at")?;
    let actor_id: i64 = r.try_get("actor_id")?;
    let subject_type: String = r.try_get("subject_type")?;
    let subject = match subject_type.as_str() {
        "person" => r
            .try_get::<Option<String>, _>("subject_name")?
            .unwrap_or_else(|| "a person".into()),
        "team" => format!(
            "team {}",
            r.try_get::<Option<String>, _>("team_name")?.unwrap_or_default()
        ),
        "people" => "the people list".into(),
        "import" => "a CSV import".into(),
        "audit_log" => "the audit log".into(),
        "cycle" => "pulse results".into(),
        other => other.to_owned(),
    };
    Ok(Entry {
        at: Timestamp::from_second(at)
            .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_default(),
        actor: if actor_id == 0 {
            "command line".into()
        } else {
            r.try_get::<Option<String>, _>("actor_name")?
                .unwrap_or_else(|| "someone".into())
        },
        action: r.try_get("action")?,
        subject,
        detail: r.try_get("detail")?,
    })
}

/// The distinct actions recorded in an organization, for the filter.
pub async fn actions(db: &Db, org_id: i64) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query("SELECT DISTINCT action FROM audit_events WHERE org_id = $1 ORDER BY action")
        .bind(org_id)
        .fetch_all(&mut *db.acquire().await?)
        .await?
        .iter()
        .map(|r| r.try_get("action"))
        .collect()
}
