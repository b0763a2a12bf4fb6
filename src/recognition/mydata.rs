//! Recognition's part of "My data": the thank-yous a person wrote and
//! received, their reactions, and their part in employee-of-the-month
//! rounds (nominations, that they voted, what they won; never their vote,
//! which nothing stored ties to them).

use askama::Template;
use serde::Serialize;

use super::store;
use crate::app::App;
use crate::auth::Actor;
use crate::error::AppError;
use crate::module::MyData;
use crate::org::service::Directory;

#[derive(Serialize)]
struct ThanksOut {
    on: String,
    from: String,
    to: Vec<String>,
    value: Option<String>,
    message: String,
}

#[derive(Serialize)]
struct NominationOut {
    round: String,
    /// Absent for a nomination received: who nominated you is theirs.
    #[serde(skip_serializing_if = "Option::is_none")]
    nominee: Option<String>,
    reason: String,
}

#[derive(Serialize, Template)]
#[template(path = "recognition/templates/my_data.html")]
struct Recognition {
    thanks_given: Vec<ThanksOut>,
    thanks_received: Vec<ThanksOut>,
    reactions_given: i64,
    nominations_made: Vec<NominationOut>,
    nominations_received: Vec<NominationOut>,
    rounds_voted_in: Vec<String>,
    rounds_won: Vec<String>,
}

pub async fn part(app: &App, actor: &Actor) -> Result<MyData, AppError> {
    let (org_id, id) = (actor.org_id, actor.person_id);
    let dir = crate::org::service::directory(&app.db, org_id).await?;
    let conn = &mut *app.db.acquire().await?;
    let (_, zone) = crate::org::service::time_zone(conn, org_id).await?;
    let name = |p: i64| {
        dir.person(p)
            .map_or_else(|| "someone who left".to_owned(), |p| p.name.clone())
    };
    let thanks = |w: store::Written| ThanksOut {
        on: jiff::Timestamp::from_second(w.created_at)
            .map(|t| t.to_zoned(zone.clone()).strftime("%Y-%m-%d").to_string())
            .unwrap_or_default(),
        from: name(w.author_id),
        to: w.recipients.iter().map(|p| name(*p)).collect(),
        value: w.value,
        message: w.message,
    };
    let given = store::thanks_of(conn, org_id, id, true, 0).await?;
    let received = store::thanks_of(conn, org_id, id, false, 0).await?;
    let made = store::nominations_of(conn, org_id, id, true).await?;
    let of_me = store::nominations_of(conn, org_id, id, false).await?;
    let (voted, won) = store::rounds_of(conn, org_id, id).await?;
    let part = Recognition {
        thanks_given: given.into_iter().map(thanks).collect(),
        thanks_received: received.into_iter().map(thanks).collect(),
        reactions_given: store::reactions_by(conn, org_id, id).await?,
        nominations_made: nominations(&dir, made, true),
        nominations_received: nominations(&dir, of_me, false),
        rounds_voted_in: voted,
        rounds_won: won,
    };
    MyData::of(&part, &part)
}

fn nominations(dir: &Directory, all: Vec<store::NominationOf>, made: bool) -> Vec<NominationOut> {
    all.into_iter()
        .map(|n| NominationOut {
            round: n.round,
            nominee: made.then(|| dir.person(n.nominee_id).map_or_else(String::new, |p| p.name.clone())),
            reason: n.reason,
        })
        .collect()
}
