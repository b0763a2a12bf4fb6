//! Background jobs across restarts and across server processes.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use belong::jobs::{self, Touch};

use crate::helpers::{TestApp, both_databases};

both_databases!(
    job_queued_before_kill_9_runs_once_after_restart,
    two_servers_sharing_a_database_run_each_job_once,
    schedules_queue_one_job_per_occurrence,
);

/// Starts `belong serve` on the test's database and waits until it listens.
fn start_server(app: &TestApp) -> Child {
    let mut child = app
        .command()
        .args(["serve", "--listen", "127.0.0.1:0", "--database", app.url.expose()])
        .env("BELONG_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            err.read_line(&mut line).unwrap() > 0,
            "the server exited before listening"
        );
        if line.contains("listening") {
            break;
        }
    }
    // Keep draining its log so it never blocks on a full pipe.
    std::thread::spawn(move || for _ in err.lines() {});
    child
}

fn stop(mut child: Child, signal: &str) {
    let _ = Command::new("kill").args([signal, &child.id().to_string()]).status();
    let _ = child.wait();
}

async fn enqueue_touch(app: &TestApp, label: &str, in_seconds: i64) {
    let now = jiff::Timestamp::now();
    let mut conn = app.state.db.pool.acquire().await.unwrap();
    let run_at = now + jiff::SignedDuration::from_secs(in_seconds);
    jobs::enqueue(&mut conn, None, &Touch(label.into()), run_at, now)
        .await
        .unwrap();
}

async fn wait_for(app: &TestApp, sql: &str, want: i64, seconds: u64) -> i64 {
    let deadline = std::time::Instant::now() + Duration::from_secs(seconds);
    loop {
        let n = app.count(sql).await;
        if n >= want || std::time::Instant::now() > deadline {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn job_queued_before_kill_9_runs_once_after_restart(app: TestApp) {
    let server = start_server(&app);
    enqueue_touch(&app, "after-restart", 3).await;
    stop(server, "-KILL");
    assert_eq!(app.count("SELECT COUNT(*) FROM job_touches").await, 0);

    let server = start_server(&app);
    let ran = wait_for(&app, "SELECT COUNT(*) FROM job_touches", 1, 20).await;
    assert_eq!(ran, 1, "the job ran after the restart");
    // Give a duplicate every chance to appear.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop(server, "-TERM");
    assert_eq!(app.count("SELECT COUNT(*) FROM job_touches").await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs WHERE done_at IS NOT NULL").await,
        1
    );
}

async fn two_servers_sharing_a_database_run_each_job_once(app: TestApp) {
    for i in 0..40 {
        enqueue_touch(&app, &format!("job-{i}"), 0).await;
    }
    let a = start_server(&app);
    let b = start_server(&app);
    let done = wait_for(&app, "SELECT COUNT(*) FROM jobs WHERE done_at IS NOT NULL", 40, 30).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop(a, "-TERM");
    stop(b, "-TERM");
    assert_eq!(done, 40);
    assert_eq!(app.count("SELECT COUNT(*) FROM job_touches").await, 40);
    assert_eq!(app.count("SELECT COUNT(DISTINCT label) FROM job_touches").await, 40);
}

async fn schedules_queue_one_job_per_occurrence(app: TestApp) {
    let payload = Touch("nightly".into());
    jobs::schedule::ensure(&app.state, None, "test-nightly", &payload, "daily 03:00", "Asia/Tokyo")
        .await
        .unwrap();
    // Ensuring it again does not make a second schedule.
    jobs::schedule::ensure(&app.state, None, "test-nightly", &payload, "daily 03:00", "Asia/Tokyo")
        .await
        .unwrap();
    assert_eq!(app.count("SELECT COUNT(*) FROM schedules").await, 1);
    assert_eq!(jobs::run_due(&app.state, "t").await.unwrap(), 0, "not due yet");
    // A day later it has come due once.
    app.clock.advance(jiff::SignedDuration::from_hours(24));
    assert_eq!(jobs::run_due(&app.state, "t").await.unwrap(), 1);
    assert_eq!(jobs::run_due(&app.state, "t").await.unwrap(), 0);
    // Three days of downtime queue one job, not three.
    app.clock.advance(jiff::SignedDuration::from_hours(72));
    assert_eq!(jobs::run_due(&app.state, "t").await.unwrap(), 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM job_touches").await, 2);
    let bad = jobs::schedule::ensure(&app.state, None, "bad", &payload, "hourly", "UTC").await;
    assert!(bad.unwrap_err().contains("not a schedule"));
}
