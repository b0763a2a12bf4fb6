//! The feedback box over HTTP: an anonymous thread in both directions, the
//! digest, the inbox — and attempts to find out who the sender is.

use belong::auth::Role;
use sqlx::Row;

use crate::helpers::{SmtpSink, TeamsOrg, TestApp, both_databases, free_port};

both_databases!(
    an_anonymous_thread_of_four_messages_leaves_no_trace_of_its_sender,
    wrong_codes_read_nothing_and_are_rate_limited,
    small_teams_pass_messages_up_and_bad_input_stores_nothing,
    recipients_see_only_their_threads_and_abuse_is_hidden,
    a_higher_k_raises_the_size_a_team_needs_to_receive,
    a_thread_linked_to_an_action_shows_its_sender_what_is_done,
);

/// [`TestApp::org_with`], and an owner ("Olga Owner", olga@bars.example).
async fn org_with(app: &TestApp, sizes: &[usize], nested: bool) -> TeamsOrg {
    let o = app.org_with(sizes, nested).await;
    app.person(o.org, "Olga Owner", "olga@bars.example", Role::Owner, None)
        .await;
    o
}

/// The code on the "sent" page.
fn code_on(page: &str) -> String {
    let start = page.find("<code id=\"code\">").expect("the page shows a code") + 16;
    page[start..start + page[start..].find('<').unwrap()].to_owned()
}

/// The next day's digest: the schedule comes due, the digest job runs and
/// its emails are sent.
async fn next_digest(app: &TestApp) {
    app.clock.advance(jiff::SignedDuration::from_hours(25));
    belong::jobs::schedule::queue_due(&app.state).await.unwrap();
    belong::jobs::run_due(&app.state, "test").await.unwrap();
    belong::jobs::run_due(&app.state, "test").await.unwrap();
}

/// Every stored row of the feedback tables, as text.
async fn feedback_rows(app: &TestApp) -> Vec<String> {
    let mut out = Vec::new();
    for r in sqlx::query(
        "SELECT id, org_id, team_id, pillar, topic, code_hash, status, assignee_id, opened_day, delivered_day,
                first_reply_day, closing_note, abusive FROM feedback_threads",
    )
    .fetch_all(&app.state.db.pool)
    .await
    .unwrap()
    {
        let mut row = Vec::new();
        for i in [0usize, 1, 2, 7, 12] {
            row.push(format!("{:?}", r.try_get::<Option<i64>, _>(i).unwrap()));
        }
        for i in [3usize, 4, 5, 6, 8, 9, 10, 11] {
            row.push(format!("{:?}", r.try_get::<Option<String>, _>(i).unwrap()));
        }
        out.push(row.join("|"));
    }
    for r in sqlx::query(
        "SELECT thread_id, position, org_id, from_sender, author_id, body, day, delivered FROM feedback_messages",
    )
    .fetch_all(&app.state.db.pool)
    .await
    .unwrap()
    {
        let mut row = Vec::new();
        for i in [0usize, 1, 2, 3, 4, 7] {
            row.push(format!("{:?}", r.try_get::<Option<i64>, _>(i).unwrap()));
        }
        for i in [5usize, 6] {
            row.push(format!("{:?}", r.try_get::<Option<String>, _>(i).unwrap()));
        }
        out.push(row.join("|"));
    }
    out
}

async fn an_anonymous_thread_of_four_messages_leaves_no_trace_of_its_sender(app: TestApp) {
    let smtp = SmtpSink::start(free_port(), 0);
    let app = app.with_mail(smtp.port).await;
    let o = org_with(&app, &[6], false).await;
    let (sender_id, sender_name, sender_email) = o.people[0][3].clone();
    let (manager_id, manager_name, manager_email) = o.people[0][0].clone();
    let team = o.teams[0].to_string();

    // 1. The sender writes to their team's managers.
    let sender = app.signed_in(&sender_email).await;
    sender.get("/voice").await.assert(200, "Send anonymously");
    let sent = sender
        .post(
            "/voice",
            &[
                ("team", team.as_str()),
                ("pillar", "support"),
                ("topic", "workload"),
                ("body", "The release crunch wears us down. MARK-ONE"),
            ],
        )
        .await;
    sent.assert(200, "Your message is on its way")
        .assert(200, "Managers of Team 0");
    let code = code_on(&sent.body);
    assert_eq!(code.replace('-', "").len(), 32, "160 bits in base 32");

    // Not delivered before the digest: the moment it arrives says nothing.
    let manager = app.signed_in(&manager_email).await;
    let inbox = manager.get("/voice/inbox").await;
    inbox.assert(200, "Feedback inbox");
    assert!(!inbox.body.contains("workload"), "delivered at once: {}", inbox.body);
    assert!(smtp.received().is_empty());
    next_digest(&app).await;
    let mail = smtp.received();
    assert_eq!(mail.len(), 1, "one digest, to the one manager: {mail:?}");
    assert_eq!(mail[0].rcpt_tos, vec![manager_email.clone()]);
    assert_eq!(mail[0].subject, "New in the feedback box");
    assert!(
        mail[0].text.contains("Managers of Team 0: 1 new message"),
        "{}",
        mail[0].text
    );
    assert!(!mail[0].text.contains("MARK-ONE") && !mail[0].html.contains("MARK-ONE"));

    // 2. The manager's home page says a message waits; the manager replies.
    manager
        .get("/")
        .await
        .assert(200, "A feedback message waits for your first answer");
    let inbox = manager.get("/voice/inbox").await;
    inbox.assert(200, "workload").assert(200, "reply due");
    let id: String = {
        let at = inbox.body.find("/voice/inbox/").unwrap() + 13;
        inbox.body[at..].chars().take_while(char::is_ascii_digit).collect()
    };
    manager.get(&format!("/voice/inbox/{id}")).await.assert(200, "MARK-ONE");
    let replied = manager
        .post(
            &format!("/voice/inbox/{id}/reply"),
            &[("body", "Thank you. Which part weighs most? MARK-TWO")],
        )
        .await;
    assert_eq!(replied.status.as_u16(), 303, "{}", replied.body);

    // 3. The sender comes back with the code alone, signed out, and answers.
    let anonymous = app.browser();
    anonymous.get("/signin").await;
    let thread = anonymous.post("/voice/thread", &[("code", code.as_str())]).await;
    thread
        .assert(200, "MARK-ONE")
        .assert(200, "MARK-TWO")
        .assert(200, &manager_name)
        .assert(200, "Acknowledged");
    anonymous
        .post(
            "/voice/thread/reply",
            &[("code", code.as_str()), ("body", "The weekend deploys. MARK-THREE")],
        )
        .await
        .assert(200, "waiting for the next digest");
    let page = manager.get(&format!("/voice/inbox/{id}")).await;
    assert!(!page.body.contains("MARK-THREE"), "before its digest");
    next_digest(&app).await;
    assert_eq!(smtp.received().len(), 2);
    assert!(smtp.received()[1].text.contains("1 new reply from a sender"));

    // 4. The manager answers and resolves the thread with a note.
    manager
        .get(&format!("/voice/inbox/{id}"))
        .await
        .assert(200, "MARK-THREE");
    manager
        .post(
            &format!("/voice/inbox/{id}/reply"),
            &[("body", "No more weekend deploys from next month. MARK-FOUR")],
        )
        .await;
    manager
        .post(
            &format!("/voice/inbox/{id}/status"),
            &[("status", "resolved"), ("note", "Deploys moved to Tuesdays.")],
        )
        .await;
    let end = anonymous.post("/voice/thread", &[("code", code.as_str())]).await;
    for mark in [
        "MARK-ONE",
        "MARK-TWO",
        "MARK-THREE",
        "MARK-FOUR",
        "Deploys moved to Tuesdays.",
    ] {
        end.assert(200, mark);
    }
    assert_eq!(end.body.matches("class=\"from-sender\"").count(), 2);
    assert_eq!(end.body.matches("class=\"from-recipient\"").count(), 2);
    anonymous
        .post("/voice/thread/reply", &[("code", code.as_str()), ("body", "One more")])
        .await
        .assert(409, "closed");

    // Nothing stored says who the sender is: no column could, and no row does
    // (the action is one a recipient linked it to).
    assert_eq!(
        app.columns("feedback_threads").await,
        [
            "abusive",
            "action_id",
            "assignee_id",
            "closing_note",
            "code_hash",
            "delivered_day",
            "first_reply_day",
            "hidden_day",
            "id",
            "opened_day",
            "org_id",
            "pillar",
            "status",
            "team_id",
            "topic"
        ]
    );
    assert_eq!(
        app.columns("feedback_messages").await,
        [
            "author_id",
            "body",
            "day",
            "delivered",
            "from_sender",
            "org_id",
            "position",
            "thread_id"
        ]
    );
    let rows = feedback_rows(&app).await;
    assert_eq!(rows.len(), 5, "one thread, four messages");
    for row in &rows {
        for trace in [
            &sender_id.to_string(),
            &sender_name,
            &sender_email,
            &code,
            &code.replace('-', ""),
        ] {
            assert!(!row.contains(trace.as_str()), "{trace} is stored: {row}");
        }
    }
    // The code is stored only as its hash.
    let stored: String = sqlx::query("SELECT code_hash FROM feedback_threads")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    assert_eq!(stored, belong::auth::hash_token(&code.replace('-', "")));
    // The audit log has the manager's reads and changes, and nothing by the
    // sender about the feedback box.
    let audit: Vec<(i64, String)> =
        sqlx::query("SELECT actor_id, action FROM audit_events WHERE action LIKE 'feedback%'")
            .fetch_all(&app.state.db.pool)
            .await
            .unwrap()
            .iter()
            .map(|r| (r.try_get("actor_id").unwrap(), r.try_get("action").unwrap()))
            .collect();
    assert!(audit.iter().any(|(a, act)| *a == manager_id && act == "feedback.reply"));
    assert!(audit.iter().all(|(a, _)| *a == manager_id), "{audit:?}");
    let sender_audit = app
        .count(&format!(
            "SELECT COUNT(*) FROM audit_events WHERE actor_id = {sender_id}"
        ))
        .await;
    assert_eq!(sender_audit, 0);
    // Jobs (the digests and their emails) carry no words and no sender.
    let mut payloads: Vec<String> = sqlx::query("SELECT payload FROM jobs")
        .fetch_all(&app.state.db.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get(0).unwrap())
        .collect();
    payloads.extend(app.queued_emails().await);
    for payload in payloads {
        assert!(
            !payload.contains("MARK-") && !payload.contains(&sender_email),
            "{payload}"
        );
    }
    // And the sender's own data export knows nothing of the thread.
    let mine = sender.get("/account/data.json").await;
    assert_eq!(mine.status.as_u16(), 200);
    assert!(!mine.body.contains("MARK-") && !mine.body.contains("feedback"));
}

async fn wrong_codes_read_nothing_and_are_rate_limited(app: TestApp) {
    let o = org_with(&app, &[6], false).await;
    let sender = app.signed_in(&o.people[0][2].2).await;
    sender.get("/voice").await;
    let sent = sender
        .post("/voice", &[("team", "org"), ("body", "Secret words MARK-X")])
        .await;
    let code = code_on(&sent.body);
    let stranger = app.browser();
    stranger.get("/signin").await;
    let other = belong::voice::model::FeedbackCode::generate().display();
    for wrong in [other.as_str(), "ABCD", "", "ÜÜÜÜ-ÜÜÜÜ"] {
        let page = stranger.post("/voice/thread", &[("code", wrong)]).await;
        page.assert(422, "no conversation has this code");
        assert!(!page.body.contains("MARK-X"));
        stranger
            .post("/voice/thread/reply", &[("code", wrong), ("body", "hello")])
            .await
            .assert(422, "No conversation has this code");
    }
    // One character changed is another code.
    let mut near: Vec<char> = code.chars().collect();
    near[0] = if near[0] == 'A' { 'B' } else { 'A' };
    let near: String = near.into_iter().collect();
    stranger
        .post("/voice/thread", &[("code", near.as_str())])
        .await
        .assert(422, "no conversation has this code");
    // Guessing runs out quickly; the right code, typed loosely, still works
    // for others.
    let mut limited = false;
    for _ in 0..40 {
        let page = stranger.post("/voice/thread", &[("code", other.as_str())]).await;
        if page.status.as_u16() == 429 {
            limited = true;
            assert!(page.headers.contains_key("retry-after"));
            break;
        }
    }
    assert!(limited, "40 wrong codes in a row were not limited");
    stranger
        .post("/voice/thread", &[("code", code.as_str())])
        .await
        .assert(429, "Too many attempts");
    assert_eq!(
        app.count("SELECT (SELECT COUNT(*) FROM feedback_messages) + (SELECT COUNT(*) FROM feedback_pending)")
            .await,
        1,
        "no attempt wrote anything"
    );
}

async fn small_teams_pass_messages_up_and_bad_input_stores_nothing(app: TestApp) {
    // Team 0 (4 people) holds Team 1 (3 people): 7 together. Team 2 stands
    // alone with 3.
    let o = org_with(&app, &[4, 3, 3], true).await;
    for t in [2usize] {
        sqlx::query("UPDATE teams SET parent_id = NULL WHERE id = $1")
            .bind(o.teams[t])
            .execute(&app.state.db.pool)
            .await
            .unwrap();
    }
    let b = app.signed_in(&o.people[1][1].2).await;
    b.get("/voice").await;
    let (t0, t1, t2) = (o.teams[0].to_string(), o.teams[1].to_string(), o.teams[2].to_string());
    let up = b.post("/voice", &[("team", t1.as_str()), ("body", "To my team")]).await;
    up.assert(200, "It goes to: Managers of Team 0")
        .assert(200, "Team 0 / Team 1 is too small");
    let stays = b
        .post("/voice", &[("team", t0.as_str()), ("body", "To the parent")])
        .await;
    stays.assert(200, "It goes to: Managers of Team 0");
    assert!(!stays.body.contains("too small"));
    b.post("/voice", &[("team", t2.as_str()), ("body", "To a small team")])
        .await
        .assert(200, "It goes to: HR and the owners");
    // Sealed until the digest: nothing says yet where they go.
    assert_eq!(app.count("SELECT COUNT(*) FROM feedback_threads").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM feedback_pending").await, 3);

    let long = "x".repeat(4001);
    let bad: [(&[(&str, &str)], &str); 7] = [
        (&[("team", "org"), ("body", "  ")], "Message</a>: write a message"),
        (&[("team", "org"), ("body", long.as_str())], "Message</a>: at most 4000"),
        (&[("team", "12345"), ("body", "hi")], "To</a>: choose a team"),
        (&[("team", "nope"), ("body", "hi")], "To</a>: choose a team"),
        (&[("team", "org"), ("pillar", "moon"), ("body", "hi")], "About</a>:"),
        (&[("team", "org"), ("pillar", "enps"), ("body", "hi")], "About</a>:"),
        (
            &[("team", "org"), ("topic", &"t".repeat(61)), ("body", "hi")],
            "Topic</a>: at most 60",
        ),
    ];
    for (fields, message) in bad {
        b.post("/voice", fields).await.assert(422, message);
    }
    // Another org's team is not a team of this one.
    let other = app.org("Other", "other").await;
    let foreign = app.team(other, "Theirs", None).await.to_string();
    b.post("/voice", &[("team", foreign.as_str()), ("body", "hi")])
        .await
        .assert(422, "To</a>:");
    assert_eq!(app.count("SELECT COUNT(*) FROM feedback_pending").await, 3);
    // Sending is limited per session: five at once, then a wait.
    b.post("/voice", &[("team", "org"), ("body", "four")])
        .await
        .assert(200, "on its way");
    b.post("/voice", &[("team", "org"), ("body", "five")])
        .await
        .assert(200, "on its way");
    b.post("/voice", &[("team", "org"), ("body", "six")])
        .await
        .assert(429, "Too many attempts");
    assert_eq!(app.count("SELECT COUNT(*) FROM feedback_pending").await, 5);
    next_digest(&app).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM feedback_pending").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM feedback_threads").await, 5);
    assert_eq!(app.count("SELECT COUNT(*) FROM feedback_messages").await, 5);
    let routed: Vec<Option<i64>> = sqlx::query("SELECT team_id FROM feedback_threads")
        .fetch_all(&app.state.db.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get(0).unwrap())
        .collect();
    assert_eq!(routed.iter().filter(|t| **t == Some(o.teams[0])).count(), 2);
    assert_eq!(routed.iter().filter(|t| t.is_none()).count(), 3);
}

/// Five people is the floor (PRIVACY.md rule 16); an organization whose k
/// is higher protects its senders by its k.
async fn a_higher_k_raises_the_size_a_team_needs_to_receive(app: TestApp) {
    let o = org_with(&app, &[7], false).await;
    let b = app.signed_in(&o.people[0][3].2).await;
    b.get("/voice").await.assert(200, "fewer than 5 people");
    let team = o.teams[0].to_string();
    b.post("/voice", &[("team", team.as_str()), ("body", "hello")])
        .await
        .assert(200, "It goes to: Managers of Team 0");
    sqlx::query("UPDATE organizations SET anonymity_k = 8 WHERE id = $1")
        .bind(o.org)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    b.get("/voice").await.assert(200, "fewer than 8 people");
    b.post("/voice", &[("team", team.as_str()), ("body", "hello again")])
        .await
        .assert(200, "It goes to: HR and the owners");
    next_digest(&app).await;
    let routed: Vec<Option<i64>> = sqlx::query("SELECT team_id FROM feedback_threads ORDER BY opened_day, id")
        .fetch_all(&app.state.db.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get(0).unwrap())
        .collect();
    let mut sorted = routed.clone();
    sorted.sort();
    assert_eq!(sorted, [None, Some(o.teams[0])], "{routed:?}");
    // A stored status that does not read fails the inbox; it is not "new".
    sqlx::query("UPDATE feedback_threads SET status = 'lost'")
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let hr = belong::auth::Actor {
        org_id: o.org,
        person_id: 0,
        role: Role::HrAdmin,
    };
    let inbox = belong::voice::service::inbox(&app.state, &hr, None, false).await;
    assert!(matches!(inbox, Err(belong::error::AppError::Internal(_))));
}

async fn recipients_see_only_their_threads_and_abuse_is_hidden(app: TestApp) {
    let o = org_with(&app, &[6, 6], false).await;
    let sender = app.signed_in(&o.people[0][4].2).await;
    sender.get("/voice").await;
    let team0 = o.teams[0].to_string();
    let code = code_on(
        &sender
            .post("/voice", &[("team", team0.as_str()), ("body", "For team 0 MARK-T0")])
            .await
            .body,
    );
    let org_code = code_on(
        &sender
            .post("/voice", &[("team", "org"), ("body", "For HR MARK-HR")])
            .await
            .body,
    );
    next_digest(&app).await;
    let id: i64 = sqlx::query("SELECT id FROM feedback_threads WHERE team_id IS NOT NULL")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();

    // Only that team's managers read a team thread; only HR and owners the
    // org-wide one.
    let manager = app.signed_in(&o.people[0][0].2).await;
    let other_manager = app.signed_in(&o.people[1][0].2).await;
    let hr = app.signed_in("hera@bars.example").await;
    let employee = app.signed_in(&o.people[0][1].2).await;
    let inbox = manager.get("/voice/inbox").await;
    assert!(inbox.body.contains(&format!("/voice/inbox/{id}")) && !inbox.body.contains("HR and the owners</td>"));
    // The navigation says a thread waits for the manager; not for others.
    let waiting = r#"Inbox <span class="count">1<span class="sr-only"> waiting</span></span>"#;
    manager.get("/").await.assert(200, waiting);
    assert!(!other_manager.get("/").await.body.contains(waiting));
    assert!(
        !employee.get("/").await.body.contains(">Inbox"),
        "employees receive nothing"
    );
    other_manager
        .get(&format!("/voice/inbox/{id}"))
        .await
        .assert(404, "does not exist");
    hr.get(&format!("/voice/inbox/{id}"))
        .await
        .assert(404, "does not exist");
    let hr_inbox = hr.get("/voice/inbox").await;
    hr_inbox.assert(200, "HR and the owners");
    assert!(!hr_inbox.body.contains(&format!("/voice/inbox/{id}")));
    employee.get("/voice/inbox").await.assert(200, "You do not receive any");
    employee
        .get(&format!("/voice/inbox/{id}"))
        .await
        .assert(404, "does not exist");
    employee.get("/voice/inbox?hidden=1").await.assert(403, "not allowed");
    manager.get("/voice/inbox?status=done").await.assert(422, "Status: ");

    // Status, assignment and notes refuse what does not fit.
    manager.get(&format!("/voice/inbox/{id}")).await;
    let path = |what: &str| format!("/voice/inbox/{id}/{what}");
    manager
        .post(&path("status"), &[("status", "resolved"), ("note", " ")])
        .await
        .assert(422, "Closing note</a>:");
    manager
        .post(&path("status"), &[("status", "finished")])
        .await
        .assert(422, "Status</a>: ");
    let outsider = o.people[1][0].0.to_string();
    manager
        .post(&path("assign"), &[("assignee", outsider.as_str())])
        .await
        .assert(422, "Who follows it up</a>:");
    manager
        .post(&path("reply"), &[("body", "")])
        .await
        .assert(422, "Message to the sender</a>:");
    let me = o.people[0][0].0.to_string();
    assert_eq!(
        manager
            .post(&path("assign"), &[("assignee", me.as_str())])
            .await
            .status
            .as_u16(),
        303
    );
    assert_eq!(
        manager
            .post(&path("status"), &[("status", "in_progress")])
            .await
            .status
            .as_u16(),
        303
    );
    manager
        .get("/voice/inbox?status=in_progress")
        .await
        .assert(200, "Person 0-0");
    other_manager
        .post(&path("status"), &[("status", "resolved"), ("note", "hijack")])
        .await
        .assert(404, "does not exist");

    // Response time: delivered, then answered two days later.
    app.clock.advance(jiff::SignedDuration::from_hours(48));
    manager.get(&format!("/voice/inbox/{id}")).await;
    manager.post(&path("reply"), &[("body", "Looking into it")]).await;
    let stats = manager.get("/voice/inbox").await;
    stats.assert(200, "Median days to first reply");
    assert!(
        stats
            .body
            .contains("<td>Managers of Team 0</td><td>1</td><td>1</td><td>1</td><td>2</td>"),
        "{}",
        stats.body
    );

    // Abuse: hidden from recipients, kept for the owner, closed to the sender.
    manager.get(&format!("/voice/inbox/{id}")).await;
    manager
        .post(&path("abusive"), &[])
        .await
        .assert(200, "Hide this thread as abusive?")
        .assert(200, "An owner can undo this");
    manager
        .get("/voice/inbox")
        .await
        .assert(200, &format!("/voice/inbox/{id}"));
    manager.get(&format!("/voice/inbox/{id}")).await;
    let hidden = manager.post(&path("abusive"), &[("confirm", "yes")]).await;
    assert_eq!(hidden.status.as_u16(), 303);
    assert!(
        !manager
            .get("/voice/inbox")
            .await
            .body
            .contains(&format!("/voice/inbox/{id}"))
    );
    manager
        .get(&format!("/voice/inbox/{id}"))
        .await
        .assert(404, "does not exist");
    let owner = app.signed_in("olga@bars.example").await;
    owner
        .get("/voice/inbox?hidden=1")
        .await
        .assert(200, &format!("/voice/inbox/{id}"));
    owner
        .get(&format!("/voice/inbox/{id}"))
        .await
        .assert(200, "MARK-T0")
        .assert(200, "Hidden as abusive");
    let anon = app.browser();
    anon.get("/signin").await;
    anon.post("/voice/thread", &[("code", code.as_str())])
        .await
        .assert(200, "The recipients closed this conversation");
    anon.post("/voice/thread/reply", &[("code", code.as_str()), ("body", "again")])
        .await
        .assert(409, "closed");

    // An owner can undo the hiding within 30 days; a manager cannot.
    manager.get("/voice/inbox").await;
    manager.post(&path("unhide"), &[]).await.assert(403, "not allowed");
    owner
        .get(&format!("/voice/inbox/{id}"))
        .await
        .assert(200, "Undo: show it to its recipients again");
    let shown = owner.post(&path("unhide"), &[]).await;
    assert_eq!(shown.status.as_u16(), 303, "{}", shown.body);
    manager
        .get("/voice/inbox")
        .await
        .assert(200, &format!("/voice/inbox/{id}"));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'feedback.unhide'")
            .await,
        1
    );
    manager.get(&format!("/voice/inbox/{id}")).await;
    manager.post(&path("abusive"), &[("confirm", "yes")]).await;
    // Thirty-one days later (moved back in the row, so sessions stay):
    sqlx::query("UPDATE feedback_threads SET hidden_day = $1 WHERE id = $2")
        .bind((jiff::Zoned::now().date() - jiff::Span::new().days(31)).to_string())
        .bind(id)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    owner
        .get(&format!("/voice/inbox/{id}"))
        .await
        .assert(200, "Hidden as abusive");
    assert!(!owner.get(&format!("/voice/inbox/{id}")).await.body.contains("Undo:"));
    owner.post(&path("unhide"), &[]).await.assert(409, "for 30 days only");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM feedback_threads WHERE abusive = 1")
            .await,
        1
    );
    // A sender may sign a later message, by choice, and only as themselves.
    let signer = app.signed_in(&o.people[0][4].2).await;
    signer.get("/voice").await;
    signer
        .post(
            "/voice/thread/reply",
            &[
                ("code", org_code.as_str()),
                ("body", "It was me, happy to talk."),
                ("sign", "maybe"),
            ],
        )
        .await
        .assert(422, "Add my name to this message:");
    anon.post(
        "/voice/thread/reply",
        &[("code", org_code.as_str()), ("body", "unsigned"), ("sign", "yes")],
    )
    .await
    .assert(422, "Add my name to this message: sign in to add your name");
    signer
        .post(
            "/voice/thread/reply",
            &[
                ("code", org_code.as_str()),
                ("body", "It was me, happy to talk."),
                ("sign", "yes"),
            ],
        )
        .await
        .assert(200, "The sender, signed: Person 0-4");
    next_digest(&app).await;
    let org_thread: i64 = sqlx::query("SELECT id FROM feedback_threads WHERE team_id IS NULL")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    let seen = hr.get(&format!("/voice/inbox/{org_thread}")).await;
    seen.assert(200, "The sender, signed: Person 0-4");
    assert_eq!(
        seen.body.matches("The sender (anonymous)").count(),
        1,
        "the first message stays unsigned"
    );
    // The signed message is in the signer's own data; nothing unsigned is.
    let mine: serde_json::Value = serde_json::from_str(&signer.get("/account/data.json").await.body).unwrap();
    let said: Vec<&str> = mine["messages_you_signed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(said, ["It was me, happy to talk."]);
    assert!(!mine.to_string().contains("MARK-"), "{mine}");
    signer
        .get("/account/data")
        .await
        .assert(200, "It was me, happy to talk.");
    // Owners choose when digests go out, among batched times only.
    hr.get("/voice/inbox").await;
    hr.post("/voice/digest", &[("digest", "weekly monday 09:00")])
        .await
        .assert(403, "not allowed");
    owner
        .get("/voice/inbox")
        .await
        .assert(200, "When recipients hear of new messages");
    owner
        .post("/voice/digest", &[("digest", "every minute")])
        .await
        .assert(422, "Digest: choose");
    let saved = owner.post("/voice/digest", &[("digest", "weekly monday 09:00")]).await;
    assert_eq!(saved.status.as_u16(), 303);
    let next: i64 = sqlx::query("SELECT next_run_at FROM schedules WHERE name LIKE 'voice.digest.%'")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    let at = jiff::Timestamp::from_second(next)
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::get("Europe/Berlin").unwrap());
    assert_eq!(
        (at.weekday(), at.hour(), at.minute()),
        (jiff::civil::Weekday::Monday, 9, 0)
    );
    assert!(
        owner
            .get("/voice/inbox")
            .await
            .body
            .contains("value=\"weekly monday 09:00\" selected")
    );
    // The org-wide thread is untouched by all this.
    anon.post("/voice/thread", &[("code", org_code.as_str())])
        .await
        .assert(200, "MARK-HR");
}

/// At the most verbose log level, the server logs the feedback box's
/// requests but neither the code, nor the words, nor who sent them.
#[tokio::test]
async fn verbose_logs_hold_no_code_no_words_and_no_sender() {
    let app = TestApp::sqlite().await;
    let o = org_with(&app, &[6], false).await;
    let (sender_id, sender_name, sender_email) = o.people[0][2].clone();
    let server = crate::helpers::LoggedServer::start(&app);
    let b = server.signed_in(&sender_email).await;
    b.get("/voice").await;
    let team = o.teams[0].to_string();
    let sent = b
        .post(
            "/voice",
            &[
                ("team", team.as_str()),
                ("topic", "TOPIC-SECRET"),
                ("body", "WORDS-SECRET-1"),
            ],
        )
        .await;
    let code = code_on(&sent.body);
    b.post("/voice/thread", &[("code", code.as_str())])
        .await
        .assert(200, "WORDS-SECRET-1");
    b.post(
        "/voice/thread/reply",
        &[("code", code.as_str()), ("body", "WORDS-SECRET-2")],
    )
    .await
    .assert(200, "WORDS-SECRET-2");
    let log = server.finish();
    assert!(log.contains("/voice/thread"), "the requests are logged: {log}");
    let bare = code.replace('-', "");
    for secret in [
        code.as_str(),
        &bare[..12],
        "WORDS-SECRET",
        "TOPIC-SECRET",
        &sender_email,
        &sender_name,
        &sender_id.to_string(),
    ] {
        assert!(!log.contains(secret), "{secret} is in the log");
    }
}

/// A recipient links a thread to the action that answers it; the sender,
/// with nothing but their code, sees the action's title and status.
async fn a_thread_linked_to_an_action_shows_its_sender_what_is_done(app: TestApp) {
    let o = org_with(&app, &[6, 6], false).await;
    let sender = app.signed_in(&o.people[0][4].2).await;
    sender.get("/voice").await;
    let team0 = o.teams[0].to_string();
    let code = code_on(
        &sender
            .post(
                "/voice",
                &[("team", team0.as_str()), ("body", "Our stand-ups run long.")],
            )
            .await
            .body,
    );
    next_digest(&app).await;
    let thread: i64 = sqlx::query("SELECT id FROM feedback_threads")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    let due = app
        .state
        .now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .saturating_add(jiff::Span::new().days(20))
        .to_string();
    let plan = |title: &'static str, team: String| {
        vec![
            ("title", title.to_owned()),
            ("group", team),
            ("owner", o.people[0][1].0.to_string()),
            ("due_date", due.clone()),
            ("visibility", "group".to_owned()),
        ]
    };
    let manager = app.signed_in(&o.people[0][0].2).await;
    manager.get("/actions/new").await;
    let fields = plan("Stand-ups of 15 minutes, timed", team0.clone());
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    manager
        .submit("/actions", &refs)
        .await
        .assert(200, "The action is planned.");
    let action = sqlx::query("SELECT id FROM actions")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
        .try_get::<i64, _>(0)
        .unwrap()
        .to_string();
    // Another team's action, which this manager cannot read, is refused.
    let other_manager = app.signed_in(&o.people[1][0].2).await;
    other_manager.get("/actions/new").await;
    let fields = plan("Theirs", o.teams[1].to_string());
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    other_manager
        .submit("/actions", &refs)
        .await
        .assert(200, "The action is planned.");
    let theirs = sqlx::query("SELECT id FROM actions WHERE title = 'Theirs'")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
        .try_get::<i64, _>(0)
        .unwrap()
        .to_string();
    let link = format!("/voice/inbox/{thread}/action");
    manager
        .get(&format!("/voice/inbox/{thread}"))
        .await
        .assert(200, "The action that answers it");
    for wrong in [theirs.as_str(), "12345", "soon"] {
        manager.post(&link, &[("action", wrong)]).await.assert(
            422,
            "The action that answers it</a>: choose one of the actions you can see",
        );
    }
    manager
        .submit(&link, &[("action", action.as_str())])
        .await
        .assert(200, "Linked to <a href=\"/actions/");
    // The sender, by code alone, sees what is being done.
    let anonymous = app.browser();
    anonymous.get("/voice").await;
    let seen = anonymous.post("/voice/thread", &[("code", code.as_str())]).await;
    seen.assert(200, "What is being done")
        .assert(200, "Stand-ups of 15 minutes, timed")
        .assert(200, "Planned");
    // Unlinked, it is gone from the sender's view.
    manager
        .submit(&link, &[("action", "")])
        .await
        .assert(200, "Link it to an action");
    let seen = anonymous.post("/voice/thread", &[("code", code.as_str())]).await;
    assert!(!seen.body.contains("What is being done"));
    app.run_jobs().await;
}
