//! How the one error type (`crate::error::AppError`) answers over HTTP:
//! a page that names the field, a redirect to sign in, or a logged 500.
//! Internal details are logged, never shown.

use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use crate::error::AppError;

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden | AppError::CsrfMismatch => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::MustChangePassword => StatusCode::SEE_OTHER,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<FormRejection> for AppError {
    fn from(rejection: FormRejection) -> AppError {
        match rejection {
            FormRejection::BytesRejection(_) => AppError::TooLarge {
                limit_kib: super::FORM_LIMIT / 1024,
            },
            FormRejection::InvalidFormContentType(r) => AppError::UnsupportedMediaType(r.body_text()),
            other => AppError::BadRequest(other.body_text()),
        }
    }
}

impl From<QueryRejection> for AppError {
    fn from(rejection: QueryRejection) -> AppError {
        AppError::BadRequest(rejection.body_text())
    }
}

impl From<MultipartRejection> for AppError {
    fn from(rejection: MultipartRejection) -> AppError {
        AppError::BadRequest(format!("file: {}", rejection.body_text()))
    }
}

#[derive(Template)]
#[template(path = "web/templates/error.html")]
struct ErrorPage {
    status: u16,
    title: &'static str,
    message: String,
    /// What the person can do next, in a sentence.
    next: &'static str,
}

/// The page's heading and next step for an error, in plain words: never
/// an HTTP reason phrase or an internal name.
fn words(error: &AppError) -> (&'static str, &'static str) {
    match error {
        AppError::Invalid { .. } | AppError::BadRequest(_) | AppError::UnsupportedMediaType(_) => (
            "Something in the form needs a change",
            "Go back, correct what is described above and send it again.",
        ),
        AppError::Forbidden => (
            "You cannot do this",
            "Your role does not allow it. If you think it should, ask an owner or HR admin of your organization.",
        ),
        AppError::CsrfMismatch => (
            "This form has expired",
            "Go back, reload the page and send the form again.",
        ),
        AppError::NotFound => (
            "Page not found",
            "The link may be mistyped, or what it pointed to was removed. Start again from the home page.",
        ),
        AppError::Conflict { .. } => (
            "That cannot be done right now",
            "Go back: the page may have changed since you opened it.",
        ),
        AppError::TooLarge { .. } => ("That is too large", "Go back and send something smaller."),
        AppError::TooManyRequests { .. } => (
            "Please wait a moment",
            "Too many tries in a short time. Wait a little, then try again.",
        ),
        AppError::Internal(_) => (
            "Something went wrong on our side",
            "It is logged for whoever runs this server. Try again in a minute; if it keeps happening, tell them.",
        ),
        AppError::Unauthorized | AppError::MustChangePassword => ("Please sign in", "Sign in, then try again."),
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match &self {
            AppError::Unauthorized => return Redirect::to("/signin").into_response(),
            AppError::MustChangePassword => {
                return Redirect::to("/account/password").into_response();
            }
            AppError::Internal(_) => tracing::error!(error = %self.cause().unwrap_or_default(), "request failed"),
            _ => {}
        }
        let status = self.status();
        let (title, next) = words(&self);
        let page = ErrorPage {
            status: status.as_u16(),
            title,
            message: self.to_string(),
            next,
        };
        let body = page.render().unwrap_or_else(|_| self.to_string());
        let mut response = (status, axum::response::Html(body)).into_response();
        if let AppError::TooManyRequests { retry_after } = self
            && let Ok(v) = HeaderValue::from_str(&retry_after.max(1).to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}
