//! A believable year of thank-yous for the demo organization: values, a
//! few posts a week with reactions, and last month's employee of the month.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::model::Reaction;
use super::store;
use crate::app::App;

const VALUES: &[(&str, &str, &str)] = &[
    ("Ownership", "We finish what we start and say when we cannot", "value"),
    ("Care", "We look out for each other and for our clients", "support"),
    (
        "Curiosity",
        "We ask, share what we learn, and help others learn",
        "integration",
    ),
    (
        "Candour",
        "We say what we think, kindly, and listen to the answer",
        "acceptance",
    ),
];

const MESSAGES: &[&str] = &[
    "Thank you for staying on the call until the client was happy.",
    "You untangled the release branch when nobody else could.",
    "Thanks for the patient code review; I learned a lot from it.",
    "You covered for me while I was ill, and never made a fuss about it.",
    "Your notes from the workshop saved the whole team a day.",
    "Thank you for saying in the retro what others were only thinking.",
    "You made the new joiners feel at home in their first week.",
    "Thanks for pairing with me on the payment bug on a Friday evening.",
    "The onboarding guide you wrote is the best thing on our wiki.",
    "You spotted the accessibility problems before the client did.",
    "Thank you for organising the team lunch across three time zones.",
    "You took the hard conversation with the client so we did not have to.",
];

/// Seeds values, a year of thank-yous and one closed award round.
pub async fn seed(app: &App, org_id: i64) -> anyhow::Result<()> {
    let dir = crate::org::service::directory(&app.db, org_id)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let people: Vec<(i64, Option<i64>)> = dir.active_people().map(|p| (p.id, p.team_id)).collect();
    if people.len() < 3 {
        return Ok(());
    }
    let mut rng = StdRng::seed_from_u64(7);
    let now = app.now().as_second();
    let mut tx = app.db.begin().await?;
    let mut values = Vec::new();
    for (name, description, pillar) in VALUES {
        let id = crate::db::new_id();
        store::insert_value(&mut tx, org_id, id, name, description, pillar, now - 365 * 86_400).await?;
        values.push(id);
    }
    // About four a week for a year, most within a team, some across.
    for week in 0..52i64 {
        for _ in 0..rng.gen_range(2..7) {
            let author = people[rng.gen_range(0..people.len())];
            let same_team: Vec<i64> = people
                .iter()
                .filter(|p| p.1 == author.1 && p.0 != author.0)
                .map(|p| p.0)
                .collect();
            let pool: Vec<i64> = if rng.gen_bool(0.7) && !same_team.is_empty() {
                same_team
            } else {
                people.iter().filter(|p| p.0 != author.0).map(|p| p.0).collect()
            };
            let mut recipients = vec![pool[rng.gen_range(0..pool.len())]];
            if rng.gen_bool(0.2) {
                let second = pool[rng.gen_range(0..pool.len())];
                if !recipients.contains(&second) {
                    recipients.push(second);
                }
            }
            let id = crate::db::new_id();
            let at = now - (52 - week) * 7 * 86_400 + rng.gen_range(0..7 * 86_400);
            store::insert_thanks(
                &mut tx,
                &store::NewThanks {
                    id,
                    org_id,
                    author_id: author.0,
                    value_id: rng.gen_bool(0.85).then(|| values[rng.gen_range(0..values.len())]),
                    kind: "thanks",
                    message: MESSAGES[rng.gen_range(0..MESSAGES.len())],
                    recipients: &recipients,
                    now: at.min(now - 60),
                },
            )
            .await?;
            for _ in 0..rng.gen_range(0..6) {
                let who = people[rng.gen_range(0..people.len())].0;
                let kind = Reaction::ALL[rng.gen_range(0..Reaction::ALL.len())];
                store::set_reaction(&mut tx, org_id, id, who, kind.as_str(), true).await?;
            }
        }
    }
    tx.commit().await?;
    award_round(app, org_id, &dir).await
}

/// Last month's employee of the month, run the way people would run it.
async fn award_round(app: &App, org_id: i64, dir: &crate::org::service::Directory) -> anyhow::Result<()> {
    let err = |e: crate::error::AppError| anyhow::anyhow!("{e}");
    let Some(hr) = dir.active_people().find(|p| p.role == crate::auth::Role::HrAdmin) else {
        return Ok(());
    };
    let actor = |p: &crate::org::model::Person| crate::auth::Actor {
        org_id,
        person_id: p.id,
        role: p.role,
    };
    let people: Vec<&crate::org::model::Person> = dir.active_people().collect();
    let hr_actor = actor(hr);
    let round = super::awards::open(app, &hr_actor, "Employee of last month")
        .await
        .map_err(err)?;
    let (a, b) = (people[3].id.to_string(), people[7].id.to_string());
    let reasons = [
        "Kept the release calm and on time.",
        "Helped three teams with their builds without being asked.",
        "Mentored our new joiner through her first project.",
    ];
    for (i, p) in people.iter().enumerate().skip(10).take(6) {
        let nominee = if i % 3 == 0 { &b } else { &a };
        let _ = super::awards::nominate(app, &actor(p), round, nominee, reasons[i % 3]).await;
    }
    super::awards::start_vote(app, &hr_actor, round).await.map_err(err)?;
    for (i, p) in people.iter().enumerate().skip(12).take(14) {
        let _ = super::awards::vote(app, &actor(p), round, if i % 4 == 0 { &b } else { &a }).await;
    }
    super::awards::close(app, &hr_actor, round, "").await.map_err(err)?;
    Ok(())
}
