//! What a careless or hostile request must not do: redirect elsewhere,
//! plant a spreadsheet formula, keep a page in a cache, slip past a
//! permission check with a malformed body, or outlive a password change.

use belong::auth::Role;
use belong::org::demo;
use serde_json::json;

use crate::helpers::{Api, PASSWORD, TestApp, both_databases, token_for};

both_databases!(
    redirect_targets_stay_on_this_site,
    csv_exports_never_start_a_cell_with_a_formula,
    pages_and_downloads_are_never_cached,
    api_checks_permission_before_the_body_and_wants_an_object,
    signing_in_again_ends_the_old_session_and_a_new_password_offers_to_revoke_tokens,
    chat_webhooks_reach_only_public_https_addresses,
    feedback_limits_leave_no_row_that_points_at_the_sender,
);

async fn redirect_targets_stay_on_this_site(app: TestApp) {
    belong::modules::seed_demo_if_empty(&app.state).await.unwrap();
    let thanks = app.count("SELECT MAX(id) FROM thank_yous").await;
    let b = app.browser();
    b.sign_in(demo::ORG_SLUG, demo::EMPLOYEE_EMAIL, demo::PASSWORD).await;
    b.get("/thanks").await;
    let react = format!("/thanks/{thanks}/react");
    for bad in [
        "/thanks\u{1}x",
        "/thanks\r\nSet-Cookie: x=1",
        "//evil.example/thanks",
        "https://evil.example/",
        "/people",
    ] {
        let page = b
            .post(&react, &[("kind", "heart"), ("on", "true"), ("back", bad)])
            .await;
        page.assert(400, "not a thank-you board page of this site");
    }
    let page = b
        .post(&react, &[("kind", "heart"), ("on", "true"), ("back", "/thanks?page=1")])
        .await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location(), format!("/thanks?page=1#t{thanks}"));
    app.run_jobs().await;
}

async fn csv_exports_never_start_a_cell_with_a_formula(app: TestApp) {
    belong::modules::seed_demo_if_empty(&app.state).await.unwrap();
    for (i, evil) in ["=HYPERLINK(\"http://evil.example\")", "+1+1", "@SUM(1)", "-2+3"]
        .iter()
        .enumerate()
    {
        // Top-level teams, so that the label starts with the name.
        sqlx::query(
            "UPDATE teams SET name = $1 WHERE id = (SELECT id FROM teams WHERE parent_id IS NULL ORDER BY id LIMIT 1 OFFSET $2)",
        )
            .bind(evil)
            .bind(i as i64)
            .execute(&app.state.db.pool)
            .await
            .unwrap();
    }
    let cycle = app
        .count("SELECT MAX(id) FROM cycles WHERE closed_at IS NOT NULL")
        .await;
    let b = app.browser();
    b.sign_in(demo::ORG_SLUG, demo::OWNER_EMAIL, demo::PASSWORD).await;
    let csv = b.get(&format!("/pulse/cycles/{cycle}/export.csv")).await;
    assert_eq!(csv.status, 200);
    let mut reader = csv::Reader::from_reader(csv.body.as_bytes());
    let mut seen_evil = 0;
    for record in reader.records() {
        for cell in record.unwrap().iter() {
            let runs = cell.starts_with(['=', '+', '@', '\t', '\r'])
                || (cell.starts_with('-') && cell.parse::<f64>().is_err());
            assert!(!runs, "a cell that a spreadsheet runs: {cell:?}");
            if cell.starts_with("'=") || cell.starts_with("'+") || cell.starts_with("'@") || cell.starts_with("'-") {
                seen_evil += 1;
            }
        }
    }
    assert!(
        seen_evil > 0,
        "the renamed teams are in the export, neutralized: {}",
        csv.body
    );

    // An employee may not download results at all; another org's cycle
    // is not found.
    let e = app.browser();
    e.sign_in(demo::ORG_SLUG, demo::EMPLOYEE_EMAIL, demo::PASSWORD).await;
    e.get(&format!("/pulse/cycles/{cycle}/export.csv"))
        .await
        .assert(403, "");
    let other = app.org("Other", "other").await;
    app.person(other, "Out", "out@other.example", Role::Owner, None).await;
    let o = app.browser();
    o.sign_in("other", "out@other.example", PASSWORD).await;
    assert_eq!(o.get(&format!("/pulse/cycles/{cycle}/export.csv")).await.status, 404);
    app.run_jobs().await;
}

async fn pages_and_downloads_are_never_cached(app: TestApp) {
    belong::modules::seed_demo_if_empty(&app.state).await.unwrap();
    let cycle = app
        .count("SELECT MAX(id) FROM cycles WHERE closed_at IS NOT NULL")
        .await;
    let b = app.browser();
    b.sign_in(demo::ORG_SLUG, demo::OWNER_EMAIL, demo::PASSWORD).await;
    for path in [
        "/".to_owned(),
        "/people".into(),
        "/account/data.json".into(),
        format!("/pulse/cycles/{cycle}"),
        format!("/pulse/cycles/{cycle}/export.csv"),
        "/signin".into(),
    ] {
        let page = b.get(&path).await;
        assert_eq!(page.headers["cache-control"], "no-store", "{path}");
        assert_eq!(
            page.headers["strict-transport-security"], "max-age=31536000",
            "{path}: secure cookies mean TLS in front"
        );
    }
    let owner = app
        .count(&format!("SELECT id FROM people WHERE email = '{}'", demo::OWNER_EMAIL))
        .await;
    let org = app.count("SELECT id FROM organizations").await;
    let api = Api::new(&app, &token_for(&app, org, owner).await);
    assert_eq!(api.get("/api/v1/people").await.headers["cache-control"], "no-store");
    // The stylesheet may be cached: it holds nothing personal.
    let css = b.get("/assets/style.css").await;
    assert!(css.headers["cache-control"].to_str().unwrap().starts_with("public"));
    app.run_jobs().await;
}

async fn api_checks_permission_before_the_body_and_wants_an_object(app: TestApp) {
    let org = app.org("Bars Co", "bars-co").await;
    let team = app.team(org, "Bar", None).await;
    let employee = app.person(org, "Emma", "emma@bars.example", Role::Employee, None).await;
    let hr = app.person(org, "Hana", "hana@bars.example", Role::HrAdmin, None).await;
    let as_employee = Api::new(&app, &token_for(&app, org, employee).await);
    // Not allowed is said first, whatever the body.
    for (method, path, body) in [
        ("POST", "/api/v1/teams".to_owned(), serde_json::json!({"name": ""})),
        ("POST", "/api/v1/teams".to_owned(), serde_json::json!([1, 2])),
        ("PATCH", format!("/api/v1/teams/{team}"), serde_json::json!({"name": 7})),
        (
            "POST",
            "/api/v1/people".to_owned(),
            serde_json::json!({"email": "not an email"}),
        ),
        ("POST", "/api/v1/pulses".to_owned(), serde_json::json!({})),
    ] {
        as_employee
            .call(method, &path, Some(body))
            .await
            .error(403, "forbidden");
    }
    // A JSON array is not a team.
    let as_hr = Api::new(&app, &token_for(&app, org, hr).await);
    as_hr
        .call("PATCH", &format!("/api/v1/teams/{team}"), Some(serde_json::json!([])))
        .await
        .error(422, "invalid")
        .field("body");
    as_hr
        .call(
            "PATCH",
            &format!("/api/v1/teams/{team}"),
            Some(serde_json::json!({"name": 7})),
        )
        .await
        .error(422, "invalid")
        .field("name");
    assert_eq!(app.count("SELECT COUNT(*) FROM teams WHERE name = 'Bar'").await, 1);
}

async fn signing_in_again_ends_the_old_session_and_a_new_password_offers_to_revoke_tokens(app: TestApp) {
    let org = app.org("Bars Co", "bars-co").await;
    let ana = app.person(org, "Ana", "ana@bars.example", Role::Employee, None).await;
    let b = app.signed_in("ana@bars.example").await;
    let first = b.cookie("belong_session").unwrap();
    b.sign_in("bars-co", "ana@bars.example", PASSWORD).await;
    let second = b.cookie("belong_session").unwrap();
    assert_ne!(first, second);
    let stale = app.browser();
    stale.set_cookie("belong_session", &first);
    assert_eq!(
        stale.get("/").await.status,
        303,
        "the earlier session of this browser still works"
    );
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM sessions WHERE person_id = {ana}"))
            .await,
        1
    );

    // A token made before a password change survives it unless revoked,
    // and the change offers to revoke it.
    let token = token_for(&app, org, ana).await;
    let api = Api::new(&app, &token);
    assert_eq!(api.get("/api/v1/me").await.status, 200);
    b.get("/account/password").await;
    let done = b
        .submit(
            "/account/password",
            &[
                ("current", PASSWORD),
                ("new", "a brand new password"),
                ("confirm", "a brand new password"),
            ],
        )
        .await;
    done.assert(200, "Your password is changed");
    done.assert(200, "You have 1 API token.");
    b.post("/account/tokens/revoke-all", &[("confirm", "yes")]).await;
    assert_eq!(api.get("/api/v1/me").await.status, 401);
}

/// The server must not be turned against its own network: by default a
/// webhook is https to a public address, checked when it is set and again,
/// resolved, when each post is sent; nothing reaches a local receiver.
async fn chat_webhooks_reach_only_public_https_addresses(app: TestApp) {
    let app = app.with_public_webhooks_only().await;
    let org = app.org("Bars Co", "bars-co").await;
    app.person(org, "Olga", "olga@bars.example", Role::Owner, None).await;
    let colleague = app.person(org, "Cook", "cook@bars.example", Role::Employee, None).await;
    let hook = crate::helpers::WebhookSink::start().await;
    let owner = app.signed_in("olga@bars.example").await;
    owner.get("/thanks/values").await;
    for target in [
        hook.url.clone(),
        "https://127.0.0.1/hook".to_owned(),
        "https://169.254.169.254/latest/meta-data".to_owned(),
        "https://[::1]/hook".to_owned(),
        "https://10.0.0.7/hook".to_owned(),
        "http://hooks.example.com/hook".to_owned(),
    ] {
        owner
            .post("/thanks/webhook", &[("webhook_url", &target)])
            .await
            .assert(422, "Incoming webhook address</a>:");
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM organizations WHERE thanks_webhook_url IS NOT NULL")
            .await,
        0
    );
    // A public-looking name that resolves to loopback is caught at send
    // time: the post fails and the local receiver hears nothing.
    let port = hook
        .url
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    owner
        .post(
            "/thanks/webhook",
            &[("webhook_url", &format!("https://localhost:{port}/hooks/thanks"))],
        )
        .await;
    owner.get("/thanks").await;
    owner
        .submit(
            "/thanks",
            &[
                ("recipients", &colleague.to_string()),
                ("message", "Thanks for the help"),
            ],
        )
        .await
        .assert(200, "Posted");
    belong::jobs::run_due(&app.state, "test").await.unwrap();
    assert!(hook.received().is_empty());
    let error: String = sqlx::query_scalar("SELECT last_error FROM jobs WHERE kind = 'recognition.webhook'")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert!(error.contains("private or local network"), "{error}");
}

/// Sending feedback and following a thread are limited (five sends, then a
/// wait), but nothing at rest records that this session or address used
/// the feedback box, or when: such a row would name the sender.
async fn feedback_limits_leave_no_row_that_points_at_the_sender(app: TestApp) {
    let org = app.org("Bars Co", "bars-co").await;
    app.person(org, "Hana", "hana@bars.example", Role::HrAdmin, None).await;
    let b = app.signed_in("hana@bars.example").await;
    b.get("/voice").await;
    let before: Vec<String> = keys(&app).await;
    for i in 0..5 {
        b.post("/voice", &[("team", "org"), ("body", &format!("message {i}"))])
            .await
            .assert(200, "on its way");
    }
    b.post("/voice", &[("team", "org"), ("body", "one more")])
        .await
        .assert(429, "Too many attempts");
    b.post("/voice/thread", &[("code", "AAAA")]).await;
    assert_eq!(keys(&app).await, before, "a limit row was written around a send");
}

/// Every key of the database's limit tables.
async fn keys(app: &TestApp) -> Vec<String> {
    let mut all: Vec<String> = sqlx::query_scalar("SELECT throttle_key FROM throttles")
        .fetch_all(&app.state.db.pool)
        .await
        .unwrap();
    all.extend(
        sqlx::query_scalar::<_, String>("SELECT bucket_key FROM rate_buckets")
            .fetch_all(&app.state.db.pool)
            .await
            .unwrap(),
    );
    all.sort();
    all
}

/// Every route that carries a secret, driven at the most verbose log
/// level: a pulse link opened and answered, an invitation answered through
/// the API, a sign-in link asked for, opened and used, a password sign-in,
/// an API token, a session cookie. No log line holds any of them, nor a
/// part long enough to guess the rest; each request shows by its route's
/// template instead.
#[tokio::test]
async fn no_log_line_at_any_level_holds_a_secret() {
    use belong::pulse::{model, service};
    let app = TestApp::sqlite().await;
    let org = app.org("Bars Co", "bars-co").await;
    let hr = app
        .person(org, "Hera Hr", "hera@bars.example", Role::HrAdmin, None)
        .await;
    let team = app.team(org, "Crew", None).await;
    for i in 0..5 {
        app.member(org, &format!("Person {i}"), &format!("p{i}@bars.example"), Some(team))
            .await;
    }
    let bank = service::question_bank(&app.state, org).await.unwrap();
    let questions: Vec<(i64, bool)> = model::default_selection(&bank)
        .into_iter()
        .filter(|(_, core)| *core)
        .collect();
    let input = belong::pulse::model::PulseInput {
        title: "Logged pulse".into(),
        schedule: model::Schedule::Once,
        open_days: 7,
        remind_days: 0,
        per_cycle: 7,
        teams: None,
        questions: questions.clone(),
    };
    let pulse = service::create_pulse(&app.state, &belong::auth::Actor::system(org), &input)
        .await
        .unwrap();
    service::launch(&app.state, org, pulse).await.unwrap();
    let queued = app.queued_emails().await;
    let link_of = |email: &str| {
        let payload = queued.iter().find(|p| p.contains(email)).expect("an invitation");
        crate::helpers::pulse_link_token(payload).expect("a personal link")
    };
    let (by_form, by_api) = (link_of("p0@bars.example"), link_of("p1@bars.example"));
    let scale: Vec<(i64, String)> = bank
        .iter()
        .filter(|q| questions.iter().any(|(id, _)| *id == q.id))
        .filter_map(|q| Some((q.id, q.pillar.scale()?.1.to_string())))
        .collect();
    let api_token = token_for(&app, org, hr).await;

    let server = crate::helpers::LoggedServer::start(&app);
    let base = format!("http://127.0.0.1:{}", server.port);

    // The pulse link, in a browser.
    let person = server.browser();
    person.get(&format!("/pulse/answer/{by_form}")).await.assert(200, "");
    let fields: Vec<(String, String)> = scale.iter().map(|(id, v)| (format!("q{id}"), v.clone())).collect();
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    person
        .post(&format!("/pulse/answer/{by_form}"), &fields)
        .await
        .assert(200, "Your answers are in");

    // The invitation, through the API.
    let answers: serde_json::Map<String, serde_json::Value> = scale
        .iter()
        .map(|(id, v)| (id.to_string(), json!(v.parse::<i64>().unwrap())))
        .collect();
    let client = reqwest::Client::new();
    let sent = client
        .post(format!("{base}/api/v1/invitations/{by_api}/response"))
        .json(&json!({ "answers": answers }))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 201, "{}", sent.text().await.unwrap_or_default());

    // A sign-in link: asked for, opened, used.
    let linked = server.browser();
    linked.get("/signin").await;
    linked
        .post("/signin/link", &[("org", "bars-co"), ("email", "p2@bars.example")])
        .await
        .assert(200, "");
    let mail = app
        .queued_emails()
        .await
        .into_iter()
        .find(|p| p.contains("p2@bars.example") && p.contains("/signin/link/"))
        .expect("the sign-in link is queued");
    let link = crate::helpers::link_token(&mail, "/signin/link/").unwrap();
    assert!(link.len() >= 32, "{link}");
    linked.get(&format!("/signin/link/{link}")).await.assert(200, "");
    let used = linked.post(&format!("/signin/link/{link}"), &[]).await;
    assert_eq!(used.status, reqwest::StatusCode::SEE_OTHER, "{}", used.body);
    let link_session = linked.cookie_header();

    // A password, a session, an API token.
    let signed = server.signed_in("hera@bars.example").await;
    signed.get("/people").await.assert(200, "Person 4");
    let session = signed.cookie_header();
    let me = client
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(&api_token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);

    let log = server.finish();
    for route in [
        "/pulse/answer/{token}",
        "/api/v1/invitations/{token}/response",
        "/signin/link/{token}",
        "/signin",
        "/api/v1/me",
    ] {
        assert!(log.contains(route), "{route} is not logged by its template: {log}");
    }
    let cookie_values = |header: &str| -> Vec<String> {
        header
            .split("; ")
            .filter_map(|c| c.split_once('=').map(|(_, v)| v.to_owned()))
            .filter(|v| v.len() >= 16)
            .collect()
    };
    let mut secrets = vec![by_form, by_api, link, api_token, PASSWORD.to_owned()];
    secrets.extend(cookie_values(&session));
    secrets.extend(cookie_values(&link_session));
    for secret in &secrets {
        assert!(!log.contains(secret.as_str()), "a secret is in the log: {secret}");
        let part = &secret[..12.min(secret.len())];
        assert!(!log.contains(part), "part of a secret is in the log: {part}");
    }
    // The API document names no other route with a secret in its path.
    let doc = serde_json::to_value(belong::modules::openapi()).unwrap();
    let with_secret: Vec<&String> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|p| p.contains("{token}") || p.contains("{code}") || p.contains("{link}"))
        .collect();
    assert_eq!(with_secret, ["/api/v1/invitations/{token}/response"]);
    app.run_jobs().await;
}
