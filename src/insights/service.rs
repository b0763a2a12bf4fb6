//! Use cases of actions: who may plan, read and follow up which action,
//! checked here, each in one transaction.

use askama::Template;
use jiff::civil::Date;

use super::model::{ActionInput, Status, Visibility};
use super::store::{self, ActionRow, UpdateRow};
use crate::app::App;
use crate::audit::{self, Subject};
use crate::auth::{Actor, Permission};
use crate::db::new_id;
use crate::error::{AppError, FieldError};
use crate::notify::email::OutgoingEmail;
use crate::org::service::Directory;
use crate::shared::Pillar;

/// An action as a page shows it.
#[derive(Clone, Debug)]
pub struct ActionView {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub pillar: Option<Pillar>,
    /// "Whole organization", or the team's path.
    pub group: String,
    pub owner: String,
    pub due_date: String,
    pub status: Status,
    pub visibility: Visibility,
    /// Past its due date and not closed.
    pub overdue: bool,
    /// The reader may add updates and change its status.
    pub can_update: bool,
}

/// A progress note as a page shows it.
#[derive(Clone, Debug)]
pub struct UpdateView {
    pub author: String,
    pub day: String,
    pub note: String,
    pub status: Option<Status>,
}

/// The team a manager plans for: their own, with its sub-teams.
fn own_team(dir: &Directory, actor: &Actor) -> Option<i64> {
    dir.person(actor.person_id).and_then(|p| p.team_id)
}

/// Whether the actor plans for every group (HR and owners) or only for
/// their own team and its sub-teams (managers).
fn plans_everywhere(actor: &Actor) -> bool {
    actor.can(Permission::ManageSurveys)
}

/// Whether the actor may plan for (and follow up) an action of `team`.
fn may_plan_for(dir: &Directory, actor: &Actor, team: Option<i64>) -> bool {
    if plans_everywhere(actor) {
        return true;
    }
    match (team, own_team(dir, actor)) {
        (Some(team), Some(own)) => actor.can(Permission::PlanActions) && dir.team_within(team, own),
        _ => false,
    }
}

/// Whether the actor may read the action.
fn may_read(dir: &Directory, actor: &Actor, a: &ActionRow) -> bool {
    if a.owner_id == actor.person_id || a.creator_id == actor.person_id || may_plan_for(dir, actor, a.team_id) {
        return true;
    }
    match (a.visibility.as_str(), a.team_id) {
        ("org", _) | (_, None) => true,
        (_, Some(team)) => dir
            .person(actor.person_id)
            .and_then(|p| p.team_id)
            .is_some_and(|mine| dir.team_within(mine, team)),
    }
}

fn may_update(dir: &Directory, actor: &Actor, a: &ActionRow) -> bool {
    a.owner_id == actor.person_id || a.creator_id == actor.person_id || may_plan_for(dir, actor, a.team_id)
}

/// Today in the organization's time zone, and that zone.
async fn today(conn: &mut sqlx::AnyConnection, app: &App, org_id: i64) -> Result<(Date, jiff::tz::TimeZone), AppError> {
    let (_, zone) = crate::org::service::time_zone(conn, org_id).await?;
    Ok((app.now().to_zoned(zone.clone()).date(), zone))
}

fn view(dir: &Directory, actor: &Actor, a: &ActionRow, today: Date) -> ActionView {
    let status = Status::parse(&a.status).unwrap_or(Status::Planned);
    ActionView {
        id: a.id,
        title: a.title.clone(),
        description: a.description.clone(),
        pillar: a.pillar.as_deref().and_then(Pillar::parse),
        group: a
            .team_id
            .map_or_else(|| "Whole organization".to_owned(), |t| dir.team_path(t)),
        owner: dir
            .person(a.owner_id)
            .map_or_else(|| "someone who left".into(), |p| p.name.clone()),
        overdue: !status.closes() && a.due_date.as_str() < today.to_string().as_str(),
        due_date: a.due_date.clone(),
        status,
        visibility: Visibility::parse(&a.visibility).unwrap_or(Visibility::Group),
        can_update: may_update(dir, actor, a),
    }
}

/// What an assignment email says, for both its parts.
struct Assigned<'a> {
    owner: &'a str,
    by: &'a str,
    title: &'a str,
    due: &'a str,
    link: &'a str,
}

#[derive(Template)]
#[template(path = "insights/templates/email_assigned.txt")]
struct AssignedText<'a> {
    m: &'a Assigned<'a>,
}

#[derive(Template)]
#[template(path = "insights/templates/email_assigned.html")]
struct AssignedHtml<'a> {
    m: &'a Assigned<'a>,
}

/// Plans an action. The rules that need the organization: the group is a
/// team of it (a manager's own team or below it, unless HR or an owner),
/// the owner is an active person of it, the due date is not past. Every
/// broken rule is reported at once. The owner, when it is someone else,
/// is told by email.
pub async fn create(app: &App, actor: &Actor, input: &ActionInput) -> Result<i64, AppError> {
    actor.require(Permission::PlanActions)?;
    let mut tx = app.db.begin_rule(actor.org_id).await?;
    let dir = Directory::load(&mut tx, actor.org_id).await?;
    let mut problems = Vec::new();
    match input.team_id {
        Some(team) if dir.team(team).is_none_or(|t| !t.active) => {
            problems.push(FieldError::new(
                "group",
                "choose one of the organization's active teams",
            ));
        }
        team if !may_plan_for(&dir, actor, team) => problems.push(FieldError::new(
            "group",
            "managers plan actions for their own team and its sub-teams",
        )),
        _ => {}
    }
    let owner = dir.person(input.owner_id).filter(|p| p.active);
    if owner.is_none() {
        problems.push(FieldError::new("owner", "choose an active person of the organization"));
    }
    if let Some(cycle) = input.cycle_id
        && !crate::pulse::service::is_closed_cycle(&mut tx, actor.org_id, cycle).await?
    {
        problems.push(FieldError::new(
            "cycle",
            "choose a closed pulse of the organization, or none",
        ));
    }
    let (today, _) = today(&mut tx, app, actor.org_id).await?;
    if input.due_date < today {
        problems.push(FieldError::new(
            "due_date",
            format!("choose a day from today ({today}) on"),
        ));
    }
    AppError::check(problems)?;
    let now = app.now().as_second();
    let row = ActionRow {
        id: new_id(),
        title: input.title.clone(),
        description: input.description.clone(),
        pillar: input.pillar.map(|p| p.as_str().to_owned()),
        team_id: input.team_id,
        cycle_id: input.cycle_id,
        owner_id: input.owner_id,
        creator_id: actor.person_id,
        due_date: input.due_date.to_string(),
        status: Status::Planned.as_str().to_owned(),
        visibility: input.visibility.as_str().to_owned(),
        created_at: now,
    };
    store::insert_action(&mut tx, actor.org_id, &row).await?;
    audit::record(&mut tx, actor, "action.created", Subject::Action(row.id), "", app.now()).await?;
    if let Some(owner) = owner.filter(|o| o.id != actor.person_id)
        && app.mailer.is_on()
    {
        let by = dir
            .person(actor.person_id)
            .map_or("Your administrators", |p| p.name.as_str());
        let link = format!("{}/actions/{}", app.settings.public_url.trim_end_matches('/'), row.id);
        let due = row.due_date.clone();
        let m = &Assigned {
            owner: &owner.name,
            by,
            title: &row.title,
            due: &due,
            link: &link,
        };
        let subject = format!("{by} made you the owner of an action: {}", row.title);
        let message = OutgoingEmail::of(owner.email.clone(), subject, &AssignedText { m }, &AssignedHtml { m });
        crate::jobs::email::queue(&mut tx, &app.master_key, Some(actor.org_id), &message, app.now()).await?;
    }
    tx.commit().await?;
    let (zone, _) = crate::org::service::time_zone(&mut *app.db.acquire().await?, actor.org_id).await?;
    super::jobs::ensure(app, actor.org_id, &zone).await?;
    Ok(row.id)
}

/// The actions the actor may read, soonest due first.
pub async fn list(app: &App, actor: &Actor) -> Result<Vec<ActionView>, AppError> {
    Ok(readable(app, actor).await?.into_iter().map(|(_, a)| a).collect())
}

/// The actions the actor may read, each with the cycle whose result it
/// answers, soonest due first.
pub async fn readable(app: &App, actor: &Actor) -> Result<Vec<(Option<i64>, ActionView)>, AppError> {
    let mut conn = app.db.acquire().await?;
    let rows = store::actions(&mut conn, actor.org_id).await?;
    // The teams, and only the people these actions name.
    let named: Vec<i64> = rows
        .iter()
        .flat_map(|a| [a.owner_id, a.creator_id])
        .chain([actor.person_id])
        .collect();
    let dir = Directory::with_people(&mut conn, actor.org_id, &named).await?;
    let (today, _) = today(&mut conn, app, actor.org_id).await?;
    Ok(rows
        .iter()
        .filter(|a| may_read(&dir, actor, a))
        .map(|a| (a.cycle_id, view(&dir, actor, a, today)))
        .collect())
}

/// What was done since `since` (Unix seconds), for the pulse's line: the
/// actions under way now and those done since, per team and for the
/// organization.
pub async fn since(
    conn: &mut sqlx::AnyConnection,
    org_id: i64,
    since: i64,
) -> Result<crate::module::Since, sqlx::Error> {
    let mut out = crate::module::Since::default();
    for (team, status) in store::moved_since(conn, org_id, since).await? {
        let slot = match team {
            Some(t) => out.teams.entry(t).or_default(),
            None => &mut out.org,
        };
        match status.as_str() {
            "done" => slot.0 += 1,
            _ => slot.1 += 1,
        }
    }
    Ok(out)
}

/// An action as a feedback thread linked to it shows it (to its sender
/// too, who is anonymous: its title and status only).
#[derive(Clone, Debug)]
pub struct Linked {
    pub id: i64,
    pub title: String,
    pub status: Status,
}

/// The action `id` of the organization, on the caller's connection.
pub async fn linked(conn: &mut sqlx::AnyConnection, org_id: i64, id: i64) -> Result<Option<Linked>, AppError> {
    Ok(store::action_by_id(conn, org_id, id).await?.map(|a| Linked {
        id: a.id,
        title: a.title,
        status: Status::parse(&a.status).unwrap_or(Status::Planned),
    }))
}

/// One action and its updates, if the actor may read it.
pub async fn detail(app: &App, actor: &Actor, id: i64) -> Result<(ActionView, Vec<UpdateView>), AppError> {
    let mut conn = app.db.acquire().await?;
    let dir = Directory::load(&mut conn, actor.org_id).await?;
    let a = store::action_by_id(&mut conn, actor.org_id, id)
        .await?
        .filter(|a| may_read(&dir, actor, a))
        .ok_or(AppError::NotFound)?;
    let (today, zone) = today(&mut conn, app, actor.org_id).await?;
    let zone = dir.zone_of(actor.person_id).unwrap_or(zone);
    let updates = store::updates_of(&mut conn, actor.org_id, id)
        .await?
        .into_iter()
        .map(|u| UpdateView {
            author: dir
                .person(u.author_id)
                .map_or_else(|| "someone who left".into(), |p| p.name.clone()),
            day: crate::shared::zones::day_in(u.created_at, &zone),
            note: u.note,
            status: u.status.as_deref().and_then(|s| Status::parse(s).ok()),
        })
        .collect();
    Ok((view(&dir, actor, &a, today), updates))
}

/// A follow-up as typed: a note, a new status, a new due date (each may
/// be empty).
#[derive(Clone, Copy, Debug, Default)]
pub struct Progress<'a> {
    pub note: &'a str,
    pub status: &'a str,
    pub due_date: &'a str,
}

/// Adds a dated update: a note, and a new status or due date when given.
/// Closing (done, dropped) asks for a note saying how it ended; a new due
/// date is today or later, and its owner is reminded again before it.
pub async fn add_update(app: &App, actor: &Actor, id: i64, progress: Progress<'_>) -> Result<(), AppError> {
    let Progress { note, status, due_date } = progress;
    let mut tx = app.db.begin_rule(actor.org_id).await?;
    let dir = Directory::load(&mut tx, actor.org_id).await?;
    let a = store::action_by_id(&mut tx, actor.org_id, id)
        .await?
        .filter(|a| may_read(&dir, actor, a))
        .ok_or(AppError::NotFound)?;
    if !may_update(&dir, actor, &a) {
        return Err(AppError::Forbidden);
    }
    let mut problems = Vec::new();
    let status = match status.trim() {
        "" => None,
        raw => Status::parse(raw)
            .map_err(|e| problems.push(FieldError::new("status", e)))
            .ok()
            .filter(|s| s.as_str() != a.status),
    };
    let (today, _) = today(&mut tx, app, actor.org_id).await?;
    let due = match due_date.trim() {
        "" => None,
        raw => match raw.parse::<Date>() {
            Ok(d) if d.to_string() == a.due_date => None,
            Ok(d) if d < today => {
                problems.push(FieldError::new(
                    "due_date",
                    format!("choose a day from today ({today}) on"),
                ));
                None
            }
            Ok(d) => Some(d),
            Err(_) => {
                problems.push(FieldError::new(
                    "due_date",
                    "write the date as YYYY-MM-DD, or leave it empty",
                ));
                None
            }
        },
    };
    let note = note.trim();
    if note.chars().count() > 1000 {
        problems.push(FieldError::new("note", "at most 1000 characters"));
    } else if note.is_empty() && status.is_some_and(Status::closes) {
        problems.push(FieldError::new("note", "say in a line how it ended"));
    } else if note.is_empty() && status.is_none() && due.is_none() && problems.is_empty() {
        problems.push(FieldError::new(
            "note",
            "write what happened, or change the status or the due date",
        ));
    }
    AppError::check(problems)?;
    let now = app.now().as_second();
    // A new due date is said in the update itself.
    let note = match (due, note.is_empty()) {
        (Some(d), true) => format!("New due date: {d}."),
        (Some(d), false) => format!("{note} (New due date: {d}.)"),
        (None, _) => note.to_owned(),
    };
    let update = UpdateRow {
        author_id: actor.person_id,
        note,
        status: status.map(|s| s.as_str().to_owned()),
        created_at: now,
    };
    store::insert_update(&mut tx, actor.org_id, id, new_id(), &update).await?;
    let mut detail = status.map(|s| s.label().to_lowercase()).unwrap_or_default();
    if let Some(s) = status {
        store::set_status(&mut tx, actor.org_id, id, s.as_str(), now).await?;
    }
    if let Some(d) = due {
        store::set_due_date(&mut tx, actor.org_id, id, &d.to_string(), now).await?;
        detail = [detail, format!("due {d}")]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(", ");
    }
    audit::record(
        &mut tx,
        actor,
        "action.updated",
        Subject::Action(id),
        &detail,
        app.now(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
