//! Employee of the month: a round goes from nominations to a secret vote
//! to a winner posted on the board. Its SQL lives here with it.
//!
//! Votes are secret: `award_voters` says who voted (so each votes once),
//! `award_ballots` what was voted, under a random id, and no column joins
//! them. Counts are shown to HR admins and owners once the round closes.

use std::collections::HashMap;

use sqlx::{AnyConnection, Row};

use super::model;
use crate::app::App;
use crate::auth::{Actor, Permission};
use crate::error::AppError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Nominating,
    Voting,
    Closed,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Nominating => "nominating",
            Phase::Voting => "voting",
            Phase::Closed => "closed",
        }
    }

    /// A stored phase; anything else is corrupt data, an error.
    fn parse(raw: &str) -> Result<Phase, sqlx::Error> {
        match raw {
            "nominating" => Ok(Phase::Nominating),
            "voting" => Ok(Phase::Voting),
            "closed" => Ok(Phase::Closed),
            _ => Err(sqlx::Error::Decode(format!("award round phase {raw:?}").into())),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Nominee {
    pub id: i64,
    pub name: String,
    /// The reasons given, without who gave them.
    pub reasons: Vec<String>,
    /// Votes: HR admins and owners, once the round is closed.
    pub votes: Option<i64>,
}

#[derive(Clone, Debug)]
pub struct Round {
    pub id: i64,
    pub title: String,
    pub phase: Phase,
    pub winner: Option<String>,
    pub nominees: Vec<Nominee>,
    /// The reader's own part: whom they nominated, whether they voted.
    pub my_nomination: Option<String>,
    pub voted: bool,
}

async fn load_round(
    conn: &mut AnyConnection,
    dir: &crate::org::service::Directory,
    actor: &Actor,
    row: &sqlx::any::AnyRow,
) -> Result<Round, AppError> {
    let id: i64 = row.try_get("id")?;
    let phase = Phase::parse(&row.try_get::<String, _>("phase")?)?;
    let name = |p: i64| {
        dir.person(p)
            .map(|x| x.name.clone())
            .unwrap_or_else(|| "someone".into())
    };
    let mut nominees: Vec<Nominee> = Vec::new();
    let mut my_nomination = None;
    for r in sqlx::query("SELECT nominator_id, nominee_id, reason FROM award_nominations WHERE round_id = $1")
        .bind(id)
        .fetch_all(&mut *conn)
        .await?
    {
        let nominee: i64 = r.try_get("nominee_id")?;
        if r.try_get::<i64, _>("nominator_id")? == actor.person_id {
            my_nomination = Some(name(nominee));
        }
        let reason: String = r.try_get("reason")?;
        match nominees.iter_mut().find(|n| n.id == nominee) {
            Some(n) => n.reasons.push(reason),
            None => nominees.push(Nominee {
                id: nominee,
                name: name(nominee),
                reasons: vec![reason],
                votes: None,
            }),
        }
    }
    if phase == Phase::Closed && actor.can(Permission::ManageRecognition) {
        let counts = ballot_counts(conn, id).await?;
        for n in &mut nominees {
            n.votes = Some(counts.get(&n.id).copied().unwrap_or(0));
        }
    }
    nominees.sort_by_key(|n| n.name.to_lowercase());
    let voted = sqlx::query("SELECT 1 FROM award_voters WHERE round_id = $1 AND voter_id = $2")
        .bind(id)
        .bind(actor.person_id)
        .fetch_optional(&mut *conn)
        .await?
        .is_some();
    Ok(Round {
        id,
        title: row.try_get("title")?,
        phase,
        winner: row.try_get::<Option<i64>, _>("winner_id")?.map(name),
        nominees,
        my_nomination,
        voted,
    })
}

async fn ballot_counts(conn: &mut AnyConnection, round: i64) -> Result<HashMap<i64, i64>, sqlx::Error> {
    let mut out = HashMap::new();
    for r in sqlx::query("SELECT nominee_id, COUNT(*) AS n FROM award_ballots WHERE round_id = $1 GROUP BY nominee_id")
        .bind(round)
        .fetch_all(conn)
        .await?
    {
        out.insert(r.try_get("nominee_id")?, r.try_get("n")?);
    }
    Ok(out)
}

/// The organization's rounds, newest first (the open one, if any, first).
pub async fn rounds(app: &App, actor: &Actor) -> Result<Vec<Round>, AppError> {
    let dir = crate::org::service::directory(&app.db, actor.org_id).await?;
    let mut conn = app.db.acquire().await?;
    let rows = sqlx::query(
        "SELECT id, title, phase, winner_id FROM award_rounds WHERE org_id = $1
         ORDER BY CASE WHEN phase = 'closed' THEN 1 ELSE 0 END, opened_at DESC LIMIT 24",
    )
    .bind(actor.org_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(load_round(&mut conn, &dir, actor, r).await?);
    }
    Ok(out)
}

/// The round being run, locked for the transaction's writes.
async fn open_round(conn: &mut AnyConnection, org_id: i64, id: i64) -> Result<Phase, AppError> {
    let row = sqlx::query("SELECT phase FROM award_rounds WHERE org_id = $1 AND id = $2")
        .bind(org_id)
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Phase::parse(&row.try_get::<String, _>("phase")?)?)
}

/// HR opens a round; one at a time.
pub async fn open(app: &App, actor: &Actor, title: &str) -> Result<i64, AppError> {
    actor.require(Permission::ManageRecognition)?;
    let title = model::parse_value_name(title).map_err(|e| AppError::invalid("title", e.replace("value", "round")))?;
    let mut tx = app.db.begin_rule(actor.org_id).await?;
    let running = sqlx::query("SELECT 1 FROM award_rounds WHERE org_id = $1 AND phase <> 'closed'")
        .bind(actor.org_id)
        .fetch_optional(&mut *tx)
        .await?;
    if running.is_some() {
        return Err(AppError::conflict("title", "a round is running; close it first"));
    }
    let id = crate::db::new_id();
    sqlx::query("INSERT INTO award_rounds (id, org_id, title, opened_at) VALUES ($1, $2, $3, $4)")
        .bind(id)
        .bind(actor.org_id)
        .bind(&title)
        .bind(app.now().as_second())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(id)
}

/// Anyone nominates one active colleague (not themselves) per round.
pub async fn nominate(app: &App, actor: &Actor, round: i64, nominee: &str, reason: &str) -> Result<(), AppError> {
    let dir = crate::org::service::directory(&app.db, actor.org_id).await?;
    // The round first: another organization's is not found, whatever the
    // form holds.
    let mut tx = app.db.begin_rule(actor.org_id).await?;
    let phase = open_round(&mut tx, actor.org_id, round).await?;
    let colleagues = super::service::colleagues_of(&dir);
    let nominee = model::parse_recipients(&[nominee.to_owned()], actor.person_id, &colleagues)
        .map_err(|e| AppError::invalid("nominee", e.replace("thank", "nominate")))?[0];
    let reason = model::parse_message(reason).map_err(|e| {
        AppError::invalid(
            "reason",
            e.replace("say what you are thanking them for", "say why they deserve it"),
        )
    })?;
    if phase != Phase::Nominating {
        return Err(AppError::conflict("round", "nominations for this round are closed"));
    }
    let done = sqlx::query(
        "INSERT INTO award_nominations (round_id, org_id, nominator_id, nominee_id, reason) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (round_id, nominator_id) DO NOTHING",
    )
    .bind(round)
    .bind(actor.org_id)
    .bind(actor.person_id)
    .bind(nominee)
    .bind(&reason)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::conflict(
            "nominee",
            "you have nominated someone in this round already",
        ));
    }
    tx.commit().await?;
    Ok(())
}

/// HR moves a round from nominations to the vote.
pub async fn start_vote(app: &App, actor: &Actor, round: i64) -> Result<(), AppError> {
    actor.require(Permission::ManageRecognition)?;
    let mut tx = app.db.begin_rule(actor.org_id).await?;
    if open_round(&mut tx, actor.org_id, round).await? != Phase::Nominating {
        return Err(AppError::conflict("round", "the round is not taking nominations"));
    }
    let nominated = sqlx::query("SELECT 1 FROM award_nominations WHERE round_id = $1")
        .bind(round)
        .fetch_optional(&mut *tx)
        .await?;
    if nominated.is_none() {
        return Err(AppError::conflict("round", "nobody has been nominated yet"));
    }
    sqlx::query("UPDATE award_rounds SET phase = 'voting' WHERE org_id = $1 AND id = $2")
        .bind(actor.org_id)
        .bind(round)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Everyone votes once, for a nominee other than themselves. The vote is
/// stored apart from the voter.
pub async fn vote(app: &App, actor: &Actor, round: i64, nominee: &str) -> Result<(), AppError> {
    let mut tx = app.db.begin_rule(actor.org_id).await?;
    let phase = open_round(&mut tx, actor.org_id, round).await?;
    let nominee: i64 = nominee
        .trim()
        .parse()
        .map_err(|_| AppError::invalid("nominee", "choose one of the nominees"))?;
    if nominee == actor.person_id {
        return Err(AppError::invalid("nominee", "you cannot vote for yourself"));
    }
    if phase != Phase::Voting {
        return Err(AppError::conflict("round", "this round is not voting"));
    }
    let nominated = sqlx::query("SELECT 1 FROM award_nominations WHERE round_id = $1 AND nominee_id = $2")
        .bind(round)
        .bind(nominee)
        .fetch_optional(&mut *tx)
        .await?;
    if nominated.is_none() {
        return Err(AppError::invalid("nominee", "choose one of the nominees"));
    }
    let first = sqlx::query(
        "INSERT INTO award_voters (round_id, org_id, voter_id) VALUES ($1, $2, $3)
         ON CONFLICT (round_id, voter_id) DO NOTHING",
    )
    .bind(round)
    .bind(actor.org_id)
    .bind(actor.person_id)
    .execute(&mut *tx)
    .await?;
    if first.rows_affected() == 0 {
        return Err(AppError::conflict("nominee", "you have voted in this round already"));
    }
    let bytes: [u8; 16] = rand::random();
    let ballot: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    sqlx::query("INSERT INTO award_ballots (round_id, id, org_id, nominee_id) VALUES ($1, $2, $3, $4)")
        .bind(round)
        .bind(ballot)
        .bind(actor.org_id)
        .bind(nominee)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// HR closes the vote: the nominee with most votes wins and is posted to
/// the board. On a tie HR names the winner among the tied (`choice`).
pub async fn close(app: &App, actor: &Actor, round: i64, choice: &str) -> Result<String, AppError> {
    actor.require(Permission::ManageRecognition)?;
    let dir = crate::org::service::directory(&app.db, actor.org_id).await?;
    let mut tx = app.db.begin_rule(actor.org_id).await?;
    let conn: &mut AnyConnection = &mut tx;
    if open_round(conn, actor.org_id, round).await? != Phase::Voting {
        return Err(AppError::conflict("round", "only a round that is voting can close"));
    }
    let counts = ballot_counts(conn, round).await?;
    let best = counts.values().copied().max().unwrap_or(0);
    if best == 0 {
        return Err(AppError::conflict("round", "nobody has voted yet"));
    }
    let tied: Vec<i64> = counts.iter().filter(|(_, n)| **n == best).map(|(p, _)| *p).collect();
    let winner = if tied.len() == 1 {
        tied[0]
    } else {
        let names: Vec<String> = tied
            .iter()
            .filter_map(|p| dir.person(*p))
            .map(|p| format!("{} ({})", p.name, p.id))
            .collect();
        match choice.trim().parse::<i64>() {
            Ok(p) if tied.contains(&p) => p,
            _ => {
                return Err(AppError::conflict(
                    "winner",
                    format!("a tie between {}: choose the winner", names.join(" and ")),
                ));
            }
        }
    };
    let reasons: Vec<String> =
        sqlx::query("SELECT reason FROM award_nominations WHERE round_id = $1 AND nominee_id = $2")
            .bind(round)
            .bind(winner)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| r.try_get("reason"))
            .collect::<Result<_, _>>()?;
    let title: String = sqlx::query("SELECT title FROM award_rounds WHERE id = $1")
        .bind(round)
        .fetch_one(&mut *conn)
        .await?
        .try_get("title")?;
    let name = dir.person(winner).map(|p| p.name.clone()).unwrap_or_default();
    let mut message = format!("{title}: {name}. Colleagues said: {}", reasons.join(" · "));
    if message.chars().count() > model::MAX_MESSAGE {
        message = message.chars().take(model::MAX_MESSAGE - 1).collect::<String>() + "…";
    }
    let post = super::service::post_award(app, conn, &dir, actor, winner, &message).await?;
    sqlx::query(
        "UPDATE award_rounds SET phase = 'closed', closed_at = $1, winner_id = $2, thank_you_id = $3
         WHERE org_id = $4 AND id = $5 AND phase = 'voting'",
    )
    .bind(app.now().as_second())
    .bind(winner)
    .bind(post)
    .bind(actor.org_id)
    .bind(round)
    .execute(&mut *conn)
    .await?;
    tx.commit().await?;
    Ok(name)
}
