//! The audit log and "my data".

use belong::auth::Role;

use crate::helpers::{Api, TestApp, both_databases, token_for};

both_databases!(reads_and_role_changes_are_audited_and_shown_to_the_person);

async fn reads_and_role_changes_are_audited_and_shown_to_the_person(app: TestApp) {
    let org = app.org("Bars Co", "bars-co").await;
    app.person(org, "Olu Owner", "olu@bars.example", Role::Owner, None)
        .await;
    let hr = app
        .person(org, "Hera Hr", "hera@bars.example", Role::HrAdmin, None)
        .await;
    let ana = app
        .person(org, "Ana Lima", "ana@bars.example", Role::Employee, None)
        .await;

    let h = app.signed_in("hera@bars.example").await;
    h.get(&format!("/people/{ana}")).await.assert(200, "Ana Lima");
    Api::new(&app, &token_for(&app, org, hr).await)
        .get(&format!("/api/v1/people/{ana}"))
        .await;
    let promote = [
        ("name", "Ana Lima"),
        ("email", "ana@bars.example"),
        ("role", "manager"),
        ("team", ""),
        ("manager", ""),
        ("start_date", ""),
        ("time_zone", "Europe/Berlin"),
    ];
    assert_eq!(h.post(&format!("/people/{ana}"), &promote).await.status, 303);
    // HR admins cannot read the audit log.
    h.get("/audit").await.assert(403, "not allowed");

    // Ana sees who looked at her record.
    let a = app.signed_in("ana@bars.example").await;
    let mine = a.get("/account/data").await;
    mine.assert(200, "Who viewed or changed your record");
    assert_eq!(
        mine.body.matches("Hera Hr viewed the record of Ana Lima").count(),
        2,
        "{}",
        mine.body
    );
    mine.assert(200, "Hera Hr changed the role of Ana Lima (employee → manager)");
    assert!(
        !mine.body.contains("person.viewed"),
        "no action codes in what people read"
    );
    // In Ana's own time zone (the test people work in Berlin).
    assert!(
        mine.body.contains(" CET<") || mine.body.contains(" CEST<"),
        "{}",
        mine.body
    );
    let download = a.get("/account/data.json").await;
    assert_eq!(
        download.headers["content-disposition"],
        "attachment; filename=\"belong-my-data.json\""
    );
    let json: serde_json::Value = serde_json::from_str(&download.body).unwrap();
    assert_eq!(json["person"]["email"], "ana@bars.example");
    assert_eq!(json["person"]["role"], "manager");
    assert!(json["about_you"].as_array().unwrap().len() >= 3);

    // The owner browses and filters the log.
    let o = app.signed_in("olu@bars.example").await;
    let log = o.get("/audit").await;
    log.assert(200, "Hera Hr changed the role of Ana Lima (employee → manager)");
    log.assert(200, "Ana Lima downloaded their own data");
    log.assert(200, ">Downloaded own data</option>");
    let filtered = o.get("/audit?action=person.viewed").await;
    assert!(!filtered.body.contains("changed the role of"));
    assert_eq!(filtered.body.matches("viewed the record of Ana Lima").count(), 2);
    let by_actor = o.get(&format!("/audit?actor={hr}&action=person.role_changed")).await;
    assert_eq!(by_actor.body.matches("changed the role of").count(), 1);
    o.get("/audit?actor=abc&page=-4").await.assert(200, "Audit log");
}
