//! Employee of the month: a round goes from nominations to a secret vote
//! to a winner posted on the board. Its SQL lives here with it.
//!
//! Votes are secret: `award_voters` says who voted (so each votes once),
//! `award_ballots` what was voted, under a random id, and no column joins
//! them. Counts are shown to HR admins and owners once the round closes.

use sqlx::AnyConnection;

use super::{model, store};
use crate::app::App;
use crate::auth::{Actor, Permission};
use crate::error::{AppError, FieldError};

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
    row: store::RoundRow,
) -> Result<Round, AppError> {
    let id = row.id;
    let phase = Phase::parse(&row.phase)?;
    let name = |p: i64| {
        dir.person(p)
            .map(|x| x.name.clone())
            .unwrap_or_else(|| "someone".into())
    };
    let mut nominees: Vec<Nominee> = Vec::new();
    let mut my_nomination = None;
    for (nominator, nominee, reason) in store::nominations(conn, id).await? {
        if nominator == actor.person_id {
            my_nomination = Some(name(nominee));
        }
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
        let counts = store::ballot_counts(conn, id).await?;
        for n in &mut nominees {
            n.votes = Some(counts.get(&n.id).copied().unwrap_or(0));
        }
    }
    nominees.sort_by_key(|n| n.name.to_lowercase());
    let voted = store::has_voted(conn, id, actor.person_id).await?;
    Ok(Round {
        id,
        title: row.title,
        phase,
        winner: row.winner_id.map(name),
        nominees,
        my_nomination,
        voted,
    })
}

/// The organization's rounds, newest first (the open one, if any, first).
pub async fn rounds(app: &App, actor: &Actor) -> Result<Vec<Round>, AppError> {
    let dir = crate::org::service::directory(&app.db, actor.org_id).await?;
    let mut conn = app.db.acquire().await?;
    let rows = store::rounds(&mut conn, actor.org_id).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(load_round(&mut conn, &dir, actor, r).await?);
    }
    Ok(out)
}

/// The round being run, locked for the transaction's writes.
async fn open_round(conn: &mut AnyConnection, org_id: i64, id: i64) -> Result<Phase, AppError> {
    let phase = store::round_phase(conn, org_id, id).await?.ok_or(AppError::NotFound)?;
    Ok(Phase::parse(&phase)?)
}

/// HR opens a round; one at a time.
pub async fn open(app: &App, actor: &Actor, title: &str) -> Result<i64, AppError> {
    actor.require(Permission::ManageRecognition)?;
    let title = model::parse_value_name(title).map_err(|e| AppError::invalid("title", e.replace("value", "round")))?;
    let mut tx = app.db.begin_rule(actor.org_id).await?;
    if store::round_running(&mut tx, actor.org_id).await? {
        return Err(AppError::conflict("title", "a round is running; close it first"));
    }
    let id = crate::db::new_id();
    store::insert_round(&mut tx, id, actor.org_id, &title, app.now().as_second()).await?;
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
    // Both fields are checked before either is refused: every problem at once.
    let mut problems = Vec::new();
    let nominee = model::parse_recipients(&[nominee.to_owned()], actor.person_id, &colleagues)
        .map_err(|e| problems.push(FieldError::new("nominee", e.replace("thank", "nominate"))));
    let reason = model::parse_message(reason).map_err(|e| {
        problems.push(FieldError::new(
            "reason",
            e.replace("say what you are thanking them for", "say why they deserve it"),
        ))
    });
    let (Ok(nominee), Ok(reason)) = (nominee, reason) else {
        return Err(AppError::fields(problems));
    };
    let nominee = nominee[0];
    if phase != Phase::Nominating {
        return Err(AppError::conflict("round", "nominations for this round are closed"));
    }
    if !store::insert_nomination(&mut tx, round, actor.org_id, actor.person_id, nominee, &reason).await? {
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
    if !store::any_nomination(&mut tx, round).await? {
        return Err(AppError::conflict("round", "nobody has been nominated yet"));
    }
    store::set_voting(&mut tx, actor.org_id, round).await?;
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
    if !store::is_nominee(&mut tx, round, nominee).await? {
        return Err(AppError::invalid("nominee", "choose one of the nominees"));
    }
    if !store::cast_vote(&mut tx, round, actor.org_id, actor.person_id, nominee).await? {
        return Err(AppError::conflict("nominee", "you have voted in this round already"));
    }
    tx.commit().await?;
    Ok(())
}

/// HR closes the vote: the nominee with most votes wins and is posted to
/// the board. On a tie HR names the winner among the tied (`choice`).
/// Refuses, as [`close`] would, a round that cannot close now (the page
/// that asks first).
pub async fn may_close(app: &App, actor: &Actor, round: i64) -> Result<(), AppError> {
    actor.require(Permission::ManageRecognition)?;
    if open_round(&mut *app.db.acquire().await?, actor.org_id, round).await? != Phase::Voting {
        return Err(AppError::conflict("round", "only a round that is voting can close"));
    }
    Ok(())
}

pub async fn close(app: &App, actor: &Actor, round: i64, choice: &str) -> Result<String, AppError> {
    actor.require(Permission::ManageRecognition)?;
    let dir = crate::org::service::directory(&app.db, actor.org_id).await?;
    let mut tx = app.db.begin_rule(actor.org_id).await?;
    let conn: &mut AnyConnection = &mut tx;
    if open_round(conn, actor.org_id, round).await? != Phase::Voting {
        return Err(AppError::conflict("round", "only a round that is voting can close"));
    }
    let counts = store::ballot_counts(conn, round).await?;
    let best = counts.values().copied().max().unwrap_or(0);
    if best == 0 {
        return Err(AppError::conflict("round", "nobody has voted yet"));
    }
    let tied: Vec<i64> = counts.iter().filter(|(_, n)| **n == best).map(|(p, _)| *p).collect();
    let winner = if tied.len() == 1 {
        tied[0]
    } else {
        let votes = |n: i64| {
            if n == 1 {
                "1 vote".to_owned()
            } else {
                format!("{n} votes")
            }
        };
        let mut names: Vec<String> = tied
            .iter()
            .filter_map(|p| dir.person(*p))
            .map(|p| format!("{} ({})", p.name, votes(best)))
            .collect();
        names.sort();
        match choice.trim().parse::<i64>() {
            Ok(p) if tied.contains(&p) => p,
            _ => {
                return Err(AppError::conflict(
                    "winner",
                    format!(
                        "a tie between {}: choose the winner under “On a tie, the winner”, then close the vote again",
                        names.join(" and ")
                    ),
                ));
            }
        }
    };
    let (reasons, title) = store::reasons_and_title(conn, round, winner).await?;
    let name = dir.person(winner).map(|p| p.name.clone()).unwrap_or_default();
    let mut message = format!("{title}: {name}. Colleagues said: {}", reasons.join(" · "));
    if message.chars().count() > model::MAX_MESSAGE {
        message = message.chars().take(model::MAX_MESSAGE - 1).collect::<String>() + "…";
    }
    let post = super::service::post_award(app, conn, &dir, actor, winner, &message).await?;
    store::close_round(conn, actor.org_id, round, winner, post, app.now().as_second()).await?;
    tx.commit().await?;
    Ok(name)
}
