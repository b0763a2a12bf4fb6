//! SQL for answers while a cycle is open: the cycle's wrapped key, the
//! sealed rows, the roster snapshot and who has answered. Only sealed
//! bytes reach these tables (see `pulse::sealed`).

use std::collections::HashSet;

use sqlx::{AnyConnection, Row};

use crate::config::Backend;

pub async fn insert_cycle_key(
    conn: &mut AnyConnection,
    org_id: i64,
    cycle_id: i64,
    wrapped: &[u8],
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO cycle_keys (cycle_id, org_id, wrapped) VALUES ($1, $2, $3)")
        .bind(cycle_id)
        .bind(org_id)
        .bind(wrapped)
        .execute(conn)
        .await?;
    Ok(())
}

/// The cycle's key as stored, wrapped; None when it has none.
pub async fn wrapped_key(conn: &mut AnyConnection, org_id: i64, cycle_id: i64) -> Result<Option<Vec<u8>>, sqlx::Error> {
    sqlx::query("SELECT wrapped FROM cycle_keys WHERE org_id = $1 AND cycle_id = $2")
        .bind(org_id)
        .bind(cycle_id)
        .fetch_optional(conn)
        .await?
        .map(|r| r.try_get("wrapped"))
        .transpose()
}

/// Every sealed answer of a cycle, as stored.
pub async fn sealed(conn: &mut AnyConnection, org_id: i64, cycle_id: i64) -> Result<Vec<Vec<u8>>, sqlx::Error> {
    sqlx::query("SELECT sealed FROM sealed_answers WHERE org_id = $1 AND cycle_id = $2")
        .bind(org_id)
        .bind(cycle_id)
        .fetch_all(conn)
        .await?
        .iter()
        .map(|r| r.try_get("sealed"))
        .collect()
}

/// Appends sealed answers of a cycle, in the order given.
pub async fn insert_sealed(
    conn: &mut AnyConnection,
    org_id: i64,
    cycle_id: i64,
    rows: &[Vec<u8>],
) -> Result<(), sqlx::Error> {
    for chunk in rows.chunks(crate::db::ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO sealed_answers (cycle_id, org_id, sealed) VALUES {}",
            crate::db::placeholders(chunk.len(), 3)
        );
        let mut q = sqlx::query(&sql);
        for sealed in chunk {
            q = q.bind(cycle_id).bind(org_id).bind(sealed);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Deletes a cycle's sealed answers and its key.
pub async fn delete_sealed(conn: &mut AnyConnection, org_id: i64, cycle_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sealed_answers WHERE org_id = $1 AND cycle_id = $2")
        .bind(org_id)
        .bind(cycle_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM cycle_keys WHERE org_id = $1 AND cycle_id = $2")
        .bind(org_id)
        .bind(cycle_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Everyone on the cycle's roster may answer again.
pub async fn reset_answered(conn: &mut AnyConnection, org_id: i64, cycle_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE participation SET answered = 0 WHERE org_id = $1 AND cycle_id = $2")
        .bind(org_id)
        .bind(cycle_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Every cycle with a key: (organization, cycle, sealed answers).
pub async fn keyed_cycles(conn: &mut AnyConnection) -> Result<Vec<(i64, i64, i64)>, sqlx::Error> {
    sqlx::query(
        "SELECT k.org_id, k.cycle_id, (SELECT COUNT(*) FROM sealed_answers s WHERE s.cycle_id = k.cycle_id) AS n
         FROM cycle_keys k ORDER BY k.org_id, k.cycle_id",
    )
    .fetch_all(conn)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("org_id")?, r.try_get("cycle_id")?, r.try_get("n")?)))
    .collect()
}

/// When a cycle takes answers: opens at, closes at, closed at.
pub type Window = (i64, i64, Option<i64>);

/// A cycle's window, or None when there is no such cycle. On PostgreSQL
/// the cycle's row is share-locked, so a close (which locks it for update)
/// waits for the caller's transaction, or the caller for the close.
pub async fn window_locked(
    conn: &mut AnyConnection,
    backend: Backend,
    org_id: i64,
    cycle_id: i64,
) -> Result<Option<Window>, sqlx::Error> {
    let lock = match backend {
        Backend::Postgres => " FOR SHARE",
        Backend::Sqlite => "",
    };
    sqlx::query(&format!(
        "SELECT opens_at, closes_at, closed_at FROM cycles WHERE org_id = $1 AND id = $2{lock}"
    ))
    .bind(org_id)
    .bind(cycle_id)
    .fetch_optional(conn)
    .await?
    .map(|r| Ok((r.try_get("opens_at")?, r.try_get("closes_at")?, r.try_get("closed_at")?)))
    .transpose()
}

/// A roster entry: person, team and tenure band as recorded at opening.
pub type RosterEntry = (i64, Option<i64>, Option<String>);

pub async fn roster_snapshot(
    conn: &mut AnyConnection,
    org_id: i64,
    cycle_id: i64,
) -> Result<Vec<RosterEntry>, sqlx::Error> {
    sqlx::query("SELECT person_id, team_id, tenure_band FROM cycle_roster WHERE org_id = $1 AND cycle_id = $2")
        .bind(org_id)
        .bind(cycle_id)
        .fetch_all(conn)
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.try_get("person_id")?,
                r.try_get("team_id")?,
                r.try_get("tenure_band")?,
            ))
        })
        .collect()
}

/// `$3, $4, …`: `n` parameters after the organization and the cycle.
fn after_two(n: usize) -> String {
    (3..3 + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// Those of `persons` who have already answered the cycle.
pub async fn already_answered(
    conn: &mut AnyConnection,
    org_id: i64,
    cycle_id: i64,
    persons: &[i64],
) -> Result<HashSet<i64>, sqlx::Error> {
    let select = format!(
        "SELECT person_id FROM participation
         WHERE org_id = $1 AND cycle_id = $2 AND answered = 1 AND person_id IN ({})",
        after_two(persons.len())
    );
    let mut q = sqlx::query_as::<_, (i64,)>(&select).bind(org_id).bind(cycle_id);
    for p in persons {
        q = q.bind(p);
    }
    Ok(q.fetch_all(conn).await?.into_iter().map(|(p,)| p).collect())
}

/// Marks `persons` as having answered the cycle; how many rows changed.
pub async fn mark_answered(
    conn: &mut AnyConnection,
    org_id: i64,
    cycle_id: i64,
    persons: &[i64],
) -> Result<u64, sqlx::Error> {
    let update = format!(
        "UPDATE participation SET answered = 1
         WHERE org_id = $1 AND cycle_id = $2 AND answered = 0 AND person_id IN ({})",
        after_two(persons.len())
    );
    let mut q = sqlx::query(&update).bind(org_id).bind(cycle_id);
    for p in persons {
        q = q.bind(p);
    }
    Ok(q.execute(conn).await?.rows_affected())
}

/// Who a personal link is for: (cycle, organization, person).
pub type LinkFor = (i64, i64, i64);

/// Whom each of these link hashes is for (those that are anyone's).
pub async fn invitations_by_hash(
    conn: &mut AnyConnection,
    hashes: &[&str],
) -> Result<std::collections::HashMap<String, LinkFor>, sqlx::Error> {
    let sql = format!(
        "SELECT token_hash, cycle_id, org_id, person_id FROM invitations WHERE token_hash IN {}",
        crate::db::placeholders(1, hashes.len())
    );
    let mut q = sqlx::query(&sql);
    for hash in hashes {
        q = q.bind(*hash);
    }
    q.fetch_all(conn)
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.try_get("token_hash")?,
                (r.try_get("cycle_id")?, r.try_get("org_id")?, r.try_get("person_id")?),
            ))
        })
        .collect()
}
