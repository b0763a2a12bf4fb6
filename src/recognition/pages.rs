//! Pages of recognition: the board, posting and reacting, values, coverage.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::awards::{self, Round};
use super::service::{self, Board, Coverage, PostView, TeamMonths, ThanksInput, Unthanked};
use super::store::OrgValue;
use crate::app::AppState;
use crate::auth::Permission;
use crate::error::AppError;
use crate::shared::Pillar;
use crate::web::{
    ActiveForm, Confirm, CurrentPerson, Form, FormErrors, Labels, Layout, Mistake, Query, parse_id, render, render_with,
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/thanks", get(show_board).post(post_thanks))
        .route("/thanks/{id}/react", post(react))
        .route("/thanks/values", get(show_values).post(add_value))
        .route("/thanks/values/{id}", post(edit_value))
        .route("/thanks/values/{id}/active", post(set_value_active))
        .route("/thanks/webhook", post(set_webhook))
        .route("/thanks/coverage", get(show_coverage))
        .route("/thanks/awards", get(show_awards).post(open_round))
        .route("/thanks/awards/{id}/nominate", post(nominate))
        .route("/thanks/awards/{id}/vote-open", post(start_vote))
        .route("/thanks/awards/{id}/vote", post(vote))
        .route("/thanks/awards/{id}/close", post(close_round))
}

#[derive(Template)]
#[template(path = "recognition/templates/board.html")]
struct BoardPage {
    layout: Layout,
    posts: Vec<PostView>,
    has_more: bool,
    page: usize,
    team: String,
    teams: Vec<(i64, String)>,
    colleagues: Vec<(i64, String)>,
    values: Vec<OrgValue>,
    chosen: Vec<i64>,
    form_value: String,
    message: String,
    back: String,
    manager: bool,
    manage: bool,
    errors: FormErrors,
    notice: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct BoardQuery {
    team: String,
    page: String,
    notice: String,
}

struct Typed {
    input: ThanksInput,
    errors: FormErrors,
}

/// The board's filters, by their labels.
const BOARD_LABELS: Labels = Labels(&[("team", "Board"), ("page", "Page")]);

/// A reaction button's fields: the reaction it gives.
const REACT_LABELS: Labels = Labels(&[("kind", "Reaction"), ("on", "Reaction")]);

/// The thank-you form's fields, by their labels.
const THANKS_LABELS: Labels = Labels(&[
    ("recipients", "Who"),
    ("value", "For which value"),
    ("message", "Thank you for…"),
]);

async fn board_page(
    app: &AppState,
    me: &CurrentPerson,
    layout: Layout,
    q: &BoardQuery,
    typed: Typed,
) -> Result<BoardPage, AppError> {
    let team = match q.team.trim() {
        "" => None,
        raw => Some(
            raw.parse::<i64>()
                .map_err(|_| BOARD_LABELS.explain(AppError::invalid("team", "choose a team from the list")))?,
        ),
    };
    let page: usize = match q.page.trim() {
        "" => 0,
        raw => raw
            .parse()
            .ok()
            .filter(|p| *p < 10_000)
            .ok_or_else(|| BOARD_LABELS.explain(AppError::invalid("page", "a page number from 0")))?,
    };
    let Board { posts, has_more } = service::board(app, &me.actor, team, page).await?;
    let dir = crate::org::service::directory(&app.db, me.actor.org_id).await?;
    let colleagues = service::choices_for(&dir, &me.actor);
    let values = service::values(app, me.actor.org_id)
        .await?
        .into_iter()
        .filter(|v| v.active)
        .collect();
    Ok(BoardPage {
        layout,
        posts,
        has_more,
        page,
        team: team.map(|t| t.to_string()).unwrap_or_default(),
        back: match team {
            Some(t) => format!("/thanks?team={t}&page={page}"),
            None => format!("/thanks?page={page}"),
        },
        teams: dir.team_choices(),
        colleagues,
        values,
        chosen: typed
            .input
            .recipients
            .iter()
            .filter_map(|r| r.trim().parse().ok())
            .collect(),
        form_value: typed.input.value,
        message: typed.input.message,
        manager: crate::auth::policy::is_team_manager(me.actor.role),
        manage: me.actor.can(Permission::ManageRecognition),
        errors: typed.errors,
        notice: match q.notice.as_str() {
            "posted" if app.mailer.is_on() => Some("Posted. They will get an email too.".into()),
            "posted" => Some("Posted. They see it on the board.".into()),
            _ => None,
        },
    })
}

async fn show_board(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Query(q): Query<BoardQuery>,
) -> Result<Response, AppError> {
    let typed = Typed {
        input: ThanksInput::default(),
        errors: FormErrors::default(),
    };
    Ok(render(&board_page(&app, &me, layout, &q, typed).await?))
}

/// The form's fields; `recipients` comes once per person chosen.
fn thanks_input(fields: Vec<(String, String)>) -> ThanksInput {
    let mut input = ThanksInput::default();
    for (k, v) in fields {
        match k.as_str() {
            "recipients" => input.recipients.push(v),
            "value" => input.value = v,
            "message" => input.message = v,
            _ => {}
        }
    }
    input
}

async fn post_thanks(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let input = thanks_input(fields);
    let q = BoardQuery::default();
    match Mistake::split(service::post_thanks(&app, &me.actor, &input).await)? {
        Ok(_) => Ok(Redirect::to("/thanks?notice=posted").into_response()),
        Err(mistake) => {
            let typed = Typed {
                input,
                errors: FormErrors::of(&mistake, THANKS_LABELS),
            };
            Ok(mistake.show(&board_page(&app, &me, layout, &q, typed).await?))
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ReactForm {
    kind: String,
    on: String,
    back: String,
}

async fn react(
    State(app): State<AppState>,
    me: CurrentPerson,
    Path(id): Path<String>,
    Form(form): Form<ReactForm>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let on = match form.on.as_str() {
        "true" => true,
        "false" => false,
        _ => return Err(REACT_LABELS.explain(AppError::invalid("on", "true to react, false to take it back"))),
    };
    service::react(&app, &me.actor, id, &form.kind, on)
        .await
        .map_err(|e| REACT_LABELS.explain(e))?;
    // Only back to a board page: never to an address from elsewhere.
    let back = match form.back.as_str() {
        "" => "/thanks".to_owned(),
        raw => match crate::web::local_path(raw) {
            Some(p) if p == "/thanks" || p.starts_with("/thanks?") => p.to_owned(),
            _ => {
                return Err(AppError::BadRequest(
                    "the page to go back to is not a thank-you board page of this site".into(),
                ));
            }
        },
    };
    Ok(Redirect::to(&format!("{back}#t{id}")).into_response())
}

#[derive(Template)]
#[template(path = "recognition/templates/values.html")]
struct ValuesPage {
    layout: Layout,
    values: Vec<OrgValue>,
    pillars: Vec<(String, &'static str)>,
    name: String,
    description: String,
    pillar: String,
    webhook: String,
    owner: bool,
    errors: FormErrors,
    notice: Option<&'static str>,
}

/// The values page's fields, by their labels; a value's own form has its
/// fields as `name-<id>`…
const VALUE_LABELS: Labels = Labels(&[
    ("name", "Name"),
    ("description", "What it means"),
    ("pillar", "Pillar"),
    ("webhook_url", "Incoming webhook address"),
]);

#[derive(Deserialize, Default)]
#[serde(default)]
struct ValueForm {
    name: String,
    description: String,
    pillar: String,
}

async fn values_page(
    app: &AppState,
    me: &CurrentPerson,
    layout: Layout,
    form: ValueForm,
    errors: FormErrors,
) -> Result<ValuesPage, AppError> {
    me.actor.require(Permission::ManageRecognition)?;
    Ok(ValuesPage {
        layout,
        values: service::values(app, me.actor.org_id).await?,
        pillars: Pillar::BELONGING
            .iter()
            .map(|p| (p.as_str().to_owned(), p.label()))
            .collect(),
        name: form.name,
        description: form.description,
        pillar: form.pillar,
        webhook: service::webhook(app, me.actor.org_id).await?.unwrap_or_default(),
        owner: me.actor.can(Permission::ManageSettings),
        errors,
        notice: None,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NoticeQuery {
    notice: String,
}

async fn show_values(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, AppError> {
    let mut page = values_page(&app, &me, layout, ValueForm::default(), FormErrors::default()).await?;
    page.notice = match q.notice.as_str() {
        "saved" => Some("Saved."),
        "webhook" => Some("The chat webhook is saved."),
        _ => None,
    };
    Ok(render(&page))
}

async fn add_value(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Form(form): Form<ValueForm>,
) -> Result<Response, AppError> {
    let added = service::add_value(&app, &me.actor, &form.name, &form.description, &form.pillar).await;
    values_after(&app, &me, layout, form, added.map(|_| ()), None).await
}

/// Back to the values after a change, or the page again with the mistake
/// and what was typed.
async fn values_after(
    app: &AppState,
    me: &CurrentPerson,
    layout: Layout,
    typed: ValueForm,
    result: Result<(), AppError>,
    // The value whose own form was sent, when it was one.
    editing: Option<i64>,
) -> Result<Response, AppError> {
    match Mistake::split(result)? {
        Ok(()) => Ok(Redirect::to("/thanks/values?notice=saved").into_response()),
        Err(mistake) => {
            let mut errors = FormErrors::of(&mistake, VALUE_LABELS);
            if let Some(id) = editing {
                for field in ["name", "description", "pillar"] {
                    errors = errors.moved(field, &format!("{field}-{id}"));
                }
            }
            Ok(mistake.show(&values_page(app, me, layout, typed, errors).await?))
        }
    }
}

async fn edit_value(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Path(id): Path<String>,
    Form(form): Form<ValueForm>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let edited = service::edit_value(&app, &me.actor, id, &form.name, &form.description, &form.pillar).await;
    values_after(&app, &me, layout, ValueForm::default(), edited, Some(id)).await
}

async fn set_value_active(
    State(app): State<AppState>,
    me: CurrentPerson,
    Path(id): Path<String>,
    Form(form): Form<ActiveForm>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    service::set_value_active(&app, &me.actor, id, form.active()?).await?;
    Ok(Redirect::to("/thanks/values").into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WebhookForm {
    webhook_url: String,
}

async fn set_webhook(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Form(form): Form<WebhookForm>,
) -> Result<Response, AppError> {
    match Mistake::split(service::set_webhook(&app, &me.actor, &form.webhook_url).await)? {
        Ok(()) => Ok(Redirect::to("/thanks/values?notice=webhook#hook-h").into_response()),
        Err(mistake) => {
            let errors = FormErrors::of(&mistake, VALUE_LABELS);
            let mut page = values_page(&app, &me, layout, ValueForm::default(), errors).await?;
            page.webhook = form.webhook_url;
            Ok(mistake.show(&page))
        }
    }
}

#[derive(Template)]
#[template(path = "recognition/templates/coverage.html")]
struct CoveragePage {
    layout: Layout,
    manager: bool,
    unthanked: Vec<Unthanked>,
    scope_size: usize,
    months: Vec<String>,
    teams: Vec<TeamMonths>,
}

async fn show_coverage(State(app): State<AppState>, me: CurrentPerson, layout: Layout) -> Result<Response, AppError> {
    let Coverage {
        unthanked,
        scope_size,
        months,
        teams,
    } = service::coverage(&app, &me.actor).await?;
    Ok(render(&CoveragePage {
        layout,
        manager: crate::auth::policy::is_team_manager(me.actor.role),
        unthanked,
        scope_size,
        months,
        teams,
    }))
}

// --- employee of the month --------------------------------------------------

#[derive(Template)]
#[template(path = "recognition/templates/awards.html")]
struct AwardsPage {
    layout: Layout,
    rounds: Vec<Round>,
    running: bool,
    manage: bool,
    colleagues: Vec<(i64, String)>,
    title: String,
    errors: FormErrors,
    notice: Option<String>,
}

/// The award forms' fields, by their labels; per round as `nominee-<id>`…
const AWARD_LABELS: Labels = Labels(&[
    ("title", "Title"),
    ("nominee", "Nominate"),
    ("reason", "Why"),
    ("winner", "On a tie, the winner"),
]);

/// The vote's one field, by its label.
const VOTE_LABELS: Labels = Labels(&[("nominee", "Your vote")]);

async fn awards_page(
    app: &AppState,
    me: &CurrentPerson,
    layout: Layout,
    title: String,
    // The round whose form was sent, when it was one, and its labels.
    round: Option<(i64, Labels)>,
    outcome: Result<Option<String>, AppError>,
) -> Result<Response, AppError> {
    let (status, errors, notice) = match Mistake::split(outcome)? {
        Ok(notice) => (axum::http::StatusCode::OK, FormErrors::default(), notice),
        Err(mistake) => {
            let labels = round.map_or(AWARD_LABELS, |(_, l)| l);
            let mut errors = FormErrors::of(&mistake, labels);
            if let Some((id, _)) = round {
                for field in ["nominee", "reason", "winner"] {
                    errors = errors.moved(field, &format!("{field}-{id}"));
                }
            }
            (mistake.status, errors, None)
        }
    };
    let rounds = awards::rounds(app, &me.actor).await?;
    let dir = crate::org::service::directory(&app.db, me.actor.org_id).await?;
    let colleagues = service::choices_for(&dir, &me.actor);
    Ok(render_with(
        status,
        &AwardsPage {
            layout,
            running: rounds.iter().any(|r| r.phase != awards::Phase::Closed),
            rounds,
            manage: me.actor.can(Permission::ManageRecognition),
            colleagues,
            title,
            errors,
            notice,
        },
    ))
}

async fn show_awards(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, AppError> {
    let notice = match q.notice.as_str() {
        "opened" => Some("Nominations are open."),
        "nominated" => Some("Your nomination is in."),
        "voting" => Some("The vote is open."),
        "voted" => Some("Your vote is in. It is secret."),
        "closed" => Some("The vote is closed; the winner is on the thank-you board."),
        _ => None,
    };
    awards_page(&app, &me, layout, String::new(), None, Ok(notice.map(str::to_owned))).await
}

/// A round's form done: back to the rounds, saying what happened (post,
/// redirect, get); refused: the page again with the problems.
async fn round_done(
    app: &AppState,
    me: &CurrentPerson,
    layout: Layout,
    title: String,
    round: Option<(i64, Labels)>,
    outcome: Result<&'static str, AppError>,
) -> Result<Response, AppError> {
    match outcome {
        Ok(notice) => Ok(Redirect::to(&format!("/thanks/awards?notice={notice}")).into_response()),
        Err(e) => awards_page(app, me, layout, title, round, Err(e)).await,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RoundForm {
    title: String,
}

async fn open_round(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Form(form): Form<RoundForm>,
) -> Result<Response, AppError> {
    let outcome = awards::open(&app, &me.actor, &form.title).await.map(|_| "opened");
    round_done(&app, &me, layout, form.title, None, outcome).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NominateForm {
    nominee: String,
    reason: String,
    winner: String,
    confirm: String,
}

async fn nominate(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Path(id): Path<String>,
    Form(form): Form<NominateForm>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let outcome = awards::nominate(&app, &me.actor, id, &form.nominee, &form.reason)
        .await
        .map(|_| "nominated");
    round_done(&app, &me, layout, String::new(), Some((id, AWARD_LABELS)), outcome).await
}

async fn start_vote(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let outcome = awards::start_vote(&app, &me.actor, id).await.map(|_| "voting");
    round_done(&app, &me, layout, String::new(), Some((id, AWARD_LABELS)), outcome).await
}

async fn vote(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Path(id): Path<String>,
    Form(form): Form<NominateForm>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let outcome = awards::vote(&app, &me.actor, id, &form.nominee).await.map(|_| "voted");
    round_done(&app, &me, layout, String::new(), Some((id, VOTE_LABELS)), outcome).await
}

async fn close_round(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Path(id): Path<String>,
    Form(form): Form<NominateForm>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    if form.confirm != "yes" {
        awards::may_close(&app, &me.actor, id).await?;
        return Ok(Confirm::new(
            layout,
            "Close this vote?",
            format!("/thanks/awards/{id}/close"),
            "/thanks/awards",
        )
        .saying("Nobody can vote any more, and the winner is announced on the thank-you board.")
        .saying("This cannot be undone.")
        .carrying("winner", form.winner)
        .button("Close the vote")
        .page());
    }
    let outcome = awards::close(&app, &me.actor, id, &form.winner).await.map(|_| "closed");
    round_done(&app, &me, layout, String::new(), Some((id, AWARD_LABELS)), outcome).await
}

#[derive(Template)]
#[template(path = "recognition/templates/home_card.html")]
struct HomeCard {
    thanks: Vec<service::Received>,
    more: usize,
}

/// The home page's part: the thank-yous the person received this month,
/// and for owners the set-up steps of recognition (the values thanks are
/// tied to, the chat channel they are posted in).
pub async fn home(app: &crate::app::App, actor: &crate::auth::Actor) -> Result<crate::module::Home, AppError> {
    let mut thanks = service::received_lately(app, actor).await?;
    let mut cards = Vec::new();
    if !thanks.is_empty() {
        let more = thanks.len().saturating_sub(3);
        thanks.truncate(3);
        cards.push(HomeCard { thanks, more }.render().map_err(AppError::internal)?);
    }
    let mut steps = Vec::new();
    if actor.role == crate::auth::Role::Owner {
        steps.push(crate::module::Step {
            place: 30,
            text: "Name your company values, so thank-yous can say which one they honour",
            href: "/thanks/values",
            done: !service::values(app, actor.org_id).await?.is_empty(),
        });
        steps.push(crate::module::Step {
            place: 50,
            text: "Connect Slack or Microsoft Teams, so each thank-you is posted there too",
            href: "/thanks/values#hook-h",
            done: service::webhook(app, actor.org_id).await?.is_some(),
        });
    }
    Ok(crate::module::Home {
        cards,
        steps,
        ..crate::module::Home::default()
    })
}
