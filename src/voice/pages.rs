//! Pages of the feedback box: send, follow with the code, and the inbox.
//!
//! The code never appears in a URL (it would land in browser history and
//! access logs): it travels in POST bodies only, and nothing logs bodies.

use std::net::IpAddr;

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::model::{FeedbackCode, Status};
use super::service::{self, Change, GroupStats, InboxRow, SendInput, ThreadView};
use crate::app::AppState;
use crate::auth::hash_token;
use crate::error::AppError;
use crate::limits::Bucket;
use crate::shared::Pillar;
use crate::web::{
    ClientIp, Confirm, Confirmed, CurrentPerson, Form, FormErrors, Labels, Layout, Mistake, Query, parse_id, render,
    render_with,
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/voice", get(show_box).post(send_message))
        .route("/voice/thread", post(open_thread))
        .route("/voice/thread/reply", post(reply_by_code))
        .route("/voice/inbox", get(show_inbox))
        .route("/voice/digest", post(set_digest))
        .route("/voice/inbox/{id}", get(show_inbox_thread))
        .route("/voice/inbox/{id}/reply", post(reply_in_inbox))
        .route("/voice/inbox/{id}/status", post(set_status))
        .route("/voice/inbox/{id}/assign", post(assign))
        .route("/voice/inbox/{id}/action", post(link_action))
        .route("/voice/inbox/{id}/abusive", post(mark_abusive))
        .route("/voice/inbox/{id}/unhide", post(unhide))
}

/// New threads per session: a few at once, then one every ten minutes.
const SEND_BURST: i64 = 5;
const SEND_EVERY_MS: i64 = 10 * 60_000;
/// Attempts with a code per address, right or wrong: enough to follow a
/// conversation, far too few to guess one.
const CODE_BURST: i64 = 30;
const CODE_EVERY_MS: i64 = 10_000;

#[derive(Template)]
#[template(path = "voice/templates/box.html")]
struct BoxPage {
    layout: Layout,
    teams: Vec<(String, String)>,
    pillars: Vec<(String, &'static str)>,
    form: SendInput,
    /// The code typed into "Follow a conversation", when it was refused.
    code: String,
    errors: FormErrors,
    receives: bool,
    signed_in: bool,
    /// The fewest people a team needs to receive a message itself.
    min_team: usize,
}

async fn box_page(
    app: &AppState,
    me: &CurrentPerson,
    layout: Layout,
    form: SendInput,
    errors: FormErrors,
) -> Result<BoxPage, AppError> {
    let dir = crate::org::service::directory(&app.db, me.actor.org_id).await?;
    let receives = service::receives(&dir, &me.actor);
    let k = crate::org::service::anonymity_k(&mut *app.db.acquire().await?, me.actor.org_id).await?;
    Ok(BoxPage {
        min_team: crate::privacy::rules::feedback_min_team(k),
        layout,
        teams: dir
            .team_choices()
            .into_iter()
            .map(|(id, path)| (id.to_string(), path))
            .collect(),
        pillars: Pillar::BELONGING
            .iter()
            .map(|p| (p.as_str().to_owned(), p.label()))
            .collect(),
        form,
        code: String::new(),
        errors,
        receives,
        signed_in: true,
    })
}

/// Signed in: send and follow. Signed out: follow with a code only, which
/// a sender may prefer (a private window on a device of their own).
async fn show_box(
    State(app): State<AppState>,
    me: Option<CurrentPerson>,
    layout: Layout,
) -> Result<Response, AppError> {
    Ok(render(&any_box_page(&app, me.as_ref(), layout).await?))
}

/// The feedback box for whoever asks: to send and follow when signed in,
/// to follow with a code otherwise.
async fn any_box_page(app: &AppState, me: Option<&CurrentPerson>, layout: Layout) -> Result<BoxPage, AppError> {
    match me {
        Some(me) => box_page(app, me, layout, SendInput::default(), FormErrors::default()).await,
        None => Ok(BoxPage {
            layout,
            teams: Vec::new(),
            pillars: Vec::new(),
            form: SendInput::default(),
            code: String::new(),
            errors: FormErrors::default(),
            receives: false,
            signed_in: false,
            min_team: crate::privacy::rules::FEEDBACK_MIN_TEAM as usize,
        }),
    }
}

/// The feedback box's fields, by their labels.
const BOX_LABELS: Labels = Labels(&[
    ("team", "To"),
    ("pillar", "About"),
    ("topic", "Topic"),
    ("body", "Message"),
    ("code", "Your code"),
]);

/// A conversation page's fields, by their labels.
const THREAD_LABELS: Labels = Labels(&[("body", "Message"), ("sign", "Add my name to this message")]);

/// A recipient's thread page's fields, by their labels.
const INBOX_LABELS: Labels = Labels(&[
    ("body", "Message to the sender"),
    ("status", "Status"),
    ("note", "Closing note"),
    ("assignee", "Who follows it up"),
    ("action", "The action that answers it"),
]);

#[derive(Template)]
#[template(path = "voice/templates/sent.html")]
struct SentPage {
    layout: Layout,
    code: String,
    recipients: String,
    moved_from: Option<String>,
}

async fn send_message(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Form(form): Form<SendInput>,
) -> Result<Response, AppError> {
    // Keyed by the session's CSRF secret, hashed: per session, in memory.
    let sends = Bucket::new(
        format!("voice-send:{}", &hash_token(&me.session.csrf_token)[..24]),
        SEND_BURST,
        SEND_EVERY_MS,
    );
    // In memory: a row naming this session would name the sender.
    if let Err(retry_after) = app.memory_limits.take(&sends, app.now()) {
        let e = AppError::TooManyRequests { retry_after };
        return Ok(render_with(
            e.status(),
            &box_page(&app, &me, layout, form, FormErrors::whole(e.to_string())).await?,
        ));
    }
    match Mistake::split(service::send(&app, &me.actor, &form).await)? {
        Ok(sent) => Ok(render(&SentPage {
            layout,
            code: sent.code.display(),
            recipients: sent.recipients,
            moved_from: sent.moved_from,
        })),
        Err(mistake) => {
            // A refused form sent nothing: it does not count.
            app.memory_limits.put_back(&sends);
            let errors = FormErrors::of(&mistake, BOX_LABELS);
            Ok(mistake.show(&box_page(&app, &me, layout, form, errors).await?))
        }
    }
}

#[derive(Template)]
#[template(path = "voice/templates/thread.html")]
struct ThreadPage {
    layout: Layout,
    thread: ThreadView,
    code: String,
    body: String,
    signed_in: bool,
    errors: FormErrors,
    notice: Option<String>,
}

impl ThreadPage {
    /// The thread as its sender sees it, with an empty reply box.
    fn fresh(
        layout: Layout,
        thread: ThreadView,
        code: &FeedbackCode,
        signed_in: bool,
        notice: Option<&str>,
    ) -> ThreadPage {
        ThreadPage {
            layout,
            thread,
            code: code.display(),
            body: String::new(),
            signed_in,
            errors: FormErrors::default(),
            notice: notice.map(str::to_owned),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CodeForm {
    code: String,
    body: String,
    sign: String,
}

/// Checks the caller's budget of code attempts, then reads the code.
fn take_code(app: &AppState, client: IpAddr, raw: &str) -> Result<FeedbackCode, AppError> {
    let tries = Bucket::new(format!("voice-code:{client}"), CODE_BURST, CODE_EVERY_MS);
    // In memory: a row "this address followed a thread at 10:42" would
    // point at the sender.
    if let Err(retry_after) = app.memory_limits.take(&tries, app.now()) {
        return Err(AppError::TooManyRequests { retry_after });
    }
    FeedbackCode::parse(raw).map_err(|e| AppError::invalid("code", e))
}

/// What a wrong code gets: the same answer whether the code is malformed
/// or simply unknown, and nothing about any thread.
fn unknown_code(e: AppError) -> AppError {
    match e {
        AppError::NotFound | AppError::Invalid { .. } => {
            AppError::invalid("code", "no conversation has this code; check it and try again")
        }
        e => e,
    }
}

async fn open_thread(
    State(app): State<AppState>,
    ClientIp(client): ClientIp,
    me: Option<CurrentPerson>,
    layout: Layout,
    Form(form): Form<CodeForm>,
) -> Result<Response, AppError> {
    let opened = match take_code(&app, client, &form.code) {
        Ok(code) => service::open_by_code(&app, &code).await.map(|thread| (code, thread)),
        Err(e) => Err(e),
    };
    match Mistake::split(opened.map_err(unknown_code))? {
        Ok((code, thread)) => Ok(render(&ThreadPage::fresh(layout, thread, &code, me.is_some(), None))),
        // Back to the code box, the message beside it.
        Err(mistake) => {
            let mut page = any_box_page(&app, me.as_ref(), layout).await?;
            page.errors = FormErrors::of(&mistake, BOX_LABELS);
            page.code = form.code;
            Ok(mistake.show(&page))
        }
    }
}

async fn reply_by_code(
    State(app): State<AppState>,
    ClientIp(client): ClientIp,
    me: Option<CurrentPerson>,
    layout: Layout,
    Form(form): Form<CodeForm>,
) -> Result<Response, AppError> {
    let code = take_code(&app, client, &form.code).map_err(unknown_code)?;
    let sign = match form.sign.as_str() {
        "" => None,
        "yes" => match &me {
            Some(me) => Some(&me.actor),
            None => return Err(THREAD_LABELS.explain(AppError::invalid("sign", "sign in to add your name"))),
        },
        _ => return Err(THREAD_LABELS.explain(AppError::invalid("sign", "tick the box or leave it empty"))),
    };
    match Mistake::split(service::reply_as_sender(&app, &code, &form.body, sign).await).map_err(unknown_code)? {
        Ok(thread) => Ok(render(&ThreadPage::fresh(
            layout,
            thread,
            &code,
            me.is_some(),
            Some("Sent. The recipients get it with the next daily digest."),
        ))),
        Err(mistake) => {
            let thread = service::open_by_code(&app, &code).await.map_err(unknown_code)?;
            Ok(mistake.show(&ThreadPage {
                layout,
                thread,
                code: code.display(),
                body: form.body,
                signed_in: me.is_some(),
                errors: FormErrors::of(&mistake, THREAD_LABELS),
                notice: None,
            }))
        }
    }
}

// --- inbox ------------------------------------------------------------------

#[derive(Template)]
#[template(path = "voice/templates/inbox.html")]
struct InboxPage {
    layout: Layout,
    rows: Vec<InboxRow>,
    stats: Vec<GroupStats>,
    receives: bool,
    statuses: [Status; 4],
    status: String,
    hidden: bool,
    owner: bool,
    digest: String,
    digest_choices: Vec<(String, &'static str)>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct InboxQuery {
    status: String,
    hidden: String,
}

async fn show_inbox(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Query(q): Query<InboxQuery>,
) -> Result<Response, AppError> {
    let status = match q.status.trim() {
        "" => None,
        raw => Some(Status::parse(raw).map_err(|e| INBOX_LABELS.explain(AppError::invalid("status", e)))?),
    };
    let hidden = match q.hidden.as_str() {
        "" | "0" => false,
        "1" => true,
        _ => return Err(AppError::invalid("hidden", "use 1 to list hidden threads")),
    };
    let inbox = service::inbox(&app, &me.actor, status, hidden).await?;
    let digest = service::digest_rule(&app, me.actor.org_id).await?;
    Ok(render(&InboxPage {
        layout,
        rows: inbox.rows,
        stats: inbox.stats,
        receives: inbox.receives,
        statuses: Status::ALL,
        status: status.map(|s| s.as_str().to_owned()).unwrap_or_default(),
        hidden,
        owner: crate::auth::policy::is_owner(me.actor.role),
        digest,
        digest_choices: service::DIGEST_CHOICES
            .iter()
            .map(|(r, l)| ((*r).to_owned(), *l))
            .collect(),
    }))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DigestForm {
    digest: String,
}

async fn set_digest(
    State(app): State<AppState>,
    me: CurrentPerson,
    Form(form): Form<DigestForm>,
) -> Result<Response, AppError> {
    service::set_digest_rule(&app, &me.actor, &form.digest)
        .await
        .map_err(|e| Labels(&[("digest", "Digest")]).explain(e))?;
    Ok(Redirect::to("/voice/inbox").into_response())
}

#[derive(Template)]
#[template(path = "voice/templates/inbox_thread.html")]
struct InboxThreadPage {
    layout: Layout,
    thread: ThreadView,
    assignable: Vec<(i64, String)>,
    /// The actions the recipient reads, to link the thread to: (id, title).
    actions: Vec<(i64, String)>,
    statuses: [Status; 4],
    resolved: Status,
    body: String,
    note: String,
    errors: FormErrors,
}

async fn inbox_thread_page(
    app: &AppState,
    me: &CurrentPerson,
    layout: Layout,
    id: i64,
    refused: Option<Mistake>,
    (body, note): (String, String),
) -> Result<Response, AppError> {
    let status = refused.as_ref().map_or(StatusCode::OK, |m| m.status);
    let errors = refused.map_or_else(FormErrors::default, |m| FormErrors::of(&m, INBOX_LABELS));
    let (thread, assignable) = service::thread_for_recipient(app, &me.actor, id).await?;
    let actions = crate::insights::service::list(app, &me.actor)
        .await?
        .into_iter()
        .map(|a| (a.id, a.title))
        .collect();
    let note = if note.is_empty() {
        thread.closing_note.clone().unwrap_or_default()
    } else {
        note
    };
    Ok(render_with(
        status,
        &InboxThreadPage {
            layout,
            thread,
            assignable,
            actions,
            statuses: Status::ALL,
            resolved: Status::Resolved,
            body,
            note,
            errors,
        },
    ))
}

async fn show_inbox_thread(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    inbox_thread_page(&app, &me, layout, id, None, Default::default()).await
}

/// Applies a change and goes back to the thread; a refused change shows
/// the thread again with the message and what was typed.
async fn apply(
    app: AppState,
    me: CurrentPerson,
    layout: Layout,
    id: &str,
    change: Change,
    typed: (String, String),
) -> Result<Response, AppError> {
    let id = parse_id(id)?;
    match Mistake::split(service::change(&app, &me.actor, id, change).await)? {
        Ok(()) => Ok(Redirect::to(&format!("/voice/inbox/{id}")).into_response()),
        Err(mistake) => inbox_thread_page(&app, &me, layout, id, Some(mistake), typed).await,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ReplyForm {
    body: String,
}

async fn reply_in_inbox(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Path(id): Path<String>,
    Form(form): Form<ReplyForm>,
) -> Result<Response, AppError> {
    let typed = (form.body.clone(), String::new());
    apply(app, me, layout, &id, Change::Reply(form.body), typed).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct StatusForm {
    status: String,
    note: String,
}

async fn set_status(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Path(id): Path<String>,
    Form(form): Form<StatusForm>,
) -> Result<Response, AppError> {
    let typed = (String::new(), form.note.clone());
    let change = Change::Status {
        status: form.status,
        note: form.note,
    };
    apply(app, me, layout, &id, change, typed).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AssignForm {
    assignee: String,
}

async fn assign(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Path(id): Path<String>,
    Form(form): Form<AssignForm>,
) -> Result<Response, AppError> {
    apply(app, me, layout, &id, Change::Assign(form.assignee), Default::default()).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LinkForm {
    action: String,
}

/// Links the thread to the action that answers it (or unlinks it).
async fn link_action(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Path(id): Path<String>,
    Form(form): Form<LinkForm>,
) -> Result<Response, AppError> {
    apply(
        app,
        me,
        layout,
        &id,
        Change::LinkAction(form.action),
        Default::default(),
    )
    .await
}

/// An owner's undo of "hide as abusive", within 30 days.
async fn unhide(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    match Mistake::split(service::unhide(&app, &me.actor, id).await)? {
        Ok(()) => Ok(Redirect::to(&format!("/voice/inbox/{id}")).into_response()),
        Err(mistake) => inbox_thread_page(&app, &me, layout, id, Some(mistake), Default::default()).await,
    }
}

async fn mark_abusive(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Path(raw): Path<String>,
    Form(form): Form<Confirmed>,
) -> Result<Response, AppError> {
    if !form.given() {
        let id = parse_id(&raw)?;
        // Only someone who may act on the thread is asked.
        service::may_change(&app, &me.actor, id).await?;
        let back = format!("/voice/inbox/{id}");
        return Ok(
            Confirm::new(layout, "Hide this thread as abusive?", format!("{back}/abusive"), back)
                .saying("The thread is closed and hidden from the inbox; nobody can reply to it any more.")
                .saying("The sender is told, when they follow it with their code, that the thread is closed.")
                .saying("An owner can undo this within 30 days.")
                .button("Hide it")
                .danger()
                .page(),
        );
    }
    apply(app, me, layout, &raw, Change::MarkAbusive, Default::default()).await
}

#[derive(Template)]
#[template(path = "voice/templates/home_notice.html")]
struct HomeNotice {
    waiting: u32,
}

/// The home page's notice for a recipient: messages waiting for a first
/// answer.
pub async fn home(app: &crate::app::App, actor: &crate::auth::Actor) -> Result<crate::module::Home, AppError> {
    let waiting = service::waiting(app, actor).await?;
    let mut notices = Vec::new();
    if waiting > 0 {
        notices.push(HomeNotice { waiting }.render().map_err(AppError::internal)?);
    }
    Ok(crate::module::Home {
        notices,
        ..crate::module::Home::default()
    })
}
