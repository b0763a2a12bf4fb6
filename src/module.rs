//! What a module declares to the composition root (`crate::modules`): its
//! pages, its API, its jobs and the parts it keeps in the app. Adding a
//! module is its folder plus its declaration in that root's list.

use std::future::Future;
use std::pin::Pin;

use axum::Router;
use utoipa_axum::router::OpenApiRouter;

use crate::app::{App, AppState};
use crate::auth::Actor;
use crate::error::AppError;
use crate::jobs::Registry;
use crate::web::NavEntry;

pub struct Module {
    pub name: &'static str,
    /// Its pages and forms.
    pub pages: fn() -> Router<AppState>,
    /// Its JSON API: each route with its entry in the OpenAPI document.
    pub api: fn() -> OpenApiRouter<AppState>,
    /// Registers the kinds of background job it runs.
    pub jobs: fn(&mut Registry),
    /// Puts in the app the parts it keeps there (a running service).
    pub parts: fn(&mut axum::http::Extensions),
    /// Seeds its part of the demo organization (whose id it is given).
    pub demo: for<'a> fn(&'a App, i64) -> Seeding<'a>,
    /// Its links in the main navigation.
    pub nav: &'static [NavEntry],
    /// What it shows a person on the home page.
    pub home: HomeFn,
    /// What it stores about a person, for their "My data".
    pub my_data: MyDataFn,
}

pub type HomeFn = for<'a> fn(&'a App, &'a Actor) -> HomeParts<'a>;

/// Every module's home-page hook, in the modules' order: an app part the
/// home page reads, filled at the composition root.
#[derive(Clone, Default)]
pub struct HomeHooks(pub Vec<HomeFn>);

/// A module's part of the home page, each piece rendered by the module's
/// own template: notices above, cards in the grid.
#[derive(Default)]
pub struct Home {
    pub notices: Vec<String>,
    pub cards: Vec<String>,
    /// Its steps of an owner's set-up checklist (only for owners).
    pub steps: Vec<Step>,
}

/// One step of setting up an organization, on its owner's home page
/// until every step is done.
pub struct Step {
    /// Where it sits in the list (lower first).
    pub place: u8,
    pub text: &'static str,
    /// The page where it is done.
    pub href: &'static str,
    pub done: bool,
}

pub type HomeParts<'a> = Pin<Box<dyn Future<Output = Result<Home, AppError>> + Send + 'a>>;

pub type MyDataFn = for<'a> fn(&'a App, &'a Actor) -> MyDataPart<'a>;

pub type MyDataPart<'a> = Pin<Box<dyn Future<Output = Result<MyData, AppError>> + Send + 'a>>;

/// Every module's "My data" hook, in the modules' order (an app part).
#[derive(Clone, Default)]
pub struct MyDataHooks(pub Vec<MyDataFn>);

/// A module's part of "My data" (everything stored about the person):
/// its fields of the JSON download and its section of the page, rendered
/// by the module's own template.
#[derive(Default)]
pub struct MyData {
    pub fields: serde_json::Map<String, serde_json::Value>,
    pub html: String,
}

impl MyData {
    /// The fields of `data` (a struct) for the download, and `section` for
    /// the page.
    pub fn of(data: &impl serde::Serialize, section: &impl askama::Template) -> Result<MyData, AppError> {
        let fields = match serde_json::to_value(data).map_err(AppError::internal)? {
            serde_json::Value::Object(fields) => fields,
            other => return Err(AppError::internal(format!("my data is an object, not {other}"))),
        };
        let html = section.render().map_err(AppError::internal)?;
        Ok(MyData { fields, html })
    }
}

/// Actions done and under way since a moment, for the whole organization
/// and per team: what a pulse's invitation and answer form say in one line.
/// Counted by insights, read by the pulse through [`SinceHook`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Since {
    /// (done, under way) of the organization's own actions.
    pub org: (u32, u32),
    /// (done, under way) of each team's actions.
    pub teams: std::collections::HashMap<i64, (u32, u32)>,
}

impl Since {
    /// The line for someone whose team's chain up is `chain` (their team
    /// first), or None when nothing was done or is under way.
    pub fn line(&self, chain: impl Iterator<Item = i64>) -> Option<String> {
        let (mut done, mut doing) = self.org;
        for team in chain {
            if let Some((d, g)) = self.teams.get(&team) {
                done += d;
                doing += g;
            }
        }
        let actions = |n: u32| {
            if n == 1 {
                "1 action".to_owned()
            } else {
                format!("{n} actions")
            }
        };
        let what = match (done, doing) {
            (0, 0) => return None,
            (d, 0) => format!("{} done", actions(d)),
            (0, g) => format!("{} under way", actions(g)),
            (d, g) => format!("{} done and {g} under way", actions(d)),
        };
        Some(format!(
            "Since the last pulse: {what} for your team and the organization, on what the last results showed."
        ))
    }
}

pub type SinceFn = for<'a> fn(&'a mut sqlx::AnyConnection, i64, i64) -> SinceCounting<'a>;

pub type SinceCounting<'a> = Pin<Box<dyn Future<Output = Result<Since, sqlx::Error>> + Send + 'a>>;

/// The counter of [`Since`] (an app part): given a connection, the
/// organization and the moment the last cycle closed.
#[derive(Clone, Copy)]
pub struct SinceHook(pub SinceFn);

pub type EraseFn = for<'a> fn(&'a mut sqlx::AnyConnection, i64, i64) -> Erasing<'a>;

pub type Erasing<'a> = Pin<Box<dyn Future<Output = Result<(), sqlx::Error>> + Send + 'a>>;

/// What each module erases of a leaver when an owner erases their
/// personal data (PRIVACY.md rule 19), in the erasing transaction: given
/// a connection, the organization and the person. An app part, filled by
/// the modules that keep such data.
#[derive(Clone, Default)]
pub struct EraseHooks(pub Vec<EraseFn>);

pub type Seeding<'a> = Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send + 'a>>;

impl Module {
    /// A module with pages only; the other fields are set with `..`.
    pub const fn pages(name: &'static str, pages: fn() -> Router<AppState>) -> Module {
        Module {
            name,
            pages,
            api: OpenApiRouter::default,
            jobs: |_| {},
            parts: |_| {},
            demo: |_, _| Box::pin(async { Ok(()) }),
            nav: &[],
            home: |_, _| Box::pin(async { Ok(Home::default()) }),
            my_data: |_, _| Box::pin(async { Ok(MyData::default()) }),
        }
    }
}
