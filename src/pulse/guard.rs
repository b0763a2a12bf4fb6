//! The guard across the cycles of a pulse, as close runs it: what earlier
//! cycles released and who answered them, set beside this cycle (see
//! `privacy::plan::history` and `comments_safe`). Loading reads the
//! database; deciding is pure, so the utility bench runs it as it is.

use std::collections::{BTreeSet, HashMap};

use super::groups::{TENURE, roster_groups};
use super::store::{self, Cycle};
use crate::error::AppError;
use crate::privacy::plan::{self, Group};

/// Whether a group is one a roster decides (the organization, teams, time
/// here), as opposed to a self-reported answer.
pub fn from_roster(g: &Group) -> bool {
    match g {
        Group::Segment { question, .. } => question == TENURE,
        _ => true,
    }
}

/// What earlier cycles of a pulse released, as an attacker who knows the
/// roster and who answered sees it, beside who answered this cycle.
pub struct History {
    pub current: HashMap<i64, Vec<Group>>,
    pub earlier: Vec<plan::Earlier>,
    /// Every group each earlier cycle released, self-reported ones too.
    pub released: Vec<BTreeSet<Group>>,
    /// Who answered each earlier cycle that listed comments.
    pub commented: Vec<BTreeSet<i64>>,
    /// Whether the pulse repeats (monthly, quarterly).
    pub repeats: bool,
}

/// Who answered a cycle, each with the roster groups (team, its parents,
/// tenure band) they were in when it opened.
pub async fn respondent_groups(
    conn: &mut sqlx::AnyConnection,
    cycle: &Cycle,
    dir: &crate::org::service::Directory,
) -> Result<HashMap<i64, Vec<Group>>, sqlx::Error> {
    Ok(store::respondents(conn, cycle.org_id, cycle.id)
        .await?
        .into_iter()
        .map(|(p, t, b)| (p, roster_groups(t, b, dir)))
        .collect())
}

impl History {
    pub async fn load(
        conn: &mut sqlx::AnyConnection,
        cycle: &Cycle,
        dir: &crate::org::service::Directory,
    ) -> Result<History, AppError> {
        let current = respondent_groups(conn, cycle, dir).await?;
        let schedule = store::schedule_of(conn, cycle.org_id, cycle.pulse_id).await?;
        let mut h = History {
            current,
            earlier: Vec::new(),
            released: Vec::new(),
            commented: Vec::new(),
            repeats: schedule.months().is_some(),
        };
        for c in store::earlier_cycles(conn, cycle.org_id, cycle.pulse_id, cycle.number).await? {
            let plan = c.released_plan()?;
            if plan.published.is_empty() {
                continue;
            }
            let people = respondent_groups(conn, &c, dir).await?;
            if plan.comments.listed() && plan.published.contains(&Group::Org) {
                h.commented.push(people.keys().copied().collect());
            }
            h.earlier.push(plan::Earlier {
                released: plan.published.iter().filter(|g| from_roster(g)).cloned().collect(),
                respondents: people,
            });
            h.released.push(plan.published);
        }
        Ok(h)
    }

    /// The plan of this cycle, checked with everything earlier cycles
    /// released (see [`plan::history`]).
    ///
    /// Self-reported breakdowns are the exception: the server cannot tell
    /// who gave which answer, so it cannot set them against the teams of
    /// other cycles, as someone who knows can. They are released only by
    /// a pulse that does not repeat, only while the same people answer
    /// in the same groups, and once they are out, a later cycle of the
    /// pulse keeps only figures that add nothing to what was released.
    pub fn decide(&self, candidates: &[Group], member: &[Vec<Group>], k: u32, writers: u32) -> plan::Plan {
        let unchanged = self.earlier.iter().all(|e| e.respondents == self.current);
        let segments_out = self.released.iter().flatten().any(|g| !from_roster(g));
        let mut plan = if unchanged && !self.repeats {
            let forced: BTreeSet<Group> = self.released.iter().flatten().cloned().collect();
            plan::decide_with(candidates, member, k, &forced)
        } else {
            let mut plan = plan::decide(candidates, member, k);
            let dropped: Vec<Group> = plan.published.iter().filter(|g| !from_roster(g)).cloned().collect();
            for g in dropped {
                plan.published.remove(&g);
                plan.sizes.remove(&g);
                plan.suppressed.insert(g, plan::Suppressed::SegmentHistory);
            }
            plan
        };
        plan::history(&mut plan, &self.current, &self.earlier, segments_out && !unchanged);
        let now: BTreeSet<i64> = self.current.keys().copied().collect();
        let earlier: Vec<&BTreeSet<i64>> = self.commented.iter().collect();
        plan.comments = if !plan.published.contains(&Group::Org) {
            plan::Comments::NoOrganization
        } else if !crate::privacy::rules::enough_writers(writers, k) {
            plan::Comments::FewWriters
        } else if !plan::comments_safe(&now, &earlier, k) {
            plan::Comments::History
        } else {
            plan::Comments::Released
        };
        plan
    }
}
