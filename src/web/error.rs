//! The one error type at the HTTP edge. Internal details are logged, never
//! shown; every client error names what was wrong and, where there is one,
//! the field.

use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A field's value cannot be used (422).
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// The request itself is malformed (400).
    #[error("{0}")]
    BadRequest(String),
    /// The body is not of a type this endpoint reads (415).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Not signed in: pages send the browser to the sign-in form.
    #[error("please sign in")]
    Unauthorized,
    #[error("you are not allowed to do this")]
    Forbidden,
    #[error("this page does not exist, or you cannot see it")]
    NotFound,
    /// The change clashes with what is stored (409).
    #[error("{field}: {message}")]
    Conflict { field: String, message: String },
    #[error("the form expired or came from another site; go back, reload the page and try again")]
    CsrfMismatch,
    #[error("the upload is too large (the limit is {limit_kib} KiB)")]
    TooLarge { limit_kib: usize },
    #[error("too many attempts; try again in {retry_after} seconds")]
    TooManyRequests { retry_after: i64 },
    /// The person must choose a new password before anything else.
    #[error("choose a new password first")]
    MustChangePassword,
    #[error("something went wrong on our side; it has been logged")]
    Internal(String),
}

impl AppError {
    pub fn invalid(field: &str, message: impl Into<String>) -> AppError {
        AppError::Invalid {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    pub fn conflict(field: &str, message: impl Into<String>) -> AppError {
        AppError::Conflict {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    pub fn internal(err: impl std::fmt::Display) -> AppError {
        AppError::Internal(err.to_string())
    }

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

    pub fn field(&self) -> Option<&str> {
        match self {
            AppError::Invalid { field, .. } | AppError::Conflict { field, .. } => Some(field),
            AppError::CsrfMismatch => Some("csrf"),
            _ => None,
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> AppError {
        AppError::Internal(format!("database: {err}"))
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
struct ErrorPage<'a> {
    status: u16,
    title: &'a str,
    message: String,
    field: Option<&'a str>,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match &self {
            AppError::Unauthorized => return Redirect::to("/signin").into_response(),
            AppError::MustChangePassword => {
                return Redirect::to("/account/password").into_response();
            }
            AppError::Internal(detail) => tracing::error!(error = %detail, "request failed"),
            _ => {}
        }
        let status = self.status();
        let page = ErrorPage {
            status: status.as_u16(),
            title: status.canonical_reason().unwrap_or("Error"),
            message: self.to_string(),
            field: self.field(),
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

/// A value that could not be used, and the form field or CSV column it
/// came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &'static str, message: impl Into<String>) -> FieldError {
        FieldError {
            field,
            message: message.into(),
        }
    }
}

impl From<FieldError> for AppError {
    fn from(e: FieldError) -> Self {
        AppError::invalid(e.field, e.message)
    }
}
