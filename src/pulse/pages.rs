//! Pages of pulses: the overview, designing a pulse, the answer form (by
//! personal link or signed in), and results.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::model::PulseInput;
use super::model::{Pillar, Question, Schedule};
use super::results::GroupResult;
use super::service::{self, SubmitError, View};
use super::store::Cycle;
use crate::app::AppState;
use crate::auth::{Permission, hash_token};
use crate::error::{AppError, FieldError};
use crate::privacy::plan::Group;
use crate::privacy::rules::Participation;
use crate::web::{
    ActiveForm, Confirm, Confirmed, CurrentPerson, Form, FormErrors, Labels, Layout, Mistake, Query, parse_id, render,
    render_with,
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/pulse", get(overview).post(create_pulse))
        .route("/pulse/new", get(new_pulse))
        .route("/pulse/questions", get(show_questions).post(add_question))
        .route("/pulse/questions/{id}", post(edit_question))
        .route("/pulse/segments", get(show_segments).post(add_segment))
        .route("/pulse/segments/{id}/active", post(set_segment_active))
        .route("/pulse/how-anonymity-works", get(how_it_works))
        .route("/settings", get(show_settings).post(save_settings))
        .route("/settings/retention", post(save_retention))
        .route("/pulse/{id}/launch", post(launch))
        .route("/pulse/cycles/{id}", get(show_results))
        .route("/pulse/cycles/{id}/close", post(close_early))
        .route("/pulse/cycles/{id}/export.csv", get(export_csv))
        .route(
            "/pulse/cycles/{id}/answer",
            get(answer_signed_in).post(submit_signed_in),
        )
        .route("/pulse/answer/{token}", get(answer_by_link).post(submit_by_link))
}

fn day(ts: i64) -> String {
    jiff::Timestamp::from_second(ts)
        .map(|t| t.strftime("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

// --- overview ------------------------------------------------------------

struct PulseRow {
    id: i64,
    title: String,
}

struct CycleRow {
    id: i64,
    title: String,
    number: i64,
    opens: String,
    closes: String,
    closed: bool,
}

impl From<&Cycle> for CycleRow {
    fn from(c: &Cycle) -> Self {
        CycleRow {
            id: c.id,
            title: c.title.clone(),
            number: c.number,
            opens: day(c.opens_at),
            closes: day(c.closes_at),
            closed: c.is_closed(),
        }
    }
}

#[derive(Template)]
#[template(path = "pulse/templates/overview.html")]
struct OverviewPage {
    layout: Layout,
    manages: bool,
    pulses: Vec<PulseRow>,
    cycles: Vec<CycleRow>,
    to_answer: Vec<CycleRow>,
    sees_results: bool,
    headlines: Vec<HeadlineCard>,
}

/// A pulse's latest closed cycle as the overview's card shows it.
struct HeadlineCard {
    cycle_id: i64,
    title: String,
    month: String,
    group: String,
    /// The index and its interval, when released.
    index: Option<(String, String)>,
    /// Why the index is not shown, in plain words.
    note: Option<String>,
    /// "+4, within noise since Sep 2026"; and whether it is a real rise
    /// or drop.
    change: Option<(String, &'static str)>,
    /// "Last shown: Sep 2026, 71", when this cycle's index is not.
    last_shown: Option<String>,
    participation: String,
    /// Pillar, % favourable, its interval, and its bar.
    pillars: Vec<(&'static str, String, String, String)>,
    spark: String,
    words: String,
}

impl HeadlineCard {
    fn of(h: service::Headline, label: String) -> HeadlineCard {
        let (index, note, pillars) = match &h.view {
            View::Released(r) => (
                Some((
                    format!("{:.0}", r.index.value),
                    format!("{:.0}–{:.0}", r.index.low, r.index.high),
                )),
                None,
                pillar_rows(r),
            ),
            View::Withheld(why) => (None, Some(service::withheld_reason(*why, h.cycle.k)), Vec::new()),
            View::FewerThanK | View::Open(_) => (
                None,
                Some(format!(
                    "Fewer than {} people answered, so nothing is shown.",
                    h.cycle.k
                )),
                Vec::new(),
            ),
        };
        HeadlineCard {
            cycle_id: h.cycle.id,
            month: h
                .trend
                .iter()
                .find(|p| p.number == h.cycle.number)
                .map(|p| p.month.clone())
                .unwrap_or_default(),
            title: h.cycle.title.clone(),
            group: label,
            index,
            note,
            change: h.change.map(|(c, month)| {
                let class = match (c.real, c.points > 0) {
                    (false, _) => "flat",
                    (true, true) => "up",
                    (true, false) => "down",
                };
                (format!("{} since {month}", c.words()), class)
            }),
            last_shown: h
                .last_shown
                .map(|(s, month)| format!("Last shown: {month}, Belonging Index {:.0}.", s.value)),
            participation: match h.participation {
                Participation::SmallGroup => format!("fewer than {} people were asked", h.cycle.k),
                Participation::FewerThanK => format!("fewer than {} answered", h.cycle.k),
                Participation::Percent(p) => format!("at least {p} % answered"),
            },
            pillars,
            spark: super::chart::sparkline(&h.trend),
            words: super::chart::trend_words(&h.trend),
        }
    }
}

async fn overview(State(app): State<AppState>, me: CurrentPerson, layout: Layout) -> Result<Response, AppError> {
    let manages = me.actor.can(Permission::ManageSurveys);
    let pulses = if manages {
        super::store::pulses(&mut *app.db.acquire().await?, me.actor.org_id)
            .await?
            .into_iter()
            .map(|(id, title, _)| PulseRow { id, title })
            .collect()
    } else {
        Vec::new()
    };
    let visible = service::visible_groups(&app, &me.actor).await?;
    let sees_results = !visible.is_empty();
    let mut headlines = Vec::new();
    if sees_results {
        let dir = crate::org::service::directory(&app.db, me.actor.org_id).await?;
        let segs = super::segments::list(&mut *app.db.acquire().await?, me.actor.org_id, false).await?;
        for h in service::headlines(&app, &me.actor, &visible).await? {
            let label = group_label(&h.group, &dir, &segs);
            headlines.push(HeadlineCard::of(h, label));
        }
    }
    let cycles = if sees_results {
        service::cycles(&app, &me.actor)
            .await?
            .iter()
            .map(CycleRow::from)
            .collect()
    } else {
        Vec::new()
    };
    let to_answer = service::open_for(&app, &me.actor)
        .await?
        .iter()
        .map(CycleRow::from)
        .collect();
    Ok(render(&OverviewPage {
        layout,
        manages,
        pulses,
        cycles,
        to_answer,
        sees_results,
        headlines,
    }))
}

// --- designing a pulse ----------------------------------------------------

#[derive(Template)]
#[template(path = "pulse/templates/new.html")]
struct NewPulsePage {
    layout: Layout,
    questions: Vec<QuestionUse>,
    teams: Vec<(i64, String)>,
    /// The teams ticked, as sent.
    chosen_teams: Vec<String>,
    form: PulseForm,
    errors: FormErrors,
}

impl NewPulsePage {
    fn team_chosen(&self, id: &i64) -> bool {
        self.chosen_teams.iter().any(|t| *t == id.to_string())
    }
}

/// The designer's fields, by the labels it shows them with.
const PULSE_LABELS: Labels = Labels(&[
    ("title", "Title"),
    ("schedule", "Schedule"),
    ("open_days", "Days each cycle stays open"),
    ("remind_days", "Reminder, days before it closes"),
    ("per_cycle", "Questions per cycle"),
    ("teams", "Who is asked"),
    ("questions", "Questions"),
]);

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct PulseForm {
    title: String,
    schedule: String,
    open_days: String,
    remind_days: String,
    per_cycle: String,
    audience: String,
}

/// A bank question and how a pulse uses it: core, rotate or off.
struct QuestionUse {
    q: Question,
    usage: String,
}

/// The usual start: one question per pillar every time, intent to stay,
/// eNPS and the comment every time, the rest rotating.
fn default_use(questions: &[Question]) -> Vec<QuestionUse> {
    let chosen = super::model::default_selection(questions);
    questions
        .iter()
        .filter(|q| !q.retired)
        .map(|q| {
            let usage = match chosen.iter().find(|(id, _)| *id == q.id) {
                Some((_, true)) => "core",
                Some((_, false)) => "rotate",
                None => "off",
            };
            QuestionUse {
                q: q.clone(),
                usage: usage.into(),
            }
        })
        .collect()
}

async fn new_pulse(State(app): State<AppState>, me: CurrentPerson, layout: Layout) -> Result<Response, AppError> {
    me.actor.require(Permission::ManageSurveys)?;
    let questions = default_use(&service::question_bank(&app, me.actor.org_id).await?);
    let dir = crate::org::service::directory(&app.db, me.actor.org_id).await?;
    let form = PulseForm {
        title: "Monthly belonging pulse".into(),
        schedule: "monthly".into(),
        open_days: "7".into(),
        remind_days: "3".into(),
        per_cycle: super::model::DEFAULT_PER_CYCLE.to_string(),
        audience: "all".into(),
    };
    Ok(render(&NewPulsePage {
        layout,
        questions,
        teams: dir.team_choices(),
        chosen_teams: Vec::new(),
        form,
        errors: FormErrors::default(),
    }))
}

async fn create_pulse(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    me.actor.require(Permission::ManageSurveys)?;
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let form = PulseForm {
        title: get("title"),
        schedule: get("schedule"),
        open_days: get("open_days"),
        remind_days: get("remind_days"),
        per_cycle: get("per_cycle"),
        audience: get("audience"),
    };
    let chosen_teams: Vec<String> = fields
        .iter()
        .filter(|(k, _)| k == "team")
        .map(|(_, v)| v.clone())
        .collect();
    let mut problems = Vec::new();
    let mut number = |name: &'static str, v: &str| {
        v.trim()
            .parse::<i64>()
            .map_err(|_| problems.push(FieldError::new(name, "write a whole number, such as 7")))
    };
    let open_days = number("open_days", &form.open_days);
    let remind_days = number("remind_days", &form.remind_days);
    let per_cycle = number("per_cycle", &form.per_cycle);
    let schedule = Schedule::parse(&form.schedule).map_err(|e| problems.push(FieldError::new("schedule", e)));
    let mut questions = Vec::new();
    for (k, v) in &fields {
        let Some(id) = k.strip_prefix("use_") else { continue };
        match (id.parse::<i64>(), v.as_str()) {
            (Ok(id), "core") => questions.push((id, true)),
            (Ok(id), "rotate") => questions.push((id, false)),
            (Ok(_), "" | "off") => {}
            _ => {
                problems.push(FieldError::new(
                    "questions",
                    "choose every time, rotating or not used for each question",
                ));
                break;
            }
        }
    }
    let teams = if form.audience == "teams" {
        let ids: Result<Vec<i64>, _> = chosen_teams.iter().map(|v| v.parse::<i64>()).collect();
        ids.map(Some)
            .map_err(|_| problems.push(FieldError::new("teams", "choose teams from the list")))
    } else {
        Ok(None)
    };
    let parsed = match (schedule, open_days, remind_days, per_cycle, teams) {
        (Ok(schedule), Ok(open_days), Ok(remind_days), Ok(per_cycle), Ok(teams)) if problems.is_empty() => {
            Ok(PulseInput {
                title: form.title.clone(),
                schedule,
                open_days,
                remind_days,
                per_cycle,
                teams,
                questions,
            })
        }
        (schedule, open_days, remind_days, per_cycle, teams) => {
            // What did parse is checked too, so every problem shows at
            // once: stand-ins for the rest are ones no rule refuses (a
            // count of 0 questions skips the rules on the questions).
            let stand_in = PulseInput {
                title: form.title.clone(),
                schedule: schedule.unwrap_or(Schedule::Once),
                open_days: open_days.unwrap_or(28),
                remind_days: remind_days.unwrap_or(0),
                per_cycle: per_cycle.unwrap_or(0),
                teams: teams.unwrap_or(None),
                questions,
            };
            let bank = service::question_bank(&app, me.actor.org_id).await?;
            for p in stand_in.problems(&bank) {
                if !problems.iter().any(|known| known.field == p.field) {
                    problems.push(p);
                }
            }
            Err(AppError::fields(problems))
        }
    };
    let result = match parsed {
        Ok(input) => service::create_pulse(&app, &me.actor, &input).await,
        Err(e) => Err(e),
    };
    match Mistake::split(result)? {
        Ok(_) => Ok(Redirect::to("/pulse").into_response()),
        Err(mistake) => {
            let bank = service::question_bank(&app, me.actor.org_id).await?;
            let questions = bank
                .into_iter()
                .filter(|q| !q.retired)
                .map(|q| {
                    let usage = match fields
                        .iter()
                        .find(|(k, _)| *k == format!("use_{}", q.id))
                        .map(|(_, v)| v.as_str())
                    {
                        Some("core") => "core",
                        Some("rotate") => "rotate",
                        _ => "off",
                    };
                    QuestionUse { q, usage: usage.into() }
                })
                .collect();
            let dir = crate::org::service::directory(&app.db, me.actor.org_id).await?;
            Ok(mistake.show(&NewPulsePage {
                layout,
                questions,
                teams: dir.team_choices(),
                errors: FormErrors::of(&mistake, PULSE_LABELS),
                chosen_teams,
                form,
            }))
        }
    }
}

async fn launch(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Path(id): Path<String>,
    Form(form): Form<Confirmed>,
) -> Result<Response, AppError> {
    me.actor.require(Permission::ManageSurveys)?;
    let id = parse_id(&id)?;
    if !form.given() {
        let preview = service::launch_preview(&app, me.actor.org_id, id).await?;
        if let Some(number) = preview.already_open {
            return Err(service::already_open(number));
        }
        let people = match preview.people {
            1 => "1 person".to_owned(),
            n => format!("{n} people"),
        };
        let title = format!("Open a cycle of “{}”?", preview.title);
        let confirm = Confirm::new(layout, title, format!("/pulse/{id}/launch"), "/pulse");
        let confirm = if app.mailer.is_on() {
            confirm
                .saying(format!("{people} get an email now with their personal link to answer."))
                .saying("Emails cannot be taken back once sent.")
                .button(format!("Open it and email {people}"))
        } else {
            confirm
                .saying(format!(
                    "{people} can answer it. Email is not set up, so nobody is emailed: they find it on their home page when they sign in."
                ))
                .button("Open it")
        };
        return Ok(confirm
            .saying(format!(
                "The cycle stays open for {} days; results appear only when it closes.",
                preview.open_days
            ))
            .page());
    }
    let cycle = service::launch(&app, me.actor.org_id, id).await?;
    Ok(Redirect::to(&format!("/pulse/cycles/{cycle}?notice=opened")).into_response())
}

async fn close_early(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Path(id): Path<String>,
    Form(form): Form<Confirmed>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    if !form.given() {
        service::may_close_early(&app, &me.actor, id).await?;
        let back = format!("/pulse/cycles/{id}");
        return Ok(
            Confirm::new(layout, "Close this cycle now?", format!("{back}/close"), back)
                .saying("Nobody can answer it any more, including those who have not yet.")
                .saying("Its results are published now and are final: they never change afterwards.")
                .button("Close it and publish the results")
                .danger()
                .page(),
        );
    }
    service::close_early(&app, &me.actor, id).await?;
    Ok(Redirect::to(&format!("/pulse/cycles/{id}?notice=closed")).into_response())
}

// --- answering ------------------------------------------------------------

#[derive(Template)]
#[template(path = "pulse/templates/answer.html")]
struct AnswerPage {
    layout: Layout,
    segments: Vec<super::segments::SegmentQuestion>,
    title: String,
    action: String,
    questions: Vec<Question>,
    values: Vec<(String, String)>,
    errors: Vec<(String, String)>,
    closes: String,
    /// What was done since the last pulse, in a line.
    since: Option<String>,
}

impl AnswerPage {
    fn scale(&self, q: &Question) -> Vec<i64> {
        match q.pillar.scale() {
            Some((low, high)) => (low..=high).collect(),
            None => Vec::new(),
        }
    }

    fn checked(&self, q: &Question, v: &i64) -> bool {
        let name = format!("q{}", q.id);
        self.values.iter().any(|(k, x)| *k == name && *x == v.to_string())
    }

    fn comment(&self, q: &Question) -> String {
        let name = format!("q{}", q.id);
        self.values
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    fn error(&self, q: &Question) -> Option<String> {
        let name = format!("q{}", q.id);
        self.errors
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, m)| crate::web::sentence(m))
    }

    /// Each problem at the top, naming its question by its wording and
    /// linking to it.
    fn summary(&self) -> Vec<(String, String)> {
        self.errors
            .iter()
            .map(|(field, message)| {
                let asked = self.questions.iter().find(|q| format!("q{}", q.id) == *field);
                let line = match asked {
                    Some(q) if !message.contains(&q.text) => format!("\u{201c}{}\u{201d} {message}", q.text),
                    _ => crate::web::sentence(message),
                };
                (field.clone(), line)
            })
            .collect()
    }

    fn label(&self, q: &Question, v: &i64) -> &'static str {
        match (q.pillar, v) {
            (Pillar::Enps, 0) => "not at all likely",
            (Pillar::Enps, 10) => "extremely likely",
            (Pillar::Enps, _) => "",
            (_, 1) => "Strongly disagree",
            (_, 2) => "Disagree",
            (_, 3) => "Neutral",
            (_, 4) => "Agree",
            (_, 5) => "Strongly agree",
            _ => "",
        }
    }

    fn is_comment(&self, q: &Question) -> bool {
        q.pillar == Pillar::Comment
    }

    fn seg_checked(&self, s: &super::segments::SegmentQuestion, option: &str) -> bool {
        let name = format!("s{}", s.id);
        self.values.iter().any(|(k, v)| *k == name && v == option)
    }

    fn seg_untouched(&self, s: &super::segments::SegmentQuestion) -> bool {
        let name = format!("s{}", s.id);
        !self
            .values
            .iter()
            .any(|(k, v)| *k == name && s.options.iter().any(|o| o == v))
    }
}

#[derive(Template)]
#[template(path = "pulse/templates/answered.html")]
struct MessagePage {
    layout: Layout,
    heading: String,
    message: String,
    /// After an answer: where to go next.
    onward: bool,
}

fn refusal(layout: Layout, e: SubmitError) -> Result<Response, AppError> {
    let (status, heading, message) = match e {
        SubmitError::Closed => (
            StatusCode::GONE,
            "This pulse is closed",
            "Answers are no longer taken. Thank you all the same.",
        ),
        SubmitError::AlreadyAnswered => (
            StatusCode::CONFLICT,
            "You have answered already",
            "Each person answers once per pulse. Thank you!",
        ),
        SubmitError::NotInvited => (
            StatusCode::FORBIDDEN,
            "This pulse is not for you",
            "You were not among the people asked in this pulse.",
        ),
        SubmitError::NotFound => (
            StatusCode::NOT_FOUND,
            "This link does not work",
            "Check that you copied the whole link from your email.",
        ),
        SubmitError::Invalid(_) => unreachable!("shown on the form"),
        SubmitError::Other(e) => return Err(e),
    };
    Ok(render_with(
        status,
        &MessagePage {
            layout,
            heading: heading.into(),
            message: message.into(),
            onward: false,
        },
    ))
}

async fn show_form(
    app: &AppState,
    layout: Layout,
    org_id: i64,
    cycle_id: i64,
    person_id: i64,
    action: String,
) -> Result<Response, AppError> {
    match service::form(app, org_id, cycle_id, person_id).await {
        Ok((cycle, questions)) => {
            let since = service::since_line(app, org_id, cycle_id, person_id).await?;
            Ok(render(&AnswerPage {
                layout,
                segments: super::segments::list(&mut *app.db.acquire().await?, org_id, true).await?,
                title: cycle.title,
                action,
                questions,
                values: Vec::new(),
                errors: Vec::new(),
                closes: day(cycle.closes_at),
                since,
            }))
        }
        Err(e) => refusal(layout, e),
    }
}

async fn take_answer(
    app: &AppState,
    layout: Layout,
    org_id: i64,
    cycle_id: i64,
    person_id: i64,
    action: String,
    fields: Vec<(String, String)>,
) -> Result<Response, AppError> {
    // The thank-you page is the answer's reply itself, not a redirect: a
    // second request, logged with its session, would tell when this
    // person answered.
    let closes = match service::form(app, org_id, cycle_id, person_id).await {
        Ok((cycle, _)) => Some(day(cycle.closes_at)),
        Err(_) => None,
    };
    match service::submit(app, org_id, cycle_id, person_id, &fields).await {
        Ok(()) => Ok(render(&MessagePage {
            layout,
            heading: "Thank you".into(),
            message: match closes {
                Some(day) => format!(
                    "Your answers are in, stored without your name. Results come once the pulse closes on {day}, for groups large enough to keep everyone anonymous."
                ),
                None => "Your answers are in, stored without your name. Results come once the pulse closes, for groups large enough to keep everyone anonymous.".into(),
            },
            onward: true,
        })),
        Err(SubmitError::Invalid(errors)) => {
            let (cycle, questions) = match service::form(app, org_id, cycle_id, person_id).await {
                Ok(x) => x,
                Err(e) => return refusal(layout, e),
            };
            let since = service::since_line(app, org_id, cycle_id, person_id).await?;
            Ok(render_with(
                StatusCode::UNPROCESSABLE_ENTITY,
                &AnswerPage {
                    layout,
                    segments: super::segments::list(&mut *app.db.acquire().await?, org_id, true).await?,
                    title: cycle.title,
                    action,
                    questions,
                    values: fields,
                    errors,
                    closes: day(cycle.closes_at),
                    since,
                },
            ))
        }
        Err(e) => refusal(layout, e),
    }
}

async fn answer_by_link(
    State(app): State<AppState>,
    layout: Layout,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let Some((cycle, org, person)) = super::writer::of(&app).link(hash_token(&token)).await? else {
        return refusal(layout, SubmitError::NotFound);
    };
    show_form(&app, layout, org, cycle, person, format!("/pulse/answer/{token}")).await
}

async fn submit_by_link(
    State(app): State<AppState>,
    layout: Layout,
    Path(token): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let Some((cycle, org, person)) = super::writer::of(&app).link(hash_token(&token)).await? else {
        return refusal(layout, SubmitError::NotFound);
    };
    take_answer(
        &app,
        layout,
        org,
        cycle,
        person,
        format!("/pulse/answer/{token}"),
        fields,
    )
    .await
}

async fn answer_signed_in(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    show_form(
        &app,
        layout,
        me.actor.org_id,
        id,
        me.actor.person_id,
        format!("/pulse/cycles/{id}/answer"),
    )
    .await
}

async fn submit_signed_in(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    take_answer(
        &app,
        layout,
        me.actor.org_id,
        id,
        me.actor.person_id,
        format!("/pulse/cycles/{id}/answer"),
        fields,
    )
    .await
}

#[derive(Template)]
#[template(path = "pulse/templates/how.html")]
struct HowPage {
    layout: Layout,
}

async fn how_it_works(layout: Layout) -> Response {
    render(&HowPage { layout })
}

// --- results ----------------------------------------------------------------

#[derive(Template)]
#[template(path = "pulse/templates/results.html")]
struct ResultsPage {
    layout: Layout,
    cycle: CycleRow,
    k: u32,
    groups: Vec<(String, String)>,
    group: String,
    group_label: String,
    open: Option<Participation>,
    result: Option<GroupResult>,
    fewer_than_k: bool,
    /// Why the group is withheld, in plain words.
    withheld: Option<String>,
    comments_note: Option<String>,
    trend: String,
    trend_words: String,
    heatmap: Vec<(String, Vec<HeatCell>)>,
    can_close: bool,
    /// The reader plans actions (a link beside each pillar starts one).
    may_plan: bool,
    /// What the action that led here did.
    notice: Option<&'static str>,
}

/// A heatmap cell: % favourable, its band on the colour scale, and the
/// change since the cycle before where both were released.
struct HeatCell {
    value: String,
    /// `heat-0` (lowest) to `heat-4`: a blue–orange scale that colour-blind
    /// readers tell apart, light enough for dark text to pass AA.
    class: &'static str,
    change: String,
    /// Where an action on this team's pillar is planned, for who plans.
    plan: Option<String>,
}

impl HeatCell {
    fn of(value: f64, before: Option<f64>) -> HeatCell {
        let class = match value {
            v if v < 40.0 => "heat-0",
            v if v < 55.0 => "heat-1",
            v if v < 70.0 => "heat-2",
            v if v < 85.0 => "heat-3",
            _ => "heat-4",
        };
        let change = match before.map(|b| (value - b).round() as i64) {
            Some(d) if d > 0 => format!("+{d}"),
            Some(d) if d < 0 => format!("−{}", -d),
            Some(_) => "±0".into(),
            None => String::new(),
        };
        HeatCell {
            value: format!("{value:.0}"),
            class,
            change,
            plan: None,
        }
    }

    fn empty() -> HeatCell {
        HeatCell {
            value: "–".into(),
            class: "heat-none",
            change: String::new(),
            plan: None,
        }
    }
}

/// A result's pillars as the pages show them: label, % favourable, its
/// 90 % interval, and its bar.
fn pillar_rows(r: &GroupResult) -> Vec<(&'static str, String, String, String)> {
    Pillar::BELONGING
        .iter()
        .filter_map(|p| {
            r.pillars.get(p).map(|s| {
                (
                    p.label(),
                    format!("{:.0}", s.value),
                    format!("{:.0}–{:.0}", s.low, s.high),
                    super::chart::bar_svg(s),
                )
            })
        })
        .collect()
}

impl ResultsPage {
    fn pillars(&self) -> Vec<(&'static str, String, String, String)> {
        self.result.as_ref().map(pillar_rows).unwrap_or_default()
    }

    fn bar(&self, s: &crate::privacy::stats::Share) -> String {
        super::chart::bar_svg(s)
    }

    /// The address that plans an action on one question of this group's
    /// result (its pillar, and the question to name in the title).
    fn question_plan_link(&self, q: &super::results::QuestionResult) -> Option<String> {
        let pillar = q.pillar.is_belonging().then_some(q.pillar)?;
        let base = self.plan_link(pillar.label())?;
        Some(format!("{base}&question={}", q.question_id))
    }

    /// The address that plans an action on this group's pillar, when the
    /// reader plans actions and the group is one an action can be for.
    fn plan_link(&self, pillar_label: &str) -> Option<String> {
        if !self.may_plan {
            return None;
        }
        let pillar = Pillar::BELONGING.into_iter().find(|p| p.label() == pillar_label)?;
        let group = match self.group.as_str() {
            "org" => "org".to_owned(),
            key => key.strip_prefix("team:").or(key.strip_prefix("team-only:"))?.to_owned(),
        };
        Some(format!(
            "/actions/new?group={group}&pillar={}&cycle={}",
            pillar.as_str(),
            self.cycle.id
        ))
    }
}

/// The group picker of a cycle's results: the groups the person may see
/// that the cycle asked (a self-reported answer always: the roster cannot
/// tell), the organization first, then teams in the order of the tree,
/// then time here and the segments; a group whose figures are withheld
/// says so in its label.
async fn picker(
    app: &AppState,
    actor: &crate::auth::Actor,
    visible: &service::Visible,
    cycle: &Cycle,
    current: &Group,
    dir: &crate::org::service::Directory,
    segs: &[super::segments::SegmentQuestion],
) -> Result<Vec<(String, String)>, AppError> {
    let asked = service::asked_groups(app, actor, cycle).await?;
    let plan = if cycle.is_closed() {
        Some(cycle.released_plan()?)
    } else {
        None
    };
    let order = |g: &Group| match g {
        Group::Org => (0, String::new(), 0),
        Group::Team(t) => (1, dir.team_path(*t).to_lowercase(), 0),
        Group::TeamOnly(t) => (1, dir.team_path(*t).to_lowercase(), 1),
        Group::Segment { question, .. } if question == super::groups::TENURE => (2, String::new(), 0),
        Group::Segment { question, .. } => (3, question.clone(), 0),
    };
    let mut groups: Vec<&Group> = visible
        .groups()
        .iter()
        .filter(|g| {
            *g == current
                || match g {
                    Group::Segment { question, .. } => question != super::groups::TENURE || asked.contains(g),
                    _ => asked.contains(g),
                }
        })
        .collect();
    // A stable sort keeps the bands and options in their own order.
    groups.sort_by_key(|g| order(g));
    Ok(groups
        .into_iter()
        .map(|g| {
            let mut label = group_label(g, dir, segs);
            if plan.as_ref().is_some_and(|p| !p.allows(g)) {
                label.push_str(" — not shown");
            }
            (g.key(), label)
        })
        .collect())
}

fn group_label(g: &Group, dir: &crate::org::service::Directory, segs: &[super::segments::SegmentQuestion]) -> String {
    match g {
        Group::Org => "Whole organization".into(),
        Group::Team(t) if dir.teams.iter().any(|c| c.parent_id == Some(*t)) => {
            format!("{} (with sub-teams)", dir.team_path(*t))
        }
        Group::Team(t) => dir.team_path(*t),
        Group::TeamOnly(t) => format!("{} (own members only)", dir.team_path(*t)),
        Group::Segment { question, value } => {
            let name = if question == super::groups::TENURE {
                "Time here".to_owned()
            } else {
                segs.iter()
                    .find(|s| s.key() == *question)
                    .map(|s| s.text.clone())
                    .unwrap_or_else(|| question.clone())
            };
            format!("{name}: {value}")
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ResultsQuery {
    group: String,
    notice: String,
}

async fn show_results(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Path(id): Path<String>,
    Query(q): Query<ResultsQuery>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let visible = service::visible_groups(&app, &me.actor).await?;
    if visible.is_empty() {
        return Err(AppError::Forbidden);
    }
    let group = if q.group.is_empty() {
        visible.groups()[0].clone()
    } else {
        Group::parse(&q.group).ok_or_else(|| AppError::invalid("group", "choose a group from the list"))?
    };
    let (cycle, view) = service::view(&app, &me.actor, &visible, id, &group).await?;
    let dir = crate::org::service::directory(&app.db, me.actor.org_id).await?;
    let segs = super::segments::list(&mut *app.db.acquire().await?, me.actor.org_id, false).await?;
    let groups = picker(&app, &me.actor, &visible, &cycle, &group, &dir, &segs).await?;
    let trend_points = if cycle.is_closed() {
        service::trend(&app, &me.actor, &visible, cycle.pulse_id, &group).await?
    } else {
        Vec::new()
    };
    let label = group_label(&group, &dir, &segs);
    let heatmap = if cycle.is_closed() {
        let before: std::collections::HashMap<i64, std::collections::BTreeMap<Pillar, f64>> =
            match service::previous_cycle(&app, &me.actor, id).await? {
                Some(prev) => service::heatmap(&app, &me.actor, &visible, prev)
                    .await?
                    .into_iter()
                    .map(|(t, _, cells)| (t, cells))
                    .collect(),
                None => Default::default(),
            };
        let plans = me.actor.can(Permission::PlanActions);
        service::heatmap(&app, &me.actor, &visible, id)
            .await?
            .into_iter()
            .map(|(team_id, team, cells)| {
                let row = Pillar::BELONGING
                    .iter()
                    .map(|p| match cells.get(p) {
                        Some(v) => {
                            let mut cell = HeatCell::of(*v, before.get(&team_id).and_then(|b| b.get(p)).copied());
                            // Every team a reader sees here is one they plan for.
                            if plans {
                                cell.plan =
                                    Some(format!("/actions/new?group={team_id}&pillar={}&cycle={id}", p.as_str()));
                            }
                            cell
                        }
                        None => HeatCell::empty(),
                    })
                    .collect();
                (team, row)
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut page = ResultsPage {
        layout,
        cycle: CycleRow::from(&cycle),
        k: cycle.k,
        groups,
        group: group.key(),
        trend: if trend_points.iter().any(|p| p.index.is_some()) {
            super::chart::trend_svg(&trend_points, &label)
        } else {
            String::new()
        },
        trend_words: super::chart::trend_words(&trend_points),
        group_label: label,
        open: None,
        result: None,
        fewer_than_k: false,
        withheld: None,
        comments_note: None,
        heatmap,
        can_close: me.actor.can(Permission::ManageSurveys) && !cycle.is_closed(),
        may_plan: me.actor.can(Permission::PlanActions) && cycle.is_closed(),
        notice: match q.notice.as_str() {
            "opened" if app.mailer.is_on() => Some("The cycle is open, and everyone in it has been sent their link."),
            "opened" => {
                Some("The cycle is open. Email is not set up, so people find it on their home page when they sign in.")
            }
            "closed" => Some("The cycle is closed and its results are published."),
            _ => None,
        },
    };
    match view {
        View::Open(p) => page.open = Some(p),
        View::Released(r) => {
            page.result = Some(*r);
            if group == Group::Org {
                page.comments_note = service::comments_note(&cycle);
            }
        }
        View::FewerThanK => page.fewer_than_k = true,
        View::Withheld(why) => page.withheld = Some(service::withheld_reason(why, cycle.k)),
    }
    Ok(render(&page))
}

/// Aggregated results of every group the person may see, as CSV. Never an
/// individual response: each row is a group's released figures, or its
/// status when nothing may be shown.
async fn export_csv(
    State(app): State<AppState>,
    me: CurrentPerson,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let rows = service::export(&app, &me.actor, id).await?;
    let dir = crate::org::service::directory(&app.db, me.actor.org_id).await?;
    let segs = super::segments::list(&mut *app.db.acquire().await?, me.actor.org_id, false).await?;
    let mut out = csv::Writer::from_writer(Vec::new());
    let header = [
        "group",
        "label",
        "status",
        "responses",
        "belonging_index",
        "index_low",
        "index_high",
        "acceptance",
        "value",
        "support",
        "integration",
        "intent_to_stay",
        "enps",
        "promoters",
        "passives",
        "detractors",
    ];
    out.write_record(header).map_err(AppError::internal)?;
    let pct = |v: Option<f64>| v.map(|x| format!("{x:.1}")).unwrap_or_default();
    for (group, view) in rows {
        // Names come from people (teams, segment options): text cells.
        let label = crate::web::csv_text(&group_label(&group, &dir, &segs));
        let record: Vec<String> = match view {
            View::Released(r) => {
                let pillar = |p: Pillar| pct(r.pillars.get(&p).map(|s| s.value));
                vec![
                    crate::web::csv_text(&group.key()),
                    label,
                    "released".into(),
                    r.responses.to_string(),
                    pct(Some(r.index.value)),
                    pct(Some(r.index.low)),
                    pct(Some(r.index.high)),
                    pillar(Pillar::Acceptance),
                    pillar(Pillar::Value),
                    pillar(Pillar::Support),
                    pillar(Pillar::Integration),
                    pct(r.stay.map(|s| s.value)),
                    r.enps.map(|e| e.score.to_string()).unwrap_or_default(),
                    r.enps.map(|e| e.promoters.to_string()).unwrap_or_default(),
                    r.enps.map(|e| e.passives.to_string()).unwrap_or_default(),
                    r.enps.map(|e| e.detractors.to_string()).unwrap_or_default(),
                ]
            }
            other => {
                let status = match other {
                    View::Open(_) => "open",
                    View::FewerThanK => "fewer_than_k",
                    _ => "withheld",
                };
                let mut v = vec![crate::web::csv_text(&group.key()), label, status.into()];
                v.resize(header.len(), String::new());
                v
            }
        };
        out.write_record(&record).map_err(AppError::internal)?;
    }
    let body = out.into_inner().map_err(AppError::internal)?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                axum::http::header::CONTENT_DISPOSITION,
                "attachment; filename=\"pulse-results.csv\"",
            ),
        ],
        body,
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "pulse/templates/settings.html")]
struct SettingsPage {
    layout: Layout,
    k: String,
    share_results: bool,
    share_team_results: bool,
    keep_responses: bool,
    retention_months: String,
    errors: FormErrors,
    /// Which form was saved, from the redirect after saving.
    saved: String,
}

/// The settings page's fields, by their labels.
const SETTINGS_LABELS: Labels = Labels(&[
    ("k", "Smallest group whose results are shown"),
    ("share_results", "Everyone may see the whole organization's results"),
    ("share_team_results", "Everyone may see their own team's results"),
    ("keep_responses", "Keep individual answers after results are out"),
    (
        "retention_months",
        "Delete kept answers and comments this many months after a pulse closes",
    ),
]);

impl SettingsPage {
    async fn of(app: &AppState, layout: Layout, org_id: i64) -> Result<SettingsPage, AppError> {
        let a = service::anonymity(app, org_id).await?;
        let r = service::retention(app, org_id).await?;
        Ok(SettingsPage {
            layout,
            k: a.k.to_string(),
            share_results: a.share_results,
            share_team_results: a.share_team_results,
            keep_responses: r.keep_responses,
            retention_months: r.months.map(|m| m.to_string()).unwrap_or_default(),
            errors: FormErrors::default(),
            saved: String::new(),
        })
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RetentionForm {
    keep_responses: String,
    retention_months: String,
}

async fn save_retention(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Form(form): Form<RetentionForm>,
) -> Result<Response, AppError> {
    me.actor.require(Permission::ManageSettings)?;
    let keep_responses = form.keep_responses == "on";
    let months = match form.retention_months.trim() {
        "" => Ok(None),
        raw => raw.parse::<u32>().map(Some).map_err(|_| {
            AppError::invalid(
                "retention_months",
                "write a whole number of months, or leave it empty to keep them",
            )
        }),
    };
    let result = match months {
        Ok(months) => service::set_retention(&app, &me.actor, service::Retention { keep_responses, months }).await,
        Err(e) => Err(e),
    };
    match Mistake::split(result)? {
        Ok(()) => Ok(Redirect::to("/settings?saved=retention#retention").into_response()),
        Err(mistake) => {
            let mut page = SettingsPage::of(&app, layout, me.actor.org_id).await?;
            page.keep_responses = keep_responses;
            page.retention_months = form.retention_months;
            page.errors = FormErrors::of(&mistake, SETTINGS_LABELS);
            Ok(mistake.show(&page))
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SavedQuery {
    saved: String,
}

async fn show_settings(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Query(q): Query<SavedQuery>,
) -> Result<Response, AppError> {
    me.actor.require(Permission::ManageSettings)?;
    let mut page = SettingsPage::of(&app, layout, me.actor.org_id).await?;
    page.saved = q.saved;
    Ok(render(&page))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SettingsForm {
    k: String,
    share_results: String,
    share_team_results: String,
}

async fn save_settings(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Form(form): Form<SettingsForm>,
) -> Result<Response, AppError> {
    me.actor.require(Permission::ManageSettings)?;
    let share_results = form.share_results == "on";
    let share_team_results = form.share_team_results == "on";
    let result = match form.k.trim().parse::<u32>() {
        Ok(k) => {
            let new = service::Anonymity {
                k,
                share_results,
                share_team_results,
            };
            service::set_anonymity(&app, &me.actor, new).await
        }
        Err(_) => Err(AppError::invalid("k", "write a whole number, such as 5")),
    };
    match Mistake::split(result)? {
        Ok(()) => Ok(Redirect::to("/settings?saved=anonymity").into_response()),
        Err(mistake) => {
            let mut page = SettingsPage::of(&app, layout, me.actor.org_id).await?;
            page.k = form.k;
            page.share_results = share_results;
            page.share_team_results = share_team_results;
            page.errors = FormErrors::of(&mistake, SETTINGS_LABELS);
            Ok(mistake.show(&page))
        }
    }
}

#[derive(Template)]
#[template(path = "pulse/templates/questions.html")]
struct QuestionsPage {
    layout: Layout,
    questions: Vec<Question>,
    pillars: Vec<Pillar>,
    errors: FormErrors,
    /// The new question's fields as sent, when it was refused.
    pillar: String,
    text: String,
    notice: Option<&'static str>,
}

/// The question bank's fields by their labels; `t<id>` is one question's
/// new wording.
const QUESTION_LABELS: Labels = Labels(&[("pillar", "Pillar"), ("text", "Wording")]);

async fn questions_page(app: &AppState, me: &CurrentPerson, layout: Layout) -> Result<QuestionsPage, AppError> {
    let questions = service::question_bank(app, me.actor.org_id).await?;
    let pillars = Pillar::BELONGING.iter().copied().chain([Pillar::Stay]).collect();
    Ok(QuestionsPage {
        layout,
        questions,
        pillars,
        errors: FormErrors::default(),
        pillar: String::new(),
        text: String::new(),
        notice: None,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NoticeQuery {
    notice: String,
}

async fn show_questions(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, AppError> {
    me.actor.require(Permission::ManageSurveys)?;
    let mut page = questions_page(&app, &me, layout).await?;
    page.notice = match q.notice.as_str() {
        "added" => Some("The question was added."),
        "changed" => Some("The wording was changed."),
        "versioned" => Some("It already had answers, so the new wording is a new version; trends keep the two apart."),
        _ => None,
    };
    Ok(render(&page))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct QuestionForm {
    pillar: String,
    text: String,
}

async fn add_question(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Form(form): Form<QuestionForm>,
) -> Result<Response, AppError> {
    me.actor.require(Permission::ManageSurveys)?;
    let result = match Pillar::parse(&form.pillar).filter(|p| p.is_belonging() || *p == Pillar::Stay) {
        Some(p) => service::add_question(&app, &me.actor, p, &form.text).await.map(|_| ()),
        None => {
            // The wording is checked too: every problem at once.
            let mut problems = vec![FieldError::new("pillar", "choose one of the pillars")];
            if let Err(AppError::Invalid { message, .. }) = service::question_text(&form.text) {
                problems.push(FieldError::new("text", message));
            }
            Err(AppError::fields(problems))
        }
    };
    match Mistake::split(result)? {
        Ok(()) => Ok(Redirect::to("/pulse/questions?notice=added").into_response()),
        Err(mistake) => {
            let mut page = questions_page(&app, &me, layout).await?;
            page.errors = FormErrors::of(&mistake, QUESTION_LABELS);
            page.pillar = form.pillar;
            page.text = form.text;
            Ok(mistake.show(&page))
        }
    }
}

async fn edit_question(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Path(id): Path<String>,
    Form(form): Form<QuestionForm>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    match Mistake::split(service::edit_question(&app, &me.actor, id, &form.text).await)? {
        Ok(new) if new != id => Ok(Redirect::to("/pulse/questions?notice=versioned").into_response()),
        Ok(_) => Ok(Redirect::to("/pulse/questions?notice=changed").into_response()),
        Err(mistake) => {
            let mut page = questions_page(&app, &me, layout).await?;
            let labels = Labels(&[("text", "New wording")]);
            page.errors = FormErrors::of(&mistake, labels).moved("text", &format!("t{id}"));
            Ok(mistake.show(&page))
        }
    }
}

#[derive(Template)]
#[template(path = "pulse/templates/segments.html")]
struct SegmentsPage {
    layout: Layout,
    segments: Vec<super::segments::SegmentQuestion>,
    errors: FormErrors,
    text: String,
    options: String,
}

const SEGMENT_LABELS: Labels = Labels(&[("text", "Question"), ("options", "Options")]);

async fn segments_page(
    app: &AppState,
    me: &CurrentPerson,
    layout: Layout,
    errors: FormErrors,
    text: String,
    options: String,
) -> Result<SegmentsPage, AppError> {
    Ok(SegmentsPage {
        layout,
        segments: super::segments::list(&mut *app.db.acquire().await?, me.actor.org_id, false).await?,
        errors,
        text,
        options,
    })
}

async fn show_segments(State(app): State<AppState>, me: CurrentPerson, layout: Layout) -> Result<Response, AppError> {
    me.actor.require(Permission::ManageSurveys)?;
    Ok(render(
        &segments_page(&app, &me, layout, FormErrors::default(), String::new(), String::new()).await?,
    ))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SegmentForm {
    text: String,
    options: String,
}

async fn add_segment(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Form(form): Form<SegmentForm>,
) -> Result<Response, AppError> {
    let added = super::segments::add(&app, &me.actor, &form.text, &form.options).await;
    super::writer::of(&app).forget_segments(me.actor.org_id);
    match Mistake::split(added)? {
        Ok(_) => Ok(Redirect::to("/pulse/segments").into_response()),
        Err(mistake) => {
            let errors = FormErrors::of(&mistake, SEGMENT_LABELS);
            Ok(mistake.show(&segments_page(&app, &me, layout, errors, form.text, form.options).await?))
        }
    }
}

async fn set_segment_active(
    State(app): State<AppState>,
    me: CurrentPerson,
    Path(id): Path<String>,
    Form(form): Form<ActiveForm>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let active = form.active()?;
    super::segments::set_active(&app, &me.actor, id, active).await?;
    super::writer::of(&app).forget_segments(me.actor.org_id);
    Ok(Redirect::to("/pulse/segments").into_response())
}

#[derive(Template)]
#[template(path = "pulse/templates/home_notice.html")]
struct HomeNotice {
    /// Open cycles waiting for this person: (cycle id, title, closes).
    open_pulses: Vec<(i64, String, String)>,
}

/// The home page's notice of the pulses waiting for this person.
pub async fn home(app: &crate::app::App, actor: &crate::auth::Actor) -> Result<crate::module::Home, AppError> {
    // The person's own row, not the directory: the home page asks on every visit.
    let zone = crate::org::service::person(&app.db, actor.org_id, actor.person_id)
        .await?
        .and_then(|p| jiff::tz::TimeZone::get(&p.time_zone).ok())
        .unwrap_or(jiff::tz::TimeZone::UTC);
    let open_pulses: Vec<(i64, String, String)> = service::open_for(app, actor)
        .await?
        .iter()
        .map(|c| {
            // The day it closes, in the person's own time zone.
            let closes = jiff::Timestamp::from_second(c.closes_at)
                .map(|t| t.to_zoned(zone.clone()).strftime("%A %-d %B, %H:%M").to_string())
                .unwrap_or_default();
            (c.id, c.title.clone(), closes)
        })
        .collect();
    let mut notices = Vec::new();
    if !open_pulses.is_empty() {
        let notice = HomeNotice { open_pulses }
            .render()
            .map_err(|e| AppError::internal(format!("template: {e}")))?;
        notices.push(notice);
    }
    let mut steps = Vec::new();
    if actor.role == crate::auth::Role::Owner {
        steps.push(crate::module::Step {
            place: 40,
            text: "Design your first pulse and open it: everyone is asked by email",
            href: "/pulse/new",
            done: !service::cycles(app, actor).await?.is_empty(),
        });
    }
    Ok(crate::module::Home {
        notices,
        cards: Vec::new(),
        steps,
    })
}
