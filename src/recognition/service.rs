//! Use cases of recognition: values, thank-yous and reactions, the board,
//! coverage for managers, and the chat webhook.

use std::collections::{HashMap, HashSet};

use askama::Template;
use serde::{Deserialize, Serialize};

use super::model::{self, Colleague, Reaction};
use super::store::{self, OrgValue};
use crate::app::App;
use crate::auth::{Actor, Permission};
use crate::error::{AppError, FieldError};
use crate::jobs::email;
use crate::notify::email::OutgoingEmail;
use crate::org::service::Directory;
use crate::shared::Pillar;

pub async fn values(app: &App, org_id: i64) -> Result<Vec<OrgValue>, AppError> {
    let mut conn = app.db.acquire().await?;
    Ok(store::values(&mut conn, org_id).await?)
}

/// A value's fields, checked; `None` for a new value, or the value being
/// changed, which may keep its own name.
async fn checked_value(
    conn: &mut sqlx::AnyConnection,
    actor: &Actor,
    editing: Option<i64>,
    name: &str,
    description: &str,
    pillar: &str,
) -> Result<(String, String, Pillar), AppError> {
    actor.require(Permission::ManageRecognition)?;
    let mut problems = Vec::new();
    let name = model::parse_value_name(name).map_err(|e| problems.push(FieldError::new("name", e)));
    let description =
        model::parse_description(description).map_err(|e| problems.push(FieldError::new("description", e)));
    let pillar = Pillar::parse(pillar.trim())
        .filter(|p| p.is_belonging())
        .ok_or_else(|| {
            problems.push(FieldError::new(
                "pillar",
                "choose acceptance, value, support or integration",
            ));
        });
    let (Ok(name), Ok(description), Ok(pillar)) = (name, description, pillar) else {
        return Err(AppError::fields(problems));
    };
    let existing = store::values(conn, actor.org_id).await?;
    if editing.is_some_and(|id| !existing.iter().any(|v| v.id == id)) {
        return Err(AppError::NotFound);
    }
    if existing
        .iter()
        .any(|v| Some(v.id) != editing && v.name.to_lowercase() == name.to_lowercase())
    {
        return Err(AppError::conflict("name", "a value of this name exists already"));
    }
    Ok((name, description, pillar))
}

pub async fn add_value(app: &App, actor: &Actor, name: &str, description: &str, pillar: &str) -> Result<i64, AppError> {
    let mut tx = app.db.begin().await?;
    let (name, description, pillar) = checked_value(&mut tx, actor, None, name, description, pillar).await?;
    let id = crate::db::new_id();
    store::insert_value(
        &mut tx,
        actor.org_id,
        id,
        &name,
        &description,
        pillar.as_str(),
        app.now().as_second(),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Renames a value or changes its meaning or pillar; thank-yous keep
/// pointing at it.
pub async fn edit_value(
    app: &App,
    actor: &Actor,
    id: i64,
    name: &str,
    description: &str,
    pillar: &str,
) -> Result<(), AppError> {
    actor.require(Permission::ManageRecognition)?;
    let mut tx = app.db.begin().await?;
    // Another organization's value is not found, whatever the form says.
    if !store::values(&mut tx, actor.org_id).await?.iter().any(|v| v.id == id) {
        return Err(AppError::NotFound);
    }
    let (name, description, pillar) = checked_value(&mut tx, actor, Some(id), name, description, pillar).await?;
    store::update_value(&mut tx, actor.org_id, id, &name, &description, pillar.as_str()).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn set_value_active(app: &App, actor: &Actor, id: i64, active: bool) -> Result<(), AppError> {
    actor.require(Permission::ManageRecognition)?;
    let mut conn = app.db.acquire().await?;
    if !store::set_value_active(&mut conn, actor.org_id, id, active).await? {
        return Err(AppError::NotFound);
    }
    Ok(())
}

/// Everyone of the organization, as the recipient rules see them.
pub(super) fn colleagues_of(dir: &Directory) -> Vec<Colleague> {
    dir.people
        .iter()
        .map(|p| Colleague {
            id: p.id,
            active: p.active,
        })
        .collect()
}

/// The people `actor` may pick (thank, nominate): active, not themselves,
/// by name.
pub fn choices_for(dir: &Directory, actor: &Actor) -> Vec<(i64, String)> {
    let mut people: Vec<(i64, String)> = dir
        .active_people()
        .filter(|p| p.id != actor.person_id)
        .map(|p| (p.id, p.name.clone()))
        .collect();
    people.sort_by_key(|(_, n)| n.to_lowercase());
    people
}

/// What someone posts: who, for which value, and why.
#[derive(Clone, Debug, Default)]
pub struct ThanksInput {
    pub recipients: Vec<String>,
    pub value: String,
    pub message: String,
}

/// What a thank-you email says, for both its parts.
struct Thanks<'a> {
    name: &'a str,
    author: &'a str,
    value: Option<&'a str>,
    message: &'a str,
    link: &'a str,
}

#[derive(Template)]
#[template(path = "recognition/templates/email_thanks.txt")]
struct ThanksText<'a> {
    m: &'a Thanks<'a>,
}

#[derive(Template)]
#[template(path = "recognition/templates/email_thanks.html")]
struct ThanksHtml<'a> {
    m: &'a Thanks<'a>,
}

/// Sends one post to the chat webhook: `{"text": …}`, which Slack's and
/// Microsoft Teams' incoming webhooks both take. Retried by the job queue
/// on failure.
#[derive(Serialize, Deserialize)]
pub struct PostToChat {
    url: String,
    text: String,
}

impl crate::jobs::Job for PostToChat {
    const KIND: &'static str = "recognition.webhook";

    async fn run(self, app: &App) -> Result<(), String> {
        crate::notify::webhook::post(
            &self.url,
            &serde_json::json!({ "text": self.text }),
            app.settings.webhooks_to_private_addresses,
        )
        .await
    }
}

/// Posts a thank-you: stored, emailed to each person thanked, and sent to
/// the organization's chat webhook if it has one — all queued in the same
/// transaction, so a post never goes half out.
pub async fn post_thanks(app: &App, actor: &Actor, input: &ThanksInput) -> Result<i64, AppError> {
    let dir = crate::org::service::directory(&app.db, actor.org_id).await?;
    let colleagues = colleagues_of(&dir);
    let mut problems = Vec::new();
    let recipients = model::parse_recipients(&input.recipients, actor.person_id, &colleagues)
        .map_err(|e| problems.push(FieldError::new("recipients", e)));
    let message = model::parse_message(&input.message).map_err(|e| problems.push(FieldError::new("message", e)));
    let mut conn = app.db.acquire().await?;
    let value = match input.value.trim() {
        "" => Ok(None),
        raw => {
            let values = store::values(&mut conn, actor.org_id).await?;
            raw.parse::<i64>()
                .ok()
                .and_then(|id| values.into_iter().find(|v| v.id == id && v.active))
                .map(Some)
                .ok_or_else(|| problems.push(FieldError::new("value", "choose one of the values")))
        }
    };
    let (Ok(recipients), Ok(message), Ok(value)) = (recipients, message, value) else {
        return Err(AppError::fields(problems));
    };
    let webhook = store::webhook_url(&mut conn, actor.org_id).await?;
    drop(conn);
    let author = dir.person(actor.person_id).map(|p| p.name.clone()).unwrap_or_default();
    let mut tx = app.db.begin().await?;
    let post = Announcement {
        kind: "thanks",
        author: &author,
        recipients: &recipients,
        value: value.as_ref(),
        message: &message,
    };
    let id = insert_and_announce(app, &mut tx, &dir, actor, &post, webhook).await?;
    tx.commit().await?;
    Ok(id)
}

/// Posts the winner of an employee-of-the-month round, in the caller's
/// transaction.
pub async fn post_award(
    app: &App,
    tx: &mut sqlx::AnyConnection,
    dir: &Directory,
    actor: &Actor,
    winner: i64,
    message: &str,
) -> Result<i64, AppError> {
    let webhook = store::webhook_url(&mut *tx, actor.org_id).await?;
    let author = dir.person(actor.person_id).map(|p| p.name.clone()).unwrap_or_default();
    let post = Announcement {
        kind: "award",
        author: &author,
        recipients: &[winner],
        value: None,
        message,
    };
    insert_and_announce(app, tx, dir, actor, &post, webhook).await
}

/// A post about to be stored and announced.
struct Announcement<'a> {
    kind: &'a str,
    author: &'a str,
    recipients: &'a [i64],
    value: Option<&'a OrgValue>,
    message: &'a str,
}

async fn insert_and_announce(
    app: &App,
    tx: &mut sqlx::AnyConnection,
    dir: &Directory,
    actor: &Actor,
    post: &Announcement<'_>,
    webhook: Option<String>,
) -> Result<i64, AppError> {
    let Announcement {
        kind,
        author,
        recipients,
        value,
        message,
    } = *post;
    let id = crate::db::new_id();
    let link = format!("{}/thanks", app.settings.public_url.trim_end_matches('/'));
    store::insert_thanks(
        &mut *tx,
        &store::NewThanks {
            id,
            org_id: actor.org_id,
            author_id: actor.person_id,
            value_id: value.map(|v| v.id),
            kind,
            message,
            recipients,
            now: app.now().as_second(),
        },
    )
    .await?;
    for p in recipients.iter().filter_map(|r| dir.person(*r)) {
        let (subject, value_name) = (format!("{author} thanked you"), value.map(|v| v.name.as_str()));
        let m = &Thanks {
            name: &p.name,
            author,
            value: value_name,
            message,
            link: &link,
        };
        let mail = OutgoingEmail::of(p.email.clone(), subject, &ThanksText { m }, &ThanksHtml { m });
        email::queue(&mut *tx, &app.master_key, Some(actor.org_id), &mail, app.now()).await?;
    }
    if let Some(url) = webhook {
        let names: Vec<&str> = recipients
            .iter()
            .filter_map(|r| dir.person(*r))
            .map(|p| p.name.as_str())
            .collect();
        let text = match (kind, value) {
            ("award", _) => format!("🏆 {}: {message}", names.join(", ")),
            (_, Some(v)) => format!("🙏 {author} thanked {} for {}: {message}", names.join(", "), v.name),
            (_, None) => format!("🙏 {author} thanked {}: {message}", names.join(", ")),
        };
        let job = PostToChat { url, text };
        crate::jobs::enqueue(&mut *tx, Some(actor.org_id), &job, app.now(), app.now()).await?;
    }
    Ok(id)
}

/// Owners set (or clear) the webhook URL: https to a public address
/// (see `notify::webhook`).
pub async fn set_webhook(app: &App, actor: &Actor, raw: &str) -> Result<(), AppError> {
    actor.require(Permission::ManageSettings)?;
    let url = raw.trim();
    let url = if url.is_empty() {
        None
    } else {
        crate::notify::webhook::parse(url, app.settings.webhooks_to_private_addresses)
            .map_err(|e| AppError::invalid("webhook_url", e.to_string()))?;
        Some(url)
    };
    let mut conn = app.db.acquire().await?;
    store::set_webhook_url(&mut conn, actor.org_id, url).await?;
    Ok(())
}

pub async fn webhook(app: &App, org_id: i64) -> Result<Option<String>, AppError> {
    let mut conn = app.db.acquire().await?;
    Ok(store::webhook_url(&mut conn, org_id).await?)
}

// --- the board ----------------------------------------------------------------

#[derive(Clone, Debug)]
pub struct PostView {
    pub id: i64,
    pub author: String,
    pub award: bool,
    pub recipients: Vec<String>,
    pub value: Option<(String, String)>,
    pub message: String,
    pub day: String,
    /// The reader wrote it: they see its reactions, but do not react.
    pub own: bool,
    /// Every kind of reaction, in a fixed order.
    pub reactions: Vec<ReactionCount>,
}

impl PostView {
    /// The reader has left a reaction on it.
    pub fn reacted(&self) -> bool {
        self.reactions.iter().any(|r| r.mine)
    }
}

#[derive(Clone, Debug)]
pub struct ReactionCount {
    pub kind: Reaction,
    pub count: i64,
    /// The reader is among them.
    pub mine: bool,
}

pub struct Board {
    pub posts: Vec<PostView>,
    pub has_more: bool,
}

/// A page of the board: the whole organization, or one team (with its
/// sub-teams), newest first. Everyone in the organization may read it.
pub async fn board(app: &App, actor: &Actor, team: Option<i64>, page: usize) -> Result<Board, AppError> {
    let dir = crate::org::service::directory(&app.db, actor.org_id).await?;
    let people = match team {
        Some(t) if dir.team(t).is_some() => Some(dir.people_within(t).map(|p| p.id).collect::<Vec<_>>()),
        Some(_) => return Err(AppError::invalid("team", "choose a team from the list")),
        None => None,
    };
    let mut conn = app.db.acquire().await?;
    let values: HashMap<i64, OrgValue> = store::values(&mut conn, actor.org_id)
        .await?
        .into_iter()
        .map(|v| (v.id, v))
        .collect();
    let mut posts = store::board(
        &mut conn,
        actor.org_id,
        actor.person_id,
        people.as_deref(),
        model::PAGE_SIZE,
        page * model::PAGE_SIZE,
    )
    .await?;
    let has_more = posts.len() > model::PAGE_SIZE;
    posts.truncate(model::PAGE_SIZE);
    // Each reader sees the days in their own time zone.
    let tz = match dir.zone_of(actor.person_id) {
        Some(tz) => tz,
        None => org_zone(&mut conn, actor.org_id).await?,
    };
    drop(conn);
    let name = |id: i64| {
        dir.person(id)
            .map(|p| p.name.clone())
            .unwrap_or_else(|| "someone".into())
    };
    let posts = posts
        .into_iter()
        .map(|p| PostView {
            id: p.id,
            own: p.author_id == actor.person_id,
            author: name(p.author_id),
            award: p.kind == "award",
            recipients: {
                let mut names: Vec<String> = p.recipients.iter().map(|r| name(*r)).collect();
                names.sort_by_key(|n| n.to_lowercase());
                names
            },
            value: p
                .value_id
                .and_then(|v| values.get(&v))
                .map(|v| (v.name.clone(), v.pillar.clone())),
            message: p.message,
            day: jiff::Timestamp::from_second(p.created_at)
                .map(|t| t.to_zoned(tz.clone()).date().to_string())
                .unwrap_or_default(),
            reactions: Reaction::ALL
                .iter()
                .map(|r| {
                    let (count, mine) = p
                        .reactions
                        .iter()
                        .find(|(k, _, _)| k == r.as_str())
                        .map_or((0, false), |(_, n, mine)| (*n, *mine));
                    ReactionCount { kind: *r, count, mine }
                })
                .collect(),
        })
        .collect();
    Ok(Board { posts, has_more })
}

async fn org_zone(conn: &mut sqlx::AnyConnection, org_id: i64) -> Result<jiff::tz::TimeZone, AppError> {
    Ok(crate::org::service::time_zone(conn, org_id).await?.1)
}

/// Adds or takes back one's reaction of a kind. Repeating it changes
/// nothing.
pub async fn react(app: &App, actor: &Actor, thank_you_id: i64, kind: &str, on: bool) -> Result<(), AppError> {
    let kind = Reaction::parse(kind).map_err(|e| AppError::invalid("kind", e))?;
    let mut conn = app.db.acquire().await?;
    let author = store::thanks_author(&mut conn, actor.org_id, thank_you_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if author == actor.person_id {
        return Err(AppError::conflict("kind", "you cannot react to your own thank-you"));
    }
    store::set_reaction(
        &mut conn,
        actor.org_id,
        thank_you_id,
        actor.person_id,
        kind.as_str(),
        on,
    )
    .await?;
    Ok(())
}

// --- coverage -----------------------------------------------------------------

pub struct Unthanked {
    pub name: String,
    pub team: String,
    pub last: Option<String>,
}

pub struct TeamMonths {
    pub team: String,
    /// (given, received) per month, oldest first.
    pub months: Vec<(usize, usize)>,
}

pub struct Coverage {
    /// Managers only: the people of their teams not thanked in 60 days.
    pub unthanked: Vec<Unthanked>,
    pub scope_size: usize,
    pub months: Vec<String>,
    pub teams: Vec<TeamMonths>,
}

/// Recognition coverage. A manager sees, privately, who in their team
/// and its sub-teams has not been thanked lately, and the monthly counts
/// of their teams; HR admins and owners see the counts of every team, with
/// no names. No ranking of people anywhere.
pub async fn coverage(app: &App, actor: &Actor) -> Result<Coverage, AppError> {
    let dir = crate::org::service::directory(&app.db, actor.org_id).await?;
    let own = dir.person(actor.person_id).and_then(|p| p.team_id);
    let teams: Vec<i64> = if actor.can(Permission::ManageRecognition) {
        dir.teams.iter().filter(|t| t.active).map(|t| t.id).collect()
    } else if crate::auth::policy::is_team_manager(actor.role) {
        let Some(own) = own else {
            return Err(AppError::Forbidden);
        };
        dir.teams
            .iter()
            .filter(|t| t.active && dir.team_within(t.id, own))
            .map(|t| t.id)
            .collect()
    } else {
        return Err(AppError::Forbidden);
    };
    let now = app.now();
    let mut conn = app.db.acquire().await?;
    let tz = org_zone(&mut conn, actor.org_id).await?;
    let last = store::last_thanked(&mut conn, actor.org_id).await?;
    // Names only for a manager's own people.
    let (unthanked, scope_size) = match (crate::auth::policy::is_team_manager(actor.role), own) {
        (true, Some(own)) => {
            let scope: Vec<i64> = dir
                .people_within(own)
                .filter(|p| p.id != actor.person_id && p.active)
                .map(|p| p.id)
                .collect();
            let list = model::not_thanked_lately(&scope, &last, now.as_second())
                .into_iter()
                .filter_map(|(id, at)| {
                    let p = dir.person(id)?;
                    Some(Unthanked {
                        name: p.name.clone(),
                        team: p.team_id.map(|t| dir.team_path(t)).unwrap_or_default(),
                        last: at
                            .and_then(|t| jiff::Timestamp::from_second(t).ok())
                            .map(|t| t.to_zoned(tz.clone()).date().to_string()),
                    })
                })
                .collect();
            (list, scope.len())
        }
        _ => (Vec::new(), 0),
    };
    // The last six months, this one included, in the org's time zone.
    let this_month = now.to_zoned(tz.clone()).date().first_of_month();
    let months: Vec<jiff::civil::Date> = (0..6)
        .rev()
        .filter_map(|back| this_month.checked_sub(jiff::Span::new().months(back)).ok())
        .collect();
    let start = months[0]
        .to_zoned(tz.clone())
        .map_err(AppError::internal)?
        .timestamp()
        .as_second();
    let rows = store::since(&mut conn, actor.org_id, start).await?;
    let team_of = |p: i64| dir.person(p).and_then(|x| x.team_id);
    let mut per_team: Vec<TeamMonths> = Vec::new();
    let wanted: HashSet<i64> = teams.iter().copied().collect();
    let mut sorted: Vec<i64> = teams.clone();
    sorted.sort_by_key(|t| dir.team_path(*t).to_lowercase());
    for team in sorted {
        let mut counts = vec![(0usize, 0usize); months.len()];
        let mut seen_given: HashSet<i64> = HashSet::new();
        for (id, author, recipient, at) in &rows {
            let Ok(when) = jiff::Timestamp::from_second(*at) else {
                continue;
            };
            let month = when.to_zoned(tz.clone()).date().first_of_month();
            let Some(m) = months.iter().position(|x| *x == month) else {
                continue;
            };
            // A thank-you to three people is one given, three received.
            if team_of(*author) == Some(team) && seen_given.insert(*id) {
                counts[m].0 += 1;
            }
            if team_of(*recipient) == Some(team) {
                counts[m].1 += 1;
            }
        }
        if wanted.contains(&team) {
            per_team.push(TeamMonths {
                team: dir.team_path(team),
                months: counts,
            });
        }
    }
    Ok(Coverage {
        unthanked,
        scope_size,
        months: months.iter().map(|d| d.strftime("%b %Y").to_string()).collect(),
        teams: per_team,
    })
}

/// A thank-you a person received, as their home page shows it.
pub struct Received {
    pub author: String,
    pub value: Option<String>,
    pub message: String,
}

/// The thank-yous a person received in the last 30 days, newest first.
pub async fn received_lately(app: &App, actor: &Actor) -> Result<Vec<Received>, AppError> {
    let since = app.now().as_second() - 30 * 24 * 3600;
    let mut conn = app.db.acquire().await?;
    // Only the month's: the home page asks on every visit.
    let written = store::thanks_of(&mut conn, actor.org_id, actor.person_id, false, since).await?;
    drop(conn);
    let dir = crate::org::service::directory(&app.db, actor.org_id).await?;
    Ok(written
        .into_iter()
        .rev()
        .map(|t| Received {
            author: dir
                .person(t.author_id)
                .map_or_else(|| "A colleague".to_owned(), |p| p.name.clone()),
            value: t.value,
            message: t.message,
        })
        .collect())
}
