//! The audit log: who read sensitive data or changed roles, and when.
//! Owners browse it (`org::audit_log`); each person sees the entries about
//! themselves.

mod store;

use jiff::Timestamp;
use sqlx::AnyConnection;

use crate::auth::Actor;
use crate::db::Db;

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
    let event = store::NewEvent {
        org_id: actor.org_id,
        actor_id: actor.person_id,
        action,
        subject_type,
        subject_id,
        detail,
        at: now.as_second(),
    };
    store::insert_event(conn, event).await
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
    let query = store::Query {
        action: filter.action.trim(),
        actor,
        subject_person: subject,
        limit: PAGE_SIZE,
        offset: (page - 1) * PAGE_SIZE,
    };
    Ok(store::events(db, org_id, query).await?.into_iter().map(entry).collect())
}

fn entry(r: store::EventRow) -> Entry {
    let subject = match r.subject_type.as_str() {
        "person" => r.subject_name.unwrap_or_else(|| "a person".into()),
        "team" => format!("team {}", r.team_name.unwrap_or_default()),
        "people" => "the people list".into(),
        "import" => "a CSV import".into(),
        "audit_log" => "the audit log".into(),
        "cycle" => "pulse results".into(),
        other => other.to_owned(),
    };
    Entry {
        at: Timestamp::from_second(r.at)
            .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_default(),
        actor: if r.actor_id == 0 {
            "command line".into()
        } else {
            r.actor_name.unwrap_or_else(|| "someone".into())
        },
        action: r.action,
        subject,
        detail: r.detail,
    }
}

/// The distinct actions recorded in an organization, for the filter.
pub async fn actions(db: &Db, org_id: i64) -> Result<Vec<String>, sqlx::Error> {
    store::actions(db, org_id).await
}
