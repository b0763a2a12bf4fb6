//! Sealed until close (PRIVACY.md rules 1–5), tried as a determined owner
//! would: with plain copies of the database files taken after every single
//! answer, with the output of `belong backup`, with the logs at the most
//! verbose level, and on PostgreSQL with the system columns. The attacks
//! know the roster, the teams, the start dates and who answered; each
//! person writes a comment no one else writes, so any copy of it that can
//! be tied to them shows.

use std::collections::{HashMap, HashSet};

use belong::auth::Role;
use serde_json::json;

use crate::helpers::*;

both_databases!(system_columns_and_neighbouring_rows_tie_no_answer_to_anyone);

const K: usize = 5;
/// Team sizes: 30 people in all, answering one at a time.
const SIZES: [usize; 4] = [4, 6, 8, 12];

/// How a person answers.
#[derive(Clone, Copy, Debug)]
enum Way {
    SignedInForm,
    PersonalLink,
    BearerApi,
    InvitationApi,
}

struct Person {
    id: i64,
    email: String,
    /// The comment only this person writes.
    marker: String,
    /// What this person answers on the agree questions.
    value: i64,
}

struct Cohort {
    org: i64,
    teams: Vec<i64>,
    people: Vec<Person>,
    cycle: i64,
    segment: i64,
    /// Personal-link token per person, taken from the queued invitation.
    links: HashMap<i64, String>,
    /// Every bearer secret the test knows.
    secrets: Vec<String>,
}

/// Thirty people in four teams, three tenure bands, one segment question,
/// and an open monthly pulse; every secret the test will use.
async fn cohort(app: &TestApp) -> Cohort {
    let org = app.org("Bars Co", "bars-co").await;
    let hr = app
        .person(org, "Hera Hr", "hera@bars.example", Role::HrAdmin, None)
        .await;
    let mut teams = Vec::new();
    for i in 0..SIZES.len() {
        teams.push(app.team(org, &format!("Team {i}"), None).await);
    }
    let mut people = Vec::new();
    for (t, n) in SIZES.iter().enumerate() {
        for j in 0..*n {
            let email = format!("p{t}-{j}@bars.example");
            let role = if j == 0 { Role::Manager } else { Role::Employee };
            let id = app
                .person(org, &format!("P{t}-{j}"), &email, role, Some(teams[t]))
                .await;
            let i = people.len();
            // Three tenure bands, known to the attacker from the roster.
            let start = ["2026-06-01", "2024-06-01", "2015-06-01"][i % 3];
            sqlx::query("UPDATE people SET start_date = $1 WHERE id = $2")
                .bind(start)
                .bind(id)
                .execute(&app.state.db.pool)
                .await
                .unwrap();
            people.push(Person {
                id,
                email,
                marker: format!("MARK{i:02}X{:08x}", rand::random::<u32>()),
                value: 1 + (i as i64 % 5),
            });
        }
    }
    let actor = belong::auth::Actor {
        org_id: org,
        person_id: hr,
        role: Role::HrAdmin,
    };
    let segment = belong::pulse::segments::add(&app.state, &actor, "Where do you work?", "Remote, Office")
        .await
        .unwrap();
    let bank = belong::pulse::service::question_bank(&app.state, org).await.unwrap();
    let input = belong::pulse::model::PulseInput {
        title: "Monthly pulse".into(),
        schedule: belong::pulse::model::Schedule::Monthly,
        open_days: 7,
        remind_days: 0,
        per_cycle: 9,
        teams: None,
        questions: belong::pulse::model::default_selection(&bank),
    };
    let pulse = belong::pulse::service::create_pulse(&app.state, &actor, &input)
        .await
        .unwrap();
    let cycle = belong::pulse::service::launch(&app.state, org, pulse).await.unwrap();
    let mut links = HashMap::new();
    for email in app.queued_emails().await {
        let Some(p) = people.iter().find(|p| email.contains(&p.email)) else {
            continue;
        };
        let token = pulse_link_token(&email).expect("a personal link");
        links.insert(p.id, token);
    }
    assert_eq!(links.len(), people.len(), "everyone has a personal link");
    let secrets = links.values().cloned().collect();
    Cohort {
        org,
        teams,
        people,
        cycle,
        segment,
        links,
        secrets,
    }
}

fn way_of(i: usize) -> Way {
    [Way::SignedInForm, Way::PersonalLink, Way::BearerApi, Way::InvitationApi][i % 4]
}

/// One person's whole answer, given the way they answer, on the server
/// behind `port`. Returns the secrets that way used (session, API token).
async fn answer(app: &TestApp, c: &Cohort, i: usize, port: u16) -> Vec<String> {
    let p = &c.people[i];
    let mut conn = app.state.db.pool.acquire().await.unwrap();
    let qs = belong::pulse::service::cycle_questions(&mut conn, c.org, c.cycle)
        .await
        .unwrap();
    drop(conn);
    let value = |pillar: belong::pulse::model::Pillar| match pillar {
        belong::pulse::model::Pillar::Enps => (p.value * 2).to_string(),
        _ => p.value.to_string(),
    };
    let mut fields: Vec<(String, String)> = qs
        .iter()
        .map(|q| match q.pillar {
            belong::pulse::model::Pillar::Comment => (format!("q{}", q.id), p.marker.clone()),
            pillar => (format!("q{}", q.id), value(pillar)),
        })
        .collect();
    let choice = if i.is_multiple_of(2) { "Remote" } else { "Office" };
    let json_body = json!({
        "answers": qs
            .iter()
            .filter(|q| q.pillar.scale().is_some())
            .map(|q| (q.id.to_string(), json!(value(q.pillar).parse::<i64>().unwrap())))
            .collect::<serde_json::Map<String, serde_json::Value>>(),
        "comment": p.marker,
    });
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    match way_of(i) {
        Way::SignedInForm => {
            let me = browser_on(port);
            me.sign_in("bars-co", &p.email, PASSWORD).await;
            let path = format!("/pulse/cycles/{}/answer", c.cycle);
            me.get(&path).await.assert(200, "Send my answers");
            fields.push((format!("s{}", c.segment), choice.into()));
            let refs: Vec<(&str, &str)> = fields.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
            me.post(&path, &refs).await.assert(200, "Thank you");
            me.cookie("belong_session").into_iter().collect()
        }
        Way::PersonalLink => {
            let me = browser_on(port);
            let path = format!("/pulse/answer/{}", c.links[&p.id]);
            me.get(&path).await.assert(200, "Send my answers");
            fields.push((format!("s{}", c.segment), choice.into()));
            let refs: Vec<(&str, &str)> = fields.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
            me.post(&path, &refs).await.assert(200, "Thank you");
            Vec::new()
        }
        Way::BearerApi => {
            let token = token_for(app, c.org, p.id).await;
            let r = client
                .post(format!("{base}/api/v1/cycles/{}/responses", c.cycle))
                .bearer_auth(&token)
                .json(&json_body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
            vec![token]
        }
        Way::InvitationApi => {
            let r = client
                .post(format!("{base}/api/v1/invitations/{}/response", c.links[&p.id]))
                .json(&json_body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
            Vec::new()
        }
    }
}

fn browser_on(port: u16) -> Browser {
    Browser::at(std::net::SocketAddr::from(([127, 0, 0, 1], port)))
}

/// A plain copy of the database files, as anyone with the disk can take.
struct Copy {
    db: Vec<u8>,
    wal: Vec<u8>,
    dir: TempDir,
}

impl Copy {
    fn take(db_file: &str) -> Copy {
        let dir = TempDir::new();
        let read = |suffix: &str| std::fs::read(format!("{db_file}{suffix}")).unwrap_or_default();
        let (db, wal, shm) = (read(""), read("-wal"), read("-shm"));
        std::fs::write(dir.path("copy.db"), &db).unwrap();
        std::fs::write(dir.path("copy.db-wal"), &wal).unwrap();
        std::fs::write(dir.path("copy.db-shm"), shm).unwrap();
        Copy { db, wal, dir }
    }

    fn from_file(path: &str) -> Copy {
        let dir = TempDir::new();
        let db = std::fs::read(path).unwrap();
        std::fs::write(dir.path("copy.db"), &db).unwrap();
        Copy {
            db,
            wal: Vec::new(),
            dir,
        }
    }

    /// Every byte the copy holds, database and WAL.
    fn contains(&self, needle: &[u8]) -> bool {
        let find = |hay: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
        find(&self.db) || find(&self.wal)
    }

    /// The copy opened with SQLite, as the attacker would (WAL replayed).
    async fn open(&self) -> sqlx::SqliteConnection {
        use sqlx::Connection;
        sqlx::SqliteConnection::connect(&format!("sqlite://{}", self.dir.path("copy.db")))
            .await
            .unwrap()
    }
}

/// What the attacker reads out of an opened copy.
struct Seen {
    answered: HashSet<i64>,
    sealed: Vec<Vec<u8>>,
    wrapped_keys: Vec<Vec<u8>>,
    /// (team, tenure band, segments) of each kept response.
    kept: Vec<(Option<i64>, Option<String>, Option<String>)>,
    /// Released results, group key → JSON.
    released: Vec<(String, String)>,
    /// The roster: person → (team, tenure band).
    roster: HashMap<i64, (Option<i64>, Option<String>)>,
}

async fn read(copy: &Copy, cycle: i64) -> Seen {
    use sqlx::Row;
    let mut conn = copy.open().await;
    let answered = sqlx::query("SELECT person_id FROM participation WHERE cycle_id = $1 AND answered = 1")
        .bind(cycle)
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<i64, _>(0))
        .collect();
    let sealed = sqlx::query("SELECT sealed FROM sealed_answers")
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<Vec<u8>, _>(0))
        .collect();
    let wrapped_keys = sqlx::query("SELECT wrapped FROM cycle_keys")
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<Vec<u8>, _>(0))
        .collect();
    let kept = sqlx::query("SELECT team_id, tenure_band, segments FROM responses WHERE cycle_id = $1")
        .bind(cycle)
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let released = sqlx::query("SELECT group_key, result FROM cycle_results WHERE cycle_id = $1")
        .bind(cycle)
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let roster = sqlx::query("SELECT person_id, team_id, tenure_band FROM cycle_roster WHERE cycle_id = $1")
        .bind(cycle)
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), (r.get(1), r.get(2))))
        .collect();
    Seen {
        answered,
        sealed,
        wrapped_keys,
        kept,
        released,
        roster,
    }
}

/// What an attacker learns from a copy taken while the cycle is open: who
/// has answered, and sealed rows that all look alike. Nothing written is
/// readable, and nothing is kept in clear.
fn attack_open_copy(copy: &Copy, seen: &Seen, c: &Cohort, answered: usize) -> usize {
    let mut links = 0;
    for p in &c.people {
        if copy.contains(p.marker.as_bytes()) {
            links += 1;
        }
    }
    assert_eq!(
        seen.answered.len(),
        answered,
        "the copy is of the moment after answer {answered}"
    );
    assert_eq!(seen.sealed.len(), answered);
    let lengths: HashSet<usize> = seen.sealed.iter().map(Vec::len).collect();
    assert!(lengths.len() <= 1, "sealed answers differ in length: {lengths:?}");
    assert!(seen.kept.is_empty(), "nothing is kept in clear while the cycle is open");
    assert!(seen.released.is_empty(), "nothing is released while the cycle is open");
    links
}

/// After close: every comment released only for groups of at least k who
/// wrote one; every kept response shared by at least k answered people of
/// the roster; no byte of any sealed answer or cycle key left.
fn attack_closed_copy(copy: &Copy, seen: &Seen, c: &Cohort, sealed_bytes: &[Vec<u8>]) -> (usize, usize) {
    assert!(
        seen.sealed.is_empty() && seen.wrapped_keys.is_empty(),
        "sealed rows or keys outlive the close"
    );
    let mut lingering = 0;
    for s in sealed_bytes {
        // Any 32 bytes of a sealed answer or wrapped key, anywhere.
        if copy.contains(&s[s.len() / 2..s.len() / 2 + 32]) {
            lingering += 1;
        }
    }
    // Comments: in the released results only.
    for p in &c.people {
        if copy.contains(p.marker.as_bytes()) {
            let groups: Vec<&String> = seen
                .released
                .iter()
                .filter(|(_, r)| r.contains(&p.marker))
                .map(|(g, _)| g)
                .collect();
            assert!(!groups.is_empty(), "a comment is stored outside the released results");
        }
    }
    // Kept responses against the roster and participation.
    let mut narrowed = 0;
    let team_of = |id: i64| c.teams.iter().position(|t| *t == id);
    for (team, band, segments) in &seen.kept {
        let candidates = seen
            .answered
            .iter()
            .filter(|p| {
                let (t, b) = &seen.roster[p];
                let same_team = team.is_none_or(|team| *t == Some(team));
                let same_band = band.is_none() || b == band;
                // Worst case: the attacker knows everyone's segment choice.
                let person = c.people.iter().position(|x| x.id == **p).unwrap();
                let choice = if person.is_multiple_of(2) { "Remote" } else { "Office" };
                let same_segment = segments.as_ref().is_none_or(|s| s.contains(choice));
                same_team && same_band && same_segment
            })
            .count();
        if candidates < K {
            narrowed += 1;
        }
        assert!(team.is_none_or(|t| team_of(t).is_some()));
    }
    (lingering, narrowed)
}

fn assert_no_secret(copy: &Copy, secrets: &[String], when: &str) {
    for s in secrets {
        assert!(!copy.contains(s.as_bytes()), "a raw token is at rest {when}");
    }
}

/// The feedback box waits for its digest sealed: copies of the files taken
/// after each of several messages sent one at a time hold none of their
/// words, topics or recipients; the digest then writes them all with its
/// own day, and the sealed rows are gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feedback_waits_for_its_digest_sealed() {
    let app = TestApp::sqlite().await;
    let c = cohort(&app).await;
    let db_file = app.url.sqlite_path().unwrap().to_owned();
    let sent_on = app.state.now();
    let mut markers = Vec::new();
    let mut copies = Vec::new();
    for (i, p) in c.people.iter().take(6).enumerate() {
        let b = app.signed_in(&p.email).await;
        let (body, topic) = (format!("BODY{}", p.marker), format!("TOPIC{i:02}X"));
        let team = if i % 2 == 0 {
            c.teams[3].to_string()
        } else {
            "org".to_owned()
        };
        b.post(
            "/voice",
            &[
                ("team", team.as_str()),
                ("topic", topic.as_str()),
                ("body", body.as_str()),
            ],
        )
        .await
        .assert(200, "on its way");
        markers.push(body);
        markers.push(topic);
        copies.push(Copy::take(&db_file));
    }
    for (i, copy) in copies.iter().enumerate() {
        for m in &markers {
            assert!(!copy.contains(m.as_bytes()), "{m} readable after message {}", i + 1);
        }
        let mut conn = copy.open().await;
        let threads: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM feedback_threads")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(threads, 0, "a thread exists before its digest");
        let lengths: Vec<i64> = sqlx::query_scalar("SELECT DISTINCT length(sealed) FROM feedback_pending")
            .fetch_all(&mut conn)
            .await
            .unwrap();
        assert_eq!(lengths.len(), 1, "sealed messages differ in length: {lengths:?}");
    }
    app.clock.advance(jiff::SignedDuration::from_hours(25));
    belong::voice::service::deliver(&app.state, c.org).await.unwrap();
    assert_eq!(app.count("SELECT COUNT(*) FROM feedback_pending").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM feedback_threads").await, 6);
    let days: Vec<String> = sqlx::query_scalar("SELECT DISTINCT day FROM feedback_messages")
        .fetch_all(&app.state.db.pool)
        .await
        .unwrap();
    let sent_day = sent_on.to_zoned(jiff::tz::TimeZone::UTC).date().to_string();
    assert_eq!(days.len(), 1, "{days:?}");
    assert_ne!(
        days[0], sent_day,
        "messages keep the day they were sent, not their digest's"
    );
    let opened: Vec<String> = sqlx::query_scalar("SELECT DISTINCT opened_day FROM feedback_threads")
        .fetch_all(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(opened, days);
    app.run_jobs().await;
}

/// 30 people answer one at a time, through every way in; a plain copy of
/// the files is taken after each answer, after the close, after a clean
/// stop, and `belong backup` is run. No copy ties an answer to anyone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copies_of_the_files_after_every_answer_tie_no_answer_to_anyone() {
    let app = TestApp::sqlite().await;
    let c = cohort(&app).await;
    let db_file = app.url.sqlite_path().unwrap().to_owned();
    let server = LoggedServer::start(&app);
    let hr = browser_on(server.port);
    hr.sign_in("bars-co", "hera@bars.example", PASSWORD).await;
    let mut secrets = c.secrets.clone();
    secrets.extend(hr.cookie("belong_session"));
    let mut copies = Vec::new();
    let mut sealed_bytes: Vec<Vec<u8>> = Vec::new();
    let mut links = 0;
    for i in 0..c.people.len() {
        secrets.extend(answer(&app, &c, i, server.port).await);
        let copy = Copy::take(&db_file);
        let seen = read(&copy, c.cycle).await;
        links += attack_open_copy(&copy, &seen, &c, i + 1);
        sealed_bytes.extend(seen.sealed.iter().cloned());
        sealed_bytes.extend(seen.wrapped_keys.iter().cloned());
        copies.push(copy);
    }
    assert_eq!(links, 0, "copies taken while the cycle is open show what someone wrote");
    for (i, copy) in copies.iter().enumerate() {
        assert_no_secret(copy, &secrets, &format!("after answer {}", i + 1));
    }

    // Close, as HR does.
    hr.get(&format!("/pulse/cycles/{}", c.cycle)).await;
    hr.post(&format!("/pulse/cycles/{}/close", c.cycle), &[("confirm", "yes")])
        .await;
    let closed = Copy::take(&db_file);
    let seen = read(&closed, c.cycle).await;
    assert!(!seen.released.is_empty(), "the close released results");
    assert_eq!(
        seen.kept.len(),
        c.people.len(),
        "30 answers in groups of k or more are all kept"
    );
    let (lingering, narrowed) = attack_closed_copy(&closed, &seen, &c, &sealed_bytes);
    assert_eq!(
        (lingering, narrowed),
        (0, 0),
        "after close: sealed bytes left, responses narrowed below k"
    );
    assert!(
        closed.wal.len() < 64 * 1024,
        "the close truncates the WAL ({} bytes)",
        closed.wal.len()
    );
    assert_no_secret(&closed, &secrets, "after close");

    // A clean stop.
    let log = server.finish();
    assert_eq!(
        std::fs::metadata(format!("{db_file}-wal"))
            .map(|m| m.len())
            .unwrap_or(0),
        0
    );
    let stopped = Copy::take(&db_file);
    let seen = read(&stopped, c.cycle).await;
    assert_eq!(attack_closed_copy(&stopped, &seen, &c, &sealed_bytes), (0, 0));
    assert_no_secret(&stopped, &secrets, "after a clean stop");

    // `belong backup`.
    let dest = app.dir.path("backup.db");
    let out = app
        .command()
        .args(["backup", &dest, "--database", app.url.expose()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let backup = Copy::from_file(&dest);
    let seen = read(&backup, c.cycle).await;
    assert_eq!(attack_closed_copy(&backup, &seen, &c, &sealed_bytes), (0, 0));
    assert_no_secret(&backup, &secrets, "in a backup");
    assert!(!backup.contains(app.state.master_key.to_text().as_bytes()));

    // The logs, at trace level: no token, no comment, no person, no address.
    for s in &secrets {
        assert!(!log.contains(s.as_str()), "a token is in the log");
    }
    for p in &c.people {
        assert!(!log.contains(&p.marker), "a comment is in the log");
        assert!(!log.contains(&p.email), "a person is in the log");
    }
}

/// On either database: the rows written when someone answers are their
/// participation and a sealed row, nothing else; after close, what is kept
/// shares no transaction (PostgreSQL's xmin) with any participation row.
async fn system_columns_and_neighbouring_rows_tie_no_answer_to_anyone(app: TestApp) {
    let c = cohort(&app).await;
    for i in 0..8 {
        answer(&app, &c, i, app.addr.port()).await;
    }
    let postgres = app.url.backend() == belong::config::Backend::Postgres;
    let tables: Vec<String> = if postgres {
        use sqlx::Row;
        sqlx::query("SELECT CAST(table_name AS TEXT) FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'")
            .fetch_all(&app.state.db.pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<String, _>(0))
            .collect()
    } else {
        Vec::new()
    };
    let xmins = |table: &str| {
        let sql = format!("SELECT CAST(CAST(xmin AS TEXT) AS BIGINT) AS x FROM {table}");
        let db = app.state.db.pool.clone();
        async move {
            use sqlx::Row;
            sqlx::query(&sql)
                .fetch_all(&db)
                .await
                .unwrap()
                .iter()
                .map(|r| r.get::<i64, _>(0))
                .collect::<HashSet<i64>>()
        }
    };
    if postgres {
        // The transactions that marked someone as having answered wrote
        // nothing but participation and sealed rows.
        let answered = {
            use sqlx::Row;
            sqlx::query("SELECT CAST(CAST(xmin AS TEXT) AS BIGINT) FROM participation WHERE answered = 1")
                .fetch_all(&app.state.db.pool)
                .await
                .unwrap()
                .iter()
                .map(|r| r.get::<i64, _>(0))
                .collect::<HashSet<i64>>()
        };
        assert!(!answered.is_empty());
        for t in &tables {
            if t == "participation" || t == "sealed_answers" || t.starts_with("_sqlx") {
                continue;
            }
            let shared = xmins(t).await.intersection(&answered).count();
            assert_eq!(shared, 0, "{t} has rows written by the transaction of an answer");
        }
    }
    let hr = app.signed_in("hera@bars.example").await;
    hr.get(&format!("/pulse/cycles/{}", c.cycle)).await;
    hr.post(&format!("/pulse/cycles/{}/close", c.cycle), &[("confirm", "yes")])
        .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM sealed_answers").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM cycle_keys").await, 0);
    let kept = app
        .count(&format!("SELECT COUNT(*) FROM responses WHERE cycle_id = {}", c.cycle))
        .await;
    assert!(kept > 0 && kept <= 8);
    if postgres {
        let participation = xmins("participation").await;
        let responses = xmins("responses").await;
        assert_eq!(responses.len(), 1, "what is kept is written in one transaction");
        assert_eq!(participation.intersection(&responses).count(), 0, "joined on xmin");
        // ctid order is the random order the close wrote them in, not an
        // order of answering: nothing to join on either.
    }
    app.run_jobs().await;
}

/// A server refuses to start without its key while sealed answers need it,
/// or with another key, and says what to do.
#[tokio::test]
async fn a_lost_or_wrong_key_file_is_refused_at_start() {
    let app = TestApp::sqlite().await;
    let c = cohort(&app).await;
    answer(&app, &c, 1, app.addr.port()).await;
    let run = |key_file: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_belong"))
            .args(["key", "status", "--database", app.url.expose()])
            .env("BELONG_KEY_FILE", key_file)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let status = run(&app.key_file());
    assert!(status.contains("matches this database"), "{status}");
    assert!(status.contains("1 sealed answer"), "{status}");

    let serve = |key_file: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_belong"))
            .args(["serve", "--listen", "127.0.0.1:0", "--database", app.url.expose()])
            .env("BELONG_KEY_FILE", key_file)
            .env_remove("BELONG_MASTER_KEY")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    // Lost: refused, with what to do; no new key file is made.
    let missing = app.dir.path("elsewhere.key");
    let out = serve(&missing);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("is missing") && err.contains("Restore the key file"),
        "{err}"
    );
    assert!(!std::path::Path::new(&missing).exists(), "a new key was made");
    assert!(run(&missing).contains("MISSING"));
    // Wrong: refused.
    let wrong = app.dir.path("wrong.key");
    belong::privacy::seal::KeySource {
        file: wrong.clone().into(),
        inline: None,
    }
    .create()
    .unwrap();
    let out = serve(&wrong);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("does not hold the key this database was sealed with"),
        "{err}"
    );
    // Readable by others: refused.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let open = app.dir.path("open.key");
        std::fs::copy(app.key_file(), &open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = String::from_utf8_lossy(&serve(&open).stderr).into_owned();
        assert!(err.contains("chmod 600"), "{err}");
    }
    app.run_jobs().await;
}
