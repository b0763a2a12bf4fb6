//! Conversations: a manager and a report schedule a stay interview, get
//! calendar invites that move and cancel as one event, write shared and
//! private notes, agree action items that come back at the next talk. Tried
//! as HR, an owner, another manager and a new manager would, through every
//! page and API path, and as whoever holds the database files: nobody but
//! the two reads a word.

use belong::auth::Role;
use serde_json::json;

use crate::helpers::*;

both_databases!(
    invites_move_and_cancel_as_one_event,
    notes_are_for_the_two_people_only_through_every_path,
    bad_talks_name_the_field_and_store_nothing,
    open_items_come_back_at_the_next_talk,
    editing_a_used_template_makes_a_version,
    reminders_the_day_before_and_for_an_overdue_stay_interview,
    the_calendar_feed_is_secret_and_revocable,
    asking_for_a_talk_lets_the_other_set_the_time,
    the_api_holds_the_same_rules,
    the_demo_holds_a_year_of_talks,
    erasing_a_leaver_takes_their_private_notes_and_feed,
);

/// Words no page, file, email or log may show to anyone but the two.
const SHARED: &str = "Wants to lead the Lisbon offsite SHAREDMARK";
const PRIVATE_M: &str = "Worried about burnout PRIVMANAGER";
const PRIVATE_R: &str = "Might leave if no promotion PRIVREPORT";
const ITEM: &str = "Book the design course ITEMMARK";

/// A day `days` after the app's today (UTC), as a form writes it.
fn day(app: &TestApp, days: i64) -> String {
    app.state
        .now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .saturating_add(jiff::Span::new().days(days))
        .to_string()
}

/// Team 0 (a manager and three reports, who report to them) and team 1
/// (its own manager and one report); HR outside any team.
async fn org(app: &TestApp) -> TeamsOrg {
    let o = app.org_with(&[4, 2], false).await;
    for t in 0..2 {
        let manager = o.people[t][0].0;
        for p in &o.people[t][1..] {
            sqlx::query("UPDATE people SET manager_id = $1 WHERE id = $2")
                .bind(manager)
                .bind(p.0)
                .execute(&app.state.db.pool)
                .await
                .unwrap();
        }
    }
    o
}

async fn template_id(app: &TestApp, kind: &str) -> String {
    let org = app.count("SELECT id FROM organizations").await;
    belong::conversations::service::all_templates(&app.state, org)
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.kind == kind && t.current)
        .unwrap()
        .id
        .to_string()
}

/// Schedules a talk through the form; returns its id.
async fn schedule(app: &TestApp, b: &Browser, with: i64, kind: &str, days: i64, cadence: &str) -> i64 {
    let template = template_id(app, kind).await;
    let date = day(app, days);
    let with = with.to_string();
    let page = b
        .post(
            "/talks",
            &[
                ("with", with.as_str()),
                ("template", template.as_str()),
                ("date", date.as_str()),
                ("time", "10:00"),
                ("minutes", "45"),
                ("cadence", cadence),
            ],
        )
        .await;
    assert_eq!(page.status.as_u16(), 303, "{}", page.body);
    let id = page
        .location()
        .trim_start_matches("/talks/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    id.parse().unwrap()
}

/// Writes the shared note on question 1 and a private note, as `b`.
async fn write_notes(b: &Browser, talk: i64, shared: &str, private: &str) {
    let page = b.get(&format!("/talks/{talk}")).await;
    let seen = page
        .body
        .split("name=\"seen_0\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or("0")
        .to_owned();
    b.post(
        &format!("/talks/{talk}/notes"),
        &[("seen_0", seen.as_str()), ("shared_0", shared), ("private_0", private)],
    )
    .await
    .assert(303, "");
}

/// Moves the clock past the talk and marks it as held, as `email` signed
/// in again (sessions end while the days pass); returns that browser.
async fn hold(app: &TestApp, email: &str, talk: i64, days: i64) -> Browser {
    app.clock.advance(jiff::SignedDuration::from_hours(24 * (days + 1)));
    let b = app.signed_in(email).await;
    b.post(&format!("/talks/{talk}/held"), &[]).await.assert(303, "");
    b
}

async fn invites_move_and_cancel_as_one_event(app: TestApp) {
    let smtp = SmtpSink::start(free_port(), 0);
    let app = app.with_mail(smtp.port).await;
    let o = org(&app).await;
    let manager = app.signed_in("p0-0@bars.example").await;
    manager
        .get("/talks/new")
        .await
        .assert(200, "Schedule a talk")
        .assert(200, "reports to you");
    let talk = schedule(&app, &manager, o.people[0][1].0, "stay", 7, "182").await;
    manager
        .get(&format!("/talks/{talk}?notice=scheduled"))
        .await
        .assert(200, "you both have an invite")
        .assert(200, "Stay interview with Person 0-1");
    app.run_jobs().await;
    let mail = smtp.received();
    assert_eq!(mail.len(), 2, "{mail:?}");
    let mut to: Vec<_> = mail.iter().map(|m| m.to.clone()).collect();
    to.sort();
    assert_eq!(to, ["p0-0@bars.example", "p0-1@bars.example"]);
    let uid = format!("UID:talk-{talk}@belong");
    for m in &mail {
        assert_eq!(m.calendar_method, "REQUEST");
        assert!(m.calendar.contains("METHOD:REQUEST"), "{}", m.calendar);
        assert!(m.calendar.contains(&uid) && m.calendar.contains("SEQUENCE:0"));
        assert!(m.calendar.contains("DTSTART;TZID=Europe/Berlin:") && m.calendar.contains("TZID:Europe/Berlin"));
        assert!(
            m.calendar
                .contains(&format!("{}T100000", day(&app, 7).replace('-', "")))
        );
        assert!(m.subject.starts_with("Stay interview with"), "{}", m.subject);
    }
    // Moved: the same UID, SEQUENCE 1, the new time.
    let date = day(&app, 9);
    manager
        .post(
            &format!("/talks/{talk}/time"),
            &[("date", date.as_str()), ("time", "14:30"), ("minutes", "60")],
        )
        .await
        .assert(303, "");
    app.run_jobs().await;
    let moved = &smtp.received()[2..];
    assert_eq!(moved.len(), 2);
    for m in moved {
        assert!(
            m.calendar.contains(&uid) && m.calendar.contains("SEQUENCE:1"),
            "{}",
            m.calendar
        );
        assert!(m.calendar.contains(&format!("{}T143000", date.replace('-', ""))));
        assert!(m.subject.starts_with("Moved:"), "{}", m.subject);
    }
    // Cancelled (after a confirmation): METHOD:CANCEL, SEQUENCE 2.
    manager
        .post(&format!("/talks/{talk}/cancel"), &[])
        .await
        .assert(200, "Cancel the Stay interview with Person 0-1?");
    manager
        .post(&format!("/talks/{talk}/cancel"), &[("confirm", "yes")])
        .await
        .assert(303, "");
    app.run_jobs().await;
    let cancelled = &smtp.received()[4..];
    assert_eq!(cancelled.len(), 2);
    for m in cancelled {
        assert_eq!(m.calendar_method, "CANCEL");
        assert!(m.calendar.contains("METHOD:CANCEL") && m.calendar.contains("STATUS:CANCELLED"));
        assert!(m.calendar.contains(&uid) && m.calendar.contains("SEQUENCE:2"));
    }
    // A cancelled talk cannot be moved.
    manager
        .post(
            &format!("/talks/{talk}/time"),
            &[("date", date.as_str()), ("time", "14:30"), ("minutes", "60")],
        )
        .await
        .assert(409, "this talk is over");
}

async fn notes_are_for_the_two_people_only_through_every_path(app: TestApp) {
    let smtp = SmtpSink::start(free_port(), 0);
    let app = app.with_mail(smtp.port).await;
    let o = org(&app).await;
    let owner = app
        .person(o.org, "Olga Owner", "olga@bars.example", Role::Owner, None)
        .await;
    let report = o.people[0][1].0;
    let manager = app.signed_in("p0-0@bars.example").await;
    let talk = schedule(&app, &manager, report, "stay", 3, "").await;
    let r = app.signed_in("p0-1@bars.example").await;
    write_notes(&manager, talk, SHARED, PRIVATE_M).await;
    write_notes(&r, talk, SHARED, PRIVATE_R).await;
    let reportid = report.to_string();
    let due = day(&app, 20);
    manager
        .post(
            &format!("/talks/{talk}/items"),
            &[("text", ITEM), ("owner", reportid.as_str()), ("due_date", due.as_str())],
        )
        .await
        .assert(303, "");
    // The two read the shared note and the item; each their own private note only.
    let seen_by_m = manager.get(&format!("/talks/{talk}")).await;
    seen_by_m.assert(200, SHARED).assert(200, PRIVATE_M).assert(200, ITEM);
    assert!(!seen_by_m.body.contains(PRIVATE_R));
    let seen_by_r = r.get(&format!("/talks/{talk}")).await;
    seen_by_r
        .assert(200, SHARED)
        .assert(200, PRIVATE_R)
        .assert(200, "may have to be disclosed");
    assert!(!seen_by_r.body.contains(PRIVATE_M));
    let marks = ["SHAREDMARK", "PRIVMANAGER", "PRIVREPORT", "ITEMMARK"];
    let none_of = |text: &str, what: &str| {
        for m in marks {
            assert!(!text.contains(m), "{m} shows in {what}: {text}");
        }
    };
    // HR, the owner, another manager, another member: not found, on every path.
    let hr = app.signed_in("hera@bars.example").await;
    let own = app.signed_in("olga@bars.example").await;
    let other_manager = app.signed_in("p1-0@bars.example").await;
    let colleague = app.signed_in("p0-2@bars.example").await;
    for (b, who) in [
        (&hr, "HR"),
        (&own, "the owner"),
        (&other_manager, "another manager"),
        (&colleague, "a colleague"),
    ] {
        let page = b.get(&format!("/talks/{talk}")).await;
        assert_eq!(page.status.as_u16(), 404, "{who} opened the talk");
        for path in ["/talks", "/", "/account/data", "/account/data.json"] {
            let page = b.get(path).await;
            none_of(&page.body, &format!("{path} for {who}"));
        }
        let post = b
            .post(&format!("/talks/{talk}/notes"), &[("shared_0", "overwritten")])
            .await;
        assert_eq!(post.status.as_u16(), 404, "{who} wrote in the talk");
    }
    // HR's counts: a number, never a word.
    let counts = hr.get("/talks/overview").await;
    counts.assert(200, "Conversations per team").assert(200, "Team 0");
    none_of(&counts.body, "HR's counts");
    own.get("/talks/overview").await.assert(200, "Counts only");
    none_of(&own.get("/audit").await.body, "the audit log");
    // The API: the same.
    for person in [
        app.count("SELECT id FROM people WHERE email = 'hera@bars.example'")
            .await,
        owner,
        o.people[1][0].0,
    ] {
        let api = Api::new(&app, &token_for(&app, o.org, person).await);
        api.get(&format!("/api/v1/talks/{talk}")).await.error(404, "not_found");
        let list = api.get("/api/v1/talks").await;
        none_of(&list.json.to_string(), "the API list");
        api.call(
            "PUT",
            &format!("/api/v1/talks/{talk}/notes"),
            Some(json!({"notes": [{"question": 0, "shared": "x"}]})),
        )
        .await
        .error(404, "not_found");
    }
    let api = Api::new(&app, &token_for(&app, o.org, report).await);
    let mine = api.get(&format!("/api/v1/talks/{talk}")).await;
    assert_eq!(mine.status, 200);
    assert_eq!(mine.json["questions"][0]["shared"], SHARED);
    assert_eq!(mine.json["questions"][0]["private"], PRIVATE_R);
    assert!(!mine.json.to_string().contains("PRIVMANAGER"));
    // My data: the report's has the shared note and their own private one.
    let data = r.get("/account/data.json").await;
    assert!(data.body.contains("SHAREDMARK") && data.body.contains("PRIVREPORT") && data.body.contains("ITEMMARK"));
    assert!(!data.body.contains("PRIVMANAGER"), "{}", data.body);
    // Emails and job payloads carry no note text.
    app.run_jobs().await;
    for m in smtp.received() {
        none_of(&format!("{}{}{}{}", m.subject, m.text, m.html, m.calendar), "an email");
    }
    let payloads: Vec<String> = sqlx::query_scalar("SELECT payload FROM jobs")
        .fetch_all(&app.state.db.pool)
        .await
        .unwrap();
    none_of(&payloads.join(" "), "job payloads");
    let audit: Vec<String> = sqlx::query_scalar("SELECT detail FROM audit_events")
        .fetch_all(&app.state.db.pool)
        .await
        .unwrap();
    none_of(&audit.join(" "), "audit entries");
    // The database holds no word of it, on either backend.
    for (table, column) in [("talk_notes", "sealed"), ("talk_actions", "sealed")] {
        let rows: Vec<Vec<u8>> = sqlx::query_scalar(&format!("SELECT {column} FROM {table}"))
            .fetch_all(&app.state.db.pool)
            .await
            .unwrap();
        assert!(!rows.is_empty());
        for row in rows {
            none_of(&String::from_utf8_lossy(&row), table);
        }
    }
    // A team move: the report joins team 1 under its manager. The new
    // manager sees nothing; the old one keeps the talk they held.
    let new_manager = o.people[1][0].0;
    sqlx::query("UPDATE people SET team_id = $1, manager_id = $2 WHERE id = $3")
        .bind(o.teams[1])
        .bind(new_manager)
        .bind(report)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let page = other_manager.get(&format!("/talks/{talk}")).await;
    assert_eq!(page.status.as_u16(), 404);
    none_of(&other_manager.get("/talks").await.body, "the new manager's talks");
    manager.get(&format!("/talks/{talk}")).await.assert(200, SHARED);
    app.run_jobs().await;
}

async fn bad_talks_name_the_field_and_store_nothing(app: TestApp) {
    let o = org(&app).await;
    let other_org = app.org("Other Co", "other-co").await;
    let stranger = app.member(other_org, "Sam Stranger", "sam@other.example", None).await;
    let leaver = o.people[0][3].0;
    sqlx::query("UPDATE people SET active = 0 WHERE id = $1")
        .bind(leaver)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let manager = app.signed_in("p0-0@bars.example").await;
    let template = template_id(&app, "one_on_one").await;
    let me = o.people[0][0].0.to_string();
    let report = o.people[0][1].0.to_string();
    let (stranger, leaver) = (stranger.to_string(), leaver.to_string());
    let future = day(&app, 5);
    let past = day(&app, -1);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![("with", me.as_str())],
            "With</a>: choose someone other than yourself",
        ),
        (
            vec![("with", stranger.as_str())],
            "With</a>: choose an active person of the organization",
        ),
        (vec![("with", leaver.as_str())], "With</a>: choose an active person"),
        (vec![("date", past.as_str())], "Date</a>: choose a time from now on"),
        (
            vec![("template", "12345")],
            "Template</a>: choose one of the organization&#x27;s templates",
        ),
        (vec![("time", "25:61")], "Time</a>: write a time as HH:MM"),
        (
            vec![("minutes", "2")],
            "Length in minutes</a>: write a length from 10 to 240 minutes",
        ),
        (vec![("cadence", "3")], "Repeat</a>: choose how often"),
    ];
    for (changes, said) in cases {
        let mut fields = vec![
            ("with", report.as_str()),
            ("template", template.as_str()),
            ("date", future.as_str()),
            ("time", "10:00"),
            ("minutes", "30"),
            ("cadence", ""),
        ];
        for (k, v) in changes {
            fields.iter_mut().find(|f| f.0 == k).unwrap().1 = v;
        }
        let page = manager.post("/talks", &fields).await;
        assert!(page.status.as_u16() == 422, "{:?}: {}", fields, page.status);
        assert!(page.body.contains(said), "expected {said:?} in {}", page.body);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM talks").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM talk_cadences").await, 0);
    // An overdue talk's link proposes a day ahead, not its past due date.
    let proposed = manager.get("/talks/new?date=2020-01-01").await;
    assert!(
        !proposed.body.contains("value=\"2020-01-01\""),
        "a past day is proposed"
    );
    proposed.assert(200, &day(&app, 7));
    assert_eq!(app.count("SELECT COUNT(*) FROM jobs").await, 0);
    // A note over the size limit is refused, and nothing of the save kept.
    let talk = schedule(&app, &manager, o.people[0][1].0, "one_on_one", 2, "").await;
    let long = "x".repeat(10_001);
    let page = manager
        .post(
            &format!("/talks/{talk}/notes"),
            &[("shared_0", "fine"), ("private_1", long.as_str())],
        )
        .await;
    page.assert(
        422,
        "Your private notes on question 2</a>: keep a note to 10000 characters",
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM talk_notes").await, 0);
    // An item with no words, for someone else, due in the past.
    let stranger_item = manager
        .post(
            &format!("/talks/{talk}/items"),
            &[("text", " "), ("owner", stranger.as_str()), ("due_date", past.as_str())],
        )
        .await;
    stranger_item.assert(422, "Action item</a>: say what will be done");
    let wrong_owner = manager
        .post(
            &format!("/talks/{talk}/items"),
            &[
                ("text", "Something"),
                ("owner", stranger.as_str()),
                ("due_date", past.as_str()),
            ],
        )
        .await;
    wrong_owner
        .assert(422, "Who</a>: choose one of the two of you")
        .assert(422, "Due</a>: choose a day from today");
    assert_eq!(app.count("SELECT COUNT(*) FROM talk_actions").await, 0);
    app.run_jobs().await;
}

async fn open_items_come_back_at_the_next_talk(app: TestApp) {
    let o = org(&app).await;
    let report = o.people[0][1].0;
    let manager = app.signed_in("p0-0@bars.example").await;
    let first = schedule(&app, &manager, report, "one_on_one", 1, "14").await;
    let due = day(&app, 10);
    let rid = report.to_string();
    for text in ["Write the onboarding guide", "Pair with Support for a day"] {
        // A second apart, so the test knows their order.
        app.clock.advance(jiff::SignedDuration::from_secs(1));
        manager
            .post(
                &format!("/talks/{first}/items"),
                &[("text", text), ("owner", rid.as_str()), ("due_date", due.as_str())],
            )
            .await
            .assert(303, "");
    }
    let manager = hold(&app, "p0-0@bars.example", first, 1).await;
    // Due again in 14 days, by the cadence, with a link to schedule it.
    manager
        .get("/talks")
        .await
        .assert(200, "Due by their repeat")
        .assert(200, "Every 2 weeks");
    let second = schedule(&app, &manager, report, "one_on_one", 13, "").await;
    let r = app.signed_in("p0-1@bars.example").await;
    let page = r.get(&format!("/talks/{second}")).await;
    page.assert(200, "From earlier talks")
        .assert(200, "Write the onboarding guide")
        .assert(200, "Pair with Support for a day");
    // One is done; the other carried on with a new date.
    let items: Vec<i64> = sqlx::query_scalar("SELECT id FROM talk_actions ORDER BY created_at, id")
        .fetch_all(&app.state.db.pool)
        .await
        .unwrap();
    let back = second.to_string();
    r.post(
        &format!("/talks/items/{}", items[0]),
        &[("status", "done"), ("due_date", due.as_str()), ("back", back.as_str())],
    )
    .await
    .assert(303, "");
    let later = day(&app, 30);
    r.post(
        &format!("/talks/items/{}", items[1]),
        &[
            ("status", "open"),
            ("due_date", later.as_str()),
            ("back", back.as_str()),
        ],
    )
    .await
    .assert(303, "");
    let manager = hold(&app, "p0-0@bars.example", second, 13).await;
    let third = schedule(&app, &manager, report, "one_on_one", 14, "").await;
    let page = manager.get(&format!("/talks/{third}")).await;
    page.assert(200, "Pair with Support for a day").assert(200, &later);
    assert!(
        !page.body.contains("Write the onboarding guide"),
        "a done item came back"
    );
    // Someone else cannot touch the pair's items.
    let other = app.signed_in("p0-2@bars.example").await;
    let touched = other
        .post(&format!("/talks/items/{}", items[1]), &[("status", "done")])
        .await;
    assert_eq!(touched.status.as_u16(), 404);
    app.run_jobs().await;
}

async fn editing_a_used_template_makes_a_version(app: TestApp) {
    let o = org(&app).await;
    let hr = app.signed_in("hera@bars.example").await;
    hr.get("/talks/templates")
        .await
        .assert(200, "Stay interview")
        .assert(200, "Career path talk")
        .assert(200, "1:1");
    let stay = template_id(&app, "stay").await;
    let manager = app.signed_in("p0-0@bars.example").await;
    let old = schedule(&app, &manager, o.people[0][1].0, "stay", 2, "").await;
    hr.post(
        &format!("/talks/templates/{stay}"),
        &[
            ("name", "Stay interview"),
            ("q0", "What keeps you here?"),
            ("p0", "acceptance"),
            ("q1", "What would make you leave?"),
        ],
    )
    .await
    .assert(303, "");
    // The old talk keeps its six questions; a new talk asks the two new ones.
    manager
        .get(&format!("/talks/{old}"))
        .await
        .assert(200, "How connected do you feel");
    let new = schedule(&app, &manager, o.people[0][2].0, "stay", 2, "").await;
    let page = manager.get(&format!("/talks/{new}")).await;
    page.assert(200, "What keeps you here?")
        .assert(200, "What would make you leave?");
    assert!(!page.body.contains("How connected do you feel"));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM talk_templates WHERE kind = 'stay'")
            .await,
        2
    );
    hr.get("/talks/templates").await.assert(200, "version 2");
    // An unused template is changed in place; a bad one names its row.
    hr.post(
        "/talks/templates",
        &[("name", "Quarterly check-in"), ("q0", "How is the quarter going?")],
    )
    .await
    .assert(303, "");
    let bad = hr
        .post("/talks/templates", &[("name", ""), ("q2", "ok"), ("p2", "nonsense")])
        .await;
    bad.assert(422, "Name</a>")
        .assert(422, "Pillar of question 3</a>: choose a pillar, or none");
    // Managers do not edit templates.
    let refused = manager.post("/talks/templates", &[("name", "Mine"), ("q0", "Q")]).await;
    assert_eq!(refused.status.as_u16(), 403);
    app.run_jobs().await;
}

async fn reminders_the_day_before_and_for_an_overdue_stay_interview(app: TestApp) {
    let smtp = SmtpSink::start(free_port(), 0);
    let app = app.with_mail(smtp.port).await;
    let o = org(&app).await;
    let manager = app.signed_in("p0-0@bars.example").await;
    let talk = schedule(&app, &manager, o.people[0][1].0, "stay", 2, "91").await;
    app.run_jobs().await;
    let invites = smtp.received().len();
    // The day before: both are reminded, once.
    app.clock.advance(jiff::SignedDuration::from_hours(24));
    let sent = belong::conversations::jobs::remind(&app.state, o.org).await.unwrap();
    assert_eq!(sent.talks, 2);
    assert_eq!(
        belong::conversations::jobs::remind(&app.state, o.org)
            .await
            .unwrap()
            .talks,
        0
    );
    app.run_jobs().await;
    let reminders = &smtp.received()[invites..];
    assert_eq!(reminders.len(), 2);
    assert!(
        reminders
            .iter()
            .all(|m| m.subject.starts_with("Tomorrow: Stay interview with"))
    );
    // Held, then its 91-day repeat passes with nothing scheduled: the
    // manager hears it is overdue, once.
    hold(&app, "p0-0@bars.example", talk, 1).await;
    app.clock.advance(jiff::SignedDuration::from_hours(24 * 93));
    let manager = app.signed_in("p0-0@bars.example").await;
    let sent = belong::conversations::jobs::remind(&app.state, o.org).await.unwrap();
    assert_eq!(sent.overdue, 1);
    assert_eq!(
        belong::conversations::jobs::remind(&app.state, o.org)
            .await
            .unwrap()
            .overdue,
        0
    );
    app.run_jobs().await;
    let last = smtp.received().pop().unwrap();
    assert_eq!(last.to, "p0-0@bars.example");
    assert_eq!(last.subject, "Person 0-1's stay interview is overdue");
    assert!(last.text.contains("/talks/new?with="), "{}", last.text);
    manager.get("/talks").await.assert(200, "overdue");
    manager.get("/").await.assert(200, "Overdue:");
    // The schedule exists for the organization.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM schedules WHERE name LIKE 'conversations.remind.%'")
            .await,
        1
    );
    app.run_jobs().await;
}

async fn the_calendar_feed_is_secret_and_revocable(app: TestApp) {
    let o = org(&app).await;
    let manager = app.signed_in("p0-0@bars.example").await;
    let talk = schedule(&app, &manager, o.people[0][1].0, "career", 4, "").await;
    write_notes(&manager, talk, SHARED, PRIVATE_M).await;
    manager.get("/talks/calendar").await.assert(200, "Your feed is off");
    let page = manager.post("/talks/calendar", &[]).await;
    page.assert(200, "/calendar/");
    let url = page
        .body
        .split("value=\"")
        .find(|s| s.starts_with("http"))
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let path = url
        .split_once("/calendar/")
        .map(|(_, p)| format!("/calendar/{p}"))
        .unwrap();
    // Fetched with no session, as a calendar app does.
    let anon = app.browser();
    let feed = anon.get(&path).await;
    assert_eq!(feed.status.as_u16(), 200);
    assert!(
        feed.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/calendar")
    );
    assert!(feed.body.contains(&format!("UID:talk-{talk}@belong")) && feed.body.contains("Career path talk"));
    assert!(!feed.body.contains("SHAREDMARK") && !feed.body.contains("PRIVMANAGER"));
    // Only the token's hash is stored.
    let token = path
        .trim_start_matches("/calendar/")
        .trim_end_matches(".ics")
        .to_owned();
    let stored: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM calendar_feeds")
        .fetch_all(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].contains(&token));
    // A wrong token, a new address, turning it off.
    assert_eq!(anon.get("/calendar/0000.ics").await.status.as_u16(), 404);
    manager.post("/talks/calendar", &[]).await.assert(200, "/calendar/");
    assert_eq!(
        anon.get(&path).await.status.as_u16(),
        404,
        "the old address still works"
    );
    manager
        .post("/talks/calendar/off", &[])
        .await
        .assert(200, "Turn your calendar feed off?");
    manager
        .post("/talks/calendar/off", &[("confirm", "yes")])
        .await
        .assert(303, "");
    manager.get("/talks/calendar").await.assert(200, "Your feed is off");
    assert_eq!(app.count("SELECT COUNT(*) FROM calendar_feeds").await, 0);
    app.run_jobs().await;
}

async fn asking_for_a_talk_lets_the_other_set_the_time(app: TestApp) {
    let o = org(&app).await;
    let r = app.signed_in("p0-1@bars.example").await;
    r.get("/talks/ask").await.assert(200, "your manager");
    let career = template_id(&app, "career").await;
    let manager_id = o.people[0][0].0.to_string();
    r.post(
        "/talks/ask",
        &[("with", manager_id.as_str()), ("template", career.as_str())],
    )
    .await
    .assert(303, "");
    let talk: i64 = app.count("SELECT id FROM talks").await;
    let manager = app.signed_in("p0-0@bars.example").await;
    manager
        .get("/")
        .await
        .assert(200, "Person 0-1 asks you for a Career path talk");
    // The one who asked cannot set the time; the one asked can.
    let date = day(&app, 3);
    let refused = r
        .post(
            &format!("/talks/{talk}/time"),
            &[("date", date.as_str()), ("time", "09:00"), ("minutes", "45")],
        )
        .await;
    assert_eq!(refused.status.as_u16(), 409);
    manager
        .post(
            &format!("/talks/{talk}/time"),
            &[("date", date.as_str()), ("time", "09:00"), ("minutes", "45")],
        )
        .await
        .assert(303, "");
    r.get(&format!("/talks/{talk}"))
        .await
        .assert(200, "Scheduled")
        .assert(200, "Questions and notes");
    assert_eq!(
        app.count("SELECT sequence FROM talks").await,
        0,
        "the first invite is sequence 0"
    );
    // The report moves it: the manager stays its organizer, the time is
    // read in the organizer's zone, the invite's sequence goes up.
    let page = r.get(&format!("/talks/{talk}")).await;
    page.assert(200, "In Europe/Berlin, the organizer's time zone.");
    r.post(
        &format!("/talks/{talk}/time"),
        &[("date", date.as_str()), ("time", "15:00"), ("minutes", "45")],
    )
    .await
    .assert(303, "");
    assert_eq!(app.count("SELECT organizer_id FROM talks").await, o.people[0][0].0);
    assert_eq!(app.count("SELECT sequence FROM talks").await, 1);
    app.run_jobs().await;
}

async fn the_api_holds_the_same_rules(app: TestApp) {
    let o = org(&app).await;
    let manager = o.people[0][0].0;
    let report = o.people[0][1].0;
    let api = Api::new(&app, &token_for(&app, o.org, manager).await);
    let templates = api.get("/api/v1/talk-templates").await;
    assert_eq!(templates.status, 200);
    let stay = templates
        .json
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["kind"] == "stay")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let date = day(&app, 4);
    let made = api
        .call(
            "POST",
            "/api/v1/talks",
            Some(json!({"with_id": report.to_string(), "template_id": stay, "date": date, "time": "11:00", "minutes": 45, "cadence_days": 182})),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.json);
    assert_eq!(made.json["questions"].as_array().unwrap().len(), 6);
    let id = made.json["id"].as_str().unwrap().to_owned();
    api.call(
        "POST",
        "/api/v1/talks",
        Some(
            json!({"with_id": manager.to_string(), "template_id": stay, "date": date, "time": "11:00", "minutes": 45}),
        ),
    )
    .await
    .error(422, "invalid")
    .field("with_id");
    api.call(
        "POST",
        "/api/v1/talks",
        Some(json!({"with_id": report.to_string(), "template_id": " 1", "date": date, "time": "11:00", "minutes": 45})),
    )
    .await
    .error(422, "invalid")
    .field("template_id");
    let saved = api
        .call(
            "PUT",
            &format!("/api/v1/talks/{id}/notes"),
            Some(json!({"notes": [{"question": 0, "shared": "We agreed on more pairing", "private": "mine"}]})),
        )
        .await;
    assert_eq!(saved.status, 200, "{}", saved.json);
    assert_eq!(saved.json["questions"][0]["shared"], "We agreed on more pairing");
    // The report saves over the shared note without having read the new
    // version: refused, nothing lost.
    let rapi = Api::new(&app, &token_for(&app, o.org, report).await);
    rapi.call(
        "PUT",
        &format!("/api/v1/talks/{id}/notes"),
        Some(json!({"notes": [{"question": 0, "shared": "Something else", "seen": 0}]})),
    )
    .await
    .error(409, "conflict")
    .field("shared_0");
    let item = rapi
        .call(
            "POST",
            &format!("/api/v1/talks/{id}/items"),
            Some(json!({"text": "Shadow the on-call week", "owner_id": report.to_string(), "due_date": day(&app, 9)})),
        )
        .await;
    assert_eq!(item.status, 201, "{}", item.json);
    let item_id = item.json["items"][0]["id"].as_str().unwrap().to_owned();
    let done = rapi
        .call(
            "PATCH",
            &format!("/api/v1/talk-items/{item_id}"),
            Some(json!({"status": "done"})),
        )
        .await;
    assert_eq!(done.json["items"][0]["status"], "done");
    rapi.call(
        "PATCH",
        &format!("/api/v1/talk-items/{item_id}"),
        Some(json!({"status": "finished"})),
    )
    .await
    .error(422, "invalid");
    let feed = rapi.call("POST", "/api/v1/calendar-feed", None).await;
    assert_eq!(feed.status, 201);
    assert!(feed.json["url"].as_str().unwrap().contains("/calendar/"));
    // HR cannot create a talk's notes; managers cannot edit templates.
    api.call(
        "POST",
        "/api/v1/talk-templates",
        Some(json!({"name": "x", "questions": [{"text": "q"}]})),
    )
    .await
    .error(403, "forbidden");
    app.run_jobs().await;
}

async fn the_demo_holds_a_year_of_talks(app: TestApp) {
    belong::modules::seed_demo(&app.state).await.unwrap();
    let held = app.count("SELECT COUNT(*) FROM talks WHERE status = 'held'").await;
    assert!(held >= 20, "{held} held talks");
    let span = app
        .count("SELECT MAX(starts_at) - MIN(starts_at) FROM talks WHERE status = 'held'")
        .await;
    assert!(span > 300 * 86_400, "the talks span {} days", span / 86_400);
    assert!(app.count("SELECT COUNT(*) FROM talk_notes").await > 20);
    assert!(
        app.count("SELECT COUNT(*) FROM talk_actions WHERE status = 'open'")
            .await
            > 0
    );
    assert!(app.count("SELECT COUNT(*) FROM talks WHERE status = 'scheduled'").await > 0);
    // One stay interview is overdue, and its manager sees it.
    let lena = app.browser();
    lena.sign_in(
        belong::org::demo::ORG_SLUG,
        belong::org::demo::MANAGER_EMAIL,
        belong::org::demo::PASSWORD,
    )
    .await;
    let talks = lena.get("/talks").await;
    talks
        .assert(200, "Priya Raman")
        .assert(200, "overdue")
        .assert(200, "Past talks");
    let hr = app.browser();
    hr.sign_in(
        belong::org::demo::ORG_SLUG,
        belong::org::demo::HR_EMAIL,
        belong::org::demo::PASSWORD,
    )
    .await;
    hr.get("/talks/overview").await.assert(200, "Platform");
    let overdue = belong::conversations::jobs::remind(&app.state, app.count("SELECT id FROM organizations").await)
        .await
        .unwrap();
    assert!(overdue.overdue >= 1, "{overdue:?}");
    app.run_jobs().await;
}

/// Whoever holds the files: the SQLite database, its WAL after every
/// save, and a `belong backup` hold no word of a talk (notes, private
/// notes, items), nor after the notes are changed and deleted.
#[tokio::test]
async fn a_notes_words_are_in_no_file_wal_or_backup() {
    let app = TestApp::sqlite().await;
    let o = org(&app).await;
    let db_file = app.url.sqlite_path().unwrap().to_owned();
    let read = |suffix: &str| std::fs::read(format!("{db_file}{suffix}")).unwrap_or_default();
    let marks = ["SHAREDMARK", "PRIVMANAGER", "PRIVREPORT", "ITEMMARK", "REWRITTEN"];
    let holds = |bytes: &[u8], what: &str| {
        for m in marks {
            assert!(
                !bytes.windows(m.len()).any(|w| w == m.as_bytes()),
                "{m} is readable in {what}"
            );
        }
    };
    let manager = app.signed_in("p0-0@bars.example").await;
    let r = app.signed_in("p0-1@bars.example").await;
    let talk = schedule(&app, &manager, o.people[0][1].0, "stay", 2, "").await;
    let rid = o.people[0][1].0.to_string();
    let due = day(&app, 9);
    let steps: Vec<(&Browser, &str, &str)> = vec![
        (&manager, SHARED, PRIVATE_M),
        (&r, SHARED, PRIVATE_R),
        (&manager, "REWRITTEN shared", ""),
    ];
    for (i, (b, shared, private)) in steps.into_iter().enumerate() {
        write_notes(b, talk, shared, private).await;
        holds(&read(""), &format!("the database after save {i}"));
        holds(&read("-wal"), &format!("the WAL after save {i}"));
    }
    manager
        .post(
            &format!("/talks/{talk}/items"),
            &[("text", ITEM), ("owner", rid.as_str()), ("due_date", due.as_str())],
        )
        .await
        .assert(303, "");
    holds(&read(""), "the database");
    holds(&read("-wal"), "the WAL");
    // The words are there, sealed: the two still read them.
    manager
        .get(&format!("/talks/{talk}"))
        .await
        .assert(200, "REWRITTEN shared")
        .assert(200, ITEM);
    app.run_jobs().await;
    let dest = app.dir.path("backup.db");
    let out = app
        .command()
        .args(["backup", &dest, "--database", app.url.expose()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let backup = std::fs::read(&dest).unwrap();
    assert!(backup.len() > 4096);
    holds(&backup, "a backup");
}

/// The invites that reach a real SMTP server (aiosmtpd) parse with a real
/// iCalendar parser (Python's `icalendar`): the right UID, SEQUENCE, time
/// zone and time, a reschedule updating the same event and a cancellation
/// cancelling it; and the feed parses too. `.ci/run` installs both.
#[tokio::test]
#[ignore = "needs python3 with aiosmtpd and icalendar (.ci/run installs them)"]
async fn external_icalendar_invites_parse_with_a_real_parser() {
    let smtp = crate::smtp::ExternalSmtp::start(free_port(), 0);
    let app = TestApp::sqlite().await.with_mail(smtp.port).await;
    let o = org(&app).await;
    sqlx::query("UPDATE people SET time_zone = 'America/New_York' WHERE email = 'p0-0@bars.example'")
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let manager = app.signed_in("p0-0@bars.example").await;
    let talk = schedule(&app, &manager, o.people[0][1].0, "stay", 7, "").await;
    let date = day(&app, 8);
    manager
        .post(
            &format!("/talks/{talk}/time"),
            &[("date", date.as_str()), ("time", "16:15"), ("minutes", "60")],
        )
        .await
        .assert(303, "");
    manager
        .post(&format!("/talks/{talk}/cancel"), &[("confirm", "yes")])
        .await
        .assert(303, "");
    app.run_jobs().await;
    let mut mail = Vec::new();
    for _ in 0..100 {
        mail = smtp.received();
        if mail.len() >= 6 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(mail.len(), 6, "{mail:?}");
    let page = manager.post("/talks/calendar", &[]).await;
    let url = page
        .body
        .split("value=\"")
        .find(|s| s.starts_with("http"))
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let path = url
        .split_once("/calendar/")
        .map(|(_, p)| format!("/calendar/{p}"))
        .unwrap();
    let feed = app.browser().get(&path).await.body.clone();
    let dir = TempDir::new();
    let mut files = Vec::new();
    for (i, m) in mail.iter().enumerate() {
        let f = dir.path(&format!("{i}.ics"));
        std::fs::write(&f, m.calendar.replace("\r\n", "\n").replace('\n', "\r\n")).unwrap();
        files.push(f);
    }
    let f = dir.path("feed.ics");
    std::fs::write(&f, &feed).unwrap();
    files.push(f);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/tools/ics_check.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .args(&files)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let parsed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let uid = format!("talk-{talk}@belong");
    // The start as the parser reads it, in UTC: 10:00 and then 16:15 in New York.
    let utc = |d: &str, t: &str| {
        let civil: jiff::civil::DateTime = format!("{d}T{t}").parse().unwrap();
        civil
            .to_zoned(jiff::tz::TimeZone::get("America/New_York").unwrap())
            .unwrap()
            .timestamp()
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    };
    for (method, sequence, start, status) in [
        ("REQUEST", 0, utc(&day(&app, 7), "10:00"), "CONFIRMED"),
        ("REQUEST", 1, utc(&date, "16:15"), "CONFIRMED"),
        ("CANCEL", 2, utc(&date, "16:15"), "CANCELLED"),
    ]
    .iter()
    {
        // The worker sends in its own order: find the two of each sequence.
        let of_sequence: Vec<&serde_json::Value> = parsed.as_array().unwrap()[..6]
            .iter()
            .filter(|c| c["events"][0]["sequence"] == *sequence)
            .collect();
        assert_eq!(of_sequence.len(), 2, "{parsed}");
        for cal in of_sequence {
            assert_eq!(cal["errors"], json!([]), "{cal}");
            assert_eq!(cal["method"], *method, "{cal}");
            assert_eq!(cal["version"], "2.0");
            assert_eq!(cal["timezones"], json!(["America/New_York"]));
            let ev = &cal["events"][0];
            assert_eq!(ev["uid"], uid.as_str());
            assert_eq!(ev["sequence"], *sequence);
            assert_eq!(ev["start_tzid"], "America/New_York");
            assert_eq!(ev["start_utc"], start.as_str(), "{cal}");
            assert_eq!(ev["status"], *status);
            assert!(ev["organizer"].as_str().unwrap().ends_with("p0-0@bars.example"));
            assert_eq!(ev["attendees"].as_array().unwrap().len(), 2);
        }
    }
    let feed = &parsed[6];
    assert_eq!(feed["errors"], json!([]));
    assert_eq!(feed["method"], "PUBLISH");
    assert_eq!(feed["events"][0]["uid"], uid.as_str());
    assert_eq!(feed["events"][0]["status"], "CANCELLED");
    app.run_jobs().await;
}

/// The logs, at the most verbose level, of a server process through
/// which both people write notes and items by form and by API: no word of
/// them, and no talk's path beyond its route.
#[tokio::test]
async fn the_logs_at_trace_hold_no_word_of_a_talk() {
    let app = TestApp::sqlite().await;
    let o = org(&app).await;
    let report = o.people[0][1].0;
    let server = LoggedServer::start(&app);
    let manager = server.signed_in("p0-0@bars.example").await;
    let talk = schedule(&app, &manager, report, "stay", 2, "").await;
    write_notes(&manager, talk, SHARED, PRIVATE_M).await;
    let rid = report.to_string();
    let due = day(&app, 9);
    manager
        .post(
            &format!("/talks/{talk}/items"),
            &[("text", ITEM), ("owner", rid.as_str()), ("due_date", due.as_str())],
        )
        .await
        .assert(303, "");
    // A note too long, refused: its words are not logged either.
    let long = format!("{PRIVATE_M} {}", "x".repeat(10_001));
    manager
        .post(&format!("/talks/{talk}/notes"), &[("private_0", long.as_str())])
        .await
        .assert(422, "keep a note to");
    let token = token_for(&app, o.org, report).await;
    let client = reqwest::Client::new();
    let saved = client
        .put(format!("http://127.0.0.1:{}/api/v1/talks/{talk}/notes", server.port))
        .bearer_auth(&token)
        .json(&json!({"notes": [{"question": 1, "shared": SHARED, "private": PRIVATE_R}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 200);
    let read = client
        .get(format!("http://127.0.0.1:{}/api/v1/talks/{talk}", server.port))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(read.text().await.unwrap().contains("PRIVREPORT"));
    let log = server.finish();
    assert!(log.contains("/talks/{id}/notes"), "the log names routes: {log}");
    for m in ["SHAREDMARK", "PRIVMANAGER", "PRIVREPORT", "ITEMMARK"] {
        assert!(!log.contains(m), "{m} is in the log");
    }
    assert!(!log.contains(&format!("/talks/{talk}")), "a talk's id is in the log");
    app.run_jobs().await;
}

async fn erasing_a_leaver_takes_their_private_notes_and_feed(app: TestApp) {
    let o = org(&app).await;
    let owner = app
        .person(o.org, "Olga Owner", "olga@bars.example", Role::Owner, None)
        .await;
    let report = o.people[0][1].0;
    let manager = app.signed_in("p0-0@bars.example").await;
    let talk = schedule(&app, &manager, report, "one_on_one", 2, "").await;
    write_notes(&manager, talk, SHARED, PRIVATE_M).await;
    let r = app.signed_in("p0-1@bars.example").await;
    write_notes(&r, talk, SHARED, PRIVATE_R).await;
    r.post("/talks/calendar", &[]).await.assert(200, "/calendar/");
    let scope = |who: i64| format!("SELECT COUNT(*) FROM talk_notes WHERE scope = {who}");
    assert_eq!(app.count(&scope(report)).await, 1);
    let api = Api::new(&app, &token_for(&app, o.org, owner).await);
    let left = api
        .call(
            "POST",
            &format!("/api/v1/people/{report}/deactivate"),
            Some(json!({"end_date": day(&app, 0), "reason": "voluntary"})),
        )
        .await;
    assert_eq!(left.status, 200, "{}", left.json);
    let erased = api.call("POST", &format!("/api/v1/people/{report}/erase"), None).await;
    assert_eq!(erased.status, 200, "{}", erased.json);
    // Their private note and feed are gone; the manager's record stays.
    assert_eq!(app.count(&scope(report)).await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM calendar_feeds").await, 0);
    assert_eq!(app.count(&scope(o.people[0][0].0)).await, 1);
    let page = manager.get(&format!("/talks/{talk}")).await;
    page.assert(200, SHARED)
        .assert(200, PRIVATE_M)
        .assert(200, "Former member");
    app.run_jobs().await;
}
