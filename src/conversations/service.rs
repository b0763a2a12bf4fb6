//! Use cases of conversations. The rule every read follows: a talk, its
//! notes and its action items exist only for its two people (private
//! notes for their author alone); anyone else gets "not found", HR and
//! owners included, who read counts (`overview`). Words are sealed under
//! the master key before they reach the store and opened only for a
//! reader who may see them.

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;

use super::cadence::due;
use super::mail::{email, event, link, moment};
use super::model::{self, ActionInput, Kind, Question, Status, TalkInput};
use super::store::{self, ActionRow, CadenceRow, NoteRow, TalkRow, TemplateRow};
use crate::app::App;
use crate::audit::{self, Subject};
use crate::auth::{Actor, Permission};
use crate::db::new_id;
use crate::error::{AppError, FieldError};
use crate::notify::ical;
use crate::org::model::Person;
use crate::org::service::Directory;

/// The built-in templates, created for the organization the first time
/// it needs them (one of each, however many requests race).
pub(super) async fn ensure_templates(conn: &mut sqlx::AnyConnection, org_id: i64, now: i64) -> Result<(), sqlx::Error> {
    let have = store::templates(conn, org_id).await?;
    for kind in Kind::BUILT_IN {
        if have.iter().any(|t| t.kind == kind.as_str()) {
            continue;
        }
        let (name, questions, _) = kind.built_in();
        let id = new_id();
        let row = TemplateRow {
            id,
            family: id,
            version: 1,
            kind: kind.as_str().to_owned(),
            name: name.to_owned(),
            questions,
            current: true,
        };
        store::insert_template(conn, org_id, &row, now).await?;
    }
    Ok(())
}

/// Every version of the organization's templates (built-ins created).
pub async fn all_templates(app: &App, org_id: i64) -> Result<Vec<TemplateRow>, AppError> {
    let mut conn = app.db.acquire().await?;
    if store::templates(&mut conn, org_id).await?.len() < Kind::BUILT_IN.len() {
        ensure_templates(&mut conn, org_id, app.now().as_second()).await?;
    }
    Ok(store::templates(&mut conn, org_id).await?)
}

/// The templates new talks use: each family's current version.
pub async fn templates(app: &App, actor: &Actor) -> Result<Vec<TemplateRow>, AppError> {
    Ok(all_templates(app, actor.org_id)
        .await?
        .into_iter()
        .filter(|t| t.current)
        .collect())
}

/// Saves a template (HR): a new one, or a change to one. A change to a
/// version past talks used adds a version, so they keep their questions.
pub async fn save_template(
    app: &App,
    actor: &Actor,
    id: Option<i64>,
    name: &str,
    questions: &[Question],
) -> Result<i64, AppError> {
    actor.require(Permission::ManageConversations)?;
    let mut tx = app.db.begin_rule(actor.org_id).await?;
    let now = app.now().as_second();
    ensure_templates(&mut tx, actor.org_id, now).await?;
    let all = store::templates(&mut tx, actor.org_id).await?;
    let saved = match id {
        None => {
            let id = new_id();
            let row = TemplateRow {
                id,
                family: id,
                version: 1,
                kind: Kind::Custom.as_str().to_owned(),
                name: name.to_owned(),
                questions: questions.to_vec(),
                current: true,
            };
            store::insert_template(&mut tx, actor.org_id, &row, now).await?;
            id
        }
        Some(id) => {
            let old = all.iter().find(|t| t.id == id && t.current).ok_or(AppError::NotFound)?;
            if store::template_used(&mut tx, actor.org_id, id).await? {
                let version = all
                    .iter()
                    .filter(|t| t.family == old.family)
                    .map(|t| t.version)
                    .max()
                    .unwrap_or(1)
                    + 1;
                let row = TemplateRow {
                    id: new_id(),
                    version,
                    name: name.to_owned(),
                    questions: questions.to_vec(),
                    current: true,
                    ..old.clone()
                };
                store::retire_template(&mut tx, actor.org_id, old.id).await?;
                store::insert_template(&mut tx, actor.org_id, &row, now).await?;
                row.id
            } else {
                store::rewrite_template(&mut tx, actor.org_id, id, name, questions).await?;
                id
            }
        }
    };
    audit::record(
        &mut tx,
        actor,
        "talk_template.saved",
        Subject::TalkTemplate(saved),
        name,
        app.now(),
    )
    .await?;
    tx.commit().await?;
    Ok(saved)
}

/// An action item as its two people see it.
#[derive(Clone, Debug)]
pub struct ActionView {
    pub id: i64,
    pub text: String,
    pub owner_id: i64,
    pub owner: String,
    pub due_date: String,
    pub status: String,
    pub overdue: bool,
    /// Agreed in an earlier talk than the one shown.
    pub earlier: bool,
}

impl ActionView {
    pub fn is(&self, status: &str) -> bool {
        self.status == status
    }
}

/// One question of a talk with its notes, as one of the two reads it.
#[derive(Clone, Debug)]
pub struct QuestionView {
    pub index: usize,
    pub text: String,
    pub pillar: Option<crate::shared::Pillar>,
    pub shared: String,
    /// When the shared note was last written (0: never), so a save over
    /// a note the other changed meanwhile is caught.
    pub shared_seen: i64,
    pub shared_by: Option<String>,
    pub private: String,
    pub shared_field: &'static str,
    pub private_field: &'static str,
}

/// A talk as one of its two people sees it.
#[derive(Clone, Debug)]
pub struct TalkView {
    pub id: i64,
    pub template: String,
    pub kind: String,
    pub other_id: i64,
    pub other: String,
    pub organizer: String,
    pub i_organize: bool,
    pub status: Status,
    /// In the reader's time zone; empty while requested.
    pub when: String,
    pub zone: String,
    pub minutes: i64,
    /// The organizer's zone, which the time form is written in.
    pub organizer_zone: String,
    /// The time in the organizer's zone, as the time form shows it.
    pub date: String,
    pub time: String,
    pub past: bool,
    /// Asked for by the reader (the other sets the time).
    pub asked_by_me: bool,
    pub questions: Vec<QuestionView>,
    pub actions: Vec<ActionView>,
    /// The pair's open items from earlier talks.
    pub carried: Vec<ActionView>,
}

impl TalkView {
    /// Notes and items may be written: the talk is on (not asked for, not
    /// cancelled).
    pub fn writable(&self) -> bool {
        matches!(self.status, Status::Scheduled | Status::Held)
    }
}

fn zone_of(person: Option<&Person>, fallback: &TimeZone) -> TimeZone {
    person
        .and_then(|p| TimeZone::get(&p.time_zone).ok())
        .unwrap_or_else(|| fallback.clone())
}

fn name_of(dir: &Directory, id: i64) -> String {
    dir.person(id)
        .map_or_else(|| "someone who left".into(), |p| p.name.clone())
}

pub(super) fn note_purpose(org_id: i64, talk: i64, question: i64, scope: i64) -> Vec<u8> {
    format!("talk note {org_id} {talk} {question} {scope}").into_bytes()
}

pub(super) fn action_purpose(org_id: i64, id: i64) -> Vec<u8> {
    format!("talk action {org_id} {id}").into_bytes()
}

const UNREADABLE: &str = "(This text was sealed under another master key and cannot be opened.)";

fn open(app: &App, purpose: &[u8], sealed: &[u8]) -> String {
    app.master_key
        .open(purpose, sealed)
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_else(|| UNREADABLE.to_owned())
}

fn action_view(app: &App, org_id: i64, dir: &Directory, a: &ActionRow, today: Date, talk_id: i64) -> ActionView {
    ActionView {
        id: a.id,
        text: open(app, &action_purpose(org_id, a.id), &a.sealed),
        owner_id: a.owner_id,
        owner: name_of(dir, a.owner_id),
        overdue: a.status == "open" && a.due_date.as_str() < today.to_string().as_str(),
        due_date: a.due_date.clone(),
        status: a.status.clone(),
        earlier: a.talk_id != talk_id,
    }
}

/// The talk, if the actor is one of its two people; otherwise not found,
/// whoever asks.
async fn own_talk(conn: &mut sqlx::AnyConnection, actor: &Actor, id: i64) -> Result<TalkRow, AppError> {
    store::talk_by_id(conn, actor.org_id, id)
        .await?
        .filter(|t| t.has(actor.person_id))
        .ok_or(AppError::NotFound)
}

/// One talk with its questions, notes and items, for one of its two.
pub async fn talk(app: &App, actor: &Actor, id: i64) -> Result<TalkView, AppError> {
    let mut conn = app.db.acquire().await?;
    let t = own_talk(&mut conn, actor, id).await?;
    let view = talk_view(app, &mut conn, actor, &t).await?;
    audit::record(&mut conn, actor, "talk.read", Subject::Talk(t.id), "", app.now()).await?;
    Ok(view)
}

pub(super) async fn talk_view(
    app: &App,
    conn: &mut sqlx::AnyConnection,
    actor: &Actor,
    t: &TalkRow,
) -> Result<TalkView, AppError> {
    let org_id = actor.org_id;
    let dir = Directory::with_people(conn, org_id, &[t.organizer_id, t.guest_id]).await?;
    let (_, org_zone) = crate::org::service::time_zone(conn, org_id).await?;
    let reader_zone = zone_of(dir.person(actor.person_id), &org_zone);
    let organizer_zone = TimeZone::get(&t.zone).unwrap_or_else(|_| org_zone.clone());
    let template = store::templates(conn, org_id)
        .await?
        .into_iter()
        .find(|x| x.id == t.template_id)
        .ok_or_else(|| AppError::internal("a talk's template is missing"))?;
    let notes = store::notes(conn, org_id, t.id, actor.person_id).await?;
    let note = |q: usize, scope: i64| notes.iter().find(|n| n.question == q as i64 && n.scope == scope);
    let questions = template
        .questions
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let shared = note(i, 0);
            QuestionView {
                index: i,
                text: q.text.clone(),
                pillar: q.pillar,
                shared: shared.map_or_else(String::new, |n| {
                    open(app, &note_purpose(org_id, t.id, i as i64, 0), &n.sealed)
                }),
                shared_seen: shared.map_or(0, |n| n.updated_at),
                shared_by: shared.map(|n| name_of(&dir, n.updated_by)),
                private: note(i, actor.person_id).map_or_else(String::new, |n| {
                    open(app, &note_purpose(org_id, t.id, i as i64, actor.person_id), &n.sealed)
                }),
                shared_field: note_fields(i).0,
                private_field: note_fields(i).1,
            }
        })
        .collect();
    let today = app.now().to_zoned(reader_zone.clone()).date();
    let items = store::actions_of_pair(conn, org_id, t.pair()).await?;
    let actions = items
        .iter()
        .filter(|a| a.talk_id == t.id)
        .map(|a| action_view(app, org_id, &dir, a, today, t.id))
        .collect();
    let carried = items
        .iter()
        .filter(|a| {
            // Open ones, and those closed since this talk began (closed in it).
            a.talk_id != t.id
                && (a.status == "open" || a.closed_at.zip(t.starts_at).is_some_and(|(c, s)| c >= s - 86_400))
        })
        .map(|a| action_view(app, org_id, &dir, a, today, t.id))
        .collect();
    let local = t
        .starts_at
        .and_then(|s| Timestamp::from_second(s).ok())
        .map(|s| s.to_zoned(organizer_zone.clone()).datetime());
    Ok(TalkView {
        id: t.id,
        template: template.name.clone(),
        kind: template.kind.clone(),
        other_id: t.other(actor.person_id),
        other: name_of(&dir, t.other(actor.person_id)),
        organizer: name_of(&dir, t.organizer_id),
        i_organize: t.organizer_id == actor.person_id,
        status: Status::parse(&t.status),
        when: t.starts_at.map(|s| moment(s, &reader_zone)).unwrap_or_default(),
        zone: reader_zone.iana_name().unwrap_or("UTC").to_owned(),
        minutes: t.minutes,
        organizer_zone: zone_label(&organizer_zone).to_owned(),
        date: local.map(|d| d.date().to_string()).unwrap_or_default(),
        time: local
            .map(|d| d.time().strftime("%H:%M").to_string())
            .unwrap_or_default(),
        past: t.starts_at.is_some_and(|s| s < app.now().as_second()),
        asked_by_me: t.requested_by == Some(actor.person_id) && t.status == "requested",
        questions,
        actions,
        carried,
    })
}

/// The other person of a new talk: active, of the organization, not the
/// actor.
fn check_other<'d>(dir: &'d Directory, actor: &Actor, with: i64, problems: &mut Vec<FieldError>) -> Option<&'d Person> {
    if with == actor.person_id {
        problems.push(FieldError::new("with", "choose someone other than yourself"));
        return None;
    }
    let other = dir.person(with).filter(|p| p.active);
    if other.is_none() {
        problems.push(FieldError::new("with", "choose an active person of the organization"));
    }
    other
}

/// A local time in `zone`, or the field's problem when it is past.
fn future(at: DateTime, zone: &TimeZone, now: Timestamp, problems: &mut Vec<FieldError>) -> Option<Timestamp> {
    let Ok(z) = at.to_zoned(zone.clone()) else {
        problems.push(FieldError::new("date", "choose a date the calendar can hold"));
        return None;
    };
    if z.timestamp() <= now {
        problems.push(FieldError::new(
            "date",
            format!(
                "choose a time from now on (it is {} in {})",
                now.to_zoned(zone.clone()).strftime("%Y-%m-%d %H:%M"),
                zone.iana_name().unwrap_or("UTC")
            ),
        ));
        return None;
    }
    Some(z.timestamp())
}

/// Schedules a talk with someone; both are sent an invite. With a
/// cadence, the pair's next talk of this kind is proposed when due.
pub async fn schedule(app: &App, actor: &Actor, input: &TalkInput) -> Result<i64, AppError> {
    let mut tx = app.db.begin_rule(actor.org_id).await?;
    let now = app.now();
    ensure_templates(&mut tx, actor.org_id, now.as_second()).await?;
    let dir = Directory::load(&mut tx, actor.org_id).await?;
    let (_, org_zone) = crate::org::service::time_zone(&mut tx, actor.org_id).await?;
    let mut problems = Vec::new();
    let other = check_other(&dir, actor, input.with, &mut problems).cloned();
    let template = store::templates(&mut tx, actor.org_id)
        .await?
        .into_iter()
        .find(|t| t.id == input.template && t.current);
    if template.is_none() {
        problems.push(FieldError::new(
            "template",
            "choose one of the organization's templates",
        ));
    }
    let zone = zone_of(dir.person(actor.person_id), &org_zone);
    let start = future(input.at, &zone, now, &mut problems);
    AppError::check(problems)?;
    let (Some(other), Some(template), Some(start)) = (other, template, start) else {
        return Err(AppError::internal("checked above"));
    };
    let row = TalkRow {
        id: new_id(),
        template_id: template.id,
        organizer_id: actor.person_id,
        guest_id: other.id,
        requested_by: None,
        status: Status::Scheduled.as_str().to_owned(),
        starts_at: Some(start.as_second()),
        minutes: input.minutes,
        zone: zone.iana_name().unwrap_or("UTC").to_owned(),
        sequence: 0,
        created_at: now.as_second(),
    };
    store::insert_talk(&mut tx, actor.org_id, &row).await?;
    if let Some(days) = input.cadence {
        set_cadence(&mut tx, actor, row.pair(), template.family, Some(days), now).await?;
    }
    audit::record(&mut tx, actor, "talk.scheduled", Subject::Talk(row.id), "", now).await?;
    invite(app, &mut tx, actor, &dir, &row, &template.name, ical::Method::Request).await?;
    tx.commit().await?;
    super::jobs::ensure(app, actor.org_id).await?;
    Ok(row.id)
}

async fn set_cadence(
    conn: &mut sqlx::AnyConnection,
    actor: &Actor,
    pair: (i64, i64),
    family: i64,
    days: Option<i64>,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    match days {
        Some(every_days) => {
            let c = CadenceRow {
                person_low: pair.0,
                person_high: pair.1,
                family,
                every_days,
                organizer_id: actor.person_id,
                reminded_for: None,
                created_at: now.as_second(),
            };
            store::put_cadence(conn, actor.org_id, &c).await
        }
        None => store::delete_cadence(conn, actor.org_id, pair, family).await,
    }
}

/// Sets or ends the pair's cadence for the family of a talk's template
/// (either of the two).
pub async fn change_cadence(app: &App, actor: &Actor, talk_id: i64, days: Option<i64>) -> Result<(), AppError> {
    let mut tx = app.db.begin().await?;
    let t = own_talk(&mut tx, actor, talk_id).await?;
    let family = store::templates(&mut tx, actor.org_id)
        .await?
        .into_iter()
        .find(|x| x.id == t.template_id)
        .map(|x| x.family)
        .ok_or(AppError::NotFound)?;
    set_cadence(&mut tx, actor, t.pair(), family, days, app.now()).await?;
    tx.commit().await?;
    Ok(())
}

/// Asks someone (one's manager, usually) for a talk; they set the time.
pub async fn request(app: &App, actor: &Actor, with: i64, template_id: i64) -> Result<i64, AppError> {
    let mut tx = app.db.begin_rule(actor.org_id).await?;
    let now = app.now();
    ensure_templates(&mut tx, actor.org_id, now.as_second()).await?;
    let dir = Directory::load(&mut tx, actor.org_id).await?;
    let mut problems = Vec::new();
    let other = check_other(&dir, actor, with, &mut problems).cloned();
    let template = store::templates(&mut tx, actor.org_id)
        .await?
        .into_iter()
        .find(|t| t.id == template_id && t.current);
    if template.is_none() {
        problems.push(FieldError::new(
            "template",
            "choose one of the organization's templates",
        ));
    }
    AppError::check(problems)?;
    let (Some(other), Some(template)) = (other, template) else {
        return Err(AppError::internal("checked above"));
    };
    let row = TalkRow {
        id: new_id(),
        template_id: template.id,
        organizer_id: other.id,
        guest_id: actor.person_id,
        requested_by: Some(actor.person_id),
        status: Status::Requested.as_str().to_owned(),
        starts_at: None,
        minutes: template_minutes(&template),
        zone: other.time_zone.clone(),
        sequence: 0,
        created_at: now.as_second(),
    };
    store::insert_talk(&mut tx, actor.org_id, &row).await?;
    audit::record(&mut tx, actor, "talk.requested", Subject::Talk(row.id), "", now).await?;
    let me = name_of(&dir, actor.person_id);
    let lines = vec![format!(
        "{me} asks you for a talk: {}. Choose a time that suits you both; you will both get a calendar invite.",
        template.name
    )];
    let link = link(app, row.id);
    let message = email(
        &other,
        format!("{me} asks you for a talk"),
        lines,
        "Choose a time",
        &link,
    );
    crate::jobs::email::queue(&mut tx, &app.master_key, Some(actor.org_id), &message, now).await?;
    tx.commit().await?;
    Ok(row.id)
}

fn template_minutes(t: &TemplateRow) -> i64 {
    Kind::parse(&t.kind).map_or(30, |k| k.built_in().2)
}

/// Sets a talk's time: accepting a request (the one asked), or moving a
/// scheduled talk (either of the two; they become its organizer). The
/// invite's SEQUENCE goes up, so calendars move the same event.
pub async fn set_time(app: &App, actor: &Actor, id: i64, at: DateTime, minutes: i64) -> Result<(), AppError> {
    let mut tx = app.db.begin_rule(actor.org_id).await?;
    let now = app.now();
    let mut t = own_talk(&mut tx, actor, id).await?;
    let status = Status::parse(&t.status);
    match status {
        Status::Requested if t.requested_by == Some(actor.person_id) => {
            return Err(AppError::Conflict {
                field: "talk".into(),
                message: "the person you asked sets the time of this talk".into(),
            });
        }
        Status::Held | Status::Cancelled => {
            return Err(AppError::Conflict {
                field: "talk".into(),
                message: "this talk is over; schedule a new one".into(),
            });
        }
        _ => {}
    }
    let dir = Directory::load(&mut tx, actor.org_id).await?;
    let (_, org_zone) = crate::org::service::time_zone(&mut tx, actor.org_id).await?;
    // The one asked sets the time in their own zone and organizes the
    // talk; a move keeps the organizer (only they update an invite, RFC
    // 5546) and their zone, which the form's time is written in.
    let zone = if status == Status::Requested {
        zone_of(dir.person(actor.person_id), &org_zone)
    } else {
        TimeZone::get(&t.zone).unwrap_or_else(|_| org_zone.clone())
    };
    let mut problems = Vec::new();
    let start = future(at, &zone, now, &mut problems);
    AppError::check(problems)?;
    if status == Status::Requested {
        t.guest_id = t.other(actor.person_id);
        t.organizer_id = actor.person_id;
        t.zone = zone.iana_name().unwrap_or("UTC").to_owned();
    } else {
        t.sequence += 1;
    }
    t.starts_at = start.map(|s| s.as_second());
    t.minutes = minutes;
    t.status = Status::Scheduled.as_str().to_owned();
    store::set_time(&mut tx, actor.org_id, &t, now.as_second()).await?;
    let what = if status == Status::Requested {
        "talk.accepted"
    } else {
        "talk.rescheduled"
    };
    audit::record(&mut tx, actor, what, Subject::Talk(t.id), "", now).await?;
    let name = template_name(&mut tx, actor.org_id, t.template_id).await?;
    invite(app, &mut tx, actor, &dir, &t, &name, ical::Method::Request).await?;
    tx.commit().await?;
    super::jobs::ensure(app, actor.org_id).await?;
    Ok(())
}

async fn template_name(conn: &mut sqlx::AnyConnection, org_id: i64, id: i64) -> Result<String, sqlx::Error> {
    Ok(store::templates(conn, org_id)
        .await?
        .into_iter()
        .find(|x| x.id == id)
        .map(|x| x.name)
        .unwrap_or_default())
}

/// Cancels a talk (either of the two); a scheduled one's invite is
/// cancelled in both calendars.
pub async fn cancel(app: &App, actor: &Actor, id: i64) -> Result<(), AppError> {
    let mut tx = app.db.begin_rule(actor.org_id).await?;
    let now = app.now();
    let mut t = own_talk(&mut tx, actor, id).await?;
    let status = Status::parse(&t.status);
    if matches!(status, Status::Held | Status::Cancelled) {
        return Err(AppError::Conflict {
            field: "talk".into(),
            message: format!("this talk is {} already", status.label().to_lowercase()),
        });
    }
    t.sequence += 1;
    store::set_status(
        &mut tx,
        actor.org_id,
        id,
        Status::Cancelled.as_str(),
        t.sequence,
        now.as_second(),
    )
    .await?;
    audit::record(&mut tx, actor, "talk.cancelled", Subject::Talk(id), "", now).await?;
    if status == Status::Scheduled {
        let dir = Directory::load(&mut tx, actor.org_id).await?;
        let name = template_name(&mut tx, actor.org_id, t.template_id).await?;
        invite(app, &mut tx, actor, &dir, &t, &name, ical::Method::Cancel).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Marks a scheduled talk as held (either of the two, once it began).
pub async fn mark_held(app: &App, actor: &Actor, id: i64) -> Result<(), AppError> {
    let mut tx = app.db.begin_rule(actor.org_id).await?;
    let now = app.now();
    let t = own_talk(&mut tx, actor, id).await?;
    if t.status != "scheduled" {
        return Err(AppError::Conflict {
            field: "talk".into(),
            message: "only a scheduled talk can be marked as held".into(),
        });
    }
    if t.starts_at.is_some_and(|s| s > now.as_second()) {
        return Err(AppError::Conflict {
            field: "talk".into(),
            message: "the talk has not begun yet; mark it as held once it has".into(),
        });
    }
    store::set_status(&mut tx, actor.org_id, id, "held", t.sequence, now.as_second()).await?;
    audit::record(&mut tx, actor, "talk.held", Subject::Talk(id), "", now).await?;
    tx.commit().await?;
    Ok(())
}

/// One question's notes as a form sends them.
#[derive(Clone, Debug)]
pub struct NoteInput {
    pub question: usize,
    pub shared: String,
    /// When the shared note was written, as the form saw it.
    pub seen: i64,
    pub private: String,
}

/// The note fields' names for question `i`.
pub fn note_fields(i: usize) -> (&'static str, &'static str) {
    const SHARED: [&str; model::QUESTIONS_MAX] = [
        "shared_0",
        "shared_1",
        "shared_2",
        "shared_3",
        "shared_4",
        "shared_5",
        "shared_6",
        "shared_7",
        "shared_8",
        "shared_9",
        "shared_10",
        "shared_11",
    ];
    const PRIVATE: [&str; model::QUESTIONS_MAX] = [
        "private_0",
        "private_1",
        "private_2",
        "private_3",
        "private_4",
        "private_5",
        "private_6",
        "private_7",
        "private_8",
        "private_9",
        "private_10",
        "private_11",
    ];
    (SHARED[i.min(11)], PRIVATE[i.min(11)])
}

/// Saves the actor's notes: the shared ones (unless the other changed one
/// since the form was opened: that one is refused, so nothing is lost) and
/// their private ones. Every note sealed with its own nonce.
pub async fn save_notes(app: &App, actor: &Actor, id: i64, inputs: &[NoteInput]) -> Result<(), AppError> {
    let mut tx = app.db.begin_rule(actor.org_id).await?;
    let now = app.now().as_second();
    let t = own_talk(&mut tx, actor, id).await?;
    if !matches!(Status::parse(&t.status), Status::Scheduled | Status::Held) {
        return Err(AppError::Conflict {
            field: "talk".into(),
            message: "notes are written in a scheduled or held talk".into(),
        });
    }
    let count = store::templates(&mut tx, actor.org_id)
        .await?
        .into_iter()
        .find(|x| x.id == t.template_id)
        .map_or(0, |x| x.questions.len());
    let stored = store::notes(&mut tx, actor.org_id, id, actor.person_id).await?;
    let dir = Directory::with_people(&mut tx, actor.org_id, &[t.other(actor.person_id)]).await?;
    let mut problems = Vec::new();
    let mut writes: Vec<(i64, i64, String)> = Vec::new();
    let mut clash = None;
    for n in inputs.iter().filter(|n| n.question < count) {
        let (shared_field, private_field) = note_fields(n.question);
        let q = n.question as i64;
        let shared = model::note_text(shared_field, &n.shared, &mut problems);
        let private = model::note_text(private_field, &n.private, &mut problems);
        let purpose = |scope| note_purpose(actor.org_id, id, q, scope);
        let current = |scope| stored.iter().find(|s| s.question == q && s.scope == scope);
        let was_shared = current(0)
            .map(|s| open(app, &purpose(0), &s.sealed))
            .unwrap_or_default();
        if shared != was_shared {
            match current(0) {
                Some(s) if s.updated_at != n.seen && s.updated_by != actor.person_id => {
                    clash.get_or_insert(AppError::Conflict {
                        field: shared_field.to_owned(),
                        message: format!(
                            "{} changed this note after you opened the page; copy your text, open the talk again and add it to theirs",
                            name_of(&dir, s.updated_by)
                        ),
                    });
                }
                _ => writes.push((q, 0, shared)),
            }
        }
        let was_private = current(actor.person_id)
            .map(|s| open(app, &purpose(actor.person_id), &s.sealed))
            .unwrap_or_default();
        if private != was_private {
            writes.push((q, actor.person_id, private));
        }
    }
    AppError::check(problems)?;
    if let Some(clash) = clash {
        return Err(clash);
    }
    for (q, scope, text) in &writes {
        if text.is_empty() {
            store::delete_note(&mut tx, actor.org_id, id, *q, *scope).await?;
        } else {
            let note = NoteRow {
                question: *q,
                scope: *scope,
                sealed: app
                    .master_key
                    .seal(&note_purpose(actor.org_id, id, *q, *scope), text.as_bytes()),
                updated_at: now,
                updated_by: actor.person_id,
            };
            store::put_note(&mut tx, actor.org_id, id, &note).await?;
        }
    }
    if !writes.is_empty() {
        audit::record(&mut tx, actor, "talk.notes_saved", Subject::Talk(id), "", app.now()).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Adds an action item to a talk (either of the two, owned by either).
pub async fn add_action(app: &App, actor: &Actor, talk_id: i64, input: &ActionInput) -> Result<i64, AppError> {
    let mut tx = app.db.begin_rule(actor.org_id).await?;
    let now = app.now();
    let t = own_talk(&mut tx, actor, talk_id).await?;
    let mut problems = Vec::new();
    if !matches!(Status::parse(&t.status), Status::Scheduled | Status::Held) {
        problems.push(FieldError::new(
            "text",
            "action items are agreed in a scheduled or held talk",
        ));
    }
    if !t.has(input.owner) {
        problems.push(FieldError::new("owner", "choose one of the two of you"));
    }
    let (_, zone) = crate::org::service::time_zone(&mut tx, actor.org_id).await?;
    let today = now.to_zoned(zone).date();
    if input.due_date < today {
        problems.push(FieldError::new(
            "due_date",
            format!("choose a day from today ({today}) on"),
        ));
    }
    AppError::check(problems)?;
    let (low, high) = t.pair();
    let id = new_id();
    let row = ActionRow {
        id,
        talk_id,
        person_low: low,
        person_high: high,
        owner_id: input.owner,
        due_date: input.due_date.to_string(),
        status: "open".into(),
        sealed: app
            .master_key
            .seal(&action_purpose(actor.org_id, id), input.text.as_bytes()),
        created_at: now.as_second(),
        closed_at: None,
    };
    store::insert_action(&mut tx, actor.org_id, &row).await?;
    audit::record(&mut tx, actor, "talk.action_added", Subject::Talk(talk_id), "", now).await?;
    tx.commit().await?;
    Ok(id)
}

/// Closes, drops, reopens or moves an action item (either of the pair).
pub async fn update_action(
    app: &App,
    actor: &Actor,
    id: i64,
    status: &str,
    due_date: Option<&str>,
) -> Result<i64, AppError> {
    let mut tx = app.db.begin().await?;
    let now = app.now();
    let a = store::action_by_id(&mut tx, actor.org_id, id)
        .await?
        .filter(|a| a.person_low == actor.person_id || a.person_high == actor.person_id)
        .ok_or(AppError::NotFound)?;
    let mut problems = Vec::new();
    if !model::ACTION_STATUSES.iter().any(|(v, _)| *v == status) {
        problems.push(FieldError::new("status", "choose Open, Done or Dropped"));
    }
    let due = match due_date.map(str::trim) {
        None | Some("") => a.due_date.clone(),
        Some(raw) => match raw.parse::<Date>() {
            Ok(d) => d.to_string(),
            Err(_) => {
                problems.push(FieldError::new("due_date", "write a date as YYYY-MM-DD"));
                a.due_date.clone()
            }
        },
    };
    AppError::check(problems)?;
    let closed = (status != "open").then(|| a.closed_at.unwrap_or(now.as_second()));
    store::set_action(&mut tx, actor.org_id, id, status, &due, closed).await?;
    audit::record(&mut tx, actor, "talk.action_updated", Subject::Talk(a.talk_id), "", now).await?;
    tx.commit().await?;
    Ok(a.talk_id)
}

/// A talk in a person's list.
#[derive(Clone, Debug)]
pub struct TalkLine {
    pub id: i64,
    pub template: String,
    pub other: String,
    pub when: String,
    pub status: Status,
    pub asked_by_me: bool,
}

/// A pair's next talk of a kind, by its cadence.
#[derive(Clone, Debug)]
pub struct Due {
    pub other_id: i64,
    pub other: String,
    pub template_id: i64,
    pub template: String,
    pub every: String,
    pub every_days: i64,
    /// YYYY-MM-DD.
    pub due: String,
    pub overdue: bool,
    /// A talk of this kind is scheduled already.
    pub scheduled: bool,
}

/// A person's conversations page.
#[derive(Clone, Debug, Default)]
pub struct Talks {
    /// Asked of me: I set the time.
    pub asked: Vec<TalkLine>,
    pub upcoming: Vec<TalkLine>,
    /// Begun but not marked held.
    pub to_close: Vec<TalkLine>,
    pub past: Vec<TalkLine>,
    pub due: Vec<Due>,
    /// Reports (of a manager) with no stay interview in six months and
    /// none planned.
    pub no_stay: Vec<(i64, String)>,
    /// The current stay interview template (0: none).
    pub stay_template: i64,
    pub open_items: usize,
}

impl Talks {
    /// Requests the person is to answer (set a time for).
    pub fn asked_of_me(&self) -> usize {
        self.asked.iter().filter(|t| !t.asked_by_me).count()
    }
}

/// The actor's talks, what is due, and (for managers) who has had no
/// stay interview lately.
pub async fn talks(app: &App, actor: &Actor) -> Result<Talks, AppError> {
    let all_templates = all_templates(app, actor.org_id).await?;
    let mut conn = app.db.acquire().await?;
    let me = actor.person_id;
    let dir = Directory::load(&mut conn, actor.org_id).await?;
    let (_, org_zone) = crate::org::service::time_zone(&mut conn, actor.org_id).await?;
    let zone = zone_of(dir.person(me), &org_zone);
    let now = app.now().as_second();
    let today = app.now().to_zoned(zone.clone()).date();
    let template = |id: i64| all_templates.iter().find(|t| t.id == id);
    let mut out = Talks::default();
    let mine = store::talks_of(&mut conn, actor.org_id, me).await?;
    for t in &mine {
        let line = TalkLine {
            id: t.id,
            template: template(t.template_id).map_or_else(String::new, |x| x.name.clone()),
            other: name_of(&dir, t.other(me)),
            when: t.starts_at.map(|s| moment(s, &zone)).unwrap_or_default(),
            status: Status::parse(&t.status),
            asked_by_me: t.requested_by == Some(me),
        };
        match (line.status, t.starts_at) {
            (Status::Requested, _) => out.asked.push(line),
            (Status::Scheduled, Some(s)) if s + t.minutes * 60 < now => out.to_close.push(line),
            (Status::Scheduled, _) => out.upcoming.push(line),
            _ => out.past.push(line),
        }
    }
    out.past.reverse();
    out.past.truncate(30);
    let with_family: Vec<(TalkRow, i64)> = mine
        .iter()
        .map(|t| (t.clone(), template(t.template_id).map_or(0, |x| x.family)))
        .collect();
    for c in store::cadences(&mut conn, actor.org_id).await? {
        if c.person_low != me && c.person_high != me {
            continue;
        }
        let Some(current) = all_templates.iter().find(|t| t.family == c.family && t.current) else {
            continue;
        };
        let other = if c.person_low == me {
            c.person_high
        } else {
            c.person_low
        };
        if dir.person(other).is_none_or(|p| !p.active) {
            continue;
        }
        let (due, scheduled) = due(&c, &with_family, &zone);
        out.due.push(Due {
            other_id: other,
            other: name_of(&dir, other),
            template_id: current.id,
            template: current.name.clone(),
            every: model::cadence_label(c.every_days),
            every_days: c.every_days,
            due: due.to_string(),
            overdue: !scheduled && due < today,
            scheduled,
        });
    }
    out.due.sort_by(|a, b| a.due.cmp(&b.due));
    // A manager's reports without a stay interview held in six months,
    // none planned, and no cadence for one.
    let stay: Vec<i64> = all_templates
        .iter()
        .filter(|t| t.kind == "stay")
        .map(|t| t.id)
        .collect();
    out.stay_template = all_templates
        .iter()
        .find(|t| t.kind == "stay" && t.current)
        .map_or(0, |t| t.id);
    let recent = now - model::RECENT_STAY_DAYS * 86_400;
    for p in dir.active_people().filter(|p| p.manager_id == Some(me)) {
        let had = mine.iter().any(|t| {
            t.has(p.id)
                && stay.contains(&t.template_id)
                && match t.status.as_str() {
                    "held" => t.starts_at.is_some_and(|s| s >= recent),
                    "scheduled" | "requested" => true,
                    _ => false,
                }
        });
        let planned = out
            .due
            .iter()
            .any(|d| d.other_id == p.id && stay.contains(&d.template_id));
        if !had && !planned {
            out.no_stay.push((p.id, p.name.clone()));
        }
    }
    out.open_items = store::actions_of(&mut conn, actor.org_id, me)
        .await?
        .iter()
        .filter(|a| a.status == "open" && a.owner_id == me)
        .count();
    Ok(out)
}

/// HR's counts for one team: never a note, an item's words or an answer.
#[derive(Clone, Debug)]
pub struct TeamCounts {
    pub team: String,
    pub people: usize,
    pub with_stay: usize,
    /// Talks held per month, oldest month first.
    pub held: Vec<usize>,
    /// Action items done per month.
    pub done: Vec<usize>,
}

impl TeamCounts {
    pub fn share(&self) -> String {
        (self.with_stay * 100 + self.people / 2)
            .checked_div(self.people)
            .map_or_else(|| "–".into(), |share| format!("{share} %"))
    }
}

/// The counts HR and owners read, per team, over the last six months.
pub struct Overview {
    /// "Jun 2026", …
    pub months: Vec<String>,
    pub teams: Vec<TeamCounts>,
    pub total: TeamCounts,
}

pub async fn overview(app: &App, actor: &Actor) -> Result<Overview, AppError> {
    actor.require(Permission::ManageConversations)?;
    let all_templates = all_templates(app, actor.org_id).await?;
    let mut conn = app.db.acquire().await?;
    let dir = Directory::load(&mut conn, actor.org_id).await?;
    let (_, zone) = crate::org::service::time_zone(&mut conn, actor.org_id).await?;
    let talks = store::all_talks(&mut conn, actor.org_id).await?;
    let done = store::done_actions(&mut conn, actor.org_id).await?;
    let now = app.now();
    let this_month = now.to_zoned(zone.clone()).date().first_of_month();
    let months: Vec<Date> = (0..6)
        .rev()
        .map(|k| this_month.saturating_sub(jiff::Span::new().months(k)))
        .collect();
    let month_of = |s: i64| {
        let d = Timestamp::from_second(s).map_or(Date::ZERO, |t| t.to_zoned(zone.clone()).date());
        months.iter().position(|m| *m == d.first_of_month())
    };
    let stay: Vec<i64> = all_templates
        .iter()
        .filter(|t| t.kind == "stay")
        .map(|t| t.id)
        .collect();
    let recent = now.as_second() - model::RECENT_STAY_DAYS * 86_400;
    let count = |label: String, members: &[i64]| {
        let mut held = vec![0; months.len()];
        for t in talks.iter().filter(|t| t.status == "held") {
            if (members.contains(&t.organizer_id) || members.contains(&t.guest_id))
                && let Some(m) = t.starts_at.and_then(month_of)
            {
                held[m] += 1;
            }
        }
        let mut closed = vec![0; months.len()];
        for (at, low, high) in &done {
            if (members.contains(low) || members.contains(high))
                && let Some(m) = month_of(*at)
            {
                closed[m] += 1;
            }
        }
        let with_stay = members
            .iter()
            .filter(|p| {
                talks.iter().any(|t| {
                    t.has(**p)
                        && t.status == "held"
                        && stay.contains(&t.template_id)
                        && t.starts_at.is_some_and(|s| s >= recent)
                })
            })
            .count();
        TeamCounts {
            team: label,
            people: members.len(),
            with_stay,
            held,
            done: closed,
        }
    };
    let mut teams = Vec::new();
    for (id, path) in dir.team_choices() {
        let members: Vec<i64> = dir
            .active_people()
            .filter(|p| p.team_id == Some(id))
            .map(|p| p.id)
            .collect();
        if !members.is_empty() {
            teams.push(count(path, &members));
        }
    }
    let everyone: Vec<i64> = dir.active_people().map(|p| p.id).collect();
    let total = count("Whole organization".into(), &everyone);
    audit::record(&mut conn, actor, "talk.counts_read", Subject::TalkCounts, "", now).await?;
    Ok(Overview {
        months: months.iter().map(|m| m.strftime("%b %Y").to_string()).collect(),
        teams,
        total,
    })
}

/// Sends both people the invite (or its cancellation), each email in the
/// reader's own time zone, the invite in the organizer's.
async fn invite(
    app: &App,
    conn: &mut sqlx::AnyConnection,
    by: &Actor,
    dir: &Directory,
    t: &TalkRow,
    template: &str,
    method: ical::Method,
) -> Result<(), AppError> {
    let Some(event) = event(app, dir, t, template) else {
        return Ok(());
    };
    let ics = ical::calendar(method, None, std::slice::from_ref(&event), app.now());
    let (org_id, who) = (by.org_id, name_of(dir, by.person_id));
    for id in [t.organizer_id, t.guest_id] {
        let Some(person) = dir.person(id).filter(|p| p.active) else {
            continue;
        };
        let zone = TimeZone::get(&person.time_zone).unwrap_or(TimeZone::UTC);
        let when = moment(t.starts_at.unwrap_or_default(), &zone);
        let other = name_of(dir, t.other(id));
        let (subject, line) = match method {
            ical::Method::Cancel => (
                format!("Cancelled: {template} with {other}"),
                format!(
                    "The {template} with {other} on {when} ({}) is cancelled.",
                    zone_label(&zone)
                ),
            ),
            _ if t.sequence > 0 => (
                format!("Moved: {template} with {other}, {when}"),
                format!(
                    "{who} moved the {template} with {other} to {when} ({}), {} minutes. Your calendar moves the same event.",
                    zone_label(&zone),
                    t.minutes
                ),
            ),
            _ => (
                format!("{template} with {other}, {when}"),
                format!(
                    "{who} scheduled a {template} with {other} on {when} ({}), {} minutes. The invite is attached for your calendar.",
                    zone_label(&zone),
                    t.minutes
                ),
            ),
        };
        let message = email(person, subject, vec![line], "Open the talk", &link(app, t.id))
            .with_calendar(method.as_str(), ics.clone());
        crate::jobs::email::queue(conn, &app.master_key, Some(org_id), &message, app.now()).await?;
    }
    Ok(())
}

fn zone_label(zone: &TimeZone) -> &str {
    zone.iana_name().unwrap_or("UTC")
}
