//! The SQL of actions and their updates, every statement scoped by org_id.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

/// An action as stored.
#[derive(Clone, Debug)]
pub struct ActionRow {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub pillar: Option<String>,
    pub team_id: Option<i64>,
    pub cycle_id: Option<i64>,
    pub owner_id: i64,
    pub creator_id: i64,
    pub due_date: String,
    pub status: String,
    pub visibility: String,
    pub created_at: i64,
}

const COLUMNS: &str =
    "id, title, description, pillar, team_id, cycle_id, owner_id, creator_id, due_date, status, visibility, created_at";

fn action(r: &AnyRow) -> Result<ActionRow, sqlx::Error> {
    Ok(ActionRow {
        id: r.try_get("id")?,
        title: r.try_get("title")?,
        description: r.try_get("description")?,
        pillar: r.try_get("pillar")?,
        team_id: r.try_get("team_id")?,
        cycle_id: r.try_get("cycle_id")?,
        owner_id: r.try_get("owner_id")?,
        creator_id: r.try_get("creator_id")?,
        due_date: r.try_get("due_date")?,
        status: r.try_get("status")?,
        visibility: r.try_get("visibility")?,
        created_at: r.try_get("created_at")?,
    })
}

pub async fn insert_action(conn: &mut AnyConnection, org_id: i64, a: &ActionRow) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "INSERT INTO actions (org_id, {COLUMNS}, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)"
    ))
    .bind(org_id)
    .bind(a.id)
    .bind(&a.title)
    .bind(&a.description)
    .bind(&a.pillar)
    .bind(a.team_id)
    .bind(a.cycle_id)
    .bind(a.owner_id)
    .bind(a.creator_id)
    .bind(&a.due_date)
    .bind(&a.status)
    .bind(&a.visibility)
    .bind(a.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Every action of the organization, soonest due first.
pub async fn actions(conn: &mut AnyConnection, org_id: i64) -> Result<Vec<ActionRow>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM actions WHERE org_id = $1 ORDER BY due_date, created_at, id"
    ))
    .bind(org_id)
    .fetch_all(conn)
    .await?
    .iter()
    .map(action)
    .collect()
}

pub async fn action_by_id(conn: &mut AnyConnection, org_id: i64, id: i64) -> Result<Option<ActionRow>, sqlx::Error> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM actions WHERE org_id = $1 AND id = $2"))
        .bind(org_id)
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(action)
        .transpose()
}

pub async fn set_status(
    conn: &mut AnyConnection,
    org_id: i64,
    id: i64,
    status: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE actions SET status = $1, updated_at = $2 WHERE org_id = $3 AND id = $4")
        .bind(status)
        .bind(now)
        .bind(org_id)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// A new due date; the owner is reminded again before it.
pub async fn set_due_date(
    conn: &mut AnyConnection,
    org_id: i64,
    id: i64,
    due: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE actions SET due_date = $1, reminded = 0, updated_at = $2 WHERE org_id = $3 AND id = $4")
        .bind(due)
        .bind(now)
        .bind(org_id)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// A dated progress note on an action.
#[derive(Clone, Debug)]
pub struct UpdateRow {
    pub author_id: i64,
    pub note: String,
    pub status: Option<String>,
    pub created_at: i64,
}

pub async fn insert_update(
    conn: &mut AnyConnection,
    org_id: i64,
    action_id: i64,
    id: i64,
    u: &UpdateRow,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO action_updates (id, org_id, action_id, author_id, note, status, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(org_id)
    .bind(action_id)
    .bind(u.author_id)
    .bind(&u.note)
    .bind(&u.status)
    .bind(u.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// An action's updates, oldest first.
pub async fn updates_of(conn: &mut AnyConnection, org_id: i64, action_id: i64) -> Result<Vec<UpdateRow>, sqlx::Error> {
    sqlx::query(
        "SELECT author_id, note, status, created_at FROM action_updates
         WHERE org_id = $1 AND action_id = $2 ORDER BY created_at, id",
    )
    .bind(org_id)
    .bind(action_id)
    .fetch_all(conn)
    .await?
    .iter()
    .map(|r| {
        Ok(UpdateRow {
            author_id: r.try_get("author_id")?,
            note: r.try_get("note")?,
            status: r.try_get("status")?,
            created_at: r.try_get("created_at")?,
        })
    })
    .collect()
}

/// The updates a person wrote: (the action's title, the note, when).
pub async fn updates_by(
    conn: &mut AnyConnection,
    org_id: i64,
    person_id: i64,
) -> Result<Vec<(String, String, i64)>, sqlx::Error> {
    sqlx::query(
        "SELECT a.title, u.note, u.created_at FROM action_updates u
         JOIN actions a ON a.org_id = u.org_id AND a.id = u.action_id
         WHERE u.org_id = $1 AND u.author_id = $2 ORDER BY u.created_at, u.id",
    )
    .bind(org_id)
    .bind(person_id)
    .fetch_all(conn)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("title")?, r.try_get("note")?, r.try_get("created_at")?)))
    .collect()
}

/// The latest update of every action of the organization: action id →
/// (note, when).
pub async fn latest_updates(
    conn: &mut AnyConnection,
    org_id: i64,
) -> Result<std::collections::HashMap<i64, (String, i64)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT action_id, note, created_at FROM action_updates
         WHERE org_id = $1 AND note <> '' ORDER BY created_at, id",
    )
    .bind(org_id)
    .fetch_all(conn)
    .await?;
    let mut latest = std::collections::HashMap::new();
    for r in &rows {
        latest.insert(r.try_get("action_id")?, (r.try_get("note")?, r.try_get("created_at")?));
    }
    Ok(latest)
}

/// An initiative as stored, with its teams.
#[derive(Clone, Debug)]
pub struct InitiativeRow {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub practice: String,
    pub pillar: String,
    pub pulse_id: i64,
    pub starts_on: String,
    pub ends_on: Option<String>,
    pub sub_teams: bool,
    pub status: String,
    pub proposer_id: i64,
    /// (team, its own start when it differs).
    pub teams: Vec<(i64, Option<String>)>,
}

pub async fn insert_initiative(
    conn: &mut AnyConnection,
    org_id: i64,
    i: &InitiativeRow,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO initiatives (id, org_id, name, description, practice, pillar, pulse_id, starts_on, ends_on,
                                  sub_teams, status, proposer_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(i.id)
    .bind(org_id)
    .bind(&i.name)
    .bind(&i.description)
    .bind(&i.practice)
    .bind(&i.pillar)
    .bind(i.pulse_id)
    .bind(&i.starts_on)
    .bind(&i.ends_on)
    .bind(i64::from(i.sub_teams))
    .bind(&i.status)
    .bind(i.proposer_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    for (team, start) in &i.teams {
        sqlx::query("INSERT INTO initiative_teams (org_id, initiative_id, team_id, starts_on) VALUES ($1, $2, $3, $4)")
            .bind(org_id)
            .bind(i.id)
            .bind(team)
            .bind(start)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Changes an initiative's fields and its teams (its standing and who
/// proposed it stay); false when there is no such initiative.
pub async fn update_initiative(conn: &mut AnyConnection, org_id: i64, i: &InitiativeRow) -> Result<bool, sqlx::Error> {
    let changed = sqlx::query(
        "UPDATE initiatives SET name = $1, description = $2, practice = $3, pillar = $4, pulse_id = $5,
                starts_on = $6, ends_on = $7, sub_teams = $8
         WHERE org_id = $9 AND id = $10",
    )
    .bind(&i.name)
    .bind(&i.description)
    .bind(&i.practice)
    .bind(&i.pillar)
    .bind(i.pulse_id)
    .bind(&i.starts_on)
    .bind(&i.ends_on)
    .bind(i64::from(i.sub_teams))
    .bind(org_id)
    .bind(i.id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if changed == 0 {
        return Ok(false);
    }
    sqlx::query("DELETE FROM initiative_teams WHERE org_id = $1 AND initiative_id = $2")
        .bind(org_id)
        .bind(i.id)
        .execute(&mut *conn)
        .await?;
    for (team, start) in &i.teams {
        sqlx::query("INSERT INTO initiative_teams (org_id, initiative_id, team_id, starts_on) VALUES ($1, $2, $3, $4)")
            .bind(org_id)
            .bind(i.id)
            .bind(team)
            .bind(start)
            .execute(&mut *conn)
            .await?;
    }
    Ok(true)
}

/// Every initiative of the organization, newest start first.
pub async fn initiatives(conn: &mut AnyConnection, org_id: i64) -> Result<Vec<InitiativeRow>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, name, description, practice, pillar, pulse_id, starts_on, ends_on, sub_teams, status, proposer_id
         FROM initiatives WHERE org_id = $1 ORDER BY starts_on DESC, id",
    )
    .bind(org_id)
    .fetch_all(&mut *conn)
    .await?;
    let teams = sqlx::query(
        "SELECT initiative_id, team_id, starts_on FROM initiative_teams WHERE org_id = $1 ORDER BY team_id",
    )
    .bind(org_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            let id: i64 = r.try_get("id")?;
            let mut mine = Vec::new();
            for t in &teams {
                if t.try_get::<i64, _>("initiative_id")? == id {
                    mine.push((t.try_get("team_id")?, t.try_get("starts_on")?));
                }
            }
            Ok(InitiativeRow {
                id,
                name: r.try_get("name")?,
                description: r.try_get("description")?,
                practice: r.try_get("practice")?,
                pillar: r.try_get("pillar")?,
                pulse_id: r.try_get("pulse_id")?,
                starts_on: r.try_get("starts_on")?,
                ends_on: r.try_get("ends_on")?,
                sub_teams: r.try_get::<i64, _>("sub_teams")? != 0,
                status: r.try_get("status")?,
                proposer_id: r.try_get("proposer_id")?,
                teams: mine,
            })
        })
        .collect()
}

pub async fn set_initiative_status(
    conn: &mut AnyConnection,
    org_id: i64,
    id: i64,
    status: &str,
) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("UPDATE initiatives SET status = $1 WHERE org_id = $2 AND id = $3")
            .bind(status)
            .bind(org_id)
            .bind(id)
            .execute(conn)
            .await?
            .rows_affected(),
    )
}

/// (team, status) of the actions under way, and of those done since `since`.
pub async fn moved_since(
    conn: &mut AnyConnection,
    org_id: i64,
    since: i64,
) -> Result<Vec<(Option<i64>, String)>, sqlx::Error> {
    sqlx::query(
        "SELECT team_id, status FROM actions
         WHERE org_id = $1 AND (status = 'in_progress' OR (status = 'done' AND updated_at >= $2))",
    )
    .bind(org_id)
    .bind(since)
    .fetch_all(conn)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("team_id")?, r.try_get("status")?)))
    .collect()
}

/// The organization's actions whose owner has not been reminded yet.
pub async fn unreminded(conn: &mut AnyConnection, org_id: i64) -> Result<Vec<ActionRow>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM actions WHERE org_id = $1 AND reminded = 0 ORDER BY due_date, id"
    ))
    .bind(org_id)
    .fetch_all(conn)
    .await?
    .iter()
    .map(action)
    .collect()
}

pub async fn mark_reminded(conn: &mut AnyConnection, org_id: i64, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE actions SET reminded = 1 WHERE org_id = $1 AND id = $2")
        .bind(org_id)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}
