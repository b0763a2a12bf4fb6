//! A few feedback threads for the demo organization: one resolved after
//! four messages, one in progress, one just delivered.

use super::model::{FeedbackCode, Status};
use super::store::{self, NewThread, Thread};
use crate::app::App;

/// (recipient team or None for HR, pillar, topic, days ago, status,
/// messages as (from the sender?, text))
type DemoThread = (
    Option<&'static str>,
    Option<&'static str>,
    &'static str,
    i64,
    Status,
    &'static [(bool, &'static str)],
);

const THREADS: &[DemoThread] = &[
    (
        Some("Mobile"),
        Some("integration"),
        "on-call",
        40,
        Status::Resolved,
        &[
            (
                true,
                "The on-call rota lands on the same three people every month. We are tired, and it is not talked about.",
            ),
            (
                false,
                "Thank you for telling us. Is it the weekends, or the whole rota? We will look at the numbers this week.",
            ),
            (
                true,
                "Mostly the weekends. The people with children never seem to be on it, and nobody asks why.",
            ),
            (
                false,
                "We checked: you were right. From next month the rota is drawn fairly, weekends included, and published a month ahead.",
            ),
        ],
    ),
    (
        None,
        Some("value"),
        "pay reviews",
        12,
        Status::InProgress,
        &[
            (
                true,
                "Nobody knows how pay reviews are decided. Could the criteria be written down?",
            ),
            (
                false,
                "A fair question. We are writing them down with the managers and will share a draft by the end of the month.",
            ),
        ],
    ),
    (
        Some("Design"),
        Some("acceptance"),
        "meetings",
        2,
        Status::New,
        &[(
            true,
            "In design critiques the same voices always win. Could we try written feedback first, then discussion?",
        )],
    ),
];

pub async fn seed(app: &App, org_id: i64) -> anyhow::Result<()> {
    let dir = crate::org::service::directory(&app.db, org_id)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let today = app.now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let mut tx = app.db.begin().await?;
    for (team, pillar, topic, days_ago, status, messages) in THREADS {
        let team_id = team.and_then(|name| dir.teams.iter().find(|t| t.name == name).map(|t| t.id));
        let manager = dir
            .active_people()
            .find(|p| match team_id {
                Some(t) => {
                    p.team_id == Some(t)
                        && crate::auth::policy::allows(p.role, crate::auth::Permission::ReceiveTeamFeedback)
                }
                None => crate::auth::policy::allows(p.role, crate::auth::Permission::ReceiveOrgFeedback),
            })
            .map(|p| p.id);
        let opened = today - jiff::Span::new().days(*days_ago);
        let thread = Thread {
            id: crate::db::new_id(),
            org_id,
            team_id,
            pillar: pillar.map(str::to_owned),
            topic: Some((*topic).to_owned()),
            status: *status,
            assignee_id: manager,
            opened_day: opened.to_string(),
            delivered_day: Some((opened + jiff::Span::new().days(1)).to_string()),
            first_reply_day: None,
            closing_note: None,
            abusive: false,
            hidden_day: None,
            action_id: None,
        };
        store::insert_thread(
            &mut tx,
            &NewThread {
                id: thread.id,
                org_id,
                team_id,
                pillar: *pillar,
                topic: Some(topic),
                code_hash: &FeedbackCode::generate().hash(),
                day: &thread.opened_day,
            },
        )
        .await?;
        for (i, (from_sender, text)) in messages.iter().enumerate() {
            let day = (opened + jiff::Span::new().days(i as i64 * 2)).to_string();
            let author = if *from_sender { None } else { manager };
            store::insert_message(&mut tx, &thread, *from_sender, author, text, &day).await?;
            if !from_sender {
                store::note_reply(&mut tx, &thread, &day).await?;
            }
        }
        store::deliver_waiting(&mut tx, org_id, &thread.delivered_day.clone().unwrap_or_default()).await?;
        let note = (*status == Status::Resolved)
            .then_some("The on-call rota is now drawn fairly and published a month ahead.");
        store::set_status(&mut tx, &thread, status.as_str(), note).await?;
        if manager.is_some() {
            store::set_assignee(&mut tx, &thread, manager).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}
