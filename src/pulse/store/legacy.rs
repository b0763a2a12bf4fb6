//! SQL for answers stored before sealing existed (`legacy_responses`, kept
//! by migration 0011 until the server, knowing the master key, moves them).

use sqlx::{AnyConnection, Row};

use super::StoredResponse;
use crate::config::Backend;

pub async fn legacy_exists(conn: &mut AnyConnection, backend: Backend) -> Result<bool, sqlx::Error> {
    let sql = match backend {
        Backend::Sqlite => "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'legacy_responses'",
        Backend::Postgres => {
            "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'legacy_responses'"
        }
    };
    Ok(sqlx::query(sql).fetch_one(conn).await?.try_get::<i64, _>("n")? > 0)
}

/// Every legacy response with its (organization, cycle).
pub async fn legacy_responses(conn: &mut AnyConnection) -> Result<Vec<((i64, i64), StoredResponse)>, sqlx::Error> {
    sqlx::query("SELECT org_id, cycle_id, team_id, tenure_band, answers, segments, comment FROM legacy_responses")
        .fetch_all(conn)
        .await?
        .iter()
        .map(|r| {
            Ok((
                (r.try_get("org_id")?, r.try_get("cycle_id")?),
                StoredResponse {
                    team_id: r.try_get("team_id")?,
                    tenure_band: r.try_get("tenure_band")?,
                    comment: r.try_get("comment")?,
                    answers: crate::pulse::model::unpack_answers(r.try_get::<&str, _>("answers")?),
                    segments: crate::pulse::model::unpack_segments(r.try_get::<Option<&str>, _>("segments")?),
                },
            ))
        })
        .collect()
}

/// Open cycles without a key: (organization, cycle).
pub async fn open_cycles_without_key(conn: &mut AnyConnection) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    sqlx::query(
        "SELECT org_id, id FROM cycles c WHERE closed_at IS NULL
         AND NOT EXISTS (SELECT 1 FROM cycle_keys k WHERE k.cycle_id = c.id)",
    )
    .fetch_all(conn)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("org_id")?, r.try_get("id")?)))
    .collect()
}

/// What a closed cycle's kept responses depend on: its k, its stored plan,
/// and whether the organization keeps responses at all.
pub struct Keeping {
    pub k: i64,
    pub plan: Option<String>,
    pub keep_responses: bool,
}

pub async fn keeping(conn: &mut AnyConnection, org_id: i64, cycle_id: i64) -> Result<Option<Keeping>, sqlx::Error> {
    sqlx::query(
        "SELECT c.anonymity_k, c.plan, o.keep_responses FROM cycles c JOIN organizations o ON o.id = c.org_id
         WHERE c.org_id = $1 AND c.id = $2",
    )
    .bind(org_id)
    .bind(cycle_id)
    .fetch_optional(conn)
    .await?
    .map(|r| {
        Ok(Keeping {
            k: r.try_get("anonymity_k")?,
            plan: r.try_get("plan")?,
            keep_responses: r.try_get::<i64, _>("keep_responses")? != 0,
        })
    })
    .transpose()
}

pub async fn drop_legacy(conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
    sqlx::query("DROP TABLE legacy_responses").execute(conn).await?;
    Ok(())
}
