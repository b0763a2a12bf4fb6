//! Rows written directly, past the service's checks and its audit trail:
//! for the demo organization, the benchmarks' organizations and the test
//! fixtures, which build an organization faster than an owner could and
//! need nothing recorded. The store itself stays private to `org`.

use sqlx::AnyConnection;

use super::model::{Organization, PersonInput, Team};
use super::store;

pub async fn organization(conn: &mut AnyConnection, org: &Organization, now: i64) -> Result<(), sqlx::Error> {
    store::insert_org(conn, org, now).await
}

pub async fn team(conn: &mut AnyConnection, org_id: i64, team: &Team, now: i64) -> Result<(), sqlx::Error> {
    store::insert_team(conn, org_id, team, now).await
}

/// A person, with the password hash given (none: cannot sign in).
pub async fn person(
    conn: &mut AnyConnection,
    org_id: i64,
    id: i64,
    input: &PersonInput,
    password_hash: Option<&str>,
    now: i64,
) -> Result<(), sqlx::Error> {
    store::insert_person(conn, org_id, id, input, password_hash, false, now).await
}
