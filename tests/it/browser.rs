//! The pages in a real headless Chromium (Debian's `chromium` and
//! `chromium-driver`), driven over WebDriver, with axe-core checking each
//! page for accessibility. Screenshots go to target/screenshots/.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};

use crate::helpers::{TempDir, TestApp, free_port};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A WebDriver session on a chromedriver we started.
struct Chrome {
    driver: Child,
    client: reqwest::Client,
    session: String,
    axe: String,
    _profile: TempDir,
}

/// These tests are ignored by a plain `cargo test`; asked for, a missing
/// tool fails them.
fn required(what: &str, found: bool) -> bool {
    assert!(found, "{what} is not installed (.ci/run installs it)");
    found
}

impl Chrome {
    async fn start() -> Option<Chrome> {
        let chromium = std::env::var("BELONG_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let chromedriver = std::env::var("BELONG_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let axe_path = std::env::var("BELONG_AXE_JS").unwrap_or_else(|_| {
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/target/ci-tools/node_modules/axe-core/axe.min.js"
            )
            .into()
        });
        let ok = required(
            "chromium (apt-get install chromium)",
            std::path::Path::new(&chromium).exists(),
        ) && required(
            "chromedriver (apt-get install chromium-driver)",
            std::path::Path::new(&chromedriver).exists(),
        ) && required(
            "axe-core (npm install --prefix target/ci-tools axe-core)",
            std::path::Path::new(&axe_path).exists(),
        );
        if !ok {
            return None;
        }
        let port = free_port();
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .stdin(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let client = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if client.get(format!("{base}/status")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = TempDir::new();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         "--window-size=1280,900", format!("--user-data-dir={}", profile.path("profile"))]
            }
        }}});
        let created: Value = client
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {created}"))
            .to_owned();
        let chrome = Chrome {
            driver,
            client,
            session: format!("{base}/session/{session}"),
            axe: std::fs::read_to_string(&axe_path).unwrap(),
            _profile: profile,
        };
        chrome
            .cmd("POST", "/timeouts", json!({"script": 30000, "pageLoad": 30000}))
            .await;
        Some(chrome)
    }

    async fn cmd(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.session);
        let req = match method {
            "GET" => self.client.get(url),
            "DELETE" => self.client.delete(url),
            _ => self.client.post(url).json(&body),
        };
        let v: Value = req.send().await.unwrap().json().await.unwrap();
        if v["value"].get("error").is_some() {
            panic!("WebDriver {method} {path}: {}", v["value"]);
        }
        v["value"].clone()
    }

    async fn goto(&self, url: &str) {
        self.cmd("POST", "/url", json!({"url": url})).await;
    }

    async fn url(&self) -> String {
        self.cmd("GET", "/url", Value::Null).await.as_str().unwrap().to_owned()
    }

    async fn find(&self, css: &str) -> String {
        let el = self
            .cmd("POST", "/element", json!({"using": "css selector", "value": css}))
            .await;
        el[ELEMENT].as_str().unwrap().to_owned()
    }

    async fn type_into(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        self.cmd("POST", &format!("/element/{el}/clear"), json!({})).await;
        self.cmd("POST", &format!("/element/{el}/value"), json!({"text": text}))
            .await;
    }

    /// Sets a control's value as a picker would (a date control takes
    /// typed keys in the locale's order, which differs by machine).
    async fn set_value(&self, css: &str, value: &str) {
        self.cmd(
            "POST",
            "/execute/sync",
            json!({"script": "document.querySelector(arguments[0]).value = arguments[1]; return true;", "args": [css, value]}),
        )
        .await;
    }

    async fn click(&self, css: &str) {
        let el = self.find(css).await;
        self.cmd("POST", &format!("/element/{el}/click"), json!({})).await;
    }

    /// Waits (up to 10 s) for the page to be at `url`.
    async fn wait_url(&self, url: &str) -> String {
        for _ in 0..100 {
            let now = self.url().await;
            if now == url {
                return now;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.url().await
    }

    /// Waits (up to 10 s) for the page to show `needle`; returns its text.
    async fn wait_text(&self, needle: &str) -> String {
        for _ in 0..100 {
            let text = self.text().await;
            if text.contains(needle) {
                return text;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.text().await
    }

    async fn text(&self) -> String {
        self.cmd(
            "POST",
            "/execute/sync",
            json!({"script": "return document.body.innerText;", "args": []}),
        )
        .await
        .as_str()
        .unwrap_or("")
        .to_owned()
    }

    async fn screenshot(&self, name: &str) {
        let b64 = self.cmd("GET", "/screenshot", Value::Null).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap())
            .unwrap();
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/target/screenshots");
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(format!("{dir}/{name}.png"), png).unwrap();
    }

    /// Runs axe-core (WCAG 2.1 A and AA rules) on the page; returns the
    /// serious and critical violations.
    async fn serious_violations(&self) -> Vec<String> {
        self.cmd(
            "POST",
            "/execute/sync",
            json!({"script": format!("{};return true;", self.axe), "args": []}),
        )
        .await;
        let script = "const done = arguments[arguments.length - 1];
            axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})
              .then(r => done(JSON.stringify(r.violations)))
              .catch(e => done(JSON.stringify([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}])));";
        let out = self
            .cmd("POST", "/execute/async", json!({"script": script, "args": []}))
            .await;
        let violations: Vec<Value> = serde_json::from_str(out.as_str().unwrap()).unwrap();
        violations
            .iter()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .map(|v| {
                let targets: Vec<String> = v["nodes"]
                    .as_array()
                    .map_or(vec![], |ns| ns.iter().map(|n| n["target"].to_string()).collect());
                format!("{} ({}): {} at {}", v["id"], v["impact"], v["help"], targets.join(", "))
            })
            .collect()
    }

    /// Signs in through the form (with the test people's password) and
    /// waits for the home page.
    async fn sign_in(&self, base: &str, org: &str, email: &str) {
        self.sign_in_with(base, org, email, crate::helpers::PASSWORD).await;
    }

    async fn sign_in_with(&self, base: &str, org: &str, email: &str, password: &str) {
        self.goto(&format!("{base}/signin")).await;
        self.type_into("#org", org).await;
        self.type_into("#email", email).await;
        self.type_into("#password", password).await;
        self.click("form[action='/signin'] button[type=submit]").await;
        self.wait_url(&format!("{base}/")).await;
    }

    /// Ends the browser session, then fails the test on any serious
    /// accessibility violation found on the way.
    async fn finish(&self, failures: &[String]) {
        self.cmd("DELETE", "", Value::Null).await;
        assert!(
            failures.is_empty(),
            "serious accessibility violations:\n{}",
            failures.join("\n")
        );
    }

    /// Visits nothing new: checks the current page and saves its picture.
    async fn check_page(&self, name: &str, failures: &mut Vec<String>) {
        self.screenshot(name).await;
        for v in self.serious_violations().await {
            failures.push(format!("{name}: {v}"));
        }
    }
}

impl Drop for Chrome {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

#[tokio::test]
#[ignore = "needs Chromium, chromedriver and axe-core; .ci/run installs them and runs this"]
async fn a_person_signs_in_uses_the_pages_and_signs_out_in_chromium() {
    let Some(chrome) = Chrome::start().await else {
        return;
    };
    let app = TestApp::sqlite().await;
    belong::modules::seed_demo_if_empty(&app.state).await.unwrap();
    let base = format!("http://{}", app.addr);
    let mut failures = Vec::new();

    chrome.goto(&format!("{base}/signin")).await;
    chrome.check_page("signin", &mut failures).await;
    chrome.type_into("#email", belong::org::demo::OWNER_EMAIL).await;
    chrome.type_into("#password", belong::org::demo::PASSWORD).await;
    chrome.click("form[action='/signin'] button[type=submit]").await;
    assert_eq!(
        chrome.wait_url(&format!("{base}/")).await,
        format!("{base}/"),
        "signed in and sent home"
    );
    assert!(
        chrome
            .wait_text("Hello, Maya Okafor")
            .await
            .contains("Hello, Maya Okafor")
    );
    chrome.check_page("home", &mut failures).await;

    let pages = [
        ("people", "/people"),
        ("people-left", "/people?status=left"),
        ("person-new", "/people/new"),
        ("teams", "/teams"),
        ("import", "/import"),
        ("tokens", "/account/tokens"),
        ("my-data", "/account/data"),
        ("password", "/account/password"),
        ("audit", "/audit"),
        ("api", "/api"),
        ("pulse", "/pulse"),
        ("pulse-new", "/pulse/new"),
        ("not-found", "/no-such-page"),
    ];
    for (name, path) in pages {
        chrome.goto(&format!("{base}{path}")).await;
        chrome.check_page(name, &mut failures).await;
    }
    // The results of every closed cycle of the demo: bars, the coloured
    // heatmap and the trend pass axe-core, colour contrast included.
    let org = belong::org::service::org_by_slug(&app.state.db, belong::org::demo::ORG_SLUG)
        .await
        .unwrap()
        .unwrap()
        .id;
    let cycles = belong::pulse::service::cycles(&app.state, &belong::auth::Actor::system(org))
        .await
        .unwrap();
    for c in cycles.iter().filter(|c| c.is_closed()) {
        chrome.goto(&format!("{base}/pulse/cycles/{}", c.id)).await;
        chrome.check_page(&format!("results-{}", c.number), &mut failures).await;
    }
    // Opening a cycle asks first (or says one is open already).
    chrome.goto(&format!("{base}/pulse")).await;
    chrome.click("form[action$='/launch'] button").await;
    let mut asked = String::new();
    for _ in 0..100 {
        asked = chrome.text().await;
        if asked.contains("What will happen") || asked.contains("still open") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        asked.contains("What will happen") || asked.contains("still open"),
        "{asked}"
    );
    chrome.check_page("confirm-launch", &mut failures).await;

    // A person's page, reached by clicking through the list.
    chrome.goto(&format!("{base}/people?q=tomas")).await;
    chrome.click("table a[href^='/people/']").await;
    assert!(chrome.wait_text("Leaving").await.contains("Tomas Novak"));
    chrome.check_page("person", &mut failures).await;

    // Submit a form: add a team, and see it listed.
    chrome.goto(&format!("{base}/teams")).await;
    chrome.type_into("#name", "Night Shift").await;
    chrome.click("form[action='/teams'] button[type=submit]").await;
    assert!(
        chrome.wait_text("Night Shift").await.contains("Night Shift"),
        "the new team is listed"
    );
    // A form with an error shows it accessibly.
    chrome.type_into("#name", "Night Shift").await;
    chrome.click("form[action='/teams'] button[type=submit]").await;
    let shown = chrome.wait_text("another team of the organization has this name").await;
    assert!(
        shown.contains("another team of the organization has this name"),
        "{shown}"
    );
    chrome.check_page("teams-error", &mut failures).await;

    // Upload a CSV and see the preview.
    let dir = TempDir::new();
    let csv = dir.path("people.csv");
    std::fs::write(
        &csv,
        "name,email,team\nNew Person,new.person@fernhill.example,Night Shift\nBad,not-an-email,\n",
    )
    .unwrap();
    chrome.goto(&format!("{base}/import")).await;
    let input = chrome.find("#file").await;
    chrome
        .cmd("POST", &format!("/element/{input}/value"), json!({"text": csv}))
        .await;
    chrome.click("form[action^='/import'] button[type=submit]").await;
    let preview = chrome.wait_text("Preview of people.csv").await;
    assert!(preview.contains("Preview of people.csv"), "{preview}");
    assert!(preview.contains("not an email address"));
    chrome.check_page("import-preview", &mut failures).await;

    // On a phone-sized screen.
    chrome
        .cmd("POST", "/window/rect", json!({"width": 390, "height": 844}))
        .await;
    chrome.goto(&format!("{base}/people")).await;
    chrome.check_page("people-phone", &mut failures).await;

    // Sign out.
    chrome.click("details.me summary").await;
    chrome.click("form.signout button").await;
    assert_eq!(
        chrome.wait_url(&format!("{base}/signin")).await,
        format!("{base}/signin")
    );
    chrome.goto(&format!("{base}/people")).await;
    assert_eq!(
        chrome.url().await,
        format!("{base}/signin?next=%2Fpeople"),
        "signed out for real, and sent back there after signing in"
    );

    chrome.finish(&failures).await;
    app.run_jobs().await;
}

/// A new user gets the invitation at the real SMTP server, answers on a
/// phone-sized screen, and their manager sees the team's results.
#[tokio::test]
#[ignore = "needs Chromium, chromedriver and axe-core; .ci/run installs them and runs this"]
async fn an_invited_person_answers_on_a_phone_and_the_manager_sees_results() {
    use belong::auth::Role;
    let Some(chrome) = Chrome::start().await else {
        return;
    };
    let smtp = crate::helpers::SmtpSink::start(free_port(), 0);
    let app = TestApp::sqlite().await.with_mail(smtp.port).await;
    let org = app.org("Bars Co", "bars-co").await;
    let kitchen = app.team(org, "Kitchen", None).await;
    let bar = app.team(org, "Bar", None).await;
    app.person(org, "Hera Hr", "hera@bars.example", Role::HrAdmin, Some(bar))
        .await;
    let mut kitchen_people = Vec::new();
    for i in 0..6 {
        let role = if i == 0 { Role::Manager } else { Role::Employee };
        kitchen_people.push(
            app.person(
                org,
                &format!("Cook {i}"),
                &format!("cook{i}@bars.example"),
                role,
                Some(kitchen),
            )
            .await,
        );
    }
    let mut bar_people = Vec::new();
    for i in 0..5 {
        bar_people.push(
            app.person(
                org,
                &format!("Barista {i}"),
                &format!("barista{i}@bars.example"),
                Role::Employee,
                Some(bar),
            )
            .await,
        );
    }
    let bank = belong::pulse::service::question_bank(&app.state, org).await.unwrap();
    let questions = belong::pulse::model::default_selection(&bank)
        .into_iter()
        .filter(|(_, core)| *core)
        .collect();
    let hr_actor = belong::auth::Actor {
        org_id: org,
        person_id: 0,
        role: Role::Owner,
    };
    let input = belong::pulse::model::PulseInput {
        title: "Kitchen pulse".into(),
        schedule: belong::pulse::model::Schedule::Once,
        open_days: 7,
        remind_days: 3,
        per_cycle: 7,
        teams: None,
        questions,
    };
    let pulse = belong::pulse::service::create_pulse(&app.state, &hr_actor, &input)
        .await
        .unwrap();
    let cycle = belong::pulse::service::launch(&app.state, org, pulse).await.unwrap();
    belong::jobs::run_due(&app.state, "t").await.unwrap();
    let mail = smtp
        .received()
        .into_iter()
        .find(|m| m.to == "cook3@bars.example")
        .expect("Cook 3 got an invitation");
    let start = mail.text.find("http://").unwrap();
    let link: String = mail.text[start..].chars().take_while(|c| !c.is_whitespace()).collect();

    // Cook 3 answers on a phone.
    let mut failures = Vec::new();
    chrome
        .cmd("POST", "/window/rect", json!({"width": 390, "height": 844}))
        .await;
    chrome.goto(&link).await;
    assert!(
        chrome
            .wait_text("Your answers are anonymous")
            .await
            .contains("Kitchen pulse")
    );
    chrome.check_page("answer-phone", &mut failures).await;
    let mut conn = app.state.db.pool.acquire().await.unwrap();
    let asked = belong::pulse::service::cycle_questions(&mut conn, org, cycle)
        .await
        .unwrap();
    drop(conn);
    for q in &asked {
        match q.pillar.scale() {
            Some((_, high)) => {
                chrome
                    .click(&format!("input[name='q{}'][value='{}']", q.id, high - 1))
                    .await
            }
            None => chrome.type_into(&format!("#q{}", q.id), "Kind colleagues.").await,
        }
    }
    chrome.click("form.pulse button[type=submit]").await;
    assert!(chrome.wait_text("Your answers are in").await.contains("Thank you"));
    chrome.check_page("answered-phone", &mut failures).await;

    // Everyone else answers too; HR closes the pulse.
    for p in kitchen_people.iter().chain(&bar_people) {
        let fields: Vec<(String, String)> = asked
            .iter()
            .filter(|q| q.pillar.scale().is_some())
            .map(|q| (format!("q{}", q.id), q.pillar.scale().unwrap().1.to_string()))
            .collect();
        let _ = belong::pulse::service::submit(&app.state, org, cycle, *p, &fields).await;
    }
    belong::pulse::service::close(&app.state, org, cycle).await.unwrap();

    // The Kitchen manager sees the team's results.
    chrome
        .cmd("POST", "/window/rect", json!({"width": 1280, "height": 900}))
        .await;
    let base = format!("http://{}", app.addr);
    chrome.goto(&format!("{base}/signin")).await;
    chrome.type_into("#email", "cook0@bars.example").await;
    chrome.type_into("#password", crate::helpers::PASSWORD).await;
    chrome.click("form[action='/signin'] button[type=submit]").await;
    chrome.wait_url(&format!("{base}/")).await;
    chrome
        .goto(&format!("{base}/pulse/cycles/{cycle}?group=team:{kitchen}"))
        .await;
    let page = chrome.wait_text("Belonging Index").await;
    assert!(
        page.contains("Belonging Index") && page.contains("6 responses"),
        "{page}"
    );
    chrome.check_page("manager-results", &mut failures).await;
    chrome.finish(&failures).await;
}

/// Acceptance of the feedback box: four messages between an anonymous
/// sender and a manager, in Chromium, with the code kept on the device.
#[tokio::test]
#[ignore = "needs Chromium, chromedriver and axe-core; .ci/run installs them and runs this"]
async fn an_anonymous_sender_and_a_manager_exchange_four_messages_in_chromium() {
    use belong::auth::Role;
    let Some(chrome) = Chrome::start().await else {
        return;
    };
    let app = TestApp::sqlite().await;
    let org = app.org("Bars Co", "bars-co").await;
    let kitchen = app.team(org, "Kitchen", None).await;
    for i in 0..6 {
        let role = if i == 0 { Role::Manager } else { Role::Employee };
        app.person(
            org,
            &format!("Cook {i}"),
            &format!("cook{i}@bars.example"),
            role,
            Some(kitchen),
        )
        .await;
    }
    let base = format!("http://{}", app.addr);
    let mut failures = Vec::new();
    let sign_in = |email: &'static str| chrome.sign_in(&base, "bars-co", email);
    let sign_out = || async {
        chrome.click("details.me summary").await;
        chrome.click("form.signout button").await;
        chrome.wait_url(&format!("{base}/signin")).await;
    };
    let digest = || async {
        app.clock.advance(jiff::SignedDuration::from_hours(25));
        belong::jobs::schedule::queue_due(&app.state).await.unwrap();
        belong::jobs::run_due(&app.state, "t").await.unwrap();
    };

    // 1. Cook 4 writes to the kitchen's managers and keeps the code here.
    sign_in("cook4@bars.example").await;
    chrome.goto(&format!("{base}/voice")).await;
    chrome.wait_text("Send a message").await;
    chrome.check_page("voice-box", &mut failures).await;
    chrome.click(&format!("#team option[value='{kitchen}']")).await;
    chrome.type_into("#topic", "rota").await;
    chrome
        .type_into("#body", "The rota changes too late for us to plan. FIRST")
        .await;
    chrome.click("form[action='/voice'] button[type=submit]").await;
    let sent = chrome.wait_text("Your code").await;
    assert!(sent.contains("Managers of Kitchen"), "{sent}");
    chrome.check_page("voice-sent", &mut failures).await;
    chrome.click("#keep-code").await;
    assert!(
        chrome
            .wait_text("Kept on this device")
            .await
            .contains("Kept on this device")
    );
    sign_out().await;
    digest().await;

    // 2. The manager reads it in the inbox and replies.
    sign_in("cook0@bars.example").await;
    chrome.goto(&format!("{base}/voice/inbox")).await;
    chrome.wait_text("reply due").await;
    chrome.check_page("voice-inbox", &mut failures).await;
    chrome.click("table a[href^='/voice/inbox/']").await;
    assert!(chrome.wait_text("FIRST").await.contains("rota"));
    chrome
        .type_into("#body", "Thanks. Would two weeks ahead work? SECOND")
        .await;
    chrome.click("form[action$='/reply'] button[type=submit]").await;
    chrome.wait_text("SECOND").await;
    chrome.check_page("voice-inbox-thread", &mut failures).await;
    sign_out().await;

    // 3. Signed out, the sender opens the thread with the kept code.
    chrome.goto(&format!("{base}/voice")).await;
    chrome.wait_text("Codes kept on this device").await;
    chrome.click("#kept-list button").await;
    let thread = chrome.wait_text("SECOND").await;
    assert!(thread.contains("Cook 0") && thread.contains("FIRST"), "{thread}");
    chrome.check_page("voice-thread", &mut failures).await;
    chrome.type_into("#body", "Two weeks would be great. THIRD").await;
    chrome
        .click("form[action='/voice/thread/reply'] button[type=submit]")
        .await;
    assert!(chrome.wait_text("waiting for the next digest").await.contains("THIRD"));
    digest().await;

    // 4. The manager answers once more; the sender reads all four.
    sign_in("cook0@bars.example").await;
    chrome.goto(&format!("{base}/voice/inbox")).await;
    chrome.click("table a[href^='/voice/inbox/']").await;
    chrome.wait_text("THIRD").await;
    chrome
        .type_into("#body", "Done: the rota is out two weeks ahead from May. FOURTH")
        .await;
    chrome.click("form[action$='/reply'] button[type=submit]").await;
    chrome.wait_text("FOURTH").await;
    sign_out().await;
    chrome.goto(&format!("{base}/voice")).await;
    chrome.wait_text("Codes kept on this device").await;
    chrome.click("#kept-list button").await;
    let all = chrome.wait_text("FOURTH").await;
    for mark in ["FIRST", "SECOND", "THIRD", "FOURTH"] {
        assert!(all.contains(mark), "{mark} missing: {all}");
    }
    assert!(!all.contains("Cook 4"), "the sender's name shows: {all}");
    assert!(failures.is_empty(), "accessibility: {failures:#?}");
}

/// A thank-you posted in Chromium, a reaction, and the recognition pages
/// checked by axe-core.
#[tokio::test]
#[ignore = "needs Chromium, chromedriver and axe-core; .ci/run installs them and runs this"]
async fn a_thank_you_is_posted_and_reacted_to_in_chromium() {
    use belong::auth::Role;
    let Some(chrome) = Chrome::start().await else {
        return;
    };
    let app = TestApp::sqlite().await;
    let org = app.org("Bars Co", "bars-co").await;
    let kitchen = app.team(org, "Kitchen", None).await;
    app.person(org, "Hera Hr", "hera@bars.example", Role::HrAdmin, None)
        .await;
    app.person(org, "Kim Manager", "kim@bars.example", Role::Manager, Some(kitchen))
        .await;
    let mut cooks = Vec::new();
    for i in 1..5 {
        cooks.push(
            app.person(
                org,
                &format!("Cook {i}"),
                &format!("cook{i}@bars.example"),
                Role::Employee,
                Some(kitchen),
            )
            .await,
        );
    }
    let hr = belong::auth::Actor {
        org_id: org,
        person_id: 0,
        role: Role::HrAdmin,
    };
    let care =
        belong::recognition::service::add_value(&app.state, &hr, "Care", "We look out for each other", "support")
            .await
            .unwrap();
    let base = format!("http://{}", app.addr);
    let mut failures = Vec::new();
    let sign_in = |email: &'static str| chrome.sign_in(&base, "bars-co", email);

    sign_in("cook1@bars.example").await;
    chrome.goto(&format!("{base}/thanks")).await;
    chrome.wait_text("No thank-yous here yet").await;
    chrome.click("details.card summary").await;
    chrome.check_page("thanks-board-empty", &mut failures).await;
    // The colleague picker narrows as a name is typed; choices stay.
    chrome.type_into(".picker-filter", "cook 2").await;
    let listed = chrome
        .cmd(
            "POST",
            "/execute/sync",
            json!({"script": "return Array.from(document.querySelectorAll('.picker-list label')).filter(l => !l.hidden).map(l => l.textContent.trim());", "args": []}),
        )
        .await;
    assert_eq!(listed, json!(["Cook 2"]), "{listed}");
    chrome.click(&format!("#recipients input[value='{}']", cooks[1])).await;
    chrome.type_into(".picker-filter", "cook 3").await;
    chrome.click(&format!("#recipients input[value='{}']", cooks[2])).await;
    chrome.click(&format!("#value option[value='{care}']")).await;
    chrome
        .type_into("#message", "For covering my shift on Sunday. MERCI")
        .await;
    chrome.click("form[action='/thanks'] button[type=submit]").await;
    let board = chrome.wait_text("Posted").await;
    assert!(board.contains("Cook 1 thanked Cook 2, Cook 3 for Care"), "{board}");
    assert!(board.contains("MERCI"));
    // The author sees the reactions, with nothing to press.
    let buttons = chrome
        .cmd(
            "POST",
            "/execute/sync",
            json!({"script": "return document.querySelectorAll(\"form[action$='/react']\").length;", "args": []}),
        )
        .await;
    assert_eq!(buttons, json!(0), "no reacting to one's own thank-you");
    chrome.click("details.me summary").await;
    chrome.click("form.signout button").await;
    chrome.wait_url(&format!("{base}/signin")).await;
    // A recipient reacts, and sees that they did.
    sign_in("cook2@bars.example").await;
    chrome.goto(&format!("{base}/thanks")).await;
    chrome.wait_text("MERCI").await;
    chrome.click("button[aria-label='Love: 0']").await;
    assert!(chrome.wait_text("You reacted.").await.contains("✓ Love · 1"));
    let pressed = chrome
        .cmd(
            "POST",
            "/execute/sync",
            json!({"script": "return document.querySelector(\"button[aria-label='Love: 1, yours among them']\").getAttribute('aria-pressed');", "args": []}),
        )
        .await;
    assert_eq!(pressed, json!("true"));
    chrome.check_page("thanks-board", &mut failures).await;
    chrome.goto(&format!("{base}/thanks/awards")).await;
    chrome.wait_text("Employee of the month").await;
    chrome.check_page("thanks-awards", &mut failures).await;
    chrome.click("details.me summary").await;
    chrome.click("form.signout button").await;
    chrome.wait_url(&format!("{base}/signin")).await;

    sign_in("kim@bars.example").await;
    chrome.goto(&format!("{base}/thanks/coverage")).await;
    let coverage = chrome.wait_text("Not thanked in the last 60 days").await;
    assert!(
        coverage.contains("Cook 4") && !coverage.contains("Cook 2\t"),
        "{coverage}"
    );
    chrome.check_page("thanks-coverage", &mut failures).await;
    chrome.click("details.me summary").await;
    chrome.click("form.signout button").await;
    chrome.wait_url(&format!("{base}/signin")).await;

    sign_in("hera@bars.example").await;
    chrome.goto(&format!("{base}/thanks/values")).await;
    chrome.wait_text("Company values").await;
    chrome.check_page("thanks-values", &mut failures).await;
    assert!(failures.is_empty(), "accessibility: {failures:#?}");
    app.run_jobs().await;
}

#[tokio::test]
#[ignore = "needs Chromium, chromedriver and axe-core; .ci/run installs them and runs this"]
async fn an_empty_installation_is_set_up_in_the_browser_up_to_its_first_pulse() {
    let Some(chrome) = Chrome::start().await else {
        return;
    };
    // Invitations go to a mail server written by others (aiosmtpd).
    let smtp = crate::smtp::ExternalSmtp::start(free_port(), 0);
    let app = TestApp::sqlite().await.with_mail(smtp.port).await;
    let base = format!("http://{}", app.addr);
    let mut failures = Vec::new();

    // The first visit, wherever it goes, lands on the set-up form.
    chrome.goto(&format!("{base}/")).await;
    assert_eq!(chrome.wait_url(&format!("{base}/setup")).await, format!("{base}/setup"));
    chrome.wait_text("Set up belong").await;
    chrome.check_page("setup", &mut failures).await;

    // A wrong code is refused beside its field; what was typed stays.
    chrome.type_into("#code", "AAAA-AAAA").await;
    chrome.type_into("#org_name", "Bars Co").await;
    chrome.type_into("#name", "Olga Owner").await;
    chrome.type_into("#email", "olga@bars.example").await;
    chrome.type_into("#password", "a long enough secret").await;
    chrome.type_into("#confirm", "a long enough secret").await;
    chrome.click("form[action='/setup'] button[type=submit]").await;
    let refused = chrome.wait_text("not the code printed").await;
    assert!(
        refused.contains("Setup code: this is not the code printed"),
        "{refused}"
    );
    chrome.check_page("setup-refused", &mut failures).await;
    let code = app.state.part::<belong::org::setup::SetupCode>().shown().to_owned();
    chrome.type_into("#code", &code.to_lowercase()).await;
    chrome.type_into("#password", "a long enough secret").await;
    chrome.type_into("#confirm", "a long enough secret").await;
    chrome.click("form[action='/setup'] button[type=submit]").await;

    // Signed in as the owner, with the checklist on the home page.
    let home = chrome.wait_text("Set up Bars Co").await;
    assert!(home.contains("Hello, Olga Owner"), "{home}");
    assert!(home.contains("1 of 5 done"), "email is on; nothing else yet: {home}");
    chrome.check_page("setup-checklist", &mut failures).await;
    // Once set up, the set-up page is gone.
    chrome.goto(&format!("{base}/setup")).await;
    chrome.wait_text("Page not found").await;

    // People: one through the form, four from a CSV file, all invited.
    chrome.goto(&format!("{base}/people/new")).await;
    chrome.type_into("#name", "Hera Hr").await;
    chrome.type_into("#email", "hera@bars.example").await;
    let invite = chrome.find("#invite").await;
    let checked = chrome
        .cmd("GET", &format!("/element/{invite}/selected"), Value::Null)
        .await;
    assert_eq!(checked, json!(true), "invitations are on by default when email works");
    chrome.check_page("add-person", &mut failures).await;
    chrome.click("form[action='/people'] button[type=submit]").await;
    chrome.wait_text("Leaving").await;
    let dir = TempDir::new();
    let csv = dir.path("people.csv");
    std::fs::write(
        &csv,
        "name,email,team\nCook One,cook1@bars.example,Kitchen\nCook Two,cook2@bars.example,Kitchen\n\
         Cook Three,cook3@bars.example,Kitchen\nBarista Four,barista4@bars.example,Bar\n",
    )
    .unwrap();
    chrome.goto(&format!("{base}/import")).await;
    let input = chrome.find("#file").await;
    chrome
        .cmd("POST", &format!("/element/{input}/value"), json!({"text": csv}))
        .await;
    chrome.click("form[action^='/import'] button[type=submit]").await;
    let preview = chrome.wait_text("Preview of people.csv").await;
    assert!(
        preview.contains("Send each person added an invitation email"),
        "{preview}"
    );
    chrome.check_page("import-invite", &mut failures).await;
    chrome.click("form[action$='/apply'] button[type=submit]").await;
    let done = chrome.wait_text("Import done").await;
    assert!(
        done.contains("4 people added") && done.contains("4 invitations are on their way"),
        "{done}"
    );
    assert!(
        done.contains("Cook Three"),
        "the people list, with the people added: {done}"
    );

    // The invitations arrive at the SMTP server, each with a link that
    // signs its person in.
    belong::jobs::run_due(&app.state, "t").await.unwrap();
    let invitations: Vec<_> = smtp
        .received()
        .into_iter()
        .filter(|m| m.subject.contains("invites you"))
        .collect();
    let mut to: Vec<String> = invitations.iter().map(|m| m.to.clone()).collect();
    to.sort();
    assert_eq!(
        to,
        [
            "barista4@bars.example",
            "cook1@bars.example",
            "cook2@bars.example",
            "cook3@bars.example",
            "hera@bars.example"
        ],
        "one invitation each"
    );
    for m in &invitations {
        assert!(
            m.subject.contains("Olga Owner invites you to belong for Bars Co"),
            "{}",
            m.subject
        );
        assert!(m.text.contains("\"bars-co\""), "{}", m.text);
        assert!(
            crate::helpers::link_path(&m.text, "/signin/link/").is_some(),
            "{}",
            m.text
        );
    }

    // The first pulse, with the designer's defaults, opened after asking.
    chrome.goto(&format!("{base}/pulse/new")).await;
    chrome.type_into("#title", "Monthly pulse").await;
    chrome.click("form[action='/pulse'] button[type=submit]").await;
    chrome.wait_text("Open a cycle now").await;
    chrome.click("form[action$='/launch'] button").await;
    chrome.wait_text("What will happen").await;
    chrome.check_page("first-launch", &mut failures).await;
    chrome.click("section.confirm button[type=submit]").await;
    chrome.wait_text("participation").await;
    belong::jobs::run_due(&app.state, "t").await.unwrap();
    let asked = smtp
        .received()
        .into_iter()
        .filter(|m| m.subject.contains("Monthly pulse"))
        .count();
    assert_eq!(asked, 6, "everyone, the owner included, is asked");
    chrome.goto(&format!("{base}/")).await;
    let home = chrome.wait_text("Set up Bars Co").await;
    assert!(home.contains("3 of 5 done"), "email, people and the pulse: {home}");

    // An invited person follows their link and is signed in.
    let link = crate::helpers::link_path(&invitations[0].text, "/signin/link/").unwrap();
    chrome.click("details.me summary").await;
    chrome.click("form.signout button").await;
    chrome.wait_url(&format!("{base}/signin")).await;
    chrome.goto(&format!("{base}{link}")).await;
    chrome.click("form[action^='/signin/link/'] button[type=submit]").await;
    let theirs = chrome.wait_text("A pulse is waiting for you").await;
    assert!(theirs.contains("A pulse is waiting for you"), "{theirs}");

    chrome.finish(&failures).await;
    app.run_jobs().await;
}

#[tokio::test]
#[ignore = "needs Chromium, chromedriver and axe-core; .ci/run installs them and runs this"]
async fn an_hr_admin_runs_people_pulses_and_recognition_in_chromium() {
    let Some(chrome) = Chrome::start().await else {
        return;
    };
    let app = TestApp::sqlite().await;
    belong::modules::seed_demo_if_empty(&app.state).await.unwrap();
    let base = format!("http://{}", app.addr);
    let mut failures = Vec::new();

    use belong::org::demo;
    chrome
        .sign_in_with(&base, demo::ORG_SLUG, demo::HR_EMAIL, demo::PASSWORD)
        .await;
    assert!(chrome.wait_text("Hello, Jonas Weber").await.contains("HR admin"));
    chrome.check_page("hr-home", &mut failures).await;

    // The pages an HR admin works in.
    for (name, path) in [
        ("hr-people", "/people"),
        ("hr-teams", "/teams"),
        ("hr-pulse", "/pulse"),
        ("hr-questions", "/pulse/questions"),
        ("hr-segments", "/pulse/segments"),
        ("hr-how-anonymity-works", "/pulse/how-anonymity-works"),
        ("hr-values", "/thanks/values"),
        ("hr-coverage", "/thanks/coverage"),
        ("hr-awards", "/thanks/awards"),
        ("hr-inbox", "/voice/inbox"),
    ] {
        chrome.goto(&format!("{base}{path}")).await;
        chrome.check_page(name, &mut failures).await;
    }

    // A question for the bank: refused first, with its field marked, then added.
    chrome.goto(&format!("{base}/pulse/questions")).await;
    chrome.type_into("form[action='/pulse/questions'] #text", " ").await;
    chrome
        .click("form[action='/pulse/questions'] button[type=submit]")
        .await;
    let refused = chrome.wait_text("Please correct the marked fields").await;
    assert!(refused.contains("Wording: write the question"), "{refused}");
    chrome.check_page("hr-question-refused", &mut failures).await;
    chrome
        .type_into("form[action='/pulse/questions'] #text", "I can switch off after work.")
        .await;
    chrome
        .click("form[action='/pulse/questions'] button[type=submit]")
        .await;
    assert!(
        chrome
            .wait_text("The question was added")
            .await
            .contains("I can switch off after work.")
    );

    // A pulse designed wrong shows every problem at once, kept as typed.
    chrome.goto(&format!("{base}/pulse/new")).await;
    chrome.type_into("#title", "").await;
    chrome.type_into("#open_days", "40").await;
    chrome.click("form[action='/pulse'] button[type=submit]").await;
    let refused = chrome.wait_text("Please correct the marked fields").await;
    assert!(
        refused.contains("Title: give the pulse a title")
            && refused.contains("Days each cycle stays open: a cycle stays open 1 to 28 days"),
        "{refused}"
    );
    chrome.check_page("hr-pulse-refused", &mut failures).await;

    // A company value, then an award round that opens for nominations.
    chrome.goto(&format!("{base}/thanks/values")).await;
    chrome
        .type_into("form[action='/thanks/values'] #name", "Patience")
        .await;
    chrome
        .type_into(
            "form[action='/thanks/values'] #description",
            "We ask why, and listen to the answer.",
        )
        .await;
    chrome.click("form[action='/thanks/values'] button[type=submit]").await;
    let saved = chrome.wait_text("Saved.").await;
    assert!(saved.contains("Saved."), "{saved}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM org_values WHERE name = 'Patience'")
            .await,
        1
    );
    chrome.goto(&format!("{base}/thanks/awards")).await;
    let awards = chrome.text().await;
    if !awards.contains("Nominations are open") && !awards.contains("Voting is open") {
        chrome
            .type_into("form[action='/thanks/awards'] #title", "Colleague of the month")
            .await;
        chrome.click("form[action='/thanks/awards'] button[type=submit]").await;
        assert!(
            chrome
                .wait_text("Nominations are open")
                .await
                .contains("Colleague of the month")
        );
    }
    chrome.check_page("hr-awards-open", &mut failures).await;

    // The same work on a phone.
    chrome
        .cmd("POST", "/window/rect", json!({"width": 390, "height": 844}))
        .await;
    for (name, path) in [
        ("hr-phone-pulse", "/pulse"),
        ("hr-phone-people", "/people"),
        ("hr-phone-inbox", "/voice/inbox"),
    ] {
        chrome.goto(&format!("{base}{path}")).await;
        chrome.check_page(name, &mut failures).await;
    }

    chrome.finish(&failures).await;
    app.run_jobs().await;
}

/// Acceptance of insights: a manager turns a released team result into an
/// action with an owner and a due date; the owner's email arrives at a mail
/// server written by others (aiosmtpd); an employee of the team sees the
/// action with its status on "You said, we did"; every page passes axe.
#[tokio::test]
#[ignore = "needs Chromium, chromedriver and axe-core; .ci/run installs them and runs this"]
async fn a_manager_turns_a_result_into_an_action_the_team_sees_on_you_said_we_did() {
    use belong::auth::{Actor, Role};
    use belong::privacy::plan::Group;
    let Some(chrome) = Chrome::start().await else {
        return;
    };
    let smtp = crate::smtp::ExternalSmtp::start(free_port(), 0);
    let app = TestApp::sqlite().await.with_mail(smtp.port).await;
    belong::modules::seed_demo_if_empty(&app.state).await.unwrap();
    app.run_jobs().await;
    let before = smtp.received().len();
    let base = format!("http://{}", app.addr);
    let mut failures = Vec::new();
    use belong::org::demo;

    // A team whose result the plan released in some cycle, with its
    // manager and an employee: found as HR sees it.
    let org = belong::org::service::org_by_slug(&app.state.db, demo::ORG_SLUG)
        .await
        .unwrap()
        .unwrap();
    let dir = belong::org::service::directory(&app.state.db, org.id).await.unwrap();
    let hr = dir.people.iter().find(|p| p.role == Role::HrAdmin).unwrap();
    let hr = Actor {
        org_id: org.id,
        person_id: hr.id,
        role: hr.role,
    };
    let visible = belong::pulse::service::visible_groups(&app.state, &hr).await.unwrap();
    let mut cycles = belong::pulse::service::cycles(&app.state, &hr).await.unwrap();
    cycles.sort_by_key(|c| std::cmp::Reverse(c.number));
    let mut found = None;
    'search: for cycle in &cycles {
        for team in &dir.teams {
            let manager = dir
                .people
                .iter()
                .find(|p| p.team_id == Some(team.id) && p.role == Role::Manager);
            let employee = dir
                .people
                .iter()
                .find(|p| p.team_id == Some(team.id) && p.role == Role::Employee);
            let (Some(manager), Some(employee)) = (manager, employee) else {
                continue;
            };
            let (_, view) = belong::pulse::service::view(&app.state, &hr, &visible, cycle.id, &Group::Team(team.id))
                .await
                .unwrap();
            if matches!(view, belong::pulse::service::View::Released(_)) {
                found = Some((cycle.id, team.id, manager.clone(), employee.clone()));
                break 'search;
            }
        }
    }
    let (cycle, team, manager, employee) = found.expect("the demo releases some team's result");

    chrome
        .sign_in_with(&base, demo::ORG_SLUG, &manager.email, demo::PASSWORD)
        .await;
    chrome
        .goto(&format!("{base}/pulse/cycles/{cycle}?group=team:{team}"))
        .await;
    chrome.wait_text("Plan an action").await;
    chrome.check_page("insights-results", &mut failures).await;
    chrome.click("a[href^='/actions/new']").await;
    chrome.wait_text("Plan an action").await;
    chrome.check_page("insights-action-form", &mut failures).await;
    // A due date in the past is refused beside its field.
    chrome
        .type_into("#title", "A fortnightly retro with the whole team")
        .await;
    chrome.click(&format!("#owner option[value='{}']", employee.id)).await;
    chrome.set_value("#due_date", "2020-01-01").await;
    chrome.click("form[action='/actions'] button[type=submit]").await;
    let refused = chrome.wait_text("Please correct the marked fields").await;
    assert!(refused.contains("Due: choose a day from today"), "{refused}");
    chrome.check_page("insights-action-refused", &mut failures).await;
    let due = app
        .state
        .now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .saturating_add(jiff::Span::new().days(21));
    chrome.set_value("#due_date", &due.to_string()).await;
    chrome.click("form[action='/actions'] button[type=submit]").await;
    let planned = chrome.wait_text("The action is planned.").await;
    assert!(planned.contains("A fortnightly retro with the whole team"), "{planned}");
    assert!(planned.contains(&employee.name), "{planned}");
    chrome.check_page("insights-action", &mut failures).await;

    // The owner hears by email, at aiosmtpd.
    app.run_jobs().await;
    let mail = smtp.received();
    let told = mail[before..]
        .iter()
        .find(|m| m.to == employee.email)
        .unwrap_or_else(|| panic!("no email to the owner among {mail:?}"));
    assert!(
        told.subject
            .contains("made you the owner of an action: A fortnightly retro"),
        "{}",
        told.subject
    );

    // The employee sees it, with its status, on You said, we did.
    chrome.cmd("DELETE", "/cookie", Value::Null).await;
    chrome
        .sign_in_with(&base, demo::ORG_SLUG, &employee.email, demo::PASSWORD)
        .await;
    chrome.goto(&format!("{base}/you-said-we-did")).await;
    let said = chrome.wait_text("A fortnightly retro with the whole team").await;
    assert!(
        said.contains("A fortnightly retro with the whole team — Planned"),
        "{said}"
    );
    chrome.check_page("insights-you-said", &mut failures).await;

    // HR reads the initiative's impact report.
    chrome.cmd("DELETE", "/cookie", Value::Null).await;
    chrome
        .sign_in_with(&base, demo::ORG_SLUG, demo::HR_EMAIL, demo::PASSWORD)
        .await;
    chrome.goto(&format!("{base}/initiatives")).await;
    chrome.wait_text("Weekly huddles").await;
    chrome.check_page("insights-initiatives", &mut failures).await;
    chrome.goto(&format!("{base}/initiatives/new")).await;
    chrome.wait_text("New initiative").await;
    chrome.check_page("insights-initiative-form", &mut failures).await;
    let id = app.count("SELECT id FROM initiatives").await;
    chrome.goto(&format!("{base}/initiatives/{id}")).await;
    chrome.wait_text("Did it work?").await;
    chrome.check_page("insights-impact", &mut failures).await;

    chrome.finish(&failures).await;
    app.run_jobs().await;
}

#[tokio::test]
#[ignore = "needs Chromium, chromedriver and axe-core; .ci/run installs them and runs this"]
async fn a_manager_and_a_report_hold_a_stay_interview_whose_notes_only_they_read() {
    use belong::org::demo;
    let Some(chrome) = Chrome::start().await else {
        return;
    };
    let smtp = crate::smtp::ExternalSmtp::start(free_port(), 0);
    let app = TestApp::sqlite().await.with_mail(smtp.port).await;
    belong::modules::seed_demo_if_empty(&app.state).await.unwrap();
    app.run_jobs().await;
    let before = smtp.received().len();
    let base = format!("http://{}", app.addr);
    let mut failures = Vec::new();
    let tomas = app
        .count(&format!(
            "SELECT id FROM people WHERE email = '{}'",
            demo::EMPLOYEE_EMAIL
        ))
        .await;
    let tomorrow = app
        .state
        .now()
        .to_zoned(jiff::tz::TimeZone::get("Europe/Berlin").unwrap())
        .date()
        .saturating_add(jiff::Span::new().days(1));

    // Lena schedules a stay interview with Tomas, from her talks page.
    chrome
        .sign_in_with(&base, demo::ORG_SLUG, demo::MANAGER_EMAIL, demo::PASSWORD)
        .await;
    chrome.goto(&format!("{base}/talks")).await;
    chrome.wait_text("Past talks").await;
    chrome.check_page("talks", &mut failures).await;
    chrome.click("a[href='/talks/new']").await;
    chrome.wait_text("Schedule and send the invites").await;
    chrome.click(&format!("#with option[value='{tomas}']")).await;
    let stay = app
        .count("SELECT id FROM talk_templates WHERE kind = 'stay' AND current = 1")
        .await;
    chrome.click(&format!("#template option[value='{stay}']")).await;
    chrome.set_value("#date", "2020-01-01").await;
    chrome.click("form[action='/talks'] button[type=submit]").await;
    let refused = chrome.wait_text("Please correct the marked fields").await;
    assert!(refused.contains("Date: choose a time from now on"), "{refused}");
    chrome.check_page("talk-form-refused", &mut failures).await;
    chrome.set_value("#date", &tomorrow.to_string()).await;
    chrome.set_value("#time", "10:00").await;
    chrome.click("#cadence option[value='182']").await;
    chrome.click("form[action='/talks'] button[type=submit]").await;
    chrome.wait_text("you both have an invite").await;
    let talk: i64 = chrome
        .url()
        .await
        .split("/talks/")
        .nth(1)
        .and_then(|s| s.split('?').next())
        .and_then(|s| s.parse().ok())
        .expect("the talk's page");
    chrome.check_page("talk", &mut failures).await;
    // Both get the invite at aiosmtpd.
    app.run_jobs().await;
    let mail = smtp.received();
    let invite = mail[before..]
        .iter()
        .find(|m| m.to.contains(demo::EMPLOYEE_EMAIL))
        .unwrap_or_else(|| panic!("no invite for Tomas among {mail:?}"));
    assert_eq!(invite.calendar_method, "REQUEST");
    assert!(invite.calendar.contains(&format!("UID:talk-{talk}@belong")));

    // Lena writes a shared note, a private one, and an action item.
    chrome
        .type_into("#shared_0", "Feels close to the team since the offsite BROWSERSHARED")
        .await;
    chrome
        .type_into("#private_0", "Check workload next time BROWSERPRIVATE")
        .await;
    chrome.click("form[action$='/notes'] button[type=submit]").await;
    chrome.wait_text("Your notes are saved.").await;
    chrome.type_into("#text", "Book the system design course").await;
    chrome.click("form[action$='/items'] button[type=submit]").await;
    chrome.wait_text("The action item is saved.").await;
    chrome.check_page("talk-notes", &mut failures).await;

    // The talk happens; Tomas reads the shared note, not Lena's private
    // one, and writes his own.
    app.clock.advance(jiff::SignedDuration::from_hours(40));
    chrome.cmd("DELETE", "/cookie", Value::Null).await;
    chrome
        .sign_in_with(&base, demo::ORG_SLUG, demo::EMPLOYEE_EMAIL, demo::PASSWORD)
        .await;
    chrome.goto(&format!("{base}/talks/{talk}")).await;
    let seen = chrome.wait_text("BROWSERSHARED").await;
    assert!(!seen.contains("BROWSERPRIVATE"), "Tomas reads Lena's private note");
    assert!(seen.contains("may have to be disclosed"), "{seen}");
    chrome
        .type_into("#private_0", "Ask about the Lisbon team BROWSERTOMAS")
        .await;
    chrome.click("form[action$='/notes'] button[type=submit]").await;
    chrome.wait_text("Your notes are saved.").await;
    chrome.click("form[action$='/held'] button[type=submit]").await;
    chrome.wait_text("Marked as held.").await;

    // Lena schedules their next 1:1: the open item comes back at its top.
    chrome.cmd("DELETE", "/cookie", Value::Null).await;
    chrome
        .sign_in_with(&base, demo::ORG_SLUG, demo::MANAGER_EMAIL, demo::PASSWORD)
        .await;
    let one = app
        .count("SELECT id FROM talk_templates WHERE kind = 'one_on_one' AND current = 1")
        .await;
    let later = tomorrow.saturating_add(jiff::Span::new().days(7));
    chrome
        .goto(&format!("{base}/talks/new?with={tomas}&template={one}&date={later}"))
        .await;
    chrome.wait_text("Schedule and send the invites").await;
    chrome.click("form[action='/talks'] button[type=submit]").await;
    let next = chrome.wait_text("From earlier talks").await;
    assert!(next.contains("Book the system design course"), "{next}");
    assert!(!next.contains("BROWSERTOMAS"), "Lena reads Tomas's private note");
    chrome.check_page("talk-carried", &mut failures).await;

    // HR sees counts only; the talk itself is not there for them.
    chrome.cmd("DELETE", "/cookie", Value::Null).await;
    chrome
        .sign_in_with(&base, demo::ORG_SLUG, demo::HR_EMAIL, demo::PASSWORD)
        .await;
    chrome.goto(&format!("{base}/talks/overview")).await;
    let counts = chrome.wait_text("Conversations per team").await;
    assert!(counts.contains("Platform"), "{counts}");
    assert!(!counts.contains("BROWSER"), "{counts}");
    chrome.check_page("talk-counts", &mut failures).await;
    chrome.goto(&format!("{base}/talks/templates")).await;
    chrome.wait_text("Conversation templates").await;
    chrome.check_page("talk-templates", &mut failures).await;
    chrome.goto(&format!("{base}/talks/{talk}")).await;
    let hidden = chrome.text().await;
    assert!(!hidden.contains("BROWSER"), "HR reads the talk: {hidden}");
    chrome.goto(&format!("{base}/talks/calendar")).await;
    chrome.wait_text("Calendar feed").await;
    chrome.check_page("talk-calendar", &mut failures).await;

    chrome.finish(&failures).await;
    app.run_jobs().await;
}
