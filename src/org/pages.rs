//! Pages for the home screen, people, teams and the CSV import.

use askama::Template;
use axum::Router;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::import::{self, Mode, Plan};
use super::model::{
    Email, FieldError, LeaveReason, Person, PersonInput, PersonName, Role, TeamName, TimeZoneName, parse_date,
};
use super::service::{self, Directory};
use super::store;
use crate::app::{App, AppState};
use crate::audit::{self, Subject};
use crate::auth::{Actor, Permission};
use crate::db::new_id;
use crate::error::AppError;
use crate::web::{
    ActiveForm, Confirm, CurrentPerson, Form, FormErrors, Labels, Layout, Mistake, Query, UPLOAD_LIMIT, parse_id,
    render, render_with,
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/people", get(list_people).post(add_person))
        .route("/people/new", get(new_person))
        .route("/people/{id}", get(edit_person).post(update_person))
        .route("/people/{id}/deactivate", post(deactivate_person))
        .route("/people/{id}/reactivate", post(reactivate_person))
        .route("/people/{id}/erase", post(erase_person))
        .route("/people/{id}/one-time-password", post(issue_one_time_password))
        .route("/teams", get(list_teams).post(add_team))
        .route("/teams/{id}", get(edit_team).post(update_team))
        .route("/teams/{id}/active", post(set_team_active))
        .route("/import", get(show_import))
        .route(
            "/import",
            post(preview_import).layer(axum::extract::DefaultBodyLimit::max(UPLOAD_LIMIT)),
        )
        .route("/import/{id}/apply", post(apply_import))
}

// --- home ----------------------------------------------------------------

#[derive(Template)]
#[template(path = "org/templates/home_cards.html")]
struct HomeCards {
    team: Option<String>,
    manager: Option<String>,
    teammates: Vec<Person>,
    reports: Vec<Person>,
    manages_people: bool,
}

/// The home page's cards: the person's team, the people they manage, and
/// the organization's pages for those who manage people.
pub async fn home(app: &App, actor: &Actor) -> Result<crate::module::Home, AppError> {
    let dir = service::directory(&app.db, actor.org_id).await?;
    let person = dir.person(actor.person_id).cloned().ok_or(AppError::Unauthorized)?;
    let teammates = dir
        .active_people()
        .filter(|p| p.id != person.id && p.team_id.is_some() && p.team_id == person.team_id)
        .cloned()
        .collect();
    let reports = dir
        .active_people()
        .filter(|p| p.manager_id == Some(person.id))
        .cloned()
        .collect();
    let cards = HomeCards {
        team: person.team_id.map(|id| dir.team_path(id)),
        manager: person.manager_id.and_then(|id| dir.person(id)).map(|m| m.name.clone()),
        teammates,
        reports,
        manages_people: actor.can(Permission::ManagePeople),
    }
    .render()
    .map_err(|e| AppError::internal(format!("template: {e}")))?;
    let mut steps = Vec::new();
    if actor.role == Role::Owner {
        steps.push(crate::module::Step {
            place: 20,
            text: "Add your people: import a CSV file from your HR system, or add them one by one",
            href: "/import",
            done: dir.active_people().count() > 1,
        });
    }
    Ok(crate::module::Home {
        notices: Vec::new(),
        cards: vec![cards],
        steps,
    })
}

// --- people --------------------------------------------------------------

/// A person as a row of the list.
struct PersonRow {
    person: Person,
    team: String,
    manager: String,
}

#[derive(Template)]
#[template(path = "org/templates/people.html")]
struct PeoplePage {
    layout: Layout,
    rows: Vec<PersonRow>,
    filter: PeopleFilter,
    teams: Vec<(i64, String)>,
    total: usize,
    notice: Option<String>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct PeopleFilter {
    q: String,
    team: String,
    status: String,
    notice: String,
    /// What an import just did (with `notice=imported`).
    added: String,
    updated: String,
    unchanged: String,
    skipped: String,
    invited: String,
}

impl PeopleFilter {
    /// What an import did, from the address it redirected to.
    fn imported(&self) -> String {
        let n = |v: &str| v.parse::<usize>().unwrap_or(0);
        let mut text = format!(
            "Import done: {} people added, {} updated, {} unchanged",
            n(&self.added),
            n(&self.updated),
            n(&self.unchanged)
        );
        if n(&self.skipped) > 0 {
            text.push_str(&format!(", {} rows skipped", n(&self.skipped)));
        }
        text.push('.');
        if n(&self.invited) > 0 {
            text.push_str(&format!(" {} invitations are on their way.", n(&self.invited)));
        }
        text
    }
}

async fn list_people(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Query(filter): Query<PeopleFilter>,
) -> Result<Response, AppError> {
    me.actor.require(Permission::ManagePeople)?;
    let dir = service::directory(&app.db, me.actor.org_id).await?;
    audit::record_now(&app.db, &me.actor, "people.listed", Subject::People, "", app.now()).await?;
    let q = filter.q.trim().to_lowercase();
    let team: Option<i64> = filter.team.parse().ok();
    let rows: Vec<PersonRow> = dir
        .people
        .iter()
        .filter(|p| match filter.status.as_str() {
            "left" => !p.active,
            "all" => true,
            _ => p.active,
        })
        .filter(|p| team.is_none() || p.team_id == team)
        .filter(|p| q.is_empty() || p.name.to_lowercase().contains(&q) || p.email.to_lowercase().contains(&q))
        .map(|p| PersonRow {
            person: p.clone(),
            team: p.team_id.map(|id| dir.team_path(id)).unwrap_or_default(),
            manager: p
                .manager_id
                .and_then(|id| dir.person(id))
                .map(|m| m.name.clone())
                .unwrap_or_default(),
        })
        .collect();
    let notice = match filter.notice.as_str() {
        "added" => Some("The person was added.".to_owned()),
        "saved" => Some("The changes were saved.".to_owned()),
        "imported" => Some(filter.imported()),
        _ => None,
    };
    Ok(render(&PeoplePage {
        layout,
        total: dir.people.len(),
        teams: dir.team_choices(),
        rows,
        filter,
        notice,
    }))
}

/// The person form as typed, so it can be shown again with its errors.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct PersonForm {
    name: String,
    email: String,
    role: String,
    team: String,
    manager: String,
    start_date: String,
    time_zone: String,
    /// "on" to send an invitation (adding only).
    invite: String,
}

impl PersonForm {
    fn from_person(p: &Person) -> PersonForm {
        PersonForm {
            name: p.name.clone(),
            email: p.email.clone(),
            role: p.role.as_str().to_owned(),
            team: p.team_id.map(|i| i.to_string()).unwrap_or_default(),
            manager: p.manager_id.map(|i| i.to_string()).unwrap_or_default(),
            start_date: p.start_date.map(|d| d.to_string()).unwrap_or_default(),
            time_zone: p.time_zone.clone(),
            invite: String::new(),
        }
    }

    /// Every field's problem at once, so the form shows them together.
    fn parse(&self) -> Result<PersonInput, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut check = |field: &'static str, r: Result<(), String>| {
            if let Err(e) = r {
                errors.push(FieldError::new(field, e));
            }
        };
        let name = PersonName::parse(&self.name);
        check("name", name.as_ref().map(|_| ()).map_err(Clone::clone));
        let email = Email::parse(&self.email);
        check("email", email.as_ref().map(|_| ()).map_err(Clone::clone));
        let role = Role::parse(&self.role);
        check("role", role.as_ref().map(|_| ()).map_err(Clone::clone));
        let optional_id = |raw: &str, what: &str| -> Result<Option<i64>, String> {
            let raw = raw.trim();
            if raw.is_empty() {
                Ok(None)
            } else {
                raw.parse()
                    .map(Some)
                    .map_err(|_| format!("choose a {what} from the list"))
            }
        };
        let team = optional_id(&self.team, "team");
        check("team", team.as_ref().map(|_| ()).map_err(Clone::clone));
        let manager = optional_id(&self.manager, "manager");
        check("manager", manager.as_ref().map(|_| ()).map_err(Clone::clone));
        let start = if self.start_date.trim().is_empty() {
            Ok(None)
        } else {
            parse_date(&self.start_date).map(Some)
        };
        check("start_date", start.as_ref().map(|_| ()).map_err(Clone::clone));
        let tz = TimeZoneName::parse(&self.time_zone);
        check("time_zone", tz.as_ref().map(|_| ()).map_err(Clone::clone));
        match (name, email, role, team, manager, start, tz) {
            (Ok(name), Ok(email), Ok(role), Ok(team_id), Ok(manager_id), Ok(start_date), Ok(time_zone)) => {
                Ok(PersonInput {
                    name,
                    email,
                    role,
                    team_id,
                    manager_id,
                    start_date,
                    time_zone,
                })
            }
            _ => Err(errors),
        }
    }
}

#[derive(Template)]
#[template(path = "org/templates/person_form.html")]
struct PersonFormPage {
    layout: Layout,
    /// None when adding.
    person: Option<Person>,
    form: PersonForm,
    errors: FormErrors,
    roles: Vec<Role>,
    teams: Vec<(i64, String)>,
    managers: Vec<(i64, String)>,
    /// Time zones of the organization's people, offered first.
    used_zones: Vec<String>,
    other_zones: Vec<String>,
    /// Whether an invitation can be sent (email is on).
    email_on: bool,
    reasons: Vec<LeaveReason>,
    /// The leaving form's last day and reason: today, or as last sent.
    leave_day: String,
    leave_reason: String,
    notice: Option<String>,
}

impl PersonFormPage {
    fn new(layout: Layout, me: &CurrentPerson, dir: &Directory, person: Option<Person>, form: PersonForm) -> Self {
        let roles = Role::ALL
            .into_iter()
            .filter(|r| *r != Role::Owner || me.actor.can(Permission::ManageOwners) || form.role == "owner")
            .collect();
        let mut managers: Vec<(i64, String)> = dir
            .active_people()
            .filter(|p| Some(p.id) != person.as_ref().map(|x| x.id))
            .map(|p| (p.id, format!("{} ({})", p.name, p.email)))
            .collect();
        managers.sort_by_key(|a| a.1.to_lowercase());
        let used: Vec<String> = dir.people.iter().map(|p| p.time_zone.clone()).collect();
        let (used_zones, other_zones) = crate::shared::zones::choices(&used, &form.time_zone);
        PersonFormPage {
            layout,
            person,
            form,
            errors: FormErrors::default(),
            roles,
            teams: dir.team_choices(),
            managers,
            used_zones,
            other_zones,
            email_on: false,
            reasons: LeaveReason::ALL.to_vec(),
            leave_day: jiff::Zoned::now().date().to_string(),
            leave_reason: String::new(),
            notice: None,
        }
    }

    fn selected_team(&self, id: &i64) -> bool {
        self.form.team == id.to_string()
    }

    fn selected_manager(&self, id: &i64) -> bool {
        self.form.manager == id.to_string()
    }
}

async fn new_person(State(app): State<AppState>, me: CurrentPerson, layout: Layout) -> Result<Response, AppError> {
    me.actor.require(Permission::ManagePeople)?;
    let dir = service::directory(&app.db, me.actor.org_id).await?;
    let org = store::org_by_id(&mut *app.db.acquire().await?, me.actor.org_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let form = PersonForm {
        role: "employee".into(),
        time_zone: org.time_zone,
        invite: "on".into(),
        ..Default::default()
    };
    let mut page = PersonFormPage::new(layout, &me, &dir, None, form);
    page.email_on = app.mailer.is_on();
    Ok(render(&page))
}

/// Shows the form again with the errors of a failed save.
async fn person_form_again(
    app: &AppState,
    me: &CurrentPerson,
    layout: Layout,
    person: Option<Person>,
    form: PersonForm,
    status: StatusCode,
    errors: FormErrors,
) -> Result<Response, AppError> {
    let dir = service::directory(&app.db, me.actor.org_id).await?;
    let mut page = PersonFormPage::new(layout, me, &dir, person, form);
    page.errors = errors;
    page.email_on = app.mailer.is_on();
    Ok(render_with(status, &page))
}

/// The person page's fields, by the labels it shows them with.
const PERSON_LABELS: Labels = Labels(&[
    ("name", "Name"),
    ("email", "Email"),
    ("role", "Role"),
    ("team", "Team"),
    ("manager", "Manager"),
    ("start_date", "Start date"),
    ("time_zone", "Time zone"),
    ("end_date", "Last day"),
    ("reason", "Reason"),
    ("confirm", "I understand that this cannot be undone"),
]);

/// The team forms' fields, by their labels.
const TEAM_LABELS: Labels = Labels(&[("name", "Name"), ("parent", "Inside team")]);

async fn add_person(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Form(form): Form<PersonForm>,
) -> Result<Response, AppError> {
    me.actor.require(Permission::ManagePeople)?;
    let input = match form.parse() {
        Ok(i) => i,
        Err(errors) => {
            let errors = FormErrors::found(&errors, PERSON_LABELS);
            return person_form_again(&app, &me, layout, None, form, StatusCode::UNPROCESSABLE_ENTITY, errors).await;
        }
    };
    match Mistake::split(service::add_person(&app, &me.actor, &input, form.invite == "on").await)? {
        Ok(id) => Ok(Redirect::to(&format!("/people/{id}?notice=added")).into_response()),
        Err(m) => {
            person_form_again(
                &app,
                &me,
                layout,
                None,
                form,
                m.status,
                FormErrors::of(&m, PERSON_LABELS),
            )
            .await
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NoticeQuery {
    notice: String,
}

async fn edit_person(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, AppError> {
    me.actor.require(Permission::ManagePeople)?;
    let id = parse_id(&id)?;
    let dir = service::directory(&app.db, me.actor.org_id).await?;
    let person = dir.person(id).cloned().ok_or(AppError::NotFound)?;
    audit::record_now(&app.db, &me.actor, "person.viewed", Subject::Person(id), "", app.now()).await?;
    let form = PersonForm::from_person(&person);
    let mut page = PersonFormPage::new(layout, &me, &dir, Some(person), form);
    page.notice = match q.notice.as_str() {
        "added" => Some("The person was added. They can sign in once you give them a one-time password below.".into()),
        "saved" => Some("The changes were saved.".into()),
        "deactivated" => Some("The person is deactivated and signed out everywhere.".into()),
        "reactivated" => Some("The person is active again.".into()),
        "erased" => Some("Their personal data is erased. Anonymous results they contributed to are unchanged.".into()),
        _ => None,
    };
    Ok(render(&page))
}

async fn update_person(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Path(id): Path<String>,
    Form(form): Form<PersonForm>,
) -> Result<Response, AppError> {
    me.actor.require(Permission::ManagePeople)?;
    let id = parse_id(&id)?;
    let person = store::get_person(&app.db, me.actor.org_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let input = match form.parse() {
        Ok(input) => input,
        Err(errors) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            let errors = FormErrors::found(&errors, PERSON_LABELS);
            return person_form_again(&app, &me, layout, Some(person), form, status, errors).await;
        }
    };
    match Mistake::split(service::update_person(&app, &me.actor, id, &input).await)? {
        Ok(()) => Ok(Redirect::to(&format!("/people/{id}?notice=saved")).into_response()),
        Err(m) => {
            person_form_again(
                &app,
                &me,
                layout,
                Some(person),
                form,
                m.status,
                FormErrors::of(&m, PERSON_LABELS),
            )
            .await
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DeactivateForm {
    end_date: String,
    reason: String,
    confirm: String,
}

async fn deactivate_person(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Path(id): Path<String>,
    Form(form): Form<DeactivateForm>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let mut problems = Vec::new();
    let end_date = parse_date(&form.end_date).map_err(|e| problems.push(FieldError::new("end_date", e)));
    let reason = LeaveReason::parse(&form.reason).map_err(|e| problems.push(FieldError::new("reason", e)));
    let outcome = match (end_date, reason) {
        (Ok(end_date), Ok(reason)) if form.confirm == "yes" => {
            service::deactivate_person(&app, &me.actor, id, end_date, reason).await
        }
        _ => AppError::check(problems),
    };
    if let Err(m) = Mistake::split(outcome)? {
        let mut page = person_page_refused(&app, &me, layout, id, &m).await?;
        page.leave_day = form.end_date;
        page.leave_reason = form.reason;
        return Ok(m.show(&page));
    }
    if form.confirm != "yes" {
        me.actor.require(Permission::ManagePeople)?;
        let person = service::person(&app.db, me.actor.org_id, id)
            .await?
            .ok_or(AppError::NotFound)?;
        let back = format!("/people/{id}");
        return Ok(Confirm::new(
            layout,
            format!("Deactivate {}?", person.name),
            format!("{back}/deactivate"),
            back,
        )
        .saying(format!(
            "{} can no longer sign in, and their sessions and API tokens stop working.",
            person.name
        ))
        .saying("They are left out of pulses, coffee pairing and other invitations from now on.")
        .saying("What they already contributed stays, as anonymous as before. You can reactivate them later.")
        .carrying("end_date", form.end_date)
        .carrying("reason", form.reason)
        .button(format!("Deactivate {}", person.name))
        .danger()
        .page());
    }
    Ok(Redirect::to(&format!("/people/{id}?notice=deactivated")).into_response())
}

/// A person's page again, saying why what was asked of it was refused.
async fn person_page_refused(
    app: &AppState,
    me: &CurrentPerson,
    layout: Layout,
    id: i64,
    m: &Mistake,
) -> Result<PersonFormPage, AppError> {
    me.actor.require(Permission::ManagePeople)?;
    let dir = service::directory(&app.db, me.actor.org_id).await?;
    let person = dir.person(id).cloned().ok_or(AppError::NotFound)?;
    let form = PersonForm::from_person(&person);
    let mut page = PersonFormPage::new(layout, me, &dir, Some(person), form);
    page.errors = FormErrors::of(m, PERSON_LABELS);
    Ok(page)
}

async fn reactivate_person(
    State(app): State<AppState>,
    me: CurrentPerson,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    service::reactivate_person(&app, &me.actor, id).await?;
    Ok(Redirect::to(&format!("/people/{id}?notice=reactivated")).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct EraseForm {
    confirm: String,
}

async fn erase_person(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Path(id): Path<String>,
    Form(form): Form<EraseForm>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let outcome = if form.confirm == "on" {
        service::erase_person(&app, &me.actor, id).await
    } else {
        Err(AppError::invalid(
            "confirm",
            "tick the box to confirm: erasing cannot be undone",
        ))
    };
    if let Err(m) = Mistake::split(outcome)? {
        return Ok(m.show(&person_page_refused(&app, &me, layout, id, &m).await?));
    }
    Ok(Redirect::to(&format!("/people/{id}?notice=erased")).into_response())
}

#[derive(Template)]
#[template(path = "org/templates/one_time_password.html")]
struct OneTimePasswordPage {
    layout: Layout,
    person: Person,
    org_slug: String,
    password: String,
}

async fn issue_one_time_password(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let password = service::issue_one_time_password(&app, &me.actor, id).await?;
    let person = store::get_person(&app.db, me.actor.org_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let org = store::org_by_id(&mut *app.db.acquire().await?, me.actor.org_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut response = render(&OneTimePasswordPage {
        layout,
        person,
        org_slug: org.slug,
        password: password.expose().to_owned(),
    });
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        "no-store".parse().expect("static header"),
    );
    Ok(response)
}

// --- teams ---------------------------------------------------------------

struct TeamRow {
    id: i64,
    path: String,
    members: usize,
    active: bool,
}

#[derive(Template)]
#[template(path = "org/templates/teams.html")]
struct TeamsPage {
    layout: Layout,
    rows: Vec<TeamRow>,
    parents: Vec<(i64, String)>,
    form: TeamForm,
    errors: FormErrors,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct TeamForm {
    name: String,
    parent: String,
}

impl TeamForm {
    fn parse(&self) -> Result<(TeamName, Option<i64>), AppError> {
        let mut problems = Vec::new();
        let name = TeamName::parse(&self.name).map_err(|e| problems.push(FieldError::new("name", e)));
        let parent = match self.parent.trim() {
            "" => Ok(None),
            raw => raw
                .parse()
                .map(Some)
                .map_err(|_| problems.push(FieldError::new("parent", "choose a team from the list"))),
        };
        match (name, parent) {
            (Ok(name), Ok(parent)) => Ok((name, parent)),
            _ => Err(AppError::fields(problems)),
        }
    }
}

fn teams_page(layout: Layout, dir: &Directory, form: TeamForm, errors: FormErrors) -> TeamsPage {
    let mut rows: Vec<TeamRow> = dir
        .teams
        .iter()
        .map(|t| TeamRow {
            id: t.id,
            path: dir.team_path(t.id),
            members: dir.active_people().filter(|p| p.team_id == Some(t.id)).count(),
            active: t.active,
        })
        .collect();
    rows.sort_by_key(|a| (!a.active, a.path.to_lowercase()));
    TeamsPage {
        layout,
        rows,
        parents: dir.team_choices(),
        form,
        errors,
    }
}

async fn list_teams(State(app): State<AppState>, me: CurrentPerson, layout: Layout) -> Result<Response, AppError> {
    me.actor.require(Permission::ManagePeople)?;
    let dir = service::directory(&app.db, me.actor.org_id).await?;
    Ok(render(&teams_page(
        layout,
        &dir,
        TeamForm::default(),
        FormErrors::default(),
    )))
}

async fn add_team(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Form(form): Form<TeamForm>,
) -> Result<Response, AppError> {
    me.actor.require(Permission::ManagePeople)?;
    let result = match form.parse() {
        Ok((name, parent)) => service::create_team(&app, &me.actor, &name, parent).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match Mistake::split(result)? {
        Ok(()) => Ok(Redirect::to("/teams").into_response()),
        Err(m) => {
            let dir = service::directory(&app.db, me.actor.org_id).await?;
            Ok(m.show(&teams_page(layout, &dir, form, FormErrors::of(&m, TEAM_LABELS))))
        }
    }
}

#[derive(Template)]
#[template(path = "org/templates/team_form.html")]
struct TeamFormPage {
    layout: Layout,
    id: i64,
    active: bool,
    members: Vec<Person>,
    parents: Vec<(i64, String)>,
    form: TeamForm,
    errors: FormErrors,
}

fn team_form_page(
    layout: Layout,
    dir: &Directory,
    id: i64,
    form: TeamForm,
    errors: FormErrors,
) -> Result<TeamFormPage, AppError> {
    let team = dir.team(id).ok_or(AppError::NotFound)?;
    Ok(TeamFormPage {
        layout,
        id,
        active: team.active,
        members: dir.active_people().filter(|p| p.team_id == Some(id)).cloned().collect(),
        parents: dir.team_choices().into_iter().filter(|(t, _)| *t != id).collect(),
        form,
        errors,
    })
}

async fn edit_team(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    me.actor.require(Permission::ManagePeople)?;
    let id = parse_id(&id)?;
    let dir = service::directory(&app.db, me.actor.org_id).await?;
    let team = dir.team(id).ok_or(AppError::NotFound)?;
    let form = TeamForm {
        name: team.name.clone(),
        parent: team.parent_id.map(|p| p.to_string()).unwrap_or_default(),
    };
    Ok(render(&team_form_page(layout, &dir, id, form, FormErrors::default())?))
}

async fn update_team(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Path(id): Path<String>,
    Form(form): Form<TeamForm>,
) -> Result<Response, AppError> {
    me.actor.require(Permission::ManagePeople)?;
    let id = parse_id(&id)?;
    let result = match form.parse() {
        Ok((name, parent)) => service::update_team(&app, &me.actor, id, &name, parent).await,
        Err(e) => Err(e),
    };
    match Mistake::split(result)? {
        Ok(()) => Ok(Redirect::to("/teams").into_response()),
        Err(m) => {
            let dir = service::directory(&app.db, me.actor.org_id).await?;
            Ok(m.show(&team_form_page(
                layout,
                &dir,
                id,
                form,
                FormErrors::of(&m, TEAM_LABELS),
            )?))
        }
    }
}

async fn set_team_active(
    State(app): State<AppState>,
    me: CurrentPerson,
    Path(id): Path<String>,
    Form(form): Form<ActiveForm>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let active = form.active()?;
    service::set_team_active(&app, &me.actor, id, active).await?;
    Ok(Redirect::to("/teams").into_response())
}

// --- import --------------------------------------------------------------

const IMPORT_LABELS: Labels = Labels(&[("file", "CSV file"), ("mode", "What to import")]);

#[derive(Template)]
#[template(path = "org/templates/import.html")]
struct ImportPage {
    layout: Layout,
    errors: FormErrors,
    columns: Vec<&'static str>,
}

async fn show_import(me: CurrentPerson, layout: Layout) -> Result<Response, AppError> {
    me.actor.require(Permission::ManagePeople)?;
    Ok(render(&ImportPage {
        layout,
        errors: FormErrors::default(),
        columns: import::COLUMNS.to_vec(),
    }))
}

#[derive(Template)]
#[template(path = "org/templates/import_preview.html")]
struct ImportPreviewPage {
    layout: Layout,
    batch_id: i64,
    file_name: String,
    plan: Plan,
    /// Whether the people added can be invited (email is on).
    email_on: bool,
}

async fn preview_import(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, AppError> {
    me.actor.require(Permission::ManagePeople)?;
    let mut multipart = multipart?;
    let again = |layout: Layout, status: StatusCode, error: String| {
        render_with(
            status,
            &ImportPage {
                layout,
                errors: FormErrors::found(&[FieldError::new("file", error)], IMPORT_LABELS),
                columns: import::COLUMNS.to_vec(),
            },
        )
    };
    let mut file: Option<(String, Vec<u8>)> = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(AppError::TooLarge {
                    limit_kib: UPLOAD_LIMIT / 1024,
                });
            }
            Err(e) => {
                return Ok(again(
                    layout,
                    StatusCode::BAD_REQUEST,
                    format!("the upload could not be read ({e})"),
                ));
            }
        };
        if field.name() == Some("file") {
            let name = field.file_name().unwrap_or("people.csv").chars().take(200).collect();
            match field.bytes().await {
                Ok(bytes) => file = Some((name, bytes.to_vec())),
                Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                    return Err(AppError::TooLarge {
                        limit_kib: UPLOAD_LIMIT / 1024,
                    });
                }
                Err(e) => {
                    return Ok(again(
                        layout,
                        StatusCode::BAD_REQUEST,
                        format!("the upload could not be read ({e})"),
                    ));
                }
            }
        }
    }
    let Some((file_name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return Ok(again(
            layout,
            StatusCode::UNPROCESSABLE_ENTITY,
            "choose a CSV file to upload".into(),
        ));
    };
    let (plan, _) = match import::run(&app, &me.actor, &bytes, Mode::AllOrNothing, true, false).await {
        Ok(r) => r,
        Err(AppError::Invalid { message, .. }) => {
            return Ok(again(layout, StatusCode::UNPROCESSABLE_ENTITY, message));
        }
        Err(e) => return Err(e),
    };
    let batch_id = new_id();
    let mut conn = app.db.acquire().await?;
    store::insert_import_batch(
        &mut conn,
        me.actor.org_id,
        batch_id,
        me.actor.person_id,
        &file_name,
        &bytes,
        app.now().as_second(),
    )
    .await?;
    Ok(render(&ImportPreviewPage {
        layout,
        batch_id,
        file_name,
        plan,
        email_on: app.mailer.is_on(),
    }))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ApplyForm {
    mode: String,
    /// "on" to invite the people added.
    invite: String,
}

async fn apply_import(
    State(app): State<AppState>,
    me: CurrentPerson,
    Path(id): Path<String>,
    Form(form): Form<ApplyForm>,
) -> Result<Response, AppError> {
    me.actor.require(Permission::ManagePeople)?;
    let batch_id = parse_id(&id)?;
    let mode = match form.mode.as_str() {
        "all" => Mode::AllOrNothing,
        "valid" => Mode::ValidRowsOnly,
        _ => {
            return Err(IMPORT_LABELS.explain(AppError::invalid(
                "mode",
                "choose to import all rows or only the valid rows",
            )));
        }
    };
    let (_, content) = store::pending_import_batch(&app.db, me.actor.org_id, batch_id)
        .await?
        .ok_or_else(|| {
            AppError::conflict(
                "batch",
                "this upload was imported already or does not exist; upload the file again",
            )
        })?;
    let invite = form.invite == "on" && app.mailer.is_on();
    let (plan, applied) = import::run(&app, &me.actor, &content, mode, false, invite).await?;
    if !applied && plan.has_changes() {
        return Err(AppError::conflict(
            "mode",
            format!(
                "{} rows are rejected; fix the file, or choose to import only the valid rows",
                plan.rejected_lines()
            ),
        ));
    }
    let mut conn = app.db.acquire().await?;
    store::mark_import_applied(&mut conn, me.actor.org_id, batch_id, app.now().as_second()).await?;
    // Post, redirect, get: the people list says what the import did.
    let invited = if invite { plan.creates.len() } else { 0 };
    Ok(Redirect::to(&format!(
        "/people?notice=imported&added={}&updated={}&unchanged={}&skipped={}&invited={invited}",
        plan.creates.len(),
        plan.updates.len(),
        plan.unchanged,
        plan.rejected_lines(),
    ))
    .into_response())
}
