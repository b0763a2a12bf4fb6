//! The SQL of the audit log.

use sqlx::{AnyConnection, Row};

use crate::db::{Db, new_id};

/// An entry to write.
pub struct NewEvent<'a> {
    pub org_id: i64,
    pub actor_id: i64,
    pub action: &'a str,
    pub subject_type: &'a str,
    pub subject_id: Option<i64>,
    pub detail: &'a str,
    pub at: i64,
}

pub async fn insert_event(conn: &mut AnyConnection, e: NewEvent<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_events (id, org_id, actor_id, action, subject_type, subject_id, detail, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(new_id())
    .bind(e.org_id)
    .bind(e.actor_id)
    .bind(e.action)
    .bind(e.subject_type)
    .bind(e.subject_id)
    .bind(e.detail)
    .bind(e.at)
    .execute(conn)
    .await?;
    Ok(())
}

/// An entry as stored, with the names of its actor and subject.
pub struct EventRow {
    pub at: i64,
    pub actor_id: i64,
    pub actor_name: Option<String>,
    pub action: String,
    pub subject_type: String,
    pub subject_name: Option<String>,
    pub team_name: Option<String>,
    /// For results: the pulse's title and the cycle's number.
    pub pulse_title: Option<String>,
    pub cycle_number: Option<i64>,
    pub detail: String,
}

/// Which entries: `action` '' for any, `actor` and `subject_person` -1
/// for any.
pub struct Query<'a> {
    pub action: &'a str,
    pub actor: i64,
    pub subject_person: i64,
    pub limit: i64,
    pub offset: i64,
}

pub async fn events(db: &Db, org_id: i64, q: Query<'_>) -> Result<Vec<EventRow>, sqlx::Error> {
    sqlx::query(
        "SELECT e.at, e.action, e.subject_type, e.subject_id, e.detail, e.actor_id,
                a.name AS actor_name, s.name AS subject_name, t.name AS team_name,
                pu.title AS pulse_title, c.number AS cycle_number
         FROM audit_events e
         LEFT JOIN people a ON a.org_id = e.org_id AND a.id = e.actor_id
         LEFT JOIN people s ON s.org_id = e.org_id AND e.subject_type = 'person' AND s.id = e.subject_id
         LEFT JOIN teams t ON t.org_id = e.org_id AND e.subject_type = 'team' AND t.id = e.subject_id
         LEFT JOIN cycles c ON c.org_id = e.org_id AND e.subject_type = 'cycle' AND c.id = e.subject_id
         LEFT JOIN pulses pu ON pu.org_id = c.org_id AND pu.id = c.pulse_id
         WHERE e.org_id = $1
           AND ($2 = '' OR e.action = $2)
           AND ($3 = -1 OR e.actor_id = $3)
           AND ($4 = -1 OR (e.subject_type = 'person' AND e.subject_id = $4))
         ORDER BY e.at DESC, e.id
         LIMIT $5 OFFSET $6",
    )
    .bind(org_id)
    .bind(q.action)
    .bind(q.actor)
    .bind(q.subject_person)
    .bind(q.limit)
    .bind(q.offset)
    .fetch_all(&mut *db.acquire().await?)
    .await?
    .iter()
    .map(|r| {
        Ok(EventRow {
            at: r.try_get("at")?,
            actor_id: r.try_get("actor_id")?,
            actor_name: r.try_get("actor_name")?,
            action: r.try_get("action")?,
            subject_type: r.try_get("subject_type")?,
            subject_name: r.try_get("subject_name")?,
            team_name: r.try_get("team_name")?,
            pulse_title: r.try_get("pulse_title")?,
            cycle_number: r.try_get("cycle_number")?,
            detail: r.try_get("detail")?,
        })
    })
    .collect()
}

pub async fn actions(db: &Db, org_id: i64) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query("SELECT DISTINCT action FROM audit_events WHERE org_id = $1 ORDER BY action")
        .bind(org_id)
        .fetch_all(&mut *db.acquire().await?)
        .await?
        .iter()
        .map(|r| r.try_get("action"))
        .collect()
}

/// The organization's team names by id, to name the group of a results
/// entry.
pub async fn team_names(db: &Db, org_id: i64) -> Result<std::collections::HashMap<i64, String>, sqlx::Error> {
    sqlx::query("SELECT id, name FROM teams WHERE org_id = $1")
        .bind(org_id)
        .fetch_all(&mut *db.acquire().await?)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("name")?)))
        .collect()
}

/// The time zone a person reads times in.
pub async fn time_zone_of(db: &Db, org_id: i64, person_id: i64) -> Result<Option<String>, sqlx::Error> {
    sqlx::query("SELECT time_zone FROM people WHERE org_id = $1 AND id = $2")
        .bind(org_id)
        .bind(person_id)
        .fetch_optional(&mut *db.acquire().await?)
        .await?
        .map(|r| r.try_get("time_zone"))
        .transpose()
}
