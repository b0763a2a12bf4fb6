//! Email over SMTP, and magic-link sign-in: against the suite's own SMTP
//! server, and (the `external_` tests, run by `.ci/run`) against aiosmtpd.

use belong::auth::Role;

use crate::helpers::{SmtpSink, TestApp, both_databases, free_port};
use crate::smtp::{ExternalSmtp, Mailbox};

both_databases!(
    magic_link_arrives_and_signs_in_once,
    failing_mail_server_is_retried_until_it_delivers
);

async fn magic_link_arrives_and_signs_in_once(app: TestApp) {
    magic_link(app, &SmtpSink::start(free_port(), 0)).await
}

async fn failing_mail_server_is_retried_until_it_delivers(app: TestApp) {
    retried(app, SmtpSink::start).await
}

#[tokio::test]
#[ignore = "needs python3 with aiosmtpd; .ci/run installs it and runs this"]
async fn external_smtp_server_receives_the_sign_in_link() {
    magic_link(TestApp::sqlite().await, &ExternalSmtp::start(free_port(), 0)).await
}

#[tokio::test]
#[ignore = "needs python3 with aiosmtpd; .ci/run installs it and runs this"]
async fn external_smtp_server_refusing_at_first_is_retried() {
    retried(TestApp::sqlite().await, ExternalSmtp::start).await
}

async fn magic_link(app: TestApp, smtp: &impl Mailbox) {
    let app = app.with_mail(smtp.port()).await;
    let org = app.org("Bars Co", "bars-co").await;
    app.person(org, "Ana Lima", "Ana@bars.example", Role::Employee, None)
        .await;
    app.person(org, "Gone", "gone@bars.example", Role::Employee, None).await;
    sqlx::query("UPDATE people SET active = 0 WHERE email_key = 'gone@bars.example'")
        .execute(&app.state.db.pool)
        .await
        .unwrap();

    let b = app.browser();
    b.get("/signin").await;
    let asked = b
        .post("/signin/link", &[("org", "bars-co"), ("email", "ana@BARS.example")])
        .await;
    asked.assert(200, "a sign-in link is on its way");
    // Unknown and deactivated addresses get the same answer, and no email.
    for email in ["nobody@bars.example", "gone@bars.example"] {
        b.post("/signin/link", &[("org", "bars-co"), ("email", email)])
            .await
            .assert(200, "a sign-in link is on its way");
    }
    b.post("/signin/link", &[("org", "bars-co"), ("email", "not an email")])
        .await
        .assert(422, "Email</a>: enter the email address you work with");
    // The request only queued it; the worker sends it.
    assert!(smtp.received().is_empty());
    assert_eq!(belong::jobs::run_due(&app.state, "test").await.unwrap(), 1);
    let mail = smtp.received();
    assert_eq!(mail.len(), 1, "{mail:?}");
    assert_eq!(mail[0].rcpt_tos, vec!["Ana@bars.example".to_owned()]);
    assert_eq!(mail[0].to, "Ana@bars.example");
    assert_eq!(mail[0].subject, "Your sign-in link for Bars Co");
    let path = link_path(&mail[0].text, &app);
    assert!(
        mail[0].html.contains(&format!("http://{}{path}", app.addr)),
        "the HTML part has the same link"
    );

    // Opening the link only shows a button; pressing it signs in.
    let visitor = app.browser();
    visitor.get(&path).await.assert(200, "Sign in with your link");
    let used = visitor.post(&path, &[]).await;
    assert_eq!(used.status, 303);
    visitor.get("/").await.assert(200, "Hello, Ana Lima");
    // The second use is refused.
    let again = app.browser();
    again.get(&path).await;
    again.post(&path, &[]).await.assert(410, "used already or has expired");
    assert!(again.cookie("belong_session").is_none());

    // An expired link is refused too.
    b.post("/signin/link", &[("org", "bars-co"), ("email", "ana@bars.example")])
        .await;
    belong::jobs::run_due(&app.state, "test").await.unwrap();
    let mail = smtp.received();
    let path2 = link_path(&mail[1].text, &app);
    app.clock
        .advance(jiff::SignedDuration::from_secs(belong::auth::magic::VALID_SECONDS + 1));
    let late = app.browser();
    late.get(&path2).await;
    late.post(&path2, &[]).await.assert(410, "expired");

    // Asking too often is limited.
    let spammer = app.browser();
    spammer.get("/signin").await;
    let mut last = None;
    for _ in 0..=belong::auth::throttle::LINK_ACCOUNT_LIMIT {
        last = Some(
            spammer
                .post("/signin/link", &[("org", "bars-co"), ("email", "x@bars.example")])
                .await,
        );
    }
    let last = last.unwrap();
    last.assert(429, "Too many links");
    assert!(last.headers.contains_key("retry-after"));
}

/// The path of the sign-in link in an email's text.
fn link_path(text: &str, app: &TestApp) -> String {
    let base = format!("http://{}/signin/link/", app.addr);
    assert!(text.contains(&base), "the text part links to this server");
    crate::helpers::link_path(text, "/signin/link/").expect("the text part has the link")
}

async fn retried<M: Mailbox>(app: TestApp, start: impl Fn(u16, u32) -> M) {
    // The first two deliveries are refused with a temporary error.
    let smtp = start(free_port(), 2);
    let app = app.with_mail(smtp.port()).await;
    let org = app.org("Bars Co", "bars-co").await;
    app.person(org, "Ana", "ana@bars.example", Role::Employee, None).await;
    assert!(
        belong::auth::magic::request(&app.state, "bars-co", "ana@bars.example")
            .await
            .unwrap()
            .is_some()
    );

    assert_eq!(belong::jobs::run_due(&app.state, "test").await.unwrap(), 1);
    assert!(smtp.received().is_empty());
    // Not due again until the backoff has passed.
    assert_eq!(belong::jobs::run_due(&app.state, "test").await.unwrap(), 0);
    app.clock
        .advance(jiff::SignedDuration::from_secs(belong::jobs::backoff(1)));
    assert_eq!(belong::jobs::run_due(&app.state, "test").await.unwrap(), 1);
    assert!(smtp.received().is_empty());
    app.clock
        .advance(jiff::SignedDuration::from_secs(belong::jobs::backoff(2)));
    assert_eq!(belong::jobs::run_due(&app.state, "test").await.unwrap(), 1);
    assert_eq!(smtp.received().len(), 1, "delivered once the server accepts");
    assert_eq!(belong::jobs::pending_count(&app.state.db).await.unwrap(), 0);
    assert_eq!(app.count("SELECT attempts FROM jobs").await, 3);

    // A server that is down altogether: the job waits and is not lost.
    let dead_port = free_port();
    let down = TestApp::sqlite().await.with_mail(dead_port).await;
    let org = down.org("Bars Co", "bars-co").await;
    down.person(org, "Ana", "ana@bars.example", Role::Employee, None).await;
    belong::auth::magic::request(&down.state, "bars-co", "ana@bars.example")
        .await
        .unwrap();
    belong::jobs::run_due(&down.state, "test").await.unwrap();
    assert_eq!(belong::jobs::pending_count(&down.state.db).await.unwrap(), 1);
    let up = start(dead_port, 0);
    down.clock
        .advance(jiff::SignedDuration::from_secs(belong::jobs::backoff(1)));
    belong::jobs::run_due(&down.state, "test").await.unwrap();
    assert_eq!(up.received().len(), 1);
}
