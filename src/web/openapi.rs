//! The OpenAPI document, made from the API routes the modules declare (each
//! route and its entry come from the same handler), and a human-readable
//! page made from it.

use std::sync::Arc;

use askama::Template;
use axum::Json;
use axum::Router;
use axum::response::Response;
use axum::routing::get;
use serde_json::Value;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::app::AppState;

use super::api::BearerAuth;
use super::{Layout, render};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "belong API",
        version = "1",
        description = "Everything the pages do, for scripts and integrations. Authenticate with \
                       `Authorization: Bearer <token>`; make a token on your account page or with \
                       `belong admin token`. Ids are strings. Errors are \
                       `{\"error\": {\"code\", \"message\", \"field\"}}`."
    ),
    modifiers(&BearerAuth),
    components(schemas(super::api::ErrorBody, super::api::ErrorDetail)),
    tags(
        (name = "me", description = "The calling person"),
        (name = "people", description = "People of the organization"),
        (name = "teams", description = "Teams, which may be nested"),
        (name = "pulse", description = "Anonymous pulses: design, cycles, answers and results through the publication plan"),
    )
)]
struct ApiDoc;

/// The API's routes, its document at `/api/v1/openapi.json` and the page
/// at `/api` that reads it.
pub fn serve(api: OpenApiRouter<AppState>) -> Router<AppState> {
    let (router, doc) = document_of(api);
    let doc = Arc::new(doc);
    let page_doc = doc.clone();
    router
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let doc = doc.clone();
                async move { Json((*doc).clone()) }
            }),
        )
        .route(
            "/api",
            get(move |layout: Layout| {
                let doc = page_doc.clone();
                async move { api_page(layout, &doc) }
            }),
        )
}

/// The routes and the whole document: what this module says of the API as
/// a whole, and every module's operations.
pub fn document_of(api: OpenApiRouter<AppState>) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, operations) = api.split_for_parts();
    let mut doc = ApiDoc::openapi();
    doc.merge(operations);
    (router, doc)
}

struct Operation {
    method: String,
    path: String,
    summary: String,
    description: String,
    params: Vec<String>,
    body: Option<String>,
    responses: Vec<String>,
}

#[derive(Template)]
#[template(path = "web/templates/api.html")]
struct ApiPage {
    layout: Layout,
    description: String,
    operations: Vec<Operation>,
    schemas: Vec<(String, String)>,
}

fn ref_name(v: &Value) -> Option<String> {
    let r = v
        .get("$ref")
        .or_else(|| v.get("items").and_then(|i| i.get("$ref")))?
        .as_str()?;
    let name = r.rsplit('/').next()?.to_owned();
    Some(if v.get("items").is_some() {
        format!("list of {name}")
    } else {
        name
    })
}

fn api_page(layout: Layout, doc: &utoipa::openapi::OpenApi) -> Response {
    let doc = serde_json::to_value(doc).unwrap_or_default();
    let mut operations = Vec::new();
    if let Some(paths) = doc["paths"].as_object() {
        for (path, item) in paths {
            for method in ["get", "post", "patch", "put", "delete"] {
                let Some(op) = item.get(method) else { continue };
                let params = op["parameters"]
                    .as_array()
                    .map(|ps| {
                        ps.iter()
                            .map(|p| {
                                format!(
                                    "{} ({}): {}",
                                    p["name"].as_str().unwrap_or(""),
                                    p["in"].as_str().unwrap_or(""),
                                    p["description"].as_str().unwrap_or("")
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let body = ref_name(&op["requestBody"]["content"]["application/json"]["schema"]);
                let responses = op["responses"]
                    .as_object()
                    .map(|rs| {
                        rs.iter()
                            .map(|(code, r)| {
                                let schema = ref_name(&r["content"]["application/json"]["schema"]).unwrap_or_default();
                                format!("{code} {} {schema}", r["description"].as_str().unwrap_or(""))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                operations.push(Operation {
                    method: method.to_uppercase(),
                    path: path.clone(),
                    summary: op["summary"].as_str().unwrap_or("").to_owned(),
                    description: op["description"].as_str().unwrap_or("").to_owned(),
                    params,
                    body,
                    responses,
                });
            }
        }
    }
    let schemas = doc["components"]["schemas"]
        .as_object()
        .map(|s| {
            s.iter()
                .map(|(name, schema)| (name.clone(), serde_json::to_string_pretty(schema).unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    render(&ApiPage {
        layout,
        description: doc["info"]["description"].as_str().unwrap_or("").to_owned(),
        operations,
        schemas,
    })
}
