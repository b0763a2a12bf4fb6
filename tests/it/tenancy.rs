//! Two organizations in one database never see or touch each other.

use belong::auth::Role;

use crate::helpers::{PASSWORD, TestApp, both_databases};

both_databases!(organizations_cannot_see_or_change_each_other);

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
            &[("end_date", "2026-01-01"), ("reason", "other")],
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
    let bruno = belong::org::store::get_person(&app.state.db, b, b_person)
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
        .post(
            "/signin",
            &[
                ("org", "alpha"),
                ("email", "bruno@beta.example"),
                ("password", PASSWORD),
            ],
        )
        .await
        .assert(401, "do not match");
}
