//! Two organizations in one database never see or touch each other.

use belong::auth::Role;

use crate::helpers::{PASSWORD, TestApp, both_databases};

both_databases!(
    organizations_cannot_see_or_change_each_other,
    another_owner_cannot_write_to_thanks_feedback_awards_or_people_by_id,
);

async fn organizations_cannot_see_or_change_each_other(app: TestApp) {
    let a = app.org("Alpha", "alpha").await;
    let b = app.org("Beta", "beta").await;
    let a_team = app.team(a, "Shared Name", None).await;
    let b_team = app.team(b, "Shared Name", None).await;
    app.person(a, "Alma Admin", "admin@alpha.example", Role::Owner, Some(a_team))
        .await;
    let b_person = app
        .person(b, "Bruno Secret", "bruno@beta.example", Role::Employee, Some(b_team))
        .await;
    // The same email may exist in both organizations.
    let a_twin = app
        .person(a, "Twin In Alpha", "twin@example.org", Role::Employee, None)
        .await;
    app.person(b, "Twin In Beta", "twin@example.org", Role::Owner, None)
        .await;

    let admin = app.browser();
    admin.sign_in("alpha", "admin@alpha.example", PASSWORD).await;

    let people = admin.get("/people?status=all").await;
    people.assert(200, "Alma Admin");
    assert!(!people.body.contains("Bruno"), "another org's people are listed");
    assert!(!people.body.contains("Twin In Beta"));
    assert!(!admin.get("/teams").await.body.contains(&b_team.to_string()));

    // Reading or changing B's rows by id is "not found", never B's data.
    admin
        .get(&format!("/people/{b_person}"))
        .await
        .assert(404, "does not exist");
    admin
        .get(&format!("/teams/{b_team}"))
        .await
        .assert(404, "does not exist");
    admin.get("/people").await;
    let fields = [
        ("name", "Hijacked"),
        ("email", "bruno@beta.example"),
        ("role", "employee"),
        ("team", ""),
        ("manager", ""),
        ("start_date", ""),
        ("time_zone", "UTC"),
    ];
    admin
        .post(&format!("/people/{b_person}"), &fields)
        .await
        .assert(404, "does not exist");
    admin
        .post(
            &format!("/people/{b_person}/deactivate"),
            &[("end_date", "2026-01-01"), ("reason", "other"), ("confirm", "yes")],
        )
        .await
        .assert(404, "does not exist");
    admin
        .post(&format!("/people/{b_person}/one-time-password"), &[])
        .await
        .assert(404, "does not exist");
    admin
        .post(&format!("/teams/{b_team}"), &[("name", "Renamed"), ("parent", "")])
        .await
        .assert(404, "does not exist");
    admin
        .post(&format!("/teams/{b_team}/active"), &[("active", "false")])
        .await
        .assert(404, "does not exist");

    // B's ids cannot be used as a team, manager or parent in A.
    let b_team_s = b_team.to_string();
    let b_person_s = b_person.to_string();
    let mut with_b_team = fields;
    with_b_team[0] = ("name", "Twin In Alpha");
    with_b_team[1] = ("email", "twin@example.org");
    with_b_team[3] = ("team", &b_team_s);
    admin
        .post(&format!("/people/{a_twin}"), &with_b_team)
        .await
        .assert(422, "active teams");
    let mut with_b_manager = with_b_team;
    with_b_manager[3] = ("team", "");
    with_b_manager[4] = ("manager", &b_person_s);
    admin
        .post(&format!("/people/{a_twin}"), &with_b_manager)
        .await
        .assert(422, "active person");
    admin
        .post("/teams", &[("name", "Child"), ("parent", &b_team_s)])
        .await
        .assert(422, "active teams");

    // Nothing of B changed.
    let bruno = belong::org::service::person(&app.state.db, b, b_person)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bruno.name, "Bruno Secret");
    assert!(bruno.active);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM teams WHERE org_id = {b} AND name = 'Shared Name'"
        ))
        .await,
        1
    );

    // And B's people cannot sign in to A.
    let outsider = app.browser();
    outsider.get("/signin").await;
    outsider
        .post_sign_in("alpha", "bruno@beta.example", PASSWORD)
        .await
        .assert(401, "do not match");
}

/// An owner of another organization, with the demo organization's ids:
/// every write path of the board, values, awards, the feedback inbox,
/// segments and the people API answers "not found", and nothing changes.
async fn another_owner_cannot_write_to_thanks_feedback_awards_or_people_by_id(app: TestApp) {
    belong::modules::seed_demo_if_empty(&app.state).await.unwrap();
    let thanks = app.count("SELECT MAX(id) FROM thank_yous").await;
    let value = app.count("SELECT MAX(id) FROM org_values").await;
    let round = app.count("SELECT MAX(id) FROM award_rounds").await;
    let thread = app.count("SELECT MAX(id) FROM feedback_threads").await;
    let person = app.count("SELECT MAX(id) FROM people").await;
    let team = app.count("SELECT MAX(id) FROM teams").await;
    let before = [
        app.count("SELECT COUNT(*) FROM thank_you_reactions").await,
        app.count("SELECT COUNT(*) FROM feedback_messages").await,
        app.count("SELECT COUNT(*) FROM award_nominations").await,
    ];

    let other = app.org("Other", "other").await;
    let owner = app.person(other, "Out", "out@other.example", Role::Owner, None).await;
    let intruder = app.browser();
    intruder.sign_in("other", "out@other.example", PASSWORD).await;
    let person_s = person.to_string();
    let posts: Vec<(String, Vec<(&str, &str)>)> = vec![
        (
            format!("/thanks/{thanks}/react"),
            vec![("kind", "heart"), ("on", "true"), ("back", "/thanks")],
        ),
        (
            format!("/thanks/values/{value}"),
            vec![("name", "Hijacked"), ("description", "x"), ("pillar", "")],
        ),
        (format!("/thanks/values/{value}/active"), vec![("active", "false")]),
        (
            format!("/thanks/awards/{round}/nominate"),
            vec![("nominee", &person_s), ("reason", "Because")],
        ),
        (format!("/thanks/awards/{round}/vote-open"), vec![]),
        (format!("/thanks/awards/{round}/vote"), vec![("nominee", &person_s)]),
        (format!("/thanks/awards/{round}/close"), vec![("winner", &person_s)]),
        (format!("/voice/inbox/{thread}/reply"), vec![("body", "Hijacked reply")]),
        (
            format!("/voice/inbox/{thread}/status"),
            vec![("status", "resolved"), ("note", "done")],
        ),
        (format!("/voice/inbox/{thread}/assign"), vec![("assignee", &person_s)]),
        (format!("/voice/inbox/{thread}/abusive"), vec![]),
    ];
    for (path, fields) in &posts {
        intruder.get("/").await;
        let page = intruder.post(path, fields).await;
        assert_eq!(page.status, 404, "POST {path}: {}", page.body);
    }
    let token = crate::helpers::token_for(&app, other, owner).await;
    let api = crate::helpers::Api::new(&app, &token);
    for (method, path, body) in [
        (
            "PATCH",
            format!("/api/v1/people/{person}"),
            Some(serde_json::json!({"name": "Hijacked"})),
        ),
        (
            "POST",
            format!("/api/v1/people/{person}/deactivate"),
            Some(serde_json::json!({"end_date": "2026-01-01", "reason": "other"})),
        ),
        ("POST", format!("/api/v1/people/{person}/reactivate"), None),
        (
            "PATCH",
            format!("/api/v1/teams/{team}"),
            Some(serde_json::json!({"name": "Hijacked"})),
        ),
        ("POST", format!("/api/v1/teams/{team}/deactivate"), None),
        ("POST", format!("/api/v1/teams/{team}/reactivate"), None),
    ] {
        let r = api.call(method, &path, body).await;
        assert_eq!(r.status, 404, "{method} {path}: {}", r.json);
    }
    let after = [
        app.count("SELECT COUNT(*) FROM thank_you_reactions").await,
        app.count("SELECT COUNT(*) FROM feedback_messages").await,
        app.count("SELECT COUNT(*) FROM award_nominations").await,
    ];
    assert_eq!(before, after);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM org_values WHERE name = 'Hijacked'")
            .await,
        0
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM people WHERE name = 'Hijacked'").await,
        0
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM teams WHERE name = 'Hijacked'").await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM feedback_threads WHERE abusive = 1")
            .await,
        0
    );
    app.run_jobs().await;
}
