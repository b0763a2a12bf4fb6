//! The application value every handler, job and command works with.

use std::ops::Deref;
use std::sync::{Arc, Mutex};

use jiff::Timestamp;

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
    /// The group-commit writer of pulse answers, started on first use so
    /// it runs on the caller's runtime with the app's clock.
    pub answer_writer: std::sync::OnceLock<crate::pulse::writer::Writer>,
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
            answer_writer: std::sync::OnceLock::new(),
        }
    }

    pub fn answers(&self) -> &crate::pulse::writer::Writer {
        self.answer_writer.get_or_init(|| {
            crate::pulse::writer::Writer::start(self.db.clone(), self.clock.clone(), self.master_key.clone())
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

/// The source of "now", injected so tests can move time.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that only moves when told to.
pub struct ManualClock(Mutex<Timestamp>);

impl ManualClock {
    pub fn new(start: Timestamp) -> ManualClock {
        ManualClock(Mutex::new(start))
    }

    pub fn advance(&self, by: jiff::SignedDuration) {
        let mut now = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *now = now.checked_add(by).expect("clock stays in range");
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}
