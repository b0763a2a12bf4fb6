//! An empty installation set up from the browser, once, by whoever can
//! read the server's console; and people invited by email as they are
//! added or imported.

use std::sync::Arc;

use belong::auth::Role;
use belong::org::model::{Email, OrgName, PersonName, TimeZoneName};

use crate::helpers::{Browser, SmtpSink, TestApp, both_databases, both_databases_threaded, free_port, link_path};

both_databases!(
    the_first_visit_sets_up_the_organization_once_with_the_console_code,
    guessing_the_setup_code_is_limited,
    people_added_or_imported_are_invited_when_asked_and_email_works,
    with_email_off_nobody_is_promised_an_invitation,
);

both_databases_threaded!(two_set_ups_at_once_make_one_organization);

const SECRET: &str = "a long enough secret";

fn code(app: &TestApp) -> String {
    app.state.part::<belong::org::setup::SetupCode>().shown().to_owned()
}

fn setup_fields<'a>(code: &'a str, email: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("code", code),
        ("org_name", "Bars Co"),
        ("name", "Olga Owner"),
        ("email", email),
        ("password", SECRET),
        ("confirm", SECRET),
        ("time_zone", "Europe/Lisbon"),
    ]
}

async fn the_first_visit_sets_up_the_organization_once_with_the_console_code(app: TestApp) {
    let b = app.browser();
    // Nobody to sign in yet: the sign-in page sends the visitor to set up.
    let first = b.get("/signin").await;
    assert_eq!(first.status, 303);
    assert_eq!(first.location(), "/setup");
    b.get("/setup")
        .await
        .assert(200, "Set up belong")
        .assert(200, "Europe/Lisbon");
    // Without the console's code nothing is made, whatever else is right.
    let wrong = b.post("/setup", &setup_fields("ZZZZ-ZZZZ", "olga@bars.example")).await;
    wrong.assert(
        422,
        "Setup code</a>: this is not the code printed where belong was started",
    );
    assert!(!wrong.body.contains(SECRET), "a password is never sent back");
    assert!(!wrong.body.contains(&code(&app)), "the code is not on the page");
    assert_eq!(app.count("SELECT COUNT(*) FROM organizations").await, 0);
    // The right code, typed as people type it, sets up and signs in.
    let typed = code(&app).to_lowercase().replace('-', " ");
    let made = b.post("/setup", &setup_fields(&typed, "Olga@Bars.example")).await;
    assert_eq!(made.status, 303, "{}", made.body);
    assert_eq!(made.location(), "/");
    b.get("/")
        .await
        .assert(200, "Hello, Olga Owner")
        .assert(200, "Set up Bars Co")
        .assert(200, "0 of 5 done");
    assert_eq!(app.count("SELECT COUNT(*) FROM organizations").await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM people WHERE role = 'owner' AND must_change_password = 0")
            .await,
        1,
        "the owner chose their password: nothing to change"
    );
    // The owner signs in again with it; the set-up page is gone for good.
    let again = app.browser();
    again.sign_in("bars-co", "olga@bars.example", SECRET).await;
    again.get("/").await.assert(200, "Hello, Olga Owner");
    let visitor = app.browser();
    visitor.get("/setup").await.assert(404, "Page not found");
    visitor.get("/signin").await.assert(200, "Sign in");
    let late = visitor
        .post("/setup", &setup_fields(&code(&app), "eve@evil.example"))
        .await;
    assert_eq!(late.status, 404, "{}", late.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM people").await, 1);
    app.run_jobs().await;
}

async fn guessing_the_setup_code_is_limited(app: TestApp) {
    let b = app.browser();
    b.get("/setup").await;
    let mut limited = false;
    for i in 0..12 {
        let guess = format!("AAAA-AA{:02}", i);
        let page = b.post("/setup", &setup_fields(&guess, "olga@bars.example")).await;
        if page.status == 429 {
            assert!(page.headers.contains_key("retry-after"));
            page.assert(429, "Too many attempts");
            limited = true;
            break;
        }
        page.assert(422, "Setup code</a>:");
    }
    assert!(limited, "a dozen wrong codes in a row were not limited");
    // Even the right code waits now: the limit is on tries, not on luck.
    let right = b.post("/setup", &setup_fields(&code(&app), "olga@bars.example")).await;
    assert_eq!(right.status, 429);
    app.clock.advance(jiff::SignedDuration::from_mins(2));
    let right = b.post("/setup", &setup_fields(&code(&app), "olga@bars.example")).await;
    assert_eq!(right.status, 303, "{}", right.body);
    app.run_jobs().await;
}

/// Two visitors with the code submit at the same moment: one organization.
async fn two_set_ups_at_once_make_one_organization(app: TestApp) {
    let app = Arc::new(app);
    let set_up = |name: &'static str| {
        let app = app.clone();
        tokio::spawn(async move {
            belong::org::service::set_up_first_org(
                &app.state,
                &OrgName::parse(name).unwrap(),
                &PersonName::parse("Olga Owner").unwrap(),
                &Email::parse("olga@bars.example").unwrap(),
                &TimeZoneName::parse("UTC").unwrap(),
                &belong::auth::password::Password::parse(SECRET).unwrap(),
            )
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
        })
    };
    for round in 0..30 {
        let (a, b) = (set_up("Alpha Co"), set_up("Beta Co"));
        let (a, b) = (a.await.unwrap(), b.await.unwrap());
        assert!(
            a.is_ok() != b.is_ok(),
            "round {round}: exactly one is set up: {a:?} {b:?}"
        );
        let refused = a.err().or(b.err()).unwrap();
        assert!(refused.contains("set up already"), "{refused}");
        assert_eq!(
            app.count("SELECT COUNT(*) FROM organizations").await,
            1,
            "round {round}"
        );
        for table in ["people", "organizations"] {
            sqlx::query(&format!("DELETE FROM {table}"))
                .execute(&app.state.db.pool)
                .await
                .unwrap();
        }
    }
}

async fn people_added_or_imported_are_invited_when_asked_and_email_works(app: TestApp) {
    let smtp = SmtpSink::start(free_port(), 0);
    let app = app.with_mail(smtp.port).await;
    let org = app.org("Bars Co", "bars-co").await;
    app.person(org, "Hera Hr", "hera@bars.example", Role::HrAdmin, None)
        .await;
    let hr = app.signed_in("hera@bars.example").await;
    hr.get("/people/new")
        .await
        .assert(200, "Send them an invitation email with a sign-in link")
        .assert(200, "name=\"invite\" value=\"on\" checked");
    let person = |name: &'static str, email: &'static str, invite: &'static str| {
        vec![
            ("name", name),
            ("email", email),
            ("role", "employee"),
            ("time_zone", "Europe/Berlin"),
            ("invite", invite),
        ]
    };
    // Asked: invited. Unticked: not.
    assert_eq!(
        hr.post("/people", &person("Ana Cook", "ana@bars.example", "on"))
            .await
            .status,
        303
    );
    assert_eq!(
        hr.post("/people", &person("Bo Cook", "bo@bars.example", ""))
            .await
            .status,
        303
    );
    // A refused form invites nobody.
    hr.post("/people", &person("", "cy@bars.example", "on"))
        .await
        .assert(422, "Name</a>:");
    belong::jobs::run_due(&app.state, "t").await.unwrap();
    let mails = smtp.received();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].to, "ana@bars.example");
    assert_eq!(mails[0].subject, "Hera Hr invites you to belong for Bars Co");
    assert!(mails[0].text.contains("within 7 days"));
    assert!(mails[0].html.contains("Sign in"));
    // The link signs Ana in, once, within a week.
    let link = link_path(&mails[0].text, "/signin/link/").unwrap();
    app.clock.advance(jiff::SignedDuration::from_hours(6 * 24));
    let ana = app.browser();
    ana.get(&link).await.assert(200, "Sign in");
    let signed = ana.post(&link, &[]).await;
    assert_eq!(signed.status, 303, "{}", signed.body);
    ana.get("/").await.assert(200, "Hello, Ana Cook");
    let other = app.browser();
    other.get(&link).await;
    other.post(&link, &[]).await.assert(410, "used already or has expired");

    // Imported people, invited from the preview's choice.
    hr.get("/import").await;
    let csv = "name,email\nDee Cook,dee@bars.example\nEd Cook,ed@bars.example\nAna Cook,ana@bars.example\n";
    let preview = hr.upload("/import", "people.csv", csv.as_bytes().to_vec()).await;
    preview.assert(200, "Send each person added an invitation email");
    let batch = preview.action("/import/");
    let done = hr
        .submit(&format!("/import/{batch}"), &[("mode", "all"), ("invite", "on")])
        .await;
    done.assert(
        200,
        "Import done: 2 people added, 0 updated, 1 unchanged. 2 invitations are on their way.",
    );
    belong::jobs::run_due(&app.state, "t").await.unwrap();
    let mut invited: Vec<String> = smtp.received()[1..].iter().map(|m| m.to.clone()).collect();
    invited.sort();
    assert_eq!(
        invited,
        ["dee@bars.example", "ed@bars.example"],
        "only the people added"
    );

    // A week and a day on, an invitation no longer works.
    app.clock.advance(jiff::SignedDuration::from_hours(8 * 24));
    let late = link_path(&smtp.received()[1].text, "/signin/link/").unwrap();
    let dee = app.browser();
    dee.get(&late).await;
    dee.post(&late, &[]).await.assert(410, "used already or has expired");
    app.run_jobs().await;
}

async fn with_email_off_nobody_is_promised_an_invitation(app: TestApp) {
    let org = app.org("Bars Co", "bars-co").await;
    app.person(org, "Hera Hr", "hera@bars.example", Role::HrAdmin, None)
        .await;
    let hr: Browser = app.signed_in("hera@bars.example").await;
    let page = hr.get("/people/new").await;
    page.assert(200, "Email is off on this server, so no invitation is sent");
    assert!(!page.body.contains("name=\"invite\""));
    let added = hr
        .post(
            "/people",
            &[
                ("name", "Ana Cook"),
                ("email", "ana@bars.example"),
                ("role", "employee"),
                ("time_zone", "Europe/Berlin"),
                ("invite", "on"),
            ],
        )
        .await;
    assert_eq!(added.status, 303);
    assert_eq!(app.count("SELECT COUNT(*) FROM jobs").await, 0, "no email queued");
    assert_eq!(app.count("SELECT COUNT(*) FROM magic_links").await, 0, "no link made");
    hr.get("/import").await;
    let preview = hr
        .upload(
            "/import",
            "people.csv",
            b"name,email\nDee Cook,dee@bars.example\n".to_vec(),
        )
        .await;
    preview.assert(
        200,
        "Email is off on this server, so the people added get no invitation",
    );
    // Nor does the sign-in page offer a link by email that would not come.
    let signin = app.browser().get("/signin").await;
    signin.assert(200, "it cannot send you a sign-in link");
    assert!(!signin.body.contains("Email me a sign-in link"));
    app.run_jobs().await;
}
