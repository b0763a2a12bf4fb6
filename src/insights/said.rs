//! "You said, we did": for each closed cycle, the headline figures the
//! person may see (through the pulse's one gate, `pulse::service`), how
//! many answered, and the actions taken on that cycle's results with
//! their status and latest update.

use super::service::{self, ActionView};
use super::store;
use crate::app::App;
use crate::auth::Actor;
use crate::error::AppError;
use crate::org::service::Directory;
use crate::privacy::plan::Group;
use crate::privacy::rules::Participation;
use crate::privacy::stats::Share;
use crate::pulse::service::View;
use crate::shared::Pillar;

/// Cycles per page, newest first.
pub const PER_PAGE: usize = 6;

/// One group's headline in a cycle.
#[derive(Clone, Debug)]
pub struct Figure {
    /// "Whole organization", or the team's path.
    pub group: String,
    pub index: Option<Share>,
    pub pillars: Vec<(Pillar, f64)>,
    /// Why nothing is shown, when nothing is.
    pub withheld: Option<String>,
    pub participation: String,
}

/// An action with its latest update.
#[derive(Clone, Debug)]
pub struct Done {
    pub action: ActionView,
    /// (day, note) of the latest update with words.
    pub latest: Option<(String, String)>,
}

/// One closed cycle on the page.
#[derive(Clone, Debug)]
pub struct Said {
    pub title: String,
    pub month: String,
    pub figures: Vec<Figure>,
    pub actions: Vec<Done>,
}

/// The page: the cycles, the actions not tied to a cycle, and whether
/// older cycles follow.
#[derive(Clone, Debug, Default)]
pub struct SaidPage {
    pub cycles: Vec<Said>,
    pub other_actions: Vec<Done>,
    pub more: bool,
}

fn participation_words(p: &Participation, k: u32) -> String {
    match p {
        Participation::SmallGroup => format!("a group of fewer than {k} people"),
        Participation::FewerThanK => format!("fewer than {k} answered"),
        Participation::Percent(pct) => format!("at least {pct} % answered"),
    }
}

/// The page for the actor, `skip` cycles in (a multiple of [`PER_PAGE`]).
pub async fn page(app: &App, actor: &Actor, skip: usize) -> Result<SaidPage, AppError> {
    let mut conn = app.db.acquire().await?;
    let dir = Directory::with_people(&mut conn, actor.org_id, &[actor.person_id]).await?;
    let (_, zone) = crate::org::service::time_zone(&mut conn, actor.org_id).await?;
    let latest = store::latest_updates(&mut conn, actor.org_id).await?;
    drop(conn);
    let visible = crate::pulse::service::visible_groups(app, actor).await?;
    let own = dir.person(actor.person_id).and_then(|p| p.team_id);
    let groups: Vec<Group> = [Some(Group::Org), own.map(Group::Team)]
        .into_iter()
        .flatten()
        .filter(|g| visible.contains(g))
        .collect();
    let label = |g: &Group| match g {
        Group::Team(t) => dir.team_path(*t),
        _ => "Whole organization".to_owned(),
    };
    let (summaries, more) = crate::pulse::service::summaries(app, actor, &visible, &groups, skip, PER_PAGE).await?;
    let done = |a: ActionView| {
        let latest = latest
            .get(&a.id)
            .map(|(note, at)| (crate::shared::zones::day_in(*at, &zone), note.clone()));
        Done { action: a, latest }
    };
    let actions = service::readable(app, actor).await?;
    let mut cycles = Vec::new();
    for s in &summaries {
        let figures = groups
            .iter()
            .zip(&s.views)
            .zip(&s.participation)
            .map(|((g, v), p)| {
                let (index, pillars, withheld) = match v {
                    View::Released(r) => (
                        Some(r.index),
                        r.pillars.iter().map(|(p, s)| (*p, s.value)).collect(),
                        None,
                    ),
                    View::Withheld(why) => (
                        None,
                        Vec::new(),
                        Some(crate::pulse::service::withheld_reason(*why, s.cycle.k)),
                    ),
                    View::FewerThanK | View::Open(_) => (
                        None,
                        Vec::new(),
                        Some(format!(
                            "Fewer than {} people answered, so nothing is shown.",
                            s.cycle.k
                        )),
                    ),
                };
                Figure {
                    group: label(g),
                    index,
                    pillars,
                    withheld,
                    participation: participation_words(p, s.cycle.k),
                }
            })
            .collect();
        cycles.push(Said {
            title: s.cycle.title.clone(),
            month: jiff::Timestamp::from_second(s.cycle.opens_at)
                .map(|t| t.to_zoned(zone.clone()).strftime("%B %Y").to_string())
                .unwrap_or_default(),
            figures,
            actions: actions
                .iter()
                .filter(|(cycle, _)| *cycle == Some(s.cycle.id))
                .map(|(_, a)| done(a.clone()))
                .collect(),
        });
    }
    let other_actions = match skip {
        0 => actions
            .iter()
            .filter(|(cycle, _)| cycle.is_none())
            .map(|(_, a)| done(a.clone()))
            .collect(),
        _ => Vec::new(),
    };
    Ok(SaidPage {
        cycles,
        other_actions,
        more,
    })
}

/// The `n` actions the person reads whose latest update is newest, for the
/// home page: what was done lately.
pub async fn latest(app: &App, actor: &Actor, n: usize) -> Result<Vec<Done>, AppError> {
    let mut conn = app.db.acquire().await?;
    let latest = store::latest_updates(&mut conn, actor.org_id).await?;
    let (_, zone) = crate::org::service::time_zone(&mut conn, actor.org_id).await?;
    drop(conn);
    if latest.is_empty() {
        return Ok(Vec::new());
    }
    let mut updated: Vec<(i64, Done)> = service::readable(app, actor)
        .await?
        .into_iter()
        .filter_map(|(_, a)| {
            let (note, at) = latest.get(&a.id)?;
            let day = crate::shared::zones::day_in(*at, &zone);
            Some((
                *at,
                Done {
                    action: a,
                    latest: Some((day, note.clone())),
                },
            ))
        })
        .collect();
    updated.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
    Ok(updated.into_iter().take(n).map(|(_, d)| d).collect())
}
