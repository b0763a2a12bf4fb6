//! What the benchmarks share: a scratch database, `belong serve` as a
//! child process, a minimal keep-alive HTTP/1.1 client, percentiles, and
//! seeding an organization with an open cycle.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::bench_store;
use crate::app::App;
use crate::auth::Actor;
use crate::config::{DatabaseUrl, Settings};
use crate::db::{Db, new_id};

fn scratch_url(name: &str) -> anyhow::Result<(DatabaseUrl, std::path::PathBuf)> {
    let dir = std::env::temp_dir().join(format!("belong-bench-{:x}", new_id()));
    std::fs::create_dir_all(&dir)?;
    let url = format!("sqlite://{}", dir.join(name).display())
        .parse()
        .map_err(anyhow::Error::msg)?;
    Ok((url, dir))
}

/// Starts `belong serve` on the database, pinned to core 0 when possible.
pub(super) fn spawn_server(
    url: &DatabaseUrl,
    key: &crate::privacy::seal::MasterKey,
    port: u16,
    pin: bool,
) -> anyhow::Result<(Child, Duration)> {
    spawn_server_with(url, key, port, pin, &[])
}

/// [`spawn_server`] with more arguments to `serve`.
pub(super) fn spawn_server_with(
    url: &DatabaseUrl,
    key: &crate::privacy::seal::MasterKey,
    port: u16,
    pin: bool,
    extra: &[&str],
) -> anyhow::Result<(Child, Duration)> {
    let exe = std::env::current_exe()?;
    let pinned = pin
        && Command::new("taskset")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok();
    let mut cmd = if pinned {
        let mut c = Command::new("taskset");
        c.arg("-c").arg("0").arg(&exe);
        c
    } else {
        Command::new(&exe)
    };
    cmd.args([
        "serve",
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--database",
        url.expose(),
    ])
    .args(["--api-requests-per-minute", "100000000"])
    .args(extra)
    .env("BELONG_LOG", "warn")
    .env("BELONG_MASTER_KEY", key.to_text())
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::inherit());
    let started = Instant::now();
    let child = cmd.spawn()?;
    // Ready when it answers a health check.
    loop {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        if started.elapsed() > Duration::from_secs(60) {
            anyhow::bail!("the server did not start");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    Ok((child, started.elapsed()))
}

pub(super) fn stop(mut child: Child) {
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let _ = child.wait();
}

pub(super) fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// One keep-alive HTTP/1.1 connection; enough of the protocol for a load
/// generator (Content-Length bodies only).
pub(super) struct Conn {
    pub(super) stream: TcpStream,
    buf: Vec<u8>,
}

/// A whole response: its status, its head (status line and headers) and
/// its body.
pub(super) struct Reply {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl Reply {
    /// The value of a `Set-Cookie` for `name`.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            if !k.eq_ignore_ascii_case("set-cookie") {
                return None;
            }
            let pair = v.trim().split(';').next()?;
            let (n, value) = pair.split_once('=')?;
            (n == name).then(|| value.to_owned())
        })
    }
}

impl Conn {
    /// Sends a raw request (head with its blank line, then the body) and
    /// reads the whole response.
    pub(super) async fn exchange(&mut self, head: &str, body: &[u8]) -> anyhow::Result<Reply> {
        self.stream.write_all(head.as_bytes()).await?;
        self.stream.write_all(body).await?;
        let status = self.read_status().await?;
        let end = find(&self.buf, b"\r\n\r\n").expect("read_status found the head");
        Ok(Reply {
            status,
            head: String::from_utf8_lossy(&self.buf[..end]).into_owned(),
            body: self.buf[end + 4..].to_vec(),
        })
    }

    pub(super) async fn open(port: u16) -> anyhow::Result<Conn> {
        let stream = TcpStream::connect(("127.0.0.1", port)).await?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            buf: Vec::with_capacity(8192),
        })
    }

    /// Sends a request and returns the status code.
    pub(super) async fn request(&mut self, method: &str, path: &str, body: &str) -> anyhow::Result<u16> {
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        self.stream.write_all(head.as_bytes()).await?;
        self.stream.write_all(body.as_bytes()).await?;
        self.read_status().await
    }

    /// Reads one response (Content-Length body) and returns its status.
    pub(super) async fn read_status(&mut self) -> anyhow::Result<u16> {
        self.buf.clear();
        let mut tmp = [0u8; 16384];
        loop {
            if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                let head = std::str::from_utf8(&self.buf[..end])?;
                let status: u16 = head.split(' ').nth(1).unwrap_or("0").parse()?;
                let len: usize = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().to_owned())
                    })
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                while self.buf.len() < end + 4 + len {
                    let n = self.stream.read(&mut tmp).await?;
                    anyhow::ensure!(n > 0, "connection closed");
                    self.buf.extend_from_slice(&tmp[..n]);
                }
                return Ok(status);
            }
            let n = self.stream.read(&mut tmp).await?;
            anyhow::ensure!(n > 0, "connection closed");
            self.buf.extend_from_slice(&tmp[..n]);
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

pub(super) type LoadTask = tokio::task::JoinHandle<anyhow::Result<(Vec<Duration>, usize)>>;

/// Waits for the load tasks: all latencies, sorted, and the error count.
pub(super) async fn gather(tasks: Vec<LoadTask>) -> anyhow::Result<(Vec<Duration>, usize)> {
    let mut lat = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await??;
        lat.extend(l);
        errors += e;
    }
    lat.sort();
    Ok((lat, errors))
}

pub(super) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// An org of `people` in teams of 10 under 10 departments, and one open
/// pulse cycle; returns the personal-link tokens and a request body.
pub(super) async fn seed_open_cycle(app: &App, people: usize) -> anyhow::Result<(Vec<String>, String)> {
    let org_id = seed_org(app, people).await?;
    let pulse = core_pulse(app, org_id, "Bench pulse").await?;
    let cycle = crate::pulse::service::launch(app, org_id, pulse)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut conn = app.db.pool.acquire().await?;
    let questions = crate::pulse::service::cycle_questions(&mut conn, org_id, cycle).await?;
    let answers: Vec<String> = questions
        .iter()
        .filter_map(|q| q.pillar.scale().map(|(_, high)| format!("\"{}\": {}", q.id, high - 1)))
        .collect();
    let body = format!(
        "{{\"answers\": {{{}}}, \"comment\": \"Benchmark comment about the team.\"}}",
        answers.join(", ")
    );
    drop(conn);
    let tokens = crate::jobs::waiting_payloads(
        &app.db,
        &app.master_key,
        <crate::jobs::email::SendEmail as crate::jobs::Job>::KIND,
    )
    .await?
    .iter()
    .filter_map(|p| {
        p.split("/pulse/answer/")
            .nth(1)
            .map(|t| t.chars().take_while(char::is_ascii_hexdigit).collect())
    })
    .collect();
    // The bench server would otherwise spend its time "sending" them.
    bench_store::delete_jobs(&app.db).await?;
    Ok((tokens, body))
}

/// A one-off pulse of the core questions, seven a cycle; returns its id.
pub(super) async fn core_pulse(app: &App, org_id: i64, title: &str) -> anyhow::Result<i64> {
    let bank = crate::pulse::service::question_bank(app, org_id)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let input = crate::pulse::model::PulseInput {
        title: title.into(),
        schedule: crate::pulse::model::Schedule::Once,
        open_days: 7,
        remind_days: 0,
        per_cycle: 7,
        teams: None,
        questions: crate::pulse::model::default_selection(&bank)
            .into_iter()
            .filter(|(_, core)| *core)
            .collect(),
    };
    crate::pulse::service::create_pulse(app, &Actor::system(org_id), &input)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
}

/// The resident memory (`VmRSS`) or its peak (`VmHWM`) in MiB, from the
/// text of a `/proc/PID/status`.
pub(super) fn status_mib(status: &str, field: &str) -> Option<f64> {
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

/// Inserts an organization with `people` people in batches.
pub(super) async fn seed_org(app: &App, people: usize) -> anyhow::Result<i64> {
    let org = crate::org::model::Organization {
        id: new_id(),
        slug: format!("bench-{:x}", new_id()),
        name: "Bench Co".into(),
        time_zone: "UTC".into(),
    };
    let now = app.now().as_second();
    let mut tx = app.db.begin().await?;
    crate::org::seed::organization(&mut tx, &org, now).await?;
    let departments: Vec<i64> = (0..10).map(|_| new_id()).collect();
    for (i, d) in departments.iter().enumerate() {
        let t = crate::org::model::Team {
            id: *d,
            name: format!("Department {i}"),
            parent_id: None,
            active: true,
        };
        crate::org::seed::team(&mut tx, org.id, &t, now).await?;
    }
    let team_count = people.div_ceil(10).max(1);
    let mut teams = Vec::with_capacity(team_count);
    for i in 0..team_count {
        let t = crate::org::model::Team {
            id: new_id(),
            name: format!("Team {i}"),
            parent_id: Some(departments[i % 10]),
            active: true,
        };
        crate::org::seed::team(&mut tx, org.id, &t, now).await?;
        teams.push(t.id);
    }
    for chunk_start in (0..people).step_by(500) {
        let end = (chunk_start + 500).min(people);
        bench_store::insert_people(&mut tx, org.id, &teams, chunk_start..end, now).await?;
    }
    tx.commit().await?;
    Ok(org.id)
}

pub(super) async fn open_app(
    database: Option<DatabaseUrl>,
    name: &str,
) -> anyhow::Result<(App, DatabaseUrl, Option<std::path::PathBuf>)> {
    let (url, dir) = match database {
        Some(u) => (u, None),
        None => {
            let (u, d) = scratch_url(name)?;
            (u, Some(d))
        }
    };
    let db = Db::connect(&url).await?;
    Ok((
        crate::modules::app(db, Settings::default(), crate::privacy::seal::MasterKey::generate()),
        url,
        dir,
    ))
}

/// The server's resident memory in MiB, if the system tells (Linux). The
/// child is the server itself: under taskset it is the same process,
/// which execs the server.
pub(super) fn rss_mib(child: &Child) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).ok()?;
    status_mib(&status, "VmRSS")
}
