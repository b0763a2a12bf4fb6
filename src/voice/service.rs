//! Use cases of the feedback box: send anonymously, follow a thread with
//! the code, and the recipients' inbox, replies, status and digest.

use std::collections::HashMap;

use askama::Template;
use serde::{Deserialize, Serialize};

use super::model::{self, FeedbackCode, Status};
use super::pending::{self, Pending};
use super::store::{self, Thread};
use crate::app::App;
use crate::audit::{self, Subject};
use crate::auth::{Actor, Permission};
use crate::error::{AppError, FieldError};
use crate::jobs::email;
use crate::jobs::{IntoOutcome, Job};
use crate::notify::email::OutgoingEmail;
use crate::org::service::Directory;
use crate::shared::Pillar;

/// When recipients hear of new messages, in the org's time zone.
pub const DIGEST_RULE: &str = "daily 09:00";

/// The organization's day today, `YYYY-MM-DD` in its time zone: the only
/// time a sender's message carries.
async fn today(app: &App, conn: &mut sqlx::AnyConnection, org_id: i64) -> Result<(String, String), AppError> {
    let (name, zone) = crate::org::service::time_zone(conn, org_id).await?;
    Ok((app.now().to_zoned(zone).date().to_string(), name))
}

fn pillar_of(raw: &str) -> Result<Option<Pillar>, AppError> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    Pillar::parse(raw.trim())
        .filter(|p| p.is_belonging())
        .map(Some)
        .ok_or_else(|| AppError::invalid("pillar", "choose acceptance, value, support or integration, or none"))
}

/// Who reads messages for `team`: its managers (people of the team with at
/// least the manager role); `None` means HR admins and owners.
fn recipients(dir: &Directory, team: Option<i64>) -> Vec<&crate::org::model::Person> {
    dir.active_people()
        .filter(|p| match team {
            Some(t) => p.team_id == Some(t) && crate::auth::policy::allows(p.role, Permission::ReceiveTeamFeedback),
            None => crate::auth::policy::allows(p.role, Permission::ReceiveOrgFeedback),
        })
        .collect()
}

pub fn group_label(dir: &Directory, team: Option<i64>) -> String {
    match team {
        Some(t) => format!("Managers of {}", dir.team_path(t)),
        None => "HR and the owners".to_owned(),
    }
}

/// What the sender is told after sending.
pub struct Sent {
    pub code: FeedbackCode,
    pub recipients: String,
    /// Set when the message went up from a team too small or without managers.
    pub moved_from: Option<String>,
}

/// What someone asks to send: to a team (or the organization), about a
/// pillar or topic, and the message.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct SendInput {
    pub team: String,
    pub pillar: String,
    pub topic: String,
    pub body: String,
}

/// Stores a new anonymous thread, sealed until the next digest writes it.
/// The actor is only checked to belong to the organization: nothing of them
/// is written.
pub async fn send(app: &App, actor: &Actor, input: &SendInput) -> Result<Sent, AppError> {
    let dir = crate::org::service::directory(&app.db, actor.org_id).await?;
    let mut problems = Vec::new();
    let chosen = match input.team.trim() {
        "" | "org" => Ok(None),
        raw => raw
            .parse::<i64>()
            .ok()
            .filter(|id| dir.team(*id).is_some_and(|t| t.active))
            .map(Some)
            .ok_or_else(|| problems.push(FieldError::new("team", "choose a team from the list"))),
    };
    let pillar = pillar_of(&input.pillar).map_err(|e| problems.push(FieldError::new("pillar", e.to_string())));
    let topic = model::parse_topic(&input.topic).map_err(|e| problems.push(FieldError::new("topic", e)));
    let body = model::parse_body(&input.body).map_err(|e| problems.push(FieldError::new("body", e)));
    let (Ok(chosen), Ok(pillar), Ok(topic), Ok(body)) = (chosen, pillar, topic, body) else {
        return Err(AppError::fields(problems));
    };
    let mut conn = app.db.acquire().await?;
    let k = crate::org::service::anonymity_k(&mut conn, actor.org_id).await?;
    let team = model::route(
        chosen,
        crate::privacy::rules::feedback_min_team(k),
        |id| dir.team(id).and_then(|t| t.parent_id),
        |id| dir.people_within(id).filter(|p| p.active).count(),
        |id| !recipients(&dir, Some(id)).is_empty(),
    );
    let (day, zone) = today(app, &mut conn, actor.org_id).await?;
    let code = FeedbackCode::generate();
    // Sealed until the digest: the thread itself is written only then.
    let waiting = Pending::Thread {
        team_id: team,
        pillar: pillar.map(|p| p.as_str().to_owned()),
        topic,
        code_hash: code.hash(),
        body,
        day,
    };
    pending::insert(&mut conn, &app.master_key, actor.org_id, &waiting).await?;
    drop(conn);
    ensure_digest(app, actor.org_id, &zone).await?;
    Ok(Sent {
        code,
        recipients: group_label(&dir, team),
        moved_from: match chosen {
            Some(c) if team != Some(c) => Some(dir.team_path(c)),
            _ => None,
        },
    })
}

/// When recipients may be told of new messages: batches only, never at
/// once, so that the arrival time points at nobody.
pub const DIGEST_CHOICES: [(&str, &str); 4] = [
    ("daily 09:00", "Every day at 9:00"),
    ("daily 17:00", "Every day at 17:00"),
    ("weekly monday 09:00", "Every Monday at 9:00"),
    ("weekly friday 16:00", "Every Friday at 16:00"),
];

fn digest_name(org_id: i64) -> String {
    format!("{}.{org_id}", Digest::KIND)
}

/// The organization's digest rule (the default until changed).
pub async fn digest_rule(app: &App, org_id: i64) -> Result<String, AppError> {
    Ok(crate::jobs::schedule::rule_of(app, &digest_name(org_id))
        .await?
        .unwrap_or_else(|| DIGEST_RULE.to_owned()))
}

/// Owners choose when digests go out, in the organization's time zone.
pub async fn set_digest_rule(app: &App, actor: &Actor, rule: &str) -> Result<(), AppError> {
    actor.require(crate::auth::Permission::ManageSettings)?;
    let rule = DIGEST_CHOICES
        .iter()
        .find(|(r, _)| *r == rule.trim())
        .map(|(r, _)| *r)
        .ok_or_else(|| AppError::invalid("digest", "choose one of the times offered"))?;
    let (_, zone) = today(app, &mut *app.db.acquire().await?, actor.org_id).await?;
    crate::jobs::schedule::reschedule(
        app,
        Some(actor.org_id),
        &digest_name(actor.org_id),
        &Digest { org_id: actor.org_id },
        rule,
        &zone,
    )
    .await
    .map_err(AppError::internal)
}

async fn ensure_digest(app: &App, org_id: i64, zone: &str) -> Result<(), AppError> {
    crate::jobs::schedule::ensure(
        app,
        Some(org_id),
        &digest_name(org_id),
        &Digest { org_id },
        DIGEST_RULE,
        zone,
    )
    .await
    .map_err(AppError::internal)
}

/// One message as shown in a thread.
#[derive(Clone, Debug, Serialize)]
pub struct MessageView {
    pub from_sender: bool,
    /// A recipient's name, or the sender's if they chose to sign.
    pub author: Option<String>,
    pub body: String,
    pub day: String,
    /// The sender's message is waiting for the next digest.
    pub waiting: bool,
}

#[derive(Clone, Debug)]
pub struct ThreadView {
    pub id: i64,
    pub recipients: String,
    pub pillar: Option<String>,
    pub topic: Option<String>,
    pub status: Status,
    pub assignee: Option<(i64, String)>,
    pub closing_note: Option<String>,
    pub opened_day: String,
    pub abusive: bool,
    /// The last day an owner may undo hiding it, when hidden.
    pub undo_until: Option<String>,
    pub messages: Vec<MessageView>,
    /// The action a recipient linked it to, with its status.
    pub action: Option<crate::insights::service::Linked>,
}

impl ThreadView {
    /// Whether the sender may still write: not once resolved or hidden.
    pub fn open(&self) -> bool {
        self.status != Status::Resolved && !self.abusive
    }

    /// Whether it is linked to the action `id`.
    pub fn linked_to(&self, id: &i64) -> bool {
        self.action.as_ref().is_some_and(|a| a.id == *id)
    }
}

async fn view_of(
    conn: &mut sqlx::AnyConnection,
    dir: &Directory,
    thread: &Thread,
    for_recipient: bool,
) -> Result<ThreadView, AppError> {
    let name = |id: Option<i64>| id.and_then(|i| dir.person(i)).map(|p| p.name.clone());
    let messages = store::messages(conn, thread.id)
        .await?
        .into_iter()
        // Recipients see the sender's words only once a digest brought them.
        .filter(|m| !for_recipient || m.delivered)
        .map(|m| MessageView {
            from_sender: m.from_sender,
            author: name(m.author_id),
            body: m.body,
            day: m.day,
            waiting: !m.delivered,
        })
        .collect();
    let action = match thread.action_id {
        Some(id) => crate::insights::service::linked(conn, thread.org_id, id).await?,
        None => None,
    };
    Ok(ThreadView {
        action,
        id: thread.id,
        recipients: group_label(dir, thread.team_id),
        pillar: thread.pillar.clone(),
        topic: thread.topic.clone(),
        status: thread.status,
        assignee: thread.assignee_id.and_then(|id| name(Some(id)).map(|n| (id, n))),
        closing_note: thread.closing_note.clone(),
        opened_day: thread.opened_day.clone(),
        abusive: thread.abusive,
        undo_until: thread
            .hidden_day
            .as_deref()
            .filter(|_| thread.abusive)
            .and_then(undo_until)
            .map(|d| d.to_string()),
        messages,
    })
}

/// A thread still waiting for its first digest: its organization and
/// what the sender wrote.
async fn waiting_thread(
    conn: &mut sqlx::AnyConnection,
    master: &crate::privacy::seal::MasterKey,
    code_hash: &str,
) -> Result<Option<(i64, Pending)>, sqlx::Error> {
    Ok(pending::for_code(conn, master, code_hash)
        .await?
        .into_iter()
        .find(|(_, _, p)| matches!(p, Pending::Thread { .. }))
        .map(|(_, org, p)| (org, p)))
}

/// The thread a code opens, as its sender sees it: what a digest has
/// delivered, and after it what still waits for the next one.
pub async fn open_by_code(app: &App, code: &FeedbackCode) -> Result<ThreadView, AppError> {
    let code_hash = code.hash();
    let (waiting, thread) = {
        let mut conn = app.db.acquire().await?;
        let waiting = pending::for_code(&mut conn, &app.master_key, &code_hash).await?;
        (waiting, store::thread_by_code(&mut conn, &code_hash).await?)
    };
    let (dir, mut view) = match thread {
        Some(thread) => {
            let dir = crate::org::service::directory(&app.db, thread.org_id).await?;
            let view = view_of(&mut *app.db.acquire().await?, &dir, &thread, false).await?;
            (dir, view)
        }
        None => {
            let first = waiting.iter().find(|(_, _, p)| matches!(p, Pending::Thread { .. }));
            let Some((
                _,
                org_id,
                Pending::Thread {
                    team_id,
                    pillar,
                    topic,
                    day,
                    ..
                },
            )) = first
            else {
                return Err(AppError::NotFound);
            };
            let dir = crate::org::service::directory(&app.db, *org_id).await?;
            let view = ThreadView {
                id: 0,
                recipients: group_label(&dir, *team_id),
                pillar: pillar.clone(),
                topic: topic.clone(),
                status: Status::New,
                assignee: None,
                closing_note: None,
                opened_day: day.clone(),
                abusive: false,
                undo_until: None,
                messages: Vec::new(),
                action: None,
            };
            (dir, view)
        }
    };
    for (_, _, p) in waiting {
        let (body, day, author) = match p {
            Pending::Thread { body, day, .. } => (body, day, None),
            Pending::FollowUp {
                body, day, author_id, ..
            } => (body, day, author_id),
        };
        let author = author.and_then(|id| dir.person(id)).map(|p| p.name.clone());
        view.messages.push(MessageView {
            from_sender: true,
            author,
            body,
            day,
            waiting: true,
        });
    }
    Ok(view)
}

/// The sender writes again. `signed_by` is set only when the sender ticked
/// "add my name" while signed in: then, and only then, their name is kept
/// with that message.
pub async fn reply_as_sender(
    app: &App,
    code: &FeedbackCode,
    body: &str,
    signed_by: Option<&Actor>,
) -> Result<ThreadView, AppError> {
    let body = model::parse_body(body).map_err(|e| AppError::invalid("body", e))?;
    let code_hash = code.hash();
    let mut conn = app.db.acquire().await?;
    // The thread, delivered or still waiting for its first digest.
    let org_id = match store::thread_by_code(&mut conn, &code_hash).await? {
        Some(thread) if thread.abusive || thread.status == Status::Resolved => {
            return Err(AppError::conflict(
                "body",
                "this conversation is closed; send a new message to raise something else",
            ));
        }
        Some(thread) => thread.org_id,
        None => {
            waiting_thread(&mut conn, &app.master_key, &code_hash)
                .await?
                .ok_or(AppError::NotFound)?
                .0
        }
    };
    let author = match signed_by {
        Some(a) if a.org_id == org_id => Some(a.person_id),
        Some(_) => return Err(AppError::invalid("sign", "you can only sign in your own organization")),
        None => None,
    };
    let (day, _) = today(app, &mut conn, org_id).await?;
    let waiting = Pending::FollowUp {
        code_hash,
        author_id: author,
        body,
        day,
    };
    pending::insert(&mut conn, &app.master_key, org_id, &waiting).await?;
    drop(conn);
    open_by_code(app, code).await
}

// --- recipients -------------------------------------------------------------

/// May `actor` read this thread as a recipient? Team threads: that team's
/// managers; org-wide threads: HR admins and owners. Threads hidden as
/// abusive: owners only.
fn may_read(actor: &Actor, my_team: Option<i64>, thread: &Thread) -> bool {
    if thread.org_id != actor.org_id || thread.delivered_day.is_none() {
        return false;
    }
    if thread.abusive {
        return crate::auth::policy::is_owner(actor.role);
    }
    match thread.team_id {
        Some(t) => actor.can(Permission::ReceiveTeamFeedback) && my_team == Some(t),
        None => actor.can(Permission::ReceiveOrgFeedback),
    }
}

fn my_team(dir: &Directory, actor: &Actor) -> Option<i64> {
    dir.person(actor.person_id).and_then(|p| p.team_id)
}

/// Whether anything can reach `actor` as a recipient: HR admins and owners
/// always, managers when they have a team.
pub fn receives(dir: &Directory, actor: &Actor) -> bool {
    actor.can(Permission::ReceiveOrgFeedback)
        || (actor.can(Permission::ReceiveTeamFeedback) && my_team(dir, actor).is_some())
}

/// A row of the inbox.
#[derive(Clone, Debug)]
pub struct InboxRow {
    pub id: i64,
    pub recipients: String,
    pub pillar: Option<String>,
    pub topic: Option<String>,
    pub status: Status,
    pub assignee: Option<String>,
    pub opened_day: String,
    pub last_day: String,
    pub messages: i64,
    /// The sender wrote last: a reply is due.
    pub awaiting_reply: bool,
}

/// Response times of one recipient group.
#[derive(Clone, Debug)]
pub struct GroupStats {
    pub recipients: String,
    pub threads: usize,
    pub open: usize,
    pub replied: usize,
    /// Median whole days from delivery to the first reply.
    pub median_days_to_reply: Option<f64>,
}

pub struct Inbox {
    pub rows: Vec<InboxRow>,
    pub stats: Vec<GroupStats>,
    /// Whether the actor receives anything at all.
    pub receives: bool,
}

/// The threads `actor` receives (or, for `hidden`, the ones hidden as
/// abusive, owners only), newest first, filtered by status.
/// Threads delivered to this person that nobody has acknowledged yet: the
/// count beside the inbox in the navigation.
pub async fn waiting(app: &App, actor: &Actor) -> Result<u32, AppError> {
    if !actor.can(Permission::ReceiveTeamFeedback) {
        return Ok(0);
    }
    let dir = crate::org::service::directory(&app.db, actor.org_id).await?;
    let mine = my_team(&dir, actor);
    let threads = store::delivered_threads(&mut *app.db.acquire().await?, actor.org_id).await?;
    Ok(threads
        .iter()
        .filter(|t| !t.abusive && t.status == Status::New && may_read(actor, mine, t))
        .count() as u32)
}

pub async fn inbox(app: &App, actor: &Actor, status: Option<Status>, hidden: bool) -> Result<Inbox, AppError> {
    if hidden && !crate::auth::policy::is_owner(actor.role) {
        return Err(AppError::Forbidden);
    }
    let dir = crate::org::service::directory(&app.db, actor.org_id).await?;
    let mine = my_team(&dir, actor);
    let mut conn = app.db.acquire().await?;
    let threads: Vec<Thread> = store::delivered_threads(&mut conn, actor.org_id)
        .await?
        .into_iter()
        .filter(|t| may_read(actor, mine, t) && t.abusive == hidden)
        .collect();
    let summaries = store::thread_summaries(&mut conn, actor.org_id).await?;
    let mut by_group: HashMap<Option<i64>, GroupStats> = HashMap::new();
    let mut days: HashMap<Option<i64>, Vec<i64>> = HashMap::new();
    for t in threads.iter().filter(|t| !t.abusive) {
        let g = by_group.entry(t.team_id).or_insert_with(|| GroupStats {
            recipients: group_label(&dir, t.team_id),
            threads: 0,
            open: 0,
            replied: 0,
            median_days_to_reply: None,
        });
        g.threads += 1;
        if t.status != Status::Resolved {
            g.open += 1;
        }
        if let (Some(from), Some(to)) = (&t.delivered_day, &t.first_reply_day) {
            g.replied += 1;
            if let Some(d) = model::days_between(from, to) {
                days.entry(t.team_id).or_default().push(d.max(0));
            }
        }
    }
    let mut stats: Vec<GroupStats> = by_group
        .into_iter()
        .map(|(team, mut g)| {
            g.median_days_to_reply = model::median(days.remove(&team).unwrap_or_default());
            g
        })
        .collect();
    stats.sort_by(|a, b| a.recipients.cmp(&b.recipients));
    let receives = receives(&dir, actor);
    let rows = threads
        .iter()
        .filter(|t| status.is_none_or(|s| t.status == s))
        .map(|t| {
            let (count, last, sender_last) = summaries.get(&t.id).cloned().unwrap_or((0, t.opened_day.clone(), true));
            InboxRow {
                id: t.id,
                recipients: group_label(&dir, t.team_id),
                pillar: t.pillar.clone(),
                topic: t.topic.clone(),
                status: t.status,
                assignee: t.assignee_id.and_then(|id| dir.person(id)).map(|p| p.name.clone()),
                opened_day: t.opened_day.clone(),
                last_day: last,
                messages: count,
                awaiting_reply: sender_last && t.status != Status::Resolved,
            }
        })
        .collect();
    Ok(Inbox { rows, stats, receives })
}

/// A thread as a recipient sees it, with the people it may be assigned to.
pub async fn thread_for_recipient(
    app: &App,
    actor: &Actor,
    id: i64,
) -> Result<(ThreadView, Vec<(i64, String)>), AppError> {
    let dir = crate::org::service::directory(&app.db, actor.org_id).await?;
    let mut conn = app.db.acquire().await?;
    let thread = readable(&mut conn, &dir, actor, id).await?;
    let mut view = view_of(&mut conn, &dir, &thread, true).await?;
    // The undo is offered only while it would be taken.
    let (day, _) = today(app, &mut conn, actor.org_id).await?;
    if view.undo_until.as_deref().is_some_and(|until| until < day.as_str()) {
        view.undo_until = None;
    }
    drop(conn);
    audit::record_now(
        &app.db,
        actor,
        "feedback.view",
        Subject::FeedbackThread(id),
        "",
        app.now(),
    )
    .await?;
    let assignable = recipients(&dir, thread.team_id)
        .into_iter()
        .map(|p| (p.id, p.name.clone()))
        .collect();
    Ok((view, assignable))
}

async fn readable(conn: &mut sqlx::AnyConnection, dir: &Directory, actor: &Actor, id: i64) -> Result<Thread, AppError> {
    let thread = store::thread(conn, actor.org_id, id).await?.ok_or(AppError::NotFound)?;
    if !may_read(actor, my_team(dir, actor), &thread) {
        return Err(AppError::NotFound);
    }
    Ok(thread)
}

/// A change a recipient makes to a thread.
pub enum Change {
    Reply(String),
    Status {
        status: String,
        note: String,
    },
    Assign(String),
    /// An action's id, or empty to unlink.
    LinkAction(String),
    MarkAbusive,
}

/// How long an owner may undo "hide as abusive".
pub const UNDO_DAYS: i64 = 30;

/// The last day a thread hidden on `hidden_day` may be shown again.
pub fn undo_until(hidden_day: &str) -> Option<jiff::civil::Date> {
    let day: jiff::civil::Date = hidden_day.parse().ok()?;
    day.checked_add(jiff::Span::new().days(UNDO_DAYS)).ok()
}

/// Refuses, as [`change`] would, a recipient who may not change the
/// thread or a thread that cannot change (the page that asks first).
pub async fn may_change(app: &App, actor: &Actor, id: i64) -> Result<(), AppError> {
    let dir = crate::org::service::directory(&app.db, actor.org_id).await?;
    let thread = readable(&mut *app.db.acquire().await?, &dir, actor, id).await?;
    if thread.abusive {
        return Err(AppError::conflict("thread", "this thread is already hidden as abusive"));
    }
    Ok(())
}

/// An owner shows a thread hidden as abusive again, within [`UNDO_DAYS`]
/// of hiding it; audited.
pub async fn unhide(app: &App, actor: &Actor, id: i64) -> Result<(), AppError> {
    actor.require(Permission::ManageOwners)?;
    let dir = crate::org::service::directory(&app.db, actor.org_id).await?;
    let (day, _) = today(app, &mut *app.db.acquire().await?, actor.org_id).await?;
    let mut tx = app.db.begin_rule(actor.org_id).await?;
    let thread = readable(&mut tx, &dir, actor, id).await?;
    let until = thread.hidden_day.as_deref().and_then(undo_until);
    let today: jiff::civil::Date = day.parse().map_err(AppError::internal)?;
    match until {
        _ if !thread.abusive => return Err(AppError::conflict("thread", "this thread is not hidden")),
        Some(until) if today <= until => {}
        _ => {
            return Err(AppError::conflict(
                "thread",
                format!("hiding can be undone for {UNDO_DAYS} days only, and that time has passed"),
            ));
        }
    }
    store::unhide(&mut tx, &thread).await?;
    audit::record(
        &mut tx,
        actor,
        "feedback.unhide",
        Subject::FeedbackThread(id),
        "",
        app.now(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Applies a recipient's change, in one transaction, and audits it.
pub async fn change(app: &App, actor: &Actor, id: i64, change: Change) -> Result<(), AppError> {
    // An action to link must be one the recipient reads (checked before
    // the transaction, which holds the connection).
    let linking = match &change {
        Change::LinkAction(raw) => match raw.trim() {
            "" => Some(None),
            raw => {
                let refused = || AppError::invalid("action", "choose one of the actions you can see");
                let action = raw.parse::<i64>().map_err(|_| refused())?;
                crate::insights::service::detail(app, actor, action)
                    .await
                    .map_err(|e| match e {
                        AppError::NotFound => refused(),
                        other => other,
                    })?;
                Some(Some(action))
            }
        },
        _ => None,
    };
    let dir = crate::org::service::directory(&app.db, actor.org_id).await?;
    let (day, _) = today(app, &mut *app.db.acquire().await?, actor.org_id).await?;
    let mut tx = app.db.begin_rule(actor.org_id).await?;
    let thread = readable(&mut tx, &dir, actor, id).await?;
    if thread.abusive {
        return Err(AppError::conflict(
            "thread",
            "this thread is hidden as abusive and cannot change",
        ));
    }
    let action = match change {
        Change::Reply(body) => {
            if thread.status == Status::Resolved {
                return Err(AppError::conflict(
                    "body",
                    "the thread is resolved; set it in progress to reply",
                ));
            }
            let body = model::parse_body(&body).map_err(|e| AppError::invalid("body", e))?;
            store::insert_message(&mut tx, &thread, false, Some(actor.person_id), &body, &day).await?;
            store::note_reply(&mut tx, &thread, &day).await?;
            "feedback.reply"
        }
        Change::Status { status, note } => {
            let status = Status::parse(&status).map_err(|e| AppError::invalid("status", e))?;
            let note = note.trim();
            if note.chars().count() > model::MAX_NOTE {
                return Err(AppError::invalid(
                    "note",
                    format!("at most {} characters", model::MAX_NOTE),
                ));
            }
            if status == Status::Resolved && note.is_empty() {
                return Err(AppError::invalid(
                    "note",
                    "say in a sentence what was done: the sender reads it",
                ));
            }
            let note = (status == Status::Resolved).then_some(note);
            store::set_status(&mut tx, &thread, status.as_str(), note).await?;
            "feedback.status"
        }
        Change::Assign(raw) => {
            let assignee = match raw.trim() {
                "" => None,
                raw => {
                    let id: i64 = raw
                        .parse()
                        .map_err(|_| AppError::invalid("assignee", "choose someone from the list"))?;
                    if !recipients(&dir, thread.team_id).iter().any(|p| p.id == id) {
                        return Err(AppError::invalid(
                            "assignee",
                            "choose one of the people who receive this thread",
                        ));
                    }
                    Some(id)
                }
            };
            store::set_assignee(&mut tx, &thread, assignee).await?;
            "feedback.assign"
        }
        Change::LinkAction(_) => {
            store::set_action(&mut tx, &thread, linking.flatten()).await?;
            "feedback.link"
        }
        Change::MarkAbusive => {
            store::mark_abusive(&mut tx, &thread, &day).await?;
            "feedback.abusive"
        }
    };
    audit::record(&mut tx, actor, action, Subject::FeedbackThread(id), "", app.now()).await?;
    tx.commit().await?;
    Ok(())
}

// --- digest -----------------------------------------------------------------

/// The digest of an organization, on its schedule: delivers what senders
/// wrote since the last one (see [`deliver`]).
#[derive(Serialize, Deserialize)]
pub struct Digest {
    pub org_id: i64,
}

impl crate::jobs::Job for Digest {
    const KIND: &'static str = "voice.digest";

    async fn run(self, app: &App) -> Result<(), String> {
        deliver(app, self.org_id).await.into_outcome()
    }
}

/// What a recipient's digest says, for both parts of the email.
struct DigestMail<'a> {
    name: &'a str,
    lines: &'a [String],
    link: &'a str,
}

#[derive(Template)]
#[template(path = "voice/templates/email_digest.txt")]
struct DigestText<'a> {
    m: &'a DigestMail<'a>,
}

#[derive(Template)]
#[template(path = "voice/templates/email_digest.html")]
struct DigestHtml<'a> {
    m: &'a DigestMail<'a>,
}

/// Delivers what senders wrote since the last digest and emails each
/// recipient how much is new — counts only: the words stay in `belong`.
pub async fn deliver(app: &App, org_id: i64) -> Result<usize, AppError> {
    let dir = crate::org::service::directory(&app.db, org_id).await?;
    let (day, _) = today(app, &mut *app.db.acquire().await?, org_id).await?;
    let link = format!("{}/voice/inbox", app.settings.public_url.trim_end_matches('/'));
    let mut tx = app.db.begin().await?;
    write_waiting(&mut tx, &app.master_key, org_id, &day).await?;
    let groups = store::deliver_waiting(&mut tx, org_id, &day).await?;
    let mut per_person: HashMap<i64, Vec<String>> = HashMap::new();
    for (team, threads, messages) in &groups {
        let mut parts = Vec::new();
        if *threads > 0 {
            parts.push(plural(*threads, "new message", "new messages"));
        }
        if *messages > 0 {
            parts.push(plural(*messages, "new reply from a sender", "new replies from senders"));
        }
        let line = format!("{}: {}", group_label(&dir, *team), parts.join(" and "));
        for p in recipients(&dir, *team) {
            per_person.entry(p.id).or_default().push(line.clone());
        }
    }
    let mut sent = 0;
    for (person, lines) in &per_person {
        let Some(p) = dir.person(*person) else { continue };
        let m = &DigestMail {
            name: &p.name,
            lines,
            link: &link,
        };
        let subject = "New in the feedback box".to_owned();
        let message = OutgoingEmail::of(p.email.clone(), subject, &DigestText { m }, &DigestHtml { m });
        email::queue(&mut tx, &app.master_key, Some(org_id), &message, app.now()).await?;
        sent += 1;
    }
    tx.commit().await?;
    Ok(sent)
}

/// Opens what senders wrote since the last digest and writes it, in random
/// order: new threads (with random ids), then follow-ups. Each carries the
/// digest's day, not the day it was written: nothing kept dates a message
/// finer than its batch. Then deletes the sealed rows.
async fn write_waiting(
    conn: &mut sqlx::AnyConnection,
    master: &crate::privacy::seal::MasterKey,
    org_id: i64,
    day: &str,
) -> Result<(), AppError> {
    use rand::seq::SliceRandom;
    let mut waiting = pending::all(conn, master, Some(org_id)).await?;
    waiting.shuffle(&mut rand::thread_rng());
    // Threads first, so that a follow-up finds a thread sent in this batch.
    waiting.sort_by_key(|(_, _, p)| !matches!(p, Pending::Thread { .. }));
    for (_, _, p) in &waiting {
        match p {
            Pending::Thread {
                team_id,
                pillar,
                topic,
                code_hash,
                body,
                ..
            } => {
                let id = crate::db::new_id();
                store::insert_thread(
                    conn,
                    &store::NewThread {
                        id,
                        org_id,
                        team_id: *team_id,
                        pillar: pillar.as_deref(),
                        topic: topic.as_deref(),
                        code_hash,
                        day,
                    },
                )
                .await?;
                let thread = store::thread(conn, org_id, id).await?.ok_or(AppError::NotFound)?;
                store::insert_message(conn, &thread, true, None, body, day).await?;
            }
            Pending::FollowUp {
                code_hash,
                author_id,
                body,
                ..
            } => {
                // A thread gone meanwhile (erased) takes nothing.
                if let Some(thread) = store::thread_by_code(conn, code_hash).await? {
                    store::insert_message(conn, &thread, true, *author_id, body, day).await?;
                }
            }
        }
    }
    let ids: Vec<i64> = waiting.iter().map(|(id, _, _)| *id).collect();
    pending::delete(conn, &ids).await?;
    Ok(())
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}
