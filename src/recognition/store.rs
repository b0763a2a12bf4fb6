//! SQL of the thank-you board.

use std::collections::HashMap;

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

#[derive(Clone, Debug)]
pub struct OrgValue {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub pillar: String,
    pub active: bool,
}

pub async fn values(conn: &mut AnyConnection, org_id: i64) -> Result<Vec<OrgValue>, sqlx::Error> {
    sqlx::query("SELECT id, name, description, pillar, active FROM org_values WHERE org_id = $1 ORDER BY name_key")
        .bind(org_id)
        .fetch_all(conn)
        .await?
        .iter()
        .map(|r| {
            Ok(OrgValue {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                description: r.try_get("description")?,
                pillar: r.try_get("pillar")?,
                active: r.try_get::<i64, _>("active")? != 0,
            })
        })
        .collect()
}

pub async fn insert_value(
    conn: &mut AnyConnection,
    org_id: i64,
    id: i64,
    name: &str,
    description: &str,
    pillar: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO org_values (id, org_id, name, name_key, description, pillar, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(org_id)
    .bind(name)
    .bind(name.to_lowercase())
    .bind(description)
    .bind(pillar)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn update_value(
    conn: &mut AnyConnection,
    org_id: i64,
    id: i64,
    name: &str,
    description: &str,
    pillar: &str,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE org_values SET name = $1, name_key = $2, description = $3, pillar = $4 WHERE org_id = $5 AND id = $6",
    )
    .bind(name)
    .bind(name.to_lowercase())
    .bind(description)
    .bind(pillar)
    .bind(org_id)
    .bind(id)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

pub async fn set_value_active(
    conn: &mut AnyConnection,
    org_id: i64,
    id: i64,
    active: bool,
) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query("UPDATE org_values SET active = $1 WHERE org_id = $2 AND id = $3")
            .bind(i64::from(active))
            .bind(org_id)
            .bind(id)
            .execute(conn)
            .await?
            .rows_affected()
            == 1,
    )
}

pub struct NewThanks<'a> {
    pub id: i64,
    pub org_id: i64,
    pub author_id: i64,
    pub value_id: Option<i64>,
    pub kind: &'a str,
    pub message: &'a str,
    pub recipients: &'a [i64],
    pub now: i64,
}

pub async fn insert_thanks(conn: &mut AnyConnection, t: &NewThanks<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO thank_yous (id, org_id, author_id, value_id, kind, message, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(t.id)
    .bind(t.org_id)
    .bind(t.author_id)
    .bind(t.value_id)
    .bind(t.kind)
    .bind(t.message)
    .bind(t.now)
    .execute(&mut *conn)
    .await?;
    for p in t.recipients {
        sqlx::query("INSERT INTO thank_you_recipients (thank_you_id, org_id, person_id) VALUES ($1, $2, $3)")
            .bind(t.id)
            .bind(t.org_id)
            .bind(p)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// A thank-you as the board shows it.
#[derive(Clone, Debug)]
pub struct Post {
    pub id: i64,
    pub author_id: i64,
    pub value_id: Option<i64>,
    pub kind: String,
    pub message: String,
    pub created_at: i64,
    pub recipients: Vec<i64>,
    /// (kind, count, whether the reader is among them)
    pub reactions: Vec<(String, i64, bool)>,
}

/// A page of the board, newest first: everything, or what involves people
/// of `people` (as author or recipient). One more than `limit` is read, so
/// the caller knows whether another page follows.
pub async fn board(
    conn: &mut AnyConnection,
    org_id: i64,
    reader: i64,
    people: Option<&[i64]>,
    limit: usize,
    offset: usize,
) -> Result<Vec<Post>, sqlx::Error> {
    let filter = match people {
        None => String::new(),
        Some([]) => " AND 1 = 0".to_owned(),
        Some(ids) => {
            let list = ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", ");
            format!(
                " AND (t.author_id IN ({list}) OR EXISTS (SELECT 1 FROM thank_you_recipients r
                   WHERE r.thank_you_id = t.id AND r.person_id IN ({list})))"
            )
        }
    };
    let rows = sqlx::query(&format!(
        "SELECT t.id, t.author_id, t.value_id, t.kind, t.message, t.created_at FROM thank_yous t
         WHERE t.org_id = $1{filter} ORDER BY t.created_at DESC, t.id LIMIT $2 OFFSET $3"
    ))
    .bind(org_id)
    .bind(limit as i64 + 1)
    .bind(offset as i64)
    .fetch_all(&mut *conn)
    .await?;
    let mut posts = Vec::with_capacity(rows.len());
    for r in rows {
        posts.push(Post {
            id: r.try_get("id")?,
            author_id: r.try_get("author_id")?,
            value_id: r.try_get("value_id")?,
            kind: r.try_get("kind")?,
            message: r.try_get("message")?,
            created_at: r.try_get("created_at")?,
            recipients: Vec::new(),
            reactions: Vec::new(),
        });
    }
    if posts.is_empty() {
        return Ok(posts);
    }
    let ids = posts.iter().map(|p| p.id.to_string()).collect::<Vec<_>>().join(", ");
    let at: HashMap<i64, usize> = posts.iter().enumerate().map(|(i, p)| (p.id, i)).collect();
    for r in sqlx::query(&format!(
        "SELECT thank_you_id, person_id FROM thank_you_recipients WHERE org_id = $1 AND thank_you_id IN ({ids})"
    ))
    .bind(org_id)
    .fetch_all(&mut *conn)
    .await?
    {
        let post = at[&r.try_get::<i64, _>("thank_you_id")?];
        posts[post].recipients.push(r.try_get("person_id")?);
    }
    for r in sqlx::query(&format!(
        "SELECT thank_you_id, kind, COUNT(*) AS n, MAX(CASE WHEN person_id = $2 THEN 1 ELSE 0 END) AS mine
         FROM thank_you_reactions WHERE org_id = $1 AND thank_you_id IN ({ids})
         GROUP BY thank_you_id, kind"
    ))
    .bind(org_id)
    .bind(reader)
    .fetch_all(&mut *conn)
    .await?
    {
        let post = at[&r.try_get::<i64, _>("thank_you_id")?];
        posts[post]
            .reactions
            .push((r.try_get("kind")?, r.try_get("n")?, r.try_get::<i64, _>("mine")? != 0));
    }
    Ok(posts)
}

/// Who wrote a thank-you of the organization, if it exists (an award's
/// post is "written" by the person who closed the vote).
pub async fn thanks_author(conn: &mut AnyConnection, org_id: i64, id: i64) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query("SELECT author_id FROM thank_yous WHERE org_id = $1 AND id = $2")
        .bind(org_id)
        .bind(id)
        .fetch_optional(conn)
        .await?
        .map(|r| r.try_get("author_id"))
        .transpose()
}

/// Adds or removes one reaction; doing it twice changes nothing.
pub async fn set_reaction(
    conn: &mut AnyConnection,
    org_id: i64,
    thank_you_id: i64,
    person_id: i64,
    kind: &str,
    on: bool,
) -> Result<(), sqlx::Error> {
    let sql = if on {
        "INSERT INTO thank_you_reactions (thank_you_id, org_id, person_id, kind) VALUES ($1, $2, $3, $4)
         ON CONFLICT (thank_you_id, person_id, kind) DO NOTHING"
    } else {
        "DELETE FROM thank_you_reactions WHERE thank_you_id = $1 AND org_id = $2 AND person_id = $3 AND kind = $4"
    };
    sqlx::query(sql)
        .bind(thank_you_id)
        .bind(org_id)
        .bind(person_id)
        .bind(kind)
        .execute(conn)
        .await?;
    Ok(())
}

/// When each person of the organization was last thanked.
pub async fn last_thanked(conn: &mut AnyConnection, org_id: i64) -> Result<HashMap<i64, i64>, sqlx::Error> {
    let mut out = HashMap::new();
    for r in sqlx::query(
        "SELECT r.person_id, MAX(t.created_at) AS at FROM thank_you_recipients r
         JOIN thank_yous t ON t.org_id = r.org_id AND t.id = r.thank_you_id
         WHERE r.org_id = $1 GROUP BY r.person_id",
    )
    .bind(org_id)
    .fetch_all(conn)
    .await?
    {
        out.insert(r.try_get("person_id")?, r.try_get("at")?);
    }
    Ok(out)
}

/// Every (thank-you, author, recipient, time) since `since`, for the
/// monthly counts per team.
pub async fn since(
    conn: &mut AnyConnection,
    org_id: i64,
    since: i64,
) -> Result<Vec<(i64, i64, i64, i64)>, sqlx::Error> {
    sqlx::query(
        "SELECT t.id, t.author_id, r.person_id, t.created_at FROM thank_yous t
         JOIN thank_you_recipients r ON r.org_id = t.org_id AND r.thank_you_id = t.id
         WHERE t.org_id = $1 AND t.created_at >= $2 AND t.kind = 'thanks'",
    )
    .bind(org_id)
    .bind(since)
    .fetch_all(conn)
    .await?
    .iter()
    .map(|r| {
        Ok((
            r.try_get("id")?,
            r.try_get("author_id")?,
            r.try_get("person_id")?,
            r.try_get("created_at")?,
        ))
    })
    .collect()
}

pub async fn webhook_url(conn: &mut AnyConnection, org_id: i64) -> Result<Option<String>, sqlx::Error> {
    sqlx::query("SELECT thanks_webhook_url FROM organizations WHERE id = $1")
        .bind(org_id)
        .fetch_one(conn)
        .await?
        .try_get("thanks_webhook_url")
}

pub async fn set_webhook_url(conn: &mut AnyConnection, org_id: i64, url: Option<&str>) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE organizations SET thanks_webhook_url = $1 WHERE id = $2")
        .bind(url)
        .bind(org_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// A thank-you in someone's "My data": who wrote it, for whom, why.
pub struct Written {
    pub author_id: i64,
    pub value: Option<String>,
    pub message: String,
    pub created_at: i64,
    pub recipients: Vec<i64>,
}

/// The thank-yous a person wrote (`by_author`) or received, from `since`
/// (Unix seconds; 0 for all), oldest first.
pub async fn thanks_of(
    conn: &mut AnyConnection,
    org_id: i64,
    person_id: i64,
    by_author: bool,
    since: i64,
) -> Result<Vec<Written>, sqlx::Error> {
    let whose = match by_author {
        true => "t.author_id = $2",
        false => "EXISTS (SELECT 1 FROM thank_you_recipients r WHERE r.thank_you_id = t.id AND r.person_id = $2)",
    };
    let rows = sqlx::query(&format!(
        "SELECT t.id, t.author_id, v.name AS value, t.message, t.created_at FROM thank_yous t
         LEFT JOIN org_values v ON v.org_id = t.org_id AND v.id = t.value_id
         WHERE t.org_id = $1 AND t.kind = 'thanks' AND {whose} AND t.created_at >= $3
         ORDER BY t.created_at, t.id"
    ))
    .bind(org_id)
    .bind(person_id)
    .bind(since)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let id: i64 = r.try_get("id")?;
        let recipients =
            sqlx::query("SELECT person_id FROM thank_you_recipients WHERE org_id = $1 AND thank_you_id = $2")
                .bind(org_id)
                .bind(id)
                .fetch_all(&mut *conn)
                .await?
                .iter()
                .map(|r| r.try_get("person_id"))
                .collect::<Result<_, _>>()?;
        out.push(Written {
            author_id: r.try_get("author_id")?,
            value: r.try_get("value")?,
            message: r.try_get("message")?,
            created_at: r.try_get("created_at")?,
            recipients,
        });
    }
    Ok(out)
}

/// How many reactions a person has left on thank-yous.
pub async fn reactions_by(conn: &mut AnyConnection, org_id: i64, person_id: i64) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT COUNT(*) AS n FROM thank_you_reactions WHERE org_id = $1 AND person_id = $2")
        .bind(org_id)
        .bind(person_id)
        .fetch_one(conn)
        .await?
        .try_get("n")
}

/// A nomination in someone's "My data": the round, the nominee, the reason.
pub struct NominationOf {
    pub round: String,
    pub nominee_id: i64,
    pub reason: String,
}

/// The nominations a person made (`by_nominator`) or received.
pub async fn nominations_of(
    conn: &mut AnyConnection,
    org_id: i64,
    person_id: i64,
    by_nominator: bool,
) -> Result<Vec<NominationOf>, sqlx::Error> {
    let whose = match by_nominator {
        true => "n.nominator_id = $2",
        false => "n.nominee_id = $2",
    };
    sqlx::query(&format!(
        "SELECT r.title, n.nominee_id, n.reason FROM award_nominations n
         JOIN award_rounds r ON r.org_id = n.org_id AND r.id = n.round_id
         WHERE n.org_id = $1 AND {whose} ORDER BY r.opened_at, r.id"
    ))
    .bind(org_id)
    .bind(person_id)
    .fetch_all(conn)
    .await?
    .iter()
    .map(|r| {
        Ok(NominationOf {
            round: r.try_get("title")?,
            nominee_id: r.try_get("nominee_id")?,
            reason: r.try_get("reason")?,
        })
    })
    .collect()
}

/// The titles of the rounds a person voted in (never for whom: nothing
/// stored says) and of the rounds they won.
pub async fn rounds_of(
    conn: &mut AnyConnection,
    org_id: i64,
    person_id: i64,
) -> Result<(Vec<String>, Vec<String>), sqlx::Error> {
    let titles = |rows: Vec<AnyRow>| {
        rows.iter()
            .map(|r| r.try_get("title"))
            .collect::<Result<Vec<String>, _>>()
    };
    let voted = sqlx::query(
        "SELECT r.title FROM award_voters v JOIN award_rounds r ON r.org_id = v.org_id AND r.id = v.round_id
         WHERE v.org_id = $1 AND v.voter_id = $2 ORDER BY r.opened_at, r.id",
    )
    .bind(org_id)
    .bind(person_id)
    .fetch_all(&mut *conn)
    .await?;
    let won = sqlx::query("SELECT title FROM award_rounds WHERE org_id = $1 AND winner_id = $2 ORDER BY opened_at, id")
        .bind(org_id)
        .bind(person_id)
        .fetch_all(&mut *conn)
        .await?;
    Ok((titles(voted)?, titles(won)?))
}

// --- employee of the month -------------------------------------------------

/// A round as stored; its phase is read by `awards::Phase`.
pub struct RoundRow {
    pub id: i64,
    pub title: String,
    pub phase: String,
    pub winner_id: Option<i64>,
}

/// The organization's rounds, the running one first, then newest first.
pub async fn rounds(conn: &mut AnyConnection, org_id: i64) -> Result<Vec<RoundRow>, sqlx::Error> {
    sqlx::query(
        "SELECT id, title, phase, winner_id FROM award_rounds WHERE org_id = $1
         ORDER BY CASE WHEN phase = 'closed' THEN 1 ELSE 0 END, opened_at DESC LIMIT 24",
    )
    .bind(org_id)
    .fetch_all(conn)
    .await?
    .iter()
    .map(|r| {
        Ok(RoundRow {
            id: r.try_get("id")?,
            title: r.try_get("title")?,
            phase: r.try_get("phase")?,
            winner_id: r.try_get("winner_id")?,
        })
    })
    .collect()
}

/// A round's stored phase, if the organization has the round.
pub async fn round_phase(conn: &mut AnyConnection, org_id: i64, id: i64) -> Result<Option<String>, sqlx::Error> {
    sqlx::query("SELECT phase FROM award_rounds WHERE org_id = $1 AND id = $2")
        .bind(org_id)
        .bind(id)
        .fetch_optional(conn)
        .await?
        .map(|r| r.try_get("phase"))
        .transpose()
}

pub async fn round_running(conn: &mut AnyConnection, org_id: i64) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query("SELECT 1 FROM award_rounds WHERE org_id = $1 AND phase <> 'closed'")
            .bind(org_id)
            .fetch_optional(conn)
            .await?
            .is_some(),
    )
}

pub async fn insert_round(
    conn: &mut AnyConnection,
    id: i64,
    org_id: i64,
    title: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO award_rounds (id, org_id, title, opened_at) VALUES ($1, $2, $3, $4)")
        .bind(id)
        .bind(org_id)
        .bind(title)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// A round's nominations: (nominator, nominee, reason).
pub async fn nominations(conn: &mut AnyConnection, round: i64) -> Result<Vec<(i64, i64, String)>, sqlx::Error> {
    sqlx::query("SELECT nominator_id, nominee_id, reason FROM award_nominations WHERE round_id = $1")
        .bind(round)
        .fetch_all(conn)
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.try_get("nominator_id")?,
                r.try_get("nominee_id")?,
                r.try_get("reason")?,
            ))
        })
        .collect()
}

/// Adds a nomination; false when the nominator has one in the round.
pub async fn insert_nomination(
    conn: &mut AnyConnection,
    round: i64,
    org_id: i64,
    nominator: i64,
    nominee: i64,
    reason: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO award_nominations (round_id, org_id, nominator_id, nominee_id, reason) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (round_id, nominator_id) DO NOTHING",
    )
    .bind(round)
    .bind(org_id)
    .bind(nominator)
    .bind(nominee)
    .bind(reason)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether anyone is nominated in the round.
pub async fn any_nomination(conn: &mut AnyConnection, round: i64) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query("SELECT 1 FROM award_nominations WHERE round_id = $1")
        .bind(round)
        .fetch_optional(conn)
        .await?
        .is_some())
}

/// Whether `nominee` is nominated in the round.
pub async fn is_nominee(conn: &mut AnyConnection, round: i64, nominee: i64) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query("SELECT 1 FROM award_nominations WHERE round_id = $1 AND nominee_id = $2")
            .bind(round)
            .bind(nominee)
            .fetch_optional(conn)
            .await?
            .is_some(),
    )
}

pub async fn set_voting(conn: &mut AnyConnection, org_id: i64, round: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE award_rounds SET phase = 'voting' WHERE org_id = $1 AND id = $2")
        .bind(org_id)
        .bind(round)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn has_voted(conn: &mut AnyConnection, round: i64, person: i64) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query("SELECT 1 FROM award_voters WHERE round_id = $1 AND voter_id = $2")
            .bind(round)
            .bind(person)
            .fetch_optional(conn)
            .await?
            .is_some(),
    )
}

/// Casts a secret vote: that the voter voted, and apart from it, with
/// nothing to join the two, a ballot with a random id. False when the
/// voter has voted in the round already (and nothing is written).
pub async fn cast_vote(
    conn: &mut AnyConnection,
    round: i64,
    org_id: i64,
    voter: i64,
    nominee: i64,
) -> Result<bool, sqlx::Error> {
    let first = sqlx::query(
        "INSERT INTO award_voters (round_id, org_id, voter_id) VALUES ($1, $2, $3)
         ON CONFLICT (round_id, voter_id) DO NOTHING",
    )
    .bind(round)
    .bind(org_id)
    .bind(voter)
    .execute(&mut *conn)
    .await?;
    if first.rows_affected() == 0 {
        return Ok(false);
    }
    let bytes: [u8; 16] = rand::random();
    let ballot: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    sqlx::query("INSERT INTO award_ballots (round_id, id, org_id, nominee_id) VALUES ($1, $2, $3, $4)")
        .bind(round)
        .bind(ballot)
        .bind(org_id)
        .bind(nominee)
        .execute(conn)
        .await?;
    Ok(true)
}

/// Votes per nominee of a round.
pub async fn ballot_counts(conn: &mut AnyConnection, round: i64) -> Result<HashMap<i64, i64>, sqlx::Error> {
    sqlx::query("SELECT nominee_id, COUNT(*) AS n FROM award_ballots WHERE round_id = $1 GROUP BY nominee_id")
        .bind(round)
        .fetch_all(conn)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("nominee_id")?, r.try_get("n")?)))
        .collect()
}

/// The winner's reasons and the round's title, for the board's post.
pub async fn reasons_and_title(
    conn: &mut AnyConnection,
    round: i64,
    nominee: i64,
) -> Result<(Vec<String>, String), sqlx::Error> {
    let reasons = sqlx::query("SELECT reason FROM award_nominations WHERE round_id = $1 AND nominee_id = $2")
        .bind(round)
        .bind(nominee)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| r.try_get("reason"))
        .collect::<Result<_, _>>()?;
    let title = sqlx::query("SELECT title FROM award_rounds WHERE id = $1")
        .bind(round)
        .fetch_one(conn)
        .await?
        .try_get("title")?;
    Ok((reasons, title))
}

pub async fn close_round(
    conn: &mut AnyConnection,
    org_id: i64,
    round: i64,
    winner: i64,
    post: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE award_rounds SET phase = 'closed', closed_at = $1, winner_id = $2, thank_you_id = $3
         WHERE org_id = $4 AND id = $5 AND phase = 'voting'",
    )
    .bind(now)
    .bind(winner)
    .bind(post)
    .bind(org_id)
    .bind(round)
    .execute(conn)
    .await?;
    Ok(())
}
