//! The statements the benchmarks run themselves: building their data in
//! bulk (thousands of people and answered rosters at once, past the
//! services) and counting what the server stored. No product code calls
//! these.

use std::ops::Range;

use sqlx::{AnyConnection, Row};

use crate::app::App;
use crate::auth::Role;
use crate::db::{Db, new_id};

/// People `range` of a bench organization: one team of ten each
/// (`teams[i / 10]`), every tenth a manager, start dates over 11 years.
pub(super) async fn insert_people(
    conn: &mut AnyConnection,
    org_id: i64,
    teams: &[i64],
    range: Range<usize>,
    now: i64,
) -> Result<(), sqlx::Error> {
    let mut sql = String::from(
        "INSERT INTO people (id, org_id, name, email, email_key, role, team_id, start_date, time_zone, active, must_change_password, created_at, updated_at) VALUES ",
    );
    let rows: Vec<String> = range
        .map(|i| {
            let year = 2015 + (i % 11);
            format!(
                "({}, {org_id}, 'Person {i}', 'p{i}@bench.example', 'p{i}@bench.example', '{}', {}, '{year}-03-01', 'UTC', 1, 0, {now}, {now})",
                new_id(),
                if i % 10 == 0 { Role::Manager.as_str() } else { Role::Employee.as_str() },
                teams[i / 10],
            )
        })
        .collect();
    sql.push_str(&rows.join(", "));
    sqlx::query(&sql).execute(conn).await?;
    Ok(())
}

/// Everyone of the organization, with their team.
pub(super) async fn people_and_teams(app: &App, org_id: i64) -> anyhow::Result<Vec<(i64, Option<i64>)>> {
    Ok(sqlx::query("SELECT id, team_id FROM people WHERE org_id = $1")
        .bind(org_id)
        .fetch_all(&app.db.pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("team_id")?)))
        .collect::<Result<_, sqlx::Error>>()?)
}

/// Puts these people on a cycle's roster (tenure 3 years or more), all
/// marked as having answered.
pub(super) async fn insert_answered_roster(
    conn: &mut sqlx::AnyConnection,
    org_id: i64,
    cycle_id: i64,
    people: &[(i64, Option<i64>)],
) -> Result<(), sqlx::Error> {
    let roster: Vec<String> = people
        .iter()
        .map(|(p, t)| {
            let team = t.map(|t| t.to_string()).unwrap_or_else(|| "NULL".into());
            format!("({cycle_id}, {org_id}, {p}, {team}, '3 years or more')")
        })
        .collect();
    sqlx::query(&format!(
        "INSERT INTO cycle_roster (cycle_id, org_id, person_id, team_id, tenure_band) VALUES {}",
        roster.join(", ")
    ))
    .execute(&mut *conn)
    .await?;
    let participation: Vec<String> = people
        .iter()
        .map(|(p, _)| format!("({cycle_id}, {org_id}, {p}, 1)"))
        .collect();
    sqlx::query(&format!(
        "INSERT INTO participation (cycle_id, org_id, person_id, answered) VALUES {}",
        participation.join(", ")
    ))
    .execute(conn)
    .await?;
    Ok(())
}

/// The queued jobs, gone: the bench server would otherwise spend its time
/// "sending" them.
pub(super) async fn delete_jobs(db: &Db) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM jobs")
        .execute(&mut *db.acquire().await?)
        .await?;
    Ok(())
}

/// The first person of the organization, made an owner.
pub(super) async fn make_an_owner(db: &Db, org_id: i64) -> Result<i64, sqlx::Error> {
    let conn = &mut *db.acquire().await?;
    let id: i64 = sqlx::query("SELECT id FROM people WHERE org_id = $1 ORDER BY id LIMIT 1")
        .bind(org_id)
        .fetch_one(&mut *conn)
        .await?
        .try_get("id")?;
    sqlx::query("UPDATE people SET role = 'owner' WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(id)
}

/// The newest cycle (of the organization, closed) by id.
pub(super) async fn latest_cycle(db: &Db, org_closed: Option<i64>) -> Result<i64, sqlx::Error> {
    let conn = &mut *db.acquire().await?;
    match org_closed {
        Some(org_id) => sqlx::query("SELECT MAX(id) AS id FROM cycles WHERE org_id = $1 AND closed_at IS NOT NULL")
            .bind(org_id)
            .fetch_one(conn)
            .await?
            .try_get("id"),
        None => sqlx::query("SELECT MAX(id) AS id FROM cycles")
            .fetch_one(conn)
            .await?
            .try_get("id"),
    }
}

/// What a cycle holds: responses kept at close, sealed answers, people
/// marked as having answered.
pub(super) async fn cycle_counts(db: &Db, cycle_id: i64) -> Result<(i64, i64, i64), sqlx::Error> {
    let conn = &mut *db.acquire().await?;
    let mut counts = [0i64; 3];
    for (n, sql) in counts.iter_mut().zip([
        "SELECT COUNT(*) AS n FROM responses WHERE cycle_id = $1",
        "SELECT COUNT(*) AS n FROM sealed_answers WHERE cycle_id = $1",
        "SELECT COUNT(*) AS n FROM participation WHERE cycle_id = $1 AND answered = 1",
    ]) {
        *n = sqlx::query(sql)
            .bind(cycle_id)
            .fetch_one(&mut *conn)
            .await?
            .try_get("n")?;
    }
    Ok((counts[0], counts[1], counts[2]))
}

/// The id of the organization with this slug (the demo's, seeded).
pub(super) async fn org_id(app: &App, slug: &str) -> anyhow::Result<i64> {
    Ok(crate::org::service::org_by_slug(&app.db, slug)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no organization {slug:?}"))?
        .id)
}
