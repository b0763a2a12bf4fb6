//! Benchmarks of a busy Monday and a bad day: a burst of sign-ins and its
//! memory, a mix of every page at 64 connections, and kill -9 under load.
//! Each runs `belong serve` as a child process over loopback.

use std::process::{Child, ExitCode};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::bench_kit::{
    Conn, Reply, free_port, open_app, percentile, rss_mib, seed_open_cycle, spawn_server_with, stop,
};
use super::bench_store;
use crate::config::DatabaseUrl;
use crate::org::demo;

/// Resident memory in MiB; 0 where the system does not tell.
fn rss(child: &Child) -> f64 {
    rss_mib(child).unwrap_or(0.0)
}

/// The sign-in form's CSRF cookie and token.
async fn sign_in_form(port: u16) -> anyhow::Result<(String, String)> {
    let mut conn = Conn::open(port).await?;
    let reply = conn
        .exchange(
            "GET /signin HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n",
            b"",
        )
        .await?;
    let cookie = reply
        .cookie("belong_csrf")
        .ok_or_else(|| anyhow::anyhow!("no CSRF cookie"))?;
    let body = String::from_utf8_lossy(&reply.body);
    let token = body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .ok_or_else(|| anyhow::anyhow!("no CSRF field"))?
        .to_owned();
    Ok((cookie, token))
}

async fn post_sign_in(
    conn: &mut Conn,
    (cookie, token): &(String, String),
    email: &str,
    password: &str,
    forwarded_for: Option<&str>,
) -> anyhow::Result<Reply> {
    let body = serde_urlencoded::to_string([
        ("csrf", token.as_str()),
        ("org", demo::ORG_SLUG),
        ("email", email),
        ("password", password),
    ])?;
    let xff = forwarded_for
        .map(|a| format!("X-Forwarded-For: {a}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "POST /signin HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: belong_csrf={cookie}\r\n{xff}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    conn.exchange(&head, body.as_bytes()).await
}

/// 200 wrong passwords at once, twice: from one address (the throttle
/// turns most away before any hashing) and from 200 addresses behind a
/// trusted proxy (every one is hashed). Resident memory before, at its
/// peak, and after.
pub async fn sign_in_burst(database: Option<DatabaseUrl>, attempts: usize) -> anyhow::Result<ExitCode> {
    let (app, url, dir) = open_app(database, "signin.db").await?;
    crate::modules::seed_demo_if_empty(&app).await?;
    app.db.close().await;
    let port = free_port()?;
    let (server, _) = spawn_server_with(&url, &app.master_key, port, true, &["--trusted-proxies", "127.0.0.1"])?;
    let form = Arc::new(sign_in_form(port).await?);
    let before = rss(&server);
    println!("bench signin on {}: RSS before {before:.0} MiB", url.backend_name());
    for (label, many_addresses) in [("from one address", false), ("from as many addresses", true)] {
        let started = Instant::now();
        let mut tasks = Vec::new();
        for i in 0..attempts {
            let form = form.clone();
            tasks.push(tokio::spawn(async move {
                let mut conn = Conn::open(port).await?;
                let email = format!("nobody{i}@fernhill.example");
                let address = format!("198.51.{}.{}", i / 250, i % 250 + 1);
                let reply = post_sign_in(
                    &mut conn,
                    &form,
                    &email,
                    "not the password",
                    many_addresses.then_some(address.as_str()),
                )
                .await?;
                anyhow::Ok(reply.status)
            }));
        }
        let mut peak = before;
        let mut counts = std::collections::BTreeMap::<u16, usize>::new();
        let mut pending = tasks;
        while !pending.is_empty() {
            peak = peak.max(rss(&server));
            let (done, rest): (Vec<_>, Vec<_>) = pending.into_iter().partition(|t| t.is_finished());
            for t in done {
                *counts.entry(t.await??).or_default() += 1;
            }
            pending = rest;
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let took = started.elapsed();
        tokio::time::sleep(Duration::from_secs(1)).await;
        let after = rss(&server);
        println!(
            "sign-in burst of {attempts} wrong passwords {label}: {:.2} s; answers {counts:?}; RSS peak {peak:.0} MiB, after {after:.0} MiB (target after: < 150 MiB)",
            took.as_secs_f64()
        );
    }
    stop(server);
    if let Some(d) = dir {
        let _ = std::fs::remove_dir_all(d);
    }
    Ok(ExitCode::SUCCESS)
}

/// Every kind of page and API call of the demo, round-robin, from
/// `connections` keep-alive connections for `seconds`.
pub async fn page_mix(database: Option<DatabaseUrl>, connections: usize, seconds: u64) -> anyhow::Result<ExitCode> {
    let (app, url, dir) = open_app(database, "pages.db").await?;
    crate::modules::seed_demo_if_empty(&app).await?;
    let org_id = bench_store::org_id(&app, demo::ORG_SLUG).await?;
    let owner = crate::org::service::person_id_by_email(&mut *app.db.acquire().await?, org_id, demo::OWNER_EMAIL)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the demo has no owner {}", demo::OWNER_EMAIL))?;
    let cycle = bench_store::latest_cycle(&app.db, Some(org_id)).await?;
    let token = crate::auth::tokens::create(&app.db, org_id, owner, "bench", app.now()).await?;
    bench_store::delete_jobs(&app.db).await?;
    app.db.close().await;

    let port = free_port()?;
    let (server, _) = spawn_server_with(&url, &app.master_key, port, true, &[])?;
    let form = sign_in_form(port).await?;
    let mut conn = Conn::open(port).await?;
    let signed = post_sign_in(&mut conn, &form, demo::OWNER_EMAIL, demo::PASSWORD, None).await?;
    anyhow::ensure!(signed.status == 303, "sign-in answered {}", signed.status);
    let session = signed
        .cookie("belong_session")
        .ok_or_else(|| anyhow::anyhow!("no session cookie"))?;
    let pages: Vec<String> = [
        "/",
        "/people",
        "/teams",
        "/pulse",
        &format!("/pulse/cycles/{cycle}"),
        &format!("/pulse/cycles/{cycle}/export.csv"),
        "/thanks",
        "/thanks/coverage",
        "/voice/inbox",
        "/you-said-we-did",
        "/actions",
        "/initiatives",
        "/account/data",
        "/audit",
    ]
    .iter()
    .map(|p| {
        format!("GET {p} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: belong_session={session}\r\nContent-Length: 0\r\n\r\n")
    })
    .chain(
        ["/api/v1/people", &format!("/api/v1/cycles/{cycle}/results?group=org")]
            .iter()
            .map(|p| {
                format!(
                    "GET {p} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nContent-Length: 0\r\n\r\n"
                )
            }),
    )
    .collect();
    let kinds = pages.len();
    let pages = Arc::new(pages);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..connections {
        let pages = pages.clone();
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::open(port).await?;
            let (mut lat, mut errors, mut n) = (Vec::new(), 0usize, c);
            while Instant::now() < deadline {
                let kind = n % pages.len();
                n += 1;
                let t = Instant::now();
                match conn.exchange(&pages[kind], b"").await {
                    Ok(r) if r.status < 400 => lat.push((kind, t.elapsed())),
                    Ok(_) => errors += 1,
                    Err(_) => {
                        errors += 1;
                        conn = Conn::open(port).await?;
                    }
                }
            }
            anyhow::Ok((lat, errors))
        }));
    }
    let mut by_kind: Vec<Vec<Duration>> = vec![Vec::new(); kinds];
    let mut errors = 0;
    for t in tasks {
        let (lat, e) = t.await??;
        errors += e;
        for (kind, d) in lat {
            by_kind[kind].push(d);
        }
    }
    let mut all: Vec<Duration> = by_kind.iter().flatten().copied().collect();
    all.sort();
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "page mix on {} ({kinds} kinds of page and API call, {connections} connections, {seconds} s): {:.0} requests/s, p50 {:.1} ms, p99 {:.1} ms, {errors} errors; RSS {:.0} MiB",
        url.backend_name(),
        all.len() as f64 / elapsed,
        percentile(&all, 0.5).as_secs_f64() * 1000.0,
        percentile(&all, 0.99).as_secs_f64() * 1000.0,
        rss(&server),
    );
    for (kind, lat) in by_kind.iter_mut().enumerate() {
        lat.sort();
        let what = pages[kind].split(' ').nth(1).unwrap_or("?");
        println!(
            "  {what:<48} p50 {:>7.1} ms  p99 {:>7.1} ms",
            percentile(lat, 0.5).as_secs_f64() * 1000.0,
            percentile(lat, 0.99).as_secs_f64() * 1000.0
        );
    }
    stop(server);
    if let Some(d) = dir {
        let _ = std::fs::remove_dir_all(d);
    }
    Ok(if errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Answers under load, then `kill -9` at a random moment, `runs` times:
/// every answer acknowledged (201) must be in the database afterwards,
/// with its person marked as having answered.
pub async fn durability(database: Option<DatabaseUrl>, runs: usize, connections: usize) -> anyhow::Result<ExitCode> {
    use rand::Rng;
    let (app, url, dir) = open_app(database, "durability.db").await?;
    let per_run = 6000;
    println!(
        "bench durability on {}: {runs} runs of kill -9 under load …",
        url.backend_name()
    );
    let (tokens, body) = seed_open_cycle(&app, runs * per_run).await?;
    let cycle = bench_store::latest_cycle(&app.db, None).await?;
    app.db.close().await;
    let tokens = Arc::new(tokens);
    let mut acked_total = 0usize;
    let mut lost_total = 0usize;
    for run in 1..=runs {
        // Each run answers with people of its own, so a fast database does
        // not run out before the last run.
        let next = Arc::new(AtomicUsize::new((run - 1) * per_run));
        let end = (run * per_run).min(tokens.len());
        let port = free_port()?;
        let (mut server, _) = spawn_server_with(&url, &app.master_key, port, false, &[])?;
        let acked = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..connections {
            let (tokens, next, acked, body) = (tokens.clone(), next.clone(), acked.clone(), body.clone());
            tasks.push(tokio::spawn(async move {
                let Ok(mut conn) = Conn::open(port).await else { return };
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= end {
                        return;
                    }
                    let token = &tokens[i];
                    let head = format!(
                        "POST /api/v1/invitations/{token}/response HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                        body.len()
                    );
                    match conn.exchange(&head, body.as_bytes()).await {
                        Ok(r) if r.status == 201 => {
                            acked.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(_) => {}
                        Err(_) => return,
                    }
                }
            }));
        }
        let wait = rand::thread_rng().gen_range(300..1500);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        server.kill()?;
        server.wait()?;
        for t in tasks {
            let _ = t.await;
        }
        let acked_now = acked.load(Ordering::Relaxed);
        acked_total += acked_now;
        // What the database holds after the crash, read by a fresh process's
        // worth of connections.
        let db = crate::db::Db::connect_existing(&url).await?;
        let (_, stored, marked) = bench_store::cycle_counts(&db, cycle).await?;
        db.close().await;
        let lost = acked_total.saturating_sub(stored as usize);
        lost_total += lost;
        println!(
            "run {run:>2}: killed after {wait} ms; {acked_now} acknowledged ({acked_total} in all), {stored} stored, {marked} marked answered, {lost} lost"
        );
        anyhow::ensure!(stored == marked, "responses and participation disagree after a crash");
    }
    println!("durability: {acked_total} acknowledged answers over {runs} kill -9 runs, {lost_total} lost");
    if let Some(d) = dir {
        let _ = std::fs::remove_dir_all(d);
    }
    Ok(if lost_total == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
