//! CSV import through the web pages: preview, confirm, re-import.

use belong::auth::Role;

use crate::helpers::{PASSWORD, TestApp, both_databases};

both_databases!(
    five_hundred_rows_with_three_bad_ones,
    a_file_with_errors_applies_nothing_unless_asked,
    broken_files_get_clear_messages,
    import_updates_existing_people_by_email,
    a_file_cannot_demote_every_owner,
);

/// 500 people in 10 teams under 2 departments, managers first; rows 101,
/// 202 and 303 are broken (bad email, bad date, unknown time zone).
fn five_hundred_rows() -> String {
    let mut csv = String::from("Name,Email,Team,Manager_Email,Role,Start_Date,Time_Zone,Employee_Id\n");
    for i in 0..500 {
        let dept = if i % 10 < 5 { "Making" } else { "Selling" };
        let team = format!("{dept} / Crew {}", i % 10);
        let manager = if i < 10 {
            String::new()
        } else {
            format!("person{}@big.example", i % 10)
        };
        let role = if i < 10 { "manager" } else { "employee" };
        let email = if i == 99 {
            "person99-at-big.example".to_owned()
        } else {
            format!("person{i}@big.example")
        };
        let date = if i == 200 {
            "2023-02-30".to_owned()
        } else {
            format!("20{:02}-0{}-1{}", 10 + i % 15, 1 + i % 9, i % 10)
        };
        let tz = if i == 301 {
            "Europe/Atlantis"
        } else {
            ["Europe/Berlin", "America/Chicago", "Asia/Singapore"][i % 3]
        };
        csv.push_str(&format!(
            "Person {i},{email},{team},{manager},{role},{date},{tz},E{i:04}\n"
        ));
    }
    csv
}

async fn five_hundred_rows_with_three_bad_ones(app: TestApp) {
    let org = app.org("Big Co", "big-co").await;
    app.person(org, "Hera", "hera@big.example", Role::HrAdmin, None).await;
    let b = app.browser();
    b.sign_in("big-co", "hera@big.example", PASSWORD).await;
    b.get("/import").await.assert(200, "Import people");
    let csv = five_hundred_rows();

    let preview = b.upload("/import", "people.csv", csv.clone().into_bytes()).await;
    preview.assert(200, "Nothing has changed yet");
    let rejected: Vec<&str> = preview.body.matches("<tr class=\"rejected\">").collect();
    assert_eq!(rejected.len(), 3, "{}", preview.body);
    preview.assert(200, "<td>101</td><td>email</td>");
    preview.assert(200, "<td>202</td><td>start_date</td>");
    preview.assert(200, "<td>303</td><td>time_zone</td>");
    preview.assert(200, "<strong>497</strong> people to add");
    preview.assert(200, "<code>Employee_Id</code>");
    preview.assert(200, "Import the valid rows");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM people").await,
        1,
        "a preview writes no one"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM teams").await, 0);

    let apply = format!("/import/{}", preview.action("/import/"));
    // Asking for all rows is refused while rows are rejected.
    b.post(&apply, &[("mode", "all")])
        .await
        .assert(409, "3 rows are rejected");
    assert_eq!(app.count("SELECT COUNT(*) FROM people").await, 1);
    let done = b.submit(&apply, &[("mode", "valid")]).await;
    done.assert(
        200,
        "Import done: 497 people added, 0 updated, 0 unchanged, 3 rows skipped.",
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM people").await, 498);
    assert_eq!(app.count("SELECT COUNT(*) FROM teams").await, 12);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM teams WHERE parent_id IS NOT NULL")
            .await,
        10
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM people WHERE manager_id IS NOT NULL")
            .await,
        487
    );
    // The same batch cannot be applied twice.
    b.post(&apply, &[("mode", "valid")])
        .await
        .assert(409, "imported already");

    // Re-importing the same file changes nothing.
    let stamp = app.count("SELECT MAX(updated_at) FROM people").await;
    let again = b.upload("/import", "people.csv", csv.into_bytes()).await;
    again.assert(200, "<strong>0</strong> people to add");
    again.assert(200, "<strong>0</strong> people to update");
    again.assert(200, "<strong>497</strong> people unchanged");
    again.assert(200, "There is nothing to change");
    assert_eq!(app.count("SELECT COUNT(*) FROM people").await, 498);
    assert_eq!(app.count("SELECT MAX(updated_at) FROM people").await, stamp);
}

async fn a_file_with_errors_applies_nothing_unless_asked(app: TestApp) {
    let org = app.org("Bars Co", "bars-co").await;
    app.person(org, "Hera", "hera@bars.example", Role::HrAdmin, None).await;
    let b = app.signed_in("hera@bars.example").await;
    b.get("/import").await;
    let csv = "name,email,manager_email\nAna,ana@bars.example,\nBo,bo@bars.example,ghost@bars.example\nCy,cy@bars.example,bo@bars.example\n";
    let preview = b.upload("/import", "p.csv", csv.as_bytes().to_vec()).await;
    preview.assert(200, "no person with the email ghost@bars.example");
    preview.assert(200, "the manager&#x27;s own row (line 3) is rejected");
    preview.assert(200, "<strong>2</strong> rows rejected");
    preview.assert(200, "<strong>1</strong> people to add");
    let apply = format!("/import/{}", preview.action("/import/"));
    b.post(&apply, &[("mode", "all")])
        .await
        .assert(409, "rows are rejected");
    b.post(&apply, &[("mode", "everything")])
        .await
        .assert(422, "What to import: choose");
    assert_eq!(app.count("SELECT COUNT(*) FROM people").await, 1);
    b.submit(&apply, &[("mode", "valid")])
        .await
        .assert(200, "1 people added");
    assert_eq!(app.count("SELECT COUNT(*) FROM people").await, 2);
}

async fn broken_files_get_clear_messages(app: TestApp) {
    let org = app.org("Bars Co", "bars-co").await;
    app.person(org, "Hera", "hera@bars.example", Role::HrAdmin, None).await;
    let b = app.signed_in("hera@bars.example").await;
    b.get("/import").await;
    b.upload("/import", "p.csv", b"".to_vec())
        .await
        .assert(422, "CSV file</a>: choose a CSV file");
    b.upload("/import", "p.csv", b"full_name,mail\nAna,ana@x.org\n".to_vec())
        .await
        .assert(422, "CSV file</a>: the header has no &quot;name&quot; column");
    b.upload(
        "/import",
        "p.csv",
        b"name,email\n\xff\xfeAna,ana@bars.example\nBo,bo@bars.example\n".to_vec(),
    )
    .await
    .assert(200, "<td>2</td><td>name</td><td>is not valid UTF-8 text");
    b.upload("/import", "p.xlsx", b"PK\x03\x04\x00\x00binary".to_vec())
        .await
        .assert(422, "CSV file</a>:");
    let huge = vec![b'a'; belong::web::UPLOAD_LIMIT + 1024];
    b.upload("/import", "big.csv", huge).await.assert(413, "too large");
    assert_eq!(app.count("SELECT COUNT(*) FROM people").await, 1);
}

async fn import_updates_existing_people_by_email(app: TestApp) {
    let org = app.org("Bars Co", "bars-co").await;
    let team = app.team(org, "Bar", None).await;
    app.person(org, "Hera", "hera@bars.example", Role::HrAdmin, None).await;
    let ana = app
        .person(org, "Ana", "ana@bars.example", Role::Employee, Some(team))
        .await;
    let b = app.signed_in("hera@bars.example").await;
    b.get("/import").await;
    // Ana moves team and gets a start date; the empty role cell keeps hers.
    let csv = "email,name,team,role,start_date\nANA@bars.example,Ana Lima,Kitchen,,2021-05-04\n";
    let preview = b.upload("/import", "p.csv", csv.as_bytes().to_vec()).await;
    preview.assert(200, "<strong>1</strong> people to update");
    preview.assert(200, "name: Ana → Ana Lima");
    preview.assert(200, "team: Bar → Kitchen");
    let apply = format!("/import/{}", preview.action("/import/"));
    b.submit(&apply, &[("mode", "all")])
        .await
        .assert(200, "0 people added, 1 updated");
    let p = belong::org::service::person(&app.state.db, org, ana)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.name, "Ana Lima");
    assert_eq!(p.email, "ANA@bars.example");
    assert_eq!(p.role, Role::Employee);
    assert_eq!(p.start_date.unwrap().to_string(), "2021-05-04");
    assert_ne!(p.team_id, Some(team));
}

/// One file that demotes both owners keeps the rule a form keeps: the
/// organization keeps an active owner, so the second demotion is refused.
async fn a_file_cannot_demote_every_owner(app: TestApp) {
    let org = app.org("Bars Co", "bars-co").await;
    app.person(org, "Olga", "olga@bars.example", Role::Owner, None).await;
    app.person(org, "Otto", "otto@bars.example", Role::Owner, None).await;
    let b = app.signed_in("olga@bars.example").await;
    b.get("/import").await;
    let csv = "name,email,role\nOlga,olga@bars.example,hr_admin\nOtto,otto@bars.example,hr_admin\n";
    let preview = b.upload("/import", "p.csv", csv.as_bytes().to_vec()).await;
    preview.assert(200, "the organization needs at least one active owner");
    preview.assert(200, "<strong>1</strong> rows rejected");
}
