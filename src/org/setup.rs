//! Setting up an empty installation from the browser: the first visit
//! creates the organization and its owner, once. Whoever can reach the
//! server first must not be the one who owns it, so the form asks for a
//! setup code that exists only in the server's memory and on the console
//! where it was started (`belong serve` prints it); it changes at every
//! start and the page is gone once an organization exists.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use super::model::{Email, OrgName, PersonName, TimeZoneName};
use super::service;
use crate::app::AppState;
use crate::auth::password::Password;
use crate::auth::session;
use crate::error::{AppError, FieldError};
use crate::limits::Bucket;
use crate::web::middleware::cookie_header;
use crate::web::{Form, FormErrors, Labels, Layout, Mistake, render, render_with, too_many};

/// The code the set-up form asks for: random, made at start, in memory.
#[derive(Clone)]
pub struct SetupCode(String);

impl SetupCode {
    pub fn new() -> SetupCode {
        use rand::Rng;
        // No 0/O, 1/I/L: it is read off a console and typed.
        const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
        let mut rng = rand::thread_rng();
        let mut code: String = (0..8)
            .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
            .collect();
        code.insert(4, '-');
        SetupCode(code)
    }

    /// The code as printed: "ABCD-EFGH".
    pub fn shown(&self) -> &str {
        &self.0
    }

    /// Whether `typed` is the code, in any case, with or without its dash
    /// or spaces.
    fn matches(&self, typed: &str) -> bool {
        let plain = |s: &str| -> String {
            s.chars()
                .filter(char::is_ascii_alphanumeric)
                .map(|c| c.to_ascii_uppercase())
                .collect()
        };
        crate::auth::hash_token(&plain(typed)) == crate::auth::hash_token(&plain(&self.0))
    }
}

impl Default for SetupCode {
    fn default() -> SetupCode {
        SetupCode::new()
    }
}

/// Set-up tries from anyone at all: a few a minute, so the code cannot
/// be guessed (31^8 codes).
const TRIES: i64 = 10;
const TRY_EVERY_MS: i64 = 60_000;

pub fn routes() -> Router<AppState> {
    Router::new().route("/setup", get(show).post(set_up))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SetupForm {
    code: String,
    org_name: String,
    name: String,
    email: String,
    password: String,
    confirm: String,
    time_zone: String,
}

/// The set-up form's fields, by their labels, in its order.
const SETUP_LABELS: Labels = Labels(&[
    ("code", "Setup code"),
    ("org_name", "Organization name"),
    ("name", "Your name"),
    ("email", "Your email"),
    ("password", "Password"),
    ("confirm", "Password again"),
    ("time_zone", "Time zone"),
]);

#[derive(Template)]
#[template(path = "org/templates/setup.html")]
struct SetupPage {
    layout: Layout,
    form: SetupForm,
    errors: FormErrors,
    zones: &'static [String],
    min_password: usize,
}

/// Nothing to set up once an organization exists: the page is gone.
async fn still_empty(app: &AppState) -> Result<(), AppError> {
    match service::count_orgs(&app.db).await? {
        0 => Ok(()),
        _ => Err(AppError::NotFound),
    }
}

fn page(layout: Layout, mut form: SetupForm, errors: FormErrors) -> SetupPage {
    // Passwords are never sent back.
    form.password.clear();
    form.confirm.clear();
    SetupPage {
        layout,
        form,
        errors,
        zones: crate::shared::zones::time_zones(),
        min_password: crate::auth::password::MIN_LENGTH,
    }
}

async fn show(State(app): State<AppState>, layout: Layout) -> Result<Response, AppError> {
    still_empty(&app).await?;
    let form = SetupForm {
        time_zone: crate::shared::zones::server_zone(),
        ..SetupForm::default()
    };
    Ok(render(&page(layout, form, FormErrors::default())))
}

/// `parsed`, its problem noted against `field`.
fn noted<T>(problems: &mut Vec<FieldError>, field: &'static str, parsed: Result<T, String>) -> Result<T, ()> {
    parsed.map_err(|e| problems.push(FieldError::new(field, e)))
}

async fn set_up(
    State(app): State<AppState>,
    layout: Layout,
    Form(form): Form<SetupForm>,
) -> Result<Response, AppError> {
    still_empty(&app).await?;
    let tries = Bucket::new("setup", TRIES, TRY_EVERY_MS);
    if let Err(retry_after) = app.memory_limits.take(&tries, app.now()) {
        let e = AppError::TooManyRequests { retry_after };
        let refused = page(layout, form, FormErrors::whole(e.to_string()));
        return Ok(too_many(render_with(e.status(), &refused), retry_after));
    }
    let mut problems = Vec::new();
    let code = app.part::<SetupCode>();
    if form.code.trim().is_empty() {
        problems.push(FieldError::new(
            "code",
            "enter the code printed where belong was started",
        ));
    } else if !code.matches(&form.code) {
        problems.push(FieldError::new(
            "code",
            "this is not the code printed where belong was started; look there again (it changes at every start)",
        ));
    }
    let org_name = noted(&mut problems, "org_name", OrgName::parse(&form.org_name));
    let name = noted(&mut problems, "name", PersonName::parse(&form.name));
    let email = noted(&mut problems, "email", Email::parse(&form.email));
    let password = noted(
        &mut problems,
        "password",
        Password::parse(&form.password).map_err(|e| format!("the password {e}")),
    );
    let time_zone = noted(&mut problems, "time_zone", TimeZoneName::parse(&form.time_zone));
    if form.password != form.confirm {
        problems.push(FieldError::new("confirm", "the two passwords differ"));
    }
    let (Ok(org_name), Ok(name), Ok(email), Ok(password), Ok(time_zone), true) =
        (org_name, name, email, password, time_zone, problems.is_empty())
    else {
        let errors = FormErrors::found(&problems, SETUP_LABELS);
        return Ok(render_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            &page(layout, form, errors),
        ));
    };
    let made = service::set_up_first_org(&app, &org_name, &name, &email, &time_zone, &password).await;
    let (org, owner_id) = match Mistake::split(made)? {
        Ok(made) => made,
        Err(mistake) => {
            let errors = FormErrors::of(&mistake, SETUP_LABELS);
            return Ok(mistake.show(&page(layout, form, errors)));
        }
    };
    // A right code is not a guess: the tries are for guessers.
    app.memory_limits.put_back(&tries);
    tracing::info!("organization set up in the browser");
    let token = session::start(&app.db, org.id, owner_id, app.now(), app.settings.session_hours).await?;
    let cookie = cookie_header(&app, session::COOKIE, &token, Some(app.settings.session_hours * 3600));
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response())
}
