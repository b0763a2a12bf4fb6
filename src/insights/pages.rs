//! The actions' pages: the list, the form (blank, or from a released
//! result), one action with its updates.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::model::{ActionForm, Status};
use super::service::{self, ActionView, UpdateView};
use crate::app::AppState;
use crate::auth::Permission;
use crate::error::AppError;
use crate::shared::Pillar;
use crate::web::{CurrentPerson, Form, FormErrors, Labels, Layout, Mistake, parse_id, render, render_with};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/actions", get(show_actions).post(create_action))
        .route("/actions/new", get(new_action))
        .route("/actions/{id}", get(show_action))
        .route("/actions/{id}/updates", post(add_update))
        .route("/you-said-we-did", get(show_said))
        .merge(super::initiative_pages::routes())
}

#[derive(Template)]
#[template(path = "insights/templates/home_card.html")]
struct HomeCard {
    done: Vec<super::said::Done>,
}

/// The home page's part: what was done lately about the results.
pub async fn home(app: &crate::app::App, actor: &crate::auth::Actor) -> Result<crate::module::Home, AppError> {
    let done = super::said::latest(app, actor, 3).await?;
    let mut cards = Vec::new();
    if !done.is_empty() {
        cards.push(askama::Template::render(&HomeCard { done }).map_err(AppError::internal)?);
    }
    Ok(crate::module::Home {
        cards,
        ..crate::module::Home::default()
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PageQuery {
    /// Cycles passed over (older pages).
    skip: String,
}

#[derive(Template)]
#[template(path = "insights/templates/said.html")]
struct SaidTemplate {
    layout: Layout,
    page: super::said::SaidPage,
    /// The `skip` of the next older page, when there is one.
    older: Option<usize>,
}

/// You said, we did: every signed-in person may open it.
async fn show_said(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Query(q): Query<PageQuery>,
) -> Result<Response, AppError> {
    let skip = match q.skip.trim() {
        "" => 0,
        raw => raw
            .parse::<usize>()
            .ok()
            .filter(|s| *s <= 10_000)
            .ok_or_else(|| AppError::invalid("skip", "write a whole number of cycles"))?,
    };
    let page = super::said::page(&app, &me.actor, skip).await?;
    let older = page.more.then_some(skip + super::said::PER_PAGE);
    Ok(render(&SaidTemplate { layout, page, older }))
}

/// The action form's fields, by their labels, in its order.
const ACTION_LABELS: Labels = Labels(&[
    ("title", "Title"),
    ("description", "What will be done"),
    ("pillar", "Pillar"),
    ("group", "For"),
    ("owner", "Owner"),
    ("due_date", "Due"),
    ("visibility", "Who can read it"),
    ("cycle", "The results it answers"),
]);

/// The update form's fields, by their labels.
const UPDATE_LABELS: Labels = Labels(&[("status", "Status"), ("due_date", "New due date"), ("note", "Update")]);

#[derive(Deserialize, Default)]
#[serde(default)]
struct NoticeQuery {
    notice: String,
}

#[derive(Template)]
#[template(path = "insights/templates/actions.html")]
struct ActionsPage {
    layout: Layout,
    actions: Vec<ActionView>,
    may_plan: bool,
}

async fn show_actions(State(app): State<AppState>, me: CurrentPerson, layout: Layout) -> Result<Response, AppError> {
    Ok(render(&ActionsPage {
        layout,
        actions: service::list(&app, &me.actor).await?,
        may_plan: me.actor.can(Permission::PlanActions),
    }))
}

#[derive(Template)]
#[template(path = "insights/templates/action_form.html")]
struct ActionFormPage {
    layout: Layout,
    form: ActionForm,
    errors: FormErrors,
    /// ("org" or a team id, its name): the groups the person plans for.
    groups: Vec<(String, String)>,
    owners: Vec<(i64, String)>,
    pillars: Vec<(String, &'static str)>,
}

async fn form_page(
    app: &AppState,
    me: &CurrentPerson,
    layout: Layout,
    form: ActionForm,
    errors: FormErrors,
) -> Result<ActionFormPage, AppError> {
    me.actor.require(Permission::PlanActions)?;
    let dir = crate::org::service::directory(&app.db, me.actor.org_id).await?;
    let everywhere = me.actor.can(Permission::ManageSurveys);
    let own = dir.person(me.actor.person_id).and_then(|p| p.team_id);
    let mut groups = Vec::new();
    if everywhere {
        groups.push(("org".to_owned(), "Whole organization".to_owned()));
    }
    for (id, path) in dir.team_choices() {
        if everywhere || own.is_some_and(|own| dir.team_within(id, own)) {
            groups.push((id.to_string(), path));
        }
    }
    let mut owners: Vec<(i64, String)> = dir.active_people().map(|p| (p.id, p.name.clone())).collect();
    owners.sort_by_key(|o| o.1.to_lowercase());
    Ok(ActionFormPage {
        layout,
        form,
        errors,
        groups,
        owners,
        pillars: Pillar::BELONGING
            .iter()
            .map(|p| (p.as_str().to_owned(), p.label()))
            .collect(),
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct FromResult {
    group: String,
    pillar: String,
    cycle: String,
    /// A question of that cycle, to name in the title.
    question: String,
}

/// The form: blank, or from a released result (its group, pillar, cycle).
async fn new_action(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Query(q): Query<FromResult>,
) -> Result<Response, AppError> {
    let due = app
        .now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .saturating_add(jiff::Span::new().days(30));
    let title = match (q.cycle.parse::<i64>(), q.question.parse::<i64>()) {
        (Ok(cycle), Ok(question)) => {
            let asked =
                crate::pulse::service::cycle_questions(&mut *app.db.acquire().await?, me.actor.org_id, cycle).await?;
            asked
                .iter()
                .find(|x| x.id == question)
                .map(|x| {
                    let words: String = x.text.chars().take(100).collect();
                    format!("On “{words}”")
                })
                .unwrap_or_default()
        }
        _ => String::new(),
    };
    let form = ActionForm {
        title,
        group: q.group,
        pillar: q.pillar,
        cycle: q.cycle,
        owner: me.actor.person_id.to_string(),
        due_date: due.to_string(),
        visibility: "group".into(),
        ..ActionForm::default()
    };
    Ok(render(
        &form_page(&app, &me, layout, form, FormErrors::default()).await?,
    ))
}

async fn create_action(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Form(form): Form<ActionForm>,
) -> Result<Response, AppError> {
    me.actor.require(Permission::PlanActions)?;
    let made = match form.parse() {
        Ok(input) => service::create(&app, &me.actor, &input).await,
        Err(problems) => Err(AppError::fields(problems)),
    };
    match Mistake::split(made)? {
        Ok(id) => Ok(Redirect::to(&format!("/actions/{id}?notice=created")).into_response()),
        Err(mistake) => {
            let errors = FormErrors::of(&mistake, ACTION_LABELS);
            Ok(mistake.show(&form_page(&app, &me, layout, form, errors).await?))
        }
    }
}

#[derive(Template)]
#[template(path = "insights/templates/action.html")]
struct ActionPage {
    layout: Layout,
    action: ActionView,
    updates: Vec<UpdateView>,
    statuses: Vec<Status>,
    errors: FormErrors,
    note: String,
    /// A new due date as typed, when the update was refused.
    due: String,
    notice: Option<&'static str>,
}

async fn show_action(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, AppError> {
    let (action, updates) = service::detail(&app, &me.actor, parse_id(&id)?).await?;
    Ok(render(&ActionPage {
        layout,
        action,
        updates,
        statuses: Status::ALL.to_vec(),
        errors: FormErrors::default(),
        note: String::new(),
        due: String::new(),
        notice: match q.notice.as_str() {
            "created" => Some("The action is planned."),
            "updated" => Some("The update is saved."),
            _ => None,
        },
    }))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct UpdateForm {
    note: String,
    status: String,
    due_date: String,
}

async fn add_update(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Path(id): Path<String>,
    Form(form): Form<UpdateForm>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let progress = service::Progress {
        note: &form.note,
        status: &form.status,
        due_date: &form.due_date,
    };
    match Mistake::split(service::add_update(&app, &me.actor, id, progress).await)? {
        Ok(()) => Ok(Redirect::to(&format!("/actions/{id}?notice=updated")).into_response()),
        Err(mistake) => {
            let (action, updates) = service::detail(&app, &me.actor, id).await?;
            let page = ActionPage {
                layout,
                action,
                updates,
                statuses: Status::ALL.to_vec(),
                errors: FormErrors::of(&mistake, UPDATE_LABELS),
                note: form.note,
                due: form.due_date,
                notice: None,
            };
            Ok(render_with(mistake.status, &page))
        }
    }
}
