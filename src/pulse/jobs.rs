//! The pulse's background work: a cycle closes and reminds on time, a
//! recurring pulse launches its next cycle, and kept answers go when the
//! retention says. The payloads are `service`'s (it queues them); what
//! each does is here.

use super::service::{self, ApplyRetention, CloseCycle, LaunchPulse, RemindCycle};
use crate::app::App;
use crate::jobs::{IntoOutcome, Job, Registry};

pub fn register(jobs: &mut Registry) {
    jobs.add::<CloseCycle>()
        .add::<RemindCycle>()
        .add::<LaunchPulse>()
        .add::<ApplyRetention>();
}

impl Job for CloseCycle {
    const KIND: &'static str = "pulse.close";

    async fn run(self, app: &App) -> Result<(), String> {
        service::close(app, self.org_id, self.cycle_id).await.into_outcome()
    }
}

impl Job for RemindCycle {
    const KIND: &'static str = "pulse.remind";

    async fn run(self, app: &App) -> Result<(), String> {
        service::remind(app, self.org_id, self.cycle_id).await.into_outcome()
    }
}

impl Job for LaunchPulse {
    const KIND: &'static str = "pulse.launch";

    async fn run(self, app: &App) -> Result<(), String> {
        service::launch_unless_stopped(app, self.org_id, self.pulse_id)
            .await
            .into_outcome()
    }
}

impl Job for ApplyRetention {
    const KIND: &'static str = "pulse.retention";

    async fn run(self, app: &App) -> Result<(), String> {
        service::apply_retention(app, self.org_id).await.into_outcome()
    }
}
