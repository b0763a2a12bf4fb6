//! `/api/v1` for people, teams and the calling person. The handlers parse
//! JSON into the same domain types as the pages and call the same service
//! functions: no rule is implemented twice.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::model::{
    Email, LeaveReason, Person, PersonInput, PersonName, Role, Team, TeamName, TimeZoneName, parse_date,
};
use super::{service, store};
use crate::app::AppState;
use crate::audit::{self, Subject};
use crate::auth::Permission;
use crate::error::AppError;
use crate::web::api::{ApiActor, ApiError, ApiErrors, ApiQuery, Json, JsonBody};

/// Every operation of this module: each route and its entry in the OpenAPI
/// document come from the same handler, so neither exists without the other.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(get_me))
        .routes(routes!(list_people, create_person))
        .routes(routes!(get_person, update_person))
        .routes(routes!(deactivate_person))
        .routes(routes!(reactivate_person))
        .routes(routes!(erase_person))
        .routes(routes!(list_teams, create_team))
        .routes(routes!(get_team, update_team))
        .routes(routes!(deactivate_team))
        .routes(routes!(reactivate_team))
}

/// Ids travel as strings: they are 63-bit and would lose digits as
/// JavaScript numbers.
fn id_string(id: i64) -> String {
    id.to_string()
}

fn parse_path_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse().map_err(|_| ApiError(AppError::NotFound))
}

fn parse_ref_id(field: &str, raw: &str) -> Result<i64, ApiError> {
    raw.trim()
        .parse()
        .map_err(|_| ApiError(AppError::invalid(field, format!("{raw:?} is not an id"))))
}

/// Service errors name the form's fields; the API names them as in JSON.
fn api_field(e: AppError) -> ApiError {
    let rename = |f: String| match f.as_str() {
        "team" => "team_id".to_owned(),
        "manager" => "manager_id".to_owned(),
        "parent" => "parent_id".to_owned(),
        _ => f,
    };
    ApiError(match e {
        AppError::Invalid { field, message } => AppError::Invalid {
            field: rename(field),
            message,
        },
        AppError::Conflict { field, message } => AppError::Conflict {
            field: rename(field),
            message,
        },
        other => other,
    })
}

#[derive(Serialize, ToSchema)]
pub struct PersonOut {
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub team_id: Option<String>,
    pub manager_id: Option<String>,
    /// YYYY-MM-DD
    pub start_date: Option<String>,
    /// YYYY-MM-DD, for people who left.
    pub end_date: Option<String>,
    /// voluntary, involuntary or other
    pub leave_reason: Option<String>,
    /// IANA time zone
    pub time_zone: String,
    pub active: bool,
}

impl From<&Person> for PersonOut {
    fn from(p: &Person) -> PersonOut {
        PersonOut {
            id: id_string(p.id),
            name: p.name.clone(),
            email: p.email.clone(),
            role: p.role,
            team_id: p.team_id.map(id_string),
            manager_id: p.manager_id.map(id_string),
            start_date: p.start_date.map(|d| d.to_string()),
            end_date: p.end_date.map(|d| d.to_string()),
            leave_reason: p.leave_reason.map(|r| r.as_str().to_owned()),
            time_zone: p.time_zone.clone(),
            active: p.active,
        }
    }
}

/// A person of the organization as the API shows them, or 404.
async fn person_out(app: &AppState, org_id: i64, id: i64) -> Result<Json<PersonOut>, ApiError> {
    let person = store::get_person(&app.db, org_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(PersonOut::from(&person)))
}

#[derive(Serialize, ToSchema)]
pub struct TeamOut {
    pub id: String,
    pub name: String,
    pub parent_id: Option<String>,
    /// "Parent / Team"
    pub path: String,
    pub active: bool,
}

fn team_out(t: &Team, dir: &service::Directory) -> TeamOut {
    TeamOut {
        id: id_string(t.id),
        name: t.name.clone(),
        parent_id: t.parent_id.map(id_string),
        path: dir.team_path(t.id),
        active: t.active,
    }
}

#[derive(Serialize, ToSchema)]
pub struct OrganizationOut {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub time_zone: String,
}

#[derive(Serialize, ToSchema)]
pub struct MeOut {
    pub person: PersonOut,
    pub organization: OrganizationOut,
}

/// The person the token acts for, and their organization.
#[utoipa::path(get, path = "/api/v1/me", tag = "me", security(("bearer" = [])),
    responses((status = 200, description = "The calling person", body = MeOut), ApiErrors))]
async fn get_me(State(app): State<AppState>, ApiActor(actor): ApiActor) -> Result<Json<MeOut>, ApiError> {
    let person = store::get_person(&app.db, actor.org_id, actor.person_id)
        .await?
        .ok_or(AppError::Unauthorized)?;
    let org = store::org_by_id(&mut *app.db.acquire().await?, actor.org_id)
        .await?
        .ok_or(AppError::Unauthorized)?;
    Ok(Json(MeOut {
        person: PersonOut::from(&person),
        organization: OrganizationOut {
            id: id_string(org.id),
            slug: org.slug,
            name: org.name,
            time_zone: org.time_zone,
        },
    }))
}

#[derive(Deserialize, ToSchema, utoipa::IntoParams, Default)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct PeopleQuery {
    /// active (default), left or all
    #[param(pattern = "^(active|left|all)$")]
    pub status: Option<String>,
    /// Only people in this team.
    pub team_id: Option<String>,
}

/// People of the organization (HR admins and owners).
#[utoipa::path(get, path = "/api/v1/people", tag = "people", security(("bearer" = [])), params(PeopleQuery),
    responses((status = 200, description = "People, by name", body = Vec<PersonOut>), ApiErrors))]
async fn list_people(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<PeopleQuery>,
) -> Result<Json<Vec<PersonOut>>, ApiError> {
    actor.require(Permission::ManagePeople)?;
    let team = q.team_id.as_deref().map(|t| parse_ref_id("team_id", t)).transpose()?;
    let status = q.status.as_deref().unwrap_or("active");
    if !["active", "left", "all"].contains(&status) {
        return Err(AppError::invalid("status", "must be active, left or all").into());
    }
    let dir = service::directory(&app.db, actor.org_id).await?;
    audit::record_now(&app.db, &actor, "people.listed", Subject::People, "api", app.now()).await?;
    Ok(Json(
        dir.people
            .iter()
            .filter(|p| match status {
                "left" => !p.active,
                "all" => true,
                _ => p.active,
            })
            .filter(|p| team.is_none() || p.team_id == team)
            .map(PersonOut::from)
            .collect(),
    ))
}

/// One person (HR admins and owners). The read is written to the audit log.
#[utoipa::path(get, path = "/api/v1/people/{id}", tag = "people", security(("bearer" = [])),
    params(("id" = String, Path, description = "Person id")),
    responses((status = 200, description = "The person", body = PersonOut), ApiErrors))]
async fn get_person(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<Json<PersonOut>, ApiError> {
    actor.require(Permission::ManagePeople)?;
    let id = parse_path_id(&id)?;
    let person = store::get_person(&app.db, actor.org_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    audit::record_now(&app.db, &actor, "person.viewed", Subject::Person(id), "api", app.now()).await?;
    Ok(Json(PersonOut::from(&person)))
}

#[derive(Deserialize, ToSchema)]
pub struct PersonCreate {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\u0000-\\u0020\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$"
    )]
    pub name: String,
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    /// Defaults to employee.
    pub role: Option<Role>,
    #[schema(pattern = "^[0-9]{1,19}$")]
    pub team_id: Option<String>,
    #[schema(pattern = "^[0-9]{1,19}$")]
    pub manager_id: Option<String>,
    /// YYYY-MM-DD
    #[schema(format = Date)]
    pub start_date: Option<String>,
    /// IANA time zone; defaults to the organization's.
    pub time_zone: Option<String>,
}

fn field<T>(name: &str, r: Result<T, String>) -> Result<T, ApiError> {
    r.map_err(|e| ApiError(AppError::invalid(name, e)))
}

/// Adds a person (HR admins and owners).
#[utoipa::path(post, path = "/api/v1/people", tag = "people", security(("bearer" = [])), request_body = PersonCreate,
    responses((status = 201, description = "Created", body = PersonOut), ApiErrors))]
async fn create_person(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    body: JsonBody<PersonCreate>,
) -> Result<impl IntoResponse, ApiError> {
    actor.require(Permission::ManagePeople)?;
    let body = body.parse()?;
    let time_zone = match &body.time_zone {
        Some(tz) => field("time_zone", TimeZoneName::parse(tz))?,
        None => {
            let org = store::org_by_id(&mut *app.db.acquire().await?, actor.org_id)
                .await?
                .ok_or(AppError::NotFound)?;
            TimeZoneName::parse(&org.time_zone).unwrap_or_else(|_| TimeZoneName::utc())
        }
    };
    let input = PersonInput {
        name: field("name", PersonName::parse(&body.name))?,
        email: field("email", Email::parse(&body.email))?,
        role: body.role.unwrap_or(Role::Employee),
        team_id: body
            .team_id
            .as_deref()
            .map(|t| parse_ref_id("team_id", t))
            .transpose()?,
        manager_id: body
            .manager_id
            .as_deref()
            .map(|m| parse_ref_id("manager_id", m))
            .transpose()?,
        start_date: body
            .start_date
            .as_deref()
            .map(|d| field("start_date", parse_date(d)))
            .transpose()?,
        time_zone,
    };
    let id = service::add_person(&app, &actor, &input, false)
        .await
        .map_err(api_field)?;
    Ok((StatusCode::CREATED, person_out(&app, actor.org_id, id).await?))
}

/// Absent means "leave as it is"; null means "clear".
fn nullable<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[derive(Deserialize, ToSchema, Default)]
pub struct PersonUpdate {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\u0000-\\u0020\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$"
    )]
    pub name: Option<String>,
    #[schema(format = Email, max_length = 254)]
    pub email: Option<String>,
    pub role: Option<Role>,
    /// null removes the person from their team.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, pattern = "^[0-9]{1,19}$")]
    pub team_id: Option<Option<String>>,
    /// null removes their manager.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, pattern = "^[0-9]{1,19}$")]
    pub manager_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = Date)]
    pub start_date: Option<Option<String>>,
    pub time_zone: Option<String>,
}

/// Changes a person (HR admins and owners); fields left out stay as they are.
#[utoipa::path(patch, path = "/api/v1/people/{id}", tag = "people", security(("bearer" = [])),
    params(("id" = String, Path, description = "Person id")), request_body = PersonUpdate,
    responses((status = 200, description = "The changed person", body = PersonOut), ApiErrors))]
async fn update_person(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    body: JsonBody<PersonUpdate>,
) -> Result<Json<PersonOut>, ApiError> {
    actor.require(Permission::ManagePeople)?;
    let body = body.parse()?;
    let id = parse_path_id(&id)?;
    let p = store::get_person(&app.db, actor.org_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let opt_id = |name: &str, v: &Option<Option<String>>, current: Option<i64>| -> Result<Option<i64>, ApiError> {
        match v {
            None => Ok(current),
            Some(None) => Ok(None),
            Some(Some(s)) => parse_ref_id(name, s).map(Some),
        }
    };
    let input = PersonInput {
        name: field("name", PersonName::parse(body.name.as_deref().unwrap_or(&p.name)))?,
        email: field("email", Email::parse(body.email.as_deref().unwrap_or(&p.email)))?,
        role: body.role.unwrap_or(p.role),
        team_id: opt_id("team_id", &body.team_id, p.team_id)?,
        manager_id: opt_id("manager_id", &body.manager_id, p.manager_id)?,
        start_date: match &body.start_date {
            None => p.start_date,
            Some(None) => None,
            Some(Some(d)) => Some(field("start_date", parse_date(d))?),
        },
        time_zone: field(
            "time_zone",
            TimeZoneName::parse(body.time_zone.as_deref().unwrap_or(&p.time_zone)),
        )?,
    };
    service::update_person(&app, &actor, id, &input)
        .await
        .map_err(api_field)?;
    person_out(&app, actor.org_id, id).await
}

#[derive(Deserialize, ToSchema)]
pub struct Deactivation {
    /// Their last day, YYYY-MM-DD.
    #[schema(format = Date)]
    pub end_date: String,
    /// voluntary, involuntary or other
    #[schema(pattern = "^(voluntary|involuntary|other)$")]
    pub reason: String,
}

/// Marks a person as having left; their sign-ins and tokens stop working.
#[utoipa::path(post, path = "/api/v1/people/{id}/deactivate", tag = "people", security(("bearer" = [])),
    params(("id" = String, Path, description = "Person id")), request_body = Deactivation,
    responses((status = 200, description = "The deactivated person", body = PersonOut), ApiErrors))]
async fn deactivate_person(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    body: JsonBody<Deactivation>,
) -> Result<Json<PersonOut>, ApiError> {
    actor.require(Permission::ManagePeople)?;
    let body = body.parse()?;
    let id = parse_path_id(&id)?;
    let end_date = field("end_date", parse_date(&body.end_date))?;
    let reason = field("reason", LeaveReason::parse(&body.reason))?;
    service::deactivate_person(&app, &actor, id, end_date, reason)
        .await
        .map_err(api_field)?;
    person_out(&app, actor.org_id, id).await
}

/// Makes a person who left active again.
/// Erases the personal data of someone who has left (owners only; cannot
/// be undone, audited): name and email replaced, start date, password,
/// sessions, tokens and invitations deleted. Anonymous results stay.
#[utoipa::path(post, path = "/api/v1/people/{id}/erase", tag = "people", security(("bearer" = [])),
    params(("id" = String, Path, description = "Person id")),
    responses((status = 200, description = "The person, erased", body = PersonOut), ApiErrors))]
async fn erase_person(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<Json<PersonOut>, ApiError> {
    actor.require(Permission::ManageOwners)?;
    let id = parse_path_id(&id)?;
    service::erase_person(&app, &actor, id).await.map_err(api_field)?;
    person_out(&app, actor.org_id, id).await
}

#[utoipa::path(post, path = "/api/v1/people/{id}/reactivate", tag = "people", security(("bearer" = [])),
    params(("id" = String, Path, description = "Person id")),
    responses((status = 200, description = "The person", body = PersonOut), ApiErrors))]
async fn reactivate_person(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<Json<PersonOut>, ApiError> {
    actor.require(Permission::ManagePeople)?;
    let id = parse_path_id(&id)?;
    service::reactivate_person(&app, &actor, id).await.map_err(api_field)?;
    person_out(&app, actor.org_id, id).await
}

/// Teams of the organization (HR admins and owners).
#[utoipa::path(get, path = "/api/v1/teams", tag = "teams", security(("bearer" = [])),
    responses((status = 200, description = "Teams, by name", body = Vec<TeamOut>), ApiErrors))]
async fn list_teams(State(app): State<AppState>, ApiActor(actor): ApiActor) -> Result<Json<Vec<TeamOut>>, ApiError> {
    actor.require(Permission::ManagePeople)?;
    let dir = service::directory(&app.db, actor.org_id).await?;
    Ok(Json(dir.teams.iter().map(|t| team_out(t, &dir)).collect()))
}

/// One team.
#[utoipa::path(get, path = "/api/v1/teams/{id}", tag = "teams", security(("bearer" = [])),
    params(("id" = String, Path, description = "Team id")),
    responses((status = 200, description = "The team", body = TeamOut), ApiErrors))]
async fn get_team(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<Json<TeamOut>, ApiError> {
    actor.require(Permission::ManagePeople)?;
    let id = parse_path_id(&id)?;
    let dir = service::directory(&app.db, actor.org_id).await?;
    let team = dir.team(id).ok_or(AppError::NotFound)?;
    Ok(Json(team_out(team, &dir)))
}

#[derive(Deserialize, ToSchema)]
pub struct TeamCreate {
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^/\\u0000-\\u001f\\u007f-\\u009f]*[^/\\u0000-\\u0020\\u007f-\\u009f][^/\\u0000-\\u001f\\u007f-\\u009f]*$"
    )]
    pub name: String,
    /// Makes it a sub-team of this team.
    #[schema(pattern = "^[0-9]{1,19}$")]
    pub parent_id: Option<String>,
}

/// Adds a team.
#[utoipa::path(post, path = "/api/v1/teams", tag = "teams", security(("bearer" = [])), request_body = TeamCreate,
    responses((status = 201, description = "Created", body = TeamOut), ApiErrors))]
async fn create_team(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    body: JsonBody<TeamCreate>,
) -> Result<impl IntoResponse, ApiError> {
    actor.require(Permission::ManagePeople)?;
    let body = body.parse()?;
    let name = field("name", TeamName::parse(&body.name))?;
    let parent = body
        .parent_id
        .as_deref()
        .map(|p| parse_ref_id("parent_id", p))
        .transpose()?;
    let id = service::create_team(&app, &actor, &name, parent)
        .await
        .map_err(api_field)?;
    let dir = service::directory(&app.db, actor.org_id).await?;
    let team = dir.team(id).ok_or(AppError::NotFound)?;
    Ok((StatusCode::CREATED, Json(team_out(team, &dir))))
}

#[derive(Deserialize, ToSchema, Default)]
pub struct TeamUpdate {
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^/\\u0000-\\u001f\\u007f-\\u009f]*[^/\\u0000-\\u0020\\u007f-\\u009f][^/\\u0000-\\u001f\\u007f-\\u009f]*$"
    )]
    pub name: Option<String>,
    /// null makes it a top-level team.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, pattern = "^[0-9]{1,19}$")]
    pub parent_id: Option<Option<String>>,
}

/// Renames or moves a team.
#[utoipa::path(patch, path = "/api/v1/teams/{id}", tag = "teams", security(("bearer" = [])),
    params(("id" = String, Path, description = "Team id")), request_body = TeamUpdate,
    responses((status = 200, description = "The changed team", body = TeamOut), ApiErrors))]
async fn update_team(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    body: JsonBody<TeamUpdate>,
) -> Result<Json<TeamOut>, ApiError> {
    actor.require(Permission::ManagePeople)?;
    let body = body.parse()?;
    let id = parse_path_id(&id)?;
    let dir = service::directory(&app.db, actor.org_id).await?;
    let team = dir.team(id).ok_or(AppError::NotFound)?;
    let name = field("name", TeamName::parse(body.name.as_deref().unwrap_or(&team.name)))?;
    let parent = match &body.parent_id {
        None => team.parent_id,
        Some(None) => None,
        Some(Some(p)) => Some(parse_ref_id("parent_id", p)?),
    };
    service::update_team(&app, &actor, id, &name, parent)
        .await
        .map_err(api_field)?;
    let dir = service::directory(&app.db, actor.org_id).await?;
    Ok(Json(team_out(dir.team(id).ok_or(AppError::NotFound)?, &dir)))
}

async fn set_team_active(
    app: AppState,
    actor: crate::auth::Actor,
    id: String,
    active: bool,
) -> Result<Json<TeamOut>, ApiError> {
    let id = parse_path_id(&id)?;
    service::set_team_active(&app, &actor, id, active)
        .await
        .map_err(api_field)?;
    let dir = service::directory(&app.db, actor.org_id).await?;
    Ok(Json(team_out(dir.team(id).ok_or(AppError::NotFound)?, &dir)))
}

/// Deactivates an empty team.
#[utoipa::path(post, path = "/api/v1/teams/{id}/deactivate", tag = "teams", security(("bearer" = [])),
    params(("id" = String, Path, description = "Team id")),
    responses((status = 200, description = "The team", body = TeamOut), ApiErrors))]
async fn deactivate_team(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<Json<TeamOut>, ApiError> {
    set_team_active(app, actor, id, false).await
}

/// Reactivates a team.
#[utoipa::path(post, path = "/api/v1/teams/{id}/reactivate", tag = "teams", security(("bearer" = [])),
    params(("id" = String, Path, description = "Team id")),
    responses((status = 200, description = "The team", body = TeamOut), ApiErrors))]
async fn reactivate_team(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<Json<TeamOut>, ApiError> {
    set_team_active(app, actor, id, true).await
}
