//! The thank-you board over HTTP: values, posts, reactions, email, the
//! chat webhook, coverage for managers, and what is refused.

use belong::auth::Role;
use sqlx::Row;

use crate::helpers::{Browser, PASSWORD, SmtpSink, TestApp, WebhookSink, both_databases, free_port};

both_databases!(
    a_thank_you_reaches_the_board_the_thanked_and_the_webhook,
    thank_yous_refuse_what_does_not_fit_and_reactions_are_idempotent,
    a_month_of_thank_yous_shows_in_the_managers_coverage,
    the_board_pages_newest_first,
    an_employee_of_the_month_round_runs_from_nomination_to_winner_post,
    my_data_holds_thank_yous_and_nominations_but_never_a_vote,
);

struct Org {
    org: i64,
    kitchen: i64,
    bar: i64,
    /// Kitchen: manager Kim, then Cook 1..4. Bar: Barista 0..4.
    cooks: Vec<i64>,
    baristas: Vec<i64>,
}

async fn org(app: &TestApp) -> Org {
    let org = app.org("Bars Co", "bars-co").await;
    app.person(org, "Olga Owner", "olga@bars.example", Role::Owner, None)
        .await;
    app.person(org, "Hera Hr", "hera@bars.example", Role::HrAdmin, None)
        .await;
    let kitchen = app.team(org, "Kitchen", None).await;
    let bar = app.team(org, "Bar", None).await;
    let mut cooks = vec![
        app.person(org, "Kim Manager", "kim@bars.example", Role::Manager, Some(kitchen))
            .await,
    ];
    for i in 1..5 {
        cooks.push(
            app.person(
                org,
                &format!("Cook {i}"),
                &format!("cook{i}@bars.example"),
                Role::Employee,
                Some(kitchen),
            )
            .await,
        );
    }
    let mut baristas = Vec::new();
    for i in 0..5 {
        baristas.push(
            app.person(
                org,
                &format!("Barista {i}"),
                &format!("barista{i}@bars.example"),
                Role::Employee,
                Some(bar),
            )
            .await,
        );
    }
    Org {
        org,
        kitchen,
        bar,
        cooks,
        baristas,
    }
}

async fn add_value(hr: &Browser, name: &str, pillar: &str) {
    hr.get("/thanks/values").await;
    let page = hr
        .post(
            "/thanks/values",
            &[
                ("name", name),
                ("description", "What we mean by it"),
                ("pillar", pillar),
            ],
        )
        .await;
    assert_eq!(page.status.as_u16(), 303, "{}", page.body);
}

async fn value_id(app: &TestApp, org: i64, name: &str) -> String {
    sqlx::query("SELECT id FROM org_values WHERE org_id = $1 AND name = $2")
        .bind(org)
        .bind(name)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
        .try_get::<i64, _>(0)
        .unwrap()
        .to_string()
}

async fn a_thank_you_reaches_the_board_the_thanked_and_the_webhook(app: TestApp) {
    let smtp = SmtpSink::start(free_port(), 0);
    let app = app.with_mail(smtp.port).await;
    let o = org(&app).await;
    let hook = WebhookSink::start().await;

    // HR keeps the values; the owner connects the chat channel.
    let hr = app.signed_in("hera@bars.example").await;
    add_value(&hr, "Ownership", "value").await;
    hr.post("/thanks/values", &[("name", "ownership"), ("pillar", "support")])
        .await
        .assert(409, "Name</a>: a value of this name exists already");
    hr.post("/thanks/values", &[("name", "Care"), ("pillar", "enps")])
        .await
        .assert(422, "Pillar</a>:");
    hr.post("/thanks/values", &[("name", " "), ("pillar", "support")])
        .await
        .assert(422, "Name</a>:");
    hr.post("/thanks/webhook", &[("webhook_url", "http://x.example")])
        .await
        .assert(403, "not allowed");
    let owner = app.signed_in("olga@bars.example").await;
    owner.get("/thanks/values").await.assert(200, "chat channel");
    owner
        .post("/thanks/webhook", &[("webhook_url", "ftp://files.example/x")])
        .await
        .assert(422, "Incoming webhook address</a>:");
    owner
        .post("/thanks/webhook", &[("webhook_url", "not a url")])
        .await
        .assert(422, "Incoming webhook address</a>:");
    assert_eq!(
        owner
            .post("/thanks/webhook", &[("webhook_url", hook.url.as_str())])
            .await
            .status
            .as_u16(),
        303
    );

    // Cook 1 thanks two baristas for Ownership.
    let cook = app.signed_in("cook1@bars.example").await;
    cook.get("/thanks").await.assert(200, "Post a thank-you");
    let ownership = value_id(&app, o.org, "Ownership").await;
    let (b1, b2) = (o.baristas[1].to_string(), o.baristas[2].to_string());
    cook.submit(
        "/thanks",
        &[
            ("recipients", b1.as_str()),
            ("recipients", b2.as_str()),
            ("value", ownership.as_str()),
            ("message", "You stayed late to fix the till. BRAVO-1"),
        ],
    )
    .await
    .assert(200, "Posted")
    .assert(200, "BRAVO-1")
    .assert(200, "Barista 1, Barista 2")
    .assert(200, "Ownership");
    belong::jobs::run_due(&app.state, "test").await.unwrap();
    let mail = smtp.received();
    let mut to: Vec<String> = mail.iter().map(|m| m.to.clone()).collect();
    to.sort();
    assert_eq!(to, ["barista1@bars.example", "barista2@bars.example"]);
    assert!(
        mail.iter()
            .all(|m| m.subject == "Cook 1 thanked you" && m.text.contains("BRAVO-1"))
    );
    let posted = hook.received();
    assert_eq!(posted.len(), 1, "one post per thank-you: {posted:?}");
    let text = posted[0]["text"].as_str().unwrap();
    assert!(
        text.contains("Cook 1 thanked Barista 1, Barista 2 for Ownership") && text.contains("BRAVO-1"),
        "{text}"
    );

    // One post per thank-you: a second one makes a second post.
    let b3 = o.baristas[3].to_string();
    cook.submit("/thanks", &[("recipients", b3.as_str()), ("message", "BRAVO-2")])
        .await
        .assert(200, "Posted");
    belong::jobs::run_due(&app.state, "test").await.unwrap();
    let posted = hook.received();
    assert_eq!(posted.len(), 2, "{posted:?}");
    assert_eq!(posted[1]["text"], "🙏 Cook 1 thanked Barista 3: BRAVO-2");
    // Barista 3's home page shows it; the author's does not.
    let b3_home = app.signed_in("barista3@bars.example").await.get("/").await;
    b3_home
        .assert(200, "You were thanked")
        .assert(200, "<strong>Cook 1</strong>: “BRAVO-2”");
    assert!(!cook.get("/").await.body.contains("You were thanked"));

    // The team boards: the bar's shows it (recipients), the kitchen's too
    // (author); a team with neither would not.
    let third = app.team(o.org, "Office", None).await;
    for (team, shown) in [(o.bar, true), (o.kitchen, true), (third, false)] {
        let page = cook.get(&format!("/thanks?team={team}")).await;
        assert_eq!(page.status.as_u16(), 200);
        assert_eq!(page.body.contains("BRAVO-1"), shown, "team {team}");
    }
    cook.get("/thanks?team=nope").await.assert(422, "Board: choose");
    cook.get("/thanks?page=-1").await.assert(422, "Page: a page");
    // Another organization sees nothing of it.
    let other = app.org("Other", "other").await;
    app.person(other, "Otto", "otto@other.example", Role::Owner, None).await;
    let otto = app.browser();
    otto.sign_in("other", "otto@other.example", PASSWORD).await;
    assert!(!otto.get("/thanks").await.body.contains("BRAVO-1"));
}

async fn thank_yous_refuse_what_does_not_fit_and_reactions_are_idempotent(app: TestApp) {
    let o = org(&app).await;
    let hr = app.signed_in("hera@bars.example").await;
    add_value(&hr, "Care", "acceptance").await;
    add_value(&hr, "Retired one", "support").await;
    let retired = value_id(&app, o.org, "Retired one").await;
    hr.post(&format!("/thanks/values/{retired}/active"), &[("active", "false")])
        .await;
    let other = app.org("Other", "other").await;
    let stranger = app
        .person(other, "Stranger", "s@other.example", Role::Employee, None)
        .await
        .to_string();
    let foreign_value = {
        let actor = belong::auth::Actor::system(other);
        belong::recognition::service::add_value(&app.state, &actor, "Theirs", "", "value")
            .await
            .unwrap()
            .to_string()
    };
    let gone = o.cooks[4].to_string();
    sqlx::query("UPDATE people SET active = 0 WHERE id = $1")
        .bind(o.cooks[4])
        .execute(&app.state.db.pool)
        .await
        .unwrap();

    // Values can be changed; names stay unique within the organization.
    let care = value_id(&app, o.org, "Care").await;
    hr.get("/thanks/values").await;
    hr.post(
        &format!("/thanks/values/{care}"),
        &[("name", "retired ONE"), ("pillar", "support")],
    )
    .await
    .assert(409, "Name</a>:");
    hr.post(
        &format!("/thanks/values/{care}"),
        &[("name", "Care"), ("pillar", "moon")],
    )
    .await
    .assert(422, "Pillar</a>:");
    hr.post(
        &format!("/thanks/values/{foreign_value}"),
        &[("name", "Mine now"), ("pillar", "value")],
    )
    .await
    .assert(404, "does not exist");
    let kept = hr
        .post(
            &format!("/thanks/values/{care}"),
            &[
                ("name", "Kindness"),
                ("description", "We are kind"),
                ("pillar", "acceptance"),
            ],
        )
        .await;
    assert_eq!(kept.status.as_u16(), 303);
    hr.get("/thanks/values").await.assert(200, "We are kind");
    let cook = app.signed_in("cook1@bars.example").await;
    cook.get("/thanks").await;
    let me = o.cooks[1].to_string();
    let friend = o.cooks[2].to_string();
    let long = "x".repeat(1001);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![("recipients", me.as_str()), ("message", "me")],
            "Who</a>: you cannot thank yourself",
        ),
        (
            vec![("recipients", stranger.as_str()), ("message", "hi")],
            "Who</a>: choose people of your organization",
        ),
        (
            vec![("recipients", gone.as_str()), ("message", "hi")],
            "Who</a>: someone chosen has left",
        ),
        (vec![("message", "nobody")], "Who</a>: choose at least one"),
        (vec![("recipients", "abc"), ("message", "hi")], "Who</a>:"),
        (
            vec![("recipients", friend.as_str()), ("message", "  ")],
            "Thank you for…</a>:",
        ),
        (
            vec![("recipients", friend.as_str()), ("message", long.as_str())],
            "Thank you for…</a>: at most 1000",
        ),
        (
            vec![
                ("recipients", friend.as_str()),
                ("value", foreign_value.as_str()),
                ("message", "hi"),
            ],
            "For which value</a>: choose one of the values",
        ),
        (
            vec![
                ("recipients", friend.as_str()),
                ("value", retired.as_str()),
                ("message", "hi"),
            ],
            "For which value</a>: choose one of the values",
        ),
    ];
    for (fields, message) in cases {
        cook.post("/thanks", &fields).await.assert(422, message);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM thank_yous").await, 0, "nothing stored");
    assert_eq!(app.count("SELECT COUNT(*) FROM thank_you_recipients").await, 0);

    cook.submit(
        "/thanks",
        &[("recipients", friend.as_str()), ("message", "For the soup")],
    )
    .await
    .assert(200, "Posted");
    let id: i64 = sqlx::query("SELECT id FROM thank_yous")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    let react = format!("/thanks/{id}/react");
    let barista = app.signed_in("barista0@bars.example").await;
    barista.get("/thanks").await;
    for _ in 0..2 {
        let page = barista
            .post(&react, &[("kind", "heart"), ("on", "true"), ("back", "/thanks?page=0")])
            .await;
        assert_eq!(page.status.as_u16(), 303);
        assert_eq!(page.location(), format!("/thanks?page=0#t{id}"));
    }
    // Nobody reacts to their own thank-you: the author sees the counts only.
    let own = cook.get("/thanks").await;
    assert!(
        !own.body.contains(&format!("action=\"/thanks/{id}/react\"")),
        "{}",
        own.body
    );
    cook.post(
        &react,
        &[("kind", "heart"), ("on", "true"), ("back", "https://evil.example/")],
    )
    .await
    .assert(409, "Reaction: you cannot react to your own thank-you");
    let second = app.signed_in("barista1@bars.example").await;
    second.get("/thanks").await;
    let off_site = second
        .post(
            &react,
            &[("kind", "heart"), ("on", "true"), ("back", "https://evil.example/")],
        )
        .await;
    off_site.assert(400, "not a thank-you board page of this site");
    let page = second
        .post(&react, &[("kind", "heart"), ("on", "true"), ("back", "/thanks")])
        .await;
    assert_eq!(page.status.as_u16(), 303);
    let count = |kind: &'static str| {
        let app = &app;
        async move {
            app.count(&format!(
                "SELECT COUNT(*) FROM thank_you_reactions WHERE thank_you_id = {id} AND kind = '{kind}'"
            ))
            .await
        }
    };
    assert_eq!(count("heart").await, 2, "one per person, however often");
    let board = barista.get("/thanks").await;
    assert!(
        board.body.contains("aria-label=\"Love: 2, yours among them\""),
        "{}",
        board.body
    );
    assert!(board.body.contains("aria-pressed=\"true\""));
    board.assert(200, "You reacted.");
    barista
        .post(&react, &[("kind", "heart"), ("on", "false"), ("back", "/thanks")])
        .await;
    barista
        .post(&react, &[("kind", "heart"), ("on", "false"), ("back", "/thanks")])
        .await;
    assert_eq!(count("heart").await, 1);
    barista
        .post(&react, &[("kind", "angry"), ("on", "true")])
        .await
        .assert(422, "Reaction:");
    barista
        .post(&react, &[("kind", "heart"), ("on", "maybe")])
        .await
        .assert(422, "Reaction:");
    // A thank-you of another organization cannot be reacted to.
    let otto = app.browser();
    app.person(other, "Otto", "otto@other.example", Role::Owner, None).await;
    otto.sign_in("other", "otto@other.example", PASSWORD).await;
    otto.post(&react, &[("kind", "smile"), ("on", "true")])
        .await
        .assert(404, "does not exist");
    assert_eq!(count("smile").await, 0);
    app.run_jobs().await;
}

async fn a_month_of_thank_yous_shows_in_the_managers_coverage(app: TestApp) {
    let o = org(&app).await;
    let cook1 = o.cooks[1];
    let post = |author: i64, to: Vec<i64>, message: &'static str| {
        let app = &app;
        let org = o.org;
        async move {
            let actor = belong::auth::Actor {
                org_id: org,
                person_id: author,
                role: Role::Employee,
            };
            let input = belong::recognition::service::ThanksInput {
                recipients: to.iter().map(|t| t.to_string()).collect(),
                value: String::new(),
                message: message.into(),
            };
            belong::recognition::service::post_thanks(&app.state, &actor, &input)
                .await
                .unwrap();
        }
    };
    // Seventy days ago Cook 2 was thanked; since then, over a month, Cook 1
    // and Cook 3 were, by baristas, and Cook 1 thanked the bar.
    post(o.baristas[0], vec![o.cooks[2]], "long ago").await;
    app.clock.advance(jiff::SignedDuration::from_hours(24 * 40));
    for day in 0..30 {
        match day % 10 {
            0 => post(o.baristas[day % 5], vec![cook1], "thanks").await,
            5 => post(o.baristas[1], vec![o.cooks[3]], "thanks").await,
            7 => post(cook1, vec![o.baristas[2], o.baristas[3]], "thanks").await,
            _ => {}
        }
        app.clock.advance(jiff::SignedDuration::from_hours(24));
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM thank_yous").await, 10);

    let kim = app.signed_in("kim@bars.example").await;
    let page = kim.get("/thanks/coverage").await;
    page.assert(200, "Not thanked in the last 60 days");
    // Cook 2 (thanked 70 days ago) and Cook 4 (never) are listed; Cook 1
    // and Cook 3 are not, nor is Kim herself.
    let table = &page.body[page.body.find("Not thanked").unwrap()..page.body.find("given and received").unwrap()];
    for (name, listed) in [
        ("Cook 2", true),
        ("Cook 4", true),
        ("Cook 1", false),
        ("Cook 3", false),
        ("Kim", false),
    ] {
        assert_eq!(table.contains(name), listed, "{name}: {table}");
    }
    assert!(table.contains("never"));
    let row = |body: &str, team: &str| -> (usize, usize) {
        let start = body.find(&format!("<th scope=\"row\">{team}</th>")).unwrap();
        let end = start + body[start..].find("</tr>").unwrap();
        let cells = &body[start..end];
        let mut given = 0;
        let mut received = 0;
        for cell in cells.split("<td>").skip(1) {
            let (g, rest) = cell.split_once(" given · ").unwrap();
            given += g.parse::<usize>().unwrap();
            received += rest.split(' ').next().unwrap().parse::<usize>().unwrap();
        }
        (given, received)
    };
    // Kitchen: gave 3 (Cook 1, each to two people); received 3 + 3, and
    // the old one to Cook 2, which is within the six months shown.
    assert_eq!(row(&page.body, "Kitchen"), (3, 7));
    assert!(
        !page.body.contains("<th scope=\"row\">Bar</th>"),
        "only the manager's teams"
    );
    // HR sees every team's counts and no names; employees see nothing.
    let hr = app.signed_in("hera@bars.example").await;
    let all = hr.get("/thanks/coverage").await;
    all.assert(200, "given and received");
    assert!(!all.body.contains("Not thanked") && !all.body.contains("Cook 4"));
    assert_eq!(row(&all.body, "Bar"), (7, 6));
    let cook = app.signed_in("cook2@bars.example").await;
    cook.get("/thanks/coverage").await.assert(403, "not allowed");
    // Thanking Cook 4 takes them off the list.
    post(o.baristas[4], vec![o.cooks[4]], "welcome").await;
    let after = kim.get("/thanks/coverage").await;
    let table = &after.body[after.body.find("Not thanked").unwrap()..after.body.find("given and received").unwrap()];
    assert!(!table.contains("Cook 4") && table.contains("Cook 2"));
    app.run_jobs().await;
}

async fn the_board_pages_newest_first(app: TestApp) {
    let o = org(&app).await;
    let actor = belong::auth::Actor {
        org_id: o.org,
        person_id: o.cooks[1],
        role: Role::Employee,
    };
    for i in 0..25 {
        let input = belong::recognition::service::ThanksInput {
            recipients: vec![o.cooks[2].to_string()],
            value: String::new(),
            message: format!("POST-{i:02}"),
        };
        belong::recognition::service::post_thanks(&app.state, &actor, &input)
            .await
            .unwrap();
        app.clock.advance(jiff::SignedDuration::from_mins(1));
    }
    let b = app.signed_in("cook3@bars.example").await;
    let first = b.get("/thanks").await;
    assert_eq!(first.body.matches("POST-").count(), 20);
    assert!(
        first.body.find("POST-24").unwrap() < first.body.find("POST-05").unwrap(),
        "newest first"
    );
    assert!(!first.body.contains("POST-04"));
    assert!(first.body.contains("page=1\">Older"));
    let second = b.get("/thanks?page=1").await;
    assert_eq!(second.body.matches("POST-").count(), 5);
    assert!(second.body.contains("POST-00") && second.body.contains("Newer"));
    assert!(!second.body.contains("\">Older"));
    app.run_jobs().await;
}

async fn an_employee_of_the_month_round_runs_from_nomination_to_winner_post(app: TestApp) {
    let o = org(&app).await;
    let hr = app.signed_in("hera@bars.example").await;
    let cook1 = app.signed_in("cook1@bars.example").await;
    cook1.get("/thanks/awards").await.assert(200, "No round yet");
    cook1
        .post("/thanks/awards", &[("title", "May")])
        .await
        .assert(403, "not allowed");
    hr.get("/thanks/awards").await;
    hr.post("/thanks/awards", &[("title", " ")])
        .await
        .assert(422, "Title</a>:");
    hr.submit("/thanks/awards", &[("title", "Employee of May")])
        .await
        .assert(200, "Nominations are open");
    hr.post("/thanks/awards", &[("title", "Another")])
        .await
        .assert(409, "a round is running");
    let round: i64 = sqlx::query("SELECT id FROM award_rounds")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    let path = |what: &str| format!("/thanks/awards/{round}/{what}");
    // Nothing to vote on yet.
    hr.post(&path("vote-open"), &[])
        .await
        .assert(409, "Nobody has been nominated");

    // Nominations: Cook 2 twice (from Cook 1 and Barista 0), Barista 3 once.
    let (cook2, barista3) = (o.cooks[2].to_string(), o.baristas[3].to_string());
    let me = o.cooks[1].to_string();
    cook1.get("/thanks/awards").await;
    cook1
        .post(&path("nominate"), &[("nominee", me.as_str()), ("reason", "me")])
        .await
        .assert(422, "Nominate</a>: you cannot nominate yourself");
    cook1
        .post(&path("nominate"), &[("nominee", cook2.as_str()), ("reason", " ")])
        .await
        .assert(422, "Why</a>:");
    cook1
        .submit(
            &path("nominate"),
            &[
                ("nominee", cook2.as_str()),
                ("reason", "Ran the kitchen alone in the rush"),
            ],
        )
        .await
        .assert(200, "Your nomination is in");
    cook1
        .post(&path("nominate"), &[("nominee", barista3.as_str()), ("reason", "also")])
        .await
        .assert(409, "nominated someone in this round already");
    let b0 = app.signed_in("barista0@bars.example").await;
    b0.get("/thanks/awards").await;
    b0.submit(
        &path("nominate"),
        &[("nominee", cook2.as_str()), ("reason", "Always calm")],
    )
    .await
    .assert(200, "nomination is in");
    let b1 = app.signed_in("barista1@bars.example").await;
    b1.get("/thanks/awards").await;
    b1.submit(
        &path("nominate"),
        &[("nominee", barista3.as_str()), ("reason", "New menu")],
    )
    .await
    .assert(200, "nomination is in");
    // Voting before the vote opens is refused.
    b1.post(&path("vote"), &[("nominee", cook2.as_str())])
        .await
        .assert(409, "not voting");
    hr.get("/thanks/awards").await;
    hr.submit(&path("vote-open"), &[]).await.assert(200, "The vote is open");
    b1.post(&path("nominate"), &[("nominee", cook2.as_str()), ("reason", "late")])
        .await
        .assert(409, "Nominations for this round are closed");

    // Votes: three for Cook 2, one for Barista 3; once each, secret.
    let outsider = o.cooks[4].to_string();
    cook1.get("/thanks/awards").await.assert(200, "Ran the kitchen alone");
    cook1
        .post(&path("vote"), &[("nominee", outsider.as_str())])
        .await
        .assert(422, "choose one of the nominees");
    cook1
        .submit(&path("vote"), &[("nominee", cook2.as_str())])
        .await
        .assert(200, "Your vote is in");
    cook1
        .post(&path("vote"), &[("nominee", barista3.as_str())])
        .await
        .assert(409, "voted in this round already");
    let cook2_browser = app.signed_in("cook2@bars.example").await;
    cook2_browser.get("/thanks/awards").await;
    cook2_browser
        .post(&path("vote"), &[("nominee", cook2.as_str())])
        .await
        .assert(422, "cannot vote for yourself");
    for (who, choice) in [
        ("barista0@bars.example", &cook2),
        ("barista2@bars.example", &cook2),
        ("cook3@bars.example", &barista3),
    ] {
        let b = app.signed_in(who).await;
        b.get("/thanks/awards").await;
        b.submit(&path("vote"), &[("nominee", choice.as_str())])
            .await
            .assert(200, "Your vote is in");
    }
    // Nobody sees counts while voting, and the ballots name no voter.
    assert!(!hr.get("/thanks/awards").await.body.contains("vote(s)"));
    assert_eq!(app.count("SELECT COUNT(*) FROM award_ballots").await, 4);
    assert_eq!(app.count("SELECT COUNT(*) FROM award_voters").await, 4);
    let ballot_columns = app.columns("award_ballots").await;
    assert_eq!(ballot_columns, ["id", "nominee_id", "org_id", "round_id"]);

    // HR closes: Cook 2 wins and is on the board; counts show to HR only.
    cook1
        .post(&path("close"), &[("confirm", "yes")])
        .await
        .assert(403, "not allowed");
    hr.get("/thanks/awards").await;
    hr.post(&path("close"), &[])
        .await
        .assert(200, "Close this vote?")
        .assert(200, "cannot be undone");
    assert!(!cook1.get("/thanks").await.body.contains("Employee of May: Cook 2"));
    hr.get("/thanks/awards").await;
    hr.submit(&path("close"), &[("confirm", "yes")])
        .await
        .assert(200, "The vote is closed")
        .assert(200, "3 vote(s)")
        .assert(200, "1 vote(s)");
    assert!(!cook1.get("/thanks/awards").await.body.contains("vote(s)"));
    let board = cook1.get("/thanks").await;
    board
        .assert(200, "Employee of the month")
        .assert(200, "Employee of May: Cook 2")
        .assert(200, "Ran the kitchen alone in the rush");
    hr.post(&path("close"), &[("confirm", "yes")])
        .await
        .assert(409, "Only a round that is voting");
    // A new round may open now; a tie needs HR to choose.
    hr.submit("/thanks/awards", &[("title", "Employee of June")])
        .await
        .assert(200, "Nominations are open");
    let june: i64 = sqlx::query("SELECT id FROM award_rounds WHERE title = 'Employee of June'")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    let june_path = |what: &str| format!("/thanks/awards/{june}/{what}");
    cook1.get("/thanks/awards").await;
    cook1
        .post(
            &june_path("nominate"),
            &[("nominee", cook2.as_str()), ("reason", "again")],
        )
        .await;
    b1.get("/thanks/awards").await;
    b1.post(
        &june_path("nominate"),
        &[("nominee", barista3.as_str()), ("reason", "again")],
    )
    .await;
    hr.get("/thanks/awards").await;
    hr.post(&june_path("vote-open"), &[]).await;
    cook1.get("/thanks/awards").await;
    cook1.post(&june_path("vote"), &[("nominee", cook2.as_str())]).await;
    b1.get("/thanks/awards").await;
    b1.post(&june_path("vote"), &[("nominee", barista3.as_str())]).await;
    hr.get("/thanks/awards").await;
    hr.post(&june_path("close"), &[("confirm", "yes")])
        .await
        .assert(409, "a tie between Barista 3 (1 vote) and Cook 2 (1 vote)")
        .assert(409, "On a tie, the winner");
    hr.submit(
        &june_path("close"),
        &[("winner", barista3.as_str()), ("confirm", "yes")],
    )
    .await
    .assert(200, "Winner: Barista 3");
    app.run_jobs().await;
}

/// "My data" has every thank-you a person wrote or received, their
/// reactions, their nominations and the rounds they voted in; a nominee
/// does not learn who nominated them, and nobody's export says whom they
/// voted for.
async fn my_data_holds_thank_yous_and_nominations_but_never_a_vote(app: TestApp) {
    let o = org(&app).await;
    let (cook2, barista3) = (o.cooks[2].to_string(), o.baristas[3].to_string());
    let cook1 = app.signed_in("cook1@bars.example").await;
    cook1.get("/thanks").await;
    cook1
        .submit(
            "/thanks",
            &[("recipients", cook2.as_str()), ("message", "THANKS-FOR-THE-SOUP")],
        )
        .await
        .assert(200, "Posted");
    let id: i64 = sqlx::query("SELECT id FROM thank_yous")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    let cook2_browser = app.signed_in("cook2@bars.example").await;
    cook2_browser.get("/thanks").await;
    let reacted = cook2_browser
        .post(
            &format!("/thanks/{id}/react"),
            &[("kind", "heart"), ("on", "true"), ("back", "/thanks")],
        )
        .await;
    assert_eq!(reacted.status.as_u16(), 303);
    let hr = app.signed_in("hera@bars.example").await;
    hr.get("/thanks/awards").await;
    hr.submit("/thanks/awards", &[("title", "Employee of May")])
        .await
        .assert(200, "Nominations are open");
    let round: i64 = sqlx::query("SELECT id FROM award_rounds")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    let path = |what: &str| format!("/thanks/awards/{round}/{what}");
    cook1.get("/thanks/awards").await;
    cook1
        .submit(
            &path("nominate"),
            &[("nominee", cook2.as_str()), ("reason", "NOMINATED-SOUP")],
        )
        .await
        .assert(200, "Your nomination is in");
    let b1 = app.signed_in("barista1@bars.example").await;
    b1.get("/thanks/awards").await;
    b1.submit(
        &path("nominate"),
        &[("nominee", barista3.as_str()), ("reason", "New menu")],
    )
    .await
    .assert(200, "nomination is in");
    hr.get("/thanks/awards").await;
    hr.submit(&path("vote-open"), &[]).await.assert(200, "The vote is open");
    // Cook 1 nominated Cook 2 but votes for Barista 3.
    cook1.get("/thanks/awards").await;
    cook1
        .submit(&path("vote"), &[("nominee", barista3.as_str())])
        .await
        .assert(200, "Your vote is in");

    let mine = cook1.get("/account/data").await;
    mine.assert(200, "THANKS-FOR-THE-SOUP").assert(200, "NOMINATED-SOUP");
    mine.assert(200, "Rounds you voted in: Employee of May");
    let json: serde_json::Value = serde_json::from_str(&cook1.get("/account/data.json").await.body).unwrap();
    assert_eq!(json["thanks_given"][0]["message"], "THANKS-FOR-THE-SOUP");
    assert_eq!(json["thanks_given"][0]["to"], serde_json::json!(["Cook 2"]));
    assert_eq!(json["thanks_received"], serde_json::json!([]));
    assert_eq!(json["nominations_made"][0]["nominee"], "Cook 2");
    assert_eq!(json["rounds_voted_in"], serde_json::json!(["Employee of May"]));
    let text = json.to_string();
    assert!(
        !text.contains("Barista 3") && !text.contains(&barista3),
        "the vote shows: {text}"
    );

    let theirs: serde_json::Value = serde_json::from_str(&cook2_browser.get("/account/data.json").await.body).unwrap();
    assert_eq!(theirs["thanks_received"][0]["from"], "Cook 1");
    assert_eq!(theirs["thanks_received"][0]["message"], "THANKS-FOR-THE-SOUP");
    assert_eq!(theirs["reactions_given"], 1);
    assert_eq!(theirs["nominations_received"][0]["reason"], "NOMINATED-SOUP");
    assert_eq!(theirs["rounds_voted_in"], serde_json::json!([]));
    let nominated = theirs["nominations_received"].to_string();
    assert!(
        !nominated.contains("Cook 1") && !nominated.contains("nominee"),
        "{nominated}"
    );
    // A stored phase that does not read fails the page; it is not "nominating".
    sqlx::query("UPDATE award_rounds SET phase = 'lost'")
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let actor = belong::auth::Actor {
        org_id: o.org,
        person_id: o.cooks[1],
        role: Role::Employee,
    };
    let rounds = belong::recognition::awards::rounds(&app.state, &actor).await;
    assert!(
        matches!(rounds, Err(belong::error::AppError::Internal(_))),
        "{rounds:?}"
    );
    app.run_jobs().await;
}
