//! The email job: a rendered message waiting in the queue, sent over SMTP
//! by the worker.

use serde::{Deserialize, Serialize};

use super::Job;
use crate::app::App;
use crate::notify::email::OutgoingEmail;

/// Sends one email. Its payload holds links with tokens in them, so it is
/// queued sealed and erased once sent (PRIVACY.md rule 4).
#[derive(Serialize, Deserialize)]
#[serde(transparent)]
pub struct SendEmail(pub OutgoingEmail);

impl Job for SendEmail {
    const KIND: &'static str = "email.send";

    async fn run(self, app: &App) -> Result<(), String> {
        if !app.mailer.is_on() {
            // Said once at start-up; a line per message would bury the rest.
            tracing::debug!("email is off (no SMTP server configured); a message was dropped");
            return Ok(());
        }
        app.mailer.send(&self.0).await
    }
}

/// Queues an email in the caller's transaction, sealed under the master key.
pub async fn queue(
    conn: &mut sqlx::AnyConnection,
    master: &crate::privacy::seal::MasterKey,
    org_id: Option<i64>,
    email: &OutgoingEmail,
    now: jiff::Timestamp,
) -> Result<(), sqlx::Error> {
    super::enqueue_sealed(conn, master, org_id, &SendEmail(email.clone()), now, now).await?;
    Ok(())
}
