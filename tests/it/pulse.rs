//! Pulse end to end: design, launch, answer by personal link, close,
//! results — and attempts to de-anonymize, through HTTP.

use belong::auth::Role;
use belong::privacy::plan::Group;
use belong::pulse::model::Pillar;

use crate::helpers::{Browser, PASSWORD, SmtpSink, TestApp, both_databases, free_port, link_path};

both_databases!(
    invited_people_answer_by_email_and_results_respect_the_guard,
    answers_are_stored_apart_from_people,
    bad_answers_are_refused_and_store_nothing,
    one_token_submitted_twenty_times_at_once_stores_one_response,
    answers_arriving_together_are_refused_or_stored_each_on_its_own,
    no_combination_of_released_groups_isolates_anyone,
    reminders_reach_only_those_who_have_not_answered_and_the_cycle_closes_on_time,
    k_can_be_raised_but_not_lowered_once_answers_are_in,
    kept_answers_and_comments_go_when_the_retention_says_and_the_figures_stay,
    the_upgrade_to_sealed_storage_keeps_the_demo_results_and_exports_as_they_were,
    rewording_an_answered_question_makes_a_new_version,
    self_reported_segments_stay_on_the_response_and_pass_the_guard,
    another_organization_cannot_touch_a_cycle,
    corrupt_stored_data_is_an_error_never_a_default,
    opening_and_closing_early_ask_first_and_a_pulse_has_one_open_cycle,
    the_overview_opens_on_headlines_and_the_results_are_drawn,
);

crate::helpers::both_databases_threaded!(launches_at_once_open_one_cycle);

/// Designs a pulse through the form (the defaults: one question per pillar
/// and the outcomes every time, the second of each pillar rotating) and
/// opens a cycle; returns the cycle id.
pub(crate) async fn launch_pulse(app: &TestApp, hr: &Browser, org: i64) -> i64 {
    launch_pulse_every(app, hr, org, "monthly").await
}

/// Designs a pulse through the form with the designer's defaults.
async fn design_pulse(app: &TestApp, hr: &Browser, org: i64, schedule: &str) {
    let bank = belong::pulse::service::question_bank(&app.state, org).await.unwrap();
    let cores = belong::pulse::model::default_selection(&bank)
        .iter()
        .filter(|(_, c)| *c)
        .count();
    let per_cycle = if schedule == "once" { cores } else { 9 };
    hr.get("/pulse/new").await.assert(200, "Design a pulse");
    let mut fields: Vec<(String, String)> = vec![
        ("title".into(), "Monthly pulse".into()),
        ("schedule".into(), schedule.into()),
        ("open_days".into(), "7".into()),
        ("remind_days".into(), "3".into()),
        ("per_cycle".into(), per_cycle.to_string()),
        ("audience".into(), "all".into()),
    ];
    let chosen = belong::pulse::model::default_selection(&bank);
    for q in &bank {
        let usage = match chosen.iter().find(|(id, _)| *id == q.id) {
            Some((_, true)) => "core",
            // A one-off pulse asks its questions once: none rotate.
            Some((_, false)) if schedule != "once" => "rotate",
            _ => "off",
        };
        fields.push((format!("use_{}", q.id), usage.into()));
    }
    let refs: Vec<(&str, &str)> = fields.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let made = hr.post("/pulse", &refs).await;
    assert_eq!(made.status, 303, "{}", made.body);
}

/// [`launch_pulse`] with another schedule.
async fn launch_pulse_every(app: &TestApp, hr: &Browser, org: i64, schedule: &str) -> i64 {
    design_pulse(app, hr, org, schedule).await;
    let overview = hr.get("/pulse").await;
    let launch = overview.action("/pulse/");
    let opened = hr.post(&format!("/pulse/{launch}"), &[("confirm", "yes")]).await;
    assert_eq!(opened.status, 303, "{}", opened.body);
    let at = opened.location().trim_start_matches("/pulse/cycles/").to_owned();
    at.split('?').next().unwrap().parse().unwrap()
}

/// The default's every-time questions only (for pulses that do not rotate).
fn core_only(bank: &[belong::pulse::model::Question]) -> Vec<(i64, bool)> {
    belong::pulse::model::default_selection(bank)
        .into_iter()
        .filter(|(_, core)| *core)
        .collect()
}

/// A whole, valid answer for a cycle's questions: `v` on agree questions.
async fn answer_fields(app: &TestApp, org: i64, cycle: i64, v: i64) -> Vec<(String, String)> {
    let mut conn = app.state.db.pool.acquire().await.unwrap();
    let qs = belong::pulse::service::cycle_questions(&mut conn, org, cycle)
        .await
        .unwrap();
    qs.iter()
        .map(|q| {
            let value = match q.pillar {
                Pillar::Comment => "All good here".to_owned(),
                Pillar::Enps => (v * 2).to_string(),
                _ => v.to_string(),
            };
            (format!("q{}", q.id), value)
        })
        .collect()
}

async fn invited_people_answer_by_email_and_results_respect_the_guard(app: TestApp) {
    let smtp = SmtpSink::start(free_port(), 0);
    let app = app.with_mail(smtp.port).await;
    // Kitchen 6, Bar 3, plus HR: org − Kitchen would be 4 people.
    let o = app.org_with(&[6, 3], false).await;
    let hr = app.signed_in("hera@bars.example").await;
    let cycle = launch_pulse(&app, &hr, o.org).await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM participation WHERE answered = 0").await,
        10,
        "rows exist before anyone answers"
    );
    belong::jobs::run_due(&app.state, "t").await.unwrap();
    let mails = smtp.received();
    assert_eq!(mails.len(), 10);

    // While open, a manager sees participation only.
    let manager = app.signed_in("p0-0@bars.example").await;
    let home = manager.get("/").await;
    home.assert(200, "A pulse is waiting for you");
    // When it closes, in the person's own time zone (Berlin, for the tests).
    let closes = app
        .count(&format!("SELECT closes_at FROM cycles WHERE id = {cycle}"))
        .await;
    let local = jiff::Timestamp::from_second(closes)
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::get("Europe/Berlin").unwrap())
        .strftime("%A %-d %B, %H:%M")
        .to_string();
    home.assert(200, &format!("open until {local}"));

    // Everyone answers through their personal link, on the page.
    for (i, mail) in mails.iter().enumerate() {
        assert!(mail.subject.contains("Monthly pulse"));
        let path = link_path(&mail.text, "/pulse/answer/").unwrap();
        let b = app.browser();
        let form = b.get(&path).await;
        form.assert(200, "Your answers are anonymous");
        if i < 9 {
            let fields = answer_fields(&app, o.org, cycle, 4 + (i as i64 % 2)).await;
            let refs: Vec<(&str, &str)> = fields.iter().map(|(a, c)| (a.as_str(), c.as_str())).collect();
            b.post(&path, &refs)
                .await
                .assert(200, "Thank you")
                .assert(200, "Results come once the pulse closes on 20")
                .assert(200, "to see results when they come");
            // The same link cannot answer twice.
            b.post(&path, &refs).await.assert(409, "answered already");
            b.get(&path).await.assert(409, "answered already");
        }
    }
    let open = hr.get(&format!("/pulse/cycles/{cycle}")).await;
    open.assert(200, "only participation is shown");
    open.assert(200, "at least 90 %");
    assert!(!open.body.contains("Belonging Index"), "no scores while open");
    manager
        .get(&format!("/pulse/cycles/{cycle}?group=team:{}", o.teams[0]))
        .await
        .assert(200, "Participation");
    // A manager cannot ask for the whole org or another team.
    manager
        .get(&format!("/pulse/cycles/{cycle}?group=org"))
        .await
        .assert(403, "not allowed");
    manager
        .get(&format!("/pulse/cycles/{cycle}?group=team:{}", o.teams[1]))
        .await
        .assert(403, "not allowed");

    // HR closes it early; results are published through the plan.
    hr.post(&format!("/pulse/cycles/{cycle}/close"), &[("confirm", "yes")])
        .await;
    let org_view = hr.get(&format!("/pulse/cycles/{cycle}?group=org")).await;
    org_view.assert(200, "Belonging Index");
    org_view.assert(200, "9 responses");
    org_view.assert(200, "All good here");
    // Each pillar of a released result leads to an action on it.
    let plan = format!("/actions/new?group=org&amp;pillar=acceptance&amp;cycle={cycle}");
    org_view.assert(200, &plan);
    hr.get(&format!("/actions/new?group=org&pillar=acceptance&cycle={cycle}"))
        .await
        .assert(200, "<option value=\"acceptance\" selected>")
        .assert(200, &format!("name=\"cycle\" value=\"{cycle}\""));
    // Kitchen (6) beside the org (10) would single out the other 4: withheld.
    let kitchen = hr
        .get(&format!("/pulse/cycles/{cycle}?group=team:{}", o.teams[0]))
        .await;
    kitchen.assert(200, "Not shown");
    assert!(!kitchen.body.contains("responses</p>"));
    let bar = hr
        .get(&format!("/pulse/cycles/{cycle}?group=team:{}", o.teams[1]))
        .await;
    bar.assert(200, "Fewer than 5 responses");
    assert!(!bar.body.contains("Belonging Index"));
    // The manager's own data: the cycle they were asked to answer, their
    // team then, and whether they answered; never the answers.
    let mine: serde_json::Value = serde_json::from_str(&manager.get("/account/data.json").await.body).unwrap();
    let cycles = mine["pulse_cycles"].as_array().unwrap();
    assert_eq!(cycles.len(), 1, "{mine}");
    assert_eq!(cycles[0]["pulse"], "Monthly pulse");
    assert_eq!(cycles[0]["team"], "Team 0");
    assert!(cycles[0]["answered"].is_boolean(), "{mine}");
    manager
        .get("/account/data")
        .await
        .assert(200, "Your answers are stored without your name");
    // Links of a closed pulse say so.
    let last = &mails[9];
    let path = link_path(&last.text, "/pulse/answer/").unwrap();
    app.browser().get(&path).await.assert(410, "closed");
    // The reading is audited, and the manager's log says it in words.
    assert!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'results.viewed'")
            .await
            >= 3
    );
    manager.get("/account/data").await.assert(
        200,
        "Person 0-0 viewed the results of Monthly pulse, cycle 1, for team Team 0",
    );
}

async fn answers_are_stored_apart_from_people(app: TestApp) {
    let o = app.org_with(&[6], false).await;
    let hr = app.signed_in("hera@bars.example").await;
    let cycle = launch_pulse(&app, &hr, o.org).await;
    for (person, _) in &o.members() {
        let fields = answer_fields(&app, o.org, cycle, 5).await;
        belong::pulse::service::submit(&app.state, o.org, cycle, *person, &fields)
            .await
            .unwrap();
    }
    // The schema: nothing in a response names a person, a token or a time.
    let columns = |table: &'static str| app.columns(table);
    // While the cycle is open, answers are sealed, all of one length.
    assert_eq!(columns("sealed_answers").await, ["cycle_id", "id", "org_id", "sealed"]);
    use sqlx::Row;
    let lengths: Vec<i64> = sqlx::query("SELECT LENGTH(sealed) AS n FROM sealed_answers")
        .fetch_all(&app.state.db.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get("n").unwrap())
        .collect();
    assert_eq!(lengths.len(), 6);
    assert!(lengths.iter().all(|n| *n == lengths[0]), "{lengths:?}");
    hr.get(&format!("/pulse/cycles/{cycle}")).await;
    hr.post(&format!("/pulse/cycles/{cycle}/close"), &[("confirm", "yes")])
        .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM sealed_answers").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM cycle_keys").await, 0);
    // What is kept has no comment (comments live in the released results).
    assert_eq!(
        columns("responses").await,
        [
            "answers",
            "cycle_id",
            "id",
            "org_id",
            "segments",
            "team_id",
            "tenure_band"
        ]
    );
    // Answers and segments live inside their response's row: no other
    // table holds any part of what was answered.
    assert!(columns("answers").await.is_empty());
    assert!(columns("response_segments").await.is_empty());
    assert!(columns("legacy_responses").await.is_empty());
    assert_eq!(
        columns("participation").await,
        ["answered", "cycle_id", "org_id", "person_id"]
    );
    assert_eq!(
        columns("invitations").await,
        ["cycle_id", "org_id", "person_id", "token_hash"]
    );
    // Response ids are random 128-bit values, not a sequence.
    let ids: Vec<String> = sqlx::query("SELECT id FROM responses")
        .fetch_all(&app.state.db.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get("id").unwrap())
        .collect();
    assert_eq!(ids.len(), 6);
    assert!(
        ids.iter()
            .all(|id| id.len() == 32 && id.chars().all(|c| c.is_ascii_hexdigit()))
    );
    if app.url.backend() == belong::config::Backend::Sqlite {
        let without_rowid: i64 = app
            .count("SELECT COUNT(*) FROM sqlite_master WHERE name = 'responses' AND sql LIKE '%WITHOUT ROWID%'")
            .await;
        assert_eq!(without_rowid, 1, "clustered by the random id");
    }
    // No page or export lists individual responses: the manager and the
    // owner only ever see group figures.
    let page = hr.get(&format!("/pulse/cycles/{cycle}")).await;
    for id in &ids {
        assert!(!page.body.contains(id.as_str()));
    }
    app.run_jobs().await;
}

async fn bad_answers_are_refused_and_store_nothing(app: TestApp) {
    let o = app.org_with(&[6], false).await;
    let hr = app.signed_in("hera@bars.example").await;
    let cycle = launch_pulse(&app, &hr, o.org).await;
    let me = app.signed_in("p0-1@bars.example").await;
    let path = format!("/pulse/cycles/{cycle}/answer");
    me.get(&path).await.assert(200, "Send my answers");
    let good = answer_fields(&app, o.org, cycle, 4).await;
    let with = |f: &mut Vec<(String, String)>| f.iter().map(|(a, b)| (a.clone(), b.clone())).collect::<Vec<_>>();
    let post = |fields: Vec<(String, String)>| {
        let me = &me;
        let path = path.clone();
        async move {
            let refs: Vec<(&str, &str)> = fields.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
            me.post(&path, &refs).await
        }
    };
    let mut out_of_range = with(&mut good.clone());
    out_of_range[0].1 = "6".into();
    post(out_of_range).await.assert(422, "whole number from 1 to 5");
    let missing: Vec<_> = good.iter().skip(1).cloned().collect();
    post(missing).await.assert(422, "Please answer");
    let mut unknown = good.clone();
    unknown.push(("q123".into(), "3".into()));
    post(unknown).await.assert(422, "not a question of this pulse");
    let mut long = good.clone();
    if let Some(c) = long.iter_mut().find(|(_, v)| v == "All good here") {
        c.1 = "x".repeat(belong::pulse::model::MAX_COMMENT + 1);
    }
    post(long).await.assert(422, "longer than 2000");
    let mut text = good.clone();
    text[0].1 = "a lot".into();
    post(text).await.assert(422, "whole number");
    assert_eq!(app.count("SELECT COUNT(*) FROM sealed_answers").await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM participation WHERE answered = 1").await,
        0
    );
    // Someone not on the roster (HR is, here; a new hire is not).
    app.person(o.org, "New", "new@bars.example", Role::Employee, Some(o.teams[0]))
        .await;
    let newbie = app.signed_in("new@bars.example").await;
    newbie.get(&path).await.assert(403, "not for you");
    // A cycle of another organization is not found.
    let other = app.org("Other", "other").await;
    app.person(other, "Out", "out@other.example", Role::HrAdmin, None).await;
    let outsider = app.browser();
    outsider.sign_in("other", "out@other.example", PASSWORD).await;
    outsider.get(&path).await.assert(404, "does not work");
    // A made-up link.
    app.browser()
        .get(&format!("/pulse/answer/{}", "ab".repeat(32)))
        .await
        .assert(404, "does not work");
    // Finally a good answer goes in, once.
    let refs: Vec<(&str, &str)> = good.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    me.post(&path, &refs)
        .await
        .assert(200, "Thank you")
        .assert(200, "Thank a colleague");
    me.post(&path, &refs).await.assert(409, "answered already");
    assert_eq!(app.count("SELECT COUNT(*) FROM sealed_answers").await, 1);
    app.run_jobs().await;
}

async fn one_token_submitted_twenty_times_at_once_stores_one_response(app: TestApp) {
    let o = app.org_with(&[5], false).await;
    let hr = app.signed_in("hera@bars.example").await;
    let cycle = launch_pulse(&app, &hr, o.org).await;
    let me = std::sync::Arc::new(app.browser());
    me.sign_in("bars-co", "p0-2@bars.example", PASSWORD).await;
    let path = format!("/pulse/cycles/{cycle}/answer");
    me.get(&path).await;
    let fields = answer_fields(&app, o.org, cycle, 5).await;
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let me = me.clone();
        let path = path.clone();
        let fields = fields.clone();
        tasks.push(tokio::spawn(async move {
            let refs: Vec<(&str, &str)> = fields.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
            me.post(&path, &refs).await.status.as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 200 || *s == 409), "{statuses:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM sealed_answers").await, 1);
    app.run_jobs().await;
}

/// Answers that reach the writer together, some from people who have
/// answered already and some from outside the roster, are each refused or
/// stored on their own: one refusal never spoils the others.
async fn answers_arriving_together_are_refused_or_stored_each_on_its_own(app: TestApp) {
    let o = app.org_with(&[8], false).await;
    let hr = app.signed_in("hera@bars.example").await;
    let cycle = launch_pulse(&app, &hr, o.org).await;
    let fields = answer_fields(&app, o.org, cycle, 4).await;
    let early = [o.members()[0].0, o.members()[1].0];
    for p in early {
        belong::pulse::service::submit(&app.state, o.org, cycle, p, &fields)
            .await
            .unwrap();
    }
    // Everyone at once: the two who answered, the rest for the first time,
    // each of those twice, and someone not on the roster.
    let stranger = 4_242_424_242_i64;
    let mut who: Vec<i64> = o.members().iter().map(|(p, _)| *p).collect();
    who.extend(o.members()[2..].iter().map(|(p, _)| *p));
    who.push(stranger);
    let mut tasks = Vec::new();
    for p in who.clone() {
        let (state, fields) = (app.state.clone(), fields.clone());
        tasks.push(tokio::spawn(async move {
            belong::pulse::service::submit(&state, o.org, cycle, p, &fields).await
        }));
    }
    let mut stored = std::collections::HashMap::<i64, usize>::new();
    for (p, t) in who.iter().zip(tasks) {
        match t.await.unwrap() {
            Ok(()) => *stored.entry(*p).or_default() += 1,
            Err(belong::pulse::service::SubmitError::AlreadyAnswered) => assert_ne!(*p, stranger),
            Err(belong::pulse::service::SubmitError::NotInvited) => assert_eq!(*p, stranger),
            Err(e) => panic!("{p}: {e:?}"),
        }
    }
    // Every one who had not answered got exactly one answer in.
    for (p, _) in &o.members()[2..] {
        assert_eq!(stored.get(p), Some(&1), "{p}: {stored:?}");
    }
    assert!(early.iter().all(|p| !stored.contains_key(p)), "{stored:?}");
    let answered = app.count("SELECT COUNT(*) FROM participation WHERE answered = 1").await;
    assert_eq!(answered, stored.len() as i64 + 2);
    assert_eq!(app.count("SELECT COUNT(*) FROM sealed_answers").await, answered);
    app.run_jobs().await;
}

/// The owner asks for every group the pages accept; the groups that come
/// back with figures, set against each other with any signs, never single
/// out fewer than k people.
async fn no_combination_of_released_groups_isolates_anyone(app: TestApp) {
    // Team 0 holds teams 1–3 as sub-teams; sizes chosen so that several
    // differences are small.
    let o = app.org_with(&[3, 6, 5, 7], true).await;
    let hr = app.signed_in("hera@bars.example").await;
    let cycle = launch_pulse(&app, &hr, o.org).await;
    // Everyone but one person of team 2 answers (HR does not).
    let mut answered = Vec::new();
    for (i, (person, t)) in o.members().iter().enumerate() {
        if *t == 2 && i % 5 == 0 {
            continue;
        }
        let fields = answer_fields(&app, o.org, cycle, 1 + (i as i64 % 5)).await;
        belong::pulse::service::submit(&app.state, o.org, cycle, *person, &fields)
            .await
            .unwrap();
        answered.push(*t);
    }
    hr.get(&format!("/pulse/cycles/{cycle}")).await;
    hr.post(&format!("/pulse/cycles/{cycle}/close"), &[("confirm", "yes")])
        .await;
    let owner_page = hr.get(&format!("/pulse/cycles/{cycle}")).await;
    let keys: Vec<String> = owner_page
        .body
        .split("<option value=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().to_owned())
        .collect();
    // The organization, the five teams and team 0's own members: the
    // picker offers no time-here band nobody on the roster is in.
    assert!(keys.len() >= 6, "{keys:?}");
    let mut released: Vec<Group> = Vec::new();
    for key in &keys {
        let page = hr.get(&format!("/pulse/cycles/{cycle}?group={key}")).await;
        assert_eq!(page.status, 200);
        if page.body.contains("Belonging Index") {
            released.push(Group::parse(key).unwrap());
        } else {
            assert!(
                page.body.contains("Fewer than 5") || page.body.contains("Not shown"),
                "{key}"
            );
            assert!(!page.body.contains("responses</p>"), "nothing else about {key}");
        }
    }
    assert!(released.contains(&Group::Org));
    // Membership of each response, as the test built it.
    let member = |t: usize, g: &Group| match g {
        Group::Org => true,
        Group::Team(id) => *id == o.teams[t] || (*id == o.teams[0]),
        Group::TeamOnly(id) => *id == o.teams[t] && t == 0,
        Group::Segment { .. } => false,
    };
    // No segment question was asked, so no segment group can be released;
    // the oracle weighs every released group against the others.
    assert!(
        !released.iter().any(|g| matches!(g, Group::Segment { .. })),
        "{released:?}"
    );
    let sets: Vec<Vec<usize>> = released
        .iter()
        .map(|g| (0..answered.len()).filter(|r| member(answered[*r], g)).collect())
        .collect();
    let found = belong::privacy::oracle::isolations(&sets, answered.len(), 5);
    assert!(found.complete);
    assert!(found.found.is_empty(), "{released:?} isolate {:?}", found.found);
    // A manager sees their own team only, and the same released figures.
    let m = app.signed_in("p1-0@bars.example").await;
    let mine = m.get(&format!("/pulse/cycles/{cycle}?group=team:{}", o.teams[1])).await;
    assert_eq!(
        mine.body.contains("Belonging Index"),
        released.contains(&Group::Team(o.teams[1]))
    );
    m.get(&format!("/pulse/cycles/{cycle}?group=team:{}", o.teams[3]))
        .await
        .assert(403, "not allowed");
    m.get(&format!("/pulse/cycles/{cycle}?group=segment:tenure=1 to 3 years"))
        .await
        .assert(403, "not allowed");
    app.run_jobs().await;
}

/// At the most verbose log level, the server's log holds neither the
/// personal link's token nor anything that was answered.
#[tokio::test]
async fn verbose_logs_hold_no_token_and_no_answer() {
    let app = TestApp::sqlite().await;
    let o = app.org_with(&[5], false).await;
    let bank = belong::pulse::service::question_bank(&app.state, o.org).await.unwrap();
    let input = belong::pulse::model::PulseInput {
        title: "Logged pulse".into(),
        schedule: belong::pulse::model::Schedule::Once,
        open_days: 7,
        remind_days: 0,
        per_cycle: 7,
        teams: None,
        questions: core_only(&bank),
    };
    let actor = belong::auth::Actor::system(o.org);
    let pulse = belong::pulse::service::create_pulse(&app.state, &actor, &input)
        .await
        .unwrap();
    let cycle = belong::pulse::service::launch(&app.state, o.org, pulse).await.unwrap();
    let payload = app
        .queued_emails()
        .await
        .into_iter()
        .find(|p| p.contains("p0-1@bars.example"))
        .expect("the invitation is queued");
    let token = crate::helpers::pulse_link_token(&payload).expect("a personal link");
    assert_eq!(token.len(), 64);

    let server = crate::helpers::LoggedServer::start(&app);
    let port = server.port;
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let form = client.get(format!("{base}/pulse/answer/{token}")).send().await.unwrap();
    let csrf_cookie = form.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let csrf = csrf_cookie.split('=').nth(1).unwrap().to_owned();
    let mut fields = answer_fields(&app, o.org, cycle, 2).await;
    for f in &mut fields {
        if f.1 == "All good here" {
            f.1 = "PURPLE-ELEPHANT-42 wrote this".into();
        }
    }
    fields.push(("csrf".into(), csrf));
    let sent = client
        .post(format!("{base}/pulse/answer/{token}"))
        .header("cookie", csrf_cookie)
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 200);
    assert_eq!(app.count("SELECT COUNT(*) FROM sealed_answers").await, 1);
    let port = server.port;
    let log = server.finish();
    assert!(
        log.contains("/pulse/answer/{token}"),
        "the request is logged by its route's template: {log}"
    );
    // The only address in the log is the server's own, at any level.
    for (at, _) in log.match_indices("127.0.0.1:") {
        let rest = &log[at + "127.0.0.1:".len()..];
        assert!(
            rest.starts_with(&port.to_string()),
            "a client address is in the log: {}",
            log[at..].chars().take(40).collect::<String>()
        );
    }
    assert!(!log.contains(&token), "the token is in the log");
    assert!(!log.contains(&token[..16]), "part of the token is in the log");
    assert!(!log.contains("PURPLE-ELEPHANT"), "the comment is in the log");
    for (name, _) in fields.iter().filter(|(n, _)| n.starts_with('q')) {
        assert!(!log.contains(&format!("{name}=")), "an answer field is in the log");
    }
    assert!(!log.contains("p0-1@bars.example"), "the person is in the log");
}

async fn reminders_reach_only_those_who_have_not_answered_and_the_cycle_closes_on_time(app: TestApp) {
    let o = app.org_with(&[6], false).await;
    let bank = belong::pulse::service::question_bank(&app.state, o.org).await.unwrap();
    let input = belong::pulse::model::PulseInput {
        title: "Quarterly pulse".into(),
        schedule: belong::pulse::model::Schedule::Quarterly,
        open_days: 10,
        remind_days: 3,
        per_cycle: 7,
        teams: Some(vec![o.teams[0]]),
        questions: core_only(&bank),
    };
    let actor = belong::auth::Actor::system(o.org);
    let pulse = belong::pulse::service::create_pulse(&app.state, &actor, &input)
        .await
        .unwrap();
    let cycle = belong::pulse::service::launch(&app.state, o.org, pulse).await.unwrap();
    // Only the chosen team is asked (HR is not in it).
    assert_eq!(app.count("SELECT COUNT(*) FROM participation").await, 6);
    for (person, _) in o.members().iter().take(2) {
        let fields = answer_fields(&app, o.org, cycle, 4).await;
        belong::pulse::service::submit(&app.state, o.org, cycle, *person, &fields)
            .await
            .unwrap();
    }
    belong::jobs::run_due(&app.state, "t").await.unwrap();
    // Sent emails are erased (their payloads are sealed, then dropped):
    // count the emails queued at reminder time, before they go.
    let emails = "SELECT COUNT(*) FROM jobs WHERE kind = 'email.send'";
    let invitations = app.count(emails).await;
    assert_eq!(invitations, 6);
    app.clock.advance(jiff::SignedDuration::from_hours(24 * 7 + 1));
    belong::jobs::run_due(&app.state, "t").await.unwrap();
    assert_eq!(
        app.count(emails).await,
        invitations + 4,
        "only the four who have not answered"
    );
    // What such a reminder says, read while it waits to be sent.
    let reminded = belong::pulse::service::remind(&app.state, o.org, cycle).await.unwrap();
    assert_eq!(reminded, 4);
    let queued = app.queued_emails().await;
    assert_eq!(queued.len(), 4);
    assert!(queued.iter().all(|p| p.contains("Reminder")), "{queued:?}");
    app.clock.advance(jiff::SignedDuration::from_hours(24));
    belong::jobs::run_due(&app.state, "t").await.unwrap();
    assert!(app.queued_emails().await.is_empty());
    let kept: i64 = app
        .count("SELECT COUNT(*) FROM jobs WHERE kind = 'email.send' AND (sealed IS NOT NULL OR payload <> '')")
        .await;
    assert_eq!(kept, 0, "sent emails keep kind, status and times only");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM cycles WHERE id = {cycle} AND closed_at IS NULL"
        ))
        .await,
        1
    );
    app.clock.advance(jiff::SignedDuration::from_hours(24 * 3));
    belong::jobs::run_due(&app.state, "t").await.unwrap();
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM cycles WHERE id = {cycle} AND closed_at IS NOT NULL"
        ))
        .await,
        1
    );
    // Late answers are refused, and the next quarter is scheduled.
    let fields = answer_fields(&app, o.org, cycle, 4).await;
    let late = belong::pulse::service::submit(&app.state, o.org, cycle, o.members()[3].0, &fields).await;
    assert!(matches!(late, Err(belong::pulse::service::SubmitError::Closed)));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'pulse.launch' AND done_at IS NULL")
            .await,
        1
    );
    app.clock.advance(jiff::SignedDuration::from_hours(24 * 95));
    belong::jobs::run_due(&app.state, "t").await.unwrap();
    assert_eq!(
        app.count("SELECT COUNT(*) FROM cycles").await,
        2,
        "the next cycle opened on schedule"
    );
}

async fn kept_answers_and_comments_go_when_the_retention_says_and_the_figures_stay(app: TestApp) {
    let o = app.org_with(&[6], false).await;
    app.person(o.org, "Olu Owner", "olu@bars.example", Role::Owner, None)
        .await;
    let owner = app.signed_in("olu@bars.example").await;
    let hr = app.signed_in("hera@bars.example").await;
    let cycle = launch_pulse(&app, &hr, o.org).await;
    for (i, (person, _)) in o.members().iter().enumerate() {
        let fields = answer_fields(&app, o.org, cycle, 1 + (i as i64 % 5)).await;
        belong::pulse::service::submit(&app.state, o.org, cycle, *person, &fields)
            .await
            .unwrap();
    }
    hr.get(&format!("/pulse/cycles/{cycle}")).await;
    hr.post(&format!("/pulse/cycles/{cycle}/close"), &[("confirm", "yes")])
        .await;
    let kept = app.count("SELECT COUNT(*) FROM responses").await;
    assert_eq!(kept, o.members().len() as i64);
    let results = |app: &TestApp| {
        let pool = app.state.db.pool.clone();
        async move {
            sqlx::query_scalar::<_, String>("SELECT result FROM cycle_results ORDER BY group_key")
                .fetch_all(&pool)
                .await
                .unwrap()
        }
    };
    let before = results(&app).await;
    assert!(before.iter().any(|r| r.contains("All good here")), "{before:?}");

    // Bad input is named by its field; HR may not change it.
    owner
        .get("/settings")
        .await
        .assert(200, "What is kept after results are released");
    for bad in ["soon", "0", "121", "-3"] {
        owner
            .post(
                "/settings/retention",
                &[("keep_responses", "on"), ("retention_months", bad)],
            )
            .await
            .assert(
                422,
                "Delete kept answers and comments this many months after a pulse closes</a>: ",
            )
            .assert(422, "whole number of months");
    }
    hr.post("/settings/retention", &[("retention_months", "3")])
        .await
        .assert(403, "not allowed");
    owner
        .submit(
            "/settings/retention",
            &[("keep_responses", "on"), ("retention_months", "3")],
        )
        .await
        .assert(200, "Saved");
    // Not yet three months: nothing goes.
    assert_eq!(
        belong::pulse::service::apply_retention(&app.state, o.org)
            .await
            .unwrap(),
        (0, 0)
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM responses").await, kept);
    // After them, the nightly job deletes kept answers and comments; the
    // figures stay as released.
    app.clock.advance(jiff::SignedDuration::from_hours(24 * 100));
    belong::jobs::schedule::queue_due(&app.state).await.unwrap();
    belong::jobs::run_due(&app.state, "test").await.unwrap();
    assert_eq!(app.count("SELECT COUNT(*) FROM responses").await, 0);
    let after = results(&app).await;
    assert_eq!(after.len(), before.len());
    assert!(after.iter().all(|r| !r.contains("All good here")), "{after:?}");
    let strip = |r: &str| {
        let mut v: serde_json::Value = serde_json::from_str(r).unwrap();
        v["comments"] = serde_json::json!([]);
        v
    };
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(strip(b), strip(a), "a released figure changed");
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'retention.applied'")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'settings.retention'")
            .await,
        1
    );
}

/// The demo's year of pulses, stored as before sealing (a `legacy_responses`
/// table with comments and the full team and tenure), goes through the
/// upgrade: every released result, plan, page and export stays exactly as
/// it was; what is kept has no comment and is coarsened to k.
async fn the_upgrade_to_sealed_storage_keeps_the_demo_results_and_exports_as_they_were(app: TestApp) {
    use sqlx::Row;
    belong::modules::seed_demo(&app.state).await.unwrap();
    let pool = app.state.db.pool.clone();
    let snapshot = || {
        let pool = pool.clone();
        async move {
            let results: Vec<(i64, String, String)> =
                sqlx::query("SELECT cycle_id, group_key, result FROM cycle_results ORDER BY cycle_id, group_key")
                    .fetch_all(&pool)
                    .await
                    .unwrap()
                    .iter()
                    .map(|r| (r.get(0), r.get(1), r.get(2)))
                    .collect();
            let plans: Vec<(i64, Option<String>)> = sqlx::query("SELECT id, plan FROM cycles ORDER BY id")
                .fetch_all(&pool)
                .await
                .unwrap()
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect();
            (results, plans)
        }
    };
    let owner = app.browser();
    owner
        .sign_in(
            belong::org::demo::ORG_SLUG,
            belong::org::demo::OWNER_EMAIL,
            belong::org::demo::PASSWORD,
        )
        .await;
    let closed: Vec<i64> = sqlx::query_scalar("SELECT id FROM cycles WHERE closed_at IS NOT NULL ORDER BY id")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert!(closed.len() >= 6, "the demo has a year of pulses: {closed:?}");
    let pages = || async {
        let mut out = Vec::new();
        for c in &closed {
            let csv = owner.get(&format!("/pulse/cycles/{c}/export.csv")).await;
            out.push(csv.assert(200, "org,").body.clone());
        }
        let overview = owner.get("/pulse").await;
        out.push(overview.assert(200, "Pulse").body.replace(char::is_whitespace, ""));
        out
    };
    let (before, before_pages) = (snapshot().await, pages().await);
    let kept_before = app.count("SELECT COUNT(*) FROM responses").await;
    assert!(kept_before > 0);

    // As stored before sealing: every answer with its comment and its full
    // team and tenure band, in the old table the migration left behind.
    sqlx::query(
        "CREATE TABLE legacy_responses (org_id BIGINT, cycle_id BIGINT, team_id BIGINT, tenure_band TEXT,
         answers TEXT, segments TEXT, comment TEXT)",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO legacy_responses (org_id, cycle_id, team_id, tenure_band, answers, segments, comment)
         SELECT org_id, cycle_id, team_id, tenure_band, answers, segments, 'LEGACY-COMMENT' FROM responses",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("DELETE FROM responses").execute(&pool).await.unwrap();
    belong::pulse::sealed::upgrade(&app.state.db, &app.state.master_key)
        .await
        .unwrap();

    assert!(
        app.columns("legacy_responses").await.is_empty(),
        "the old table is gone"
    );
    let (after, after_pages) = (snapshot().await, pages().await);
    assert_eq!(before, after, "a released result or plan changed");
    assert_eq!(before_pages, after_pages, "a results page or export changed");
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM responses WHERE answers LIKE '%LEGACY-COMMENT%' OR segments LIKE '%LEGACY-COMMENT%'"
        )
        .await,
        0
    );
    // Every combination of kept attributes is shared by at least k kept
    // responses of its cycle.
    let small = app
        .count(
            "SELECT COUNT(*) FROM (SELECT r.cycle_id FROM responses r JOIN cycles c ON c.id = r.cycle_id
             GROUP BY r.cycle_id, r.team_id, r.tenure_band, r.segments, c.anonymity_k
             HAVING COUNT(*) < c.anonymity_k) small",
        )
        .await;
    assert_eq!(small, 0);
    assert!(app.count("SELECT COUNT(*) FROM responses").await <= kept_before);
    app.run_jobs().await;
}

async fn k_can_be_raised_but_not_lowered_once_answers_are_in(app: TestApp) {
    let o = app.org_with(&[6], false).await;
    app.person(o.org, "Olu Owner", "olu@bars.example", Role::Owner, None)
        .await;
    let owner = app.signed_in("olu@bars.example").await;
    owner.get("/settings").await.assert(200, "Anonymity settings");
    owner
        .post("/settings", &[("k", "2")])
        .await
        .assert(422, "Smallest group whose results are shown</a>: must be from 3 to 50");
    owner
        .post("/settings", &[("k", "five")])
        .await
        .assert(422, "Smallest group whose results are shown</a>: write a whole number");
    let hr = app.signed_in("hera@bars.example").await;
    hr.get("/settings").await.assert(403, "not allowed");
    let cycle = launch_pulse(&app, &hr, o.org).await;
    // Before anyone answers, k may go down.
    owner.get("/settings").await;
    owner.submit("/settings", &[("k", "4")]).await.assert(200, "Saved");
    let fields = answer_fields(&app, o.org, cycle, 4).await;
    belong::pulse::service::submit(&app.state, o.org, cycle, o.members()[0].0, &fields)
        .await
        .unwrap();
    owner.post("/settings", &[("k", "3")]).await.assert(409, "not lowered");
    owner.submit("/settings", &[("k", "6")]).await.assert(200, "Saved");
    assert_eq!(
        app.count(&format!("SELECT anonymity_k FROM cycles WHERE id = {cycle}"))
            .await,
        6,
        "open cycles follow a raise"
    );
    // An employee sees results only when the org shares them.
    let emp = app.signed_in("p0-3@bars.example").await;
    emp.get(&format!("/pulse/cycles/{cycle}"))
        .await
        .assert(403, "not allowed");
    owner
        .submit("/settings", &[("k", "6"), ("share_results", "on")])
        .await
        .assert(200, "Saved");
    emp.get(&format!("/pulse/cycles/{cycle}"))
        .await
        .assert(200, "Whole organization");
    assert!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'settings.anonymity'")
            .await
            >= 3
    );
    app.run_jobs().await;
}

async fn rewording_an_answered_question_makes_a_new_version(app: TestApp) {
    let o = app.org_with(&[6], false).await;
    let hr = app.signed_in("hera@bars.example").await;
    hr.get("/pulse/questions").await.assert(200, "Question bank");
    hr.post("/pulse/questions", &[("pillar", "value"), ("text", " ")])
        .await
        .assert(422, "Wording</a>:");
    hr.post("/pulse/questions", &[("pillar", "moon"), ("text", "Fine")])
        .await
        .assert(422, "Pillar</a>:");
    hr.submit("/pulse/questions", &[("pillar", "value"), ("text", "My pay is fair.")])
        .await
        .assert(200, "was added");
    let custom = app
        .count("SELECT id FROM questions WHERE text = 'My pay is fair.'")
        .await;
    // Unanswered: reworded in place.
    hr.submit(
        &format!("/pulse/questions/{custom}"),
        &[("text", "My pay is fair for my work.")],
    )
    .await
    .assert(200, "wording was changed");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM questions WHERE id = {custom} AND text = 'My pay is fair for my work.'"
        ))
        .await,
        1
    );
    // Answered: a new version, the old one retired, trends kept apart.
    let cycle = launch_pulse(&app, &hr, o.org).await;
    let fields = answer_fields(&app, o.org, cycle, 4).await;
    belong::pulse::service::submit(&app.state, o.org, cycle, o.members()[0].0, &fields)
        .await
        .unwrap();
    let asked = fields[0].0.trim_start_matches('q').to_owned();
    let page = hr
        .submit(&format!("/pulse/questions/{asked}"), &[("text", "A new wording.")])
        .await;
    page.assert(200, "new version");
    assert_eq!(
        app.count(&format!("SELECT retired FROM questions WHERE id = {asked}"))
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT version FROM questions WHERE text = 'A new wording.'")
            .await,
        2
    );
    let stored = app.open_sealed(o.org, cycle).await;
    let asked_id: i64 = asked.parse().unwrap();
    assert_eq!(stored.len(), 1);
    assert!(
        stored[0].answers.iter().any(|(q, _)| *q == asked_id),
        "old answers keep the old wording"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM pulse_questions WHERE question_id = {asked}"
        ))
        .await,
        0
    );
    let emp = app.signed_in("p0-2@bars.example").await;
    emp.get("/pulse/questions").await.assert(403, "not allowed");
    app.run_jobs().await;
}

async fn self_reported_segments_stay_on_the_response_and_pass_the_guard(app: TestApp) {
    let o = app.org_with(&[12], false).await;
    let hr = app.signed_in("hera@bars.example").await;
    hr.get("/pulse/segments").await.assert(200, "Self-reported segments");
    hr.post(
        "/pulse/segments",
        &[("text", "Where do you work?"), ("options", "Remote")],
    )
    .await
    .assert(422, "Options</a>:");
    let made = hr
        .post(
            "/pulse/segments",
            &[("text", "Where do you work?"), ("options", "Remote\nOffice")],
        )
        .await;
    assert_eq!(made.status, 303);
    let seg = app.count("SELECT id FROM segment_questions").await;
    // Breakdowns by self-reported answers are for one-off pulses (a
    // repeating one would let cycles be compared).
    let cycle = launch_pulse_every(&app, &hr, o.org, "once").await;
    // The form offers it, with "prefer not to say" chosen by default.
    let me = app.signed_in("p0-1@bars.example").await;
    let form = me.get(&format!("/pulse/cycles/{cycle}/answer")).await;
    form.assert(200, "Where do you work?");
    form.assert(200, "value=\"prefer not to say\" checked");
    let base = answer_fields(&app, o.org, cycle, 4).await;
    let with = |v: &str| {
        let mut f = base.clone();
        f.push((format!("s{seg}"), v.to_owned()));
        f
    };
    let bad = belong::pulse::service::submit(&app.state, o.org, cycle, o.members()[0].0, &with("Moon")).await;
    assert!(matches!(bad, Err(belong::pulse::service::SubmitError::Invalid(ref e)) if e[0].0 == format!("s{seg}")));
    let mut unknown = base.clone();
    unknown.push(("s1".into(), "Remote".into()));
    assert!(
        belong::pulse::service::submit(&app.state, o.org, cycle, o.members()[0].0, &unknown)
            .await
            .is_err()
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM sealed_answers").await, 0);
    for (i, (person, _)) in o.members().iter().enumerate() {
        let choice = match i {
            0..=5 => "Remote",
            6..=10 => "Office",
            _ => "prefer not to say",
        };
        belong::pulse::service::submit(&app.state, o.org, cycle, *person, &with(choice))
            .await
            .unwrap();
    }
    let sealed = app.open_sealed(o.org, cycle).await;
    assert_eq!(
        sealed.iter().filter(|r| !r.segments.is_empty()).count(),
        11,
        "prefer not to say is not stored"
    );
    hr.get(&format!("/pulse/cycles/{cycle}")).await;
    hr.post(&format!("/pulse/cycles/{cycle}/close"), &[("confirm", "yes")])
        .await;
    let remote = hr
        .get(&format!("/pulse/cycles/{cycle}?group=segment:s{seg}=Remote"))
        .await;
    remote.assert(200, "Where do you work?: Remote");
    remote.assert(200, "6 responses");
    // org (12) − Remote (6) − Office (5) would be the one who did not say.
    let office = hr
        .get(&format!("/pulse/cycles/{cycle}?group=segment:s{seg}=Office"))
        .await;
    office.assert(200, "Not shown");
    hr.get(&format!("/pulse/cycles/{cycle}?group=org"))
        .await
        .assert(200, "12 responses");
    // Managers are not offered segments.
    let m = app.signed_in("p0-0@bars.example").await;
    m.get(&format!("/pulse/cycles/{cycle}?group=segment:s{seg}=Remote"))
        .await
        .assert(403, "not allowed");
    app.run_jobs().await;
}

/// An owner of another organization posts to this organization's cycle,
/// pulse and questions by id, through pages and the API: every write is
/// "not found" before anything else is looked at, nothing changes, and
/// this organization's people still answer (no cache filled with the
/// other organization's view of the cycle).
async fn another_organization_cannot_touch_a_cycle(app: TestApp) {
    let o = app.org_with(&[6], false).await;
    let hr = app.signed_in("hera@bars.example").await;
    let cycle = launch_pulse(&app, &hr, o.org).await;
    let pulse = app
        .count(&format!("SELECT pulse_id FROM cycles WHERE id = {cycle}"))
        .await;
    let question = app
        .count(&format!(
            "SELECT MIN(question_id) FROM cycle_questions WHERE cycle_id = {cycle}"
        ))
        .await;
    let good = answer_fields(&app, o.org, cycle, 4).await;

    let other = app.org("Other", "other").await;
    let intruder_id = app.person(other, "Out", "out@other.example", Role::Owner, None).await;
    let intruder = app.browser();
    intruder.sign_in("other", "out@other.example", PASSWORD).await;
    let refs: Vec<(&str, &str)> = good.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    intruder.get("/").await;
    for (path, fields) in [
        (format!("/pulse/cycles/{cycle}/answer"), refs.clone()),
        (format!("/pulse/cycles/{cycle}/close"), vec![]),
        (format!("/pulse/{pulse}/launch"), vec![]),
        (
            format!("/pulse/questions/{question}"),
            vec![("pillar", "acceptance"), ("text", "Hijacked question")],
        ),
    ] {
        let page = intruder.post(&path, &fields).await;
        assert_eq!(page.status, 404, "POST {path}: {}", page.body);
    }
    let token = crate::helpers::token_for(&app, other, intruder_id).await;
    let api = crate::helpers::Api::new(&app, &token);
    let answers: serde_json::Map<String, serde_json::Value> = good
        .iter()
        .filter(|(q, v)| q.starts_with('q') && v.parse::<i64>().is_ok())
        .map(|(q, v)| (q[1..].to_owned(), serde_json::json!(v.parse::<i64>().unwrap())))
        .collect();
    let body = serde_json::json!({ "answers": answers });
    api.call("POST", &format!("/api/v1/cycles/{cycle}/responses"), Some(body.clone()))
        .await
        .error(404, "not_found");
    // An empty body too: the cycle is checked before the answer is.
    api.call(
        "POST",
        &format!("/api/v1/cycles/{cycle}/responses"),
        Some(serde_json::json!({ "answers": {} })),
    )
    .await
    .error(404, "not_found");
    api.call("POST", &format!("/api/v1/cycles/{cycle}/close"), None)
        .await
        .error(404, "not_found");
    api.call("POST", &format!("/api/v1/pulses/{pulse}/cycles"), None)
        .await
        .error(404, "not_found");
    api.get(&format!("/api/v1/cycles/{cycle}/results"))
        .await
        .error(404, "not_found");
    api.get(&format!("/api/v1/cycles/{cycle}/heatmap"))
        .await
        .error(404, "not_found");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM audit_events WHERE org_id = {other} AND subject_type = 'cycle'"
        ))
        .await,
        0,
        "another organization's cycle leaves no audit entry"
    );

    // Nothing changed, and the cycle's own people answer as before.
    assert_eq!(app.count("SELECT COUNT(*) FROM sealed_answers").await, 0);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM cycles WHERE id = {cycle} AND closed_at IS NULL"
        ))
        .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM questions WHERE text = 'Hijacked question'")
            .await,
        0
    );
    let me = app.signed_in("p0-1@bars.example").await;
    let path = format!("/pulse/cycles/{cycle}/answer");
    me.get(&path).await.assert(200, "Send my answers");
    me.post(&path, &refs).await.assert(200, "Thank you");
    assert_eq!(app.count("SELECT COUNT(*) FROM sealed_answers").await, 1);
    app.run_jobs().await;
}

/// A stored value that does not read (a result, segment options, k, a time
/// zone) fails the request that reads it, with the cause logged; nothing
/// shows an empty figure, no options, a default k or UTC in its place.
async fn corrupt_stored_data_is_an_error_never_a_default(app: TestApp) {
    let o = app.org_with(&[6], false).await;
    let hr = app.signed_in("hera@bars.example").await;
    let cycle = launch_pulse(&app, &hr, o.org).await;
    for (i, (person, _)) in o.members().iter().enumerate() {
        let fields = answer_fields(&app, o.org, cycle, 1 + (i as i64 % 5)).await;
        belong::pulse::service::submit(&app.state, o.org, cycle, *person, &fields)
            .await
            .unwrap();
    }
    hr.get(&format!("/pulse/cycles/{cycle}")).await;
    hr.post(&format!("/pulse/cycles/{cycle}/close"), &[("confirm", "yes")])
        .await;
    let actor = belong::auth::Actor {
        org_id: o.org,
        person_id: 0,
        role: Role::HrAdmin,
    };
    let visible = belong::pulse::service::visible_groups(&app.state, &actor)
        .await
        .unwrap();
    let (_, view) = belong::pulse::service::view(&app.state, &actor, &visible, cycle, &Group::Org)
        .await
        .unwrap();
    assert!(matches!(view, belong::pulse::service::View::Released(_)), "{view:?}");
    let exec = |sql: &'static str| {
        let pool = app.state.db.pool.clone();
        async move { sqlx::query(sql).execute(&pool).await.unwrap() }
    };
    let internal = |e: belong::error::AppError| {
        assert!(matches!(e, belong::error::AppError::Internal(_)), "{e:?}");
        e.cause().unwrap()
    };

    exec("UPDATE cycle_results SET result = '{\"responses\": 6' WHERE group_key = 'org'").await;
    let e = belong::pulse::service::view(&app.state, &actor, &visible, cycle, &Group::Org)
        .await
        .unwrap_err();
    assert!(internal(e).contains("does not read"));
    let pulse = app.count("SELECT pulse_id FROM cycles").await;
    let e = belong::pulse::service::trend(&app.state, &actor, &visible, pulse, &Group::Org)
        .await
        .unwrap_err();
    internal(e);
    exec("DELETE FROM cycle_results WHERE group_key = 'org'").await;
    let e = belong::pulse::service::view(&app.state, &actor, &visible, cycle, &Group::Org)
        .await
        .unwrap_err();
    assert!(internal(e).contains("no result is stored"));

    exec("INSERT INTO segment_questions (id, org_id, text, options, active, created_at) VALUES (77, (SELECT id FROM organizations), 'Where?', 'remote, office', 1, 0)").await;
    let listed = belong::pulse::segments::list(&mut app.state.db.acquire().await.unwrap(), o.org, true).await;
    assert!(listed.is_err(), "{listed:?}");

    exec("UPDATE organizations SET anonymity_k = 1").await;
    let k = belong::org::service::anonymity_k(&mut app.state.db.acquire().await.unwrap(), o.org).await;
    assert!(internal(k.unwrap_err()).contains("stored k of 1"));

    exec("UPDATE organizations SET time_zone = 'Mars/Olympus'").await;
    let tz = belong::org::service::time_zone(&mut app.state.db.acquire().await.unwrap(), o.org).await;
    assert!(tz.is_err());
    app.run_jobs().await;
}

/// Opening a cycle emails everyone and closing one early makes its results
/// final: each asks first, and nothing happens until confirmed. A pulse
/// has one open cycle at a time.
async fn opening_and_closing_early_ask_first_and_a_pulse_has_one_open_cycle(app: TestApp) {
    let smtp = SmtpSink::start(free_port(), 0);
    let app = app.with_mail(smtp.port).await;
    let o = app.org_with(&[6, 3], false).await;
    let hr = app.signed_in("hera@bars.example").await;
    let cycle = launch_pulse(&app, &hr, o.org).await;
    let pulse = app.count("SELECT pulse_id FROM cycles").await;
    let launch = format!("/pulse/{pulse}/launch");
    let jobs = app.count("SELECT COUNT(*) FROM jobs").await;

    // A second cycle while one is open is refused, asked or confirmed.
    hr.get("/pulse").await;
    hr.post(&launch, &[])
        .await
        .assert(409, "Cycle #1 of this pulse is still open");
    hr.post(&launch, &[("confirm", "yes")])
        .await
        .assert(409, "close it before opening another");
    assert_eq!(app.count("SELECT COUNT(*) FROM cycles").await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs").await,
        jobs,
        "no second round of emails"
    );

    // Closing early asks first and says the results are final.
    let close = format!("/pulse/cycles/{cycle}/close");
    hr.get(&format!("/pulse/cycles/{cycle}")).await;
    hr.post(&close, &[])
        .await
        .assert(200, "Close this cycle now?")
        .assert(200, "are final")
        .assert(200, &format!(r#"action="{close}""#));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM cycles WHERE closed_at IS NULL").await,
        1
    );
    let closed = hr.post(&close, &[("confirm", "yes")]).await;
    assert_eq!(closed.location(), format!("/pulse/cycles/{cycle}?notice=closed"));
    hr.get(closed.location())
        .await
        .assert(200, "The cycle is closed and its results are published");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM cycles WHERE closed_at IS NULL").await,
        0
    );
    hr.post(&close, &[]).await.assert(409, "closed already");

    // Now a cycle may open: the page says who gets an email, and nothing
    // is sent until confirmed; confirmed, it opens once.
    belong::jobs::run_due(&app.state, "t").await.unwrap();
    let sent = smtp.received().len();
    hr.get("/pulse").await;
    hr.post(&launch, &[])
        .await
        .assert(200, "Open a cycle of “Monthly pulse”?")
        .assert(200, "10 people get an email now")
        .assert(200, "Open it and email 10 people");
    belong::jobs::run_due(&app.state, "t").await.unwrap();
    assert_eq!(app.count("SELECT COUNT(*) FROM cycles").await, 1);
    assert_eq!(smtp.received().len(), sent, "nothing sent before confirming");
    let opened = hr.post(&launch, &[("confirm", "yes")]).await;
    assert_eq!(opened.status, 303, "{}", opened.body);
    assert!(opened.location().ends_with("?notice=opened"), "{}", opened.location());
    hr.get(opened.location()).await.assert(200, "has been sent their link");
    belong::jobs::run_due(&app.state, "t").await.unwrap();
    assert_eq!(app.count("SELECT COUNT(*) FROM cycles").await, 2);
    assert_eq!(smtp.received().len(), sent + 10);

    // The designer's defaults hold for every schedule it offers: a
    // quarterly pulse designed with them is accepted and opens.
    design_pulse(&app, &hr, o.org, "quarterly").await;
    let quarterly = app.count("SELECT id FROM pulses WHERE schedule = 'quarterly'").await;
    let cycle = belong::pulse::service::launch(&app.state, o.org, quarterly)
        .await
        .unwrap();
    belong::pulse::service::close(&app.state, o.org, cycle).await.unwrap();
    app.run_jobs().await;
}

/// Eight launches of one pulse at once: one cycle opens, the others are
/// refused (the rule reads, then writes; on PostgreSQL too).
async fn launches_at_once_open_one_cycle(app: TestApp) {
    let o = app.org_with(&[4], false).await;
    let hr = app.signed_in("hera@bars.example").await;
    let first = launch_pulse(&app, &hr, o.org).await;
    belong::pulse::service::close(&app.state, o.org, first).await.unwrap();
    let pulse = app.count("SELECT pulse_id FROM cycles").await;
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let state = app.state.clone();
            let org = o.org;
            tokio::spawn(async move { belong::pulse::service::launch(&state, org, pulse).await })
        })
        .collect();
    let mut opened = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => opened += 1,
            Err(e) => assert!(e.to_string().contains("still open"), "{e}"),
        }
    }
    assert_eq!(opened, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM cycles WHERE closed_at IS NULL").await,
        1
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM participation").await, 2 * 5);
    app.run_jobs().await;
}

/// The demo's owner opens Pulse on the latest results in words and
/// figures, and the results page draws bars, a coloured heatmap with the
/// change since the cycle before, and a trend labelled by month.
async fn the_overview_opens_on_headlines_and_the_results_are_drawn(app: TestApp) {
    use belong::org::demo;
    belong::modules::seed_demo_if_empty(&app.state).await.unwrap();
    let b = app.browser();
    b.sign_in(demo::ORG_SLUG, demo::OWNER_EMAIL, demo::PASSWORD).await;
    let overview = b.get("/pulse").await;
    overview
        .assert(200, "Latest results")
        .assert(200, "Monthly belonging pulse")
        .assert(200, "Participation: at least")
        .assert(200, r#"class="spark""#)
        .assert(200, "Belonging Index by cycle:");
    assert!(
        !overview.body.contains("style="),
        "the page's policy refuses inline styles"
    );
    // The latest cycle's index with its change since the last one shown,
    // or, withheld, why and the last one shown.
    let moved = ["within noise since", "a real rise since", "a real drop since"];
    let shown = overview.body.contains("90 % interval") && moved.iter().any(|m| overview.body.contains(m));
    let withheld = overview.body.contains("Last shown:") && overview.body.contains("Not shown");
    assert!(shown || withheld, "{}", overview.body);
    if shown {
        overview.assert(200, r#"aria-label="Pillars, % favourable""#);
    }

    let org = belong::org::service::org_by_slug(&app.state.db, demo::ORG_SLUG)
        .await
        .unwrap()
        .unwrap()
        .id;
    let mut closed: Vec<_> = belong::pulse::service::cycles(&app.state, &belong::auth::Actor::system(org))
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.is_closed())
        .collect();
    closed.sort_by_key(|c| std::cmp::Reverse(c.number));
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut heatmaps = 0;
    for c in &closed {
        let results = b.get(&format!("/pulse/cycles/{}", c.id)).await;
        results.assert(200, "Belonging Index by cycle:");
        // The picker: the tree's order, "(with sub-teams)" only where a
        // team has some, withheld groups said so.
        let picker = &results.body[results.body.find(r#"<select id="group""#).unwrap()..];
        let picker = &picker[..picker.find("</select>").unwrap()];
        assert!(picker.contains(r#"<option value="org""#), "{picker}");
        assert!(
            picker.contains("Product &amp; Engineering (with sub-teams)"),
            "{picker}"
        );
        assert!(
            picker.contains(">Product &amp; Engineering / Platform<")
                || picker.contains(">Product &amp; Engineering / Platform — not shown<"),
            "{picker}"
        );
        assert!(!picker.contains("Platform (with sub-teams)"), "{picker}");
        let at = |needle: &str| picker.find(needle).unwrap();
        assert!(at("Product &amp; Engineering (with sub-teams)") < at("Product &amp; Engineering / Platform"));
        assert!(
            results
                .body
                .find("Time here")
                .is_none_or(|t| t > at("Product &amp; Engineering / Platform"))
        );
        assert!(!results.body.contains(">#1</text>"), "months, not cycle numbers");
        assert!(months.iter().any(|m| results.body.contains(&format!(">{m}</text>"))));
        if results.body.contains("Teams × pillars") {
            heatmaps += 1;
            results.assert(200, "Colour:");
            assert!(results.body.contains(r#"<td class="heat-"#), "{}", results.body);
        }
        if results.body.contains("<h3>Pillars</h3>") {
            results.assert(200, r#"<svg class="bar""#);
        }
        // The change since the cycle before shows once both released a team.
        if c.number > 1 && results.body.contains(r#"<span class="delta">"#) {
            results.assert(200, "since the cycle before");
        }
    }
    assert!(heatmaps > 0, "some cycle of the demo shows a heatmap");
    app.run_jobs().await;
}
