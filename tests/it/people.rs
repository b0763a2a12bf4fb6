//! Adding, editing and deactivating people and teams through the pages.

use belong::auth::Role;

use crate::helpers::{TestApp, both_databases};

both_databases!(
    hr_admin_adds_edits_and_deactivates_a_person,
    bad_person_forms_name_the_field_and_store_nothing,
    hr_admins_cannot_create_or_remove_owners,
    teams_nest_without_loops_and_keep_their_members,
    oversized_and_malformed_bodies_get_clear_4xx,
    an_owner_erases_the_personal_data_of_someone_who_left,
);

fn person_fields<'a>(name: &'a str, email: &'a str, team: &'a str, manager: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("email", email),
        ("role", "employee"),
        ("team", team),
        ("manager", manager),
        ("start_date", "2024-03-01"),
        ("time_zone", "Europe/Lisbon"),
    ]
}

async fn hr_admin_adds_edits_and_deactivates_a_person(app: TestApp) {
    let org = app.org("Bars Co", "bars-co").await;
    let team = app.team(org, "Kitchen", None).await;
    let chef = app
        .person(org, "Chef", "chef@bars.example", Role::Manager, Some(team))
        .await;
    app.person(org, "Hera", "hera@bars.example", Role::HrAdmin, None).await;
    let b = app.signed_in("hera@bars.example").await;
    b.get("/people/new").await.assert(200, "Add a person");
    let (team_s, chef_s) = (team.to_string(), chef.to_string());
    let added = b
        .post(
            "/people",
            &person_fields("Dita Dough", "Dita@Bars.example", &team_s, &chef_s),
        )
        .await;
    assert_eq!(added.status, 303, "{}", added.body);
    let page = b.get(added.location()).await;
    page.assert(200, "The person was added");
    let id: i64 = added
        .location()
        .trim_start_matches("/people/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let dita = belong::org::service::person(&app.state.db, org, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((dita.team_id, dita.manager_id), (Some(team), Some(chef)));
    assert_eq!(dita.time_zone, "Europe/Lisbon");
    assert_eq!(dita.start_date.unwrap().to_string(), "2024-03-01");

    // Edit: new name, no manager.
    let edited = b
        .post(
            &format!("/people/{id}"),
            &person_fields("Dita Crust", "dita@bars.example", &team_s, ""),
        )
        .await;
    assert_eq!(edited.status, 303);
    b.get("/people?q=crust").await.assert(200, "Dita Crust");

    // She gets a one-time password and can sign in.
    let otp_page = b.post(&format!("/people/{id}/one-time-password"), &[]).await;
    otp_page.assert(200, "One-time password for Dita Crust");
    let start = otp_page.body.find("class=\"secret\">").unwrap() + 15;
    let otp = &otp_page.body[start..start + 16];
    let dita_b = app.browser();
    dita_b.get("/signin").await;
    let first = dita_b
        .post(
            "/signin",
            &[("org", "bars-co"), ("email", "dita@bars.example"), ("password", otp)],
        )
        .await;
    assert_eq!(first.location(), "/account/password");

    // Deactivation asks first, carrying the form; it then signs her out
    // and stops sign-in.
    b.get(&format!("/people/{id}")).await;
    let asked = b
        .post(
            &format!("/people/{id}/deactivate"),
            &[("end_date", "2026-10-31"), ("reason", "voluntary")],
        )
        .await;
    asked
        .assert(200, "Deactivate Dita")
        .assert(200, "can no longer sign in")
        .assert(200, r#"name="end_date" value="2026-10-31""#)
        .assert(200, r#"name="confirm" value="yes""#);
    assert!(
        belong::org::service::person(&app.state.db, org, id)
            .await
            .unwrap()
            .unwrap()
            .active
    );
    assert_eq!(dita_b.get("/account/password").await.status, 200);
    b.post(
        &format!("/people/{id}/deactivate"),
        &[("end_date", "2026-10-31"), ("reason", "voluntary"), ("confirm", "yes")],
    )
    .await;
    assert_eq!(
        dita_b.get("/account/password").await.location(),
        "/signin?next=%2Faccount%2Fpassword"
    );
    let left = belong::org::service::person(&app.state.db, org, id)
        .await
        .unwrap()
        .unwrap();
    assert!(!left.active);
    assert_eq!(left.end_date.unwrap().to_string(), "2026-10-31");
    b.get("/people?status=left").await.assert(200, "Dita Crust");
    assert!(!b.get("/people").await.body.contains("Dita Crust"));
    b.post(&format!("/people/{id}/reactivate"), &[]).await;
    assert!(
        belong::org::service::person(&app.state.db, org, id)
            .await
            .unwrap()
            .unwrap()
            .active
    );
}

async fn bad_person_forms_name_the_field_and_store_nothing(app: TestApp) {
    let org = app.org("Bars Co", "bars-co").await;
    let hera = app.person(org, "Hera", "hera@bars.example", Role::HrAdmin, None).await;
    let b = app.signed_in("hera@bars.example").await;
    b.get("/people/new").await;
    let before = app.count("SELECT COUNT(*) FROM people").await;
    type Case<'a> = (Vec<(&'a str, &'a str)>, u16, &'a str);
    let cases: Vec<Case> = vec![
        (
            person_fields("Ok Name", "not-an-email", "", ""),
            422,
            "Email</a>: &quot;not-an-email&quot; is not an email address",
        ),
        (
            person_fields("", "x@bars.example", "", ""),
            422,
            "Name</a>: is required",
        ),
        (
            person_fields("Ok", "x@bars.example", "12345", ""),
            422,
            "Team</a>: choose one of the organization",
        ),
        (
            person_fields("Ok", "x@bars.example", "abc", ""),
            422,
            "Team</a>: choose a team from the list",
        ),
        (
            person_fields("Ok", "x@bars.example", "", "777"),
            422,
            "Manager</a>: choose an active person",
        ),
        (
            person_fields("Ok", "HERA@bars.example", "", ""),
            409,
            "Email</a>: another person",
        ),
        (
            vec![
                ("name", "Ok"),
                ("email", "x@bars.example"),
                ("role", "boss"),
                ("time_zone", "UTC"),
            ],
            422,
            "is not a role: choose Employee, Manager, HR admin or Owner",
        ),
        (
            vec![
                ("name", "Ok"),
                ("email", "x@bars.example"),
                ("role", "employee"),
                ("start_date", "31/12/2024"),
                ("time_zone", "UTC"),
            ],
            422,
            "Start date</a>: &quot;31/12/2024&quot; is not a date",
        ),
        (
            vec![
                ("name", "Ok"),
                ("email", "x@bars.example"),
                ("role", "employee"),
                ("time_zone", "Berlin"),
            ],
            422,
            "Time zone</a>: &quot;Berlin&quot; is not an IANA time zone",
        ),
    ];
    for (fields, status, message) in cases {
        let page = b.post("/people", &fields).await;
        page.assert(status, message);
        page.assert(status, "Please correct the marked fields");
    }
    // Several errors at once are all shown.
    let many = b.post("/people", &person_fields("", "nope", "", "")).await;
    many.assert(422, "Name</a>: is required");
    many.assert(422, "Email</a>: ");
    assert_eq!(app.count("SELECT COUNT(*) FROM people").await, before);
    // A person cannot manage themselves.
    let own = b
        .post(&format!("/people/{hera}"), &{
            let mut f = person_fields("Hera", "hera@bars.example", "", "");
            f[2] = ("role", "hr_admin");
            f
        })
        .await;
    assert_eq!(own.status, 303);
    let hera_s = hera.to_string();
    let mut self_managed = person_fields("Hera", "hera@bars.example", "", &hera_s);
    self_managed[2] = ("role", "hr_admin");
    b.post(&format!("/people/{hera}"), &self_managed)
        .await
        .assert(422, "Manager</a>:");
    b.post(
        &format!("/people/{hera}/deactivate"),
        &[("end_date", "yesterday"), ("reason", "other"), ("confirm", "yes")],
    )
    .await
    .assert(422, "end_date");
    b.post(
        &format!("/people/{hera}/deactivate"),
        &[("end_date", "2026-01-01"), ("reason", "bored"), ("confirm", "yes")],
    )
    .await
    .assert(422, "reason");
    b.post(
        &format!("/people/{hera}/deactivate"),
        &[("end_date", "2026-01-01"), ("reason", "other"), ("confirm", "yes")],
    )
    .await
    .assert(409, "cannot deactivate yourself");
    b.get("/people/not-a-number").await.assert(404, "does not exist");
}

async fn hr_admins_cannot_create_or_remove_owners(app: TestApp) {
    let org = app.org("Bars Co", "bars-co").await;
    let owner = app.person(org, "Olu", "olu@bars.example", Role::Owner, None).await;
    app.person(org, "Hera", "hera@bars.example", Role::HrAdmin, None).await;
    let hr = app.signed_in("hera@bars.example").await;
    hr.get("/people/new").await;
    let mut f = person_fields("Sneaky", "sneaky@bars.example", "", "");
    f[2] = ("role", "owner");
    hr.post("/people", &f).await.assert(422, "only an owner");
    let mut demote = person_fields("Olu", "olu@bars.example", "", "");
    demote[2] = ("role", "employee");
    hr.post(&format!("/people/{owner}"), &demote)
        .await
        .assert(422, "only an owner");
    hr.post(
        &format!("/people/{owner}/deactivate"),
        &[("end_date", "2026-01-01"), ("reason", "other"), ("confirm", "yes")],
    )
    .await
    .assert(403, "not allowed");
    // The last owner cannot demote themselves either.
    let o = app.signed_in("olu@bars.example").await;
    o.get("/people").await;
    o.post(&format!("/people/{owner}"), &demote)
        .await
        .assert(422, "at least one active owner");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM people WHERE role = 'owner' AND active = 1")
            .await,
        1
    );
}

async fn teams_nest_without_loops_and_keep_their_members(app: TestApp) {
    let org = app.org("Bars Co", "bars-co").await;
    app.person(org, "Hera", "hera@bars.example", Role::HrAdmin, None).await;
    let b = app.signed_in("hera@bars.example").await;
    b.get("/teams").await;
    assert_eq!(
        b.post("/teams", &[("name", "Kitchen"), ("parent", "")]).await.status,
        303
    );
    let kitchen = app
        .count("SELECT id FROM teams WHERE name = 'Kitchen'")
        .await
        .to_string();
    assert_eq!(
        b.post("/teams", &[("name", "Pastry"), ("parent", &kitchen)])
            .await
            .status,
        303
    );
    let pastry = app
        .count("SELECT id FROM teams WHERE name = 'Pastry'")
        .await
        .to_string();
    b.get("/teams").await.assert(200, "Kitchen / Pastry");
    b.post("/teams", &[("name", "kitchen"), ("parent", "")])
        .await
        .assert(409, "another team");
    b.post("/teams", &[("name", "A/B"), ("parent", "")])
        .await
        .assert(422, "Name</a>:");
    b.post("/teams", &[("name", "  "), ("parent", "")])
        .await
        .assert(422, "Name</a>: is required");
    // Kitchen cannot move inside its own sub-team.
    b.post(
        &format!("/teams/{kitchen}"),
        &[("name", "Kitchen"), ("parent", &pastry)],
    )
    .await
    .assert(422, "inside itself");
    // A team with people cannot be deactivated; an empty one can.
    app.person(
        org,
        "Cook",
        "cook@bars.example",
        Role::Employee,
        Some(pastry.parse().unwrap()),
    )
    .await;
    b.post(&format!("/teams/{pastry}/active"), &[("active", "false")])
        .await
        .assert(409, "1 active people");
    b.post(&format!("/teams/{kitchen}/active"), &[("active", "false")])
        .await
        .assert(409, "sub-teams");
    b.post(&format!("/teams/{kitchen}/active"), &[("active", "maybe")])
        .await
        .assert(422, "neither on nor off");
    assert_eq!(app.count("SELECT COUNT(*) FROM teams WHERE active = 1").await, 2);
}

async fn oversized_and_malformed_bodies_get_clear_4xx(app: TestApp) {
    let org = app.org("Bars Co", "bars-co").await;
    app.person(org, "Hera", "hera@bars.example", Role::HrAdmin, None).await;
    let b = app.signed_in("hera@bars.example").await;
    b.get("/teams").await;
    let huge = "x".repeat(belong::web::FORM_LIMIT + 10);
    b.post("/teams", &[("name", &huge)]).await.assert(413, "too large");
    // Not a form at all.
    let csrf = b.csrf();
    let client = reqwest::Client::new();
    let res = client
        .post(format!("http://{}/teams", app.addr))
        .header(
            "cookie",
            format!("belong_session={}", b.cookie("belong_session").unwrap()),
        )
        .header("x-csrf-token", csrf)
        .header("content-type", "application/json")
        .body("{\"name\": 1}")
        .send()
        .await
        .unwrap();
    let status = res.status();
    let body = res.text().await.unwrap();
    assert_eq!(status, 415, "{body}");
    assert!(body.contains("must be sent as a web form"), "{body}");
    assert_eq!(app.count("SELECT COUNT(*) FROM teams").await, 0);
}

async fn an_owner_erases_the_personal_data_of_someone_who_left(app: TestApp) {
    let org = app.org("Bars Co", "bars-co").await;
    let team = app.team(org, "Kitchen", None).await;
    let leaver = app
        .person(org, "Lena Leaver", "lena@bars.example", Role::Employee, Some(team))
        .await;
    app.person(org, "Hera", "hera@bars.example", Role::HrAdmin, None).await;
    app.person(org, "Olu", "olu@bars.example", Role::Owner, None).await;
    // A live session of hers, which erasing must end.
    let _lena = app.signed_in("lena@bars.example").await;
    let hr = app.signed_in("hera@bars.example").await;
    let owner = app.signed_in("olu@bars.example").await;
    let page = format!("/people/{leaver}");
    let erase = format!("/people/{leaver}/erase");
    owner.get(&page).await;
    // Still here: first they leave.
    owner
        .post(&erase, &[("confirm", "on")])
        .await
        .assert(409, "Deactivate them first");
    owner
        .post(
            &format!("/people/{leaver}/deactivate"),
            &[("end_date", "2026-06-30"), ("reason", "voluntary"), ("confirm", "yes")],
        )
        .await;
    owner.get(&page).await.assert(200, "Erase personal data");
    hr.get(&page).await;
    hr.post(&erase, &[("confirm", "on")]).await.assert(403, "not allowed");
    owner.get(&page).await;
    owner
        .post(&erase, &[])
        .await
        .assert(422, "I understand that this cannot be undone</a>: tick the box");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM people WHERE name = 'Lena Leaver'")
            .await,
        1
    );
    owner.get(&page).await;
    let done = owner.post(&erase, &[("confirm", "on")]).await;
    assert_eq!(done.location(), format!("/people/{leaver}?notice=erased"));
    owner
        .get(done.location())
        .await
        .assert(200, "Their personal data is erased")
        .assert(200, "Former member");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM people WHERE name LIKE '%Lena%' OR email LIKE '%lena%'")
            .await,
        0
    );
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM sessions WHERE person_id = {leaver}"))
            .await,
        0
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'person.erased'")
            .await,
        1
    );
    // They cannot come back as they were.
    owner.get(&page).await;
    owner
        .post(&format!("/people/{leaver}/reactivate"), &[])
        .await
        .assert(409, "erased");
}
