//! The SQL of the master key's check value (`key_check`, one row).

use sqlx::{AnyConnection, Row};

pub async fn check_value(conn: &mut AnyConnection) -> Result<Option<Vec<u8>>, sqlx::Error> {
    sqlx::query("SELECT sealed FROM key_check WHERE id = 1")
        .fetch_optional(conn)
        .await?
        .map(|r| r.try_get("sealed"))
        .transpose()
}

pub async fn set_check_value(conn: &mut AnyConnection, sealed: &[u8]) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO key_check (id, sealed) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET sealed = excluded.sealed",
    )
    .bind(sealed)
    .execute(conn)
    .await?;
    Ok(())
}
