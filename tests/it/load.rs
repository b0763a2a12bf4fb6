//! Load and faults over loopback: clients that hang up mid-request,
//! more concurrent requests than the pool has connections, sign-in bursts
//! and races against the throttles. Counts are small and every loop is
//! bounded in time; `belong bench` runs the same shapes larger.

use std::sync::Arc;
use std::time::{Duration, Instant};

use belong::auth::Role;

use crate::helpers::{PASSWORD, TestApp, both_databases_threaded};

both_databases_threaded!(clients_that_hang_up_never_wedge_writes,);

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
