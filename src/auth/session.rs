//! Server-side sessions. The browser holds a random token in an HttpOnly
//! cookie; the database holds only its hash, so a stolen backup cannot be
//! replayed as a sign-in.

use jiff::Timestamp;

use super::store::{self, NewSession};
use super::{Actor, Role, hash_token, random_token};
use crate::db::Db;

pub const COOKIE: &str = "belong_session";

/// A live sign-in, with what every page needs to know about the person.
#[derive(Clone, Debug)]
pub struct Session {
    pub actor: Actor,
    pub csrf_token: String,
    pub person_name: String,
    pub org_name: String,
    pub must_change_password: bool,
}

/// Starts a session and returns the token for the cookie.
pub async fn start(db: &Db, org_id: i64, person_id: i64, now: Timestamp, hours: i64) -> Result<String, sqlx::Error> {
    let token = random_token();
    let session = NewSession {
        token_hash: &hash_token(&token),
        org_id,
        person_id,
        csrf_token: &random_token(),
        created_at: now.as_second(),
        expires_at: now.as_second() + hours * 3600,
    };
    store::insert_session(db, session).await?;
    Ok(token)
}

/// The session a cookie token stands for, if it is live and its person is
/// still active.
pub async fn load(db: &Db, token: &str, now: Timestamp) -> Result<Option<Session>, sqlx::Error> {
    let Some(row) = store::live_session(db, &hash_token(token), now.as_second()).await? else {
        return Ok(None);
    };
    Ok(Some(Session {
        actor: Actor {
            org_id: row.org_id,
            person_id: row.person_id,
            role: Role::parse(&row.role).map_err(|e| sqlx::Error::Decode(e.into()))?,
        },
        csrf_token: row.csrf_token,
        person_name: row.person_name,
        org_name: row.org_name,
        must_change_password: row.must_change_password,
    }))
}

pub async fn end(db: &Db, token: &str) -> Result<(), sqlx::Error> {
    store::delete_session(db, &hash_token(token)).await
}

/// How many browsers a person is signed in on.
pub async fn count_live(db: &Db, org_id: i64, person_id: i64, now: Timestamp) -> Result<i64, sqlx::Error> {
    store::count_live_sessions(db, org_id, person_id, now.as_second()).await
}

/// Ends every session of a person except, optionally, one to keep.
pub async fn end_all_for(db: &Db, org_id: i64, person_id: i64, keep_token: Option<&str>) -> Result<(), sqlx::Error> {
    let keep = keep_token.map(hash_token).unwrap_or_default();
    store::delete_sessions_but(db, org_id, person_id, &keep).await
}

/// Removes expired sessions (run at start-up; later by the job worker).
pub async fn purge_expired(db: &Db, now: Timestamp) -> Result<u64, sqlx::Error> {
    store::delete_expired_sessions(db, now.as_second()).await
}
