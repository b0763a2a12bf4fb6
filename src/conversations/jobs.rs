//! Conversations' emails through the job queue, each morning: a reminder
//! to both people the day before a talk, and to a manager whose report's
//! stay interview is overdue by its cadence. Payloads hold the
//! organization's id only, and emails no word of any note.

use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use super::cadence;
use super::mail::{email, link, moment};
use super::store;
use crate::app::App;
use crate::error::AppError;
use crate::jobs::{IntoOutcome, Job};
use crate::org::service::Directory;

/// When the reminders go out, in the organization's time zone.
const RULE: &str = "daily 08:00";

/// The morning's reminders of one organization.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Remind {
    pub org_id: i64,
}

impl Job for Remind {
    const KIND: &'static str = "conversations.remind";

    async fn run(self, app: &App) -> Result<(), String> {
        remind(app, self.org_id).await.map(|_| ()).into_outcome()
    }
}

/// The organization's schedule, created with its first talk.
pub async fn ensure(app: &App, org_id: i64) -> Result<(), AppError> {
    let (zone, _) = crate::org::service::time_zone(&mut *app.db.acquire().await?, org_id).await?;
    crate::jobs::schedule::ensure(
        app,
        Some(org_id),
        &format!("{}.{org_id}", Remind::KIND),
        &Remind { org_id },
        RULE,
        &zone,
    )
    .await
    .map_err(AppError::internal)
}

/// What the morning sent: talk reminders and overdue notices.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sent {
    pub talks: usize,
    pub overdue: usize,
}

/// Sends the day-before reminders (once a talk; a new time asks again)
/// and the overdue stay interview notices (once a due date).
pub async fn remind(app: &App, org_id: i64) -> Result<Sent, AppError> {
    let mut tx = app.db.begin().await?;
    let dir = Directory::load(&mut tx, org_id).await?;
    let (_, zone) = crate::org::service::time_zone(&mut tx, org_id).await?;
    let templates = store::templates(&mut tx, org_id).await?;
    let now = app.now();
    let today = now.to_zoned(zone.clone()).date();
    let tomorrow = today.saturating_add(jiff::Span::new().days(1));
    let start = |d: jiff::civil::Date| {
        d.to_zoned(zone.clone())
            .map(|z| z.timestamp().as_second())
            .map_err(AppError::internal)
    };
    let (from, to) = (
        start(tomorrow)?,
        start(tomorrow.saturating_add(jiff::Span::new().days(1)))?,
    );
    let mut sent = Sent::default();
    for t in store::to_remind(&mut tx, org_id, from, to).await? {
        let name = templates
            .iter()
            .find(|x| x.id == t.template_id)
            .map_or("talk", |x| x.name.as_str());
        for id in [t.organizer_id, t.guest_id] {
            let Some(p) = dir.person(id).filter(|p| p.active) else {
                continue;
            };
            let other = dir.person(t.other(id)).map_or("your colleague", |o| o.name.as_str());
            let their = TimeZone::get(&p.time_zone).unwrap_or(TimeZone::UTC);
            let when = moment(t.starts_at.unwrap_or_default(), &their);
            let lines = vec![
                format!(
                    "Tomorrow: {name} with {other}, {when} ({}).",
                    their.iana_name().unwrap_or("UTC")
                ),
                "The questions, your notes and the open action items are on the talk's page.".to_owned(),
            ];
            let message = email(
                p,
                format!("Tomorrow: {name} with {other}"),
                lines,
                "Open the talk",
                &link(app, t.id),
            );
            crate::jobs::email::queue(&mut tx, &app.master_key, Some(org_id), &message, now).await?;
            sent.talks += 1;
        }
        store::mark_reminded(&mut tx, org_id, t.id).await?;
    }
    // Overdue stay interviews, to the manager of the pair.
    let talks = cadence::talks_with_family(&mut tx, org_id).await?;
    for c in store::cadences(&mut tx, org_id).await? {
        let Some(current) = templates.iter().find(|x| x.family == c.family && x.current) else {
            continue;
        };
        if current.kind != "stay" {
            continue;
        }
        let (low, high) = (c.person_low, c.person_high);
        let (manager, report) = match (dir.person(low), dir.person(high)) {
            (Some(a), Some(b)) if b.manager_id == Some(a.id) => (a, b),
            (Some(a), Some(b)) if a.manager_id == Some(b.id) => (b, a),
            _ => continue,
        };
        if !manager.active || !report.active {
            continue;
        }
        let (due, scheduled) = cadence::due(&c, &talks, &zone);
        let due_text = due.to_string();
        if scheduled || due >= today || c.reminded_for.as_deref() == Some(due_text.as_str()) {
            continue;
        }
        let lines = vec![
            format!(
                "{}'s stay interview was due on {due_text} ({}), and none is scheduled.",
                report.name,
                super::model::cadence_label(c.every_days).to_lowercase()
            ),
            "A stay interview asks what keeps someone here before they think of leaving: choose a time with them."
                .to_owned(),
        ];
        let to = format!(
            "{}/talks/new?with={}&template={}&cadence={}",
            app.settings.public_url.trim_end_matches('/'),
            report.id,
            current.id,
            c.every_days
        );
        let message = email(
            manager,
            format!("{}'s stay interview is overdue", report.name),
            lines,
            "Schedule it",
            &to,
        );
        crate::jobs::email::queue(&mut tx, &app.master_key, Some(org_id), &message, now).await?;
        store::set_reminded_for(&mut tx, org_id, (low, high), c.family, &due_text).await?;
        sent.overdue += 1;
    }
    tx.commit().await?;
    Ok(sent)
}
