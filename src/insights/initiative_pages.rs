//! The initiatives' pages: the list, the form, one initiative with its
//! impact report (HR and owners), approving a manager's proposal.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::initiatives::{self, InitiativeView, Report};
use super::model::{InitiativeForm, PRACTICES, Standing};
use crate::app::AppState;
use crate::auth::Permission;
use crate::error::AppError;
use crate::shared::Pillar;
use crate::web::{CurrentPerson, Form, FormErrors, Labels, Layout, Mistake, parse_id, render};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/initiatives", get(show_list).post(create))
        .route("/initiatives/new", get(new_form))
        .route("/initiatives/{id}", get(show_one).post(change))
        .route("/initiatives/{id}/edit", get(edit_form))
        .route("/initiatives/{id}/approve", post(approve))
}

/// The initiative form's fields, by their labels, in its order.
const INITIATIVE_LABELS: Labels = Labels(&[
    ("name", "Name"),
    ("description", "What it is"),
    ("practice", "Practice"),
    ("practice_other", "The practice, in your words"),
    ("pillar", "Pillar it should move"),
    ("pulse", "Measured by"),
    ("starts_on", "Starts"),
    ("ends_on", "Ends"),
    ("team", "Teams taking part"),
]);

#[derive(Template)]
#[template(path = "insights/templates/initiatives.html")]
struct ListPage {
    layout: Layout,
    initiatives: Vec<InitiativeView>,
}

async fn show_list(State(app): State<AppState>, me: CurrentPerson, layout: Layout) -> Result<Response, AppError> {
    me.actor.require(Permission::PlanActions)?;
    Ok(render(&ListPage {
        layout,
        initiatives: initiatives::list(&app, &me.actor).await?,
    }))
}

#[derive(Template)]
#[template(path = "insights/templates/initiative_form.html")]
struct FormPage {
    layout: Layout,
    form: InitiativeForm,
    errors: FormErrors,
    /// HR and owners define; managers propose.
    manages: bool,
    /// Where the form posts: `/initiatives`, or the initiative's own
    /// address when it is changed.
    target: String,
    editing: bool,
    practices: &'static [(&'static str, &'static str)],
    pillars: Vec<(String, &'static str)>,
    pulses: Vec<(i64, String)>,
    teams: Vec<(i64, String)>,
}

async fn form_page(
    app: &AppState,
    me: &CurrentPerson,
    layout: Layout,
    form: InitiativeForm,
    errors: FormErrors,
    editing: Option<i64>,
) -> Result<FormPage, AppError> {
    me.actor.require(Permission::PlanActions)?;
    let dir = crate::org::service::directory(&app.db, me.actor.org_id).await?;
    let manages = initiatives::manages(&me.actor);
    let own = dir.person(me.actor.person_id).and_then(|p| p.team_id);
    Ok(FormPage {
        layout,
        form,
        errors,
        manages,
        target: editing.map_or_else(|| "/initiatives".to_owned(), |id| format!("/initiatives/{id}")),
        editing: editing.is_some(),
        practices: &PRACTICES,
        pillars: Pillar::BELONGING
            .iter()
            .map(|p| (p.as_str().to_owned(), p.label()))
            .collect(),
        pulses: crate::pulse::service::measured_pulses(app, &me.actor).await?,
        teams: dir
            .team_choices()
            .into_iter()
            .filter(|(id, _)| manages || own.is_some_and(|own| dir.team_within(*id, own)))
            .collect(),
    })
}

async fn new_form(State(app): State<AppState>, me: CurrentPerson, layout: Layout) -> Result<Response, AppError> {
    let today = app.now().to_zoned(jiff::tz::TimeZone::UTC).date().to_string();
    let pulses = crate::pulse::service::measured_pulses(&app, &me.actor).await?;
    let form = InitiativeForm {
        starts_on: today,
        sub_teams: true,
        pulse: pulses.first().map(|(id, _)| id.to_string()).unwrap_or_default(),
        ..InitiativeForm::default()
    };
    Ok(render(
        &form_page(&app, &me, layout, form, FormErrors::default(), None).await?,
    ))
}

async fn create(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    me.actor.require(Permission::PlanActions)?;
    let form = InitiativeForm::from_fields(&fields);
    let made = match form.parse() {
        Ok(input) => initiatives::create(&app, &me.actor, &input).await,
        Err(problems) => Err(AppError::fields(problems)),
    };
    match Mistake::split(made)? {
        Ok(id) => Ok(Redirect::to(&format!("/initiatives/{id}?notice=created")).into_response()),
        Err(mistake) => {
            let errors = FormErrors::of(&mistake, INITIATIVE_LABELS);
            Ok(mistake.show(&form_page(&app, &me, layout, form, errors, None).await?))
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NoticeQuery {
    notice: String,
}

#[derive(Template)]
#[template(path = "insights/templates/initiative.html")]
struct OnePage {
    layout: Layout,
    initiative: InitiativeView,
    report: Option<Report>,
    manages: bool,
    notice: Option<&'static str>,
}

async fn show_one(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let manages = initiatives::manages(&me.actor);
    let (initiative, report) = if manages {
        let (i, r) = initiatives::report(&app, &me.actor, id).await?;
        (i, Some(r))
    } else {
        (initiatives::detail(&app, &me.actor, id).await?, None)
    };
    Ok(render(&OnePage {
        layout,
        initiative,
        report,
        manages,
        notice: match q.notice.as_str() {
            "created" if manages => Some("The initiative is defined. Its impact report fills in as cycles close."),
            "created" => Some("The initiative is proposed. HR sees it and can approve it."),
            "approved" => Some("The initiative is approved."),
            "changed" => Some("The initiative is changed. Its impact report follows the new teams and dates."),
            _ => None,
        },
    }))
}

async fn approve(State(app): State<AppState>, me: CurrentPerson, Path(id): Path<String>) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    initiatives::approve(&app, &me.actor, id).await?;
    Ok(Redirect::to(&format!("/initiatives/{id}?notice=approved")).into_response())
}

async fn edit_form(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let form = initiatives::form_of(&app, &me.actor, id).await?;
    Ok(render(
        &form_page(&app, &me, layout, form, FormErrors::default(), Some(id)).await?,
    ))
}

/// HR and owners change an initiative.
async fn change(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    me.actor.require(Permission::ManageSurveys)?;
    let form = InitiativeForm::from_fields(&fields);
    let changed = match form.parse() {
        Ok(input) => initiatives::update(&app, &me.actor, id, &input).await,
        Err(problems) => Err(AppError::fields(problems)),
    };
    match Mistake::split(changed)? {
        Ok(()) => Ok(Redirect::to(&format!("/initiatives/{id}?notice=changed")).into_response()),
        Err(mistake) => {
            let errors = FormErrors::of(&mistake, INITIATIVE_LABELS);
            Ok(mistake.show(&form_page(&app, &me, layout, form, errors, Some(id)).await?))
        }
    }
}
