//! Rules that read, check and then write, raced by two requests at once on
//! a server with several threads. On PostgreSQL a transaction runs at READ
//! COMMITTED, so without the organization's row lock both requests of a
//! round would read the state before either wrote (SQLite's write lock
//! serializes them by itself). Each round must end in a state some serial
//! order of the two requests could reach.

use std::sync::Arc;

use belong::auth::{Actor, Role};
use serde_json::json;
use sqlx::Row;

use crate::helpers::{Api, TestApp, both_databases_threaded, token_for};

both_databases_threaded!(
    two_owners_demoting_each_other_leave_one_owner,
    two_award_rounds_opened_at_once_make_one_round,
    k_is_never_lowered_under_an_answer_that_arrives_meanwhile,
    a_reply_racing_a_resolve_ends_as_one_order_would,
);

const ROUNDS: usize = 12;

/// Two owners each demote the other at the same moment: one of them must
/// be refused, since the organization keeps at least one active owner.
async fn two_owners_demoting_each_other_leave_one_owner(app: TestApp) {
    let org = app.org("Race Co", "race-co").await;
    let a = app
        .person(org, "Ada Owner", "ada@race.example", Role::Owner, None)
        .await;
    let b = app.person(org, "Bo Owner", "bo@race.example", Role::Owner, None).await;
    let (api_a, api_b) = (
        Arc::new(Api::new(&app, &token_for(&app, org, a).await)),
        Arc::new(Api::new(&app, &token_for(&app, org, b).await)),
    );
    let owners = format!("SELECT COUNT(*) FROM people WHERE org_id = {org} AND role = 'owner' AND active = 1");
    for round in 0..ROUNDS {
        let demote = |api: Arc<Api>, whom: i64| {
            tokio::spawn(async move {
                api.call(
                    "PATCH",
                    &format!("/api/v1/people/{whom}"),
                    Some(json!({"role": "hr_admin"})),
                )
                .await
                .status
            })
        };
        let (ta, tb) = (demote(api_a.clone(), b), demote(api_b.clone(), a));
        let (sa, sb) = (ta.await.unwrap(), tb.await.unwrap());
        assert_eq!(app.count(&owners).await, 1, "round {round}: answers {sa} and {sb}");
        assert!(
            (sa == 200) != (sb == 200),
            "round {round}: exactly one demotion goes through, answers {sa} and {sb}"
        );
        // The remaining owner makes the other an owner again.
        let (keeper, other) = if sa == 200 { (&api_a, a) } else { (&api_b, b) };
        let back = keeper
            .call(
                "PATCH",
                &format!("/api/v1/people/{other}"),
                Some(json!({"role": "owner"})),
            )
            .await;
        assert_eq!(back.status, 200, "{}", back.json);
    }
}

/// Two HR admins open a round at once: one round runs, the other is told
/// to close it first.
async fn two_award_rounds_opened_at_once_make_one_round(app: TestApp) {
    let org = app.org("Race Co", "race-co").await;
    let hr = [
        app.person(org, "Hana Hr", "hana@race.example", Role::HrAdmin, None)
            .await,
        app.person(org, "Hugo Hr", "hugo@race.example", Role::HrAdmin, None)
            .await,
    ];
    for round in 0..ROUNDS {
        let open = |person_id: i64| {
            let state = app.state.clone();
            tokio::spawn(async move {
                let actor = Actor {
                    org_id: org,
                    person_id,
                    role: Role::HrAdmin,
                };
                belong::recognition::awards::open(&state, &actor, &format!("Round {round}")).await
            })
        };
        let (t0, t1) = (open(hr[0]), open(hr[1]));
        let (r0, r1) = (t0.await.unwrap(), t1.await.unwrap());
        let running = app
            .count(&format!(
                "SELECT COUNT(*) FROM award_rounds WHERE org_id = {org} AND phase <> 'closed'"
            ))
            .await;
        assert_eq!(running, 1, "round {round}: {r0:?} and {r1:?}");
        assert!(r0.is_ok() != r1.is_ok(), "round {round}: {r0:?} and {r1:?}");
        sqlx::query("UPDATE award_rounds SET phase = 'closed' WHERE org_id = $1")
            .bind(org)
            .execute(&app.state.db.pool)
            .await
            .unwrap();
    }
}

/// While an open cycle waits for its first answer, the owner lowers k.
/// Whatever the order, the cycle keeps the k it opened with: lowered
/// before the answer, the organization's k changes for the next cycle
/// only; after it, the lowering is refused.
async fn k_is_never_lowered_under_an_answer_that_arrives_meanwhile(app: TestApp) {
    use belong::pulse::service::{self, Anonymity};
    let org = app.org("Race Co", "race-co").await;
    let hr = app
        .person(org, "Hana Hr", "hana@race.example", Role::HrAdmin, None)
        .await;
    let owner = app
        .person(org, "Olga Owner", "olga@race.example", Role::Owner, None)
        .await;
    let team = app.team(org, "Crew", None).await;
    let mut people = Vec::new();
    for i in 0..6 {
        people.push(
            app.member(org, &format!("P{i}"), &format!("p{i}@race.example"), Some(team))
                .await,
        );
    }
    let owner_actor = Actor {
        org_id: org,
        person_id: owner,
        role: Role::Owner,
    };
    let hr_actor = Actor {
        org_id: org,
        person_id: hr,
        role: Role::HrAdmin,
    };
    let bank = service::question_bank(&app.state, org).await.unwrap();
    let questions: Vec<(i64, bool)> = belong::pulse::model::default_selection(&bank)
        .into_iter()
        .filter(|(_, core)| *core)
        .collect();
    let fields: Vec<(String, String)> = bank
        .iter()
        .filter(|q| questions.iter().any(|(id, _)| *id == q.id))
        .filter_map(|q| Some((format!("q{}", q.id), q.pillar.scale()?.1.to_string())))
        .collect();
    for round in 0..ROUNDS / 2 {
        service::set_anonymity(
            &app.state,
            &owner_actor,
            Anonymity {
                k: 6,
                share_results: true,
                share_team_results: false,
            },
        )
        .await
        .unwrap();
        let input = belong::pulse::model::PulseInput {
            title: format!("Race pulse {round}"),
            schedule: belong::pulse::model::Schedule::Once,
            open_days: 7,
            remind_days: 3,
            per_cycle: 7,
            teams: None,
            questions: questions.clone(),
        };
        let pulse = service::create_pulse(&app.state, &hr_actor, &input).await.unwrap();
        let cycle = service::launch(&app.state, org, pulse).await.unwrap();
        let (state_k, state_a) = (app.state.clone(), app.state.clone());
        let person = people[round % people.len()];
        let lowering = owner_actor.clone();
        let lower = tokio::spawn(async move {
            service::set_anonymity(
                &state_k,
                &lowering,
                Anonymity {
                    k: 3,
                    share_results: true,
                    share_team_results: false,
                },
            )
            .await
        });
        let fields = fields.clone();
        let answer = tokio::spawn(async move { service::submit(&state_a, org, cycle, person, &fields).await });
        let (lowered, answered) = (lower.await.unwrap(), answer.await.unwrap());
        answered.unwrap();
        let k: i64 = sqlx::query("SELECT anonymity_k FROM cycles WHERE org_id = $1 AND id = $2")
            .bind(org)
            .bind(cycle)
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap()
            .try_get(0)
            .unwrap();
        assert_eq!(k, 6, "round {round}: the open cycle's k was lowered ({lowered:?})");
        service::close(&app.state, org, cycle).await.unwrap();
    }
    app.run_jobs().await;
}

/// A recipient replies while another resolves the same thread. Either the
/// reply lands first and the thread ends resolved, or the resolve lands
/// first and the reply is refused: never a reply the resolve did not see
/// followed by a thread that is no longer resolved.
async fn a_reply_racing_a_resolve_ends_as_one_order_would(app: TestApp) {
    use belong::voice::service::{self, Change, SendInput};
    let org = app.org("Race Co", "race-co").await;
    let hr = [
        app.person(org, "Hana Hr", "hana@race.example", Role::HrAdmin, None)
            .await,
        app.person(org, "Hugo Hr", "hugo@race.example", Role::HrAdmin, None)
            .await,
    ];
    let sender = app.member(org, "Sam", "sam@race.example", None).await;
    let actor = |person_id: i64, role: Role| Actor {
        org_id: org,
        person_id,
        role,
    };
    service::send(
        &app.state,
        &actor(sender, Role::Employee),
        &SendInput {
            team: "org".into(),
            pillar: String::new(),
            topic: String::new(),
            body: "The stand-up runs long every day".into(),
        },
    )
    .await
    .unwrap();
    service::deliver(&app.state, org).await.unwrap();
    let id: i64 = sqlx::query("SELECT id FROM feedback_threads WHERE org_id = $1")
        .bind(org)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    let messages = format!("SELECT COUNT(*) FROM feedback_messages WHERE org_id = {org}");
    for round in 0..ROUNDS {
        let before = app.count(&messages).await;
        let (state_r, state_s) = (app.state.clone(), app.state.clone());
        let (replier, resolver) = (actor(hr[0], Role::HrAdmin), actor(hr[1], Role::HrAdmin));
        let reply = tokio::spawn(async move {
            service::change(&state_r, &replier, id, Change::Reply(format!("Reply {round}"))).await
        });
        let resolve = tokio::spawn(async move {
            let status = Change::Status {
                status: "resolved".into(),
                note: "We cut it to fifteen minutes".into(),
            };
            service::change(&state_s, &resolver, id, status).await
        });
        let (replied, resolved) = (reply.await.unwrap(), resolve.await.unwrap());
        resolved.unwrap();
        let added = app.count(&messages).await - before;
        assert_eq!(added, i64::from(replied.is_ok()), "round {round}: {replied:?}");
        let status: String = sqlx::query("SELECT status FROM feedback_threads WHERE org_id = $1 AND id = $2")
            .bind(org)
            .bind(id)
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap()
            .try_get(0)
            .unwrap();
        assert_eq!(status, "resolved", "round {round}: {replied:?}");
        let reopen = Change::Status {
            status: "in_progress".into(),
            note: String::new(),
        };
        service::change(&app.state, &actor(hr[0], Role::HrAdmin), id, reopen)
            .await
            .unwrap();
    }
    app.run_jobs().await;
}
