//! `/api/v1` for pulses: the same service functions as the pages, so the
//! same publication plan guards every figure.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::model::PulseInput;
use super::model::{Pillar, Schedule};
use super::results::GroupResult;
use super::service::{self, View};
use super::store::Cycle;
use crate::app::AppState;
use crate::auth::{Actor, Permission};
use crate::error::AppError;
use crate::privacy::plan::Group;
use crate::privacy::plan::Suppressed;
use crate::privacy::rules::Participation;
use crate::web::api::{ApiActor, ApiError, ApiErrors, ApiQuery, Json, JsonBody, path_id};

/// Every operation of this module: each route and its entry in the OpenAPI
/// document come from the same handler, so neither exists without the other.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(list_questions))
        .routes(routes!(list_pulses, create_pulse))
        .routes(routes!(launch_cycle))
        .routes(routes!(list_cycles))
        .routes(routes!(open_cycles))
        .routes(routes!(close_cycle))
        .routes(routes!(submit_response))
        .routes(routes!(get_results))
        .routes(routes!(get_heatmap))
        .routes(routes!(submit_with_invitation))
}

#[derive(Serialize, ToSchema)]
pub struct QuestionOut {
    pub id: String,
    pub pillar: Pillar,
    pub text: String,
    /// Lowest and highest answer; absent for the free-text comment.
    pub scale: Option<[i64; 2]>,
    pub version: i64,
    pub retired: bool,
}

impl From<&super::model::Question> for QuestionOut {
    fn from(q: &super::model::Question) -> QuestionOut {
        QuestionOut {
            id: q.id.to_string(),
            pillar: q.pillar,
            text: q.text.clone(),
            scale: q.pillar.scale().map(|(a, b)| [a, b]),
            version: q.version,
            retired: q.retired,
        }
    }
}

/// The organization's question bank (HR admins and owners).
#[utoipa::path(get, path = "/api/v1/questions", tag = "pulse", security(("bearer" = [])),
    responses((status = 200, description = "Questions, pillar by pillar", body = Vec<QuestionOut>), ApiErrors))]
async fn list_questions(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Vec<QuestionOut>>, ApiError> {
    actor.require(Permission::ManageSurveys)?;
    let bank = service::question_bank(&app, actor.org_id).await?;
    Ok(Json(bank.iter().map(QuestionOut::from).collect()))
}

#[derive(Serialize, ToSchema)]
pub struct PulseOut {
    pub id: String,
    pub title: String,
    pub schedule: String,
}

/// Pulses of the organization (HR admins and owners).
#[utoipa::path(get, path = "/api/v1/pulses", tag = "pulse", security(("bearer" = [])),
    responses((status = 200, description = "Pulses, newest first", body = Vec<PulseOut>), ApiErrors))]
async fn list_pulses(State(app): State<AppState>, ApiActor(actor): ApiActor) -> Result<Json<Vec<PulseOut>>, ApiError> {
    actor.require(Permission::ManageSurveys)?;
    let pulses = super::store::pulses(&mut *app.db.acquire().await?, actor.org_id)
        .await
        .map_err(AppError::from)?;
    let out = pulses
        .into_iter()
        .map(|(id, title, schedule)| PulseOut {
            id: id.to_string(),
            title,
            schedule: schedule.as_str().to_owned(),
        })
        .collect();
    Ok(Json(out))
}

/// A team's id, as a string of digits.
#[derive(ToSchema)]
#[schema(pattern = "^[0-9]{1,19}$")]
#[allow(dead_code)]
struct TeamIdIn(String);

#[derive(Deserialize, ToSchema)]
pub struct PulseQuestionIn {
    #[schema(pattern = "^[0-9]{1,19}$")]
    pub question_id: String,
    /// Asked every cycle (true) or in rotation (false).
    pub core: bool,
}

#[derive(Deserialize, ToSchema)]
pub struct PulseCreate {
    #[schema(
        min_length = 1,
        max_length = 120,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\u0000-\\u0020\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$"
    )]
    pub title: String,
    /// once, monthly or quarterly
    #[schema(pattern = "^(once|monthly|quarterly)$")]
    pub schedule: String,
    #[schema(minimum = 1, maximum = 28)]
    pub open_days: i64,
    #[schema(minimum = 0, maximum = 27)]
    pub remind_days: i64,
    #[schema(minimum = 5, maximum = 10)]
    pub per_cycle: i64,
    /// Only these teams (with sub-teams); everyone when absent.
    #[schema(inline, value_type = Option<Vec<TeamIdIn>>)]
    pub team_ids: Option<Vec<String>>,
    #[schema(min_items = 5, max_items = 40)]
    pub questions: Vec<PulseQuestionIn>,
}

fn ref_id(field: &str, raw: &str) -> Result<i64, ApiError> {
    raw.parse()
        .map_err(|_| ApiError(AppError::invalid(field, format!("{raw:?} is not an id"))))
}

/// Designs a pulse.
#[utoipa::path(post, path = "/api/v1/pulses", tag = "pulse", security(("bearer" = [])), request_body = PulseCreate,
    responses((status = 201, description = "Created", body = PulseOut), ApiErrors))]
async fn create_pulse(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    body: JsonBody<PulseCreate>,
) -> Result<impl IntoResponse, ApiError> {
    actor.require(Permission::ManageSurveys)?;
    let body = body.parse()?;
    let schedule = Schedule::parse(&body.schedule).map_err(|e| AppError::invalid("schedule", e))?;
    let questions = body
        .questions
        .iter()
        .map(|q| Ok((ref_id("questions", &q.question_id)?, q.core)))
        .collect::<Result<Vec<_>, ApiError>>()?;
    let teams = body
        .team_ids
        .as_ref()
        .map(|ts| ts.iter().map(|t| ref_id("team_ids", t)).collect::<Result<Vec<_>, _>>())
        .transpose()?;
    let input = PulseInput {
        title: body.title.clone(),
        schedule,
        open_days: body.open_days,
        remind_days: body.remind_days,
        per_cycle: body.per_cycle,
        teams,
        questions,
    };
    let id = service::create_pulse(&app, &actor, &input).await?;
    Ok((
        StatusCode::CREATED,
        Json(PulseOut {
            id: id.to_string(),
            title: body.title.trim().to_owned(),
            schedule: schedule.as_str().to_owned(),
        }),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct CycleOut {
    pub id: String,
    pub pulse_id: String,
    pub title: String,
    pub number: i64,
    /// Unix seconds.
    pub opens_at: i64,
    pub closes_at: i64,
    pub closed: bool,
    /// Responses a group needs before anything of it is shown.
    pub k: u32,
}

impl From<&Cycle> for CycleOut {
    fn from(c: &Cycle) -> CycleOut {
        CycleOut {
            id: c.id.to_string(),
            pulse_id: c.pulse_id.to_string(),
            title: c.title.clone(),
            number: c.number,
            opens_at: c.opens_at,
            closes_at: c.closes_at,
            closed: c.is_closed(),
            k: c.k,
        }
    }
}

async fn cycle_out(app: &AppState, actor: &Actor, id: i64) -> Result<CycleOut, ApiError> {
    let mut conn = app.db.acquire().await.map_err(AppError::from)?;
    let c = super::store::cycle(&mut conn, actor.org_id, id)
        .await
        .map_err(AppError::from)?
        .ok_or(AppError::NotFound)?;
    Ok(CycleOut::from(&c))
}

/// Opens a new cycle of a pulse now: invitations go out by email.
#[utoipa::path(post, path = "/api/v1/pulses/{id}/cycles", tag = "pulse", security(("bearer" = [])),
    params(("id" = String, Path, description = "Pulse id")),
    responses((status = 201, description = "The opened cycle", body = CycleOut), ApiErrors))]
async fn launch_cycle(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    actor.require(Permission::ManageSurveys)?;
    let cycle = service::launch(&app, actor.org_id, path_id(&id)?).await?;
    Ok((StatusCode::CREATED, Json(cycle_out(&app, &actor, cycle).await?)))
}

/// Closes a cycle before its date; its publication plan is decided now.
#[utoipa::path(post, path = "/api/v1/cycles/{id}/close", tag = "pulse", security(("bearer" = [])),
    params(("id" = String, Path, description = "Cycle id")),
    responses((status = 200, description = "The closed cycle", body = CycleOut), ApiErrors))]
async fn close_cycle(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<Json<CycleOut>, ApiError> {
    let id = path_id(&id)?;
    service::close_early(&app, &actor, id).await?;
    Ok(Json(cycle_out(&app, &actor, id).await?))
}

/// Cycles whose results the caller may read.
#[utoipa::path(get, path = "/api/v1/cycles", tag = "pulse", security(("bearer" = [])),
    responses((status = 200, description = "Cycles, newest first", body = Vec<CycleOut>), ApiErrors))]
async fn list_cycles(State(app): State<AppState>, ApiActor(actor): ApiActor) -> Result<Json<Vec<CycleOut>>, ApiError> {
    if service::visible_groups(&app, &actor).await?.is_empty() {
        return Ok(Json(Vec::new()));
    }
    Ok(Json(
        service::cycles(&app, &actor)
            .await?
            .iter()
            .map(CycleOut::from)
            .collect(),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct OpenCycleOut {
    pub cycle: CycleOut,
    pub questions: Vec<QuestionOut>,
    /// Self-reported segments the answer may carry (`segments` of the
    /// response: id → one of the options, or leave it out).
    pub segments: Vec<SegmentOut>,
}

#[derive(Clone, Serialize, ToSchema)]
pub struct SegmentOut {
    pub id: String,
    pub text: String,
    pub options: Vec<String>,
}

/// Open cycles the caller has not answered yet, with their questions.
#[utoipa::path(get, path = "/api/v1/cycles/open", tag = "pulse", security(("bearer" = [])),
    responses((status = 200, description = "Open cycles", body = Vec<OpenCycleOut>), ApiErrors))]
async fn open_cycles(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Vec<OpenCycleOut>>, ApiError> {
    let mut out = Vec::new();
    let segments: Vec<SegmentOut> = super::writer::of(&app)
        .segments(&app.db, actor.org_id, app.now().as_second())
        .await
        .map_err(AppError::from)?
        .iter()
        .map(|q| SegmentOut {
            id: q.id.to_string(),
            text: q.text.clone(),
            options: q.options.clone(),
        })
        .collect();
    for c in service::open_for(&app, &actor).await? {
        let questions = match service::form(&app, actor.org_id, c.id, actor.person_id).await {
            Ok((_, qs)) => qs,
            Err(_) => continue,
        };
        out.push(OpenCycleOut {
            cycle: CycleOut::from(&c),
            questions: questions.iter().map(QuestionOut::from).collect(),
            segments: segments.clone(),
        });
    }
    Ok(Json(out))
}

#[derive(Deserialize, ToSchema)]
pub struct ResponseIn {
    /// Question id → answer (1–5, or 0–10 for eNPS). Every scale question
    /// of the cycle must be answered.
    pub answers: BTreeMap<String, i64>,
    /// The optional comment. Leave out anything that identifies anyone.
    #[schema(max_length = 2000)]
    pub comment: Option<String>,
    /// Self-reported segments: segment question id → one of its options,
    /// or "prefer not to say" (the same as leaving it out).
    #[serde(default)]
    pub segments: BTreeMap<String, String>,
}

#[derive(Serialize, ToSchema)]
pub struct Recorded {
    /// Always "recorded".
    pub status: String,
}

/// The JSON answer as it came, typed: checked as it is, never turned into
/// form strings.
fn typed(body: &ResponseIn) -> service::Sent<'_> {
    service::Sent::Typed {
        answers: &body.answers,
        comment: body.comment.as_deref(),
        segments: &body.segments,
    }
}

async fn submit(app: &AppState, org_id: i64, cycle_id: i64, person_id: i64, body: &ResponseIn) -> Result<(), ApiError> {
    service::submit_sent(app, org_id, cycle_id, person_id, typed(body))
        .await
        .map_err(|e| ApiError(e.into()))
}

/// Answers a cycle as the calling person; once per person per cycle.
#[utoipa::path(post, path = "/api/v1/cycles/{id}/responses", tag = "pulse", security(("bearer" = [])),
    params(("id" = String, Path, description = "Cycle id")), request_body = ResponseIn,
    responses((status = 201, description = "Stored, with no link to you", body = Recorded), ApiErrors))]
async fn submit_response(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    body: JsonBody<ResponseIn>,
) -> Result<impl IntoResponse, ApiError> {
    let body = body.parse()?;
    submit(&app, actor.org_id, path_id(&id)?, actor.person_id, &body).await?;
    Ok((
        StatusCode::CREATED,
        Json(Recorded {
            status: "recorded".into(),
        }),
    ))
}

/// Answers with the personal link's token (no API token needed).
#[utoipa::path(post, path = "/api/v1/invitations/{token}/response", tag = "pulse",
    params(("token" = String, Path, description = "The token of the personal link")), request_body = ResponseIn,
    responses((status = 201, description = "Stored, with no link to you", body = Recorded), ApiErrors))]
async fn submit_with_invitation(
    State(app): State<AppState>,
    Path(token): Path<String>,
    body: JsonBody<ResponseIn>,
) -> Result<impl IntoResponse, ApiError> {
    let body = body.parse()?;
    service::submit_by_link(&app, &token, typed(&body))
        .await
        .map_err(|e| ApiError(e.into()))?;
    Ok((
        StatusCode::CREATED,
        Json(Recorded {
            status: "recorded".into(),
        }),
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResultsQuery {
    /// org, team:ID, team-only:ID or segment:QUESTION=VALUE; default org.
    #[param(pattern = "^(org|team:[0-9]{1,19}|team-only:[0-9]{1,19}|segment:[0-9]{1,19}=.+)$")]
    pub group: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ResultsOut {
    pub cycle: CycleOut,
    pub group: String,
    /// open, released, fewer_than_k or withheld.
    pub status: String,
    /// While open: small_group, fewer_than_k or percent.
    pub participation: Option<String>,
    /// Rounded down to 10 %, when participation is "percent".
    pub participation_percent: Option<u32>,
    pub result: Option<GroupResult>,
    /// Why nothing is shown (fewer_than_k, withheld), in plain words.
    pub reason: Option<String>,
    /// Why the organization's comments are not listed, when closed.
    pub comments_note: Option<String>,
    /// Groups the caller may ask for.
    pub groups: Vec<String>,
}

/// Results of a group in a cycle, as the publication plan allows.
#[utoipa::path(get, path = "/api/v1/cycles/{id}/results", tag = "pulse", security(("bearer" = [])),
    params(("id" = String, Path, description = "Cycle id"), ResultsQuery),
    responses((status = 200, description = "What may be shown", body = ResultsOut), ApiErrors))]
async fn get_results(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ResultsQuery>,
) -> Result<Json<ResultsOut>, ApiError> {
    let id = path_id(&id)?;
    let key = q.group.unwrap_or_else(|| "org".into());
    let group = Group::parse(&key).ok_or_else(|| AppError::invalid("group", "not a group such as org or team:ID"))?;
    let visible = service::visible_groups(&app, &actor).await?;
    let (cycle, view) = service::view(&app, &actor, &visible, id, &group).await?;
    let groups = visible.groups().iter().map(Group::key).collect();
    let mut out = ResultsOut {
        cycle: CycleOut::from(&cycle),
        group: key,
        status: String::new(),
        participation: None,
        participation_percent: None,
        result: None,
        reason: None,
        comments_note: None,
        groups,
    };
    match view {
        View::Open(p) => {
            out.status = "open".into();
            let (label, pct) = match p {
                Participation::SmallGroup => ("small_group", None),
                Participation::FewerThanK => ("fewer_than_k", None),
                Participation::Percent(x) => ("percent", Some(x)),
            };
            out.participation = Some(label.into());
            out.participation_percent = pct;
        }
        View::Released(r) => {
            out.status = "released".into();
            out.result = Some(*r);
            if out.group == "org" {
                out.comments_note = service::comments_note(&cycle);
            }
        }
        View::FewerThanK => {
            out.status = "fewer_than_k".into();
            out.reason = Some(service::withheld_reason(Suppressed::TooFew, cycle.k));
        }
        View::Withheld(why) => {
            out.status = "withheld".into();
            out.reason = Some(service::withheld_reason(why, cycle.k));
        }
    }
    Ok(Json(out))
}

#[derive(Serialize, ToSchema)]
pub struct HeatmapRow {
    /// "Parent / Team"
    pub team: String,
    /// % favourable per pillar.
    pub pillars: BTreeMap<Pillar, f64>,
}

/// Teams × pillars (% favourable) for the teams the caller may see that
/// the publication plan released.
#[utoipa::path(get, path = "/api/v1/cycles/{id}/heatmap", tag = "pulse", security(("bearer" = [])),
    params(("id" = String, Path, description = "Cycle id")),
    responses((status = 200, description = "One row per released team", body = Vec<HeatmapRow>), ApiErrors))]
async fn get_heatmap(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<Json<Vec<HeatmapRow>>, ApiError> {
    let id = path_id(&id)?;
    let visible = service::visible_groups(&app, &actor).await?;
    let rows = service::heatmap(&app, &actor, &visible, id).await?;
    crate::audit::record_now(
        &app.db,
        &actor,
        "results.viewed",
        crate::audit::Subject::Cycle(id),
        "heatmap",
        app.now(),
    )
    .await
    .map_err(AppError::from)?;
    Ok(Json(
        rows.into_iter()
            .map(|(_, team, pillars)| HeatmapRow { team, pillars })
            .collect(),
    ))
}
