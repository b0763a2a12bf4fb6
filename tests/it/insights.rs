//! Actions on results: planned by managers for their teams (HR and owners
//! for any group), owned by someone told by email, read by the people
//! they are for, followed up with dated updates.

use belong::auth::Role;

use crate::helpers::{SmtpSink, TestApp, both_databases, free_port};

both_databases!(
    a_manager_plans_an_action_its_owner_is_told_and_the_team_reads_it,
    bad_actions_name_every_field_and_store_nothing,
    updates_follow_an_action_to_its_end,
    the_demo_shows_an_initiative_report_and_a_full_you_said_we_did,
    the_impact_report_reads_released_figures_only,
    initiatives_are_proposed_approved_and_refused_when_wrong,
    owners_are_reminded_and_planners_hear_of_overdue_actions,
    the_next_invitation_says_what_was_done_since_the_last_pulse,
);

fn action<'a>(
    title: &'a str,
    group: &'a str,
    owner: &'a str,
    due: &'a str,
    visibility: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("title", title),
        ("description", "Fifteen minutes every Monday, cameras optional."),
        ("pillar", "integration"),
        ("group", group),
        ("owner", owner),
        ("due_date", due),
        ("visibility", visibility),
    ]
}

/// A day `days` after the app's today, as the form writes it.
fn day(app: &TestApp, days: i64) -> String {
    app.state
        .now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .saturating_add(jiff::Span::new().days(days))
        .to_string()
}

async fn a_manager_plans_an_action_its_owner_is_told_and_the_team_reads_it(app: TestApp) {
    let smtp = SmtpSink::start(free_port(), 0);
    let app = app.with_mail(smtp.port).await;
    let o = app.org_with(&[4, 3], false).await;
    let (team0, team1) = (o.teams[0].to_string(), o.teams[1].to_string());
    let owner = o.people[0][1].0.to_string();
    let manager = app.signed_in("p0-0@bars.example").await;
    manager
        .get(&format!("/actions/new?group={team0}&pillar=integration"))
        .await
        .assert(200, "Plan an action");
    let due = day(&app, 30);
    let made = manager
        .submit("/actions", &action("Weekly huddle", &team0, &owner, &due, "group"))
        .await;
    made.assert(200, "The action is planned.")
        .assert(200, "Weekly huddle")
        .assert(200, "Person 0-1");
    // The owner is told, at the SMTP server, with a link to it.
    belong::jobs::run_due(&app.state, "t").await.unwrap();
    let mail = smtp.received();
    assert_eq!(mail.len(), 1, "{mail:?}");
    assert_eq!(mail[0].to, "p0-1@bars.example");
    assert_eq!(
        mail[0].subject,
        "Person 0-0 made you the owner of an action: Weekly huddle"
    );
    assert!(mail[0].text.contains("/actions/"), "{}", mail[0].text);
    // The team reads it; another team does not; HR does.
    let member = app.signed_in("p0-2@bars.example").await;
    member
        .get("/actions")
        .await
        .assert(200, "Weekly huddle")
        .assert(200, "Planned");
    let outsider = app.signed_in("p1-1@bars.example").await;
    assert!(!outsider.get("/actions").await.body.contains("Weekly huddle"));
    let id = app.count("SELECT id FROM actions").await;
    outsider
        .get(&format!("/actions/{id}"))
        .await
        .assert(404, "does not exist");
    app.signed_in("hera@bars.example")
        .await
        .get("/actions")
        .await
        .assert(200, "Weekly huddle");
    // Shown to everyone, it reaches the other team too.
    let hr = app.signed_in("hera@bars.example").await;
    hr.get("/actions/new").await;
    hr.submit(
        "/actions",
        &action("Open Q&A with the founders", "org", &owner, &due, "org"),
    )
    .await
    .assert(200, "Whole organization");
    outsider
        .get("/actions")
        .await
        .assert(200, "Open Q&amp;A with the founders");
    // A manager plans for their own team only; an employee not at all.
    let other_manager = app.signed_in("p1-0@bars.example").await;
    other_manager.get("/actions/new").await;
    other_manager
        .post("/actions", &action("Not mine", &team0, &owner, &due, "group"))
        .await
        .assert(
            422,
            "For</a>: managers plan actions for their own team and its sub-teams",
        );
    member.get("/actions/new").await.assert(403, "not allowed");
    member
        .post("/actions", &action("Mine", &team0, &owner, &due, "group"))
        .await
        .assert(403, "not allowed");
    assert_eq!(app.count("SELECT COUNT(*) FROM actions").await, 2);
    // Planning is audited, in words.
    app.person(o.org, "Olu Owner", "olu@bars.example", Role::Owner, None)
        .await;
    app.signed_in("olu@bars.example")
        .await
        .get("/audit")
        .await
        .assert(200, "Person 0-0 planned an action");
    let _ = team1;
    app.run_jobs().await;
}

async fn bad_actions_name_every_field_and_store_nothing(app: TestApp) {
    let o = app.org_with(&[4], false).await;
    let team0 = o.teams[0].to_string();
    let hr = app.signed_in("hera@bars.example").await;
    hr.get("/actions/new").await;
    let all_wrong = hr
        .post(
            "/actions",
            &[
                ("title", " "),
                ("pillar", "enps"),
                ("group", "kitchen"),
                ("owner", "nobody"),
                ("due_date", "31/12/2026"),
                ("visibility", "everyone"),
            ],
        )
        .await;
    for label in [
        "Title</a>:",
        "Pillar</a>:",
        "For</a>:",
        "Owner</a>:",
        "Due</a>:",
        "Who can read it</a>:",
    ] {
        all_wrong.assert(422, label);
    }
    // Well formed, but against the organization's rules: all at once too.
    let other = app.org("Other", "other").await;
    let stranger = app
        .person(other, "Sam Else", "sam@other.example", Role::Employee, None)
        .await
        .to_string();
    let yesterday = day(&app, -1);
    let refused = hr
        .post("/actions", &action("Huddle", &team0, &stranger, &yesterday, "group"))
        .await;
    refused
        .assert(422, "Owner</a>: choose an active person of the organization")
        .assert(422, "Due</a>: choose a day from today");
    let unknown_team = hr
        .post(
            "/actions",
            &action(
                "Huddle",
                "123456",
                &o.people[0][1].0.to_string(),
                &day(&app, 3),
                "group",
            ),
        )
        .await;
    unknown_team.assert(422, "For</a>: choose one of the organization");
    assert!(unknown_team.body.contains("value=\"Huddle\""), "what was typed stays");
    assert_eq!(app.count("SELECT COUNT(*) FROM actions").await, 0);
    app.run_jobs().await;
}

async fn updates_follow_an_action_to_its_end(app: TestApp) {
    let o = app.org_with(&[4], false).await;
    let team0 = o.teams[0].to_string();
    let owner_id = o.people[0][1].0.to_string();
    let manager = app.signed_in("p0-0@bars.example").await;
    manager.get("/actions/new").await;
    manager
        .submit(
            "/actions",
            &action("Weekly huddle", &team0, &owner_id, &day(&app, 10), "group"),
        )
        .await;
    let id = app.count("SELECT id FROM actions").await;
    let path = format!("/actions/{id}/updates");
    let owner = app.signed_in("p0-1@bars.example").await;
    owner.get(&format!("/actions/{id}")).await.assert(200, "Add an update");
    owner
        .submit(
            &path,
            &[("status", "in_progress"), ("note", "First one on Monday; six came.")],
        )
        .await
        .assert(200, "The update is saved.")
        .assert(200, "now In progress")
        .assert(200, "First one on Monday; six came.");
    // Closing asks how it ended; an empty update says nothing.
    owner
        .post(&path, &[("status", "done"), ("note", " ")])
        .await
        .assert(422, "Update</a>: say in a line how it ended");
    owner
        .post(&path, &[("status", "in_progress"), ("note", "")])
        .await
        .assert(422, "Update</a>: write what happened, or change the status");
    owner
        .post(&path, &[("status", "finished"), ("note", "x")])
        .await
        .assert(422, "Status</a>: choose Planned, In progress, Done or Dropped");
    // A team member reads it but may not update it.
    let member = app.signed_in("p0-2@bars.example").await;
    let page = member.get(&format!("/actions/{id}")).await;
    page.assert(200, "First one on Monday");
    assert!(!page.body.contains("Add an update"));
    member
        .post(&path, &[("status", "dropped"), ("note", "no")])
        .await
        .assert(403, "not allowed");
    // The due date moves, forward only, and the update says so.
    let later = day(&app, 45);
    owner
        .post(&path, &[("due_date", "2020-02-02"), ("note", "")])
        .await
        .assert(422, "New due date</a>: choose a day from today")
        .assert(422, "value=\"2020-02-02\"");
    owner
        .submit(&path, &[("due_date", later.as_str())])
        .await
        .assert(200, &format!("New due date: {later}."));
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM actions WHERE due_date = '{later}' AND reminded = 0"
        ))
        .await,
        1
    );
    owner
        .submit(&path, &[("status", "done"), ("note", "It stays: every Monday now.")])
        .await
        .assert(200, "now Done");
    assert_eq!(app.count("SELECT COUNT(*) FROM action_updates").await, 3);
    // The owner's "My data" has the action and their updates.
    owner
        .get("/account/data")
        .await
        .assert(200, "Weekly huddle, due ")
        .assert(200, "(Done)")
        .assert(200, "on “Weekly huddle”: It stays: every Monday now.");
    assert_eq!(app.count("SELECT COUNT(*) FROM actions WHERE status = 'done'").await, 1);
    // Overdue shows once the day passes, unless it is closed.
    app.clock.advance(jiff::SignedDuration::from_hours(24 * 12));
    assert!(!member.get("/actions").await.body.contains("overdue"));
    app.run_jobs().await;
}

/// The demo on first start: its initiative with an impact report that says
/// what the data can and cannot tell, and a full "You said, we did".
async fn the_demo_shows_an_initiative_report_and_a_full_you_said_we_did(app: TestApp) {
    use belong::org::demo;
    assert!(belong::modules::seed_demo_if_empty(&app.state).await.unwrap());
    let hr = app.browser();
    hr.sign_in(demo::ORG_SLUG, demo::HR_EMAIL, demo::PASSWORD).await;
    let list = hr.get("/initiatives").await;
    list.assert(200, "Weekly huddles").assert(200, "Mobile");
    let link = format!("/initiatives/{}", app.count("SELECT id FROM initiatives").await);
    let report = hr.get(&link).await;
    report
        .assert(200, "Did it work?")
        .assert(200, "<svg")
        .assert(200, ">start</text>")
        .assert(200, "The data can&#x27;t tell");

    // From one question of a result: the form names it in the title.
    let cycle = app.count("SELECT MAX(cycle_id) FROM cycle_questions").await;
    let question = app
        .count(&format!(
            "SELECT MIN(question_id) FROM cycle_questions WHERE cycle_id = {cycle}"
        ))
        .await;
    hr.get(&format!(
        "/actions/new?group=org&pillar=integration&cycle={cycle}&question={question}"
    ))
    .await
    .assert(200, "value=\"On “");
    let said = hr.get("/you-said-we-did").await;
    said.assert(200, "You said, we did")
        .assert(200, "Belonging Index")
        .assert(200, "Publish a decision log")
        .assert(200, "Earlier pulses");
    let employee = app.browser();
    employee
        .sign_in(demo::ORG_SLUG, demo::EMPLOYEE_EMAIL, demo::PASSWORD)
        .await;
    let said = employee.get("/you-said-we-did").await;

    said.assert(200, "Whole organization")
        .assert(200, "Publish a decision log");
    // His home page says what was done lately.
    employee
        .get("/")
        .await
        .assert(200, "What each pulse showed, and what was done")
        .assert(200, "Publish a decision log");
    // Tomas is in Platform: its action is his to see; Mobile's is not.
    assert!(said.body.contains("A thank-you round at every sprint review"));
    assert!(!said.body.contains("A short daily huddle for Mobile"));
    app.run_jobs().await;
}

/// Rule 21 as an attacker would test it: rewrite every kept answer of the
/// cycles in which the plan withheld Mobile's cell (all of them now fully
/// favourable; kept answers are coarsened, so Mobile's are among them
/// under a wider team); the report must not move by a digit, because it
/// never reads an answer.
async fn the_impact_report_reads_released_figures_only(app: TestApp) {
    use belong::auth::Actor;
    use sqlx::Row;
    assert!(belong::modules::seed_demo_if_empty(&app.state).await.unwrap());
    let org = app.count("SELECT id FROM organizations").await;
    let hr = Actor {
        org_id: org,
        person_id: app.count("SELECT id FROM people WHERE name = 'Jonas Weber'").await,
        role: Role::HrAdmin,
    };
    let id = app.count("SELECT id FROM initiatives").await;
    let (_, before) = belong::insights::initiatives::report(&app.state, &hr, id)
        .await
        .unwrap();
    // The cycles in which Mobile's cell was withheld, oldest first.
    let cycles: Vec<i64> =
        sqlx::query("SELECT id FROM cycles WHERE org_id = $1 AND closed_at IS NOT NULL ORDER BY number")
            .bind(org)
            .fetch_all(&mut *app.state.db.acquire().await.unwrap())
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<i64, _>("id"))
            .collect();
    assert_eq!(cycles.len(), before.taking.len());
    let withheld: Vec<i64> = cycles
        .iter()
        .zip(&before.taking)
        .filter(|(_, v)| v.is_none())
        .map(|(c, _)| *c)
        .collect();
    let mut rewritten = 0;
    for cycle in &withheld {
        let rows = sqlx::query("SELECT id, answers FROM responses WHERE org_id = $1 AND cycle_id = $2")
            .bind(org)
            .bind(cycle)
            .fetch_all(&mut *app.state.db.acquire().await.unwrap())
            .await
            .unwrap();
        for r in rows {
            let answers: Vec<(i64, i64)> = belong::pulse::model::unpack_answers(&r.get::<String, _>("answers"))
                .into_iter()
                .map(|(q, _)| (q, 5))
                .collect();
            sqlx::query("UPDATE responses SET answers = $1 WHERE cycle_id = $2 AND id = $3")
                .bind(belong::pulse::model::pack_answers(&answers))
                .bind(cycle)
                .bind(r.get::<String, _>("id"))
                .execute(&mut *app.state.db.acquire().await.unwrap())
                .await
                .unwrap();
            rewritten += 1;
        }
    }
    assert!(rewritten > 0, "the demo keeps answers behind a withheld Mobile cell");
    assert!(before.inference.is_none() || before.taking.iter().any(Option::is_some));
    let (_, after) = belong::insights::initiatives::report(&app.state, &hr, id)
        .await
        .unwrap();
    assert_eq!(before, after);
    // The brief each cycle stored at close says what its stored results
    // say: without the briefs, the report reads the same from the results.
    sqlx::query("UPDATE cycles SET pillars = NULL")
        .execute(&mut *app.state.db.acquire().await.unwrap())
        .await
        .unwrap();
    let (_, from_results) = belong::insights::initiatives::report(&app.state, &hr, id)
        .await
        .unwrap();
    assert_eq!(before, from_results);
    app.run_jobs().await;
}

/// A pulse with one closed cycle (no answers), for an initiative to be
/// measured by.
async fn measured_pulse(app: &TestApp, org: i64) -> i64 {
    measured_pulse_every(app, org, belong::pulse::model::Schedule::Once).await
}

async fn measured_pulse_every(app: &TestApp, org: i64, schedule: belong::pulse::model::Schedule) -> i64 {
    use belong::pulse::{model, service};
    let actor = belong::auth::Actor::system(org);
    let bank = service::question_bank(&app.state, org).await.unwrap();
    let questions = model::default_selection(&bank);
    let input = model::PulseInput {
        title: "Monthly belonging pulse".into(),
        schedule,
        open_days: 7,
        remind_days: 3,
        per_cycle: questions.iter().filter(|(_, core)| *core).count() as i64,
        teams: None,
        questions: questions.into_iter().filter(|(_, core)| *core).collect(),
    };
    let pulse = service::create_pulse(&app.state, &actor, &input).await.unwrap();
    let cycle = service::launch(&app.state, org, pulse).await.unwrap();
    service::close(&app.state, org, cycle).await.unwrap();
    pulse
}

fn good<'a>(team: &'a str, pulse: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", "Weekly huddles"),
        ("practice", "huddles"),
        ("pillar", "integration"),
        ("pulse", pulse),
        ("starts_on", "2026-03-01"),
        ("team", team),
    ]
}

async fn initiatives_are_proposed_approved_and_refused_when_wrong(app: TestApp) {
    let o = app.org_with(&[4, 3], false).await;
    let pulse = measured_pulse(&app, o.org).await.to_string();
    let (team0, team1) = (o.teams[0].to_string(), o.teams[1].to_string());
    let start = day(&app, 0);
    let hr = app.signed_in("hera@bars.example").await;
    hr.get("/initiatives/new").await.assert(200, "New initiative");
    // Every problem at once, each named by its label; nothing stored.
    let wrong = hr
        .post(
            "/initiatives",
            &[
                ("name", ""),
                ("practice", "juggling"),
                ("pillar", "enps"),
                ("pulse", "nope"),
                ("starts_on", &start),
                ("ends_on", "2020-01-01"),
            ],
        )
        .await;
    for label in [
        "Name</a>:",
        "Practice</a>:",
        "Pillar it should move</a>:",
        "Measured by</a>:",
        "Ends</a>: choose a day after the start",
        "Teams taking part</a>: choose at least one team taking part",
    ] {
        wrong.assert(422, label);
    }
    hr.post("/initiatives", &good(&team0, "123"))
        .await
        .assert(422, "Measured by</a>: choose one of the organization");
    hr.post("/initiatives", &good("999999", &pulse))
        .await
        .assert(422, "Teams taking part</a>: choose the organization");
    // A manager proposes for their own team only.
    let manager = app.signed_in("p1-0@bars.example").await;
    manager
        .get("/initiatives/new")
        .await
        .assert(200, "Propose an initiative");
    manager.post("/initiatives", &good(&team0, &pulse)).await.assert(
        422,
        "Teams taking part</a>: managers propose initiatives for their own team",
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM initiatives").await, 0);
    let proposed = manager.submit("/initiatives", &good(&team1, &pulse)).await;
    proposed
        .assert(200, "The initiative is proposed.")
        .assert(200, "HR and owners read");
    assert!(
        !proposed.body.contains("Did it work?"),
        "a manager reads no impact report"
    );
    let id = app.count("SELECT id FROM initiatives").await;
    // Employees neither see nor propose initiatives.
    let member = app.signed_in("p1-1@bars.example").await;
    member.get("/initiatives").await.assert(403, "not allowed");
    member
        .get(&format!("/initiatives/{id}"))
        .await
        .assert(404, "does not exist");
    // Another manager does not see it; HR approves it and reads the report.
    let other = app.signed_in("p0-0@bars.example").await;
    assert!(!other.get("/initiatives").await.body.contains("Weekly huddles"));
    let page = hr.get(&format!("/initiatives/{id}")).await;
    page.assert(200, "Approve it").assert(200, "Did it work?");
    hr.submit(&format!("/initiatives/{id}/approve"), &[])
        .await
        .assert(200, "The initiative is approved.")
        .assert(200, "In force")
        .assert(200, "The data can&#x27;t tell yet");
    manager
        .post(&format!("/initiatives/{id}/approve"), &[])
        .await
        .assert(403, "not allowed");
    // HR changes it: an end, and a team joining later with its own start.
    hr.get(&format!("/initiatives/{id}/edit"))
        .await
        .assert(200, "Change the initiative")
        .assert(200, "value=\"Weekly huddles\"");
    let mut fields = good(&team1, &pulse);
    fields.push(("ends_on", "2026-01-01"));
    hr.post(&format!("/initiatives/{id}"), &fields)
        .await
        .assert(422, "Ends</a>: choose a day after the start");
    let mut fields = good(&team1, &pulse);
    let own_start = format!("start_{team0}");
    fields.extend([
        ("ends_on", "2026-12-31"),
        ("team", team0.as_str()),
        (own_start.as_str(), "2026-06-01"),
    ]);
    hr.submit(&format!("/initiatives/{id}"), &fields)
        .await
        .assert(200, "The initiative is changed.")
        .assert(200, "to 2026-12-31")
        .assert(200, "(from 2026-06-01)");
    manager
        .post(&format!("/initiatives/{id}"), &good(&team1, &pulse))
        .await
        .assert(403, "not allowed");
    assert_eq!(app.count("SELECT COUNT(*) FROM initiative_teams").await, 2);
    app.run_jobs().await;
}

async fn owners_are_reminded_and_planners_hear_of_overdue_actions(app: TestApp) {
    let smtp = SmtpSink::start(free_port(), 0);
    let app = app.with_mail(smtp.port).await;
    let o = app.org_with(&[4], false).await;
    let team0 = o.teams[0].to_string();
    let owner = o.people[0][1].0.to_string();
    let manager = app.signed_in("p0-0@bars.example").await;
    manager.get("/actions/new").await;
    for (title, days) in [("Weekly huddle", 2), ("Far off", 30)] {
        manager
            .submit("/actions", &action(title, &team0, &owner, &day(&app, days), "group"))
            .await
            .assert(200, "The action is planned.");
    }
    // Planning set up the organization's two schedules, once.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM schedules WHERE name LIKE 'insights.%'")
            .await,
        2
    );
    belong::jobs::run_due(&app.state, "t").await.unwrap();
    let assigned = smtp.received().len();
    assert_eq!(assigned, 2, "the owner hears of each assignment");
    // Due in two days: reminded once; thirty days off: not yet.
    assert_eq!(belong::insights::jobs::remind(&app.state, o.org).await.unwrap(), 1);
    assert_eq!(belong::insights::jobs::remind(&app.state, o.org).await.unwrap(), 0);
    belong::jobs::run_due(&app.state, "t").await.unwrap();
    let mail = smtp.received();
    let reminder = &mail[assigned];
    assert_eq!(reminder.to, "p0-1@bars.example");
    assert_eq!(reminder.subject, "Due in 3 days or less: Weekly huddle");
    assert!(!reminder.text.contains("Far off"), "{}", reminder.text);
    // Three days on, it is overdue: its planner hears, in one email.
    app.clock.advance(jiff::SignedDuration::from_hours(72));
    assert_eq!(belong::insights::jobs::overdue(&app.state, o.org).await.unwrap(), 1);
    belong::jobs::run_due(&app.state, "t").await.unwrap();
    let mail = smtp.received();
    let digest = mail
        .iter()
        .find(|m| m.subject == "An action you planned is overdue")
        .expect("the overdue digest");
    assert_eq!(digest.to, "p0-0@bars.example");
    assert!(digest.text.contains("Weekly huddle") && !digest.text.contains("Far off"));
    // Closed, it is overdue no more.
    let id = app.count("SELECT id FROM actions WHERE title = 'Weekly huddle'").await;
    manager
        .submit(
            &format!("/actions/{id}/updates"),
            &[("status", "done"), ("note", "Held every week.")],
        )
        .await
        .assert(200, "The update is saved.");
    assert_eq!(belong::insights::jobs::overdue(&app.state, o.org).await.unwrap(), 0);
    app.run_jobs().await;
}

/// The next cycle's invitation and answer form say in a line what was done
/// since the last pulse, for the person's team and the organization.
async fn the_next_invitation_says_what_was_done_since_the_last_pulse(app: TestApp) {
    let smtp = SmtpSink::start(free_port(), 0);
    let app = app.with_mail(smtp.port).await;
    let o = app.org_with(&[4, 3], false).await;
    let pulse = measured_pulse_every(&app, o.org, belong::pulse::model::Schedule::Monthly).await;
    let team0 = o.teams[0].to_string();
    let manager = app.signed_in("p0-0@bars.example").await;
    manager.get("/actions/new").await;
    for title in ["Weekly huddle", "Buddy for newcomers"] {
        manager
            .submit(
                "/actions",
                &action(title, &team0, &o.people[0][1].0.to_string(), &day(&app, 20), "group"),
            )
            .await
            .assert(200, "The action is planned.");
    }
    let ids: Vec<i64> = {
        use sqlx::Row;
        sqlx::query("SELECT id FROM actions ORDER BY title")
            .fetch_all(&mut *app.state.db.acquire().await.unwrap())
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<i64, _>("id"))
            .collect()
    };
    manager
        .submit(
            &format!("/actions/{}/updates", ids[0]),
            &[("status", "done"), ("note", "Paired both.")],
        )
        .await
        .assert(200, "The update is saved.");
    manager
        .submit(
            &format!("/actions/{}/updates", ids[1]),
            &[("status", "in_progress"), ("note", "Started.")],
        )
        .await
        .assert(200, "The update is saved.");
    app.run_jobs().await;
    let before = smtp.received().len();
    belong::pulse::service::launch(&app.state, o.org, pulse).await.unwrap();
    belong::jobs::run_due(&app.state, "t").await.unwrap();
    let mail = smtp.received();
    let to = |who: &str| {
        mail[before..]
            .iter()
            .find(|m| m.to == who)
            .unwrap_or_else(|| panic!("no invitation to {who}"))
    };
    let line = "Since the last pulse: 1 action done and 1 under way for your team and the organization";
    assert!(
        to("p0-2@bars.example").text.contains(line),
        "{}",
        to("p0-2@bars.example").text
    );
    // The other team's actions are not theirs to hear of.
    assert!(!to("p1-1@bars.example").text.contains("Since the last pulse"));
    // The answer form says it too.
    let token = crate::helpers::pulse_link_token(&to("p0-2@bars.example").text).expect("a personal link");
    app.browser()
        .get(&format!("/pulse/answer/{token}"))
        .await
        .assert(200, line);
    app.run_jobs().await;
}
