//! Initiatives: what the organization tries, in which teams and since
//! when, and whether the pillar it should move moved — measured only on
//! the team results the publication plan released (PRIVACY.md rule 21).
//! HR and owners define and read them; managers propose one for their own
//! teams, which HR approves.

use jiff::civil::Date;

use super::impact::{self, Cell, Inference, Unit};
use super::model::{InitiativeInput, Standing, practice_label};
use super::store::{self, InitiativeRow};
use crate::app::App;
use crate::audit::{self, Subject};
use crate::auth::{Actor, Permission};
use crate::db::new_id;
use crate::error::{AppError, FieldError};
use crate::org::service::Directory;
use crate::privacy::plan::Group;
use crate::shared::Pillar;

/// An initiative as a page shows it.
#[derive(Clone, Debug)]
pub struct InitiativeView {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub practice: String,
    pub pillar: Pillar,
    pub pulse_id: i64,
    pub starts_on: String,
    pub ends_on: Option<String>,
    pub sub_teams: bool,
    pub standing: Standing,
    /// Team paths, each with its own start when it differs.
    pub teams: Vec<(String, Option<String>)>,
    pub proposer: String,
}

fn view(dir: &Directory, row: &InitiativeRow) -> InitiativeView {
    InitiativeView {
        id: row.id,
        name: row.name.clone(),
        description: row.description.clone(),
        practice: practice_label(&row.practice).to_owned(),
        pillar: Pillar::parse(&row.pillar).unwrap_or(Pillar::Integration),
        pulse_id: row.pulse_id,
        starts_on: row.starts_on.clone(),
        ends_on: row.ends_on.clone(),
        sub_teams: row.sub_teams,
        standing: Standing::parse(&row.status),
        teams: row.teams.iter().map(|(t, s)| (dir.team_path(*t), s.clone())).collect(),
        proposer: dir
            .person(row.proposer_id)
            .map_or_else(|| "someone who left".into(), |p| p.name.clone()),
    }
}

/// Whether the actor manages every initiative (HR and owners).
pub fn manages(actor: &Actor) -> bool {
    actor.can(Permission::ManageSurveys)
}

/// Whether the actor sees an initiative: HR and owners all; a manager the
/// ones they proposed or that touch their own team or below it.
fn may_see(dir: &Directory, actor: &Actor, row: &InitiativeRow) -> bool {
    if manages(actor) || row.proposer_id == actor.person_id {
        return true;
    }
    let own = dir.person(actor.person_id).and_then(|p| p.team_id);
    actor.can(Permission::PlanActions) && own.is_some_and(|own| row.teams.iter().any(|(t, _)| dir.team_within(*t, own)))
}

/// The rules of an initiative's fields that need the organization: its
/// pulse has results, its teams are active ones (a manager's own or below
/// it, unless HR or an owner). Every broken rule at once.
fn check(dir: &Directory, actor: &Actor, pulses: &[(i64, String)], input: &InitiativeInput) -> Result<(), AppError> {
    let mut problems = Vec::new();
    if !pulses.iter().any(|(id, _)| *id == input.pulse_id) {
        problems.push(FieldError::new(
            "pulse",
            "choose one of the organization's pulses with results",
        ));
    }
    let own = dir.person(actor.person_id).and_then(|p| p.team_id);
    for (team, _) in &input.teams {
        if dir.team(*team).is_none_or(|t| !t.active) {
            problems.push(FieldError::new("team", "choose the organization's active teams"));
            break;
        }
        if !manages(actor) && !own.is_some_and(|own| dir.team_within(*team, own)) {
            problems.push(FieldError::new(
                "team",
                "managers propose initiatives for their own team and its sub-teams",
            ));
            break;
        }
    }
    AppError::check(problems)
}

fn row_of(id: i64, input: &InitiativeInput, standing: Standing, proposer_id: i64) -> InitiativeRow {
    InitiativeRow {
        id,
        name: input.name.clone(),
        description: input.description.clone(),
        practice: input.practice.clone(),
        pillar: input.pillar.as_str().to_owned(),
        pulse_id: input.pulse_id,
        starts_on: input.starts_on.to_string(),
        ends_on: input.ends_on.map(|d| d.to_string()),
        sub_teams: input.sub_teams,
        status: standing.as_str().to_owned(),
        proposer_id,
        teams: input
            .teams
            .iter()
            .map(|(t, s)| (*t, s.map(|d| d.to_string())))
            .collect(),
    }
}

/// Defines an initiative (HR and owners), or proposes one for the
/// actor's own teams (managers). Every broken rule is reported at once.
pub async fn create(app: &App, actor: &Actor, input: &InitiativeInput) -> Result<i64, AppError> {
    actor.require(Permission::PlanActions)?;
    let pulses = crate::pulse::service::measured_pulses(app, actor).await?;
    let mut tx = app.db.begin_rule(actor.org_id).await?;
    let dir = Directory::load(&mut tx, actor.org_id).await?;
    check(&dir, actor, &pulses, input)?;
    let standing = if manages(actor) {
        Standing::Active
    } else {
        Standing::Proposed
    };
    let row = row_of(new_id(), input, standing, actor.person_id);
    store::insert_initiative(&mut tx, actor.org_id, &row, app.now().as_second()).await?;
    let what = match standing {
        Standing::Active => "initiative.created",
        Standing::Proposed => "initiative.proposed",
    };
    audit::record(&mut tx, actor, what, Subject::Initiative(row.id), "", app.now()).await?;
    tx.commit().await?;
    Ok(row.id)
}

/// HR and owners change an initiative: its fields and teams (an end date
/// when it stops, a team that joins later).
pub async fn update(app: &App, actor: &Actor, id: i64, input: &InitiativeInput) -> Result<(), AppError> {
    actor.require(Permission::ManageSurveys)?;
    let pulses = crate::pulse::service::measured_pulses(app, actor).await?;
    let mut tx = app.db.begin_rule(actor.org_id).await?;
    let dir = Directory::load(&mut tx, actor.org_id).await?;
    check(&dir, actor, &pulses, input)?;
    // Standing and proposer are kept by the statement.
    let row = row_of(id, input, Standing::Active, actor.person_id);
    if !store::update_initiative(&mut tx, actor.org_id, &row).await? {
        return Err(AppError::NotFound);
    }
    audit::record(
        &mut tx,
        actor,
        "initiative.updated",
        Subject::Initiative(id),
        "",
        app.now(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// An initiative's fields as its form shows them, for changing it.
pub async fn form_of(app: &App, actor: &Actor, id: i64) -> Result<super::model::InitiativeForm, AppError> {
    actor.require(Permission::ManageSurveys)?;
    let row = store::initiatives(&mut *app.db.acquire().await?, actor.org_id)
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or(AppError::NotFound)?;
    let (practice, practice_other) = super::model::practice_fields(row.practice);
    Ok(super::model::InitiativeForm {
        name: row.name,
        description: row.description,
        practice,
        practice_other,
        pillar: row.pillar,
        pulse: row.pulse_id.to_string(),
        starts_on: row.starts_on,
        ends_on: row.ends_on.unwrap_or_default(),
        sub_teams: row.sub_teams,
        teams: row.teams.iter().map(|(t, _)| t.to_string()).collect(),
        team_starts: row
            .teams
            .iter()
            .filter_map(|(t, s)| Some((t.to_string(), s.clone()?)))
            .collect(),
    })
}

/// HR approves a manager's proposal.
pub async fn approve(app: &App, actor: &Actor, id: i64) -> Result<(), AppError> {
    actor.require(Permission::ManageSurveys)?;
    let mut tx = app.db.begin_rule(actor.org_id).await?;
    if store::set_initiative_status(&mut tx, actor.org_id, id, Standing::Active.as_str()).await? == 0 {
        return Err(AppError::NotFound);
    }
    audit::record(
        &mut tx,
        actor,
        "initiative.approved",
        Subject::Initiative(id),
        "",
        app.now(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The initiatives the actor sees.
pub async fn list(app: &App, actor: &Actor) -> Result<Vec<InitiativeView>, AppError> {
    let mut conn = app.db.acquire().await?;
    let dir = Directory::load(&mut conn, actor.org_id).await?;
    Ok(store::initiatives(&mut conn, actor.org_id)
        .await?
        .iter()
        .filter(|r| may_see(&dir, actor, r))
        .map(|r| view(&dir, r))
        .collect())
}

/// One initiative, if the actor sees it.
pub async fn detail(app: &App, actor: &Actor, id: i64) -> Result<InitiativeView, AppError> {
    let mut conn = app.db.acquire().await?;
    let dir = Directory::load(&mut conn, actor.org_id).await?;
    let row = store::initiatives(&mut conn, actor.org_id)
        .await?
        .into_iter()
        .find(|r| r.id == id && may_see(&dir, actor, r))
        .ok_or(AppError::NotFound)?;
    Ok(view(&dir, &row))
}

/// The impact report, as the page and the API show it.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub pillar: Pillar,
    /// The cycles measured, by month, oldest first.
    pub months: Vec<String>,
    /// Response-weighted % favourable of the teams taking part and of the
    /// others, per cycle; None where nothing was released.
    pub taking: Vec<Option<f64>>,
    pub others: Vec<Option<f64>>,
    /// The first cycle from the earliest start.
    pub start: Option<usize>,
    pub cycles_before: usize,
    pub cycles_after: usize,
    pub teams_taking: usize,
    pub teams_other: usize,
    pub inference: Option<Inference>,
    pub warnings: Vec<String>,
}

impl Report {
    /// The verdict in plain words: a number only when the data hold one.
    pub fn verdict(&self) -> String {
        let Some(r) = &self.inference else {
            return "The data can't tell yet: no team taking part has released results both before and after its start, with another team to compare it with.".into();
        };
        if r.cannot_tell() {
            return format!(
                "The data can't tell, whatever happened: with {} teams, the smallest p-value this design can reach is {}, not below 0.1. More teams, or teams starting at different times, would let it tell.",
                self.teams_taking + self.teams_other,
                fraction(r.min_p)
            );
        }
        let interval = interval_words(r);
        if r.inconclusive() {
            return format!(
                "Inconclusive: the estimate is {} points, but the 90 % interval ({interval}) holds zero, so it may be nothing (p = {:.2}).",
                signed(r.effect),
                r.p_value
            );
        }
        format!(
            "{} points of % favourable in {} for the teams taking part, compared with the others (90 % interval {interval}; p = {:.3}).",
            signed(r.effect),
            self.pillar.label(),
            r.p_value
        )
    }

    /// How the p-value was found.
    pub fn method(&self) -> String {
        match &self.inference {
            None => String::new(),
            Some(r) if r.enumerated => format!(
                "Exact: all {} ways the same starts could have fallen on these teams were weighed.",
                r.assignments
            ),
            Some(r) => format!(
                "Sampled: {} of the possible assignments of the same starts to these teams, drawn with the fixed seed {}, so the report reads the same every time.",
                r.assignments,
                impact::SEED
            ),
        }
    }

    pub fn svg(&self) -> String {
        super::chart::impact_svg(
            &self.months,
            &self.taking,
            &self.others,
            self.start,
            self.pillar.label(),
        )
    }

    /// The two series in words, for those who cannot see the chart.
    pub fn words(&self) -> String {
        let say = |v: &Option<f64>| v.map_or_else(|| "not shown".to_owned(), |v| format!("{v:.0}"));
        let parts: Vec<String> = self
            .months
            .iter()
            .enumerate()
            .map(|(i, m)| format!("{m}: {} and {}", say(&self.taking[i]), say(&self.others[i])))
            .collect();
        format!("% favourable, taking part and others: {}.", parts.join("; "))
    }
}

fn signed(v: f64) -> String {
    match v {
        v if v >= 0.05 => format!("+{v:.1}"),
        v if v <= -0.05 => format!("−{:.1}", -v),
        _ => "0.0".into(),
    }
}

fn interval_words(r: &Inference) -> String {
    let end = |v: Option<f64>, open: &str| v.map_or_else(|| open.to_owned(), signed);
    format!("{} to {}", end(r.low, "no lower bound"), end(r.high, "no upper bound"))
}

/// 0.25 → "1/4": the smallest p as the fraction it is.
fn fraction(p: f64) -> String {
    let n = (1.0 / p).round();
    format!("1/{n:.0}")
}

/// The warning when the teams taking part dipped just before `start`: their
/// last figure before it 5 points or more below their earlier mean.
fn dip_before(taking: &[Option<f64>], start: usize) -> Option<String> {
    let last = (*taking.get(start.checked_sub(1)?)?)?;
    let earlier: Vec<f64> = taking[..start - 1].iter().flatten().copied().collect();
    if earlier.is_empty() {
        return None;
    }
    let mean = earlier.iter().sum::<f64>() / earlier.len() as f64;
    (last <= mean - 5.0).then(|| format!(
        "The teams taking part dipped just before the start ({last:.0} against {mean:.0} before): scores that dip often come back by themselves (regression to the mean), so part of any rise may have happened anyway."
    ))
}

/// Whether a team's size moved enough to change what it measures: by 2
/// people or a fifth, whichever is more.
fn changed_size(before: u32, after: u32) -> bool {
    before.abs_diff(after) >= 2.max(before / 5)
}

/// The day a date starts in a zone, as a timestamp's seconds.
fn second_of(day: Date, zone: &jiff::tz::TimeZone) -> i64 {
    day.to_zoned(zone.clone())
        .map(|z| z.timestamp().as_second())
        .unwrap_or(i64::MAX)
}

/// The impact report of an initiative, computed only from what the
/// publication plan released of each team in each closed cycle of its
/// pulse. HR and owners only: it sets teams' results side by side.
pub async fn report(app: &App, actor: &Actor, id: i64) -> Result<(InitiativeView, Report), AppError> {
    actor.require(Permission::ManageSurveys)?;
    let mut conn = app.db.acquire().await?;
    let row = store::initiatives(&mut conn, actor.org_id)
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or(AppError::NotFound)?;
    let dir = Directory::with_people(&mut conn, actor.org_id, &[row.proposer_id]).await?;
    let (_, zone) = crate::org::service::time_zone(&mut conn, actor.org_id).await?;
    drop(conn);
    let pillar = Pillar::parse(&row.pillar).unwrap_or(Pillar::Integration);
    let parents: std::collections::HashSet<i64> = dir.teams.iter().filter_map(|t| t.parent_id).collect();
    let has_children = |t: i64| parents.contains(&t);
    let start_of = |s: &Option<String>| s.as_deref().unwrap_or(&row.starts_on).parse::<Date>().ok();
    // The units compared: each team taking part as a whole (or its own
    // members, without sub-teams), and every team without sub-teams
    // outside them.
    let mut units: Vec<(Group, Option<Date>)> = row
        .teams
        .iter()
        .map(|(t, s)| {
            let g = if row.sub_teams || !has_children(*t) {
                Group::Team(*t)
            } else {
                Group::TeamOnly(*t)
            };
            (g, start_of(s))
        })
        .collect();
    let covered = |leaf: i64| {
        row.teams
            .iter()
            .any(|(t, _)| leaf == *t || row.sub_teams && dir.team_within(leaf, *t))
    };
    for t in &dir.teams {
        if !has_children(t.id) && !covered(t.id) {
            units.push((Group::Team(t.id), None));
        }
    }
    let groups: Vec<Group> = units.iter().map(|(g, _)| g.clone()).collect();
    let visible = crate::pulse::service::visible_groups(app, actor).await?;
    let end = row.ends_on.as_deref().and_then(|d| d.parse::<Date>().ok());
    let history: Vec<_> = crate::pulse::service::released_briefs(app, actor, &visible, row.pulse_id, &groups)
        .await?
        .into_iter()
        .filter(|(c, _)| end.is_none_or(|e| c.opens_at < second_of(e, &zone)))
        .collect();
    let cells_of = |g: usize| -> Vec<Option<Cell>> {
        history
            .iter()
            .map(|(_, briefs)| {
                let b = briefs[g]?;
                Some(Cell {
                    value: b.pillar(pillar)?,
                    weight: f64::from(b.responses),
                })
            })
            .collect()
    };
    let first_cycle_from = |day: Date| {
        let at = second_of(day, &zone);
        history
            .iter()
            .position(|(c, _)| c.opens_at >= at)
            .unwrap_or(history.len())
    };
    let panel: Vec<Unit> = units
        .iter()
        .enumerate()
        .map(|(i, (_, start))| Unit {
            start: start.map(first_cycle_from),
            cells: cells_of(i),
        })
        .collect();
    let taking_part = |u: &Unit| u.start.is_some();
    let start = panel
        .iter()
        .filter_map(|u| u.start)
        .min()
        .filter(|s| *s < history.len());
    let taking = impact::series(&panel, taking_part);
    let others = impact::series(&panel, |u| !taking_part(u));
    let mut warnings: Vec<String> = start.and_then(|s| dip_before(&taking, s)).into_iter().collect();
    if let (Some((first, _)), Some((last, _))) = (history.first(), history.last())
        && first.id != last.id
    {
        let taking: Vec<Group> = units
            .iter()
            .filter(|(_, s)| s.is_some())
            .map(|(g, _)| g.clone())
            .collect();
        let (a, b) = (
            crate::pulse::service::turnout(app, actor, first.id, &taking).await?,
            crate::pulse::service::turnout(app, actor, last.id, &taking).await?,
        );
        for ((g, (before, _)), (after, _)) in taking.iter().zip(a).zip(b) {
            if changed_size(before, after) {
                let team = match g {
                    Group::Team(t) | Group::TeamOnly(t) => dir.team_path(*t),
                    _ => String::new(),
                };
                warnings.push(format!(
                    "{team} changed from {before} to {after} people between the first and the last cycle: a change may come from who is in the team, not from the initiative."
                ));
            }
        }
    }
    let inference = impact::estimate(&panel);
    if let Some(r) = &inference
        && r.left_out > 0
    {
        warnings.push(format!(
            "{} teams are left out: none of their results was released both before and after a start.",
            r.left_out
        ));
    }
    let report = Report {
        pillar,
        months: history
            .iter()
            .map(|(c, _)| {
                jiff::Timestamp::from_second(c.opens_at)
                    .map(|t| t.to_zoned(zone.clone()).strftime("%b %Y").to_string())
                    .unwrap_or_default()
            })
            .collect(),
        cycles_before: start.unwrap_or(history.len()),
        cycles_after: start.map_or(0, |s| history.len() - s),
        teams_taking: panel.iter().filter(|u| taking_part(u)).count(),
        teams_other: panel.iter().filter(|u| !taking_part(u)).count(),
        taking,
        others,
        start,
        inference,
        warnings,
    };
    audit::record_now(
        &app.db,
        actor,
        "initiative.report_viewed",
        Subject::Initiative(id),
        "",
        app.now(),
    )
    .await?;
    Ok((view(&dir, &row), report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dip_just_before_the_start_is_said() {
        let dip = [Some(70.0), Some(72.0), None, Some(60.0), Some(75.0)];
        assert!(dip_before(&dip, 4).unwrap().contains("60 against 71"));
        // No dip, no figure just before, nothing earlier: nothing said.
        assert!(dip_before(&[Some(70.0), Some(68.0), Some(80.0)], 2).is_none());
        assert!(dip_before(&[Some(70.0), None, Some(80.0)], 2).is_none());
        assert!(dip_before(&[Some(50.0), Some(80.0)], 1).is_none());
        assert!(dip_before(&[Some(50.0)], 0).is_none());
    }

    #[test]
    fn a_team_changed_by_two_people_or_a_fifth() {
        assert!(!changed_size(6, 7) && changed_size(6, 8) && changed_size(6, 4));
        assert!(!changed_size(20, 23) && changed_size(20, 24));
    }

    #[test]
    fn the_verdict_is_a_number_only_when_the_data_hold_one() {
        let inference = |effect: f64, low: Option<f64>, high: Option<f64>, min_p: f64| Inference {
            effect,
            p_value: 0.02,
            low,
            high,
            min_p,
            assignments: 50,
            enumerated: true,
            cohorts: Vec::new(),
            left_out: 0,
        };
        let report = |i: Option<Inference>| Report {
            pillar: Pillar::Integration,
            months: Vec::new(),
            taking: Vec::new(),
            others: Vec::new(),
            start: None,
            cycles_before: 0,
            cycles_after: 0,
            teams_taking: 1,
            teams_other: 3,
            inference: i,
            warnings: Vec::new(),
        };
        assert!(report(None).verdict().starts_with("The data can't tell yet"));
        let four = report(Some(inference(20.0, Some(5.0), Some(30.0), 0.25))).verdict();
        assert!(
            four.starts_with("The data can't tell, whatever happened") && four.contains("1/4"),
            "{four}"
        );
        let open = report(Some(inference(4.0, Some(-1.0), Some(9.0), 0.02))).verdict();
        assert!(
            open.starts_with("Inconclusive") && open.contains("−1.0 to +9.0"),
            "{open}"
        );
        let moved = report(Some(inference(6.0, Some(2.5), Some(9.0), 0.02))).verdict();
        assert!(
            moved.starts_with("+6.0 points of % favourable in Integration"),
            "{moved}"
        );
    }
}
