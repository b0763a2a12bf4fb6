//! `/api/v1` for conversations: templates, talks, their notes and action
//! items, and the calendar feed. The same service functions as the
//! pages: a talk is found only by its two people, a private note only by
//! its author; HR reads counts on the page, never notes.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::model::{self, ActionForm, Question, RequestForm, TalkForm, TemplateForm, TimeForm};
use super::service::{self, NoteInput, TalkView};
use super::{feed, store::TemplateRow};
use crate::app::AppState;
use crate::auth::Actor;
use crate::error::AppError;
use crate::web::api::{ApiActor, ApiError, ApiErrors, Json, JsonBody, exact, exact_or_none, path_id, renamed};

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(list_templates, create_template))
        .routes(routes!(update_template))
        .routes(routes!(list_talks, create_talk))
        .routes(routes!(request_talk))
        .routes(routes!(get_talk))
        .routes(routes!(set_time))
        .routes(routes!(cancel_talk))
        .routes(routes!(mark_held))
        .routes(routes!(save_notes))
        .routes(routes!(add_item))
        .routes(routes!(update_item))
        .routes(routes!(renew_feed, delete_feed))
}

const TALK_FIELDS: &[(&str, &str)] = &[
    ("with", "with_id"),
    ("template", "template_id"),
    ("cadence", "cadence_days"),
];
const ITEM_FIELDS: &[(&str, &str)] = &[("owner", "owner_id")];

#[derive(Serialize, Deserialize, ToSchema)]
pub struct TalkQuestion {
    /// The question as the talk asks it.
    #[schema(min_length = 1, max_length = 300, pattern = "\\S")]
    pub text: String,
    /// acceptance, value, support or integration; absent for none.
    #[schema(pattern = "^(acceptance|value|support|integration)$")]
    #[serde(default)]
    pub pillar: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TalkTemplateOut {
    pub id: String,
    pub name: String,
    /// stay, career, one_on_one or custom.
    pub kind: String,
    pub version: i64,
    pub questions: Vec<TalkQuestion>,
}

impl From<&TemplateRow> for TalkTemplateOut {
    fn from(t: &TemplateRow) -> TalkTemplateOut {
        TalkTemplateOut {
            id: t.id.to_string(),
            name: t.name.clone(),
            kind: t.kind.clone(),
            version: t.version,
            questions: t
                .questions
                .iter()
                .map(|q| TalkQuestion {
                    text: q.text.clone(),
                    pillar: q.pillar.map(|p| p.as_str().to_owned()),
                })
                .collect(),
        }
    }
}

/// The templates new talks use (each one's current version).
#[utoipa::path(get, path = "/api/v1/talk-templates", tag = "conversations", security(("bearer" = [])),
    responses((status = 200, description = "Templates", body = Vec<TalkTemplateOut>), ApiErrors))]
async fn list_templates(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Vec<TalkTemplateOut>>, ApiError> {
    Ok(Json(
        service::templates(&app, &actor)
            .await?
            .iter()
            .map(TalkTemplateOut::from)
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TalkTemplateIn {
    #[schema(min_length = 1, max_length = 80, pattern = "\\S")]
    pub name: String,
    #[schema(min_items = 1, max_items = 12)]
    pub questions: Vec<TalkQuestion>,
}

/// The body as the form would send it, so both are checked by one rule.
fn template_form(body: TalkTemplateIn) -> Result<(String, Vec<Question>), ApiError> {
    if body.questions.len() > model::QUESTIONS_MAX {
        return Err(ApiError(AppError::invalid("questions", "write at most 12 questions")));
    }
    let mut form = TemplateForm {
        name: body.name,
        ..TemplateForm::default()
    };
    for (i, q) in body.questions.into_iter().enumerate() {
        if q.text.trim().is_empty() {
            return Err(ApiError(AppError::invalid(
                &format!("questions[{i}].text"),
                "write the question",
            )));
        }
        form.rows.insert(format!("q{i}"), q.text);
        let pillar = exact_or_none(&format!("questions[{i}].pillar"), q.pillar)?;
        form.rows.insert(format!("p{i}"), pillar.unwrap_or_default());
    }
    form.parse().map_err(|p| ApiError(AppError::fields(p)))
}

/// Adds a template (hr_admin and owners).
#[utoipa::path(post, path = "/api/v1/talk-templates", tag = "conversations", security(("bearer" = [])),
    request_body = TalkTemplateIn,
    responses((status = 201, description = "Added", body = TalkTemplateOut), ApiErrors))]
async fn create_template(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    body: JsonBody<TalkTemplateIn>,
) -> Result<impl IntoResponse, ApiError> {
    actor.require(crate::auth::Permission::ManageConversations)?;
    let (name, questions) = template_form(body.parse()?)?;
    let id = service::save_template(&app, &actor, None, &name, &questions).await?;
    Ok((StatusCode::CREATED, Json(template_out(&app, &actor, id).await?)))
}

async fn template_out(app: &AppState, actor: &Actor, id: i64) -> Result<TalkTemplateOut, ApiError> {
    let all = service::all_templates(app, actor.org_id).await?;
    let t = all.iter().find(|t| t.id == id).ok_or(AppError::NotFound)?;
    Ok(TalkTemplateOut::from(t))
}

/// Changes a template (hr_admin and owners); when past talks used it, a
/// new version is made (its new id is returned) and they keep theirs.
#[utoipa::path(put, path = "/api/v1/talk-templates/{id}", tag = "conversations", security(("bearer" = [])),
    params(("id" = String, Path, description = "Template id")), request_body = TalkTemplateIn,
    responses((status = 200, description = "Saved", body = TalkTemplateOut), ApiErrors))]
async fn update_template(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    body: JsonBody<TalkTemplateIn>,
) -> Result<Json<TalkTemplateOut>, ApiError> {
    actor.require(crate::auth::Permission::ManageConversations)?;
    let id = path_id(&id)?;
    let (name, questions) = template_form(body.parse()?)?;
    let saved = service::save_template(&app, &actor, Some(id), &name, &questions).await?;
    Ok(Json(template_out(&app, &actor, saved).await?))
}

#[derive(Serialize, ToSchema)]
pub struct TalkLineOut {
    pub id: String,
    pub template: String,
    pub with: String,
    /// In the caller's time zone; empty while asked for.
    pub when: String,
    /// requested, scheduled, held or cancelled.
    pub status: String,
}

/// The caller's talks.
#[utoipa::path(get, path = "/api/v1/talks", tag = "conversations", security(("bearer" = [])),
    responses((status = 200, description = "Talks", body = Vec<TalkLineOut>), ApiErrors))]
async fn list_talks(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Vec<TalkLineOut>>, ApiError> {
    let t = service::talks(&app, &actor).await?;
    Ok(Json(
        t.asked
            .iter()
            .chain(&t.upcoming)
            .chain(&t.to_close)
            .chain(&t.past)
            .map(|l| TalkLineOut {
                id: l.id.to_string(),
                template: l.template.clone(),
                with: l.other.clone(),
                when: l.when.clone(),
                status: l.status.as_str().to_owned(),
            })
            .collect(),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct TalkNoteOut {
    pub question: i64,
    pub text: String,
    /// acceptance, value, support or integration; absent for none.
    pub pillar: Option<String>,
    /// Both people read and write it.
    pub shared: String,
    /// When the shared note was last written (Unix seconds; 0: never):
    /// send it back as `seen` so a save over the other's change is caught.
    pub seen: i64,
    /// The caller's own private note (nobody else's is ever sent).
    pub private: String,
}

#[derive(Serialize, ToSchema)]
pub struct TalkItemOut {
    pub id: String,
    pub text: String,
    pub owner: String,
    pub owner_id: String,
    pub due_date: String,
    /// open, done or dropped.
    pub status: String,
    /// Agreed in an earlier talk of the pair.
    pub earlier: bool,
}

#[derive(Serialize, ToSchema)]
pub struct TalkOut {
    pub id: String,
    pub template: String,
    pub with: String,
    pub with_id: String,
    pub organizer: String,
    /// requested, scheduled, held or cancelled.
    pub status: String,
    /// In the caller's time zone; empty while asked for.
    pub when: String,
    pub minutes: i64,
    pub questions: Vec<TalkNoteOut>,
    /// This talk's items, then the pair's open ones from earlier talks.
    pub items: Vec<TalkItemOut>,
}

impl From<TalkView> for TalkOut {
    fn from(t: TalkView) -> TalkOut {
        let item = |a: &service::ActionView| TalkItemOut {
            id: a.id.to_string(),
            text: a.text.clone(),
            owner: a.owner.clone(),
            owner_id: a.owner_id.to_string(),
            due_date: a.due_date.clone(),
            status: a.status.clone(),
            earlier: a.earlier,
        };
        TalkOut {
            id: t.id.to_string(),
            template: t.template.clone(),
            with: t.other.clone(),
            with_id: t.other_id.to_string(),
            organizer: t.organizer.clone(),
            status: t.status.as_str().to_owned(),
            when: t.when.clone(),
            minutes: t.minutes,
            questions: t
                .questions
                .iter()
                .map(|q| TalkNoteOut {
                    question: q.index as i64,
                    text: q.text.clone(),
                    pillar: q.pillar.map(|p| p.as_str().to_owned()),
                    shared: q.shared.clone(),
                    seen: q.shared_seen,
                    private: q.private.clone(),
                })
                .collect(),
            items: t.actions.iter().chain(&t.carried).map(item).collect(),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TalkCreate {
    /// The other person.
    #[schema(pattern = "^[0-9]{1,18}$")]
    pub with_id: String,
    #[schema(pattern = "^[0-9]{1,18}$")]
    pub template_id: String,
    /// YYYY-MM-DD, in the caller's time zone.
    #[schema(pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    pub date: String,
    /// HH:MM, in the caller's time zone; the talk starts after now.
    #[schema(pattern = "^[0-9]{2}:[0-9]{2}$")]
    pub time: String,
    #[schema(minimum = 10, maximum = 240)]
    pub minutes: i64,
    /// Days between the pair's talks of this kind (7 to 730).
    #[schema(minimum = 7, maximum = 730)]
    #[serde(default)]
    pub cadence_days: Option<i64>,
}

/// Schedules a talk with someone; both get an iCalendar invite by email.
#[utoipa::path(post, path = "/api/v1/talks", tag = "conversations", security(("bearer" = [])),
    request_body = TalkCreate,
    responses((status = 201, description = "Scheduled", body = TalkOut), ApiErrors))]
async fn create_talk(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    body: JsonBody<TalkCreate>,
) -> Result<impl IntoResponse, ApiError> {
    let body = body.parse()?;
    let form = TalkForm {
        with: exact("with_id", body.with_id)?,
        template: exact("template_id", body.template_id)?,
        date: exact("date", body.date)?,
        time: exact("time", body.time)?,
        minutes: body.minutes.to_string(),
        cadence: body.cadence_days.map(|d| d.to_string()).unwrap_or_default(),
    };
    let input = form.parse().map_err(|p| renamed(AppError::fields(p), TALK_FIELDS))?;
    let id = service::schedule(&app, &actor, &input)
        .await
        .map_err(|e| renamed(e, TALK_FIELDS))?;
    Ok((
        StatusCode::CREATED,
        Json(TalkOut::from(service::talk(&app, &actor, id).await?)),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TalkRequestIn {
    /// Who is asked (they set the time).
    #[schema(pattern = "^[0-9]{1,18}$")]
    pub with_id: String,
    #[schema(pattern = "^[0-9]{1,18}$")]
    pub template_id: String,
}

/// Asks someone (one's manager, usually) for a talk.
#[utoipa::path(post, path = "/api/v1/talk-requests", tag = "conversations", security(("bearer" = [])),
    request_body = TalkRequestIn,
    responses((status = 201, description = "Asked", body = TalkOut), ApiErrors))]
async fn request_talk(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    body: JsonBody<TalkRequestIn>,
) -> Result<impl IntoResponse, ApiError> {
    let body = body.parse()?;
    let form = RequestForm {
        with: exact("with_id", body.with_id)?,
        template: exact("template_id", body.template_id)?,
    };
    let (with, template) = form.parse().map_err(|p| renamed(AppError::fields(p), TALK_FIELDS))?;
    let id = service::request(&app, &actor, with, template)
        .await
        .map_err(|e| renamed(e, TALK_FIELDS))?;
    Ok((
        StatusCode::CREATED,
        Json(TalkOut::from(service::talk(&app, &actor, id).await?)),
    ))
}

/// One talk with its questions, notes and items: for its two people only.
#[utoipa::path(get, path = "/api/v1/talks/{id}", tag = "conversations", security(("bearer" = [])),
    params(("id" = String, Path, description = "Talk id")),
    responses((status = 200, description = "The talk", body = TalkOut), ApiErrors))]
async fn get_talk(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<Json<TalkOut>, ApiError> {
    Ok(Json(TalkOut::from(service::talk(&app, &actor, path_id(&id)?).await?)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TalkTimeIn {
    /// YYYY-MM-DD, in the caller's time zone.
    #[schema(pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    pub date: String,
    /// HH:MM, in the caller's time zone.
    #[schema(pattern = "^[0-9]{2}:[0-9]{2}$")]
    pub time: String,
    #[schema(minimum = 10, maximum = 240)]
    pub minutes: i64,
}

/// Sets the time of a talk asked of the caller, or moves a scheduled one;
/// the invite's SEQUENCE goes up and both are sent the new time.
#[utoipa::path(post, path = "/api/v1/talks/{id}/time", tag = "conversations", security(("bearer" = [])),
    params(("id" = String, Path, description = "Talk id")), request_body = TalkTimeIn,
    responses((status = 200, description = "The talk", body = TalkOut), ApiErrors))]
async fn set_time(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    body: JsonBody<TalkTimeIn>,
) -> Result<Json<TalkOut>, ApiError> {
    let id = path_id(&id)?;
    let body = body.parse()?;
    let form = TimeForm {
        date: exact("date", body.date)?,
        time: exact("time", body.time)?,
        minutes: body.minutes.to_string(),
    };
    let (at, minutes) = form.parse().map_err(|p| ApiError(AppError::fields(p)))?;
    service::set_time(&app, &actor, id, at, minutes).await?;
    Ok(Json(TalkOut::from(service::talk(&app, &actor, id).await?)))
}

/// Cancels a talk; a scheduled one's invite is cancelled (METHOD:CANCEL).
#[utoipa::path(post, path = "/api/v1/talks/{id}/cancel", tag = "conversations", security(("bearer" = [])),
    params(("id" = String, Path, description = "Talk id")),
    responses((status = 200, description = "The talk", body = TalkOut), ApiErrors))]
async fn cancel_talk(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<Json<TalkOut>, ApiError> {
    let id = path_id(&id)?;
    service::cancel(&app, &actor, id).await?;
    Ok(Json(TalkOut::from(service::talk(&app, &actor, id).await?)))
}

/// Marks a scheduled talk that has begun as held.
#[utoipa::path(post, path = "/api/v1/talks/{id}/held", tag = "conversations", security(("bearer" = [])),
    params(("id" = String, Path, description = "Talk id")),
    responses((status = 200, description = "The talk", body = TalkOut), ApiErrors))]
async fn mark_held(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<Json<TalkOut>, ApiError> {
    let id = path_id(&id)?;
    service::mark_held(&app, &actor, id).await?;
    Ok(Json(TalkOut::from(service::talk(&app, &actor, id).await?)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TalkNoteIn {
    /// The question's place, from 0.
    #[schema(minimum = 0, maximum = 11)]
    pub question: i64,
    #[schema(max_length = 10000)]
    #[serde(default)]
    pub shared: String,
    /// The `seen` of the shared note as last read (0: none).
    #[serde(default)]
    pub seen: i64,
    #[schema(max_length = 10000)]
    #[serde(default)]
    pub private: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TalkNotesIn {
    #[schema(max_items = 12)]
    pub notes: Vec<TalkNoteIn>,
}

/// Saves the caller's notes: shared ones (refused with 409 when the other
/// changed one since `seen`) and their own private ones; an empty text
/// deletes a note.
#[utoipa::path(put, path = "/api/v1/talks/{id}/notes", tag = "conversations", security(("bearer" = [])),
    params(("id" = String, Path, description = "Talk id")), request_body = TalkNotesIn,
    responses((status = 200, description = "The talk", body = TalkOut), ApiErrors))]
async fn save_notes(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    body: JsonBody<TalkNotesIn>,
) -> Result<Json<TalkOut>, ApiError> {
    let id = path_id(&id)?;
    let body = body.parse()?;
    let mut inputs = Vec::new();
    for (i, n) in body.notes.into_iter().enumerate() {
        let question = usize::try_from(n.question)
            .ok()
            .filter(|q| *q < model::QUESTIONS_MAX)
            .ok_or_else(|| ApiError(AppError::invalid(&format!("notes[{i}].question"), "must be 0 to 11")))?;
        inputs.push(NoteInput {
            question,
            shared: n.shared,
            seen: n.seen,
            private: n.private,
        });
    }
    service::save_notes(&app, &actor, id, &inputs).await?;
    Ok(Json(TalkOut::from(service::talk(&app, &actor, id).await?)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TalkItemIn {
    #[schema(min_length = 1, max_length = 300, pattern = "\\S")]
    pub text: String,
    /// One of the two people.
    #[schema(pattern = "^[0-9]{1,18}$")]
    pub owner_id: String,
    /// YYYY-MM-DD, today or later.
    #[schema(pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    pub due_date: String,
}

/// Adds an action item to a talk.
#[utoipa::path(post, path = "/api/v1/talks/{id}/items", tag = "conversations", security(("bearer" = [])),
    params(("id" = String, Path, description = "Talk id")), request_body = TalkItemIn,
    responses((status = 201, description = "The talk", body = TalkOut), ApiErrors))]
async fn add_item(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    body: JsonBody<TalkItemIn>,
) -> Result<impl IntoResponse, ApiError> {
    let id = path_id(&id)?;
    let body = body.parse()?;
    let form = ActionForm {
        text: body.text,
        owner: exact("owner_id", body.owner_id)?,
        due_date: exact("due_date", body.due_date)?,
    };
    let input = form.parse().map_err(|p| renamed(AppError::fields(p), ITEM_FIELDS))?;
    service::add_action(&app, &actor, id, &input)
        .await
        .map_err(|e| renamed(e, ITEM_FIELDS))?;
    Ok((
        StatusCode::CREATED,
        Json(TalkOut::from(service::talk(&app, &actor, id).await?)),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TalkItemUpdate {
    /// open, done or dropped.
    #[schema(pattern = "^(open|done|dropped)$")]
    pub status: String,
    /// A new due date, YYYY-MM-DD.
    #[schema(pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    #[serde(default)]
    pub due_date: Option<String>,
}

/// Closes, drops, reopens or moves an action item (either of the pair).
#[utoipa::path(patch, path = "/api/v1/talk-items/{id}", tag = "conversations", security(("bearer" = [])),
    params(("id" = String, Path, description = "Action item id")), request_body = TalkItemUpdate,
    responses((status = 200, description = "The talk it was agreed in", body = TalkOut), ApiErrors))]
async fn update_item(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    body: JsonBody<TalkItemUpdate>,
) -> Result<Json<TalkOut>, ApiError> {
    let id = path_id(&id)?;
    let body = body.parse()?;
    let status = exact("status", body.status)?;
    let due = exact_or_none("due_date", body.due_date)?;
    let talk = service::update_action(&app, &actor, id, &status, due.as_deref()).await?;
    Ok(Json(TalkOut::from(service::talk(&app, &actor, talk).await?)))
}

#[derive(Serialize, ToSchema)]
pub struct CalendarFeedOut {
    /// The secret address; shown only now (only its hash is kept).
    pub url: String,
}

/// Makes a new secret address for the caller's calendar feed (the old one
/// stops working).
#[utoipa::path(post, path = "/api/v1/calendar-feed", tag = "conversations", security(("bearer" = [])),
    responses((status = 201, description = "The new address", body = CalendarFeedOut), ApiErrors))]
async fn renew_feed(State(app): State<AppState>, ApiActor(actor): ApiActor) -> Result<impl IntoResponse, ApiError> {
    let token = feed::renew(&app, &actor).await?;
    Ok((
        StatusCode::CREATED,
        Json(CalendarFeedOut {
            url: feed::address(&app, &token),
        }),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct CalendarFeedState {
    /// Whether the caller has a feed turned on.
    pub on: bool,
}

/// Turns the caller's calendar feed off (its address stops working).
#[utoipa::path(delete, path = "/api/v1/calendar-feed", tag = "conversations", security(("bearer" = [])),
    responses((status = 200, description = "Off", body = CalendarFeedState), ApiErrors))]
async fn delete_feed(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<Json<CalendarFeedState>, ApiError> {
    feed::turn_off(&app, &actor).await?;
    Ok(Json(CalendarFeedState { on: false }))
}
