//! The one error type below the edge: what models, services, the policy
//! and the writer return. `web` alone turns it into pages and JSON
//! (`web::error`); the cause of an internal error is kept as its source and
//! logged there, never shown.

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A field's value cannot be used (422). The text is the message
    /// alone: a page names the field by its label (`web::Labels`), the
    /// API by its key, never the key in words a person reads.
    #[error("{message}")]
    Invalid { field: String, message: String },
    /// Several fields of one form cannot be used, all reported at once (422).
    #[error("{}", join_messages(.0))]
    Fields(Vec<FieldError>),
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
    #[error("{message}")]
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
    /// Something failed on our side; the cause is logged, never shown.
    #[error("something went wrong on our side; it has been logged")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
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

    /// An internal error described by `err` (its text becomes the cause).
    pub fn internal(err: impl std::fmt::Display) -> AppError {
        AppError::Internal(err.to_string().into())
    }

    /// The cause of an internal error, with its own causes, for the log.
    pub fn cause(&self) -> Option<String> {
        let AppError::Internal(source) = self else { return None };
        let mut text = source.to_string();
        let mut next = source.source();
        while let Some(e) = next {
            text.push_str(": ");
            text.push_str(&e.to_string());
            next = e.source();
        }
        Some(text)
    }

    /// Every field problem of a form at once: one is [`AppError::Invalid`],
    /// several are [`AppError::Fields`], none is `Ok`.
    pub fn check(errors: Vec<FieldError>) -> Result<(), AppError> {
        if errors.is_empty() {
            Ok(())
        } else {
            Err(AppError::fields(errors))
        }
    }

    /// The field problems found, as one error (one field, or several).
    pub fn fields(mut errors: Vec<FieldError>) -> AppError {
        if errors.len() == 1 {
            let e = errors.remove(0);
            AppError::invalid(e.field, e.message)
        } else {
            AppError::Fields(errors)
        }
    }

    pub fn field(&self) -> Option<&str> {
        match self {
            AppError::Invalid { field, .. } | AppError::Conflict { field, .. } => Some(field),
            AppError::Fields(errors) => errors.first().map(|e| e.field),
            AppError::CsrfMismatch => Some("csrf"),
            _ => None,
        }
    }
}

fn join_messages(errors: &[FieldError]) -> String {
    errors.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join("; ")
}

impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> AppError {
        AppError::Internal(Box::new(err))
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
