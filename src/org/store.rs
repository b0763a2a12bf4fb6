//! SQL for organizations, teams and people. Every statement is scoped by
//! the organization id it is given. Writes take a connection so the caller
//! decides the transaction.

use jiff::civil::Date;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::model::{LeaveReason, Organization, Person, PersonInput, Role, Team};
use crate::db::{Backend, Db};

const PERSON_COLUMNS: &str = "id, name, email, role, team_id, manager_id, start_date, end_date, \
                              leave_reason, time_zone, active";

fn person_from_row(row: &AnyRow) -> Result<Person, sqlx::Error> {
    let decode = |e: String| sqlx::Error::Decode(e.into());
    let date = |col: &str| -> Result<Option<Date>, sqlx::Error> {
        row.try_get::<Option<String>, _>(col)?
            .map(|s| s.parse::<Date>().map_err(|e| decode(e.to_string())))
            .transpose()
    };
    Ok(Person {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        email: row.try_get("email")?,
        role: Role::parse(&row.try_get::<String, _>("role")?).map_err(decode)?,
        team_id: row.try_get("team_id")?,
        manager_id: row.try_get("manager_id")?,
        start_date: date("start_date")?,
        end_date: date("end_date")?,
        leave_reason: row
            .try_get::<Option<String>, _>("leave_reason")?
            .map(|s| LeaveReason::parse(&s).map_err(decode))
            .transpose()?,
        time_zone: row.try_get("time_zone")?,
        active: row.try_get::<i64, _>("active")? != 0,
    })
}

fn team_from_row(row: &AnyRow) -> Result<Team, sqlx::Error> {
    Ok(Team {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        parent_id: row.try_get("parent_id")?,
        active: row.try_get::<i64, _>("active")? != 0,
    })
}

fn org_from_row(row: &AnyRow) -> Result<Organization, sqlx::Error> {
    Ok(Organization {
        id: row.try_get("id")?,
        slug: row.try_get("slug")?,
        name: row.try_get("name")?,
        time_zone: row.try_get("time_zone")?,
    })
}

// --- organizations -------------------------------------------------------

pub async fn insert_org(conn: &mut AnyConnection, org: &Organization, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO organizations (id, slug, name, time_zone, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(org.id)
        .bind(&org.slug)
        .bind(&org.name)
        .bind(&org.time_zone)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn slug_taken(conn: &mut AnyConnection, slug: &str) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query("SELECT 1 FROM organizations WHERE slug = $1")
        .bind(slug)
        .fetch_optional(conn)
        .await?
        .is_some())
}

pub async fn org_by_slug(db: &Db, slug: &str) -> Result<Option<Organization>, sqlx::Error> {
    sqlx::query("SELECT id, slug, name, time_zone FROM organizations WHERE slug = $1")
        .bind(slug)
        .fetch_optional(&mut *db.acquire().await?)
        .await?
        .as_ref()
        .map(org_from_row)
        .transpose()
}

pub async fn org_by_id(conn: &mut AnyConnection, id: i64) -> Result<Option<Organization>, sqlx::Error> {
    sqlx::query("SELECT id, slug, name, time_zone FROM organizations WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(org_from_row)
        .transpose()
}

/// The organization's anonymity threshold k as stored (PRIVACY.md rule 7).
pub async fn anonymity_k(conn: &mut AnyConnection, org_id: i64) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query("SELECT anonymity_k FROM organizations WHERE id = $1")
        .bind(org_id)
        .fetch_optional(conn)
        .await?
        .map(|r| r.try_get("anonymity_k"))
        .transpose()
}

/// Holds off every other writer of organizations until the transaction
/// ends (PostgreSQL; SQLite's write transaction does so already), so a
/// rule on "is there any organization" holds under concurrent requests.
pub async fn lock_organizations(conn: &mut AnyConnection, backend: Backend) -> Result<(), sqlx::Error> {
    if backend == Backend::Postgres {
        sqlx::query("LOCK TABLE organizations IN SHARE ROW EXCLUSIVE MODE")
            .execute(conn)
            .await?;
    }
    Ok(())
}

pub async fn any_org(conn: &mut AnyConnection) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query("SELECT 1 FROM organizations LIMIT 1")
        .fetch_optional(conn)
        .await?
        .is_some())
}

pub async fn count_orgs(db: &Db) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT COUNT(*) AS n FROM organizations")
        .fetch_one(&mut *db.acquire().await?)
        .await?
        .try_get("n")
}

// --- teams ---------------------------------------------------------------

pub async fn list_teams(conn: &mut AnyConnection, org_id: i64) -> Result<Vec<Team>, sqlx::Error> {
    sqlx::query("SELECT id, name, parent_id, active FROM teams WHERE org_id = $1 ORDER BY name_key")
        .bind(org_id)
        .fetch_all(conn)
        .await?
        .iter()
        .map(team_from_row)
        .collect()
}

pub async fn insert_team(conn: &mut AnyConnection, org_id: i64, team: &Team, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO teams (id, org_id, name, name_key, parent_id, active, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(team.id)
    .bind(org_id)
    .bind(&team.name)
    .bind(team.name.to_lowercase())
    .bind(team.parent_id)
    .bind(i64::from(team.active))
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn update_team(conn: &mut AnyConnection, org_id: i64, team: &Team) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE teams SET name = $1, name_key = $2, parent_id = $3, active = $4
         WHERE org_id = $5 AND id = $6",
    )
    .bind(&team.name)
    .bind(team.name.to_lowercase())
    .bind(team.parent_id)
    .bind(i64::from(team.active))
    .bind(org_id)
    .bind(team.id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

// --- people --------------------------------------------------------------

pub async fn list_people(conn: &mut AnyConnection, org_id: i64) -> Result<Vec<Person>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {PERSON_COLUMNS} FROM people WHERE org_id = $1 ORDER BY name, email_key"
    ))
    .bind(org_id)
    .fetch_all(conn)
    .await?
    .iter()
    .map(person_from_row)
    .collect()
}

/// The people of the organization among `ids` (ids are numbers, written
/// into the statement as such).
pub async fn people_among(conn: &mut AnyConnection, org_id: i64, ids: &[i64]) -> Result<Vec<Person>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list: Vec<String> = ids.iter().map(i64::to_string).collect();
    sqlx::query(&format!(
        "SELECT {PERSON_COLUMNS} FROM people WHERE org_id = $1 AND id IN ({})",
        list.join(",")
    ))
    .bind(org_id)
    .fetch_all(conn)
    .await?
    .iter()
    .map(person_from_row)
    .collect()
}

pub async fn get_person(db: &Db, org_id: i64, id: i64) -> Result<Option<Person>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {PERSON_COLUMNS} FROM people WHERE org_id = $1 AND id = $2"
    ))
    .bind(org_id)
    .bind(id)
    .fetch_optional(&mut *db.acquire().await?)
    .await?
    .as_ref()
    .map(person_from_row)
    .transpose()
}

pub async fn person_id_by_email(
    conn: &mut AnyConnection,
    org_id: i64,
    email_key: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query("SELECT id FROM people WHERE org_id = $1 AND email_key = $2")
        .bind(org_id)
        .bind(email_key)
        .fetch_optional(conn)
        .await?
        .map(|r| r.try_get("id"))
        .transpose()
}

pub async fn insert_person(
    conn: &mut AnyConnection,
    org_id: i64,
    id: i64,
    p: &PersonInput,
    password_hash: Option<&str>,
    must_change_password: bool,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO people (id, org_id, name, email, email_key, role, team_id, manager_id,
                             start_date, time_zone, active, password_hash, must_change_password,
                             created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $12, $13, $13)",
    )
    .bind(id)
    .bind(org_id)
    .bind(p.name.as_str())
    .bind(p.email.as_str())
    .bind(p.email.key())
    .bind(p.role.as_str())
    .bind(p.team_id)
    .bind(p.manager_id)
    .bind(p.start_date.map(|d| d.to_string()))
    .bind(p.time_zone.as_str())
    .bind(password_hash)
    .bind(i64::from(must_change_password))
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn update_person(
    conn: &mut AnyConnection,
    org_id: i64,
    id: i64,
    p: &PersonInput,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE people SET name = $1, email = $2, email_key = $3, role = $4, team_id = $5,
                           manager_id = $6, start_date = $7, time_zone = $8, updated_at = $9
         WHERE org_id = $10 AND id = $11",
    )
    .bind(p.name.as_str())
    .bind(p.email.as_str())
    .bind(p.email.key())
    .bind(p.role.as_str())
    .bind(p.team_id)
    .bind(p.manager_id)
    .bind(p.start_date.map(|d| d.to_string()))
    .bind(p.time_zone.as_str())
    .bind(now)
    .bind(org_id)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_manager(
    conn: &mut AnyConnection,
    org_id: i64,
    id: i64,
    manager_id: Option<i64>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE people SET manager_id = $1 WHERE org_id = $2 AND id = $3")
        .bind(manager_id)
        .bind(org_id)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Marks a person as having left. Their sessions end with it.
pub async fn deactivate_person(
    conn: &mut AnyConnection,
    org_id: i64,
    id: i64,
    end_date: Date,
    reason: LeaveReason,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE people SET active = 0, end_date = $1, leave_reason = $2, updated_at = $3
         WHERE org_id = $4 AND id = $5",
    )
    .bind(end_date.to_string())
    .bind(reason.as_str())
    .bind(now)
    .bind(org_id)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM sessions WHERE org_id = $1 AND person_id = $2")
        .bind(org_id)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn reactivate_person(conn: &mut AnyConnection, org_id: i64, id: i64, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE people SET active = 1, end_date = NULL, leave_reason = NULL, updated_at = $1
         WHERE org_id = $2 AND id = $3",
    )
    .bind(now)
    .bind(org_id)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_password(
    conn: &mut AnyConnection,
    org_id: i64,
    id: i64,
    hash: &str,
    must_change: bool,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE people SET password_hash = $1, must_change_password = $2, updated_at = $3
         WHERE org_id = $4 AND id = $5",
    )
    .bind(hash)
    .bind(i64::from(must_change))
    .bind(now)
    .bind(org_id)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Keeps an uploaded CSV between its preview and its confirmation.
pub async fn insert_import_batch(
    conn: &mut AnyConnection,
    org_id: i64,
    id: i64,
    uploaded_by: i64,
    file_name: &str,
    content: &[u8],
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO import_batches (id, org_id, uploaded_by, file_name, content, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(org_id)
    .bind(uploaded_by)
    .bind(file_name)
    .bind(content)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// A batch not yet applied: (file name, content).
pub async fn pending_import_batch(db: &Db, org_id: i64, id: i64) -> Result<Option<(String, Vec<u8>)>, sqlx::Error> {
    sqlx::query(
        "SELECT file_name, content FROM import_batches
         WHERE org_id = $1 AND id = $2 AND applied_at IS NULL",
    )
    .bind(org_id)
    .bind(id)
    .fetch_optional(&mut *db.acquire().await?)
    .await?
    .map(|r| Ok((r.try_get("file_name")?, r.try_get("content")?)))
    .transpose()
}

pub async fn mark_import_applied(
    conn: &mut AnyConnection,
    org_id: i64,
    id: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done =
        sqlx::query("UPDATE import_batches SET applied_at = $1 WHERE org_id = $2 AND id = $3 AND applied_at IS NULL")
            .bind(now)
            .bind(org_id)
            .bind(id)
            .execute(conn)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Replaces a person's personal data with `name` and `email` and deletes
/// their sessions, API tokens and personal links.
pub async fn erase_person(
    conn: &mut AnyConnection,
    org_id: i64,
    id: i64,
    name: &str,
    email: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE people SET name = $1, email = $2, email_key = $2, start_date = NULL, password_hash = NULL,
         must_change_password = 0, updated_at = $3 WHERE org_id = $4 AND id = $5",
    )
    .bind(name)
    .bind(email)
    .bind(now)
    .bind(org_id)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    for table in ["sessions", "api_tokens", "invitations"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE org_id = $1 AND person_id = $2"))
            .bind(org_id)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Active people with this email key, across organizations (`slug` ''
/// for all): (org id, person id, org slug).
pub async fn active_by_email(db: &Db, email_key: &str, slug: &str) -> Result<Vec<(i64, i64, String)>, sqlx::Error> {
    sqlx::query(
        "SELECT p.org_id, p.id, o.slug FROM people p JOIN organizations o ON o.id = p.org_id
         WHERE p.email_key = $1 AND p.active = 1 AND ($2 = '' OR o.slug = $2)",
    )
    .bind(email_key)
    .bind(slug)
    .fetch_all(&mut *db.acquire().await?)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("org_id")?, r.try_get("id")?, r.try_get("slug")?)))
    .collect()
}
