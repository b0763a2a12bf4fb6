//! The JSON API's edge: bearer-token authentication, the error format
//! `{"error": {"code", "message", "field"}}` for every 4xx and 5xx, JSON
//! bodies whose rejections use that format, rate limits, and the OpenAPI
//! document generated from the handlers' annotations.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::auth::{Actor, tokens};
use crate::error::AppError;
use crate::limits::{self, Bucket};

/// Requests with a missing or wrong token an address may make per minute.
pub const ANONYMOUS_PER_MINUTE: i64 = 60;

/// The body of every API error.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable: invalid, bad_request, unauthorized,
    /// forbidden, not_found, conflict, too_large, unsupported_media_type,
    /// too_many_requests, internal.
    pub code: String,
    /// For people: what was wrong.
    pub message: String,
    /// The request field at fault, when there is one.
    pub field: Option<String>,
}

/// Every error an API operation can answer with, for the OpenAPI document.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum ApiErrors {
    #[response(status = 400, description = "Malformed request (e.g. invalid JSON)")]
    BadRequest(ErrorBody),
    #[response(status = 401, description = "Missing, unknown or revoked API token")]
    Unauthorized(ErrorBody),
    #[response(status = 403, description = "The token's person may not do this")]
    Forbidden(ErrorBody),
    #[response(status = 404, description = "No such resource in your organization")]
    NotFound(ErrorBody),
    #[response(status = 409, description = "Conflicts with what is stored")]
    Conflict(ErrorBody),
    #[response(status = 413, description = "Body too large")]
    TooLarge(ErrorBody),
    #[response(status = 415, description = "Body is not JSON")]
    UnsupportedMediaType(ErrorBody),
    #[response(status = 422, description = "A field's value cannot be used")]
    Invalid(ErrorBody),
    #[response(status = 429, description = "Too many requests; see Retry-After")]
    TooManyRequests(ErrorBody),
    #[response(status = 500, description = "Server error (logged)")]
    Internal(ErrorBody),
}

/// An [`AppError`] answered as JSON.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(e: E) -> ApiError {
        ApiError(e.into())
    }
}

fn code(e: &AppError) -> &'static str {
    match e {
        AppError::Invalid { .. } | AppError::Fields(_) => "invalid",
        AppError::BadRequest(_) => "bad_request",
        AppError::UnsupportedMediaType(_) => "unsupported_media_type",
        AppError::Unauthorized | AppError::MustChangePassword => "unauthorized",
        AppError::Forbidden | AppError::CsrfMismatch => "forbidden",
        AppError::NotFound => "not_found",
        AppError::Conflict { .. } => "conflict",
        AppError::TooLarge { .. } => "too_large",
        AppError::TooManyRequests { .. } => "too_many_requests",
        AppError::Internal(_) => "internal",
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = self.0;
        let status = match e {
            AppError::Unauthorized | AppError::MustChangePassword => StatusCode::UNAUTHORIZED,
            ref other => other.status(),
        };
        if let Some(cause) = e.cause() {
            tracing::error!(error = %cause, "API request failed");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: code(&e).to_owned(),
                message: match &e {
                    AppError::Invalid { message, .. } | AppError::Conflict { message, .. } => message.clone(),
                    AppError::Fields(errors) => errors.first().map(|e| e.message.clone()).unwrap_or_default(),
                    AppError::Unauthorized => "send a valid API token as `Authorization: Bearer <token>`".into(),
                    other => other.to_string(),
                },
                field: e.field().map(str::to_owned),
            },
        };
        let mut response = (status, axum::Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let AppError::TooManyRequests { retry_after } = e
            && let Ok(v) = HeaderValue::from_str(&retry_after.max(1).to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> AppError {
        match rejection {
            JsonRejection::MissingJsonContentType(r) => AppError::UnsupportedMediaType(r.body_text()),
            JsonRejection::BytesRejection(_) => AppError::TooLarge {
                limit_kib: super::FORM_LIMIT / 1024,
            },
            JsonRejection::JsonDataError(r) => {
                // "Failed to deserialize … target type: name: invalid type …"
                let text = r.body_text();
                let detail = text.split_once("target type: ").map_or(text.as_str(), |(_, d)| d);
                match detail.split_once(": ") {
                    Some((field, message)) if !field.contains(' ') && field != "." => AppError::Invalid {
                        field: field.to_owned(),
                        message: message.to_owned(),
                    },
                    _ => AppError::Invalid {
                        field: "body".into(),
                        message: detail.to_owned(),
                    },
                }
            }
            other => AppError::BadRequest(other.body_text()),
        }
    }
}

/// A JSON answer. Request bodies come in as [`JsonBody`].
pub struct Json<T>(pub T);

/// A JSON request body read but not yet parsed: handlers check the
/// caller's permission first and parse after, so a request that may not
/// be made is refused (403) before its body is judged (422). The body must
/// be a JSON object: serde would otherwise take `[]` for a struct of
/// optional fields.
pub struct JsonBody<T> {
    value: serde_json::Value,
    _type: std::marker::PhantomData<T>,
}

impl<S: Send + Sync, T> axum::extract::FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let axum::Json(value) =
            <axum::Json<serde_json::Value> as axum::extract::FromRequest<S>>::from_request(req, state)
                .await
                .map_err(|e| ApiError(e.into()))?;
        Ok(JsonBody {
            value,
            _type: std::marker::PhantomData,
        })
    }
}

impl<T: serde::de::DeserializeOwned> JsonBody<T> {
    pub fn parse(self) -> Result<T, ApiError> {
        if !self.value.is_object() {
            return Err(ApiError(AppError::Invalid {
                field: "body".into(),
                message: "must be a JSON object".into(),
            }));
        }
        serde_path_to_error::deserialize(self.value).map_err(|e| {
            let path = e.path().to_string();
            let message = e.into_inner().to_string();
            ApiError(AppError::Invalid {
                field: if path.is_empty() || path == "." {
                    "body".into()
                } else {
                    path
                },
                message,
            })
        })
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// Query strings for the API, with API errors.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// The person an API token acts for.
pub struct ApiActor(pub Actor);

impl FromRequestParts<AppState> for ApiActor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, ApiError> {
        let peer = super::client_ip(parts, app);
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        let actor = match bearer {
            Some(token) if !token.is_empty() => tokens::authenticate(&app.db, token, app.now()).await?,
            _ => None,
        };
        let Some(actor) = actor else {
            // Guessing tokens: the whole budget at once, then one a second.
            let guesses = Bucket::new(format!("api-anon:{peer}"), ANONYMOUS_PER_MINUTE, 1000);
            limits::take(&app.db, &guesses, app.now())
                .await?
                .map_err(|retry_after| AppError::TooManyRequests { retry_after })?;
            return Err(AppError::Unauthorized.into());
        };
        // In memory: a bucket row written at every call would time-stamp
        // the person right beside what they did (PRIVACY.md rule 1).
        let budget = Bucket::per_minute(
            format!("api:{}:{}", actor.org_id, actor.person_id),
            i64::from(app.settings.api_per_minute),
        );
        app.memory_limits
            .take(&budget, app.now())
            .map_err(|retry_after| AppError::TooManyRequests { retry_after })?;
        Ok(ApiActor(actor))
    }
}

/// Turns errors of everything under /api (unmatched routes, body limits,
/// extractor rejections that reached the HTML format) into JSON.
pub async fn json_errors(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json || response.status().is_success() {
        return response;
    }
    let status = response.status();
    let error = match status {
        StatusCode::NOT_FOUND => AppError::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => AppError::BadRequest("this method is not allowed here".into()),
        StatusCode::PAYLOAD_TOO_LARGE => AppError::TooLarge {
            limit_kib: super::FORM_LIMIT / 1024,
        },
        s if s.is_server_error() => AppError::Internal("non-JSON server error".into()),
        s => AppError::BadRequest(s.canonical_reason().unwrap_or("bad request").to_owned()),
    };
    let mut json = ApiError(error).into_response();
    *json.status_mut() = status;
    json
}

/// Adds the bearer-token security scheme to the document.
pub struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

/// The form's field names as the JSON body names them.
pub fn renamed(err: AppError, names: &[(&'static str, &'static str)]) -> AppError {
    let name = |f: &str| names.iter().find(|(form, _)| *form == f).map(|(_, json)| *json);
    match err {
        AppError::Invalid { field, message } => AppError::Invalid {
            field: name(&field).map_or(field, str::to_owned),
            message,
        },
        AppError::Conflict { field, message } => AppError::Conflict {
            field: name(&field).map_or(field, str::to_owned),
            message,
        },
        AppError::Fields(list) => AppError::Fields(
            list.into_iter()
                .map(|p| crate::error::FieldError {
                    field: name(p.field).unwrap_or(p.field),
                    message: p.message,
                })
                .collect(),
        ),
        other => other,
    }
}

/// A value whose schema has a pattern (an id, a date, a choice), taken as
/// sent: the forms forgive spaces and read an empty field as none, the API
/// holds to its document.
pub fn exact(field: &str, value: String) -> Result<String, ApiError> {
    if value.is_empty() || value.trim() != value {
        return Err(ApiError(AppError::invalid(
            field,
            "write the value without spaces around it, or leave the field out",
        )));
    }
    Ok(value)
}

pub fn exact_or_none(field: &str, value: Option<String>) -> Result<Option<String>, ApiError> {
    value.map(|v| exact(field, v)).transpose()
}

pub fn path_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse().map_err(|_| ApiError(AppError::NotFound))
}
