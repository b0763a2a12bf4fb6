//! Load and faults over loopback: clients that hang up mid-request,
//! more concurrent requests than the pool has connections, sign-in bursts
//! and races against the throttles. Counts are small and every loop is
//! bounded in time; `belong bench` runs the same shapes larger.

use std::sync::Arc;
use std::time::{Duration, Instant};

use belong::auth::Role;

use crate::helpers::{PASSWORD, TestApp, both_databases_threaded};

both_databases_threaded!(
    clients_that_hang_up_never_wedge_writes,
    every_page_answers_with_more_requests_than_connections,
);

/// Requests whose clients give up after a few milliseconds, at a page that
/// opens a write transaction. Afterwards every write must still work and
/// the health check must be able to begin one.
async fn clients_that_hang_up_never_wedge_writes(app: TestApp) {
    let org = app.org("Bars Co", "bars-co").await;
    app.person(org, "Hana", "hana@bars.example", Role::HrAdmin, None).await;
    let b = app.browser();
    b.sign_in("bars-co", "hana@bars.example", PASSWORD).await;
    let cookie = Arc::new(b.cookie_header());
    let url = Arc::new(format!("http://{}/pulse/questions", app.addr));
    let until = Instant::now() + Duration::from_secs(1);
    let mut tasks = Vec::new();
    for n in 0..32u64 {
        let (cookie, url) = (cookie.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let mut hung_up = 0;
            let mut i = 0u64;
            while Instant::now() < until {
                i += 1;
                // Give up after 1–12 ms: some requests are dropped waiting
                // for the write lock, some inside their transaction.
                let client = reqwest::Client::builder()
                    .timeout(Duration::from_millis(1 + (n * 7 + i * 3) % 12))
                    .build()
                    .unwrap();
                if client
                    .get(url.as_str())
                    .header("cookie", cookie.as_str())
                    .send()
                    .await
                    .is_err()
                {
                    hung_up += 1;
                }
            }
            hung_up
        }));
    }
    let mut hung_up = 0;
    for t in tasks {
        hung_up += t.await.unwrap();
    }
    assert!(
        hung_up > 0,
        "some clients must have hung up for the test to mean anything"
    );

    // No connection is left inside a transaction nobody owns (on
    // PostgreSQL such a connection would swallow later writes that never
    // commit). Requests still under way may take a moment to finish.
    if app.url.backend() == belong::config::Backend::Postgres {
        let mut stuck = -1;
        for _ in 0..50 {
            stuck = app
                .count("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'")
                .await;
            if stuck == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(stuck, 0, "connections left idle in a transaction");
    }

    // The server is not wedged: the health check begins a write, and pages
    // that write work, each within a bounded time.
    let deadline = Duration::from_secs(20);
    let health = tokio::time::timeout(deadline, b.get("/healthz"))
        .await
        .expect("health check answers");
    health.assert(200, "ok");
    b.get("/pulse/questions").await;
    for i in 0..3 {
        let text = format!("I can say what I think in meetings, take {i}");
        let page = tokio::time::timeout(
            deadline,
            b.post("/pulse/questions", &[("pillar", "acceptance"), ("text", &text)]),
        )
        .await
        .expect("a write answers");
        page.assert(200, "The question was added.");
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM questions WHERE text LIKE 'I can say what I think in meetings%'")
            .await,
        3
    );
}

/// Every page and API call at once, (pool size + 2) times each: a handler
/// that holds one pooled connection while it asks for a second would
/// starve the pool and end in "pool timed out".
async fn every_page_answers_with_more_requests_than_connections(app: TestApp) {
    use belong::org::demo;
    demo::seed_if_empty(&app.state).await.unwrap();
    let b = Arc::new(app.browser());
    b.sign_in(demo::ORG_SLUG, demo::OWNER_EMAIL, demo::PASSWORD).await;
    let org = app.count("SELECT id FROM organizations").await;
    let owner = app
        .count(&format!("SELECT id FROM people WHERE email = '{}'", demo::OWNER_EMAIL))
        .await;
    let token = Arc::new(crate::helpers::token_for(&app, org, owner).await);
    let cycle = app
        .count("SELECT MAX(id) FROM cycles WHERE closed_at IS NOT NULL")
        .await;
    let person = app.count("SELECT MAX(id) FROM people").await;
    let team = app.count("SELECT MAX(id) FROM teams").await;
    let thanks = app.count("SELECT MAX(id) FROM thank_yous").await;
    let thread = app
        .count("SELECT MAX(id) FROM feedback_threads WHERE team_id IS NULL AND delivered_day IS NOT NULL")
        .await;
    let colleague = app
        .count("SELECT MIN(id) FROM people WHERE end_date IS NULL AND role = 'employee'")
        .await;
    let pages = [
        "/".to_owned(),
        "/people".into(),
        format!("/people/{person}"),
        "/teams".into(),
        format!("/teams/{team}"),
        "/import".into(),
        "/audit".into(),
        "/account/data".into(),
        "/account/data.json".into(),
        "/account/tokens".into(),
        "/pulse".into(),
        "/pulse/new".into(),
        "/pulse/questions".into(),
        "/pulse/segments".into(),
        "/settings".into(),
        format!("/pulse/cycles/{cycle}"),
        format!("/pulse/cycles/{cycle}/export.csv"),
        "/voice".into(),
        "/voice/inbox".into(),
        format!("/voice/inbox/{thread}"),
        "/thanks".into(),
        "/thanks/values".into(),
        "/thanks/coverage".into(),
        "/thanks/awards".into(),
    ];
    let api = [
        "/api/v1/me".to_owned(),
        "/api/v1/people".into(),
        format!("/api/v1/people/{person}"),
        "/api/v1/teams".into(),
        format!("/api/v1/teams/{team}"),
        "/api/v1/questions".into(),
        "/api/v1/pulses".into(),
        "/api/v1/cycles".into(),
        "/api/v1/cycles/open".into(),
        format!("/api/v1/cycles/{cycle}/results"),
        format!("/api/v1/cycles/{cycle}/heatmap"),
    ];
    let n = app.state.db.pool.options().get_max_connections() as usize + 2;
    let base = format!("http://{}", app.addr);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    for path in &pages {
        let mut all = Vec::new();
        for _ in 0..n {
            let b = b.clone();
            let path = path.clone();
            all.push(tokio::spawn(async move { b.get(&path).await.status.as_u16() }));
        }
        for t in all {
            assert_eq!(t.await.unwrap(), 200, "GET {path}");
        }
    }
    for path in &api {
        let mut all = Vec::new();
        for _ in 0..n {
            let req = client
                .get(format!("{base}{path}"))
                .header("authorization", format!("Bearer {token}"));
            all.push(tokio::spawn(
                async move { req.send().await.map(|r| r.status().as_u16()) },
            ));
        }
        for t in all {
            assert_eq!(t.await.unwrap().expect("answers"), 200, "GET {path}");
        }
    }
    // Writes: thank-yous and reactions, all at once.
    b.get("/thanks").await;
    let csrf = b.csrf();
    let mut all = Vec::new();
    for i in 0..n {
        let b = b.clone();
        let (csrf, colleague) = (csrf.clone(), colleague.to_string());
        all.push(tokio::spawn(async move {
            let message = format!("Thanks for the review, round {i}");
            let posted = b
                .post_raw(
                    "/thanks",
                    &[("csrf", &csrf), ("recipients", &colleague), ("message", &message)],
                )
                .await;
            let reacted = b
                .post_raw(
                    &format!("/thanks/{thanks}/react"),
                    &[("csrf", &csrf), ("kind", "heart"), ("on", "true"), ("back", "/thanks")],
                )
                .await;
            (posted.status.as_u16(), reacted.status.as_u16())
        }));
    }
    for t in all {
        let (posted, reacted) = t.await.unwrap();
        assert_eq!(posted, 200, "POST /thanks");
        assert_eq!(reacted, 303, "POST /thanks/{{id}}/react");
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM thank_yous WHERE message LIKE 'Thanks for the review, round %'")
            .await,
        n as i64
    );
}
