//! Conversations' pages: a person's talks, scheduling and asking, one talk
//! (questions, notes, action items), HR's templates and counts, and the
//! calendar feed (its page and the address calendar apps fetch).

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::model::{self, ActionForm, Kind, RequestForm, TalkForm, TemplateForm, TimeForm};
use super::service::{self, NoteInput, TalkView, Talks};
use super::{feed, store::TemplateRow};
use crate::app::AppState;
use crate::auth::Permission;
use crate::error::AppError;
use crate::shared::Pillar;
use crate::web::{Confirm, Confirmed, CurrentPerson, Form, FormErrors, Labels, Layout, Mistake, parse_id, render};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/talks", get(show_talks).post(create_talk))
        .route("/talks/new", get(new_talk))
        .route("/talks/ask", get(ask_page).post(ask))
        .route("/talks/templates", get(show_templates).post(create_template))
        .route("/talks/templates/new", get(new_template))
        .route("/talks/templates/{id}", get(edit_template).post(update_template))
        .route("/talks/overview", get(show_overview))
        .route("/talks/calendar", get(show_calendar).post(renew_calendar))
        .route("/talks/calendar/off", post(calendar_off))
        .route("/talks/items/{id}", post(update_item))
        .route("/talks/{id}", get(show_talk))
        .route("/talks/{id}/time", post(set_time))
        .route("/talks/{id}/cancel", post(cancel))
        .route("/talks/{id}/held", post(held))
        .route("/talks/{id}/notes", post(save_notes))
        .route("/talks/{id}/items", post(add_item))
        .route("/talks/{id}/cadence", post(cadence))
        .route("/calendar/{file}", get(calendar_feed))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NoticeQuery {
    notice: String,
}

#[derive(Template)]
#[template(path = "conversations/templates/home_card.html")]
struct HomeCard {
    talks: Talks,
}

/// The home page's part: talks asked of the person and the next ones.
pub async fn home(app: &crate::app::App, actor: &crate::auth::Actor) -> Result<crate::module::Home, AppError> {
    let talks = service::talks(app, actor).await?;
    let mut cards = Vec::new();
    let waiting = talks.asked.iter().any(|t| !t.asked_by_me) || talks.due.iter().any(|d| d.overdue);
    if waiting || !talks.upcoming.is_empty() {
        cards.push(HomeCard { talks }.render().map_err(AppError::internal)?);
    }
    Ok(crate::module::Home {
        cards,
        ..crate::module::Home::default()
    })
}

#[derive(Template)]
#[template(path = "conversations/templates/talks.html")]
struct TalksPage {
    layout: Layout,
    talks: Talks,
    hr: bool,
    notice: Option<&'static str>,
}

async fn show_talks(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, AppError> {
    Ok(render(&TalksPage {
        layout,
        talks: service::talks(&app, &me.actor).await?,
        hr: me.actor.can(Permission::ManageConversations),
        notice: match q.notice.as_str() {
            "asked" => Some("Your request is sent. You will get an invite once a time is chosen."),
            "cancelled" => Some("The talk is cancelled; both calendars are told."),
            _ => None,
        },
    }))
}

/// The schedule form's fields, by their labels.
const TALK_LABELS: Labels = Labels(&[
    ("with", "With"),
    ("template", "Template"),
    ("date", "Date"),
    ("time", "Time"),
    ("minutes", "Length in minutes"),
    ("cadence", "Repeat"),
]);

const ASK_LABELS: Labels = Labels(&[("with", "Ask"), ("template", "Template")]);

#[derive(Template)]
#[template(path = "conversations/templates/talk_form.html")]
struct TalkFormPage {
    layout: Layout,
    form: TalkForm,
    errors: FormErrors,
    people: Vec<(i64, String)>,
    templates: Vec<(i64, String)>,
    cadences: &'static [(i64, &'static str)],
    zone: String,
}

/// People to talk with: one's reports first, then everyone else active.
async fn people(
    app: &AppState,
    actor: &crate::auth::Actor,
) -> Result<(Vec<(i64, String)>, String, Option<i64>), AppError> {
    let dir = crate::org::service::directory(&app.db, actor.org_id).await?;
    let mut reports: Vec<(i64, String)> = Vec::new();
    let mut others: Vec<(i64, String)> = Vec::new();
    for p in dir.active_people().filter(|p| p.id != actor.person_id) {
        let label = match p.team_id {
            Some(t) => format!("{} ({})", p.name, dir.team_path(t)),
            None => p.name.clone(),
        };
        if p.manager_id == Some(actor.person_id) {
            reports.push((p.id, format!("{label}, reports to you")));
        } else {
            others.push((p.id, label));
        }
    }
    reports.sort_by_key(|r| r.1.to_lowercase());
    others.sort_by_key(|r| r.1.to_lowercase());
    reports.extend(others);
    let me = dir.person(actor.person_id);
    Ok((
        reports,
        me.map(|p| p.time_zone.clone()).unwrap_or_default(),
        me.and_then(|p| p.manager_id),
    ))
}

fn choices(templates: &[TemplateRow]) -> Vec<(i64, String)> {
    templates.iter().map(|t| (t.id, t.name.clone())).collect()
}

async fn talk_form(
    app: &AppState,
    me: &CurrentPerson,
    layout: Layout,
    form: TalkForm,
    errors: FormErrors,
) -> Result<TalkFormPage, AppError> {
    let (people, zone, _) = people(app, &me.actor).await?;
    Ok(TalkFormPage {
        layout,
        form,
        errors,
        people,
        templates: choices(&service::templates(app, &me.actor).await?),
        cadences: model::CADENCES,
        zone,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Prefill {
    with: String,
    template: String,
    cadence: String,
    date: String,
}

async fn new_talk(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Query(q): Query<Prefill>,
) -> Result<Response, AppError> {
    let templates = service::templates(&app, &me.actor).await?;
    let template = if q.template.is_empty() {
        templates
            .iter()
            .find(|t| t.kind == Kind::OneOnOne.as_str())
            .map(|t| t.id.to_string())
            .unwrap_or_default()
    } else {
        q.template
    };
    let minutes = templates
        .iter()
        .find(|t| t.id.to_string() == template)
        .and_then(|t| Kind::parse(&t.kind))
        .map_or(30, |k| k.built_in().2);
    // A week from now, or the day asked for (a due date) once it is ahead.
    let today = app.now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let date = match q.date.parse::<jiff::civil::Date>() {
        Ok(d) if d > today => d,
        _ => today.saturating_add(jiff::Span::new().days(7)),
    }
    .to_string();
    let form = TalkForm {
        with: q.with,
        template,
        date,
        time: "10:00".into(),
        minutes: minutes.to_string(),
        cadence: q.cadence,
    };
    Ok(render(
        &talk_form(&app, &me, layout, form, FormErrors::default()).await?,
    ))
}

async fn create_talk(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Form(form): Form<TalkForm>,
) -> Result<Response, AppError> {
    let made = match form.parse() {
        Ok(input) => service::schedule(&app, &me.actor, &input).await,
        Err(problems) => Err(AppError::fields(problems)),
    };
    match Mistake::split(made)? {
        Ok(id) => Ok(Redirect::to(&format!("/talks/{id}?notice=scheduled")).into_response()),
        Err(mistake) => {
            let errors = FormErrors::of(&mistake, TALK_LABELS);
            Ok(mistake.show(&talk_form(&app, &me, layout, form, errors).await?))
        }
    }
}

#[derive(Template)]
#[template(path = "conversations/templates/ask.html")]
struct AskPage {
    layout: Layout,
    form: RequestForm,
    errors: FormErrors,
    people: Vec<(i64, String)>,
    templates: Vec<(i64, String)>,
}

async fn ask_form(
    app: &AppState,
    me: &CurrentPerson,
    layout: Layout,
    mut form: RequestForm,
    errors: FormErrors,
) -> Result<AskPage, AppError> {
    let (mut people, _, manager) = people(app, &me.actor).await?;
    if let Some(m) = manager {
        if form.with.is_empty() {
            form.with = m.to_string();
        }
        if let Some(i) = people.iter().position(|p| p.0 == m) {
            let mut p = people.remove(i);
            p.1 = format!("{}, your manager", p.1);
            people.insert(0, p);
        }
    }
    Ok(AskPage {
        layout,
        form,
        errors,
        people,
        templates: choices(&service::templates(app, &me.actor).await?),
    })
}

async fn ask_page(State(app): State<AppState>, me: CurrentPerson, layout: Layout) -> Result<Response, AppError> {
    Ok(render(
        &ask_form(&app, &me, layout, RequestForm::default(), FormErrors::default()).await?,
    ))
}

async fn ask(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Form(form): Form<RequestForm>,
) -> Result<Response, AppError> {
    let made = match form.parse() {
        Ok((with, template)) => service::request(&app, &me.actor, with, template).await,
        Err(problems) => Err(AppError::fields(problems)),
    };
    match Mistake::split(made)? {
        Ok(_) => Ok(Redirect::to("/talks?notice=asked").into_response()),
        Err(mistake) => {
            let errors = FormErrors::of(&mistake, ASK_LABELS);
            Ok(mistake.show(&ask_form(&app, &me, layout, form, errors).await?))
        }
    }
}

const TIME_LABELS: Labels = Labels(&[
    ("date", "Date"),
    ("time", "Time"),
    ("minutes", "Length in minutes"),
    ("talk", "This talk"),
]);
const ITEM_LABELS: Labels = Labels(&[("text", "Action item"), ("owner", "Who"), ("due_date", "Due")]);
const NOTE_LABELS: Labels = Labels(&[
    ("shared_0", "Shared notes on question 1"),
    ("private_0", "Your private notes on question 1"),
    ("shared_1", "Shared notes on question 2"),
    ("private_1", "Your private notes on question 2"),
    ("shared_2", "Shared notes on question 3"),
    ("private_2", "Your private notes on question 3"),
    ("shared_3", "Shared notes on question 4"),
    ("private_3", "Your private notes on question 4"),
    ("shared_4", "Shared notes on question 5"),
    ("private_4", "Your private notes on question 5"),
    ("shared_5", "Shared notes on question 6"),
    ("private_5", "Your private notes on question 6"),
    ("shared_6", "Shared notes on question 7"),
    ("private_6", "Your private notes on question 7"),
    ("shared_7", "Shared notes on question 8"),
    ("private_7", "Your private notes on question 8"),
    ("shared_8", "Shared notes on question 9"),
    ("private_8", "Your private notes on question 9"),
    ("shared_9", "Shared notes on question 10"),
    ("private_9", "Your private notes on question 10"),
    ("shared_10", "Shared notes on question 11"),
    ("private_10", "Your private notes on question 11"),
    ("shared_11", "Shared notes on question 12"),
    ("private_11", "Your private notes on question 12"),
    ("talk", "This talk"),
]);

#[derive(Template)]
#[template(path = "conversations/templates/talk.html")]
struct TalkPage {
    layout: Layout,
    talk: TalkView,
    /// The reader's name and the other's, for the owner choice.
    me_id: i64,
    errors: FormErrors,
    /// Which form the errors are about: "time", "notes", "item".
    failed: &'static str,
    time: TimeForm,
    item: ActionForm,
    statuses: &'static [(&'static str, &'static str)],
    cadences: &'static [(i64, &'static str)],
    notice: Option<&'static str>,
}

impl TalkPage {
    fn errors_for(&self, form: &str) -> FormErrors {
        if self.failed == form {
            self.errors.clone()
        } else {
            FormErrors::default()
        }
    }
}

async fn talk_page(
    app: &AppState,
    me: &CurrentPerson,
    layout: Layout,
    id: i64,
    failed: (&'static str, FormErrors),
) -> Result<TalkPage, AppError> {
    let talk = service::talk(app, &me.actor, id).await?;
    let time = TimeForm {
        date: talk.date.clone(),
        time: talk.time.clone(),
        minutes: talk.minutes.to_string(),
    };
    let due = app
        .now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .saturating_add(jiff::Span::new().days(14));
    Ok(TalkPage {
        layout,
        me_id: me.actor.person_id,
        item: ActionForm {
            owner: talk.other_id.to_string(),
            due_date: due.to_string(),
            ..ActionForm::default()
        },
        talk,
        errors: failed.1,
        failed: failed.0,
        time,
        statuses: model::ACTION_STATUSES,
        cadences: model::CADENCES,
        notice: None,
    })
}

async fn show_talk(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, AppError> {
    let mut page = talk_page(&app, &me, layout, parse_id(&id)?, ("", FormErrors::default())).await?;
    page.notice = match q.notice.as_str() {
        "scheduled" => Some("The talk is scheduled; you both have an invite by email."),
        "moved" => Some("The new time is set; both calendars move the same event."),
        "held" => Some("Marked as held."),
        "notes" => Some("Your notes are saved."),
        "item" => Some("The action item is saved."),
        "cadence" => Some("The repeat is saved."),
        _ => None,
    };
    Ok(render(&page))
}

async fn set_time(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Path(id): Path<String>,
    Form(form): Form<TimeForm>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let done = match form.parse() {
        Ok((at, minutes)) => service::set_time(&app, &me.actor, id, at, minutes).await,
        Err(problems) => Err(AppError::fields(problems)),
    };
    match Mistake::split(done)? {
        Ok(()) => Ok(Redirect::to(&format!("/talks/{id}?notice=moved")).into_response()),
        Err(mistake) => {
            let form_name = if mistake.concerns("talk") { "talk" } else { "time" };
            let mut page = talk_page(
                &app,
                &me,
                layout,
                id,
                (form_name, FormErrors::of(&mistake, TIME_LABELS)),
            )
            .await?;
            page.time = form;
            Ok(mistake.show(&page))
        }
    }
}

async fn cancel(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Path(id): Path<String>,
    Form(confirmed): Form<Confirmed>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    if !confirmed.given() {
        let talk = service::talk(&app, &me.actor, id).await?;
        let back = format!("/talks/{id}");
        return Ok(Confirm::new(
            layout,
            format!("Cancel the {} with {}?", talk.template, talk.other),
            format!("{back}/cancel"),
            back,
        )
        .saying(format!(
            "{} is told by email, and the event leaves both calendars.",
            talk.other
        ))
        .saying("Notes already written stay, for the two of you only.")
        .button("Cancel the talk")
        .danger()
        .page());
    }
    service::cancel(&app, &me.actor, id)
        .await
        .map_err(|e| NOTE_LABELS.explain(e))?;
    Ok(Redirect::to("/talks?notice=cancelled").into_response())
}

async fn held(State(app): State<AppState>, me: CurrentPerson, Path(id): Path<String>) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    service::mark_held(&app, &me.actor, id)
        .await
        .map_err(|e| NOTE_LABELS.explain(e))?;
    Ok(Redirect::to(&format!("/talks/{id}?notice=held")).into_response())
}

/// The notes form: `shared_N`, `seen_N` and `private_N` for each question.
#[derive(Deserialize, Default)]
#[serde(default)]
struct NotesForm {
    #[serde(flatten)]
    fields: std::collections::HashMap<String, String>,
}

impl NotesForm {
    fn inputs(&self) -> Vec<NoteInput> {
        (0..model::QUESTIONS_MAX)
            .filter(|i| {
                self.fields.contains_key(&format!("shared_{i}")) || self.fields.contains_key(&format!("private_{i}"))
            })
            .map(|i| {
                let get = |k: String| self.fields.get(&k).cloned().unwrap_or_default();
                NoteInput {
                    question: i,
                    shared: get(format!("shared_{i}")),
                    seen: get(format!("seen_{i}")).trim().parse().unwrap_or(0),
                    private: get(format!("private_{i}")),
                }
            })
            .collect()
    }
}

async fn save_notes(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Path(id): Path<String>,
    Form(form): Form<NotesForm>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let inputs = form.inputs();
    match Mistake::split(service::save_notes(&app, &me.actor, id, &inputs).await)? {
        Ok(()) => Ok(Redirect::to(&format!("/talks/{id}?notice=notes#notes")).into_response()),
        Err(mistake) => {
            let form_name = if mistake.concerns("talk") { "talk" } else { "notes" };
            let mut page = talk_page(
                &app,
                &me,
                layout,
                id,
                (form_name, FormErrors::of(&mistake, NOTE_LABELS)),
            )
            .await?;
            // What the person wrote stays in the form, to fix or to merge.
            for (q, n) in page.talk.questions.iter_mut().zip(&inputs) {
                q.shared = n.shared.clone();
                q.private = n.private.clone();
            }
            Ok(mistake.show(&page))
        }
    }
}

async fn add_item(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Path(id): Path<String>,
    Form(form): Form<ActionForm>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let done = match form.parse() {
        Ok(input) => service::add_action(&app, &me.actor, id, &input).await.map(|_| ()),
        Err(problems) => Err(AppError::fields(problems)),
    };
    match Mistake::split(done)? {
        Ok(()) => Ok(Redirect::to(&format!("/talks/{id}?notice=item#items")).into_response()),
        Err(mistake) => {
            let mut page = talk_page(&app, &me, layout, id, ("item", FormErrors::of(&mistake, ITEM_LABELS))).await?;
            page.item = form;
            Ok(mistake.show(&page))
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ItemUpdate {
    status: String,
    due_date: String,
    /// The talk whose page the form is on.
    back: String,
}

const ITEM_UPDATE_LABELS: Labels = Labels(&[("status", "Status"), ("due_date", "Due")]);

async fn update_item(
    State(app): State<AppState>,
    me: CurrentPerson,
    Path(id): Path<String>,
    Form(form): Form<ItemUpdate>,
) -> Result<Response, AppError> {
    let talk = service::update_action(
        &app,
        &me.actor,
        parse_id(&id)?,
        form.status.trim(),
        Some(&form.due_date),
    )
    .await
    .map_err(|e| ITEM_UPDATE_LABELS.explain(e))?;
    let back = form.back.trim().parse::<i64>().unwrap_or(talk);
    Ok(Redirect::to(&format!("/talks/{back}?notice=item#items")).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CadenceForm {
    cadence: String,
}

async fn cadence(
    State(app): State<AppState>,
    me: CurrentPerson,
    Path(id): Path<String>,
    Form(form): Form<CadenceForm>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let mut problems = Vec::new();
    let days = model::cadence(&form.cadence, &mut problems);
    AppError::check(problems).map_err(|e| TALK_LABELS.explain(e))?;
    service::change_cadence(&app, &me.actor, id, days).await?;
    Ok(Redirect::to(&format!("/talks/{id}?notice=cadence")).into_response())
}

#[derive(Template)]
#[template(path = "conversations/templates/templates.html")]
struct TemplatesPage {
    layout: Layout,
    /// Each template, with " · version N" once it has more than one.
    templates: Vec<(TemplateRow, String)>,
    notice: Option<&'static str>,
}

async fn show_templates(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, AppError> {
    me.actor.require(Permission::ManageConversations)?;
    let all = service::all_templates(&app, me.actor.org_id).await?;
    let templates = all
        .iter()
        .filter(|t| t.current)
        .map(|t| {
            let versions = all.iter().filter(|x| x.family == t.family).count();
            let note = if versions > 1 {
                format!(" · version {}", t.version)
            } else {
                String::new()
            };
            (t.clone(), note)
        })
        .collect();
    Ok(render(&TemplatesPage {
        layout,
        templates,
        notice: (q.notice == "saved")
            .then_some("The template is saved. Talks already held keep the questions they had."),
    }))
}

#[derive(Template)]
#[template(path = "conversations/templates/template_form.html")]
struct TemplateFormPage {
    layout: Layout,
    /// None for a new one.
    id: Option<i64>,
    form: TemplateForm,
    errors: FormErrors,
    rows: Vec<Row>,
    pillars: Vec<(&'static str, &'static str)>,
}

/// One question row of the template form.
struct Row {
    n: usize,
    q: &'static str,
    p: &'static str,
    text: String,
    pillar: String,
}

impl Row {
    fn is(&self, pillar: &str) -> bool {
        self.pillar == pillar
    }
}

impl TemplateFormPage {
    fn new(layout: Layout, id: Option<i64>, form: TemplateForm, errors: FormErrors) -> TemplateFormPage {
        TemplateFormPage {
            layout,
            id,
            errors,
            rows: (0..model::QUESTIONS_MAX)
                .map(|i| Row {
                    n: i + 1,
                    q: model::QUESTION_FIELDS[i],
                    p: model::PILLAR_FIELDS[i],
                    text: form.question(i).to_owned(),
                    pillar: form.pillar(i).to_owned(),
                })
                .collect(),
            form,
            pillars: Pillar::BELONGING.iter().map(|p| (p.as_str(), p.label())).collect(),
        }
    }
}

const TEMPLATE_LABELS: Labels = Labels(&[
    ("name", "Name"),
    ("q0", "Question 1"),
    ("p0", "Pillar of question 1"),
    ("q1", "Question 2"),
    ("p1", "Pillar of question 2"),
    ("q2", "Question 3"),
    ("p2", "Pillar of question 3"),
    ("q3", "Question 4"),
    ("p3", "Pillar of question 4"),
    ("q4", "Question 5"),
    ("p4", "Pillar of question 5"),
    ("q5", "Question 6"),
    ("p5", "Pillar of question 6"),
    ("q6", "Question 7"),
    ("p6", "Pillar of question 7"),
    ("q7", "Question 8"),
    ("p7", "Pillar of question 8"),
    ("q8", "Question 9"),
    ("p8", "Pillar of question 9"),
    ("q9", "Question 10"),
    ("p9", "Pillar of question 10"),
    ("q10", "Question 11"),
    ("p10", "Pillar of question 11"),
    ("q11", "Question 12"),
    ("p11", "Pillar of question 12"),
]);

async fn new_template(State(_app): State<AppState>, me: CurrentPerson, layout: Layout) -> Result<Response, AppError> {
    me.actor.require(Permission::ManageConversations)?;
    Ok(render(&TemplateFormPage::new(
        layout,
        None,
        TemplateForm::default(),
        FormErrors::default(),
    )))
}

async fn edit_template(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    me.actor.require(Permission::ManageConversations)?;
    let id = parse_id(&id)?;
    let t = service::templates(&app, &me.actor)
        .await?
        .into_iter()
        .find(|t| t.id == id)
        .ok_or(AppError::NotFound)?;
    Ok(render(&TemplateFormPage::new(
        layout,
        Some(id),
        TemplateForm::of(&t.name, &t.questions),
        FormErrors::default(),
    )))
}

async fn save_template(
    app: &AppState,
    me: &CurrentPerson,
    layout: Layout,
    id: Option<i64>,
    form: TemplateForm,
) -> Result<Response, AppError> {
    me.actor.require(Permission::ManageConversations)?;
    let saved = match form.parse() {
        Ok((name, questions)) => service::save_template(app, &me.actor, id, &name, &questions).await,
        Err(problems) => Err(AppError::fields(problems)),
    };
    match Mistake::split(saved)? {
        Ok(_) => Ok(Redirect::to("/talks/templates?notice=saved").into_response()),
        Err(mistake) => {
            let errors = FormErrors::of(&mistake, TEMPLATE_LABELS);
            Ok(mistake.show(&TemplateFormPage::new(layout, id, form, errors)))
        }
    }
}

async fn create_template(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Form(form): Form<TemplateForm>,
) -> Result<Response, AppError> {
    save_template(&app, &me, layout, None, form).await
}

async fn update_template(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Path(id): Path<String>,
    Form(form): Form<TemplateForm>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    save_template(&app, &me, layout, Some(id), form).await
}

#[derive(Template)]
#[template(path = "conversations/templates/overview.html")]
struct OverviewPage {
    layout: Layout,
    o: service::Overview,
}

async fn show_overview(State(app): State<AppState>, me: CurrentPerson, layout: Layout) -> Result<Response, AppError> {
    Ok(render(&OverviewPage {
        layout,
        o: service::overview(&app, &me.actor).await?,
    }))
}

#[derive(Template)]
#[template(path = "conversations/templates/calendar.html")]
struct CalendarPage {
    layout: Layout,
    on: bool,
    /// The new address, shown once, right after it is made.
    address: Option<String>,
    notice: Option<&'static str>,
}

async fn show_calendar(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, AppError> {
    Ok(render(&CalendarPage {
        layout,
        on: feed::is_on(&app, &me.actor).await?,
        address: None,
        notice: (q.notice == "off").then_some("The feed is off; its address no longer works."),
    }))
}

async fn renew_calendar(State(app): State<AppState>, me: CurrentPerson, layout: Layout) -> Result<Response, AppError> {
    let token = feed::renew(&app, &me.actor).await?;
    Ok(render(&CalendarPage {
        layout,
        on: true,
        address: Some(feed::address(&app, &token)),
        notice: None,
    }))
}

async fn calendar_off(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Form(confirmed): Form<Confirmed>,
) -> Result<Response, AppError> {
    if !confirmed.given() {
        return Ok(Confirm::new(
            layout,
            "Turn your calendar feed off?",
            "/talks/calendar/off",
            "/talks/calendar",
        )
        .saying("Calendar apps subscribed to its address stop receiving your talks.")
        .saying("You can make a new address at any time.")
        .button("Turn it off")
        .danger()
        .page());
    }
    feed::turn_off(&app, &me.actor).await?;
    Ok(Redirect::to("/talks/calendar?notice=off").into_response())
}

/// The feed itself, fetched by calendar apps: no session, the secret
/// address is the key. Unknown or turned-off addresses are not found.
async fn calendar_feed(State(app): State<AppState>, Path(file): Path<String>) -> Result<Response, AppError> {
    let token = file.strip_suffix(".ics").ok_or(AppError::NotFound)?;
    let ics = feed::calendar(&app, token).await?.ok_or(AppError::NotFound)?;
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        ics,
    )
        .into_response())
}
