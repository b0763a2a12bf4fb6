//! Sign-in, sign-out and password change pages.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::app::AppState;
use crate::auth::password::{self, Password};
use crate::auth::{session, throttle};
use crate::error::{AppError, FieldError};
use crate::limits;
use crate::web::middleware::{cookie, cookie_header};
use crate::web::{
    ClientIp, Confirm, Confirmed, CurrentPerson, Form, FormErrors, Labels, Layout, Query, render, render_with, too_many,
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/signin", get(show_sign_in).post(sign_in))
        .route("/signin/link", axum::routing::post(request_link))
        .route("/signin/link/{token}", get(show_link).post(use_link))
        .route("/signout", axum::routing::post(sign_out))
        .route("/account/password", get(show_change_password).post(change_password))
        .route("/account/tokens", get(show_tokens).post(create_token))
        .route("/account/tokens/{id}/revoke", axum::routing::post(revoke_token))
        .route("/account/tokens/revoke-all", axum::routing::post(revoke_all_tokens))
}

#[derive(Template, Default)]
#[template(path = "account/templates/signin.html")]
struct SignInPage {
    layout: Layout,
    org: String,
    email: String,
    errors: FormErrors,
    notice: Option<String>,
    next: String,
}

/// The sign-in page's fields, by their labels (the link form's are
/// `link-org` and `link-email`).
const SIGN_IN_LABELS: Labels = Labels(&[
    ("org", "Organization"),
    ("email", "Email"),
    ("password", "Password"),
    ("link-org", "Organization"),
    ("link-email", "Email"),
]);

#[derive(Deserialize, Default)]
#[serde(default)]
struct SignInQuery {
    org: String,
    next: String,
}

async fn show_sign_in(
    State(app): State<AppState>,
    layout: Layout,
    Query(q): Query<SignInQuery>,
) -> Result<Response, AppError> {
    // An empty installation has nobody to sign in: it is set up first.
    if crate::auth::accounts::no_org_yet(&app.db).await? {
        return Ok(Redirect::to("/setup").into_response());
    }
    let org = if q.org.is_empty() {
        crate::auth::accounts::only_org_slug(&app.db).await?.unwrap_or_default()
    } else {
        q.org
    };
    Ok(render(&SignInPage {
        layout,
        org,
        next: after_sign_in(&q.next).to_owned(),
        ..Default::default()
    }))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SignInForm {
    org: String,
    email: String,
    password: String,
    /// The page asked for before signing in.
    next: String,
}

/// Where a sign-in goes: the page asked for, when it is a page of this
/// server (never another site, never the sign-in pages themselves).
fn after_sign_in(next: &str) -> &str {
    crate::web::local_path(next)
        .filter(|p| !p.starts_with("/signin") && !p.starts_with("/signout"))
        .unwrap_or("/")
}

async fn sign_in(
    State(app): State<AppState>,
    ClientIp(client): ClientIp,
    headers: axum::http::HeaderMap,
    layout: Layout,
    Form(form): Form<SignInForm>,
) -> Result<Response, AppError> {
    let again_with = |status: StatusCode, errors: FormErrors| {
        render_with(
            status,
            &SignInPage {
                layout: layout.clone(),
                org: form.org.clone(),
                email: form.email.clone(),
                errors,
                notice: None,
                next: form.next.clone(),
            },
        )
    };
    let again = |status: StatusCode, error: &str| again_with(status, FormErrors::whole(error));
    let email_key = form.email.trim().to_lowercase();
    let slug = form.org.trim().to_lowercase();
    let mut problems = Vec::new();
    if slug.is_empty() {
        problems.push(FieldError::new("org", "enter your organization's short name"));
    }
    if email_key.is_empty() {
        problems.push(FieldError::new("email", "enter your email address"));
    } else if crate::shared::Email::parse(&email_key).is_err() {
        problems.push(FieldError::new(
            "email",
            "this is not an email address; write it as name@company.example",
        ));
    }
    if form.password.is_empty() {
        problems.push(FieldError::new("password", "enter your password"));
    }
    if !problems.is_empty() {
        let errors = FormErrors::found(&problems, SIGN_IN_LABELS);
        return Ok(again_with(StatusCode::UNPROCESSABLE_ENTITY, errors));
    }

    let account = crate::auth::accounts::find(&app.db, &slug, &email_key).await?;
    let org_id = account.org_id;
    // Counted before the password is hashed, in one step: parallel guesses
    // get no further than guesses in a row, and a refused one costs no
    // argon2 work at all.
    let account_throttle = throttle::account(org_id, &email_key);
    let address_throttle = throttle::address(client);
    let throttles = [account_throttle.clone(), address_throttle.clone()];
    if let Err(retry_after) = limits::attempt(&app.db, &throttles, app.now()).await? {
        return Ok(too_many(
            again(
                StatusCode::TOO_MANY_REQUESTS,
                &format!("Too many failed attempts. {}", throttle::wait_words(retry_after)),
            ),
            retry_after,
        ));
    }

    let (person_id, hash, must_change) = (account.person_id, account.password_hash, account.must_change_password);
    let ok = match password::verify(form.password.clone(), hash).await {
        Ok(ok) => ok,
        Err(busy) => {
            // Never evaluated: it does not count against anyone.
            for t in &throttles {
                limits::give_back(&app.db, t).await?;
            }
            return Ok(too_many(again(StatusCode::TOO_MANY_REQUESTS, &format!("{busy}.")), 2));
        }
    };
    let Some(person_id) = person_id.filter(|_| ok) else {
        tracing::info!("sign-in refused");
        return Ok(again(
            StatusCode::UNAUTHORIZED,
            "That organization, email and password do not match an active account.",
        ));
    };
    limits::forget(&app.db, &account_throttle.key).await?;
    limits::give_back(&app.db, &address_throttle).await?;
    // A new sign-in is a new session: whatever session this browser had
    // (perhaps planted, perhaps someone else's) ends here.
    if let Some(old) = cookie(&headers, session::COOKIE) {
        session::end(&app.db, old).await?;
    }
    let token = session::start(&app.db, org_id, person_id, app.now(), app.settings.session_hours).await?;
    let cookie = cookie_header(&app, session::COOKIE, &token, Some(app.settings.session_hours * 3600));
    let to = if must_change {
        "/account/password"
    } else {
        after_sign_in(&form.next)
    };
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to(to)).into_response())
}

async fn sign_out(State(app): State<AppState>, headers: axum::http::HeaderMap) -> Result<Response, AppError> {
    if let Some(token) = cookie(&headers, session::COOKIE) {
        session::end(&app.db, token).await?;
    }
    let gone = cookie_header(&app, session::COOKIE, "", Some(0));
    Ok(([(header::SET_COOKIE, gone)], Redirect::to("/signin")).into_response())
}

#[derive(Template, Default)]
#[template(path = "account/templates/password.html")]
struct PasswordPage {
    layout: Layout,
    forced: bool,
    errors: FormErrors,
    done: bool,
    /// After a change: the person's API tokens still live, offered for
    /// revoking.
    live_tokens: usize,
}

/// The password form's fields, by their labels.
const PASSWORD_LABELS: Labels = Labels(&[
    ("current", "Current password"),
    ("new", "New password"),
    ("confirm", "New password again"),
]);

#[derive(Deserialize, Default)]
#[serde(default)]
struct ChangedQuery {
    /// "yes" after a change (post, redirect, get).
    changed: String,
}

async fn show_change_password(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Query(q): Query<ChangedQuery>,
) -> Result<Response, AppError> {
    let done = q.changed == "yes" && !me.session.must_change_password;
    // After a change: the API tokens still live, which it did not end.
    let live_tokens = match done {
        true => crate::auth::tokens::list(&app.db, me.actor.org_id, me.actor.person_id)
            .await?
            .iter()
            .filter(|t| t.revoked_at.is_none())
            .count(),
        false => 0,
    };
    Ok(render(&PasswordPage {
        layout,
        forced: me.session.must_change_password,
        done,
        live_tokens,
        ..Default::default()
    }))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PasswordForm {
    current: String,
    new: String,
    confirm: String,
}

async fn change_password(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    headers: axum::http::HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Result<Response, AppError> {
    let forced = me.session.must_change_password;
    let again = |problems: &[FieldError]| {
        render_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            &PasswordPage {
                layout: layout.clone(),
                forced,
                errors: FormErrors::found(problems, PASSWORD_LABELS),
                done: false,
                live_tokens: 0,
            },
        )
    };
    // The new password's own rules first, so that every problem shows at
    // once, whatever the current password turns out to be.
    let mut problems = Vec::new();
    let new =
        Password::parse(&form.new).map_err(|e| problems.push(FieldError::new("new", format!("The new password {e}."))));
    if new.is_ok() && form.new == form.current {
        problems.push(FieldError::new(
            "new",
            "Choose a password different from the current one.",
        ));
    }
    if form.new != form.confirm {
        problems.push(FieldError::new("confirm", "The two new passwords differ."));
    }
    if form.current.is_empty() {
        // Not a guess: nothing to check, nothing counted.
        problems.insert(0, FieldError::new("current", "Enter your current password."));
        return Ok(again(&problems));
    }
    let stored = crate::auth::accounts::password_hash(&app.db, me.actor.org_id, me.actor.person_id).await?;
    let guesses = throttle::current_password(me.actor.org_id, me.actor.person_id);
    if let Err(retry_after) = limits::attempt(&app.db, std::slice::from_ref(&guesses), app.now()).await? {
        let message = format!("Too many wrong passwords. {}", throttle::wait_words(retry_after));
        return Ok(too_many(again(&[FieldError::new("current", message)]), retry_after));
    }
    match password::verify(form.current.clone(), stored).await {
        Ok(true) => limits::forget(&app.db, &guesses.key).await?,
        Ok(false) => problems.insert(0, FieldError::new("current", "This is not your current password.")),
        Err(busy) => {
            limits::give_back(&app.db, &guesses).await?;
            return Ok(too_many(again(&[FieldError::new("current", format!("{busy}."))]), 2));
        }
    }
    let Ok(new) = new else { return Ok(again(&problems)) };
    if !problems.is_empty() {
        return Ok(again(&problems));
    }
    let hash = password::hash(&new).await;
    crate::auth::accounts::set_password_hash(&app.db, me.actor.org_id, me.actor.person_id, &hash, app.now()).await?;
    // Sessions elsewhere may belong to whoever knew the old password.
    session::end_all_for(
        &app.db,
        me.actor.org_id,
        me.actor.person_id,
        cookie(&headers, session::COOKIE),
    )
    .await?;
    Ok(Redirect::to("/account/password?changed=yes").into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LinkRequestForm {
    org: String,
    email: String,
}

async fn request_link(
    State(app): State<AppState>,
    ClientIp(client): ClientIp,
    layout: Layout,
    Form(form): Form<LinkRequestForm>,
) -> Result<Response, AppError> {
    let slug = form.org.trim().to_lowercase();
    let email_key = form.email.trim().to_lowercase();
    let page = |status: StatusCode, errors: FormErrors, notice: Option<String>| {
        render_with(
            status,
            &SignInPage {
                layout: layout.clone(),
                org: form.org.clone(),
                email: form.email.clone(),
                errors,
                notice,
                next: String::new(),
            },
        )
    };
    let mut problems = Vec::new();
    if slug.is_empty() {
        problems.push(FieldError::new("link-org", "enter your organization's short name"));
    }
    if crate::shared::Email::parse(&email_key).is_err() {
        problems.push(FieldError::new("link-email", "enter the email address you work with"));
    }
    if !problems.is_empty() {
        let errors = FormErrors::found(&problems, SIGN_IN_LABELS);
        return Ok(page(StatusCode::UNPROCESSABLE_ENTITY, errors, None));
    }
    for bucket in throttle::link_buckets(&slug, &email_key, client) {
        if let Err(retry_after) = limits::take(&app.db, &bucket, app.now()).await? {
            let message = format!("Too many links asked for. {}", throttle::wait_words(retry_after));
            return Ok(too_many(
                page(StatusCode::TOO_MANY_REQUESTS, FormErrors::whole(message), None),
                retry_after,
            ));
        }
    }
    let link = crate::auth::magic::request(&app, &slug, &email_key).await?;
    if let Some(link) = link
        && app.settings.demo
        && !app.mailer.is_on()
    {
        // Demo only: with email off, the console is the mailbox.
        println!("sign-in link for {email_key}: {link}");
    }
    Ok(page(
        StatusCode::OK,
        FormErrors::default(),
        Some("If that address belongs to an active account, a sign-in link is on its way. It works once, within 15 minutes.".into()),
    ))
}

#[derive(Template)]
#[template(path = "account/templates/link.html")]
struct LinkPage {
    layout: Layout,
    token: String,
    error: Option<String>,
}

/// The link itself only shows a button: mail scanners that open links
/// must not use up the sign-in.
async fn show_link(layout: Layout, axum::extract::Path(token): axum::extract::Path<String>) -> Response {
    render(&LinkPage {
        layout,
        token,
        error: None,
    })
}

async fn use_link(
    State(app): State<AppState>,
    layout: Layout,
    axum::extract::Path(token): axum::extract::Path<String>,
) -> Result<Response, AppError> {
    let Some((org_id, person_id)) = crate::auth::magic::consume(&app, &token, app.now()).await? else {
        return Ok(render_with(
            StatusCode::GONE,
            &LinkPage {
                layout,
                token,
                error: Some("This sign-in link was used already or has expired. Ask for a new one.".into()),
            },
        ));
    };
    let session = session::start(&app.db, org_id, person_id, app.now(), app.settings.session_hours).await?;
    let cookie = cookie_header(&app, session::COOKIE, &session, Some(app.settings.session_hours * 3600));
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response())
}

#[derive(Template)]
#[template(path = "account/templates/tokens.html")]
struct TokensPage {
    layout: Layout,
    tokens: Vec<TokenRow>,
    new_token: Option<String>,
    errors: FormErrors,
    name: String,
    /// What the action that led here did.
    notice: Option<&'static str>,
}

struct TokenRow {
    id: i64,
    name: String,
    created: String,
    last_used: String,
    revoked: bool,
}

async fn tokens_page(
    app: &AppState,
    me: &CurrentPerson,
    layout: Layout,
    new_token: Option<String>,
    errors: FormErrors,
    name: String,
) -> Result<TokensPage, AppError> {
    let day = |t: jiff::Timestamp| t.strftime("%Y-%m-%d").to_string();
    let tokens = crate::auth::tokens::list(&app.db, me.actor.org_id, me.actor.person_id)
        .await?
        .into_iter()
        .map(|t| TokenRow {
            id: t.id,
            name: t.name,
            created: day(t.created_at),
            last_used: t.last_used_at.map(day).unwrap_or_else(|| "never".into()),
            revoked: t.revoked_at.is_some(),
        })
        .collect();
    Ok(TokensPage {
        layout,
        tokens,
        new_token,
        errors,
        name,
        notice: None,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NoticeQuery {
    notice: String,
}

async fn show_tokens(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, AppError> {
    let mut page = tokens_page(&app, &me, layout, None, FormErrors::default(), String::new()).await?;
    if q.notice == "revoked" {
        page.notice = Some("Revoked: programs using it are refused from now on.");
    }
    Ok(render(&page))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TokenForm {
    name: String,
}

async fn create_token(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Form(form): Form<TokenForm>,
) -> Result<Response, AppError> {
    let name = match crate::auth::tokens::parse_name(&form.name) {
        Ok(n) => n,
        Err(e) => {
            let errors = FormErrors::found(&[FieldError::new("name", e)], Labels(&[("name", "Name")]));
            let page = tokens_page(&app, &me, layout, None, errors, form.name).await?;
            return Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page));
        }
    };
    let secret = crate::auth::tokens::create(&app.db, me.actor.org_id, me.actor.person_id, &name, app.now()).await?;
    let mut response =
        render(&tokens_page(&app, &me, layout, Some(secret), FormErrors::default(), String::new()).await?);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, "no-store".parse().expect("static header"));
    Ok(response)
}

async fn revoke_token(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    axum::extract::Path(id): axum::extract::Path<String>,
    Form(form): Form<Confirmed>,
) -> Result<Response, AppError> {
    let id = crate::web::parse_id(&id)?;
    if !form.given() {
        return Ok(Confirm::new(
            layout,
            "Revoke this API token?",
            format!("/account/tokens/{id}/revoke"),
            "/account/tokens",
        )
        .saying("Every program using it is refused from now on.")
        .saying("A revoked token cannot be turned back on; you can make a new one.")
        .button("Revoke it")
        .danger()
        .page());
    }
    if !crate::auth::tokens::revoke(&app.db, me.actor.org_id, me.actor.person_id, id, app.now()).await? {
        return Err(AppError::NotFound);
    }
    Ok(Redirect::to("/account/tokens?notice=revoked").into_response())
}

/// Revokes every API token of the signed-in person (offered after a
/// password change: a token made by whoever knew the old password
/// survives the change otherwise).
async fn revoke_all_tokens(
    State(app): State<AppState>,
    me: CurrentPerson,
    layout: Layout,
    Form(form): Form<Confirmed>,
) -> Result<Response, AppError> {
    if !form.given() {
        return Ok(Confirm::new(
            layout,
            "Revoke all your API tokens?",
            "/account/tokens/revoke-all",
            "/account/tokens",
        )
        .saying("Every program using one of your tokens is refused from now on.")
        .button("Revoke them all")
        .danger()
        .page());
    }
    crate::auth::tokens::revoke_all(&app.db, me.actor.org_id, me.actor.person_id, app.now()).await?;
    Ok(Redirect::to("/account/tokens?notice=revoked").into_response())
}
