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
            AppError::Invalid { .. } | AppError::Fields(_) => StatusCode::UNPROCESSABLE_ENTITY,
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
            FormRejection::InvalidFormContentType(_) => {
                AppError::UnsupportedMediaType("this form must be sent as a web form".into())
            }
            // The rejection's own text may quote what was sent: not shown,
            // not logged.
            _ => AppError::BadRequest("the form could not be read; reload the page and send it again".into()),
        }
    }
}

impl From<QueryRejection> for AppError {
    fn from(_: QueryRejection) -> AppError {
        AppError::BadRequest("the address of this page is not one it understands; go back and try again".into())
    }
}

impl From<MultipartRejection> for AppError {
    fn from(_: MultipartRejection) -> AppError {
        AppError::BadRequest("the upload could not be read; choose the file again and send it".into())
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
        AppError::Invalid { .. }
        | AppError::Fields(_)
        | AppError::BadRequest(_)
        | AppError::UnsupportedMediaType(_) => (
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
            message: super::sentence(&self.to_string()),
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
