//! `/api/v1` for insights: actions and their updates, initiatives and
//! their impact reports. The same service functions as the pages, and the
//! same form rules, so a field is refused with the same words.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::initiatives::{self, InitiativeView, Report};
use super::model::{ActionForm, InitiativeForm};
use super::service::{self, ActionView, UpdateView};
use crate::app::AppState;
use crate::error::AppError;
use crate::web::api::{ApiActor, ApiError, ApiErrors, Json, JsonBody, exact, exact_or_none, path_id, renamed};

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(list_actions, create_action))
        .routes(routes!(get_action))
        .routes(routes!(add_update))
        .routes(routes!(list_initiatives, create_initiative))
        .routes(routes!(get_impact))
}

const ACTION_FIELDS: &[(&str, &str)] = &[("group", "team_id"), ("owner", "owner_id"), ("cycle", "cycle_id")];
const INITIATIVE_FIELDS: &[(&str, &str)] = &[("practice_other", "practice"), ("pulse", "pulse_id"), ("team", "teams")];

#[derive(Serialize, ToSchema)]
pub struct ActionOut {
    pub id: String,
    pub title: String,
    pub description: String,
    /// acceptance, value, support or integration; absent for none.
    pub pillar: Option<String>,
    /// "Whole organization", or the team's path.
    pub group: String,
    pub owner: String,
    /// YYYY-MM-DD.
    pub due_date: String,
    /// planned, in_progress, done or dropped.
    pub status: String,
    /// group or org.
    pub visibility: String,
    pub overdue: bool,
}

impl From<&ActionView> for ActionOut {
    fn from(a: &ActionView) -> ActionOut {
        ActionOut {
            id: a.id.to_string(),
            title: a.title.clone(),
            description: a.description.clone(),
            pillar: a.pillar.map(|p| p.as_str().to_owned()),
            group: a.group.clone(),
            owner: a.owner.clone(),
            due_date: a.due_date.clone(),
            status: a.status.as_str().to_owned(),
            visibility: a.visibility.as_str().to_owned(),
            overdue: a.overdue,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct UpdateOut {
    pub author: String,
    /// YYYY-MM-DD, in the reader's time zone.
    pub day: String,
    pub note: String,
    /// The status it set, if it changed it.
    pub status: Option<String>,
}

impl From<&UpdateView> for UpdateOut {
    fn from(u: &UpdateView) -> UpdateOut {
        UpdateOut {
            author: u.author.clone(),
            day: u.day.clone(),
            note: u.note.clone(),
            status: u.status.map(|s| s.as_str().to_owned()),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ActionDetailOut {
    pub action: ActionOut,
    pub updates: Vec<UpdateOut>,
}

/// The actions the caller may read, soonest due first.
#[utoipa::path(get, path = "/api/v1/actions", tag = "insights", security(("bearer" = [])),
    responses((status = 200, description = "Actions", body = Vec<ActionOut>), ApiErrors))]
async fn list_actions(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Vec<ActionOut>>, ApiError> {
    Ok(Json(
        service::list(&app, &actor).await?.iter().map(ActionOut::from).collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionCreate {
    #[schema(min_length = 1, max_length = 120, pattern = "\\S")]
    pub title: String,
    #[schema(max_length = 2000)]
    #[serde(default)]
    pub description: String,
    /// acceptance, value, support or integration; absent for none.
    #[schema(pattern = "^(acceptance|value|support|integration)$")]
    #[serde(default)]
    pub pillar: Option<String>,
    /// The team it is for; absent for the whole organization.
    #[schema(pattern = "^[0-9]{1,18}$")]
    #[serde(default)]
    pub team_id: Option<String>,
    #[schema(pattern = "^[0-9]{1,18}$")]
    pub owner_id: String,
    /// YYYY-MM-DD, today or later.
    #[schema(pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    pub due_date: String,
    /// group (the people it is for) or org (everyone).
    #[schema(pattern = "^(group|org)$")]
    pub visibility: String,
    /// The closed cycle whose result it answers.
    #[schema(pattern = "^[0-9]{1,18}$")]
    #[serde(default)]
    pub cycle_id: Option<String>,
}

/// Plans an action (managers for their teams, HR and owners for any
/// group); its owner is told by email.
#[utoipa::path(post, path = "/api/v1/actions", tag = "insights", security(("bearer" = [])), request_body = ActionCreate,
    responses((status = 201, description = "Planned", body = ActionDetailOut), ApiErrors))]
async fn create_action(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    body: JsonBody<ActionCreate>,
) -> Result<impl IntoResponse, ApiError> {
    actor.require(crate::auth::Permission::PlanActions)?;
    let body = body.parse()?;
    let form = ActionForm {
        title: body.title,
        description: body.description,
        pillar: exact_or_none("pillar", body.pillar)?.unwrap_or_default(),
        group: exact_or_none("team_id", body.team_id)?.unwrap_or_else(|| "org".into()),
        owner: exact("owner_id", body.owner_id)?,
        due_date: exact("due_date", body.due_date)?,
        visibility: exact("visibility", body.visibility)?,
        cycle: exact_or_none("cycle_id", body.cycle_id)?.unwrap_or_default(),
    };
    let input = form.parse().map_err(|p| renamed(AppError::fields(p), ACTION_FIELDS))?;
    let id = service::create(&app, &actor, &input)
        .await
        .map_err(|e| renamed(e, ACTION_FIELDS))?;
    Ok((StatusCode::CREATED, Json(detail(&app, &actor, id).await?)))
}

async fn detail(app: &AppState, actor: &crate::auth::Actor, id: i64) -> Result<ActionDetailOut, ApiError> {
    let (action, updates) = service::detail(app, actor, id).await?;
    Ok(ActionDetailOut {
        action: ActionOut::from(&action),
        updates: updates.iter().map(UpdateOut::from).collect(),
    })
}

/// One action with its updates, if the caller may read it.
#[utoipa::path(get, path = "/api/v1/actions/{id}", tag = "insights", security(("bearer" = [])),
    params(("id" = String, Path, description = "Action id")),
    responses((status = 200, description = "The action", body = ActionDetailOut), ApiErrors))]
async fn get_action(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<Json<ActionDetailOut>, ApiError> {
    Ok(Json(detail(&app, &actor, path_id(&id)?).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCreate {
    #[schema(max_length = 1000)]
    #[serde(default)]
    pub note: String,
    /// planned, in_progress, done or dropped; closing asks for a note.
    #[schema(pattern = "^(planned|in_progress|done|dropped)$")]
    #[serde(default)]
    pub status: Option<String>,
    /// A new due date, YYYY-MM-DD, today or later.
    #[schema(pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    #[serde(default)]
    pub due_date: Option<String>,
}

/// Adds a dated update (the owner, the creator, or who plans for the
/// group), changing the status when given.
#[utoipa::path(post, path = "/api/v1/actions/{id}/updates", tag = "insights", security(("bearer" = [])),
    params(("id" = String, Path, description = "Action id")), request_body = UpdateCreate,
    responses((status = 201, description = "The action with the update", body = ActionDetailOut), ApiErrors))]
async fn add_update(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    body: JsonBody<UpdateCreate>,
) -> Result<impl IntoResponse, ApiError> {
    let id = path_id(&id)?;
    let body = body.parse()?;
    let status = exact_or_none("status", body.status)?;
    let due_date = exact_or_none("due_date", body.due_date)?;
    let progress = service::Progress {
        note: &body.note,
        status: status.as_deref().unwrap_or(""),
        due_date: due_date.as_deref().unwrap_or(""),
    };
    service::add_update(&app, &actor, id, progress).await?;
    Ok((StatusCode::CREATED, Json(detail(&app, &actor, id).await?)))
}

#[derive(Serialize, ToSchema)]
pub struct InitiativeOut {
    pub id: String,
    pub name: String,
    pub description: String,
    pub practice: String,
    pub pillar: String,
    pub pulse_id: String,
    pub starts_on: String,
    pub ends_on: Option<String>,
    pub sub_teams: bool,
    /// proposed or active.
    pub standing: String,
    /// Team paths, each with its own start when it differs.
    pub teams: Vec<InitiativeTeamOut>,
}

#[derive(Serialize, ToSchema)]
pub struct InitiativeTeamOut {
    pub team: String,
    pub starts_on: Option<String>,
}

impl From<&InitiativeView> for InitiativeOut {
    fn from(i: &InitiativeView) -> InitiativeOut {
        InitiativeOut {
            id: i.id.to_string(),
            name: i.name.clone(),
            description: i.description.clone(),
            practice: i.practice.clone(),
            pillar: i.pillar.as_str().to_owned(),
            pulse_id: i.pulse_id.to_string(),
            starts_on: i.starts_on.clone(),
            ends_on: i.ends_on.clone(),
            sub_teams: i.sub_teams,
            standing: i.standing.as_str().to_owned(),
            teams: i
                .teams
                .iter()
                .map(|(team, starts_on)| InitiativeTeamOut {
                    team: team.clone(),
                    starts_on: starts_on.clone(),
                })
                .collect(),
        }
    }
}

/// The initiatives the caller sees (managers and above).
#[utoipa::path(get, path = "/api/v1/initiatives", tag = "insights", security(("bearer" = [])),
    responses((status = 200, description = "Initiatives", body = Vec<InitiativeOut>), ApiErrors))]
async fn list_initiatives(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Vec<InitiativeOut>>, ApiError> {
    actor.require(crate::auth::Permission::PlanActions)?;
    Ok(Json(
        initiatives::list(&app, &actor)
            .await?
            .iter()
            .map(InitiativeOut::from)
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InitiativeTeamIn {
    #[schema(pattern = "^[0-9]{1,18}$")]
    pub team_id: String,
    /// Its own start, YYYY-MM-DD, when it starts later.
    #[schema(pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    #[serde(default)]
    pub starts_on: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InitiativeCreate {
    #[schema(min_length = 1, max_length = 120, pattern = "\\S")]
    pub name: String,
    #[schema(max_length = 2000)]
    #[serde(default)]
    pub description: String,
    /// thank_you_board, feedback_box, stay_interviews, coffee_pairing,
    /// mentoring, huddles, workshops, or the practice in your words.
    #[schema(min_length = 1, max_length = 80, pattern = "\\S")]
    pub practice: String,
    #[schema(pattern = "^(acceptance|value|support|integration)$")]
    pub pillar: String,
    /// The pulse whose cycles measure it.
    #[schema(pattern = "^[0-9]{1,18}$")]
    pub pulse_id: String,
    #[schema(pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    pub starts_on: String,
    #[schema(pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    #[serde(default)]
    pub ends_on: Option<String>,
    #[serde(default)]
    pub sub_teams: bool,
    #[schema(min_items = 1, max_items = 200)]
    pub teams: Vec<InitiativeTeamIn>,
}

/// Defines an initiative (HR and owners), or proposes one for the
/// caller's own teams (managers).
#[utoipa::path(post, path = "/api/v1/initiatives", tag = "insights", security(("bearer" = [])), request_body = InitiativeCreate,
    responses((status = 201, description = "Defined, or proposed", body = InitiativeOut), ApiErrors))]
async fn create_initiative(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    body: JsonBody<InitiativeCreate>,
) -> Result<impl IntoResponse, ApiError> {
    actor.require(crate::auth::Permission::PlanActions)?;
    let body: InitiativeCreate = body.parse()?;
    let mut teams = Vec::new();
    for t in body.teams {
        teams.push((exact("teams", t.team_id)?, exact_or_none("teams", t.starts_on)?));
    }
    let (pillar, pulse, starts_on, ends_on) = (
        exact("pillar", body.pillar)?,
        exact("pulse_id", body.pulse_id)?,
        exact("starts_on", body.starts_on)?,
        exact_or_none("ends_on", body.ends_on)?,
    );
    let (practice, practice_other) = super::model::practice_fields(body.practice);
    let form = InitiativeForm {
        name: body.name,
        description: body.description,
        practice,
        practice_other,
        pillar,
        pulse,
        starts_on,
        ends_on: ends_on.unwrap_or_default(),
        sub_teams: body.sub_teams,
        team_starts: teams
            .iter()
            .filter_map(|(t, s)| Some((t.clone(), s.clone()?)))
            .collect(),
        teams: teams.into_iter().map(|(t, _)| t).collect(),
    };
    let input = form
        .parse()
        .map_err(|p| renamed(AppError::fields(p), INITIATIVE_FIELDS))?;
    let id = initiatives::create(&app, &actor, &input)
        .await
        .map_err(|e| renamed(e, INITIATIVE_FIELDS))?;
    let made = initiatives::detail(&app, &actor, id).await?;
    Ok((StatusCode::CREATED, Json(InitiativeOut::from(&made))))
}

#[derive(Serialize, ToSchema)]
pub struct ImpactOut {
    pub pillar: String,
    /// The verdict in words: a number only when the data hold one.
    pub verdict: String,
    /// How the p-value was found (all assignments, or a seeded sample).
    pub method: String,
    /// Months of the cycles measured, oldest first.
    pub months: Vec<String>,
    /// Response-weighted % favourable per cycle; null where nothing was
    /// released.
    pub taking_part: Vec<Option<f64>>,
    pub others: Vec<Option<f64>>,
    pub cycles_before: usize,
    pub cycles_after: usize,
    pub teams_taking_part: usize,
    pub teams_compared: usize,
    /// Points; absent when nothing can be compared.
    pub estimate: Option<f64>,
    pub p_value: Option<f64>,
    /// The 90 % interval's ends; absent where the test bounds nothing.
    pub interval_low: Option<f64>,
    pub interval_high: Option<f64>,
    pub smallest_p: Option<f64>,
    pub cannot_tell: bool,
    pub inconclusive: bool,
    pub warnings: Vec<String>,
}

impl From<&Report> for ImpactOut {
    fn from(r: &Report) -> ImpactOut {
        let i = r.inference.as_ref();
        ImpactOut {
            pillar: r.pillar.as_str().to_owned(),
            verdict: r.verdict(),
            method: r.method(),
            months: r.months.clone(),
            taking_part: r.taking.clone(),
            others: r.others.clone(),
            cycles_before: r.cycles_before,
            cycles_after: r.cycles_after,
            teams_taking_part: r.teams_taking,
            teams_compared: r.teams_other,
            estimate: i.map(|i| i.effect),
            p_value: i.map(|i| i.p_value),
            interval_low: i.and_then(|i| i.low),
            interval_high: i.and_then(|i| i.high),
            smallest_p: i.map(|i| i.min_p),
            cannot_tell: i.is_none_or(|i| i.cannot_tell()),
            inconclusive: i.is_none_or(|i| i.inconclusive()),
            warnings: r.warnings.clone(),
        }
    }
}

/// An initiative's impact report (HR and owners), computed only from the
/// team results the publication plan released.
#[utoipa::path(get, path = "/api/v1/initiatives/{id}/impact", tag = "insights", security(("bearer" = [])),
    params(("id" = String, Path, description = "Initiative id")),
    responses((status = 200, description = "The impact report", body = ImpactOut), ApiErrors))]
async fn get_impact(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<Json<ImpactOut>, ApiError> {
    let (_, report) = initiatives::report(&app, &actor, path_id(&id)?).await?;
    Ok(Json(ImpactOut::from(&report)))
}
