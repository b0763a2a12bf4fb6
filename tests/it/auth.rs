//! Sign-in, sessions, CSRF, throttling and role checks.

use belong::auth::Role;
use belong::org::demo;

use crate::helpers::{PASSWORD, TestApp, both_databases};

both_databases!(
    demo_person_signs_in_and_sees_their_team,
    wrong_password_is_refused_without_saying_which_part_was_wrong,
    failed_sign_ins_are_limited_per_account,
    failed_sign_ins_are_limited_per_address_across_accounts,
    forms_without_the_session_csrf_token_are_refused,
    sign_out_ends_the_session_on_the_server,
    employees_and_managers_cannot_manage_people,
    one_time_password_must_be_replaced_at_first_sign_in,
    health_check_answers_when_the_database_does,
);

async fn demo_person_signs_in_and_sees_their_team(app: TestApp) {
    assert!(belong::modules::seed_demo_if_empty(&app.state).await.unwrap());
    assert!(
        !belong::modules::seed_demo_if_empty(&app.state).await.unwrap(),
        "seeding twice adds nothing"
    );
    assert!(app.count("SELECT COUNT(*) FROM people").await >= 40);
    assert!(
        app.count("SELECT COUNT(*) FROM teams WHERE parent_id IS NOT NULL")
            .await
            >= 6
    );
    assert!(
        app.count("SELECT COUNT(*) FROM people WHERE end_date IS NOT NULL")
            .await
            >= 3
    );

    let b = app.browser();
    let form = b.get("/signin").await;
    form.assert(200, "value=\"fernhill-studio\"");
    b.sign_in(demo::ORG_SLUG, demo::EMPLOYEE_EMAIL, demo::PASSWORD).await;
    let home = b.get("/").await;
    home.assert(200, "Hello, Tomas Novak");
    home.assert(200, "Product &amp; Engineering / Platform");
    home.assert(200, "Lena Fischer");
    home.assert(200, "Priya Raman");
    app.run_jobs().await;
}

async fn wrong_password_is_refused_without_saying_which_part_was_wrong(app: TestApp) {
    let org = app.org("Bars Co", "bars-co").await;
    app.person(org, "Ana", "ana@bars.example", Role::Employee, None).await;
    let b = app.browser();
    b.get("/signin").await;
    let wrong_pw = b.post_sign_in("bars-co", "ana@bars.example", "not the password").await;
    let no_user = b
        .post_sign_in("bars-co", "nobody@bars.example", "not the password")
        .await;
    let no_org = b.post_sign_in("nope", "ana@bars.example", PASSWORD).await;
    for page in [&wrong_pw, &no_user, &no_org] {
        page.assert(401, "do not match an active account");
    }
    assert!(b.cookie("belong_session").is_none());
    let empty = b.post_sign_in("bars-co", "", "x").await;
    empty.assert(422, "Email</a>: enter your email address");
    // Case and spaces in the email do not matter.
    b.sign_in("bars-co", "  ANA@Bars.Example ", PASSWORD).await;
    b.get("/").await.assert(200, "Hello, Ana");
}

async fn failed_sign_ins_are_limited_per_account(app: TestApp) {
    let org = app.org("Bars Co", "bars-co").await;
    app.person(org, "Ana", "ana@bars.example", Role::Employee, None).await;
    let b = app.browser();
    b.get("/signin").await;
    for _ in 0..belong::auth::throttle::ACCOUNT_LIMIT {
        b.post_sign_in("bars-co", "ana@bars.example", "guess guess guess")
            .await
            .assert(401, "do not match");
    }
    // Now even the right password waits for the delay to pass.
    let limited = b.post_sign_in("bars-co", "ana@bars.example", PASSWORD).await;
    limited.assert(429, "Too many failed attempts");
    let retry: i64 = limited.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry > 0 && retry <= belong::limits::MAX_DELAY);
    assert!(b.cookie("belong_session").is_none());
    // Once it has passed, the real owner gets in: a delay, not a lock-out.
    app.clock.advance(jiff::SignedDuration::from_secs(retry));
    let in_again = b.post_sign_in("bars-co", "ana@bars.example", PASSWORD).await;
    assert_eq!(in_again.status, 303, "{}", in_again.body);
    // Another wrong guess after that starts from zero again.
    b.get("/signin").await;
    b.post_sign_in("bars-co", "ana@bars.example", "guess guess guess")
        .await
        .assert(401, "do not match");
}

async fn failed_sign_ins_are_limited_per_address_across_accounts(app: TestApp) {
    let org = app.org("Bars Co", "bars-co").await;
    app.person(org, "Ana", "ana@bars.example", Role::Employee, None).await;
    let b = app.browser();
    b.get("/signin").await;
    // Spraying many accounts from one address trips the address limit,
    // though no single account reaches its own.
    for i in 0..belong::auth::throttle::IP_LIMIT {
        let email = format!("guess{i}@bars.example");
        b.post_sign_in("bars-co", &email, "guess guess")
            .await
            .assert(401, "do not match");
    }
    b.post_sign_in("bars-co", "ana@bars.example", PASSWORD)
        .await
        .assert(429, "Too many failed attempts");
}

async fn forms_without_the_session_csrf_token_are_refused(app: TestApp) {
    let org = app.org("Bars Co", "bars-co").await;
    app.person(org, "Hera", "hera@bars.example", Role::HrAdmin, None).await;

    // Sign-in itself needs the pre-session token.
    let b = app.browser();
    b.get("/signin").await;
    let no_token = b
        .post_raw(
            "/signin",
            &[
                ("org", "bars-co"),
                ("email", "hera@bars.example"),
                ("password", PASSWORD),
            ],
        )
        .await;
    no_token.assert(403, "This form has expired");

    b.sign_in("bars-co", "hera@bars.example", PASSWORD).await;
    let before = app.count("SELECT COUNT(*) FROM teams").await;
    b.post_raw("/teams", &[("name", "Sneaky")])
        .await
        .assert(403, "another site");
    b.post_raw("/teams", &[("csrf", "0".repeat(64).as_str()), ("name", "Sneaky")])
        .await
        .assert(403, "This form has expired");
    // The pre-session token of another visitor does not work either.
    let other = app.browser();
    other.get("/signin").await;
    b.post_raw("/teams", &[("csrf", other.csrf().as_str()), ("name", "Sneaky")])
        .await
        .assert(403, "This form has expired");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM teams").await,
        before,
        "nothing was written"
    );
    // With the right token it works.
    b.get("/teams").await;
    b.post("/teams", &[("name", "Real")]).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM teams").await, before + 1);
}

async fn sign_out_ends_the_session_on_the_server(app: TestApp) {
    let org = app.org("Bars Co", "bars-co").await;
    app.person(org, "Ana", "ana@bars.example", Role::Employee, None).await;
    let b = app.signed_in("ana@bars.example").await;
    let token = b.cookie("belong_session").unwrap();
    let set = b.get("/").await;
    set.assert(200, "Sign out");
    let out = b.post("/signout", &[]).await;
    assert_eq!(out.status, 303);
    assert_eq!(out.location(), "/signin");
    assert!(b.cookie("belong_session").is_none());
    // Replaying the old cookie does not bring the session back.
    let replay = app.browser();
    replay.set_cookie("belong_session", &token);
    let page = replay.get("/").await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location(), "/signin");
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 0);

    // Signing in returns to the page that was asked for, on this server
    // only.
    let asked = replay.get("/pulse?x=1").await;
    assert_eq!(asked.location(), "/signin?next=%2Fpulse%3Fx%3D1");
    replay
        .get(asked.location())
        .await
        .assert(200, r#"name="next" value="/pulse?x=1""#);
    let back = replay
        .post(
            "/signin",
            &[
                ("org", "bars-co"),
                ("email", "ana@bars.example"),
                ("password", PASSWORD),
                ("next", "/pulse?x=1"),
            ],
        )
        .await;
    assert_eq!(back.location(), "/pulse?x=1");
    for elsewhere in ["//evil.example/", "https://evil.example/", "/signin", "/\\evil.example"] {
        let b = app.browser();
        b.get("/signin").await;
        let page = b
            .post(
                "/signin",
                &[
                    ("org", "bars-co"),
                    ("email", "ana@bars.example"),
                    ("password", PASSWORD),
                    ("next", elsewhere),
                ],
            )
            .await;
        assert_eq!(page.location(), "/", "{elsewhere}");
    }
}

async fn employees_and_managers_cannot_manage_people(app: TestApp) {
    let org = app.org("Bars Co", "bars-co").await;
    let team = app.team(org, "Kitchen", None).await;
    let ana = app
        .person(org, "Ana", "ana@bars.example", Role::Employee, Some(team))
        .await;
    app.person(org, "Mo", "mo@bars.example", Role::Manager, Some(team))
        .await;
    app.person(org, "Hera", "hera@bars.example", Role::HrAdmin, None).await;
    for email in ["ana@bars.example", "mo@bars.example"] {
        let b = app.signed_in(email).await;
        for path in [
            "/people",
            "/people/new",
            "/teams",
            "/import",
            &format!("/people/{ana}"),
            &format!("/teams/{team}"),
        ] {
            b.get(path).await.assert(403, "not allowed");
        }
        b.post("/teams", &[("name", "Mine")]).await.assert(403, "not allowed");
        b.post(
            &format!("/people/{ana}/deactivate"),
            &[("end_date", "2026-01-01"), ("reason", "other"), ("confirm", "yes")],
        )
        .await
        .assert(403, "not allowed");
        let home = b.get("/").await;
        assert!(!home.body.contains("href=\"/people\""), "no admin links for {email}");
    }
    let hr = app.signed_in("hera@bars.example").await;
    hr.get("/people").await.assert(200, "Ana");
    assert_eq!(app.count("SELECT COUNT(*) FROM teams").await, 1);
}

async fn one_time_password_must_be_replaced_at_first_sign_in(app: TestApp) {
    let name = belong::org::model::OrgName::parse("Bars Co").unwrap();
    let made = belong::org::service::create_org(
        &app.state,
        &name,
        &belong::org::model::PersonName::parse("Olu Owner").unwrap(),
        &belong::org::model::Email::parse("olu@bars.example").unwrap(),
        &belong::org::model::TimeZoneName::parse("Africa/Lagos").unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(made.org.slug, "bars-co");
    let b = app.browser();
    b.get("/signin").await;
    let first = b
        .post(
            "/signin",
            &[
                ("org", "bars-co"),
                ("email", "olu@bars.example"),
                ("password", made.owner_password.expose()),
            ],
        )
        .await;
    assert_eq!(first.location(), "/account/password");
    // Every other page sends them back to choose a password.
    assert_eq!(b.get("/people").await.location(), "/account/password");
    b.get("/account/password").await.assert(200, "one-time password");
    b.post(
        "/account/password",
        &[
            ("current", made.owner_password.expose()),
            ("new", "short"),
            ("confirm", "short"),
        ],
    )
    .await
    .assert(422, "at least 10 characters");
    b.post(
        "/account/password",
        &[("current", "wrong one here"), ("new", PASSWORD), ("confirm", PASSWORD)],
    )
    .await
    .assert(422, "current");
    b.post(
        "/account/password",
        &[
            ("current", made.owner_password.expose()),
            ("new", PASSWORD),
            ("confirm", "different!!"),
        ],
    )
    .await
    .assert(422, "differ");
    b.submit(
        "/account/password",
        &[
            ("current", made.owner_password.expose()),
            ("new", PASSWORD),
            ("confirm", PASSWORD),
        ],
    )
    .await
    .assert(200, "Your password is changed");
    b.get("/people").await.assert(200, "Olu Owner");
    // The one-time password no longer works; the new one does.
    let again = app.browser();
    again.get("/signin").await;
    again
        .post(
            "/signin",
            &[
                ("org", "bars-co"),
                ("email", "olu@bars.example"),
                ("password", made.owner_password.expose()),
            ],
        )
        .await
        .assert(401, "do not match");
    again.sign_in("bars-co", "olu@bars.example", PASSWORD).await;
}

async fn health_check_answers_when_the_database_does(app: TestApp) {
    let b = app.browser();
    b.get("/healthz").await.assert(200, "ok");
    b.get("/no/such/page").await.assert(404, "does not exist");
    let css = b.get("/assets/style.css").await;
    assert_eq!(css.headers["content-type"], "text/css; charset=utf-8");
    app.state.db.close().await;
    assert_eq!(b.get("/healthz").await.status, 503);
}
