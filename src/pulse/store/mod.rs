//! SQL for pulses. Every statement is scoped by organization. Nothing here
//! joins participation to responses: no such query can be written, because
//! the two share no column.

mod answers;
mod legacy;

pub use answers::*;
pub use legacy::*;

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::model::{BUILTIN, Pillar, Question, pack_answers, pack_segments};
use super::segments::SegmentQuestion;
use crate::db::{Db, new_id};

fn question_from_row(r: &AnyRow) -> Result<Question, sqlx::Error> {
    let pillar: String = r.try_get("pillar")?;
    Ok(Question {
        id: r.try_get("id")?,
        family: r.try_get("family")?,
        version: r.try_get("version")?,
        pillar: Pillar::parse(&pillar).ok_or_else(|| sqlx::Error::Decode("unknown pillar".into()))?,
        text: r.try_get("text")?,
        builtin: r.try_get::<i64, _>("builtin")? != 0,
        retired: r.try_get::<i64, _>("retired")? != 0,
    })
}

/// Gives an organization the built-in question bank, once.
pub async fn ensure_bank(conn: &mut AnyConnection, org_id: i64, now: i64) -> Result<(), sqlx::Error> {
    let has: Option<AnyRow> = sqlx::query("SELECT 1 FROM questions WHERE org_id = $1 AND builtin = 1 LIMIT 1")
        .bind(org_id)
        .fetch_optional(&mut *conn)
        .await?;
    if has.is_some() {
        return Ok(());
    }
    for (i, (pillar, text)) in BUILTIN.iter().enumerate() {
        let id = new_id();
        sqlx::query(
            "INSERT INTO questions (id, org_id, family, version, kind, pillar, text, builtin, retired, created_at)
             VALUES ($1, $2, $1, 1, $3, $4, $5, 1, 0, $6)",
        )
        .bind(id)
        .bind(org_id)
        .bind(pillar.kind())
        .bind(pillar.as_str())
        .bind(*text)
        // Keeps the bank in the order it is written in.
        .bind(now + i as i64)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

const QUESTION_COLUMNS: &str = "id, family, version, pillar, text, builtin, retired";

/// The bank, pillar by pillar in the model's order, oldest first.
pub async fn questions(conn: &mut AnyConnection, org_id: i64) -> Result<Vec<Question>, sqlx::Error> {
    let mut qs = sqlx::query(&format!(
        "SELECT {QUESTION_COLUMNS} FROM questions WHERE org_id = $1 ORDER BY created_at, id"
    ))
    .bind(org_id)
    .fetch_all(conn)
    .await?
    .iter()
    .map(question_from_row)
    .collect::<Result<Vec<_>, _>>()?;
    qs.sort_by_key(|q| q.pillar);
    Ok(qs)
}

pub async fn insert_question(
    conn: &mut AnyConnection,
    org_id: i64,
    family: Option<(i64, i64)>,
    pillar: Pillar,
    text: &str,
    now: i64,
) -> Result<i64, sqlx::Error> {
    let id = new_id();
    let (family, version) = family.unwrap_or((id, 1));
    sqlx::query(
        "INSERT INTO questions (id, org_id, family, version, kind, pillar, text, builtin, retired, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 0, 0, $8)",
    )
    .bind(id)
    .bind(org_id)
    .bind(family)
    .bind(version)
    .bind(pillar.kind())
    .bind(pillar.as_str())
    .bind(text)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(id)
}

pub async fn question_has_answers(conn: &mut AnyConnection, question_id: i64) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "SELECT 1 FROM cycle_questions c WHERE c.question_id = $1
         AND EXISTS (SELECT 1 FROM participation x WHERE x.cycle_id = c.cycle_id AND x.answered = 1) LIMIT 1",
    )
    .bind(question_id)
    .fetch_optional(conn)
    .await?
    .is_some())
}

/// Records the questions a cycle asks, in the order given.
pub async fn insert_cycle_questions(
    conn: &mut AnyConnection,
    org_id: i64,
    cycle_id: i64,
    questions: &[i64],
) -> Result<(), sqlx::Error> {
    for (pos, q) in questions.iter().enumerate() {
        sqlx::query("INSERT INTO cycle_questions (cycle_id, org_id, question_id, position) VALUES ($1, $2, $3, $4)")
            .bind(cycle_id)
            .bind(org_id)
            .bind(q)
            .bind(pos as i64)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The questions a cycle asks, in order.
pub async fn cycle_questions(
    conn: &mut AnyConnection,
    org_id: i64,
    cycle_id: i64,
) -> Result<Vec<Question>, sqlx::Error> {
    sqlx::query(
        "SELECT q.id, q.family, q.version, q.pillar, q.text, q.builtin, q.retired
         FROM cycle_questions c JOIN questions q ON q.org_id = c.org_id AND q.id = c.question_id
         WHERE c.org_id = $1 AND c.cycle_id = $2 ORDER BY c.position",
    )
    .bind(org_id)
    .bind(cycle_id)
    .fetch_all(conn)
    .await?
    .iter()
    .map(question_from_row)
    .collect()
}

/// A cycle and its pulse's title.
#[derive(Clone, Debug)]
pub struct Cycle {
    pub id: i64,
    pub org_id: i64,
    pub pulse_id: i64,
    pub title: String,
    pub number: i64,
    pub opens_at: i64,
    pub closes_at: i64,
    pub closed_at: Option<i64>,
    pub k: u32,
    pub plan: Option<String>,
}

impl Cycle {
    /// The plan a closed cycle stored when it closed (empty before). A
    /// stored plan that does not read is corrupt data: an error, never an
    /// empty plan.
    pub fn released_plan(&self) -> Result<crate::privacy::plan::Plan, crate::error::AppError> {
        match self.plan.as_deref() {
            None => Ok(Default::default()),
            Some(p) => serde_json::from_str(p).map_err(|e| {
                crate::error::AppError::internal(format!("cycle {}: the stored plan does not read: {e}", self.id))
            }),
        }
    }
}

impl Cycle {
    pub fn is_closed(&self) -> bool {
        self.closed_at.is_some()
    }
}

const CYCLE_COLUMNS: &str =
    "c.id, c.org_id, c.pulse_id, p.title, c.number, c.opens_at, c.closes_at, c.closed_at, c.anonymity_k, c.plan";

fn cycle_from_row(r: &AnyRow) -> Result<Cycle, sqlx::Error> {
    Ok(Cycle {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        pulse_id: r.try_get("pulse_id")?,
        title: r.try_get("title")?,
        number: r.try_get("number")?,
        opens_at: r.try_get("opens_at")?,
        closes_at: r.try_get("closes_at")?,
        closed_at: r.try_get("closed_at")?,
        k: r.try_get::<i64, _>("anonymity_k")?.clamp(1, 1000) as u32,
        plan: r.try_get("plan")?,
    })
}

pub async fn cycle(conn: &mut AnyConnection, org_id: i64, id: i64) -> Result<Option<Cycle>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {CYCLE_COLUMNS} FROM cycles c JOIN pulses p ON p.org_id = c.org_id AND p.id = c.pulse_id
         WHERE c.org_id = $1 AND c.id = $2"
    ))
    .bind(org_id)
    .bind(id)
    .fetch_optional(conn)
    .await?
    .as_ref()
    .map(cycle_from_row)
    .transpose()
}

pub async fn cycles_of_org(db: &Db, org_id: i64) -> Result<Vec<Cycle>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {CYCLE_COLUMNS} FROM cycles c JOIN pulses p ON p.org_id = c.org_id AND p.id = c.pulse_id
         WHERE c.org_id = $1 ORDER BY c.opens_at DESC, c.id"
    ))
    .bind(org_id)
    .fetch_all(&mut *db.acquire().await?)
    .await?
    .iter()
    .map(cycle_from_row)
    .collect()
}

/// Open cycles in which the person has not answered yet.
pub async fn open_cycles_for(db: &Db, org_id: i64, person_id: i64, now: i64) -> Result<Vec<Cycle>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {CYCLE_COLUMNS} FROM participation x
         JOIN cycles c ON c.org_id = x.org_id AND c.id = x.cycle_id
         JOIN pulses p ON p.org_id = c.org_id AND p.id = c.pulse_id
         WHERE x.org_id = $1 AND x.person_id = $2 AND x.answered = 0
           AND c.closed_at IS NULL AND c.opens_at <= $3 AND c.closes_at > $3
         ORDER BY c.closes_at, c.id"
    ))
    .bind(org_id)
    .bind(person_id)
    .bind(now)
    .fetch_all(&mut *db.acquire().await?)
    .await?
    .iter()
    .map(cycle_from_row)
    .collect()
}

/// None: not on the roster; Some(answered).
pub async fn participation(
    conn: &mut AnyConnection,
    org_id: i64,
    cycle_id: i64,
    person_id: i64,
) -> Result<Option<bool>, sqlx::Error> {
    sqlx::query("SELECT answered FROM participation WHERE org_id = $1 AND cycle_id = $2 AND person_id = $3")
        .bind(org_id)
        .bind(cycle_id)
        .bind(person_id)
        .fetch_optional(conn)
        .await?
        .map(|r| Ok(r.try_get::<i64, _>("answered")? != 0))
        .transpose()
}

/// The roster of a cycle as it opened: (team, tenure band, answered).
pub async fn roster(
    conn: &mut AnyConnection,
    org_id: i64,
    cycle_id: i64,
) -> Result<Vec<(Option<i64>, Option<String>, bool)>, sqlx::Error> {
    sqlx::query(
        "SELECT r.team_id, r.tenure_band, x.answered FROM cycle_roster r
         JOIN participation x ON x.org_id = r.org_id AND x.cycle_id = r.cycle_id AND x.person_id = r.person_id
         WHERE r.org_id = $1 AND r.cycle_id = $2",
    )
    .bind(org_id)
    .bind(cycle_id)
    .fetch_all(conn)
    .await?
    .iter()
    .map(|r| {
        Ok((
            r.try_get("team_id")?,
            r.try_get("tenure_band")?,
            r.try_get::<i64, _>("answered")? != 0,
        ))
    })
    .collect()
}

/// Who answered a cycle, with the team and tenure band the roster froze
/// for them: what an attacker who knows the roster knows. Person ids only
/// ever meet answers in memory, at close, through the groups they are in.
pub async fn respondents(
    conn: &mut AnyConnection,
    org_id: i64,
    cycle_id: i64,
) -> Result<Vec<RosterEntry>, sqlx::Error> {
    sqlx::query(
        "SELECT r.person_id, r.team_id, r.tenure_band FROM cycle_roster r
         JOIN participation x ON x.org_id = r.org_id AND x.cycle_id = r.cycle_id AND x.person_id = r.person_id
         WHERE r.org_id = $1 AND r.cycle_id = $2 AND x.answered = 1",
    )
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

/// The closed cycles of a pulse before cycle `number`, oldest first.
pub async fn earlier_cycles(
    conn: &mut AnyConnection,
    org_id: i64,
    pulse_id: i64,
    number: i64,
) -> Result<Vec<Cycle>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {CYCLE_COLUMNS} FROM cycles c JOIN pulses p ON p.org_id = c.org_id AND p.id = c.pulse_id
         WHERE c.org_id = $1 AND c.pulse_id = $2 AND c.number < $3 AND c.closed_at IS NOT NULL
         ORDER BY c.number"
    ))
    .bind(org_id)
    .bind(pulse_id)
    .bind(number)
    .fetch_all(conn)
    .await?
    .iter()
    .map(cycle_from_row)
    .collect()
}

/// One stored response, for computing results at close.
#[derive(Clone, Debug)]
pub struct StoredResponse {
    pub team_id: Option<i64>,
    pub tenure_band: Option<String>,
    pub comment: Option<String>,
    pub answers: Vec<(i64, i64)>,
    /// Self-reported segments: (segment question, value).
    pub segments: Vec<(i64, String)>,
}

/// Rows per INSERT of kept responses.
const KEPT_PER_INSERT: usize = 32;

/// Stores what is kept of a closed cycle's answers, in the order given (the
/// caller shuffles), each with a random id. Comments are never kept here.
pub async fn insert_kept(
    conn: &mut AnyConnection,
    org_id: i64,
    cycle_id: i64,
    kept: &[StoredResponse],
) -> Result<(), sqlx::Error> {
    for chunk in kept.chunks(KEPT_PER_INSERT) {
        let sql = format!(
            "INSERT INTO responses (cycle_id, id, org_id, team_id, tenure_band, answers, segments) VALUES {}",
            crate::db::placeholders(chunk.len(), 7)
        );
        let mut q = sqlx::query(&sql);
        for r in chunk {
            let bytes: [u8; 16] = rand::random();
            let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            q = q
                .bind(cycle_id)
                .bind(id)
                .bind(org_id)
                .bind(r.team_id)
                .bind(r.tenure_band.clone())
                .bind(pack_answers(&r.answers))
                .bind(pack_segments(&r.segments));
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Every stored result of a cycle, by group key.
pub async fn results(
    conn: &mut AnyConnection,
    org_id: i64,
    cycle_id: i64,
) -> Result<std::collections::HashMap<String, String>, sqlx::Error> {
    sqlx::query("SELECT group_key, result FROM cycle_results WHERE org_id = $1 AND cycle_id = $2")
        .bind(org_id)
        .bind(cycle_id)
        .fetch_all(conn)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("group_key")?, r.try_get("result")?)))
        .collect()
}

/// A closed cycle's turnout summed over each of `groups`, each a set of
/// teams (None: everyone): (people asked, people who answered) per group,
/// from the counts kept at close (migration 0015 counted earlier cycles).
pub async fn turnout_of(
    conn: &mut AnyConnection,
    org_id: i64,
    cycle_id: i64,
    groups: &[Option<Vec<i64>>],
) -> Result<Vec<(u32, u32)>, sqlx::Error> {
    let mut columns = Vec::new();
    for (i, teams) in groups.iter().enumerate() {
        let when = match teams {
            None => "1 = 1".to_owned(),
            Some(t) if t.is_empty() => "1 = 0".to_owned(),
            // Team ids are numbers, written into the statement as such.
            Some(t) => format!(
                "team_id IN ({})",
                t.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
            ),
        };
        for (column, name) in [("people", "p"), ("answered", "a")] {
            columns.push(format!(
                "CAST(COALESCE(SUM(CASE WHEN {when} THEN {column} ELSE 0 END), 0) AS BIGINT) AS {name}{i}"
            ));
        }
    }
    let row = sqlx::query(&format!(
        "SELECT {} FROM cycle_turnout WHERE org_id = $1 AND cycle_id = $2",
        columns.join(", ")
    ))
    .bind(org_id)
    .bind(cycle_id)
    .fetch_one(conn)
    .await?;
    let count = |name: String| -> Result<u32, sqlx::Error> {
        Ok(u32::try_from(row.try_get::<i64, _>(name.as_str())?).unwrap_or(u32::MAX))
    };
    (0..groups.len())
        .map(|i| Ok((count(format!("p{i}"))?, count(format!("a{i}"))?)))
        .collect()
}

/// Counts a closing cycle's turnout per team of its roster, once.
pub async fn record_turnout(conn: &mut AnyConnection, org_id: i64, cycle_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO cycle_turnout (org_id, cycle_id, team_id, people, answered)
         SELECT r.org_id, r.cycle_id, r.team_id, COUNT(*), CAST(COALESCE(SUM(x.answered), 0) AS BIGINT) FROM cycle_roster r
         JOIN participation x ON x.org_id = r.org_id AND x.cycle_id = r.cycle_id AND x.person_id = r.person_id
         WHERE r.org_id = $1 AND r.cycle_id = $2 GROUP BY r.org_id, r.cycle_id, r.team_id",
    )
    .bind(org_id)
    .bind(cycle_id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn result(
    conn: &mut AnyConnection,
    org_id: i64,
    cycle_id: i64,
    group_key: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query("SELECT result FROM cycle_results WHERE org_id = $1 AND cycle_id = $2 AND group_key = $3")
        .bind(org_id)
        .bind(cycle_id)
        .bind(group_key)
        .fetch_optional(conn)
        .await?
        .map(|r| r.try_get("result"))
        .transpose()
}

/// A cycle a person was on the roster of, for their "My data".
pub struct OnRoster {
    pub title: String,
    pub opens_at: i64,
    pub team_id: Option<i64>,
    pub tenure_band: Option<String>,
    /// None when the participation row is gone (kept only while needed).
    pub answered: Option<bool>,
}

/// Every cycle whose roster holds the person, oldest first, with the team
/// and tenure band it recorded and whether they answered.
pub async fn rosters_of(conn: &mut AnyConnection, org_id: i64, person_id: i64) -> Result<Vec<OnRoster>, sqlx::Error> {
    sqlx::query(
        "SELECT p.title, c.opens_at, r.team_id, r.tenure_band, x.answered FROM cycle_roster r
         JOIN cycles c ON c.org_id = r.org_id AND c.id = r.cycle_id
         JOIN pulses p ON p.org_id = c.org_id AND p.id = c.pulse_id
         LEFT JOIN participation x ON x.org_id = r.org_id AND x.cycle_id = r.cycle_id AND x.person_id = r.person_id
         WHERE r.org_id = $1 AND r.person_id = $2 ORDER BY c.opens_at, c.id",
    )
    .bind(org_id)
    .bind(person_id)
    .fetch_all(conn)
    .await?
    .iter()
    .map(|r| {
        Ok(OnRoster {
            title: r.try_get("title")?,
            opens_at: r.try_get("opens_at")?,
            team_id: r.try_get("team_id")?,
            tenure_band: r.try_get("tenure_band")?,
            answered: r.try_get::<Option<i64>, _>("answered")?.map(|a| a != 0),
        })
    })
    .collect()
}

fn schedule_from(raw: &str) -> Result<super::model::Schedule, sqlx::Error> {
    super::model::Schedule::parse(raw).map_err(|e| sqlx::Error::Decode(format!("pulse schedule {raw:?}: {e}").into()))
}

/// The pulses of an organization, newest first: (id, title, schedule).
pub async fn pulses(
    conn: &mut AnyConnection,
    org_id: i64,
) -> Result<Vec<(i64, String, super::model::Schedule)>, sqlx::Error> {
    sqlx::query("SELECT id, title, schedule FROM pulses WHERE org_id = $1 ORDER BY created_at DESC, id")
        .bind(org_id)
        .fetch_all(conn)
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.try_get("id")?,
                r.try_get("title")?,
                schedule_from(&r.try_get::<String, _>("schedule")?)?,
            ))
        })
        .collect()
}

/// How often a pulse opens a cycle; a stored schedule that does not read
/// is an error.
pub async fn schedule_of(
    conn: &mut AnyConnection,
    org_id: i64,
    pulse_id: i64,
) -> Result<super::model::Schedule, sqlx::Error> {
    let raw: String = sqlx::query("SELECT schedule FROM pulses WHERE org_id = $1 AND id = $2")
        .bind(org_id)
        .bind(pulse_id)
        .fetch_one(conn)
        .await?
        .try_get("schedule")?;
    schedule_from(&raw)
}

/// The organization's settings of results: whether everyone sees
/// org-wide results, whether answers are kept after close, and for how
/// many months.
pub struct ResultSettings {
    pub share_results: bool,
    /// Each person may see their own team's released results.
    pub share_team_results: bool,
    pub keep_responses: bool,
    pub retention_months: Option<i64>,
}

pub async fn result_settings(conn: &mut AnyConnection, org_id: i64) -> Result<ResultSettings, sqlx::Error> {
    let row = sqlx::query(
        "SELECT share_results, share_team_results, keep_responses, retention_months FROM organizations WHERE id = $1",
    )
    .bind(org_id)
    .fetch_one(conn)
    .await?;
    Ok(ResultSettings {
        share_results: row.try_get::<i64, _>("share_results")? != 0,
        share_team_results: row.try_get::<i64, _>("share_team_results")? != 0,
        keep_responses: row.try_get::<i64, _>("keep_responses")? != 0,
        retention_months: row.try_get("retention_months")?,
    })
}

pub async fn set_retention(
    conn: &mut AnyConnection,
    org_id: i64,
    keep_responses: bool,
    months: Option<u32>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE organizations SET keep_responses = $1, retention_months = $2 WHERE id = $3")
        .bind(i64::from(keep_responses))
        .bind(months.map(i64::from))
        .bind(org_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Whether a cycle still open has an answer in.
pub async fn open_cycle_has_answers(conn: &mut AnyConnection, org_id: i64) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "SELECT 1 FROM participation x JOIN cycles c ON c.org_id = x.org_id AND c.id = x.cycle_id
         WHERE x.org_id = $1 AND x.answered = 1 AND c.closed_at IS NULL LIMIT 1",
    )
    .bind(org_id)
    .fetch_optional(conn)
    .await?
    .is_some())
}

/// Sets k and sharing; open cycles with a lower k follow it up.
pub async fn set_anonymity(
    conn: &mut AnyConnection,
    org_id: i64,
    k: u32,
    share_results: bool,
    share_team_results: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE organizations SET anonymity_k = $1, share_results = $2, share_team_results = $3 WHERE id = $4")
        .bind(i64::from(k))
        .bind(i64::from(share_results))
        .bind(i64::from(share_team_results))
        .bind(org_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE cycles SET anonymity_k = $1 WHERE org_id = $2 AND closed_at IS NULL AND anonymity_k < $1")
        .bind(i64::from(k))
        .bind(org_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// What opening a cycle needs of its pulse.
pub struct PulseToLaunch {
    pub title: String,
    pub open_days: i64,
    pub remind_days: i64,
    pub per_cycle: i64,
    pub audience_all: bool,
    pub active: bool,
    pub org_name: String,
    /// The number the new cycle gets.
    pub next_number: i64,
}

pub async fn pulse_to_launch(
    conn: &mut AnyConnection,
    org_id: i64,
    pulse_id: i64,
) -> Result<Option<PulseToLaunch>, sqlx::Error> {
    let Some(row) = sqlx::query(
        "SELECT p.title, p.open_days, p.remind_days, p.per_cycle, p.audience_all, p.active, o.name AS org_name,
                (SELECT COALESCE(MAX(c.number), 0) + 1 FROM cycles c WHERE c.org_id = p.org_id AND c.pulse_id = p.id) AS next_number
         FROM pulses p JOIN organizations o ON o.id = p.org_id WHERE p.org_id = $1 AND p.id = $2",
    )
    .bind(org_id)
    .bind(pulse_id)
    .fetch_optional(conn)
    .await?
    else {
        return Ok(None);
    };
    Ok(Some(PulseToLaunch {
        title: row.try_get("title")?,
        open_days: row.try_get("open_days")?,
        remind_days: row.try_get("remind_days")?,
        per_cycle: row.try_get("per_cycle")?,
        audience_all: row.try_get::<i64, _>("audience_all")? != 0,
        active: row.try_get::<i64, _>("active")? != 0,
        org_name: row.try_get("org_name")?,
        next_number: row.try_get("next_number")?,
    }))
}

/// The open cycle of a pulse (id, number), if one is: a pulse has at most
/// one.
pub async fn open_cycle_of(
    conn: &mut AnyConnection,
    org_id: i64,
    pulse_id: i64,
) -> Result<Option<(i64, i64)>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT id, number FROM cycles WHERE org_id = $1 AND pulse_id = $2 AND closed_at IS NULL
         ORDER BY number DESC LIMIT 1",
    )
    .bind(org_id)
    .bind(pulse_id)
    .fetch_optional(conn)
    .await?;
    row.map(|r| Ok((r.try_get("id")?, r.try_get("number")?))).transpose()
}

/// A pulse's questions in its order: (question, core, the number of the
/// cycle that last asked it).
pub async fn pulse_questions(
    conn: &mut AnyConnection,
    org_id: i64,
    pulse_id: i64,
) -> Result<Vec<(i64, bool, Option<i64>)>, sqlx::Error> {
    sqlx::query(
        "SELECT pq.question_id, pq.core,
                (SELECT MAX(c.number) FROM cycle_questions cq JOIN cycles c ON c.org_id = cq.org_id AND c.id = cq.cycle_id
                 WHERE cq.org_id = pq.org_id AND cq.question_id = pq.question_id AND c.pulse_id = pq.pulse_id) AS last_asked
         FROM pulse_questions pq WHERE pq.org_id = $1 AND pq.pulse_id = $2 ORDER BY pq.position",
    )
    .bind(org_id)
    .bind(pulse_id)
    .fetch_all(conn)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("question_id")?, r.try_get::<i64, _>("core")? != 0, r.try_get("last_asked")?)))
    .collect()
}

/// The teams a pulse asks (with their sub-teams), when it does not ask all.
pub async fn pulse_teams(conn: &mut AnyConnection, org_id: i64, pulse_id: i64) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query("SELECT team_id FROM pulse_teams WHERE org_id = $1 AND pulse_id = $2")
        .bind(org_id)
        .bind(pulse_id)
        .fetch_all(conn)
        .await?
        .iter()
        .map(|r| r.try_get("team_id"))
        .collect()
}

pub async fn insert_cycle(conn: &mut AnyConnection, c: &Cycle) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO cycles (id, org_id, pulse_id, number, opens_at, closes_at, anonymity_k) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(c.id)
    .bind(c.org_id)
    .bind(c.pulse_id)
    .bind(c.number)
    .bind(c.opens_at)
    .bind(c.closes_at)
    .bind(i64::from(c.k))
    .execute(conn)
    .await?;
    Ok(())
}

/// Puts a person on a cycle's roster, as they are when it opens, with
/// their participation row (rule 3: it exists before anyone answers).
pub async fn add_to_roster(
    conn: &mut AnyConnection,
    cycle: &Cycle,
    person_id: i64,
    team_id: Option<i64>,
    tenure_band: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO cycle_roster (cycle_id, org_id, person_id, team_id, tenure_band) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(cycle.id)
    .bind(cycle.org_id)
    .bind(person_id)
    .bind(team_id)
    .bind(tenure_band)
    .execute(&mut *conn)
    .await?;
    sqlx::query("INSERT INTO participation (cycle_id, org_id, person_id, answered) VALUES ($1, $2, $3, 0)")
        .bind(cycle.id)
        .bind(cycle.org_id)
        .bind(person_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// A personal link's token, stored as its hash only (rule 4).
pub async fn insert_invitation(
    conn: &mut AnyConnection,
    cycle: &Cycle,
    person_id: i64,
    token_hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO invitations (token_hash, cycle_id, org_id, person_id) VALUES ($1, $2, $3, $4)")
        .bind(token_hash)
        .bind(cycle.id)
        .bind(cycle.org_id)
        .bind(person_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// A new pulse with its teams and questions (in the order given).
pub async fn insert_pulse(
    conn: &mut AnyConnection,
    id: i64,
    org_id: i64,
    title: &str,
    input: &super::model::PulseInput,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO pulses (id, org_id, title, schedule, open_days, remind_days, per_cycle, audience_all, active, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9)",
    )
    .bind(id)
    .bind(org_id)
    .bind(title)
    .bind(input.schedule.as_str())
    .bind(input.open_days)
    .bind(input.remind_days)
    .bind(input.per_cycle)
    .bind(i64::from(input.teams.is_none()))
    .bind(now)
    .execute(&mut *conn)
    .await?;
    for t in input.teams.iter().flatten() {
        sqlx::query("INSERT INTO pulse_teams (pulse_id, org_id, team_id) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(org_id)
            .bind(t)
            .execute(&mut *conn)
            .await?;
    }
    for (pos, (q, core)) in input.questions.iter().enumerate() {
        sqlx::query(
            "INSERT INTO pulse_questions (pulse_id, org_id, question_id, core, position) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(org_id)
        .bind(q)
        .bind(i64::from(*core))
        .bind(pos as i64)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Retires a question version; it stays for the cycles that asked it.
pub async fn retire_question(conn: &mut AnyConnection, org_id: i64, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE questions SET retired = 1 WHERE org_id = $1 AND id = $2")
        .bind(org_id)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Pulses that asked `old` ask `new` from now on.
pub async fn repoint_pulses(conn: &mut AnyConnection, org_id: i64, old: i64, new: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE pulse_questions SET question_id = $1 WHERE org_id = $2 AND question_id = $3")
        .bind(new)
        .bind(org_id)
        .bind(old)
        .execute(conn)
        .await?;
    Ok(())
}

/// Rewords a question that has no answers yet.
pub async fn set_question_text(conn: &mut AnyConnection, org_id: i64, id: i64, text: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE questions SET text = $1 WHERE org_id = $2 AND id = $3")
        .bind(text)
        .bind(org_id)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Someone on a cycle's roster who has not answered, still active.
pub struct Unanswered {
    pub person_id: i64,
    pub name: String,
    pub email: String,
    pub org_name: String,
}

pub async fn unanswered(conn: &mut AnyConnection, org_id: i64, cycle_id: i64) -> Result<Vec<Unanswered>, sqlx::Error> {
    sqlx::query(
        "SELECT p.id, p.name, p.email, o.name AS org_name FROM participation x
         JOIN people p ON p.org_id = x.org_id AND p.id = x.person_id
         JOIN organizations o ON o.id = x.org_id
         WHERE x.org_id = $1 AND x.cycle_id = $2 AND x.answered = 0 AND p.active = 1",
    )
    .bind(org_id)
    .bind(cycle_id)
    .fetch_all(conn)
    .await?
    .iter()
    .map(|r| {
        Ok(Unanswered {
            person_id: r.try_get("id")?,
            name: r.try_get("name")?,
            email: r.try_get("email")?,
            org_name: r.try_get("org_name")?,
        })
    })
    .collect()
}

/// On PostgreSQL, takes the cycle's row lock: answers being stored
/// share-lock it, so this waits for them and makes later ones see the
/// cycle closed. SQLite's write lock already does both.
pub async fn lock_cycle(
    conn: &mut AnyConnection,
    backend: crate::config::Backend,
    org_id: i64,
    cycle_id: i64,
) -> Result<(), sqlx::Error> {
    if backend == crate::config::Backend::Postgres {
        sqlx::query("SELECT id FROM cycles WHERE org_id = $1 AND id = $2 FOR UPDATE")
            .bind(org_id)
            .bind(cycle_id)
            .fetch_optional(conn)
            .await?;
    }
    Ok(())
}

/// Writes a closing cycle's released team figures in brief.
pub async fn set_pillars(conn: &mut AnyConnection, org_id: i64, cycle_id: i64, brief: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE cycles SET pillars = $1 WHERE org_id = $2 AND id = $3")
        .bind(brief)
        .bind(org_id)
        .bind(cycle_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The closed cycles of a pulse with their brief, oldest first (None for a
/// cycle closed before briefs were written).
pub async fn pillar_briefs(
    conn: &mut AnyConnection,
    org_id: i64,
    pulse_id: i64,
) -> Result<std::collections::HashMap<i64, Option<String>>, sqlx::Error> {
    sqlx::query("SELECT id, pillars FROM cycles WHERE org_id = $1 AND pulse_id = $2 AND closed_at IS NOT NULL")
        .bind(org_id)
        .bind(pulse_id)
        .fetch_all(conn)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("pillars")?)))
        .collect()
}

pub async fn insert_result(
    conn: &mut AnyConnection,
    org_id: i64,
    cycle_id: i64,
    group_key: &str,
    result: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO cycle_results (cycle_id, org_id, group_key, result) VALUES ($1, $2, $3, $4)")
        .bind(cycle_id)
        .bind(org_id)
        .bind(group_key)
        .bind(result)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_result(
    conn: &mut AnyConnection,
    org_id: i64,
    cycle_id: i64,
    group_key: &str,
    result: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE cycle_results SET result = $1 WHERE org_id = $2 AND cycle_id = $3 AND group_key = $4")
        .bind(result)
        .bind(org_id)
        .bind(cycle_id)
        .bind(group_key)
        .execute(conn)
        .await?;
    Ok(())
}

/// Marks an open cycle closed with the plan it released.
pub async fn mark_closed(
    conn: &mut AnyConnection,
    org_id: i64,
    cycle_id: i64,
    now: i64,
    plan: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE cycles SET closed_at = $1, plan = $2 WHERE org_id = $3 AND id = $4 AND closed_at IS NULL")
        .bind(now)
        .bind(plan)
        .bind(org_id)
        .bind(cycle_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes the kept responses of cycles closed before `before`; how many.
pub async fn delete_kept_before(conn: &mut AnyConnection, org_id: i64, before: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "DELETE FROM responses WHERE org_id = $1
         AND cycle_id IN (SELECT id FROM cycles WHERE org_id = $1 AND closed_at IS NOT NULL AND closed_at < $2)",
    )
    .bind(org_id)
    .bind(before)
    .execute(conn)
    .await?
    .rows_affected())
}

/// A stored result: its cycle, group key and JSON.
pub type StoredResult = (i64, String, String);

/// The stored results of cycles closed before `before`.
pub async fn results_closed_before(
    conn: &mut AnyConnection,
    org_id: i64,
    before: i64,
) -> Result<Vec<StoredResult>, sqlx::Error> {
    sqlx::query(
        "SELECT r.cycle_id, r.group_key, r.result FROM cycle_results r
         JOIN cycles c ON c.org_id = r.org_id AND c.id = r.cycle_id
         WHERE r.org_id = $1 AND c.closed_at IS NOT NULL AND c.closed_at < $2",
    )
    .bind(org_id)
    .bind(before)
    .fetch_all(conn)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("cycle_id")?, r.try_get("group_key")?, r.try_get("result")?)))
    .collect()
}

/// The organization's segment questions, oldest first; unreadable options
/// are an error.
pub async fn segment_questions(
    conn: &mut AnyConnection,
    org_id: i64,
    only_active: bool,
) -> Result<Vec<SegmentQuestion>, sqlx::Error> {
    sqlx::query("SELECT id, text, options, active FROM segment_questions WHERE org_id = $1 ORDER BY created_at, id")
        .bind(org_id)
        .fetch_all(conn)
        .await?
        .iter()
        .map(|r| {
            let options: String = r.try_get("options")?;
            Ok(SegmentQuestion {
                id: r.try_get("id")?,
                text: r.try_get("text")?,
                options: serde_json::from_str(&options)
                    .map_err(|e| sqlx::Error::Decode(format!("segment question options {options:?}: {e}").into()))?,
                active: r.try_get::<i64, _>("active")? != 0,
            })
        })
        // An error stays in, to fail the list.
        .filter(|q: &Result<SegmentQuestion, sqlx::Error>| !only_active || q.as_ref().map_or(true, |q| q.active))
        .collect()
}

pub async fn insert_segment_question(
    conn: &mut AnyConnection,
    id: i64,
    org_id: i64,
    text: &str,
    options: &[String],
    now: i64,
) -> Result<(), sqlx::Error> {
    let options = serde_json::to_string(options).map_err(|e| sqlx::Error::Encode(e.into()))?;
    sqlx::query(
        "INSERT INTO segment_questions (id, org_id, text, options, active, created_at) VALUES ($1, $2, $3, $4, 1, $5)",
    )
    .bind(id)
    .bind(org_id)
    .bind(text)
    .bind(options)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Turns a segment question on or off; false when there is no such question.
pub async fn set_segment_active(
    conn: &mut AnyConnection,
    org_id: i64,
    id: i64,
    active: bool,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE segment_questions SET active = $1 WHERE org_id = $2 AND id = $3")
        .bind(i64::from(active))
        .bind(org_id)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Dates a closed cycle's close (the demo's past cycles close on their
/// closing date, not when they were seeded).
pub async fn set_closed_at(conn: &mut AnyConnection, org_id: i64, cycle_id: i64, at: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE cycles SET closed_at = $1 WHERE org_id = $2 AND id = $3")
        .bind(at)
        .bind(org_id)
        .bind(cycle_id)
        .execute(conn)
        .await?;
    Ok(())
}
