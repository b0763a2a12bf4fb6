//! Loads the session once per request and refuses state-changing requests
//! that do not carry the session's CSRF token.
//!
//! Signed-in visitors carry the token stored with their session; visitors
//! who are not signed in (the sign-in form) get a random token in a cookie
//! that the form must echo (double submit).

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{AppError, FORM_LIMIT};
use crate::app::AppState;
use crate::auth::session::{self, Session};
use crate::auth::{constant_time_eq, random_token};

pub const CSRF_COOKIE: &str = "belong_csrf";

/// The token that forms on this page must carry.
#[derive(Clone, Debug)]
pub struct CsrfToken(pub String);

pub async fn session_and_csrf(State(app): State<AppState>, req: Request, next: Next) -> Response {
    // The API authenticates with bearer tokens only, never cookies, so
    // cross-site forms cannot ride on it and it needs no CSRF token.
    let is_api = req.uri().path().starts_with("/api/");
    // A page asked for without a session is sent to sign in, and back
    // here afterwards.
    let asked = (req.method() == axum::http::Method::GET && !is_api)
        .then(|| req.uri().path_and_query().map(|p| p.as_str().to_owned()))
        .flatten()
        .filter(|p| p != "/");
    let outcome = if is_api {
        Ok((req, None))
    } else {
        check(&app, req).await
    };
    let mut response = match outcome {
        Ok((req, new_cookie)) => {
            let mut response = next.run(req).await;
            if let Some(cookie) = new_cookie {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            response
        }
        Err(e) => e.into_response(),
    };
    if let Some(asked) = asked
        && response.status() == axum::http::StatusCode::SEE_OTHER
        && response.headers().get(header::LOCATION).is_some_and(|l| l == "/signin")
        && let Ok(query) = serde_urlencoded::to_string([("next", asked.as_str())])
        && let Ok(to) = HeaderValue::from_str(&format!("/signin?{query}"))
    {
        response.headers_mut().insert(header::LOCATION, to);
    }
    let headers = response.headers_mut();
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "same-origin"),
        (
            "content-security-policy",
            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
        ),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    // Pages, downloads and API answers hold personal data or results: no
    // browser or proxy keeps a copy. Only the embedded assets say otherwise.
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    // Served behind TLS (secure cookies on): browsers keep to HTTPS. Over
    // plain HTTP browsers ignore the header, so localhost is not affected.
    if app.settings.cookie_secure {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    response
}

async fn check(app: &AppState, req: Request) -> Result<(Request, Option<HeaderValue>), AppError> {
    let session = match cookie(req.headers(), session::COOKIE) {
        Some(token) => session::load(&app.db, token, app.now()).await?,
        None => None,
    };
    let mut new_cookie = None;
    let expected = match &session {
        Some(s) => s.csrf_token.clone(),
        None => match cookie(req.headers(), CSRF_COOKIE) {
            Some(t) if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) => t.to_owned(),
            _ => {
                let t = random_token();
                new_cookie = Some(cookie_header(app, CSRF_COOKIE, &t, None));
                t
            }
        },
    };
    let mut req = if is_safe(req.method()) {
        req
    } else {
        let (supplied, req) = supplied_token(req).await?;
        if !supplied.is_some_and(|s| constant_time_eq(&s, &expected)) {
            return Err(AppError::CsrfMismatch);
        }
        req
    };
    req.extensions_mut().insert(CsrfToken(expected));
    req.extensions_mut().insert::<Option<Session>>(session);
    Ok((req, new_cookie))
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The CSRF token a request carries: the `x-csrf-token` header, or a
/// `csrf` field of its form, urlencoded or multipart (uploads). Never the
/// address: a token there would end up in histories and logs.
async fn supplied_token(req: Request) -> Result<(Option<String>, Request), AppError> {
    if let Some(v) = req.headers().get("x-csrf-token").and_then(|v| v.to_str().ok()) {
        return Ok((Some(v.to_owned()), req));
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if content_type.starts_with("multipart/form-data") {
        return multipart_token(req).await;
    }
    if !content_type.starts_with("application/x-www-form-urlencoded") {
        return Ok((None, req));
    }
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, FORM_LIMIT)
        .await
        .map_err(|_| AppError::TooLarge {
            limit_kib: FORM_LIMIT / 1024,
        })?;
    let token = form_value(&bytes, "csrf");
    Ok((token, Request::from_parts(parts, Body::from(bytes))))
}

/// The `csrf` part of a multipart upload, read from the buffered body
/// (within the upload limit), which is handed on unchanged.
async fn multipart_token(req: Request) -> Result<(Option<String>, Request), AppError> {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, super::UPLOAD_LIMIT)
        .await
        .map_err(|_| AppError::TooLarge {
            limit_kib: super::UPLOAD_LIMIT / 1024,
        })?;
    let mut copy = Request::new(Body::from(bytes.clone()));
    *copy.headers_mut() = parts.headers.clone();
    let mut token = None;
    if let Ok(mut form) = <axum::extract::Multipart as axum::extract::FromRequest<()>>::from_request(copy, &()).await {
        while let Ok(Some(field)) = form.next_field().await {
            if field.name() == Some("csrf") {
                token = field.text().await.ok();
                break;
            }
        }
    }
    Ok((token, Request::from_parts(parts, Body::from(bytes))))
}

fn form_value(encoded: &[u8], name: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(encoded)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// The value of a cookie in the request, if present.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` header: HttpOnly, SameSite=Lax, Secure unless turned off.
/// `max_age` of None makes a browser-session cookie; Some(0) deletes it.
pub fn cookie_header(app: &AppState, name: &str, value: &str, max_age: Option<i64>) -> HeaderValue {
    let mut s = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if app.settings.cookie_secure {
        s.push_str("; Secure");
    }
    if let Some(age) = max_age {
        s.push_str(&format!("; Max-Age={age}"));
    }
    HeaderValue::from_str(&s).expect("cookie names and values are ASCII tokens")
}

/// Under /api/, every error is JSON, whichever layer produced it.
pub async fn api_json_errors(req: Request, next: Next) -> Response {
    if req.uri().path().starts_with("/api/") {
        super::api::json_errors(req, next).await
    } else {
        next.run(req).await
    }
}

/// Runs the rest of the request in a task of its own, so a client that
/// hangs up cannot cancel a unit of work half-way (hyper drops a request's
/// future when its connection closes): what began, finishes, and its
/// transaction commits or rolls back like any other. The request also
/// holds at most one database connection at a time (`db::held`).
pub async fn run_to_completion(req: Request, next: Next) -> Response {
    use tracing::Instrument;
    let span = tracing::Span::current();
    let work = crate::db::one_connection_per_task(next.run(req));
    match tokio::spawn(work.instrument(span)).await {
        Ok(response) => response,
        Err(e) => AppError::internal(format!("request task: {e}")).into_response(),
    }
}
