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
    /// An action planned on results (insights).
    Action(i64),
    /// An initiative whose impact is measured (insights).
    Initiative(i64),
    /// A conversation between two people (its words are never recorded).
    Talk(i64),
    /// A conversation template.
    TalkTemplate(i64),
    /// HR's counts of conversations.
    TalkCounts,
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
            Subject::Action(id) => ("action", Some(id)),
            Subject::Initiative(id) => ("initiative", Some(id)),
            Subject::Talk(id) => ("talk", Some(id)),
            Subject::TalkTemplate(id) => ("talk_template", Some(id)),
            Subject::TalkCounts => ("talk_counts", None),
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
    /// When, in the reader's time zone.
    pub at: String,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
    /// The entry as a sentence: "Lena Fischer viewed the results of
    /// Monthly pulse, cycle 12, for team Platform".
    pub words: String,
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
/// The entries that match, newest first, with their times in the time
/// zone of `reader` (a person of the organization).
pub async fn list(db: &Db, org_id: i64, reader: i64, filter: &Filter) -> Result<Vec<Entry>, sqlx::Error> {
    let zone = store::time_zone_of(db, org_id, reader)
        .await?
        .and_then(|name| jiff::tz::TimeZone::get(&name).ok())
        .unwrap_or(jiff::tz::TimeZone::UTC);
    let teams = store::team_names(db, org_id).await?;
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
    Ok(store::events(db, org_id, query)
        .await?
        .into_iter()
        .map(|r| entry(r, &zone, &teams))
        .collect())
}

fn entry(r: store::EventRow, zone: &jiff::tz::TimeZone, teams: &std::collections::HashMap<i64, String>) -> Entry {
    let subject = match r.subject_type.as_str() {
        "person" => r.subject_name.clone().unwrap_or_else(|| "a person".into()),
        "team" => format!("team {}", r.team_name.clone().unwrap_or_default()),
        "people" => "the people list".into(),
        "import" => "a CSV import".into(),
        "audit_log" => "the audit log".into(),
        "cycle" => match (&r.pulse_title, r.cycle_number) {
            (Some(title), Some(n)) => format!("{title}, cycle {n}"),
            _ => "a pulse".into(),
        },
        "feedback_thread" => "a feedback thread".into(),
        "settings" => "the settings".into(),
        "action" => "an action".into(),
        "initiative" => "an initiative".into(),
        "talk" => "a conversation".into(),
        "talk_template" => "a conversation template".into(),
        "talk_counts" => "the conversation counts".into(),
        _ => "the organization".into(),
    };
    let actor = if r.actor_id == 0 {
        "The command line".to_owned()
    } else {
        r.actor_name.clone().unwrap_or_else(|| "Someone".into())
    };
    let detail = match r.action.as_str() {
        "results.viewed" | "results.exported" => group_words(&r.detail, teams),
        _ => r.detail.clone(),
    };
    Entry {
        at: Timestamp::from_second(r.at)
            .map(|t| t.to_zoned(zone.clone()).strftime("%Y-%m-%d %H:%M %Z").to_string())
            .unwrap_or_default(),
        words: words(&actor, &r.action, &subject, &detail),
        actor,
        action: r.action,
        subject,
        detail,
    }
}

/// The group a results entry was about, in words ("org", "team:42" as
/// stored).
fn group_words(key: &str, teams: &std::collections::HashMap<i64, String>) -> String {
    let team = |id: &str| {
        id.parse::<i64>()
            .ok()
            .and_then(|id| teams.get(&id))
            .map_or_else(|| "a team".to_owned(), |name| format!("team {name}"))
    };
    if key == "org" || key.is_empty() {
        "the whole organization".into()
    } else if let Some(id) = key.strip_prefix("team-only:") {
        format!("{} without its sub-teams", team(id))
    } else if let Some(id) = key.strip_prefix("team:") {
        team(id)
    } else if key.starts_with("segment:") {
        "a group of people who chose one answer to a segment question".into()
    } else {
        key.to_owned()
    }
}

/// What an action's entries say, for the filter's choices.
pub fn action_label(action: &str) -> &'static str {
    match action {
        "audit_log.viewed" => "Opened the audit log",
        "people.listed" => "Opened the list of people",
        "person.viewed" => "Viewed a person's record",
        "person.created" => "Added a person",
        "person.updated" => "Changed a person's record",
        "person.role_changed" => "Changed a role",
        "person.deactivated" => "Recorded a leaver",
        "person.reactivated" => "Reactivated a person",
        "person.erased" => "Erased personal data",
        "person.one_time_password" => "Gave a one-time password",
        "import.applied" => "Imported people",
        "results.viewed" => "Viewed pulse results",
        "results.exported" => "Exported pulse results",
        "data.exported" => "Downloaded own data",
        "feedback.view" => "Read a feedback thread",
        "feedback.reply" => "Replied to a feedback thread",
        "feedback.status" => "Changed a feedback thread's status",
        "feedback.assign" => "Chose who follows up feedback",
        "feedback.link" => "Linked feedback to an action",
        "feedback.abusive" => "Hid feedback as abusive",
        "feedback.unhide" => "Showed hidden feedback again",
        "settings.anonymity" => "Changed the anonymity settings",
        "settings.retention" => "Changed what is kept",
        "retention.applied" => "Deleted kept answers",
        "action.created" => "Planned an action",
        "action.updated" => "Updated an action",
        "initiative.created" => "Defined an initiative",
        "initiative.proposed" => "Proposed an initiative",
        "initiative.approved" => "Approved an initiative",
        "initiative.updated" => "Changed an initiative",
        "initiative.report_viewed" => "Read an impact report",
        "results.summary_viewed" => "Opened You said, we did",
        "talk.read" => "Opened one of their conversations",
        "talk.scheduled" => "Scheduled a conversation",
        "talk.requested" => "Asked for a conversation",
        "talk.accepted" => "Set the time of an asked-for conversation",
        "talk.rescheduled" => "Moved a conversation",
        "talk.cancelled" => "Cancelled a conversation",
        "talk.held" => "Marked a conversation as held",
        "talk.notes_saved" => "Wrote notes in one of their conversations",
        "talk.action_added" => "Agreed an action item in a conversation",
        "talk.action_updated" => "Updated an action item of a conversation",
        "talk_template.saved" => "Saved a conversation template",
        "talk.counts_read" => "Read the conversation counts",
        "talk.feed_changed" => "Changed their calendar feed",
        _ => "Other changes",
    }
}

/// An entry as a sentence.
fn words(actor: &str, action: &str, subject: &str, detail: &str) -> String {
    let with = |text: String| {
        if detail.is_empty() {
            text
        } else {
            format!("{text} ({detail})")
        }
    };
    let what = match action {
        "audit_log.viewed" => "opened the audit log".to_owned(),
        "people.listed" => "opened the list of people".to_owned(),
        "person.viewed" => format!("viewed the record of {subject}"),
        "person.created" => with(format!("added {subject}")),
        "person.updated" => format!("changed the record of {subject}"),
        "person.role_changed" => with(format!("changed the role of {subject}")),
        "person.deactivated" => with(format!("recorded that {subject} left")),
        "person.reactivated" => format!("reactivated {subject}"),
        "person.erased" => format!("erased the personal data of {subject}"),
        "person.one_time_password" => format!("gave {subject} a one-time password"),
        "import.applied" => with("imported people from a CSV file".to_owned()),
        "results.viewed" => format!("viewed the results of {subject}, for {detail}"),
        "results.exported" => format!("exported the results of {subject}, for {detail}"),
        "data.exported" => "downloaded their own data".to_owned(),
        "feedback.view" => "read a feedback thread".to_owned(),
        "feedback.reply" => "replied to a feedback thread".to_owned(),
        "feedback.status" => "changed the status of a feedback thread".to_owned(),
        "feedback.assign" => "chose who follows up a feedback thread".to_owned(),
        "feedback.link" => "linked a feedback thread to an action".to_owned(),
        "feedback.abusive" => "hid a feedback thread as abusive".to_owned(),
        "feedback.unhide" => "showed a hidden feedback thread again".to_owned(),
        "settings.anonymity" => with("changed the anonymity settings".to_owned()),
        "settings.retention" => with("changed what is kept after results are out".to_owned()),
        "retention.applied" => with("deleted kept answers past their time".to_owned()),
        "action.created" => with("planned an action".to_owned()),
        "action.updated" => with("updated an action".to_owned()),
        "initiative.created" => with("defined an initiative".to_owned()),
        "initiative.proposed" => with("proposed an initiative".to_owned()),
        "initiative.approved" => with("approved an initiative".to_owned()),
        "initiative.updated" => with("changed an initiative".to_owned()),
        "initiative.report_viewed" => "read the impact report of an initiative".to_owned(),
        "results.summary_viewed" => "opened You said, we did".to_owned(),
        "talk.read" => "opened one of their conversations".to_owned(),
        "talk.scheduled" => "scheduled a conversation".to_owned(),
        "talk.requested" => "asked for a conversation".to_owned(),
        "talk.accepted" => "set the time of a conversation they were asked for".to_owned(),
        "talk.rescheduled" => "moved a conversation".to_owned(),
        "talk.cancelled" => "cancelled a conversation".to_owned(),
        "talk.held" => "marked a conversation as held".to_owned(),
        "talk.notes_saved" => "wrote notes in one of their conversations".to_owned(),
        "talk.action_added" => "agreed an action item in a conversation".to_owned(),
        "talk.action_updated" => "updated an action item of a conversation".to_owned(),
        "talk_template.saved" => with("saved a conversation template".to_owned()),
        "talk.counts_read" => "read the conversation counts".to_owned(),
        "talk.feed_changed" => with("changed their calendar feed".to_owned()),
        _ => with(format!("changed {subject}")),
    };
    format!("{actor} {what}")
}

/// The distinct actions recorded in an organization, for the filter.
pub async fn actions(db: &Db, org_id: i64) -> Result<Vec<String>, sqlx::Error> {
    store::actions(db, org_id).await
}
