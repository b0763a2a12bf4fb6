//! The HTTP edge, a toolkit the modules build on: the layers every request
//! passes (session, CSRF, logs), extractors, page rendering, the embedded
//! assets and the API edge. Which routes exist is decided above the
//! modules, in `crate::modules`.

pub mod api;
mod error;
pub mod middleware;
pub mod openapi;

use std::future::Future;
use std::net::SocketAddr;

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

pub use middleware::CsrfToken;

use crate::app::AppState;
use crate::auth::session::Session;
use crate::auth::{Actor, Permission};
use crate::error::{AppError, FieldError};

/// The largest urlencoded form we read.
pub const FORM_LIMIT: usize = 256 * 1024;
/// The largest upload (CSV files).
pub const UPLOAD_LIMIT: usize = 8 * 1024 * 1024;

/// The application's router: the modules' `routes` (assembled at the
/// composition root), this toolkit's own (health, assets) and the layers
/// every request passes through.
pub fn router(state: AppState, routes: Router<AppState>) -> Router {
    routes
        .route("/healthz", get(healthz))
        .route("/assets/style.css", get(stylesheet))
        .route("/assets/voice.js", get(voice_script))
        .route("/assets/picker.js", get(picker_script))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::session_and_csrf,
        ))
        .layer(axum::middleware::from_fn(middleware::api_json_errors))
        .layer(axum::middleware::from_fn(middleware::run_to_completion))
        .layer(DefaultBodyLimit::max(FORM_LIMIT))
        .layer(
            // Only the method and the matched route's template (never the
            // raw path: it may hold a token; never query strings, bodies or
            // who is asking).
            TraceLayer::new_for_http()
                .make_span_with(|req: &axum::extract::Request| {
                    let route = req
                        .extensions()
                        .get::<axum::extract::MatchedPath>()
                        .map(|m| m.as_str().to_owned())
                        .unwrap_or_else(|| "(no route)".to_owned());
                    tracing::info_span!("request", method = %req.method(), route = %route)
                })
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .with_state(state)
}

/// Serves the app on a bound listener until `shutdown` resolves; requests
/// under way are allowed to finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}

/// 200 only when a write can begin: a server whose database is wedged says
/// so, instead of answering "ok" while every write fails.
async fn healthz(State(app): State<AppState>) -> Response {
    if app.db.can_write(std::time::Duration::from_secs(5)).await {
        (StatusCode::OK, "ok\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response()
    }
}

/// A file compiled into the binary (nothing is loaded from elsewhere).
fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

async fn stylesheet() -> Response {
    asset("text/css; charset=utf-8", include_str!("assets/style.css"))
}

/// The colleague picker's search box (the thank-you form's "Who").
async fn picker_script() -> Response {
    asset("text/javascript; charset=utf-8", include_str!("assets/picker.js"))
}

/// The feedback box's one script: keeping codes on the device.
async fn voice_script() -> Response {
    asset("text/javascript; charset=utf-8", include_str!("assets/voice.js"))
}

async fn not_found() -> AppError {
    AppError::NotFound
}

/// Renders a page template, or a logged 500 if rendering fails.
pub fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(body) => Html(body).into_response(),
        Err(e) => AppError::internal(format!("template: {e}")).into_response(),
    }
}

/// Like [`render`], with another status (422 for a form shown again with
/// its errors).
pub fn render_with(status: StatusCode, template: &impl Template) -> Response {
    let mut response = render(template);
    if response.status() == StatusCode::OK {
        *response.status_mut() = status;
    }
    response
}

/// A page shown again with "429 Too Many Requests" and when to retry.
pub fn too_many(mut response: Response, retry_after: i64) -> Response {
    *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    if let Ok(v) = retry_after.max(1).to_string().parse() {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}

/// A link of the main navigation, declared by a module and shown to those
/// who may use it; `place` orders the links across modules.
#[derive(Clone, Copy, Debug)]
pub struct NavEntry {
    pub place: u16,
    pub label: &'static str,
    pub href: &'static str,
    pub needs: Option<Permission>,
    /// How many things wait there for the person (shown beside the link
    /// when more than none).
    pub badge: Option<BadgeFn>,
}

/// A module's count for its navigation link.
pub type BadgeFn = for<'a> fn(
    &'a crate::app::App,
    &'a Actor,
) -> std::pin::Pin<Box<dyn Future<Output = Result<u32, AppError>> + Send + 'a>>;

/// A link of the navigation as a page shows it.
#[derive(Clone, Debug)]
pub struct NavLink {
    pub label: &'static str,
    pub href: &'static str,
    /// Waiting items, when some.
    pub count: Option<u32>,
}

/// Every module's navigation links in order: an app part, filled at the
/// composition root.
#[derive(Clone, Debug, Default)]
pub struct Nav(pub Vec<NavEntry>);

/// What the page frame shows: who is signed in, the links they may follow
/// and the token forms carry.
#[derive(Clone, Debug, Default)]
pub struct Layout {
    pub csrf: String,
    pub person_name: Option<String>,
    pub org_name: Option<String>,
    pub nav: Vec<NavLink>,
    /// An owner is signed in (pages offer owner-only actions).
    pub owner: bool,
    /// Email is not configured: owners see a banner saying so, since
    /// nothing the product would email reaches anyone.
    pub email_off: bool,
    /// Sign-in links can reach people: email is on, or the demo prints
    /// them on the console.
    pub links_by_email: bool,
}

impl Layout {
    /// The links of the main navigation: the product's pages.
    pub fn main_links(&self) -> Vec<&NavLink> {
        self.nav.iter().filter(|l| !l.href.starts_with("/account")).collect()
    }

    /// The person's own pages (password, API tokens, their data), in the
    /// menu under their name rather than in everyone's top bar.
    pub fn account_links(&self) -> Vec<&NavLink> {
        self.nav.iter().filter(|l| l.href.starts_with("/account")).collect()
    }
}

impl FromRequestParts<AppState> for Layout {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, AppError> {
        let csrf = parts
            .extensions
            .get::<CsrfToken>()
            .map(|t| t.0.clone())
            .unwrap_or_default();
        let session = parts.extensions.get::<Option<Session>>().cloned().flatten();
        Ok(Layout {
            csrf,
            person_name: session.as_ref().map(|s| s.person_name.clone()),
            org_name: session.as_ref().map(|s| s.org_name.clone()),
            owner: session.as_ref().is_some_and(|s| s.actor.can(Permission::ManageOwners)),
            email_off: !app.mailer.is_on(),
            links_by_email: app.mailer.is_on() || app.settings.demo,
            nav: match &session {
                None => Vec::new(),
                Some(s) => {
                    let mut links = Vec::new();
                    for e in app
                        .part::<Nav>()
                        .0
                        .iter()
                        .filter(|e| e.needs.is_none_or(|p| s.actor.can(p)))
                    {
                        let count = match e.badge {
                            Some(badge) => Some(badge(app, &s.actor).await?).filter(|n| *n > 0),
                            None => None,
                        };
                        links.push(NavLink {
                            label: e.label,
                            href: e.href,
                            count,
                        });
                    }
                    links
                }
            },
        })
    }
}

/// The signed-in person. Pages that need one take this; without a session
/// the browser is sent to the sign-in form.
pub struct CurrentPerson {
    pub actor: Actor,
    pub session: Session,
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentPerson {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        let session = parts
            .extensions
            .get::<Option<Session>>()
            .cloned()
            .flatten()
            .ok_or(AppError::Unauthorized)?;
        if session.must_change_password && parts.uri.path() != "/account/password" {
            return Err(AppError::MustChangePassword);
        }
        Ok(CurrentPerson {
            actor: session.actor.clone(),
            session,
        })
    }
}

/// Pages open to everyone that do more for the signed in (the feedback
/// box's follow-up page): `None` without a usable session.
impl<S: Send + Sync> axum::extract::OptionalFromRequestParts<S> for CurrentPerson {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Option<Self>, AppError> {
        match <CurrentPerson as FromRequestParts<S>>::from_request_parts(parts, state).await {
            Ok(me) => Ok(Some(me)),
            Err(AppError::Unauthorized | AppError::MustChangePassword) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// The client's address: the peer, or — when the peer is one of the
/// trusted proxies — the address it forwarded (`--trusted-proxies`).
/// Limits per address use this, so a proxy's clients do not share one
/// budget, and nobody else can pick their address by writing a header.
#[derive(Clone, Copy, Debug)]
pub struct ClientIp(pub std::net::IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, AppError> {
        Ok(ClientIp(client_ip(parts, app)))
    }
}

pub fn client_ip(parts: &Parts, app: &AppState) -> std::net::IpAddr {
    let peer = parts
        .extensions
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map_or(std::net::IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
    let forwarded: Vec<&str> = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    app.settings.trusted_proxies.client(peer, &forwarded)
}

/// `axum::Form` whose rejections use our error page.
#[derive(axum::extract::FromRequest)]
#[from_request(via(axum::Form), rejection(AppError))]
pub struct Form<T>(pub T);

/// `axum::extract::Query` whose rejections use our error page.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct Query<T>(pub T);

/// A redirect target that stays on this site: a path starting with one
/// `/` (not `//`, which browsers read as another host), of visible ASCII
/// only (no control characters, which cannot go in a header), short.
pub fn local_path(raw: &str) -> Option<&str> {
    let ok = raw.starts_with('/')
        && !raw.starts_with("//")
        && !raw.starts_with("/\\")
        && raw.len() <= 2000
        && raw.bytes().all(|b| (0x21..=0x7e).contains(&b) && b != b'\\');
    ok.then_some(raw)
}

/// A text cell for a CSV file, safe to open in a spreadsheet: a cell that
/// starts like a formula (`=`, `+`, `-`, `@`, tab, carriage return) gets
/// a leading apostrophe, so `@SUM(1)` or `+1+1` as a team name is shown,
/// never run. Numbers the product formats itself go in as they are.
pub fn csv_text(raw: &str) -> String {
    match raw.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{raw}"),
        _ => raw.to_owned(),
    }
}

/// Parses a path id; anything that is not one is simply "not found".
pub fn parse_id(raw: &str) -> Result<i64, AppError> {
    raw.parse::<i64>().map_err(|_| AppError::NotFound)
}

/// A mistake the person can fix on the form they sent: values that cannot
/// be used (422) or a clash with what is stored (409). A form's handler
/// shows the form again with it, through [`FormErrors`]; every other error
/// gets the error page. It has no text of its own on purpose: what a person
/// reads names each field by its label, which only the form knows.
#[derive(Debug)]
pub struct Mistake {
    pub status: StatusCode,
    /// Field key and message, in the order found.
    pub errors: Vec<(String, String)>,
}

impl Mistake {
    /// Splits a form's outcome: `Ok(Ok(v))` it worked, `Ok(Err(mistake))`
    /// show the form again, `Err(e)` anything else, for the error page.
    pub fn split<T>(result: Result<T, AppError>) -> Result<Result<T, Mistake>, AppError> {
        match result {
            Ok(v) => Ok(Ok(v)),
            Err(AppError::Invalid { field, message }) => Ok(Err(Mistake {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                errors: vec![(field, message)],
            })),
            Err(AppError::Fields(errors)) => Ok(Err(Mistake {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                errors: errors.into_iter().map(|e| (e.field.to_owned(), e.message)).collect(),
            })),
            Err(AppError::Conflict { field, message }) => Ok(Err(Mistake {
                status: StatusCode::CONFLICT,
                errors: vec![(field, message)],
            })),
            Err(other) => Err(other),
        }
    }

    /// The form shown again: `page`, rendered with this mistake's status.
    pub fn show(&self, page: &impl Template) -> Response {
        render_with(self.status, page)
    }

    /// Whether one of the problems is with `field`.
    pub fn concerns(&self, field: &str) -> bool {
        self.errors.iter().any(|(f, _)| f == field)
    }
}

/// The labels of a form's fields, as the form shows them: field key, label.
/// An error names its field by this label, never by the key.
#[derive(Clone, Copy, Debug)]
pub struct Labels(pub &'static [(&'static str, &'static str)]);

impl Labels {
    pub fn of(&self, field: &str) -> Option<&'static str> {
        self.0.iter().find(|(k, _)| *k == field).map(|(_, l)| *l)
    }

    /// `error` for the error page, its message led by the field's label:
    /// for a form that is not shown again (its fields are hidden or it is
    /// one button), so the page still says which value was wrong.
    pub fn explain(&self, error: AppError) -> AppError {
        let named = |field: &str, message: String| match self.of(field) {
            Some(label) => format!("{label}: {message}"),
            None => message,
        };
        match error {
            AppError::Invalid { field, message } => AppError::Invalid {
                message: named(&field, message),
                field,
            },
            AppError::Conflict { field, message } => AppError::Conflict {
                message: named(&field, message),
                field,
            },
            AppError::Fields(errors) => AppError::Fields(
                errors
                    .into_iter()
                    .map(|e| FieldError::new(e.field, named(e.field, e.message)))
                    .collect(),
            ),
            other => other,
        }
    }
}

/// One problem as a form shows it: beside its field, and in the summary
/// at the top, named by the field's label.
#[derive(Clone, Debug)]
pub struct Shown {
    pub field: String,
    /// `None` when the problem is with the form as a whole.
    pub label: Option<&'static str>,
    pub message: String,
}

/// The problems of a form shown again, looked up by field key.
#[derive(Clone, Debug, Default)]
pub struct FormErrors(pub Vec<Shown>);

impl FormErrors {
    /// The problems of `mistake`, named by the form's `labels`.
    pub fn of(mistake: &Mistake, labels: Labels) -> FormErrors {
        FormErrors::named(mistake.errors.iter().map(|(f, m)| (f.as_str(), m.as_str())), labels)
    }

    /// Problems found by the form's own checks, named by its `labels`.
    pub fn found(errors: &[FieldError], labels: Labels) -> FormErrors {
        FormErrors::named(errors.iter().map(|e| (e.field, e.message.as_str())), labels)
    }

    /// The problems, in the order of the form's fields (the order of
    /// `labels`), so the summary reads as the form does.
    fn named<'a>(problems: impl Iterator<Item = (&'a str, &'a str)>, labels: Labels) -> FormErrors {
        let mut shown: Vec<Shown> = problems
            .map(|(field, message)| Shown {
                field: field.to_owned(),
                label: labels.of(field),
                message: message.to_owned(),
            })
            .collect();
        shown.sort_by_key(|e| labels.0.iter().position(|(k, _)| *k == e.field).unwrap_or(usize::MAX));
        FormErrors(shown)
    }

    /// The problems with `from` shown beside the field `to` instead: for a
    /// page with one such form per row.
    pub fn moved(mut self, from: &str, to: &str) -> FormErrors {
        for e in self.0.iter_mut().filter(|e| e.field == from) {
            e.field = to.to_owned();
        }
        self
    }

    /// The message beside `field`, as a sentence.
    pub fn get(&self, field: &str) -> Option<String> {
        self.0.iter().find(|e| e.field == field).map(|e| sentence(&e.message))
    }

    /// A problem with the form as a whole (too many tries…), said at the
    /// top.
    pub fn whole(message: impl Into<String>) -> FormErrors {
        FormErrors(vec![Shown {
            field: String::new(),
            label: None,
            message: message.into(),
        }])
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether a problem is with a field of the form (not the whole form).
    pub fn labelled(&self) -> bool {
        self.0.iter().any(|e| e.label.is_some())
    }

    pub fn all(&self) -> &[Shown] {
        &self.0
    }
}

/// `text` with its first letter in capitals, as a sentence starts.
pub fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A form that turns something on or off (`active=true|false`).
#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ActiveForm {
    pub active: String,
}

impl ActiveForm {
    pub fn active(&self) -> Result<bool, AppError> {
        match self.active.as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(AppError::invalid(
                "active",
                "the button sent neither on nor off; reload the page and try again",
            )),
        }
    }
}

/// The page asked before anything final or wide (opening a cycle emails
/// everyone, closing one early makes its results final…): it says what
/// will happen and posts the same form again with `confirm=yes`. Works
/// without JavaScript; the action's handler shows it until confirmed.
#[derive(Template)]
#[template(path = "web/templates/confirm.html")]
pub struct Confirm {
    pub layout: Layout,
    pub title: String,
    /// What confirming does, one plain sentence each.
    pub consequences: Vec<String>,
    /// Where the confirmed form posts (the action itself).
    pub action: String,
    pub button: String,
    /// Where "Cancel" goes.
    pub back: String,
    /// The form's other fields, carried through unchanged.
    pub fields: Vec<(String, String)>,
    /// The button is drawn as a destructive one.
    pub danger: bool,
}

impl Confirm {
    pub fn new(
        layout: Layout,
        title: impl Into<String>,
        action: impl Into<String>,
        back: impl Into<String>,
    ) -> Confirm {
        Confirm {
            layout,
            title: title.into(),
            consequences: Vec::new(),
            action: action.into(),
            button: "Yes, go ahead".into(),
            back: back.into(),
            fields: Vec::new(),
            danger: false,
        }
    }

    pub fn saying(mut self, line: impl Into<String>) -> Confirm {
        self.consequences.push(line.into());
        self
    }

    pub fn button(mut self, label: impl Into<String>) -> Confirm {
        self.button = label.into();
        self
    }

    pub fn carrying(mut self, name: &str, value: impl Into<String>) -> Confirm {
        self.fields.push((name.into(), value.into()));
        self
    }

    pub fn danger(mut self) -> Confirm {
        self.danger = true;
        self
    }

    pub fn page(&self) -> Response {
        render(self)
    }
}

/// The `confirm` field of an action's form: `yes` once the person has
/// seen [`Confirm`] and said so.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct Confirmed {
    pub confirm: String,
}

impl Confirmed {
    pub fn given(&self) -> bool {
        self.confirm == "yes"
    }
}
