//! The actions' emails through the job queue: a reminder to the owner a
//! few days before an action is due, and each Monday a digest of the
//! overdue actions to the person who planned them.

use askama::Template;
use serde::{Deserialize, Serialize};

use super::model::Status;
use super::store::{self, ActionRow};
use crate::app::App;
use crate::error::AppError;
use crate::jobs::{IntoOutcome, Job};
use crate::notify::email::OutgoingEmail;
use crate::org::service::Directory;

/// Owners are reminded this many days before the due date.
pub const REMIND_DAYS: i64 = 3;
/// When the reminders go out, in the organization's time zone.
const REMINDER_RULE: &str = "daily 08:00";
/// When the overdue digests go out.
const DIGEST_RULE: &str = "weekly monday 08:00";

/// Reminds the owners of the organization's actions due soon.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RemindOwners {
    pub org_id: i64,
}

impl Job for RemindOwners {
    const KIND: &'static str = "insights.remind";

    async fn run(self, app: &App) -> Result<(), String> {
        remind(app, self.org_id).await.into_outcome()
    }
}

/// Tells each planner which of their actions are overdue.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OverdueDigest {
    pub org_id: i64,
}

impl Job for OverdueDigest {
    const KIND: &'static str = "insights.overdue";

    async fn run(self, app: &App) -> Result<(), String> {
        overdue(app, self.org_id).await.into_outcome()
    }
}

/// Both schedules of an organization, created once (its first action).
pub async fn ensure(app: &App, org_id: i64, zone: &str) -> Result<(), AppError> {
    let remind = RemindOwners { org_id };
    crate::jobs::schedule::ensure(
        app,
        Some(org_id),
        &format!("{}.{org_id}", RemindOwners::KIND),
        &remind,
        REMINDER_RULE,
        zone,
    )
    .await
    .map_err(AppError::internal)?;
    let digest = OverdueDigest { org_id };
    crate::jobs::schedule::ensure(
        app,
        Some(org_id),
        &format!("{}.{org_id}", OverdueDigest::KIND),
        &digest,
        DIGEST_RULE,
        zone,
    )
    .await
    .map_err(AppError::internal)
}

/// One action in an email: its title, due date and link.
struct Line {
    title: String,
    due: String,
    link: String,
}

struct Mail<'a> {
    name: &'a str,
    lines: &'a [Line],
    /// Reminder (due soon) or digest (overdue).
    overdue: bool,
}

#[derive(Template)]
#[template(path = "insights/templates/email_actions.txt")]
struct MailText<'a> {
    m: &'a Mail<'a>,
}

#[derive(Template)]
#[template(path = "insights/templates/email_actions.html")]
struct MailHtml<'a> {
    m: &'a Mail<'a>,
}

fn open(a: &ActionRow) -> bool {
    Status::parse(&a.status).is_ok_and(|s| !s.closes())
}

/// Emails each person the actions picked for them, grouped (one email a
/// person), in the caller's transaction.
async fn send(
    app: &App,
    tx: &mut sqlx::AnyConnection,
    org_id: i64,
    dir: &Directory,
    picked: Vec<(i64, &ActionRow)>,
    overdue: bool,
) -> Result<usize, AppError> {
    let base = app.settings.public_url.trim_end_matches('/');
    let mut by_person: std::collections::BTreeMap<i64, Vec<Line>> = Default::default();
    for (person, a) in picked {
        by_person.entry(person).or_default().push(Line {
            title: a.title.clone(),
            due: a.due_date.clone(),
            link: format!("{base}/actions/{}", a.id),
        });
    }
    let mut sent = 0;
    for (person, lines) in &by_person {
        let Some(p) = dir.person(*person).filter(|p| p.active) else {
            continue;
        };
        let m = &Mail {
            name: &p.name,
            lines,
            overdue,
        };
        let subject = match (overdue, lines.len()) {
            (true, 1) => "An action you planned is overdue".to_owned(),
            (true, n) => format!("{n} actions you planned are overdue"),
            (false, 1) => format!("Due in {REMIND_DAYS} days or less: {}", lines[0].title),
            (false, n) => format!("{n} of your actions are due in {REMIND_DAYS} days or less"),
        };
        let message = OutgoingEmail::of(p.email.clone(), subject, &MailText { m }, &MailHtml { m });
        crate::jobs::email::queue(tx, &app.master_key, Some(org_id), &message, app.now()).await?;
        sent += 1;
    }
    Ok(sent)
}

/// Reminds the owner of each open action due within [`REMIND_DAYS`], once.
pub async fn remind(app: &App, org_id: i64) -> Result<usize, AppError> {
    if !app.mailer.is_on() {
        return Ok(0);
    }
    let mut tx = app.db.begin().await?;
    let dir = Directory::load(&mut tx, org_id).await?;
    let (_, zone) = crate::org::service::time_zone(&mut tx, org_id).await?;
    let today = app.now().to_zoned(zone).date();
    let until = today.saturating_add(jiff::Span::new().days(REMIND_DAYS)).to_string();
    let today = today.to_string();
    let rows = store::unreminded(&mut tx, org_id).await?;
    let due: Vec<&ActionRow> = rows
        .iter()
        .filter(|a| open(a) && a.due_date >= today && a.due_date <= until)
        .collect();
    let sent = send(
        app,
        &mut tx,
        org_id,
        &dir,
        due.iter().map(|a| (a.owner_id, *a)).collect(),
        false,
    )
    .await?;
    for a in &due {
        store::mark_reminded(&mut tx, org_id, a.id).await?;
    }
    tx.commit().await?;
    Ok(sent)
}

/// Emails each planner the list of their open actions past due.
pub async fn overdue(app: &App, org_id: i64) -> Result<usize, AppError> {
    if !app.mailer.is_on() {
        return Ok(0);
    }
    let mut tx = app.db.begin().await?;
    let dir = Directory::load(&mut tx, org_id).await?;
    let (_, zone) = crate::org::service::time_zone(&mut tx, org_id).await?;
    let today = app.now().to_zoned(zone).date().to_string();
    let rows = store::actions(&mut tx, org_id).await?;
    let late = rows
        .iter()
        .filter(|a| open(a) && a.due_date < today)
        .map(|a| (a.creator_id, a))
        .collect();
    let sent = send(app, &mut tx, org_id, &dir, late, true).await?;
    tx.commit().await?;
    Ok(sent)
}
