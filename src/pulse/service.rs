//! Use cases of pulses: design, launch, answer, close, and read results
//! through the publication plan — the one gate every page, API response
//! and export goes through.

use std::collections::{BTreeMap, HashMap, HashSet};

use askama::Template;
use jiff::{SignedDuration, Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

use super::groups::{candidates, memberships, roster_groups};
use super::model::{Pillar, PulseInput, Question, rotate, tenure_band};
use super::results::{self, GroupResult};
use super::store::{self, Cycle, StoredResponse};
use crate::app::App;
use crate::audit::{self, Subject};
use crate::auth::{Actor, Permission, hash_token, random_token};
use crate::db::new_id;
use crate::error::AppError;
use crate::jobs::email;
use crate::notify::email::OutgoingEmail;
use crate::privacy::plan::{self, Group, Plan, Suppressed};
use crate::privacy::rules::Participation;

pub async fn question_bank(app: &App, org_id: i64) -> Result<Vec<Question>, AppError> {
    let mut tx = app.db.begin().await?;
    store::ensure_bank(&mut tx, org_id, app.now().as_second()).await?;
    let qs = store::questions(&mut tx, org_id).await?;
    tx.commit().await?;
    Ok(qs)
}

pub async fn add_question(app: &App, actor: &Actor, pillar: Pillar, text: &str) -> Result<i64, AppError> {
    actor.require(Permission::ManageSurveys)?;
    let text = question_text(text)?;
    let mut tx = app.db.begin().await?;
    let id = store::insert_question(&mut tx, actor.org_id, None, pillar, &text, app.now().as_second()).await?;
    tx.commit().await?;
    Ok(id)
}

/// A question's wording, trimmed, when it can be asked.
pub fn question_text(raw: &str) -> Result<String, AppError> {
    let t = raw.trim();
    if t.is_empty() || t.chars().count() > 300 || t.chars().any(char::is_control) {
        return Err(AppError::invalid("text", "write the question in 1 to 300 characters"));
    }
    Ok(t.to_owned())
}

/// Changes a question's wording. Once it has answers, the change makes a
/// new version and retires the old one, so trends never mix wordings.
pub async fn edit_question(app: &App, actor: &Actor, id: i64, text: &str) -> Result<i64, AppError> {
    actor.require(Permission::ManageSurveys)?;
    let text = question_text(text)?;
    let mut tx = app.db.begin().await?;
    let qs = store::questions(&mut tx, actor.org_id).await?;
    let q = qs.iter().find(|q| q.id == id && !q.retired).ok_or(AppError::NotFound)?;
    let now = app.now().as_second();
    let new_id = if store::question_has_answers(&mut tx, id).await? {
        store::retire_question(&mut tx, actor.org_id, id).await?;
        let next = Some((q.family, q.version + 1));
        let new = store::insert_question(&mut tx, actor.org_id, next, q.pillar, &text, now).await?;
        store::repoint_pulses(&mut tx, actor.org_id, id, new).await?;
        new
    } else {
        store::set_question_text(&mut tx, actor.org_id, id, &text).await?;
        id
    };
    tx.commit().await?;
    Ok(new_id)
}

pub async fn create_pulse(app: &App, actor: &Actor, input: &PulseInput) -> Result<i64, AppError> {
    actor.require(Permission::ManageSurveys)?;
    let mut tx = app.db.begin().await?;
    store::ensure_bank(&mut tx, actor.org_id, app.now().as_second()).await?;
    let bank = store::questions(&mut tx, actor.org_id).await?;
    let title = input.check(&bank)?;
    if let Some(teams) = &input.teams {
        let dir = crate::org::service::Directory::load(&mut tx, actor.org_id).await?;
        if teams.iter().any(|t| !dir.team(*t).is_some_and(|t| t.active)) {
            return Err(AppError::invalid(
                "teams",
                "choose among the organization's active teams",
            ));
        }
    }
    let id = new_id();
    store::insert_pulse(&mut tx, id, actor.org_id, &title, input, app.now().as_second()).await?;
    tx.commit().await?;
    Ok(id)
}

/// What an invitation (or its reminder) says, for both parts of the email.
struct Invite<'a> {
    name: &'a str,
    org_name: &'a str,
    title: &'a str,
    link: &'a str,
    closes: &'a str,
    reminder: bool,
    /// What was done since the last pulse, in a line.
    since: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "pulse/templates/email_invite.txt")]
struct InviteText<'a> {
    m: &'a Invite<'a>,
}

#[derive(Template)]
#[template(path = "pulse/templates/email_invite.html")]
struct InviteHtml<'a> {
    m: &'a Invite<'a>,
}

/// Who an invitation goes to, and what was done since the last pulse for
/// them (a line, when something was).
struct Invitee<'a> {
    person_id: i64,
    name: &'a str,
    address: &'a str,
    since: Option<&'a str>,
}

/// What was done since the cycle before this one of the same pulse
/// closed, as insights counts it (when it is among the app's parts).
async fn since_last(
    app: &App,
    conn: &mut sqlx::AnyConnection,
    cycle: &Cycle,
) -> Result<Option<crate::module::Since>, AppError> {
    let Some(hook) = app.parts.get::<crate::module::SinceHook>().copied() else {
        return Ok(None);
    };
    let earlier = store::earlier_cycles(conn, cycle.org_id, cycle.pulse_id, cycle.number).await?;
    let Some(last) = earlier.last() else {
        return Ok(None);
    };
    let closed = last.closed_at.unwrap_or(last.closes_at);
    Ok(Some((hook.0)(conn, cycle.org_id, closed).await?))
}

/// The line the answer form shows a person: what was done since the last
/// pulse for their team and the organization.
pub async fn since_line(app: &App, org_id: i64, cycle_id: i64, person_id: i64) -> Result<Option<String>, AppError> {
    let mut conn = app.db.acquire().await?;
    let Some(cycle) = store::cycle(&mut conn, org_id, cycle_id).await? else {
        return Ok(None);
    };
    let Some(since) = since_last(app, &mut conn, &cycle).await? else {
        return Ok(None);
    };
    let dir = crate::org::service::Directory::with_people(&mut conn, org_id, &[person_id]).await?;
    let team = dir.person(person_id).and_then(|p| p.team_id);
    Ok(since.line(team.into_iter().flat_map(|t| dir.teams_up(t))))
}

/// Makes a personal link for a person and queues the email.
async fn invite(
    app: &App,
    tx: &mut sqlx::AnyConnection,
    cycle: &Cycle,
    org_name: &str,
    to: &Invitee<'_>,
    reminder: bool,
) -> Result<(), sqlx::Error> {
    let (person_id, name, address) = (to.person_id, to.name, to.address);
    let token = random_token();
    store::insert_invitation(tx, cycle, person_id, &hash_token(&token)).await?;
    let link = format!("{}/pulse/answer/{token}", app.settings.public_url.trim_end_matches('/'));
    let closes = Timestamp::from_second(cycle.closes_at)
        .map(|t| t.strftime("%A %-d %B").to_string())
        .unwrap_or_default();
    let subject = if reminder {
        format!("Reminder: {} closes soon", cycle.title)
    } else {
        format!("{}: two minutes, anonymous", cycle.title)
    };
    let m = &Invite {
        name,
        org_name,
        title: &cycle.title,
        link: &link,
        closes: &closes,
        reminder,
        since: to.since,
    };
    let message = OutgoingEmail::of(address.to_owned(), subject, &InviteText { m }, &InviteHtml { m });
    email::queue(tx, &app.master_key, Some(cycle.org_id), &message, app.now()).await
}

/// Opens a new cycle of a pulse: snapshots the roster, creates every
/// participation row at once (rule 3), freezes k, sends the invitations,
/// and schedules the reminder and the close. A stopped pulse is a 409.
pub async fn launch(app: &App, org_id: i64, pulse_id: i64) -> Result<i64, AppError> {
    match launch_unless_stopped(app, org_id, pulse_id).await? {
        Launched::Opened(cycle) => Ok(cycle),
        Launched::Stopped => Err(AppError::conflict("pulse", "this pulse is stopped")),
        Launched::AlreadyOpen { number, .. } => Err(already_open(number)),
    }
}

/// The refusal of a second open cycle of a pulse (cycle `number` is open).
pub fn already_open(number: i64) -> AppError {
    AppError::conflict(
        "pulse",
        format!("cycle #{number} of this pulse is still open: close it before opening another"),
    )
}

/// What opening a cycle of a pulse now would do, for the page that asks
/// first: who gets an email, for how long it stays open, and the cycle
/// already open, if any (then it would be refused).
pub struct LaunchPreview {
    pub title: String,
    pub people: usize,
    pub open_days: i64,
    pub already_open: Option<i64>,
}

pub async fn launch_preview(app: &App, org_id: i64, pulse_id: i64) -> Result<LaunchPreview, AppError> {
    let mut conn = app.db.acquire().await?;
    let pulse = store::pulse_to_launch(&mut conn, org_id, pulse_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let dir = crate::org::service::Directory::load(&mut conn, org_id).await?;
    let teams = match pulse.audience_all {
        true => None,
        false => Some(store::pulse_teams(&mut conn, org_id, pulse_id).await?),
    };
    Ok(LaunchPreview {
        people: audience(&dir, teams.as_deref()).len(),
        already_open: store::open_cycle_of(&mut conn, org_id, pulse_id).await?.map(|(_, n)| n),
        title: pulse.title,
        open_days: pulse.open_days,
    })
}

/// What a launch did.
#[derive(Debug, PartialEq, Eq)]
pub enum Launched {
    Opened(i64),
    /// The pulse was stopped since the launch was scheduled: nothing opens.
    Stopped,
    /// A pulse has one open cycle at a time: this one is, so nothing opens
    /// (its close schedules the next launch of a recurring pulse).
    AlreadyOpen {
        cycle: i64,
        number: i64,
    },
}

/// [`launch`], saying so when the pulse is stopped instead of refusing
/// (the scheduled launch of a recurring pulse).
pub async fn launch_unless_stopped(app: &App, org_id: i64, pulse_id: i64) -> Result<Launched, AppError> {
    let now = app.now();
    // A rule that reads, then writes: one open cycle per pulse holds under
    // concurrent launches on PostgreSQL too.
    let mut tx = app.db.begin_rule(org_id).await?;
    let pulse = store::pulse_to_launch(&mut tx, org_id, pulse_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !pulse.active {
        return Ok(Launched::Stopped);
    }
    if let Some((cycle, number)) = store::open_cycle_of(&mut tx, org_id, pulse_id).await? {
        return Ok(Launched::AlreadyOpen { cycle, number });
    }
    let asked = questions_to_ask(
        store::pulse_questions(&mut tx, org_id, pulse_id).await?,
        pulse.per_cycle,
    );
    let dir = crate::org::service::Directory::load(&mut tx, org_id).await?;
    let teams = match pulse.audience_all {
        true => None,
        false => Some(store::pulse_teams(&mut tx, org_id, pulse_id).await?),
    };
    let roster = audience(&dir, teams.as_deref());
    let cycle = Cycle {
        id: new_id(),
        org_id,
        pulse_id,
        title: pulse.title,
        number: pulse.next_number,
        opens_at: now.as_second(),
        closes_at: now.as_second() + pulse.open_days * 86_400,
        closed_at: None,
        k: crate::org::service::anonymity_k(&mut tx, org_id).await?,
        plan: None,
    };
    store::insert_cycle(&mut tx, &cycle).await?;
    store::insert_cycle_questions(&mut tx, org_id, cycle.id, &asked).await?;
    super::sealed::create_key(&mut tx, &app.master_key, org_id, cycle.id).await?;
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let since = since_last(app, &mut tx, &cycle).await?;
    for p in &roster {
        store::add_to_roster(&mut tx, &cycle, p.id, p.team_id, tenure_band(p.start_date, today)).await?;
        let line = since
            .as_ref()
            .and_then(|s| s.line(p.team_id.into_iter().flat_map(|t| dir.teams_up(t))));
        let to = Invitee {
            person_id: p.id,
            name: &p.name,
            address: &p.email,
            since: line.as_deref(),
        };
        invite(app, &mut tx, &cycle, &pulse.org_name, &to, false).await?;
    }
    let closes = Timestamp::from_second(cycle.closes_at).map_err(AppError::internal)?;
    let (org, cycle_id) = (Some(org_id), cycle.id);
    crate::jobs::enqueue(&mut tx, org, &CloseCycle { org_id, cycle_id }, closes, now).await?;
    if pulse.remind_days > 0 {
        let remind = closes - SignedDuration::from_hours(24 * pulse.remind_days);
        if remind > now {
            crate::jobs::enqueue(&mut tx, org, &RemindCycle { org_id, cycle_id }, remind, now).await?;
        }
    }
    tx.commit().await?;
    tracing::info!(cycle = cycle.id, people = roster.len(), "pulse cycle opened");
    Ok(Launched::Opened(cycle.id))
}

/// A cycle's questions: the core ones and the rotating ones asked longest
/// ago, `per_cycle` in all, in the pulse's order (pillar by pillar).
fn questions_to_ask(plan: Vec<(i64, bool, Option<i64>)>, per_cycle: i64) -> Vec<i64> {
    let core: Vec<i64> = plan.iter().filter(|(_, core, _)| *core).map(|(id, _, _)| *id).collect();
    let rotating: Vec<(i64, Option<i64>)> = plan
        .iter()
        .filter(|(_, core, _)| !*core)
        .map(|(id, _, last)| (*id, *last))
        .collect();
    let mut asked = rotate(&core, &rotating, usize::try_from(per_cycle).unwrap_or(0));
    asked.sort_by_key(|id| plan.iter().position(|(q, _, _)| q == id));
    asked
}

/// Who a cycle asks, as the organization is now: every active person, or
/// those in the chosen teams and their sub-teams.
fn audience<'a>(dir: &'a crate::org::service::Directory, teams: Option<&[i64]>) -> Vec<&'a crate::org::model::Person> {
    let in_audience = |team: Option<i64>| match teams {
        None => true,
        Some(chosen) => team.is_some_and(|t| chosen.iter().any(|c| dir.team_within(t, *c))),
    };
    dir.active_people().filter(|p| in_audience(p.team_id)).collect()
}

/// Sends a fresh personal link to everyone who has not answered yet.
pub async fn remind(app: &App, org_id: i64, cycle_id: i64) -> Result<usize, AppError> {
    let mut tx = app.db.begin().await?;
    let cycle = store::cycle(&mut tx, org_id, cycle_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if cycle.is_closed() {
        return Ok(0);
    }
    let rows = store::unanswered(&mut tx, org_id, cycle_id).await?;
    for r in &rows {
        let to = Invitee {
            person_id: r.person_id,
            name: &r.name,
            address: &r.email,
            since: None,
        };
        invite(app, &mut tx, &cycle, &r.org_name, &to, true).await?;
    }
    tx.commit().await?;
    Ok(rows.len())
}

pub use super::model::SubmitError;

// --- job payloads (run by `super::jobs`) -------------------------------------

/// Closes a cycle at its closing time.
#[derive(Serialize, Deserialize)]
pub struct CloseCycle {
    pub org_id: i64,
    pub cycle_id: i64,
}

/// Reminds those who have not answered, some days before the close.
#[derive(Serialize, Deserialize)]
pub struct RemindCycle {
    pub org_id: i64,
    pub cycle_id: i64,
}

/// Opens the next cycle of a recurring pulse, unless one is still open.
#[derive(Serialize, Deserialize)]
pub struct LaunchPulse {
    pub org_id: i64,
    pub pulse_id: i64,
}

/// Nightly: deletes kept responses and comments past the organization's
/// retention (PRIVACY.md rule 19).
#[derive(Serialize, Deserialize)]
pub struct ApplyRetention {
    pub org_id: i64,
}

/// The form of a cycle for a person, or why they cannot answer.
pub async fn form(
    app: &App,
    org_id: i64,
    cycle_id: i64,
    person_id: i64,
) -> Result<(Cycle, Vec<Question>), SubmitError> {
    let mut conn = app.db.acquire().await?;
    let cycle = store::cycle(&mut conn, org_id, cycle_id)
        .await?
        .ok_or(SubmitError::NotFound)?;
    if cycle.is_closed() || app.now().as_second() >= cycle.closes_at {
        return Err(SubmitError::Closed);
    }
    match store::participation(&mut conn, org_id, cycle_id, person_id).await? {
        None => return Err(SubmitError::NotInvited),
        Some(true) => return Err(SubmitError::AlreadyAnswered),
        Some(false) => {}
    }
    drop(conn);
    let questions = super::writer::of(app).questions(&app.db, org_id, cycle_id).await?;
    Ok((cycle, questions.as_ref().clone()))
}

/// What a person sent, as each edge received it.
pub enum Sent<'a> {
    /// The answer form's fields: `q<ID>` for questions, `s<ID>` for
    /// segments, and the form's `csrf`.
    Form(&'a [(String, String)]),
    /// The API's typed answer.
    Typed {
        answers: &'a std::collections::BTreeMap<String, i64>,
        comment: Option<&'a str>,
        /// Segment question id → chosen option.
        segments: &'a std::collections::BTreeMap<String, String>,
    },
}

/// Stores one whole answer sent with the form. Marking the person as
/// having answered and storing what they answered happen in one
/// transaction (shared with other answers that arrive at the same moment:
/// see `writer`), but nothing stored points back to them: the answer is
/// sealed under the cycle's key until close.
pub async fn submit(
    app: &App,
    org_id: i64,
    cycle_id: i64,
    person_id: i64,
    fields: &[(String, String)],
) -> Result<(), SubmitError> {
    submit_sent(app, org_id, cycle_id, person_id, Sent::Form(fields)).await
}

/// Stores one whole answer, from either edge: it is checked here, against
/// the cycle's frozen questions, into one typed submission, which the
/// writer only claims, seals and stores.
pub async fn submit_sent(
    app: &App,
    org_id: i64,
    cycle_id: i64,
    person_id: i64,
    sent: Sent<'_>,
) -> Result<(), SubmitError> {
    // Both read once and then kept (see `Writer::questions`): whether the
    // cycle is still open is the writer's to say, in its transaction.
    let claim = {
        let answers = super::writer::of(app);
        let questions = answers.questions(&app.db, org_id, cycle_id).await?;
        if questions.is_empty() {
            return Err(SubmitError::NotFound);
        }
        let active = answers.segments(&app.db, org_id, app.now().as_second()).await?;
        let checked = match sent {
            Sent::Form(fields) => {
                let (segments, segment_errors, fields) = super::segments::take_answers(&active, fields);
                with_segments(
                    super::model::parse_submission(&questions, &fields),
                    segments,
                    segment_errors,
                )
            }
            Sent::Typed {
                answers,
                comment,
                segments,
            } => {
                let (segments, segment_errors) = super::segments::take_typed(&active, segments);
                with_segments(
                    super::model::typed_submission(&questions, answers, comment),
                    segments,
                    segment_errors,
                )
            }
        };
        super::writer::Claim {
            org_id,
            cycle_id,
            person_id,
            answer: checked.map_err(SubmitError::Invalid)?,
            padding: super::sealed::padding(&questions, active.iter().map(|q| &q.options)),
        }
    };
    super::writer::of(app).submit(claim).await
}

type Errors = Vec<(String, String)>;

/// A checked submission with its segment answers, or every error of both.
fn with_segments(
    checked: Result<super::model::Submission, Errors>,
    segments: Vec<(i64, String)>,
    segment_errors: Errors,
) -> Result<super::model::Submission, Errors> {
    match checked {
        Ok(_) if !segment_errors.is_empty() => Err(segment_errors),
        Ok(s) => Ok(super::model::Submission { segments, ..s }),
        Err(mut e) => {
            e.extend(segment_errors);
            Err(e)
        }
    }
}

/// Stores one whole answer given with a personal link's token: the token
/// is resolved here, once.
pub async fn submit_by_link(app: &App, token: &str, sent: Sent<'_>) -> Result<(), SubmitError> {
    let (cycle_id, org_id, person_id) = super::writer::of(app)
        .link(hash_token(token))
        .await?
        .ok_or(SubmitError::NotFound)?;
    submit_sent(app, org_id, cycle_id, person_id, sent).await
}

/// Closes a cycle: decides its publication plan and stores the result of
/// every published group. Figures never change afterwards.
///
/// The sealed answers are opened here, once; what is kept of them is
/// written in random order, no more than the plan released (see `keep`), and the sealed
/// rows and the cycle's key are deleted in the same transaction. On SQLite
/// the WAL is then truncated, so no frame of the sealed answers outlives
/// the close in the live files.
pub async fn close(app: &App, org_id: i64, cycle_id: i64) -> Result<Plan, AppError> {
    let mut tx = app.db.begin().await?;
    store::lock_cycle(&mut tx, app.db.backend, org_id, cycle_id).await?;
    let cycle = store::cycle(&mut tx, org_id, cycle_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if cycle.is_closed() {
        return cycle.released_plan();
    }
    let questions = store::cycle_questions(&mut tx, org_id, cycle_id).await?;
    let responses = unseal(app, &mut tx, org_id, cycle_id).await?;
    let dir = crate::org::service::team_tree(&mut tx, org_id).await?;
    let member: Vec<Vec<Group>> = responses.iter().map(|r| memberships(r, &dir)).collect();
    let segments = super::segments::list(&mut tx, org_id, false).await?;
    let history = super::guard::History::load(&mut tx, &cycle, &dir).await?;
    let writers = responses.iter().filter(|r| r.comment.is_some()).count() as u32;
    let plan = history.decide(&candidates(&dir, &segments), &member, cycle.k, writers);
    write_results(&mut tx, &cycle, &questions, &responses, &member, &plan).await?;
    drop(member);
    if store::result_settings(&mut tx, org_id).await?.keep_responses {
        let parents: HashMap<i64, Option<i64>> = dir.teams.iter().map(|t| (t.id, t.parent_id)).collect();
        let parent = |t| parents.get(&t).copied().flatten();
        let kept = super::keep::as_released(&responses, &plan, &questions, parent, cycle.k as usize);
        store::insert_kept(&mut tx, org_id, cycle_id, &kept).await?;
    }
    super::sealed::destroy(&mut tx, org_id, cycle_id).await?;
    store::record_turnout(&mut tx, org_id, cycle_id).await?;
    let now = app.now();
    let plan_json = serde_json::to_string(&plan).map_err(AppError::internal)?;
    store::mark_closed(&mut tx, org_id, cycle_id, now.as_second(), &plan_json).await?;
    schedule_next(&mut tx, &cycle, now).await?;
    tx.commit().await?;
    if let Err(e) = app.db.checkpoint().await {
        // The next close or a restart truncates it.
        tracing::warn!(error = %e, "could not empty the WAL after closing a cycle");
    }
    tracing::info!(cycle = cycle_id, published = plan.published.len(), "pulse cycle closed");
    Ok(plan)
}

/// Opens a cycle's sealed answers with its key (none when it has no key:
/// nobody answered).
async fn unseal(
    app: &App,
    conn: &mut sqlx::AnyConnection,
    org_id: i64,
    cycle_id: i64,
) -> Result<Vec<StoredResponse>, AppError> {
    match super::sealed::key(conn, &app.master_key, org_id, cycle_id).await {
        Ok(Some(key)) => super::sealed::open_all(conn, &key).await,
        Ok(None) => Ok(Vec::new()),
        Err(e) => Err(e),
    }
    .map_err(|e| match e {
        super::sealed::OpenError::Sql(e) => AppError::from(e),
        other => AppError::internal(other),
    })
}

/// Computes and stores the result of each group the plan publishes.
async fn write_results(
    conn: &mut sqlx::AnyConnection,
    cycle: &Cycle,
    questions: &[Question],
    responses: &[StoredResponse],
    member: &[Vec<Group>],
    plan: &Plan,
) -> Result<(), AppError> {
    // Each published group's responses, found in one pass (not one pass
    // over every response per group).
    let mut of_group: HashMap<&Group, Vec<&StoredResponse>> = plan.published.iter().map(|g| (g, Vec::new())).collect();
    for (r, groups) in responses.iter().zip(member) {
        for g in groups {
            if let Some(list) = of_group.get_mut(g) {
                list.push(r);
            }
        }
    }
    let mut teams = Vec::new();
    for group in &plan.published {
        let comments = *group == Group::Org && plan.comments == plan::Comments::Released;
        let result = results::compute(questions, &of_group[group], comments);
        let json = serde_json::to_string(&result).map_err(AppError::internal)?;
        store::insert_result(conn, cycle.org_id, cycle.id, &group.key(), &json).await?;
        if matches!(group, Group::Team(_) | Group::TeamOnly(_)) {
            teams.push((group.key(), result));
        }
    }
    let brief = results::write_briefs(teams.iter().map(|(k, r)| (k.clone(), r)));
    store::set_pillars(conn, cycle.org_id, cycle.id, &brief).await?;
    Ok(())
}

/// A repeating pulse opens its next cycle on schedule.
async fn schedule_next(conn: &mut sqlx::AnyConnection, cycle: &Cycle, now: Timestamp) -> Result<(), AppError> {
    let Some(months) = store::schedule_of(conn, cycle.org_id, cycle.pulse_id).await?.months() else {
        return Ok(());
    };
    let opened = Timestamp::from_second(cycle.opens_at).map_err(AppError::internal)?;
    let next = opened
        .to_zoned(jiff::tz::TimeZone::UTC)
        .checked_add(months.months())
        .map_err(AppError::internal)?
        .timestamp();
    let job = LaunchPulse {
        org_id: cycle.org_id,
        pulse_id: cycle.pulse_id,
    };
    crate::jobs::enqueue(conn, Some(cycle.org_id), &job, next.max(now), now).await?;
    Ok(())
}

/// Closes a cycle before its date (HR admins and owners).
/// Refuses, as [`close_early`] would, a cycle that cannot be closed by
/// this person (the page that asks first).
pub async fn may_close_early(app: &App, actor: &Actor, cycle_id: i64) -> Result<(), AppError> {
    actor.require(Permission::ManageSurveys)?;
    let cycle = store::cycle(&mut *app.db.acquire().await?, actor.org_id, cycle_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if cycle.is_closed() {
        return Err(AppError::conflict("cycle", "this cycle is closed already"));
    }
    Ok(())
}

pub async fn close_early(app: &App, actor: &Actor, cycle_id: i64) -> Result<Plan, AppError> {
    actor.require(Permission::ManageSurveys)?;
    close(app, actor.org_id, cycle_id).await
}

/// The groups a person may ask results for, computed once per request and
/// handed to every reader of results.
#[derive(Clone, Debug)]
pub struct Visible(Vec<Group>, HashSet<Group>);

impl Visible {
    fn of(groups: Vec<Group>) -> Visible {
        let set = groups.iter().cloned().collect();
        Visible(groups, set)
    }

    pub fn contains(&self, group: &Group) -> bool {
        self.1.contains(group)
    }

    pub fn groups(&self) -> &[Group] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn require(&self, group: &Group) -> Result<(), AppError> {
        match self.contains(group) {
            true => Ok(()),
            false => Err(AppError::Forbidden),
        }
    }
}

/// The groups a person may ask results for: HR admins and owners all;
/// managers their own team and its sub-teams; everyone the whole
/// organization when the org shares results, and their own team when it
/// shares team results with the team.
pub async fn visible_groups(app: &App, actor: &Actor) -> Result<Visible, AppError> {
    let dir = crate::org::service::team_tree(&mut *app.db.acquire().await?, actor.org_id).await?;
    if actor.can(Permission::ManageSurveys) {
        let segments = super::segments::list(&mut *app.db.acquire().await?, actor.org_id, false).await?;
        return Ok(Visible::of(candidates(&dir, &segments)));
    }
    let settings = store::result_settings(&mut *app.db.acquire().await?, actor.org_id).await?;
    let mut groups = Vec::new();
    if settings.share_results {
        groups.push(Group::Org);
    }
    let own = crate::org::service::person(&app.db, actor.org_id, actor.person_id)
        .await?
        .and_then(|p| p.team_id);
    if settings.share_team_results
        && let Some(own) = own
        && !crate::auth::policy::is_team_manager(actor.role)
    {
        groups.push(Group::Team(own));
    }
    if crate::auth::policy::is_team_manager(actor.role)
        && let Some(own) = own
    {
        for g in candidates(&dir, &[]) {
            let ok = match &g {
                Group::Team(t) | Group::TeamOnly(t) => dir.team_within(*t, own),
                _ => false,
            };
            if ok {
                groups.push(g);
            }
        }
    }
    Ok(Visible::of(groups))
}

/// What may be shown of a group in a cycle.
#[derive(Clone, Debug, Serialize)]
pub enum View {
    /// The cycle is open: participation only (rule 10).
    Open(Participation),
    Released(Box<GroupResult>),
    /// Fewer than k responses: nothing else is said (rule 7).
    FewerThanK,
    /// Withheld so that it cannot be set against other groups or earlier
    /// cycles (rule 9), and why.
    Withheld(Suppressed),
}

/// The one gate: every result page, API response and export asks here.
pub async fn view(
    app: &App,
    actor: &Actor,
    visible: &Visible,
    cycle_id: i64,
    group: &Group,
) -> Result<(Cycle, View), AppError> {
    let (cycle, view) = view_unaudited(app, actor, visible, cycle_id, group).await?;
    audit::record_now(
        &app.db,
        actor,
        "results.viewed",
        Subject::Cycle(cycle_id),
        &group.key(),
        app.now(),
    )
    .await?;
    Ok((cycle, view))
}

/// Every group the person may see, as [`view`] shows each; one audit entry.
pub async fn export(app: &App, actor: &Actor, cycle_id: i64) -> Result<Vec<(Group, View)>, AppError> {
    actor.require(Permission::ExportResults)?;
    let groups = visible_groups(app, actor).await?;
    let mut conn = app.db.acquire().await?;
    let cycle = store::cycle(&mut conn, actor.org_id, cycle_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if groups.is_empty() {
        return Err(AppError::Forbidden);
    }
    let mut out = Vec::new();
    if cycle.is_closed() {
        let views = released(&mut conn, &cycle, groups.groups()).await?;
        drop(conn);
        out.extend(groups.groups().iter().cloned().zip(views));
    } else {
        drop(conn);
        for group in groups.groups() {
            let (_, v) = view_unaudited(app, actor, &groups, cycle_id, group).await?;
            out.push((group.clone(), v));
        }
    }
    audit::record_now(
        &app.db,
        actor,
        "results.exported",
        Subject::Cycle(cycle_id),
        "csv",
        app.now(),
    )
    .await?;
    Ok(out)
}

async fn view_unaudited(
    app: &App,
    actor: &Actor,
    visible: &Visible,
    cycle_id: i64,
    group: &Group,
) -> Result<(Cycle, View), AppError> {
    visible.require(group)?;
    let mut conn = app.db.acquire().await?;
    let cycle = store::cycle(&mut conn, actor.org_id, cycle_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !cycle.is_closed() {
        let participation = participation_of(&mut conn, &cycle, group).await?;
        return Ok((cycle, View::Open(participation)));
    }
    let v = released(&mut conn, &cycle, std::slice::from_ref(group))
        .await?
        .remove(0);
    Ok((cycle, v))
}

/// Up to this many groups, [`released`] looks each one up rather than
/// reading every stored result of the cycle.
const FEW_GROUPS: usize = 4;

/// The one reader of a closed cycle's stored results: for each of `groups`,
/// what the cycle's plan released of it (its figures, or why not), in the
/// same order. A released group whose stored result is missing or does not
/// read is corrupt data: an error, never an empty figure.
async fn released(conn: &mut sqlx::AnyConnection, cycle: &Cycle, groups: &[Group]) -> Result<Vec<View>, AppError> {
    let plan = cycle.released_plan()?;
    let stored = match groups.len() {
        // A few groups: a lookup each, of the released ones.
        ..=FEW_GROUPS => {
            let mut found = HashMap::new();
            for g in groups.iter().filter(|g| plan.allows(g)) {
                if let Some(r) = store::result(conn, cycle.org_id, cycle.id, &g.key()).await? {
                    found.insert(g.key(), r);
                }
            }
            found
        }
        // One read of every stored result, not one lookup per group.
        _ => store::results(conn, cycle.org_id, cycle.id).await?,
    };
    groups
        .iter()
        .map(|g| closed_view(cycle, &plan, g, stored.get(&g.key()).map(String::as_str)))
        .collect()
}

/// A closed cycle as a summary shows it: what [`view`] would show of each
/// group, and each group's participation as rule 11 allows.
pub struct Summary {
    pub cycle: Cycle,
    pub views: Vec<View>,
    pub participation: Vec<crate::privacy::rules::Participation>,
}

/// The closed cycles of the organization, newest first, `skip` of them
/// passed over and at most `take` read, each summarised for `groups` (which
/// the person must be allowed to see). One audit entry for the read.
pub async fn summaries(
    app: &App,
    actor: &Actor,
    visible: &Visible,
    groups: &[Group],
    skip: usize,
    take: usize,
) -> Result<(Vec<Summary>, bool), AppError> {
    for g in groups {
        visible.require(g)?;
    }
    let mut cycles: Vec<Cycle> = store::cycles_of_org(&app.db, actor.org_id)
        .await?
        .into_iter()
        .filter(Cycle::is_closed)
        .collect();
    cycles.sort_by_key(|c| std::cmp::Reverse((c.opens_at, c.number)));
    let more = cycles.len() > skip + take;
    let mut conn = app.db.acquire().await?;
    let dir = crate::org::service::team_tree(&mut conn, actor.org_id).await?;
    let sets = team_sets(&dir, groups);
    let mut out = Vec::new();
    for cycle in cycles.into_iter().skip(skip).take(take) {
        let views = released(&mut conn, &cycle, groups).await?;
        let counts = store::turnout_of(&mut conn, actor.org_id, cycle.id, &sets).await?;
        let participation = counts
            .iter()
            .map(|(people, answered)| crate::privacy::rules::participation(*people, *answered, cycle.k))
            .collect();
        out.push(Summary {
            cycle,
            views,
            participation,
        });
    }
    drop(conn);
    if let Some(newest) = out.first() {
        audit::record_now(
            &app.db,
            actor,
            "results.summary_viewed",
            Subject::Cycle(newest.cycle.id),
            "",
            app.now(),
        )
        .await?;
    }
    Ok((out, more))
}

/// What every closed cycle of a pulse released of `groups` (teams), oldest
/// cycle first: each group's brief (responses and pillars) where the plan
/// published it, read from the brief stored at close, or from the stored
/// results for a cycle closed before briefs. Each group must be one the
/// person may see: what [`view`] would show, in brief.
pub async fn released_briefs(
    app: &App,
    actor: &Actor,
    visible: &Visible,
    pulse_id: i64,
    groups: &[Group],
) -> Result<Vec<(Cycle, Vec<Option<results::Brief>>)>, AppError> {
    for g in groups {
        visible.require(g)?;
    }
    let wanted: HashMap<String, usize> = groups.iter().enumerate().map(|(i, g)| (g.key(), i)).collect();
    let mut conn = app.db.acquire().await?;
    let briefs = store::pillar_briefs(&mut conn, actor.org_id, pulse_id).await?;
    let mut out = Vec::new();
    for cycle in store::earlier_cycles(&mut conn, actor.org_id, pulse_id, i64::MAX).await? {
        let row = match briefs.get(&cycle.id).cloned().flatten() {
            Some(text) => {
                let mut row = results::read_briefs(&text, &wanted).map_err(|e| {
                    AppError::internal(format!("cycle {}: the stored brief does not read: {e}", cycle.id))
                })?;
                row.resize(groups.len(), None);
                row
            }
            None => released(&mut conn, &cycle, groups)
                .await?
                .iter()
                .map(|v| match v {
                    View::Released(r) => Some(results::Brief::of(r)),
                    _ => None,
                })
                .collect(),
        };
        out.push((cycle, row));
    }
    Ok(out)
}

/// Each group as the set of teams whose roster entries it counts (None:
/// everyone; a self-reported segment no roster entry says: no team).
fn team_sets(dir: &crate::org::service::Directory, groups: &[Group]) -> Vec<Option<Vec<i64>>> {
    groups
        .iter()
        .map(|g| match g {
            Group::Team(root) => Some(
                dir.teams
                    .iter()
                    .filter(|t| dir.team_within(t.id, *root))
                    .map(|t| t.id)
                    .collect(),
            ),
            Group::TeamOnly(own) => Some(vec![*own]),
            Group::Org => None,
            Group::Segment { .. } => Some(Vec::new()),
        })
        .collect()
}

/// A closed cycle's turnout in each of `groups`, counted at close: (people
/// asked, people who answered) each — the roster, not answers.
pub async fn turnout(app: &App, actor: &Actor, cycle_id: i64, groups: &[Group]) -> Result<Vec<(u32, u32)>, AppError> {
    let mut conn = app.db.acquire().await?;
    let dir = crate::org::service::team_tree(&mut conn, actor.org_id).await?;
    Ok(store::turnout_of(&mut conn, actor.org_id, cycle_id, &team_sets(&dir, groups)).await?)
}

/// The organization's pulses that have a closed cycle: (id, title).
pub async fn measured_pulses(app: &App, actor: &Actor) -> Result<Vec<(i64, String)>, AppError> {
    let mut out: Vec<(i64, String)> = Vec::new();
    for c in store::cycles_of_org(&app.db, actor.org_id).await? {
        if c.is_closed() && !out.iter().any(|(id, _)| *id == c.pulse_id) {
            out.push((c.pulse_id, c.title));
        }
    }
    Ok(out)
}

/// Why a group's figures are withheld, in plain words (results page, API).
pub fn withheld_reason(why: Suppressed, k: u32) -> String {
    match why {
        Suppressed::TooFew => format!("Fewer than {k} people in this group answered, so nothing is shown for it."),
        Suppressed::Differencing => format!(
            "Not shown, so nobody in it can be singled out: set beside the figures of other groups, this group's figures would narrow answers down to fewer than {k} people."
        ),
        Suppressed::History => format!(
            "Not shown this cycle, so nobody in it can be singled out: compared with what earlier cycles showed, it would single out fewer than {k} people who joined, left, moved or skipped a cycle. It comes back when the group is steady again."
        ),
        Suppressed::SegmentHistory => "Not shown: breakdowns by a self-reported answer appear only for a one-off pulse answered by the same people in the same teams as its earlier cycles. Comparing the cycles of a repeating pulse would tell who changed, because nobody, the server included, knows who gave which answer.".into(),
    }
}

/// What a closed cycle says about its comments, in plain words, unless
/// they are listed.
pub fn comments_note(cycle: &Cycle) -> Option<String> {
    // A plan that does not read fails the results themselves (`view`).
    let plan = cycle.released_plan().ok()?;
    let k = plan.k;
    match plan.comments {
        plan::Comments::Earlier | plan::Comments::Released => None,
        plan::Comments::FewWriters => Some(format!("Fewer than {k} people wrote a comment, so none are shown.")),
        plan::Comments::NoOrganization => {
            Some("Comments are shown with the whole organization's results, which are not shown for this cycle.".into())
        }
        plan::Comments::History => Some(format!(
            "Comments are not shown this cycle: compared with earlier cycles' comments, they would point at fewer than {k} people who joined or skipped a cycle."
        )),
    }
}

/// What a closed cycle shows of a group: its stored result if the plan
/// published it, or why not — and nothing else.
fn closed_view(cycle: &Cycle, plan: &Plan, group: &Group, stored: Option<&str>) -> Result<View, AppError> {
    if !plan.allows(group) {
        return Ok(match plan.suppressed.get(group) {
            Some(why @ (Suppressed::Differencing | Suppressed::History | Suppressed::SegmentHistory)) => {
                View::Withheld(*why)
            }
            _ => View::FewerThanK,
        });
    }
    let corrupt = |why: String| AppError::internal(format!("cycle {}, group {}: {why}", cycle.id, group.key()));
    let stored = stored.ok_or_else(|| corrupt("released, but no result is stored".into()))?;
    let result: GroupResult =
        serde_json::from_str(stored).map_err(|e| corrupt(format!("the stored result does not read: {e}")))?;
    Ok(View::Released(Box::new(result)))
}

/// A closed cycle on a trend: its number, the month it opened, and the
/// group's Belonging Index where released.
#[derive(Clone, Debug)]
pub struct Point {
    pub number: i64,
    /// "Mar 2026".
    pub month: String,
    pub index: Option<crate::privacy::stats::Share>,
}

/// The month a cycle opened, as the trend labels it.
fn month_of(opens_at: i64) -> String {
    jiff::Timestamp::from_second(opens_at)
        .map(|t| t.strftime("%b %Y").to_string())
        .unwrap_or_default()
}

/// The Belonging Index of a group across the closed cycles of a pulse, for
/// the trend chart, where released.
pub async fn trend(
    app: &App,
    actor: &Actor,
    visible: &Visible,
    pulse_id: i64,
    group: &Group,
) -> Result<Vec<Point>, AppError> {
    visible.require(group)?;
    let mut conn = app.db.acquire().await?;
    let mut points = Vec::new();
    for cycle in store::earlier_cycles(&mut conn, actor.org_id, pulse_id, i64::MAX).await? {
        let view = released(&mut conn, &cycle, std::slice::from_ref(group))
            .await?
            .remove(0);
        let index = match view {
            View::Released(result) => Some(result.index),
            _ => None,
        };
        points.push(Point {
            number: cycle.number,
            month: month_of(cycle.opens_at),
            index,
        });
    }
    Ok(points)
}

/// How a Belonging Index moved since the cycle before, decided from the
/// two 90 % intervals: a change whose intervals overlap may be noise.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Change {
    /// Points, rounded.
    pub points: i64,
    /// The intervals do not overlap: the move is larger than noise.
    pub real: bool,
}

impl Change {
    pub fn between(before: &crate::privacy::stats::Share, now: &crate::privacy::stats::Share) -> Change {
        Change {
            points: (now.value - before.value).round() as i64,
            real: now.low > before.high || now.high < before.low,
        }
    }

    /// "+4, within noise", "−9, a real drop".
    pub fn words(&self) -> String {
        let signed = match self.points {
            p if p > 0 => format!("+{p}"),
            p if p < 0 => format!("−{}", -p),
            _ => "±0".into(),
        };
        match (self.real, self.points > 0) {
            (false, _) => format!("{signed}, within noise"),
            (true, true) => format!("{signed}, a real rise"),
            (true, false) => format!("{signed}, a real drop"),
        }
    }
}

/// The latest closed cycle of a pulse, as the overview's headline shows it
/// for one group: what `view` would show, participation as rule 11 allows,
/// the change since the cycle before, and the trend.
pub struct Headline {
    pub cycle: Cycle,
    pub group: Group,
    pub view: View,
    pub participation: crate::privacy::rules::Participation,
    /// The change since the last earlier cycle that released the index,
    /// and that cycle's month.
    pub change: Option<(Change, String)>,
    /// The last earlier released index and its month, when this cycle's is
    /// not released.
    pub last_shown: Option<(crate::privacy::stats::Share, String)>,
    pub trend: Vec<Point>,
}

/// One headline per pulse with a closed cycle, newest first, for the first
/// group the person may see (the organization, where they may). Reads what
/// [`view`] reads; nothing it would not show.
pub async fn headlines(app: &App, actor: &Actor, visible: &Visible) -> Result<Vec<Headline>, AppError> {
    let Some(group) = visible.groups().first().cloned() else {
        return Ok(Vec::new());
    };
    let mut seen = std::collections::HashSet::new();
    let mut latest = Vec::new();
    let mut cycles = store::cycles_of_org(&app.db, actor.org_id).await?;
    cycles.sort_by_key(|c| std::cmp::Reverse((c.opens_at, c.number)));
    for c in cycles {
        if c.is_closed() && seen.insert(c.pulse_id) {
            latest.push(c);
        }
    }
    let mut out = Vec::new();
    for cycle in latest {
        let (_, view) = view(app, actor, visible, cycle.id, &group).await?;
        let trend = trend(app, actor, visible, cycle.pulse_id, &group).await?;
        let now = trend
            .iter()
            .position(|p| p.number == cycle.number)
            .unwrap_or(trend.len());
        let before = trend[..now]
            .iter()
            .rev()
            .find_map(|p| p.index.map(|s| (s, p.month.clone())));
        let current = trend.get(now).and_then(|p| p.index);
        let (change, last_shown) = match (before, current) {
            (Some((b, month)), Some(c)) => (Some((Change::between(&b, &c), month)), None),
            (before, None) => (None, before),
            (None, Some(_)) => (None, None),
        };
        let participation = participation_of(&mut *app.db.acquire().await?, &cycle, &group).await?;
        out.push(Headline {
            cycle,
            group: group.clone(),
            view,
            participation,
            change,
            last_shown,
            trend,
        });
    }
    Ok(out)
}

/// Participation of a group in a cycle as rule 11 allows it to be shown.
async fn participation_of(
    conn: &mut sqlx::AnyConnection,
    cycle: &Cycle,
    group: &Group,
) -> Result<crate::privacy::rules::Participation, AppError> {
    let dir = crate::org::service::team_tree(conn, cycle.org_id).await?;
    let roster = store::roster(conn, cycle.org_id, cycle.id).await?;
    let (mut people, mut answered) = (0u32, 0u32);
    for (team, band, done) in roster {
        if roster_groups(team, band, &dir).contains(group) {
            people += 1;
            answered += u32::from(done);
        }
    }
    Ok(crate::privacy::rules::participation(people, answered, cycle.k))
}

/// Team × pillar % favourable for the teams a person may see.
pub async fn heatmap(
    app: &App,
    actor: &Actor,
    visible: &Visible,
    cycle_id: i64,
) -> Result<Vec<(i64, String, BTreeMap<Pillar, f64>)>, AppError> {
    let mut conn = app.db.acquire().await?;
    // Another organization's cycle is not found (not an empty heatmap).
    let cycle = store::cycle(&mut conn, actor.org_id, cycle_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !cycle.is_closed() {
        return Ok(Vec::new());
    }
    let dir = crate::org::service::team_tree(&mut conn, actor.org_id).await?;
    let teams: Vec<Group> = visible
        .groups()
        .iter()
        .filter(|g| matches!(g, Group::Team(_)))
        .cloned()
        .collect();
    let views = released(&mut conn, &cycle, &teams).await?;
    let mut out = Vec::new();
    for (group, view) in teams.iter().zip(views) {
        if let (Group::Team(t), View::Released(result)) = (group, view) {
            out.push((
                *t,
                dir.team_path(*t),
                result.pillars.iter().map(|(p, s)| (*p, s.value)).collect(),
            ));
        }
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(out)
}

/// The groups someone on a cycle's roster is in (who was asked, as a
/// roster says): the results page offers only these.
pub async fn asked_groups(app: &App, actor: &Actor, cycle: &Cycle) -> Result<HashSet<Group>, AppError> {
    let mut conn = app.db.acquire().await?;
    let dir = crate::org::service::team_tree(&mut conn, actor.org_id).await?;
    let roster = store::roster(&mut conn, actor.org_id, cycle.id).await?;
    Ok(roster
        .into_iter()
        .flat_map(|(team, band, _)| roster_groups(team, band, &dir))
        .collect())
}

/// The closed cycle of the same pulse just before this one, if any (the
/// heatmap shows each cell's change since it).
pub async fn previous_cycle(app: &App, actor: &Actor, cycle_id: i64) -> Result<Option<i64>, AppError> {
    let mut conn = app.db.acquire().await?;
    let cycle = store::cycle(&mut conn, actor.org_id, cycle_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let earlier = store::earlier_cycles(&mut conn, actor.org_id, cycle.pulse_id, cycle.number).await?;
    Ok(earlier.iter().max_by_key(|c| c.number).map(|c| c.id))
}

/// Open cycles the person still has to answer, for the home page.
pub async fn open_for(app: &App, actor: &Actor) -> Result<Vec<Cycle>, AppError> {
    Ok(store::open_cycles_for(&app.db, actor.org_id, actor.person_id, app.now().as_second()).await?)
}

/// Whether `id` is a closed cycle of the organization, on the caller's
/// connection (an action may answer its results).
pub async fn is_closed_cycle(conn: &mut sqlx::AnyConnection, org_id: i64, id: i64) -> Result<bool, AppError> {
    Ok(store::cycle(conn, org_id, id).await?.is_some_and(|c| c.is_closed()))
}

/// The questions a cycle asks, in its order.
pub async fn cycle_questions(
    conn: &mut sqlx::AnyConnection,
    org_id: i64,
    cycle_id: i64,
) -> Result<Vec<super::model::Question>, sqlx::Error> {
    store::cycle_questions(conn, org_id, cycle_id).await
}

/// Pulses of an organization with their cycles, for the overview.
pub async fn cycles(app: &App, actor: &Actor) -> Result<Vec<Cycle>, AppError> {
    Ok(store::cycles_of_org(&app.db, actor.org_id).await?)
}

/// How long what is kept of answers lives after results are released.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention {
    /// Keep individual (k-anonymous) responses once results are released,
    /// for trends and later analyses; false keeps the released figures only.
    pub keep_responses: bool,
    /// Months after close that kept responses and comments live; None: no
    /// limit. The released figures stay.
    pub months: Option<u32>,
}

pub async fn retention(app: &App, org_id: i64) -> Result<Retention, AppError> {
    let settings = store::result_settings(&mut *app.db.acquire().await?, org_id).await?;
    let months = match settings.retention_months {
        None => None,
        Some(m) => Some(
            u32::try_from(m)
                .ok()
                .filter(|m| (1..=MAX_RETENTION_MONTHS).contains(m))
                .ok_or_else(|| AppError::internal(format!("organization {org_id} keeps answers for {m} months")))?,
        ),
    };
    Ok(Retention {
        keep_responses: settings.keep_responses,
        months,
    })
}

/// Most months a retention may be: ten years.
pub const MAX_RETENTION_MONTHS: u32 = 120;

/// Changes the retention; audited. Applied each night, by [`apply_retention`].
pub async fn set_retention(app: &App, actor: &Actor, new: Retention) -> Result<(), AppError> {
    actor.require(Permission::ManageSettings)?;
    if new.months.is_some_and(|m| !(1..=MAX_RETENTION_MONTHS).contains(&m)) {
        return Err(AppError::invalid(
            "retention_months",
            format!("must be a whole number of months from 1 to {MAX_RETENTION_MONTHS}, or empty to keep them"),
        ));
    }
    let mut tx = app.db.begin().await?;
    store::set_retention(&mut tx, actor.org_id, new.keep_responses, new.months).await?;
    let detail = format!(
        "keep responses {}, retention {}",
        new.keep_responses,
        new.months.map_or("none".to_owned(), |m| format!("{m} months"))
    );
    audit::record(
        &mut tx,
        actor,
        "settings.retention",
        Subject::Settings,
        &detail,
        app.now(),
    )
    .await?;
    tx.commit().await?;
    let (zone, _) = crate::org::service::time_zone(&mut *app.db.acquire().await?, actor.org_id).await?;
    crate::jobs::schedule::ensure(
        app,
        Some(actor.org_id),
        &format!("{}.{}", <ApplyRetention as crate::jobs::Job>::KIND, actor.org_id),
        &ApplyRetention { org_id: actor.org_id },
        "daily 03:00",
        &zone,
    )
    .await
    .map_err(AppError::internal)?;
    Ok(())
}

/// Deletes what the retention no longer allows: the kept responses of
/// every closed cycle when the organization keeps none, and of cycles
/// closed more than its months ago, whose released results then also lose
/// their comments. The released figures stay. Audited when anything went.
pub async fn apply_retention(app: &App, org_id: i64) -> Result<(u64, u64), AppError> {
    let r = retention(app, org_id).await?;
    let cutoff = match r.months {
        Some(m) => Some(
            app.now()
                .to_zoned(jiff::tz::TimeZone::UTC)
                .checked_sub(jiff::Span::new().months(i64::from(m)))
                .map_err(AppError::internal)?
                .timestamp()
                .as_second(),
        ),
        None => None,
    };
    // Kept responses go for every closed cycle when none are kept, else
    // for those closed before the cutoff.
    let responses_before = if r.keep_responses { cutoff } else { Some(i64::MAX) };
    let mut tx = app.db.begin().await?;
    let mut responses = 0;
    if let Some(before) = responses_before {
        responses = store::delete_kept_before(&mut tx, org_id, before).await?;
    }
    let mut comments = 0;
    if let Some(cutoff) = cutoff {
        for (cycle_id, group_key, json) in store::results_closed_before(&mut tx, org_id, cutoff).await? {
            let mut result: serde_json::Value = serde_json::from_str(&json).map_err(AppError::internal)?;
            let Some(list) = result.get_mut("comments").and_then(|c| c.as_array_mut()) else {
                continue;
            };
            if list.is_empty() {
                continue;
            }
            comments += list.len() as u64;
            list.clear();
            store::set_result(&mut tx, org_id, cycle_id, &group_key, &result.to_string()).await?;
        }
    }
    if responses + comments > 0 {
        let detail = format!("{responses} kept responses and {comments} comments deleted");
        audit::record(
            &mut tx,
            &Actor::system(org_id),
            "retention.applied",
            Subject::Settings,
            &detail,
            app.now(),
        )
        .await?;
    }
    tx.commit().await?;
    Ok((responses, comments))
}

/// The organization's anonymity settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Anonymity {
    pub k: u32,
    pub share_results: bool,
    /// Everyone may see their own team's released results.
    pub share_team_results: bool,
}

pub async fn anonymity(app: &App, org_id: i64) -> Result<Anonymity, AppError> {
    let conn = &mut *app.db.acquire().await?;
    let settings = store::result_settings(conn, org_id).await?;
    Ok(Anonymity {
        k: crate::org::service::anonymity_k(conn, org_id).await?,
        share_results: settings.share_results,
        share_team_results: settings.share_team_results,
    })
}

/// Changes k and whether everyone sees org-wide results. k is never below
/// 3; once an open cycle has an answer it may be raised (open cycles follow)
/// but not lowered, so nothing shown can ever cover fewer people than
/// promised when people answered.
pub async fn set_anonymity(app: &App, actor: &Actor, new: Anonymity) -> Result<(), AppError> {
    actor.require(Permission::ManageSettings)?;
    let (min, max) = (crate::privacy::MIN_K, crate::privacy::MAX_K);
    if !(min..=max).contains(&new.k) {
        return Err(AppError::invalid("k", format!("must be from {min} to {max}")));
    }
    let mut tx = app.db.begin_rule(actor.org_id).await?;
    let current = crate::org::service::anonymity_k(&mut tx, actor.org_id).await?;
    if new.k < current && store::open_cycle_has_answers(&mut tx, actor.org_id).await? {
        return Err(AppError::conflict(
            "k",
            "an open pulse has answers: k can be raised now, but not lowered until it closes",
        ));
    }
    store::set_anonymity(&mut tx, actor.org_id, new.k, new.share_results, new.share_team_results).await?;
    let detail = format!(
        "k {current} → {}, share results {}, share team results {}",
        new.k, new.share_results, new.share_team_results
    );
    audit::record(
        &mut tx,
        actor,
        "settings.anonymity",
        Subject::People,
        &detail,
        app.now(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
