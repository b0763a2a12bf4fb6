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
    parallel_wrong_passwords_for_one_account_get_no_further_than_the_limit,
    parallel_wrong_passwords_from_one_address_get_no_further_than_the_limit,
    parallel_wrong_current_passwords_get_no_further_than_the_limit,
    a_burst_of_sign_ins_from_many_clients_leaves_memory_bounded,
    limits_hold_across_servers_sharing_the_database,
);

/// Requests whose clients give up after a few milliseconds, at a page that
/// opens a write transaction. Afterwards every write must still work and
/// the health check must be able to begin one.
async fn clients_that_hang_up_never_wedge_writes(app: TestApp) {
    let org = app.org("Bars Co", "bars-co").await;
    app.person(org, "Hana", "hana@bars.example", Role::HrAdmin, None).await;
    let b = app.signed_in("hana@bars.example").await;
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
            b.submit("/pulse/questions", &[("pillar", "acceptance"), ("text", &text)]),
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
    belong::modules::seed_demo_if_empty(&app.state).await.unwrap();
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
    // One the owner did not write: nobody reacts to their own.
    let thanks = app
        .count(&format!("SELECT MAX(id) FROM thank_yous WHERE author_id <> {owner}"))
        .await;
    let thread = app
        .count("SELECT MAX(id) FROM feedback_threads WHERE team_id IS NULL AND delivered_day IS NOT NULL")
        .await;
    let colleague = app
        .count("SELECT MIN(id) FROM people WHERE end_date IS NULL AND role = 'employee'")
        .await;
    let initiative = app.count("SELECT MAX(id) FROM initiatives").await;
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
        "/actions".into(),
        "/actions/new".into(),
        "/you-said-we-did".into(),
        "/initiatives".into(),
        "/initiatives/new".into(),
        format!("/initiatives/{initiative}"),
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
        "/api/v1/actions".into(),
        "/api/v1/initiatives".into(),
        format!("/api/v1/initiatives/{initiative}/impact"),
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
        assert_eq!(posted, 303, "POST /thanks (post, redirect, get)");
        assert_eq!(reacted, 303, "POST /thanks/{{id}}/react");
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM thank_yous WHERE message LIKE 'Thanks for the review, round %'")
            .await,
        n as i64
    );
    app.run_jobs().await;
}

/// Forty wrong passwords for one account at once: the throttle counts each
/// before it is evaluated, so exactly the free five are.
async fn parallel_wrong_passwords_for_one_account_get_no_further_than_the_limit(app: TestApp) {
    let org = app.org("Bars Co", "bars-co").await;
    app.person(org, "Ana", "ana@bars.example", Role::Employee, None).await;
    let answers = parallel_sign_ins(&app, 40, |_| "ana@bars.example".to_owned()).await;
    answers.assert_evaluated(belong::auth::throttle::ACCOUNT_LIMIT);
}

/// Two hundred wrong passwords from one address, each for another
/// account: no account reaches its limit, the address does.
async fn parallel_wrong_passwords_from_one_address_get_no_further_than_the_limit(app: TestApp) {
    let org = app.org("Bars Co", "bars-co").await;
    app.person(org, "Ana", "ana@bars.example", Role::Employee, None).await;
    let answers = parallel_sign_ins(&app, 200, |i| format!("guess{i}@bars.example")).await;
    answers.assert_evaluated(belong::auth::throttle::IP_LIMIT);
}

/// How parallel wrong passwords were answered.
#[derive(Debug, Default)]
struct SignInAnswers {
    /// Evaluated and refused (401).
    evaluated: i64,
    /// Refused by the throttle, before any hashing (429).
    throttled: i64,
    /// Refused because every hashing thread was busy (429); not counted
    /// against anyone. Tests in this process share the hashing threads.
    busy: i64,
}

impl SignInAnswers {
    /// Never more than the limit evaluated; exactly the limit when no
    /// attempt was turned away busy (a busy one is given back, and a later
    /// attempt may take its place).
    fn assert_evaluated(&self, limit: i64) {
        assert!(self.evaluated <= limit, "{self:?}");
        if self.busy == 0 {
            assert_eq!(self.evaluated, limit, "{self:?}");
        }
        assert!(self.throttled > 0, "{self:?}");
    }
}

/// Wrong passwords for one browser's sign-in form, all at once.
async fn parallel_sign_ins(app: &TestApp, n: usize, email: impl Fn(usize) -> String) -> SignInAnswers {
    let b = Arc::new(app.browser());
    b.get("/signin").await;
    let csrf = b.csrf();
    let mut all = Vec::new();
    for i in 0..n {
        let (b, csrf, email) = (b.clone(), csrf.clone(), email(i));
        all.push(tokio::spawn(async move {
            b.post_raw(
                "/signin",
                &[
                    ("csrf", &csrf),
                    ("org", "bars-co"),
                    ("email", &email),
                    ("password", "guess guess guess"),
                ],
            )
            .await
        }));
    }
    let mut answers = SignInAnswers::default();
    for t in all {
        let page = t.await.unwrap();
        match page.status.as_u16() {
            401 => answers.evaluated += 1,
            429 if page.body.contains("Too many failed attempts") => answers.throttled += 1,
            429 if page.body.contains("Too many sign-ins at once") => answers.busy += 1,
            other => panic!("unexpected answer {other}: {}", page.body),
        }
    }
    answers
}

/// The current password, asked to change it, is throttled like sign-in:
/// someone at an unlocked screen cannot try forty guesses at once.
async fn parallel_wrong_current_passwords_get_no_further_than_the_limit(app: TestApp) {
    let org = app.org("Bars Co", "bars-co").await;
    app.person(org, "Ana", "ana@bars.example", Role::Employee, None).await;
    let b = Arc::new(app.browser());
    b.sign_in("bars-co", "ana@bars.example", PASSWORD).await;
    b.get("/account/password").await;
    let csrf = b.csrf();
    let mut all = Vec::new();
    for _ in 0..40 {
        let (b, csrf) = (b.clone(), csrf.clone());
        all.push(tokio::spawn(async move {
            b.post_raw(
                "/account/password",
                &[
                    ("csrf", &csrf),
                    ("current", "guess guess guess"),
                    ("new", "a new password 123"),
                    ("confirm", "a new password 123"),
                ],
            )
            .await
        }));
    }
    let mut answers = SignInAnswers::default();
    for t in all {
        let page = t.await.unwrap();
        match page.status.as_u16() {
            422 if page.body.contains("This is not your current password") => answers.evaluated += 1,
            429 if page.body.contains("Too many wrong passwords") => answers.throttled += 1,
            429 if page.body.contains("Too many sign-ins at once") => answers.busy += 1,
            other => panic!("unexpected answer {other}: {}", page.body),
        }
    }
    answers.assert_evaluated(belong::auth::throttle::ACCOUNT_LIMIT);
}

/// Two hundred sign-ins at once, from as many clients behind a trusted
/// proxy, so that none is throttled: argon2 takes 19 MiB per hash, and the
/// server must neither run them all at once nor keep the memory after.
async fn a_burst_of_sign_ins_from_many_clients_leaves_memory_bounded(app: TestApp) {
    let org = app.org("Bars Co", "bars-co").await;
    app.person(org, "Ana", "ana@bars.example", Role::Employee, None).await;
    let server = crate::helpers::LoggedServer::start_with(&app, &["--trusted-proxies", "127.0.0.1"], "info");
    let b = Arc::new(server.browser());
    b.get("/signin").await;
    let csrf = b.csrf();
    let before = server.rss_bytes().expect("the server's memory is readable");
    let mut all = Vec::new();
    for i in 0..200u32 {
        let (b, csrf) = (b.clone(), csrf.clone());
        all.push(tokio::spawn(async move {
            let client = format!("198.51.{}.{}", i / 250, i % 250 + 1);
            let email = format!("nobody{i}@bars.example");
            let body = serde_urlencoded::to_string([
                ("csrf", csrf.as_str()),
                ("org", "bars-co"),
                ("email", email.as_str()),
                ("password", "guess guess guess"),
            ])
            .unwrap();
            let page = b
                .send(
                    reqwest::Client::new()
                        .post(format!("http://127.0.0.1:{}/signin", b.port()))
                        .header("content-type", "application/x-www-form-urlencoded")
                        .header("x-forwarded-for", client)
                        .body(body),
                )
                .await;
            page.status.as_u16()
        }));
    }
    let mut peak = before;
    let mut statuses = Vec::new();
    for t in all {
        statuses.push(t.await.unwrap());
        peak = peak.max(server.rss_bytes().unwrap_or(0));
    }
    let after = server.rss_bytes().unwrap();
    let evaluated = statuses.iter().filter(|s| **s == 401).count();
    assert!(statuses.iter().all(|s| *s == 401 || *s == 429), "{statuses:?}");
    assert!(
        evaluated > belong::auth::throttle::IP_LIMIT as usize,
        "clients behind the proxy have budgets of their own: {evaluated} evaluated"
    );
    let mib = |b: u64| b / (1024 * 1024);
    eprintln!(
        "sign-in burst: RSS {} MiB before, {} MiB peak, {} MiB after",
        mib(before),
        mib(peak),
        mib(after)
    );
    assert!(mib(peak) < 150, "peak RSS {} MiB", mib(peak));
    assert!(mib(after) < 150, "RSS after the burst {} MiB", mib(after));
    server.finish();
}

/// Limits live in the database: a second server on the same database (or
/// the same one after a restart) knows what the first has counted.
async fn limits_hold_across_servers_sharing_the_database(app: TestApp) {
    let org = app.org("Bars Co", "bars-co").await;
    app.person(org, "Ana", "ana@bars.example", Role::Employee, None).await;
    let first = app.browser();
    first.get("/signin").await;
    for _ in 0..belong::auth::throttle::ACCOUNT_LIMIT {
        first
            .post_sign_in("bars-co", "ana@bars.example", "guess guess guess")
            .await
            .assert(401, "do not match");
    }
    let second = app.second_server().await;
    second.get("/signin").await;
    second
        .post_sign_in("bars-co", "ana@bars.example", PASSWORD)
        .await
        .assert(429, "Too many failed attempts");

    // API calls per token are counted in memory, per server: a budget row
    // written at every call would time-stamp the person beside what they
    // did (PRIVACY.md rule 1). Each server holds the line on its own.
    let hana = app.person(org, "Hana", "hana@bars.example", Role::HrAdmin, None).await;
    let token = crate::helpers::token_for(&app, org, hana).await;
    let per_minute = app.state.settings.api_per_minute as usize;
    let client = reqwest::Client::new();
    let call = |port: u16| {
        client
            .get(format!("http://127.0.0.1:{port}/api/v1/me"))
            .header("authorization", format!("Bearer {token}"))
            .send()
    };
    // A burst of half the minute's budget (the clock stands still).
    for _ in 0..per_minute / 2 {
        assert_eq!(call(first.port()).await.unwrap().status(), 200);
    }
    assert_eq!(call(first.port()).await.unwrap().status(), 429);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM rate_buckets WHERE bucket_key LIKE 'api:%'")
            .await,
        0,
        "no budget of a person is at rest"
    );
}
