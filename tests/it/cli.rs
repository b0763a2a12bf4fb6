//! The `belong` binary itself: admin, import, backup and serve.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use belong::auth::Role;
use belong::config::DatabaseUrl;
use belong::db::Db;

use crate::helpers::{TempDir, TestApp, both_databases};

both_databases!(
    admin_creates_an_organization_whose_owner_can_sign_in,
    command_line_import_previews_refuses_and_applies,
    backup_of_a_live_database_holds_the_same_rows,
);

/// Runs the binary; the key file sits beside the SQLite database named by
/// `--database` (or in the system's temporary directory), never in the
/// working directory.
fn belong(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_belong"))
        .args(args)
        .env("BELONG_KEY_FILE", key_file_for(args))
        .env_remove("BELONG_MASTER_KEY")
        .env_remove("BELONG_DATABASE_URL")
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn key_file_for(args: &[&str]) -> String {
    let url = args
        .iter()
        .position(|a| *a == "--database")
        .and_then(|i| args.get(i + 1))
        .copied()
        .unwrap_or("");
    match url.strip_prefix("sqlite://") {
        Some(path) => format!("{path}.key"),
        None => std::env::temp_dir()
            .join(format!("belong-cli-{:x}.key", {
                use std::hash::{Hash, Hasher};
                let mut h = std::collections::hash_map::DefaultHasher::new();
                url.hash(&mut h);
                h.finish()
            }))
            .to_string_lossy()
            .into_owned(),
    }
}

fn line_value<'a>(output: &'a str, key: &str) -> &'a str {
    output
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .unwrap_or_else(|| panic!("no {key:?} in {output}"))
        .trim()
}

async fn admin_creates_an_organization_whose_owner_can_sign_in(app: TestApp) {
    let url = app.url.expose().to_owned();
    let args = [
        "admin",
        "create-org",
        "--database",
        &url,
        "--name",
        "Bars Co",
        "--owner-email",
        "olu@bars.example",
    ];
    let (ok, out, err) = belong(&args);
    assert!(ok, "{err}");
    assert_eq!(line_value(&out, "slug:"), "bars-co");
    let password = line_value(&out, "one-time password:").to_owned();
    assert_eq!(password.len(), 16);
    // The same name again gets the next free slug.
    let (ok, out, _) = belong(&args);
    assert!(ok);
    assert_eq!(line_value(&out, "slug:"), "bars-co-2");
    // Bad input names the option.
    let (ok, _, err) = belong(&[
        "admin",
        "create-org",
        "--database",
        &url,
        "--name",
        "X",
        "--owner-email",
        "nope",
    ]);
    assert!(!ok);
    assert!(err.contains("--owner-email"), "{err}");

    let b = app.browser();
    b.get("/signin").await;
    let page = b
        .post(
            "/signin",
            &[
                ("org", "bars-co"),
                ("email", "olu@bars.example"),
                ("password", &password),
            ],
        )
        .await;
    assert_eq!(page.location(), "/account/password");

    // A lost password is reset from the shell.
    let (ok, out, err) = belong(&[
        "admin",
        "reset-password",
        "--database",
        &url,
        "--org",
        "bars-co",
        "--email",
        "OLU@bars.example",
    ]);
    assert!(ok, "{err}");
    let fresh = line_value(&out, "one-time password:");
    assert_ne!(fresh, password);
}

async fn command_line_import_previews_refuses_and_applies(app: TestApp) {
    let org = app.org("Bars Co", "bars-co").await;
    app.person(org, "Olu", "olu@bars.example", Role::Owner, None).await;
    let url = app.url.expose().to_owned();
    let file = app.dir.path("people.csv");
    std::fs::write(
        &file,
        "name,email,team,start_date\nAna,ana@bars.example,Bar,2024-01-02\nBo,bo@bars.example,Bar,yesterday\n",
    )
    .unwrap();

    let (ok, out, _) = belong(&[
        "import",
        "people",
        &file,
        "--org",
        "bars-co",
        "--database",
        &url,
        "--dry-run",
    ]);
    assert!(ok);
    assert!(out.contains("line 2: add Ana <ana@bars.example>"), "{out}");
    assert!(
        out.contains("line 3: column start_date: rejected: \"yesterday\" is not a date"),
        "{out}"
    );
    assert!(
        out.contains("1 to add, 0 to update, 0 unchanged, 1 rows rejected (would be)"),
        "{out}"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM people").await, 1);

    let (ok, _, err) = belong(&["import", "people", &file, "--org", "bars-co", "--database", &url]);
    assert!(!ok);
    assert!(err.contains("nothing was imported"), "{err}");
    assert_eq!(app.count("SELECT COUNT(*) FROM people").await, 1);

    let (ok, out, _) = belong(&[
        "import",
        "people",
        &file,
        "--org",
        "bars-co",
        "--database",
        &url,
        "--valid-rows-only",
    ]);
    assert!(ok);
    assert!(out.contains("(done)"), "{out}");
    assert_eq!(app.count("SELECT COUNT(*) FROM people").await, 2);

    let (ok, _, err) = belong(&["import", "people", &file, "--org", "no-such-org", "--database", &url]);
    assert!(!ok);
    assert!(err.contains("no organization"), "{err}");
    let (ok, _, err) = belong(&[
        "import",
        "people",
        "/no/such/file.csv",
        "--org",
        "bars-co",
        "--database",
        &url,
    ]);
    assert!(!ok);
    assert!(err.contains("cannot read"), "{err}");
}

async fn backup_of_a_live_database_holds_the_same_rows(app: TestApp) {
    let org = app.org("Bars Co", "bars-co").await;
    let team = app.team(org, "Bar", None).await;
    for i in 0..25 {
        app.person(
            org,
            &format!("P{i}"),
            &format!("p{i}@bars.example"),
            Role::Employee,
            Some(team),
        )
        .await;
    }
    // The server is running and answering while the backup is taken.
    let b = app.signed_in("p0@bars.example").await;
    let dest = app.dir.path("backup.db");
    let url = app.url.expose().to_owned();
    let (ok, out, err) = belong(&["backup", &dest, "--database", &url]);
    match app.url.backend() {
        belong::config::Backend::Sqlite => {
            assert!(ok, "{err}");
            assert!(out.contains("backup written"), "{out}");
            let copy = Db::connect(&format!("sqlite://{dest}").parse::<DatabaseUrl>().unwrap())
                .await
                .unwrap();
            use sqlx::Row;
            let n: i64 = sqlx::query("SELECT COUNT(*) FROM people WHERE org_id = $1")
                .bind(org)
                .fetch_one(&copy.pool)
                .await
                .unwrap()
                .try_get(0)
                .unwrap();
            assert_eq!(n, 25);
            // An existing file is never overwritten.
            let (ok, _, err) = belong(&["backup", &dest, "--database", &url]);
            assert!(!ok);
            assert!(err.contains("exists already"), "{err}");
        }
        belong::config::Backend::Postgres => {
            assert!(!ok);
            assert!(err.contains("pg_dump"), "{err}");
        }
    }
    b.get("/").await.assert(200, "Hello, P0");
}

/// Every command that reads a database refuses a path that names none,
/// and leaves no empty database behind; only `serve` and `admin
/// create-org` create one.
#[test]
fn commands_refuse_a_database_that_does_not_exist() {
    let dir = TempDir::new();
    let missing = dir.path("typo.db");
    let url = format!("sqlite://{missing}");
    let dest = dir.path("copy.db");
    let csv = dir.path("people.csv");
    std::fs::write(&csv, "name,email\nAna,ana@bars.example\n").unwrap();
    for args in [
        vec!["backup", dest.as_str()],
        vec!["import", "people", csv.as_str(), "--org", "bars-co"],
        vec!["admin", "token", "--email", "ana@bars.example"],
        vec![
            "admin",
            "reset-password",
            "--org",
            "bars-co",
            "--email",
            "ana@bars.example",
        ],
    ] {
        let mut all = args.clone();
        all.extend(["--database", url.as_str()]);
        let (ok, _, err) = belong(&all);
        assert!(!ok, "{args:?} succeeded");
        assert!(
            err.contains("--database") && err.contains("no database file"),
            "{args:?}: {err}"
        );
        assert!(!std::path::Path::new(&missing).exists(), "{args:?} created {missing}");
        assert!(!std::path::Path::new(&dest).exists());
    }
    let (ok, out, err) = belong(&[
        "admin",
        "create-org",
        "--name",
        "Bars Co",
        "--owner-email",
        "ana@bars.example",
        "--database",
        &url,
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("slug: bars-co"), "{out}");
    assert!(std::path::Path::new(&missing).exists());
}

/// `serve --demo` on an empty database seeds, prints how to sign in, and
/// stops cleanly on SIGTERM.
#[tokio::test]
async fn serve_demo_prints_sign_in_help_and_stops_on_sigterm() {
    let dir = TempDir::new();
    let url = format!("sqlite://{}", dir.path("serve.db"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_belong"))
        .args(["serve", "--demo", "--listen", "127.0.0.1:0", "--database", &url])
        .env("BELONG_KEY_FILE", dir.path("serve.key"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut printed = String::new();
    while !printed.contains("employee:") {
        let mut line = String::new();
        if stdout.read_line(&mut line).unwrap() == 0 {
            break;
        }
        printed.push_str(&line);
    }
    assert!(printed.contains("organization: fernhill-studio"), "{printed}");
    assert!(printed.contains("password (everyone): belong-demo"), "{printed}");
    let base = printed
        .split("sign in at ")
        .nth(1)
        .unwrap()
        .split("/signin")
        .next()
        .unwrap()
        .to_owned();
    let health = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "exit status {status}");
    let mut logs = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut logs).unwrap();
    assert!(logs.contains("stopped"), "{logs}");
    assert!(!logs.contains("belong-demo"), "the log holds a password: {logs}");
    assert!(logs.contains("email is off"), "said once at start-up: {logs}");
    assert!(
        !logs.contains("a message was dropped"),
        "no line per dropped email: {logs}"
    );
}

/// A WAL grown large before a crash is folded back and emptied when the
/// server starts, and a clean stop leaves none behind: starts stay quick
/// and no old frames linger beside the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starts_and_clean_stops_leave_the_wal_empty() {
    let app = TestApp::sqlite().await;
    let org = app.org("Bars Co", "bars-co").await;
    let ana = app.person(org, "Ana", "ana@bars.example", Role::Employee, None).await;
    let token = crate::helpers::token_for(&app, org, ana).await;
    let db_file = app.url.sqlite_path().unwrap().to_owned();
    let wal = format!("{db_file}-wal");
    let wal_size = || std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);

    let server = crate::helpers::LoggedServer::start_with(&app, &["--api-requests-per-minute", "100000"], "info");
    let client = reqwest::Client::new();
    let r = client
        .get(format!("http://127.0.0.1:{}/api/v1/me", server.port))
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Many small commits while the server runs, then a crash.
    for i in 0..600 {
        sqlx::query("UPDATE people SET name = $1 WHERE id = $2")
            .bind(format!("Ana {i}"))
            .bind(ana)
            .execute(&app.state.db.pool)
            .await
            .unwrap();
    }
    server.kill();
    let before = wal_size();
    assert!(before > 1024 * 1024, "the crash left a WAL of {before} bytes");

    let server = crate::helpers::LoggedServer::start_with(&app, &[], "info");
    let after_start = wal_size();
    assert!(after_start < 64 * 1024, "after start-up the WAL is {after_start} bytes");
    server.finish();
    assert_eq!(wal_size(), 0, "a clean stop leaves no WAL");
}
