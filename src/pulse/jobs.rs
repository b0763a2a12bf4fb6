//! The pulse's background work: a cycle closes and reminds on time, a
//! recurring pulse launches its next cycle, and kept answers go when the
//! retention says.

use serde::{Deserialize, Serialize};

use super::service;
use crate::app::App;
use crate::error::AppError;
use crate::jobs::{Job, Registry};

pub fn register(jobs: &mut Registry) {
    jobs.add::<CloseCycle>()
        .add::<RemindCycle>()
        .add::<LaunchPulse>()
        .add::<ApplyRetention>();
}

/// Closes a cycle at its closing time.
#[derive(Serialize, Deserialize)]
pub struct CloseCycle {
    pub org_id: i64,
    pub cycle_id: i64,
}

impl Job for CloseCycle {
    const KIND: &'static str = "pulse.close";

    async fn run(self, app: &App) -> Result<(), String> {
        service::close(app, self.org_id, self.cycle_id)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// Reminds those who have not answered, some days before the close.
#[derive(Serialize, Deserialize)]
pub struct RemindCycle {
    pub org_id: i64,
    pub cycle_id: i64,
}

impl Job for RemindCycle {
    const KIND: &'static str = "pulse.remind";

    async fn run(self, app: &App) -> Result<(), String> {
        service::remind(app, self.org_id, self.cycle_id)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// Opens the next cycle of a recurring pulse; one already open is left be.
#[derive(Serialize, Deserialize)]
pub struct LaunchPulse {
    pub org_id: i64,
    pub pulse_id: i64,
}

impl Job for LaunchPulse {
    const KIND: &'static str = "pulse.launch";

    async fn run(self, app: &App) -> Result<(), String> {
        match service::launch(app, self.org_id, self.pulse_id).await {
            Ok(_) | Err(AppError::Conflict { .. }) => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// Nightly: deletes kept responses and comments past the organization's
/// retention (PRIVACY.md rule 19).
#[derive(Serialize, Deserialize)]
pub struct ApplyRetention {
    pub org_id: i64,
}

impl Job for ApplyRetention {
    const KIND: &'static str = "pulse.retention";

    async fn run(self, app: &App) -> Result<(), String> {
        service::apply_retention(app, self.org_id)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}
