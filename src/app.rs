//! The application value every handler, job and command works with.

use std::ops::Deref;
use std::sync::Arc;

use jiff::Timestamp;

use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::db::Db;
use crate::notify::email::Mailer;

/// Everything a request needs: the database, the mailer, the clock and
/// the settings.
pub struct App {
    pub db: Db,
    pub mailer: Mailer,
    pub clock: Arc<dyn Clock>,
    pub settings: Settings,
    /// The key sealed answers and secrets hang from (PRIVACY.md rule 1):
    /// read from the key file at start, never stored in the database.
    pub master_key: crate::privacy::seal::MasterKey,
    /// Limits whose keys must not be at rest (see `limits::InMemory`).
    pub memory_limits: crate::limits::InMemory,
    /// What the layers above own, one value per type: the job registry, a
    /// module's running services (the pulse's answer writer). Filled once,
    /// at the composition root (`crate::modules::app`).
    pub parts: axum::http::Extensions,
}

impl App {
    pub fn new(db: Db, settings: Settings, master_key: crate::privacy::seal::MasterKey) -> App {
        App {
            db,
            master_key,
            mailer: Mailer::off(),
            clock: Arc::new(SystemClock),
            settings,
            memory_limits: crate::limits::InMemory::default(),
            parts: axum::http::Extensions::new(),
        }
    }

    /// The part of type `T`; every part is put in at the composition root,
    /// so a missing one is a programming error.
    pub fn part<T: Send + Sync + 'static>(&self) -> &T {
        self.parts.get::<T>().unwrap_or_else(|| {
            panic!(
                "{} is not among the app's parts: build the app with belong::modules::app",
                std::any::type_name::<T>()
            )
        })
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }
}

/// Shared handle to the [`App`], cloned into every request.
#[derive(Clone)]
pub struct AppState(pub Arc<App>);

impl Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.0
    }
}
