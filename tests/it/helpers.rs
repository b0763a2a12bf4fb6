//! Spawns the real app on a random loopback port with a fresh database,
//! and drives it over HTTP like a browser (cookies, CSRF tokens).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use belong::app::AppState;
use belong::auth::{Role, password};
use belong::clock::ManualClock;
use belong::config::{DatabaseUrl, Settings};
use belong::db::{Db, new_id};
use belong::notify::email::{Mailer, Security, SmtpSettings};
use belong::org::model::{Email, PersonInput, PersonName, TimeZoneName};
use reqwest::StatusCode;

/// Runs a test body against SQLite, and against PostgreSQL when
/// BELONG_TEST_POSTGRES_URL is set (required when CI=true).
macro_rules! both_databases {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name(crate::helpers::TestApp::sqlite().await).await
            }
            #[tokio::test]
            async fn postgres() {
                if let Some(app) = crate::helpers::TestApp::postgres().await {
                    super::$name(app).await
                }
            }
        }
    )*};
}
pub(crate) use both_databases;

/// Like [`both_databases`], on a runtime with several threads: for tests
/// of concurrency, where server and clients must really run side by side.
macro_rules! both_databases_threaded {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                super::$name(crate::helpers::TestApp::sqlite().await).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                if let Some(app) = crate::helpers::TestApp::postgres().await {
                    super::$name(app).await
                }
            }
        }
    )*};
}
pub(crate) use both_databases_threaded;

/// A scratch directory removed when dropped.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        let dir = std::env::temp_dir().join(format!("belong-test-{:x}", new_id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    pub fn path(&self, name: &str) -> String {
        self.0.join(name).to_string_lossy().into_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub state: AppState,
    pub url: DatabaseUrl,
    /// The app's clock: starts at the real time, moves only when told.
    pub clock: Arc<ManualClock>,
    _stop: tokio::sync::oneshot::Sender<()>,
    // Fields drop in this order: the server is told to stop, the test's
    // leftovers are checked, then its files go.
    guard: EndOfTest,
    pub dir: TempDir,
}

/// What a test leaves behind, checked when its app is dropped: a job that
/// was due and never ran fails the test (its effect went unchecked); a
/// PostgreSQL test database is dropped.
struct EndOfTest {
    url: DatabaseUrl,
    clock: Arc<ManualClock>,
    /// Off once the same database is served again by a new app.
    armed: bool,
}

impl Drop for EndOfTest {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let check = !std::thread::panicking();
        let url = self.url.clone();
        let now = belong::clock::Clock::now(&*self.clock).as_second();
        // A runtime of its own: the test's may be gone or busy.
        let unrun = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(end_of_test(url, now, check))
        })
        .join()
        .expect("the end-of-test check runs");
        assert!(
            unrun.is_empty(),
            "the test left due jobs unrun (run them, app.run_jobs(), and check what they did): {}",
            unrun.join(", ")
        );
    }
}

async fn end_of_test(url: DatabaseUrl, now: i64, check: bool) -> Vec<String> {
    let mut unrun = Vec::new();
    if check {
        let pool = sqlx::AnyPool::connect(url.expose()).await.unwrap();
        let rows = sqlx::query(
            "SELECT kind, COUNT(*) FROM jobs WHERE done_at IS NULL AND failed_at IS NULL AND run_at <= $1
             GROUP BY kind ORDER BY kind",
        )
        .bind(now)
        .fetch_all(&pool)
        .await
        .unwrap();
        unrun = rows
            .iter()
            .map(|r| {
                format!(
                    "{} × {}",
                    sqlx::Row::get::<i64, _>(r, 1),
                    sqlx::Row::get::<String, _>(r, 0)
                )
            })
            .collect();
        pool.close().await;
    }
    if url.backend() == belong::config::Backend::Postgres {
        let admin = std::env::var("BELONG_TEST_POSTGRES_URL").unwrap();
        let (_, name) = url.expose().rsplit_once('/').unwrap();
        let pool = sqlx::AnyPool::connect(&admin).await.unwrap();
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    }
    unrun
}

impl TestApp {
    pub async fn sqlite() -> TestApp {
        let dir = TempDir::new();
        let url: DatabaseUrl = format!("sqlite://{}", dir.path("belong.db")).parse().unwrap();
        TestApp::start(url, dir).await
    }

    /// A fresh database on the PostgreSQL server named by
    /// BELONG_TEST_POSTGRES_URL, or None (a failure under CI=true).
    pub async fn postgres() -> Option<TestApp> {
        let url = postgres_test_database().await?;
        Some(TestApp::start(url, TempDir::new()).await)
    }

    async fn start(url: DatabaseUrl, dir: TempDir) -> TestApp {
        TestApp::start_with(url, dir, Mailer::off(), true).await
    }

    /// The same database served with the default rule for chat webhooks:
    /// https to public addresses only (the suite's receivers are on
    /// loopback, so it allows private addresses otherwise).
    pub async fn with_public_webhooks_only(self) -> TestApp {
        let TestApp {
            url, dir, mut guard, ..
        } = self;
        guard.armed = false;
        TestApp::start_with(url, dir, Mailer::off(), false).await
    }

    /// An app whose email goes to `smtp` (plain SMTP on 127.0.0.1).
    pub async fn with_mail(self, smtp_port: u16) -> TestApp {
        let mailer = Mailer::new(&SmtpSettings {
            host: "127.0.0.1".into(),
            port: smtp_port,
            security: Security::None,
            username: None,
            password: None,
            from: "belong <belong@test.example>".into(),
        })
        .unwrap();
        let TestApp {
            url, dir, mut guard, ..
        } = self;
        guard.armed = false;
        TestApp::start_with(url, dir, mailer, true).await
    }

    async fn start_with(url: DatabaseUrl, dir: TempDir, mailer: Mailer, private_webhooks: bool) -> TestApp {
        // Server errors show in the output of a failing test.
        static LOGS: std::sync::Once = std::sync::Once::new();
        LOGS.call_once(|| {
            let _ = tracing_subscriber::fmt()
                .with_test_writer()
                .with_env_filter("warn")
                .try_init();
        });
        let db = Db::connect(&url).await.expect("database opens");
        // What `serve` does: the key file checked against the database (made
        // on first start), and stored answers upgraded.
        let key = belong::cli::key::unlock(
            &db,
            &belong::cli::key::KeyArgs {
                key_file: dir.0.join("belong.key"),
                master_key: None,
            },
        )
        .await
        .expect("the key file opens");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let clock = Arc::new(ManualClock::new(jiff::Timestamp::now()));
        let url_for_guard = url.clone();
        let mut app = belong::modules::app(
            db,
            Settings {
                public_url: format!("http://{addr}"),
                webhooks_to_private_addresses: private_webhooks,
                ..Settings::default()
            },
            key,
        );
        app.clock = clock.clone();
        app.mailer = mailer;
        let state = AppState(Arc::new(app));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(belong::web::serve(
            listener,
            belong::modules::router(state.clone()),
            async {
                let _ = stopped.await;
            },
        ));
        TestApp {
            addr,
            state,
            url,
            dir,
            clock: clock.clone(),
            _stop: stop,
            guard: EndOfTest {
                url: url_for_guard,
                clock,
                armed: true,
            },
        }
    }

    /// Runs every due job, and what those queue, until none is left; each
    /// must succeed.
    pub async fn run_jobs(&self) {
        for _ in 0..20 {
            if belong::jobs::run_due(&self.state, "test").await.unwrap() == 0 {
                let failed = self
                    .count("SELECT COUNT(*) FROM jobs WHERE last_error IS NOT NULL AND done_at IS NULL")
                    .await;
                assert_eq!(failed, 0, "a job failed");
                return;
            }
        }
        panic!("jobs keep queueing jobs");
    }

    /// The sealed answers of an open cycle, opened with the app's key (what
    /// the close does, and what someone holding the key file could do).
    pub async fn open_sealed(&self, org_id: i64, cycle_id: i64) -> Vec<belong::pulse::StoredResponse> {
        let mut conn = self.state.db.pool.acquire().await.unwrap();
        let key = belong::pulse::sealed::key(&mut conn, &self.state.master_key, org_id, cycle_id)
            .await
            .unwrap()
            .expect("the cycle has its key");
        belong::pulse::sealed::open_all(&mut conn, &key).await.unwrap()
    }

    /// The emails waiting in the queue, as the worker will send them (their
    /// payloads are sealed at rest).
    pub async fn queued_emails(&self) -> Vec<String> {
        belong::jobs::waiting_payloads(
            &self.state.db,
            &self.state.master_key,
            <belong::jobs::email::SendEmail as belong::jobs::Job>::KIND,
        )
        .await
        .unwrap()
    }

    /// Where this test's master key is (the app's own key file).
    pub fn key_file(&self) -> String {
        self.dir.path("belong.key")
    }

    /// The `belong` binary, set to this test's key file.
    pub fn command(&self) -> std::process::Command {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_belong"));
        c.env("BELONG_KEY_FILE", self.key_file())
            .env_remove("BELONG_MASTER_KEY");
        c
    }

    pub fn browser(&self) -> Browser {
        Browser::new(self.addr)
    }

    /// A browser signed in to "bars-co" (the tests' organization) as the
    /// person with this email and `PASSWORD`.
    pub async fn signed_in(&self, email: &str) -> Browser {
        let b = self.browser();
        b.sign_in("bars-co", email, PASSWORD).await;
        b
    }

    /// "Bars Co" ("bars-co"): an HR admin outside any team ("Hera Hr",
    /// hera@bars.example) and teams "Team 0", "Team 1", … of the given
    /// sizes, whose first member is their manager; team `i > 0` sits under
    /// team 0 when `nested`. Member `j` of team `t` is "Person t-j",
    /// pt-j@bars.example.
    pub async fn org_with(&self, sizes: &[usize], nested: bool) -> TeamsOrg {
        let org = self.org("Bars Co", "bars-co").await;
        self.person(org, "Hera Hr", "hera@bars.example", Role::HrAdmin, None)
            .await;
        let mut teams = Vec::new();
        let mut people = Vec::new();
        for (t, n) in sizes.iter().enumerate() {
            let parent = if nested && t > 0 { Some(teams[0]) } else { None };
            teams.push(self.team(org, &format!("Team {t}"), parent).await);
            let mut members = Vec::new();
            for j in 0..*n {
                let role = if j == 0 { Role::Manager } else { Role::Employee };
                let (name, email) = (format!("Person {t}-{j}"), format!("p{t}-{j}@bars.example"));
                let id = self.person(org, &name, &email, role, Some(teams[t])).await;
                members.push((id, name, email));
            }
            people.push(members);
        }
        TeamsOrg { org, teams, people }
    }

    /// A second server process's worth of app on the same database (its
    /// own pool and memory, the same clock): what a restart, or a second
    /// server behind a load balancer, sees. Runs until the test ends.
    pub async fn second_server(&self) -> Browser {
        let db = Db::connect(&self.url).await.expect("database opens");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut app = belong::modules::app(db, self.state.settings.clone(), self.state.master_key.clone());
        app.clock = self.clock.clone();
        tokio::spawn(belong::web::serve(
            listener,
            belong::modules::router(AppState(Arc::new(app))),
            std::future::pending(),
        ));
        Browser::new(addr)
    }

    /// An organization with no one in it yet; returns its id.
    pub async fn org(&self, name: &str, slug: &str) -> i64 {
        let org = belong::org::model::Organization {
            id: new_id(),
            slug: slug.into(),
            name: name.into(),
            time_zone: "Europe/Berlin".into(),
        };
        let mut conn = self.state.db.pool.acquire().await.unwrap();
        belong::org::seed::organization(&mut conn, &org, 0).await.unwrap();
        org.id
    }

    pub async fn team(&self, org_id: i64, name: &str, parent: Option<i64>) -> i64 {
        let team = belong::org::model::Team {
            id: new_id(),
            name: name.into(),
            parent_id: parent,
            active: true,
        };
        let mut conn = self.state.db.pool.acquire().await.unwrap();
        belong::org::seed::team(&mut conn, org_id, &team, 0).await.unwrap();
        team.id
    }

    /// A person who can sign in with `PASSWORD`.
    pub async fn person(&self, org_id: i64, name: &str, email: &str, role: Role, team: Option<i64>) -> i64 {
        let input = PersonInput {
            name: PersonName::parse(name).unwrap(),
            email: Email::parse(email).unwrap(),
            role,
            team_id: team,
            manager_id: None,
            start_date: None,
            time_zone: TimeZoneName::parse("Europe/Berlin").unwrap(),
        };
        let id = new_id();
        // One hash for every test person: hashing is slow on purpose.
        static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let hash = HASH.get_or_init(|| password::hash_now(PASSWORD));
        let mut conn = self.state.db.pool.acquire().await.unwrap();
        belong::org::seed::person(&mut conn, org_id, id, &input, Some(hash), 0)
            .await
            .unwrap();
        id
    }

    /// A person who cannot sign in (no password to hash: quick to make).
    pub async fn member(&self, org_id: i64, name: &str, email: &str, team: Option<i64>) -> i64 {
        let input = PersonInput {
            name: PersonName::parse(name).unwrap(),
            email: Email::parse(email).unwrap(),
            role: Role::Employee,
            team_id: team,
            manager_id: None,
            start_date: None,
            time_zone: TimeZoneName::parse("Europe/Berlin").unwrap(),
        };
        let id = new_id();
        let mut conn = self.state.db.pool.acquire().await.unwrap();
        belong::org::seed::person(&mut conn, org_id, id, &input, None, 0)
            .await
            .unwrap();
        id
    }

    /// A table's column names, sorted, on either database.
    pub async fn columns(&self, table: &str) -> Vec<String> {
        use sqlx::Row;
        let sql = match self.url.backend() {
            belong::config::Backend::Sqlite => {
                format!("SELECT name FROM pragma_table_info('{table}') ORDER BY name")
            }
            belong::config::Backend::Postgres => format!(
                "SELECT CAST(column_name AS TEXT) AS name FROM information_schema.columns WHERE table_name = '{table}' ORDER BY column_name"
            ),
        };
        sqlx::query(&sql)
            .fetch_all(&self.state.db.pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.try_get::<String, _>("name").unwrap())
            .collect()
    }

    pub async fn count(&self, sql: &str) -> i64 {
        use sqlx::Row;
        sqlx::query(sql)
            .fetch_one(&self.state.db.pool)
            .await
            .unwrap()
            .try_get(0)
            .unwrap()
    }
}

pub const PASSWORD: &str = "a fine test password";

async fn postgres_test_database() -> Option<DatabaseUrl> {
    let Ok(admin) = std::env::var("BELONG_TEST_POSTGRES_URL") else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("BELONG_TEST_POSTGRES_URL is not set: under CI=true the PostgreSQL suite must run");
        }
        eprintln!("skipped: set BELONG_TEST_POSTGRES_URL to run this test against PostgreSQL");
        return None;
    };
    let name = format!("belong_test_{:x}", new_id());
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&admin)
        .await
        .expect("PostgreSQL test server answers");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let (base, _) = admin.rsplit_once('/').expect("URL names a database");
    Some(format!("{base}/{name}").parse().unwrap())
}

/// What [`TestApp::org_with`] made.
pub struct TeamsOrg {
    pub org: i64,
    pub teams: Vec<i64>,
    /// (person id, name, email) per team, the manager first.
    pub people: Vec<Vec<(i64, String, String)>>,
}

impl TeamsOrg {
    /// Every team member with their team's index, team by team.
    pub fn members(&self) -> Vec<(i64, usize)> {
        let teams = self.people.iter().enumerate();
        teams
            .flat_map(|(t, members)| members.iter().map(move |m| (m.0, t)))
            .collect()
    }
}

/// The path of the first link to `prefix` in an email's text (or a queued
/// email's payload): from `prefix` to the first white space.
pub fn link_path(text: &str, prefix: &str) -> Option<String> {
    let start = text.find(prefix)?;
    Some(text[start..].chars().take_while(|c| !c.is_whitespace()).collect())
}

/// The token of the first link to `prefix` in an email: the URL-safe
/// characters after it.
pub fn link_token(text: &str, prefix: &str) -> Option<String> {
    let after = text.split(prefix).nth(1)?;
    let token: String = after
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    (!token.is_empty()).then_some(token)
}

/// One response, read whole.
pub struct Page {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> &str {
        self.headers.get("location").and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    /// What follows `prefix` in the page's first form action that starts
    /// with it: `action("/import/")` on `action="/import/42/apply"` is
    /// "42/apply".
    #[track_caller]
    pub fn action(&self, prefix: &str) -> String {
        let Some(after) = self.body.split(&format!("action=\"{prefix}")).nth(1) else {
            panic!("no form posts to {prefix}… in: {}", self.body)
        };
        after.split('"').next().unwrap_or_default().to_owned()
    }

    #[track_caller]
    pub fn assert(&self, status: u16, contains: &str) -> &Page {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert!(self.body.contains(contains), "expected {contains:?} in: {}", self.body);
        self
    }
}

/// A browser: keeps cookies and the CSRF token of the last page it saw.
/// It fails the test on any 500, so no test can pass while the server errs.
pub struct Browser {
    client: reqwest::Client,
    base: String,
    cookies: Mutex<HashMap<String, String>>,
    csrf: Mutex<Option<String>>,
}

impl Browser {
    /// A browser on the server at `addr` (e.g. a `LoggedServer`).
    pub fn at(addr: SocketAddr) -> Browser {
        Browser::new(addr)
    }

    fn new(addr: SocketAddr) -> Browser {
        Browser {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: format!("http://{addr}"),
            cookies: Mutex::new(HashMap::new()),
            csrf: Mutex::new(None),
        }
    }

    /// The port of the server this browser talks to.
    pub fn port(&self) -> u16 {
        self.base.rsplit(':').next().and_then(|p| p.parse().ok()).unwrap_or(0)
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.lock().unwrap().get(name).cloned()
    }

    pub fn set_cookie(&self, name: &str, value: &str) {
        self.cookies.lock().unwrap().insert(name.into(), value.into());
    }

    pub fn csrf(&self) -> String {
        self.csrf.lock().unwrap().clone().expect("a page with a form was seen")
    }

    pub fn cookie_header(&self) -> String {
        self.cookies
            .lock()
            .unwrap()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Page {
        let res = req
            .header("cookie", self.cookie_header())
            .send()
            .await
            .expect("request");
        let status = res.status();
        let headers = res.headers().clone();
        for v in headers.get_all("set-cookie") {
            let v = v.to_str().unwrap();
            let (pair, attrs) = v.split_once(';').unwrap_or((v, ""));
            let (k, val) = pair.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.cookies.lock().unwrap().remove(k);
            } else {
                self.cookies.lock().unwrap().insert(k.into(), val.into());
            }
        }
        let body = res.text().await.unwrap_or_default();
        assert_ne!(status, StatusCode::INTERNAL_SERVER_ERROR, "server error: {body}");
        if let Some(i) = body.find("name=\"csrf\" value=\"") {
            let rest = &body[i + 19..];
            *self.csrf.lock().unwrap() = Some(rest[..rest.find('"').unwrap()].to_owned());
        }
        Page { status, headers, body }
    }

    pub async fn get(&self, path: &str) -> Page {
        self.send(self.client.get(format!("{}{path}", self.base))).await
    }

    /// Posts a form with the CSRF token of the last page seen.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.csrf.lock().unwrap().clone().unwrap_or_default();
        let mut all: Vec<(&str, &str)> = vec![("csrf", &token)];
        all.extend_from_slice(fields);
        self.post_raw(path, &all).await
    }

    /// Posts exactly these fields (no CSRF token added).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body = serde_urlencoded::to_string(fields).unwrap();
        self.send(
            self.client
                .post(format!("{}{path}", self.base))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body),
        )
        .await
    }

    /// Posts a form as a browser does: a redirect after it (post, redirect,
    /// get) is followed, and the page it lands on is the answer.
    pub async fn submit(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let page = self.post(path, fields).await;
        if page.status != StatusCode::SEE_OTHER {
            return page;
        }
        let to = page.location().to_owned();
        assert!(to.starts_with('/'), "redirected off the site: {to}");
        assert!(!to.contains("csrf"), "a CSRF token in an address: {to}");
        self.get(&to).await
    }

    pub async fn upload(&self, path: &str, file_name: &str, bytes: Vec<u8>) -> Page {
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(file_name.to_owned())
            .mime_str("text/csv")
            .unwrap();
        let form = reqwest::multipart::Form::new()
            .text("csrf", self.csrf())
            .part("file", part);
        let url = format!("{}{path}", self.base);
        self.send(self.client.post(url).multipart(form)).await
    }

    /// Posts the sign-in form (with the CSRF token of the last page seen),
    /// whatever the answer.
    pub async fn post_sign_in(&self, org: &str, email: &str, password: &str) -> Page {
        self.post("/signin", &[("org", org), ("email", email), ("password", password)])
            .await
    }

    /// Signs in and checks that it worked.
    pub async fn sign_in(&self, org: &str, email: &str, password: &str) {
        self.get("/signin").await;
        let page = self.post_sign_in(org, email, password).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "sign-in failed: {}", page.body);
        self.get("/").await;
    }
}

pub use crate::smtp::SmtpSink;

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A JSON API client with a bearer token. Fails the test on any 500 and on
/// any error answer that is not in the documented shape.
pub struct Api {
    client: reqwest::Client,
    base: String,
    pub token: String,
}

pub struct ApiResponse {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub json: serde_json::Value,
}

impl ApiResponse {
    #[track_caller]
    pub fn error(&self, status: u16, code: &str) -> &ApiResponse {
        assert_eq!(self.status, status, "{}", self.json);
        assert_eq!(self.json["error"]["code"], code, "{}", self.json);
        self
    }

    #[track_caller]
    pub fn field(&self, field: &str) -> &ApiResponse {
        assert_eq!(self.json["error"]["field"], field, "{}", self.json);
        self
    }
}

impl Api {
    pub fn new(app: &TestApp, token: &str) -> Api {
        Api {
            client: reqwest::Client::new(),
            base: format!("http://{}", app.addr),
            token: token.to_owned(),
        }
    }

    pub async fn call(&self, method: &str, path: &str, body: Option<serde_json::Value>) -> ApiResponse {
        let mut req = self
            .client
            .request(method.parse().unwrap(), format!("{}{path}", self.base))
            .header("authorization", format!("Bearer {}", self.token));
        if let Some(b) = body {
            req = req.json(&b);
        }
        self.finish(req).await
    }

    pub async fn raw(&self, method: &str, path: &str, content_type: &str, body: &str) -> ApiResponse {
        let req = self
            .client
            .request(method.parse().unwrap(), format!("{}{path}", self.base))
            .header("authorization", format!("Bearer {}", self.token))
            .header("content-type", content_type)
            .body(body.to_owned());
        self.finish(req).await
    }

    async fn finish(&self, req: reqwest::RequestBuilder) -> ApiResponse {
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap();
        assert_ne!(status, 500, "server error: {text}");
        let json: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
        if status >= 400 {
            assert!(
                json["error"]["code"].is_string() && json["error"]["message"].is_string(),
                "error shape: {json}"
            );
        }
        ApiResponse { status, headers, json }
    }

    pub async fn get(&self, path: &str) -> ApiResponse {
        self.call("GET", path, None).await
    }
}

/// The token of the personal pulse link in an email's text, if it has one.
pub fn pulse_link_token(email: &str) -> Option<String> {
    link_token(email, "/pulse/answer/")
}

/// A token acting as the person, made the way the settings page makes one.
pub async fn token_for(app: &TestApp, org_id: i64, person_id: i64) -> String {
    belong::auth::tokens::create(&app.state.db, org_id, person_id, "test", jiff::Timestamp::now())
        .await
        .unwrap()
}

/// `belong serve` as its own process on a free port, logging JSON at the
/// most verbose level, so a test can read exactly what it logs.
pub struct LoggedServer {
    pub port: u16,
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    log: String,
}

impl LoggedServer {
    pub fn start(app: &TestApp) -> LoggedServer {
        LoggedServer::start_with(app, &[], "trace")
    }

    /// With more arguments to `serve`, logging at `level`.
    pub fn start_with(app: &TestApp, extra: &[&str], level: &str) -> LoggedServer {
        let url = &app.url;
        use std::io::{BufRead, BufReader};
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let mut args = vec![
            "serve",
            "--listen",
            &listen,
            "--database",
            url.expose(),
            "--log-format",
            "json",
        ];
        args.extend_from_slice(extra);
        let mut child = app
            .command()
            .args(&args)
            .env("BELONG_LOG", level)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut server = LoggedServer {
            port,
            child,
            lines,
            log: String::new(),
        };
        while !server.log.contains("listening") {
            let line = server
                .lines
                .recv_timeout(std::time::Duration::from_secs(20))
                .expect("server starts");
            server.log.push_str(&line);
            server.log.push('\n');
        }
        server
    }

    pub fn browser(&self) -> Browser {
        Browser::new(SocketAddr::from(([127, 0, 0, 1], self.port)))
    }

    /// A browser signed in to "bars-co" as this person (see
    /// [`TestApp::signed_in`]).
    pub async fn signed_in(&self, email: &str) -> Browser {
        let b = self.browser();
        b.sign_in("bars-co", email, PASSWORD).await;
        b
    }

    /// The server's resident memory now, in bytes (Linux).
    pub fn rss_bytes(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kb * 1024)
    }

    /// Kills the server outright (SIGKILL): a crash, or a power cut.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Stops the server and returns all it logged.
    pub fn finish(mut self) -> String {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        while let Ok(line) = self.lines.recv_timeout(std::time::Duration::from_secs(2)) {
            self.log.push_str(&line);
            self.log.push('\n');
        }
        std::mem::take(&mut self.log)
    }
}

/// A chat webhook on 127.0.0.1: answers every POST with 200 and keeps the
/// bodies it received.
pub struct WebhookSink {
    pub url: String,
    bodies: Arc<Mutex<Vec<String>>>,
}

impl WebhookSink {
    pub async fn start() -> WebhookSink {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks/thanks", listener.local_addr().unwrap());
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let kept = bodies.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let kept = kept.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    loop {
                        let Ok(n) = socket.read(&mut chunk).await else { return };
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        let text = String::from_utf8_lossy(&buf).into_owned();
                        let Some(end) = text.find("\r\n\r\n") else { continue };
                        let length: usize = text[..end]
                            .lines()
                            .find_map(|l| {
                                let (k, v) = l.split_once(':')?;
                                k.eq_ignore_ascii_case("content-length")
                                    .then(|| v.trim().parse().ok())?
                            })
                            .unwrap_or(0);
                        if buf.len() >= end + 4 + length {
                            kept.lock().unwrap().push(text[end + 4..end + 4 + length].to_owned());
                            let _ = socket
                                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
                                .await;
                            return;
                        }
                    }
                });
            }
        });
        WebhookSink { url, bodies }
    }

    pub fn received(&self) -> Vec<serde_json::Value> {
        self.bodies
            .lock()
            .unwrap()
            .iter()
            .map(|b| serde_json::from_str(b).expect("the webhook got JSON"))
            .collect()
    }
}
