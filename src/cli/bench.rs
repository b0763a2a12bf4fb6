//! `belong bench …`: benchmarks that print their figures.
//!
//! * `submit`: pulse answers over HTTP, durably committed before the reply.
//!   The server runs as a child process, on SQLite pinned to core 0
//!   (`taskset`, when present); the load generator runs here, keep-alive
//!   connections with a minimal HTTP/1.1 client.
//! * `results`: results of the whole org and the teams × pillars heatmap
//!   over HTTP on 10,000 people and 36 monthly cycles, the cold start of
//!   `belong serve` on that database, and its resident memory.
//! * `utility` (in `bench_guard`): the share of team × cycle cells whose
//!   Belonging Index the guard releases, before and now.
//! * `signin`, `pages`, `durability` (in `bench_load`): a burst of wrong
//!   passwords and the memory it takes, every page at once, kill -9 under
//!   load. What they share lives in `bench_kit`.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;

use super::bench_kit::{
    Conn, core_pulse, free_port, gather, open_app, percentile, rss_mib, seed_open_cycle, seed_org, spawn_server,
    status_mib, stop,
};
use super::bench_store::{insert_answered_roster, people_and_teams};

use crate::config::DatabaseUrl;
use crate::db::new_id;

#[derive(clap::Subcommand, Debug)]
pub enum Bench {
    /// Pulse answers per second, and latency at a fixed rate.
    Submit {
        /// Database to benchmark (default: a new SQLite file in a temp dir).
        #[arg(long)]
        database: Option<DatabaseUrl>,
        /// People invited: one answer each, so enough for both runs.
        #[arg(long, default_value_t = 150_000)]
        people: usize,
        #[arg(long, default_value_t = 64)]
        connections: usize,
        /// Seconds of each run: long enough to take in several checkpoints.
        #[arg(long, default_value_t = 8)]
        seconds: u64,
        /// Requests per second of the fixed-rate run.
        #[arg(long, default_value_t = 5000)]
        rate: u64,
        /// Seconds of the fixed-rate run (default: --seconds). A low rate
        /// wants a long run: at 25/s, 60 s gives 1,500 answers to a p99.
        #[arg(long)]
        rate_seconds: Option<u64>,
        /// Pin the server to core 0 (taskset), leaving core 1 to the load.
        /// By default on SQLite, whose database runs in the server, and not
        /// on PostgreSQL, whose server would share core 1 with the load:
        /// pinned there, runs gave 1,000 or 4,000 answers/s at random, and
        /// 5,400–7,200 unpinned.
        #[arg(long, action = clap::ArgAction::Set)]
        pin: Option<bool>,
    },
    /// A burst of wrong passwords: answers and the server's memory.
    Signin {
        #[arg(long)]
        database: Option<DatabaseUrl>,
        #[arg(long, default_value_t = 200)]
        attempts: usize,
    },
    /// Every page and API call of the demo at once: requests/s, p99, errors.
    Pages {
        #[arg(long)]
        database: Option<DatabaseUrl>,
        #[arg(long, default_value_t = 64)]
        connections: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// kill -9 under load, again and again: acknowledged answers lost.
    Durability {
        #[arg(long)]
        database: Option<DatabaseUrl>,
        #[arg(long, default_value_t = 30)]
        runs: usize,
        #[arg(long, default_value_t = 32)]
        connections: usize,
    },
    /// Closing a cycle: opening every sealed answer, the publication plan,
    /// the released results and what is kept; time and memory.
    Close {
        #[arg(long)]
        database: Option<DatabaseUrl>,
        /// People, all of whom answered; in teams of 10 under 10 departments.
        #[arg(long, default_value_t = 10_000)]
        people: usize,
        /// Give every answer a comment (up to 300 characters).
        #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
        comments: bool,
    },
    /// What the guard costs: the share of team × cycle cells whose
    /// Belonging Index is released, before and with the guard across
    /// cycles, over generated organizations and the demo.
    Utility {
        /// Generated organizations, 10–200 people each (about 30 s each on
        /// a 2-core machine: the guard across 12 cycles of 200 people).
        #[arg(long, default_value_t = 10)]
        orgs: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Database for the demo (default: a new SQLite file).
        #[arg(long)]
        database: Option<DatabaseUrl>,
    },
    /// Results pages on a large history.
    Results {
        #[arg(long)]
        database: Option<DatabaseUrl>,
        #[arg(long, default_value_t = 10_000)]
        people: usize,
        #[arg(long, default_value_t = 36)]
        cycles: i64,
    },
}

pub async fn run(b: Bench) -> anyhow::Result<ExitCode> {
    match b {
        Bench::Submit {
            database,
            people,
            connections,
            seconds,
            rate,
            rate_seconds,
            pin,
        } => {
            submit(
                database,
                people,
                connections,
                (seconds, rate_seconds.unwrap_or(seconds)),
                rate,
                pin,
            )
            .await
        }
        Bench::Results {
            database,
            people,
            cycles,
        } => results(database, people, cycles).await,
        Bench::Close {
            database,
            people,
            comments,
        } => close(database, people, comments).await,
        Bench::Utility { orgs, seed, database } => super::bench_guard::utility(orgs, seed, database).await,
        Bench::Signin { database, attempts } => super::bench_load::sign_in_burst(database, attempts).await,
        Bench::Pages {
            database,
            connections,
            seconds,
        } => super::bench_load::page_mix(database, connections, seconds).await,
        Bench::Durability {
            database,
            runs,
            connections,
        } => super::bench_load::durability(database, runs, connections).await,
    }
}

async fn submit(
    database: Option<DatabaseUrl>,
    people: usize,
    connections: usize,
    (seconds, rate_seconds): (u64, u64),
    rate: u64,
    pin: Option<bool>,
) -> anyhow::Result<ExitCode> {
    let (app, url, dir) = open_app(database, "submit.db").await?;
    let pin = pin.unwrap_or(url.backend() == crate::config::Backend::Sqlite);
    println!(
        "bench submit: seeding {people} people and opening a cycle on {} …",
        url.backend_name()
    );
    let (tokens, body) = seed_open_cycle(&app, people).await?;
    app.db.close().await;
    let port = free_port()?;
    let (server, _) = spawn_server(&url, &app.master_key, port, pin)?;
    let tokens = std::sync::Arc::new(tokens);
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));

    // 1. Full speed: every connection sends as fast as it is answered.
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (tokens, next, body) = (tokens.clone(), next.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::open(port).await?;
            let mut lat = Vec::new();
            let mut errors = 0usize;
            while Instant::now() < deadline {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(token) = tokens.get(i) else { break };
                let t = Instant::now();
                let status = conn
                    .request("POST", &format!("/api/v1/invitations/{token}/response"), &body)
                    .await?;
                lat.push(t.elapsed());
                if status != 201 {
                    errors += 1;
                }
            }
            anyhow::Ok((lat, errors))
        }));
    }
    let (lat, errors) = gather(tasks).await?;
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "submit, full speed: {:.0} responses/s ({} in {:.2} s, {connections} connections, {errors} errors); latency p50 {:.2} ms, p99 {:.2} ms",
        lat.len() as f64 / elapsed,
        lat.len(),
        elapsed,
        percentile(&lat, 0.5).as_secs_f64() * 1000.0,
        percentile(&lat, 0.99).as_secs_f64() * 1000.0,
    );

    // 2. Fixed rate: open loop, requests start on schedule whatever the
    //    latency; latency is measured from the scheduled start.
    let total = (rate * rate_seconds) as usize;
    let per_conn = connections.max(1);
    let interval = Duration::from_secs_f64(per_conn as f64 / rate as f64);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..per_conn {
        let (tokens, next, body) = (tokens.clone(), next.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::open(port).await?;
            let mut lat = Vec::new();
            let mut errors = 0usize;
            let offset = interval.mul_f64(c as f64 / per_conn as f64);
            for n in 0..(total / per_conn) {
                let due = started + offset + interval * n as u32;
                tokio::time::sleep_until(due.into()).await;
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(token) = tokens.get(i) else { break };
                let status = conn
                    .request("POST", &format!("/api/v1/invitations/{token}/response"), &body)
                    .await?;
                lat.push(due.elapsed());
                if status != 201 {
                    errors += 1;
                }
            }
            anyhow::Ok((lat, errors))
        }));
    }
    let (lat, errors) = gather(tasks).await?;
    println!(
        "submit at {rate}/s: {} sent, {errors} errors; latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        lat.len(),
        percentile(&lat, 0.5).as_secs_f64() * 1000.0,
        percentile(&lat, 0.99).as_secs_f64() * 1000.0,
        lat.last().copied().unwrap_or_default().as_secs_f64() * 1000.0,
    );
    stop(server);
    if tokens.len() <= next.load(std::sync::atomic::Ordering::Relaxed) {
        println!("note: ran out of people; raise --people for a longer run");
    }
    if let Some(d) = dir {
        let _ = std::fs::remove_dir_all(d);
    }
    Ok(ExitCode::SUCCESS)
}

async fn results(database: Option<DatabaseUrl>, people: usize, cycles: i64) -> anyhow::Result<ExitCode> {
    let (app, url, dir) = open_app(database, "results.db").await?;
    println!(
        "bench results: seeding {people} people × {cycles} monthly cycles on {} …",
        url.backend_name()
    );
    let seed_started = Instant::now();
    let org_id = seed_org(&app, people).await?;
    let bank = crate::pulse::service::question_bank(&app, org_id)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let pulse = core_pulse(&app, org_id, "History").await?;
    let asked: Vec<(i64, crate::pulse::model::Pillar)> = bank
        .iter()
        .filter(|q| q.pillar.scale().is_some())
        .take(10)
        .map(|q| (q.id, q.pillar))
        .collect();
    let persons = people_and_teams(&app, org_id).await?;
    let mut rng = rand::thread_rng();
    let now = app.now().as_second();
    let mut last_cycle = 0;
    let mut closed = Vec::new();
    let mut answered = 0usize;
    for c in 0..cycles {
        let cycle_id = new_id();
        last_cycle = cycle_id;
        let opens = now - (cycles - c) * 30 * 86_400;
        let mut tx = app.db.begin().await?;
        let ids: Vec<i64> = asked.iter().map(|(q, _)| *q).collect();
        let cycle = bench_cycle(cycle_id, org_id, pulse, c + 1, opens, opens + 7 * 86_400);
        closed.push((cycle_id, opens));
        let seeded = crate::pulse::seed::cycle(&mut tx, &app.master_key, &cycle, &ids).await?;
        for chunk in persons.chunks(400) {
            use rand::Rng;
            let mut responses = Vec::new();
            for (_, team_id) in chunk {
                let mut answers = Vec::with_capacity(asked.len());
                for (q, pillar) in &asked {
                    let v = match pillar {
                        crate::pulse::model::Pillar::Enps => rng.gen_range(0..=10),
                        _ => rng.gen_range(1..=5),
                    };
                    answers.push((*q, v));
                }
                answered += answers.len();
                responses.push(crate::pulse::StoredResponse {
                    team_id: team_id.to_owned(),
                    tenure_band: Some("3 years or more".into()),
                    comment: None,
                    answers,
                    segments: Vec::new(),
                });
            }
            insert_answered_roster(&mut tx, org_id, cycle_id, chunk).await?;
            seeded.answers(&mut tx, &responses).await?;
        }
        tx.commit().await?;
        crate::pulse::service::close(&app, org_id, cycle_id)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    println!(
        "seeded {answered} answers in {:.1} s",
        seed_started.elapsed().as_secs_f64()
    );
    super::bench_store::delete_jobs(&app.db).await?;
    let owner = super::bench_store::make_an_owner(&app.db, org_id).await?;
    let token = crate::auth::tokens::create(&app.db, org_id, owner, "bench", app.now()).await?;
    let pillar = asked
        .iter()
        .map(|(_, p)| *p)
        .find(|p| p.is_belonging())
        .ok_or_else(|| anyhow::anyhow!("the history asks no pillar of belonging"))?;
    let insights = super::bench_insights::prepare(&app, org_id, owner, pulse, &closed, &persons, pillar).await?;
    super::bench_store::delete_jobs(&app.db).await?;
    app.db.close().await;

    let port = free_port()?;
    let (server, cold) = spawn_server(&url, &app.master_key, port, true)?;
    println!(
        "cold start of belong serve: {:.0} ms (until it accepts connections)",
        cold.as_secs_f64() * 1000.0
    );
    let mut conn = Conn::open(port).await?;
    let bearer = format!("Authorization: Bearer {token}");
    let mut timed_as = async |path: &str, who: &str, times: usize| -> anyhow::Result<Vec<Duration>> {
        let mut lat = Vec::new();
        for _ in 0..times {
            let t = Instant::now();
            let head = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{who}\r\nContent-Length: 0\r\n\r\n");
            conn.stream.write_all(head.as_bytes()).await?;
            let status = conn.read_status().await?;
            anyhow::ensure!(status == 200, "{path} answered {status}");
            lat.push(t.elapsed());
        }
        lat.sort();
        Ok(lat)
    };
    let org = timed_as(&format!("/api/v1/cycles/{last_cycle}/results?group=org"), &bearer, 200).await?;
    println!(
        "results, whole org over HTTP: median {:.2} ms, p99 {:.2} ms",
        percentile(&org, 0.5).as_secs_f64() * 1000.0,
        percentile(&org, 0.99).as_secs_f64() * 1000.0
    );
    let heat = timed_as(&format!("/api/v1/cycles/{last_cycle}/heatmap"), &bearer, 200).await?;
    println!(
        "teams × pillars heatmap over HTTP: median {:.2} ms, p99 {:.2} ms",
        percentile(&heat, 0.5).as_secs_f64() * 1000.0,
        percentile(&heat, 0.99).as_secs_f64() * 1000.0
    );
    let impact = timed_as(
        &format!("/api/v1/initiatives/{}/impact", insights.initiative),
        &bearer,
        50,
    )
    .await?;
    println!(
        "impact report of an initiative over 6 teams ({} cycles) over HTTP: median {:.2} ms, p99 {:.2} ms (target: median under 50 ms)",
        closed.len(),
        percentile(&impact, 0.5).as_secs_f64() * 1000.0,
        percentile(&impact, 0.99).as_secs_f64() * 1000.0
    );
    let cookie = format!("Cookie: {}={}", crate::auth::session::COOKIE, insights.session);
    let said = timed_as("/you-said-we-did", &cookie, 200).await?;
    println!(
        "You said, we did, an employee's page over HTTP: median {:.2} ms, p99 {:.2} ms (target: median under 20 ms)",
        percentile(&said, 0.5).as_secs_f64() * 1000.0,
        percentile(&said, 0.99).as_secs_f64() * 1000.0
    );
    // What the timed report says, so that its time is of real work.
    let head = format!(
        "GET /api/v1/initiatives/{}/impact HTTP/1.1\r\nHost: 127.0.0.1\r\n{bearer}\r\nContent-Length: 0\r\n\r\n",
        insights.initiative
    );
    let reply = conn.exchange(&head, b"").await?;
    let report: serde_json::Value = serde_json::from_slice(&reply.body)?;
    println!(
        "  that report: {} teams taking part against {}, {} cycles before and {} after; {} {}",
        report["teams_taking_part"],
        report["teams_compared"],
        report["cycles_before"],
        report["cycles_after"],
        report["method"].as_str().unwrap_or_default(),
        report["verdict"].as_str().unwrap_or_default()
    );
    println!(
        "resident memory of the server: {}",
        rss_mib(&server).map_or("unknown".into(), |m| format!("{m:.0} MiB"))
    );
    stop(server);
    if let Some(d) = dir {
        let _ = std::fs::remove_dir_all(d);
    }
    Ok(ExitCode::SUCCESS)
}

/// The peak resident memory of this process since the last reset, in MiB.
fn own_peak_mib() -> Option<f64> {
    status_mib(&std::fs::read_to_string("/proc/self/status").ok()?, "VmHWM")
}

async fn close(database: Option<DatabaseUrl>, people: usize, comments: bool) -> anyhow::Result<ExitCode> {
    use rand::Rng;
    let (app, url, dir) = open_app(database, "close.db").await?;
    println!(
        "bench close: seeding {people} answered people{} on {} …",
        if comments { " with a comment each" } else { "" },
        url.backend_name()
    );
    let seeding = Instant::now();
    let org_id = seed_org(&app, people).await?;
    let bank = crate::pulse::service::question_bank(&app, org_id)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let pulse = core_pulse(&app, org_id, "Bench pulse").await?;
    let persons = people_and_teams(&app, org_id).await?;
    let cycle_id = new_id();
    let now = app.now().as_second();
    let mut tx = app.db.begin().await?;
    let asked: Vec<i64> = crate::pulse::model::default_selection(&bank)
        .into_iter()
        .map(|(q, _)| q)
        .take(9)
        .collect();
    let cycle = bench_cycle(cycle_id, org_id, pulse, 1, now - 86_400, now + 86_400);
    let seeded = crate::pulse::seed::cycle(&mut tx, &app.master_key, &cycle, &asked).await?;
    let questions = &seeded.questions;
    let mut rng = rand::thread_rng();
    let words = [
        "team",
        "manager",
        "workload",
        "growth",
        "recognition",
        "remote",
        "meetings",
        "tools",
    ];
    for chunk in persons.chunks(400) {
        insert_answered_roster(&mut tx, org_id, cycle_id, chunk).await?;
        let answers: Vec<crate::pulse::StoredResponse> = chunk
            .iter()
            .map(|(_, team)| crate::pulse::StoredResponse {
                team_id: *team,
                tenure_band: Some("3 years or more".into()),
                comment: comments.then(|| {
                    let n = rng.gen_range(3..40);
                    (0..n)
                        .map(|_| words[rng.gen_range(0..words.len())])
                        .collect::<Vec<_>>()
                        .join(" ")
                }),
                answers: questions
                    .iter()
                    .filter_map(|q| match q.pillar {
                        crate::pulse::model::Pillar::Comment => None,
                        crate::pulse::model::Pillar::Enps => Some((q.id, rng.gen_range(0..=10))),
                        _ => Some((q.id, rng.gen_range(1..=5))),
                    })
                    .collect(),
                segments: Vec::new(),
            })
            .collect();
        seeded.answers(&mut tx, &answers).await?;
    }
    tx.commit().await?;
    println!("seeded in {:.1} s", seeding.elapsed().as_secs_f64());
    // Peak memory from here on only (Linux: 5 resets the high-water mark).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let before = own_peak_mib();
    let started = Instant::now();
    let plan = crate::pulse::service::close(&app, org_id, cycle_id)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let took = started.elapsed();
    let (kept, _, _) = super::bench_store::cycle_counts(&app.db, cycle_id).await?;
    println!(
        "closed {people} sealed answers in {:.2} s: {} groups published, {kept} responses kept; peak memory {} MiB (before the close {} MiB)",
        took.as_secs_f64(),
        plan.published.len(),
        own_peak_mib().map(|m| format!("{m:.0}")).unwrap_or_else(|| "?".into()),
        before.map(|m| format!("{m:.0}")).unwrap_or_else(|| "?".into()),
    );
    app.db.close().await;
    if let Some(dir) = dir {
        let _ = std::fs::remove_dir_all(dir);
    }
    Ok(ExitCode::SUCCESS)
}

/// A cycle of the bench's pulse (k = 5), not yet written.
fn bench_cycle(id: i64, org_id: i64, pulse_id: i64, number: i64, opens_at: i64, closes_at: i64) -> crate::pulse::Cycle {
    crate::pulse::Cycle {
        id,
        org_id,
        pulse_id,
        title: String::new(),
        number,
        opens_at,
        closes_at,
        closed_at: None,
        k: 5,
        plan: None,
    }
}
