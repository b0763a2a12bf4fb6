//! The JSON API: tokens, every documented operation, the error format.

use std::collections::BTreeSet;

use belong::auth::Role;
use serde_json::json;

use crate::helpers::{Api, TestApp, both_databases, token_for};

both_databases!(
    command_line_token_reads_me_and_revoked_token_is_refused,
    every_documented_operation_is_exercised,
    api_errors_are_json_and_name_the_field,
    api_keeps_organizations_and_roles_apart,
);

async fn command_line_token_reads_me_and_revoked_token_is_refused(app: TestApp) {
    let org = app.org("Bars Co", "bars-co").await;
    app.person(org, "Ana Lima", "ana@bars.example", Role::Employee, None)
        .await;
    let out = app
        .command()
        .args([
            "admin",
            "token",
            "--email",
            "ANA@bars.example",
            "--database",
            app.url.expose(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(token.starts_with("blg_") && token.len() == 68, "{token}");

    let api = Api::new(&app, &token);
    let me = api.get("/api/v1/me").await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json["person"]["name"], "Ana Lima");
    assert_eq!(me.json["person"]["role"], "employee");
    assert_eq!(me.json["organization"]["slug"], "bars-co");
    assert!(me.json["person"]["id"].is_string(), "ids are strings");

    // Ana sees the token on her settings page and revokes it there.
    let b = app.signed_in("ana@bars.example").await;
    let page = b.get("/account/tokens").await;
    page.assert(200, "command line");
    let revoke = page.action("/account/tokens/");
    let asked = b.post(&format!("/account/tokens/{revoke}"), &[]).await;
    asked.assert(200, "Revoke this API token?");
    assert_eq!(api.get("/api/v1/me").await.status, 200, "not before confirming");
    let done = b
        .post(&format!("/account/tokens/{revoke}"), &[("confirm", "yes")])
        .await;
    assert_eq!(done.status, 303);
    let refused = api.get("/api/v1/me").await;
    refused.error(401, "unauthorized");
    assert_eq!(refused.headers["www-authenticate"], "Bearer");
    Api::new(&app, "blg_not-a-token")
        .get("/api/v1/me")
        .await
        .error(401, "unauthorized");
    Api::new(&app, "").get("/api/v1/me").await.error(401, "unauthorized");

    // A token made on the page is shown once and works.
    b.get("/account/tokens").await;
    let made = b.post("/account/tokens", &[("name", "sync")]).await;
    made.assert(200, "shown only once");
    let start = made.body.find("blg_").unwrap();
    let fresh = &made.body[start..start + 68];
    assert_eq!(Api::new(&app, fresh).get("/api/v1/me").await.status, 200);
    b.post("/account/tokens", &[("name", "  ")])
        .await
        .assert(422, "Name</a>:");
    // Another person cannot revoke it.
    app.person(org, "Bo", "bo@bars.example", Role::Employee, None).await;
    let bo = app.signed_in("bo@bars.example").await;
    let page = b.get("/account/tokens").await;
    let action = page.action("/account/tokens/");
    let id = action.split('/').next().unwrap();
    bo.get("/account/tokens").await;
    bo.post(&format!("/account/tokens/{id}/revoke"), &[("confirm", "yes")])
        .await
        .assert(404, "does not exist");
    assert_eq!(Api::new(&app, fresh).get("/api/v1/me").await.status, 200);
    // Its owner is asked first: without confirming it still works; with
    // it, it is refused.
    b.get("/account/tokens").await;
    b.post(&format!("/account/tokens/{id}/revoke"), &[])
        .await
        .assert(200, "Revoke this API token?")
        .assert(200, "refused from now on");
    assert_eq!(Api::new(&app, fresh).get("/api/v1/me").await.status, 200);
    let done = b
        .post(&format!("/account/tokens/{id}/revoke"), &[("confirm", "yes")])
        .await;
    assert_eq!(done.location(), "/account/tokens?notice=revoked");
    b.get(done.location()).await.assert(200, "Revoked:");
    assert_eq!(Api::new(&app, fresh).get("/api/v1/me").await.status, 401);
}

/// Every operation in the OpenAPI document is called here at least once;
/// the test fails if the document has one this test does not know.
async fn every_documented_operation_is_exercised(app: TestApp) {
    let org = app.org("Bars Co", "bars-co").await;
    let hr = app.person(org, "Hera", "hera@bars.example", Role::HrAdmin, None).await;
    let api = Api::new(&app, &token_for(&app, org, hr).await);
    let done = std::cell::RefCell::new(BTreeSet::new());
    let call = async |method: &str, template: &str, path: &str, body: Option<serde_json::Value>| {
        done.borrow_mut().insert(format!("{method} {template}"));
        api.call(method, path, body).await
    };

    let me = call("GET", "/api/v1/me", "/api/v1/me", None).await;
    assert_eq!(me.json["person"]["email"], "hera@bars.example");
    let kitchen = call(
        "POST",
        "/api/v1/teams",
        "/api/v1/teams",
        Some(json!({"name": "Kitchen"})),
    )
    .await;
    assert_eq!(kitchen.status, 201);
    let kid = kitchen.json["id"].as_str().unwrap().to_owned();
    let pastry = call(
        "POST",
        "/api/v1/teams",
        "/api/v1/teams",
        Some(json!({"name": "Pastry", "parent_id": kid})),
    )
    .await;
    assert_eq!(pastry.json["path"], "Kitchen / Pastry");
    let pid = pastry.json["id"].as_str().unwrap().to_owned();
    let got = call("GET", "/api/v1/teams/{id}", &format!("/api/v1/teams/{pid}"), None).await;
    assert_eq!(got.json["parent_id"], kid.as_str());
    let moved = call(
        "PATCH",
        "/api/v1/teams/{id}",
        &format!("/api/v1/teams/{pid}"),
        Some(json!({"parent_id": null, "name": "Pâtisserie"})),
    )
    .await;
    assert_eq!(
        (moved.json["name"].as_str(), moved.json["parent_id"].is_null()),
        (Some("Pâtisserie"), true)
    );
    let teams = call("GET", "/api/v1/teams", "/api/v1/teams", None).await;
    assert_eq!(teams.json.as_array().unwrap().len(), 2);

    let ana = call(
        "POST",
        "/api/v1/people",
        "/api/v1/people",
        Some(json!({"name": "Ana", "email": "ana@bars.example", "team_id": kid, "manager_id": hr.to_string(), "start_date": "2024-02-01"})),
    )
    .await;
    assert_eq!(ana.status, 201, "{}", ana.json);
    assert_eq!(
        ana.json["time_zone"], "Europe/Berlin",
        "defaults to the organization's zone"
    );
    let aid = ana.json["id"].as_str().unwrap().to_owned();
    let one = call("GET", "/api/v1/people/{id}", &format!("/api/v1/people/{aid}"), None).await;
    assert_eq!(one.json["team_id"], kid.as_str());
    let changed = call(
        "PATCH",
        "/api/v1/people/{id}",
        &format!("/api/v1/people/{aid}"),
        Some(json!({"role": "manager", "manager_id": null})),
    )
    .await;
    assert_eq!(changed.status, 200, "{}", changed.json);
    assert_eq!(
        (changed.json["role"].as_str(), changed.json["manager_id"].is_null()),
        (Some("manager"), true)
    );
    assert_eq!(changed.json["team_id"], kid.as_str(), "fields left out stay");
    let list = call("GET", "/api/v1/people", "/api/v1/people", None).await;
    assert_eq!(list.json.as_array().unwrap().len(), 2);
    let left = call(
        "POST",
        "/api/v1/people/{id}/deactivate",
        &format!("/api/v1/people/{aid}/deactivate"),
        Some(json!({"end_date": "2026-06-30", "reason": "voluntary"})),
    )
    .await;
    assert_eq!(
        (left.json["active"].as_bool(), left.json["leave_reason"].as_str()),
        (Some(false), Some("voluntary"))
    );
    let leavers = api.get("/api/v1/people?status=left").await;
    assert_eq!(leavers.json.as_array().unwrap().len(), 1);
    let back = call(
        "POST",
        "/api/v1/people/{id}/reactivate",
        &format!("/api/v1/people/{aid}/reactivate"),
        None,
    )
    .await;
    assert_eq!(back.json["active"], true);
    // Kitchen still has Ana; Pâtisserie is empty and can go.
    call(
        "POST",
        "/api/v1/teams/{id}/deactivate",
        &format!("/api/v1/teams/{kid}/deactivate"),
        None,
    )
    .await
    .error(409, "conflict");
    let gone = call(
        "POST",
        "/api/v1/teams/{id}/deactivate",
        &format!("/api/v1/teams/{pid}/deactivate"),
        None,
    )
    .await;
    assert_eq!(gone.json["active"], false);
    let again = call(
        "POST",
        "/api/v1/teams/{id}/reactivate",
        &format!("/api/v1/teams/{pid}/reactivate"),
        None,
    )
    .await;
    assert_eq!(again.json["active"], true);

    // Pulses: design, open, answer (by token and by link), read, close.
    let bank = call("GET", "/api/v1/questions", "/api/v1/questions", None).await;
    // One question per pillar, asked every time.
    let mut seen = BTreeSet::new();
    let questions: Vec<serde_json::Value> = bank
        .json
        .as_array()
        .unwrap()
        .iter()
        .filter(|q| seen.insert(q["pillar"].as_str().unwrap().to_owned()))
        .map(|q| json!({"question_id": q["id"], "core": true}))
        .collect();
    // A monthly pulse asks each rotating question once a quarter: with
    // every place taken by questions asked every time, none can rotate.
    let mut rotating = questions.clone();
    rotating.push(json!({"question_id": bank.json[1]["id"], "core": false}));
    call("POST", "/api/v1/pulses", "/api/v1/pulses", Some(json!({"title": "Too many", "schedule": "monthly", "open_days": 7, "remind_days": 2, "per_cycle": 7, "questions": rotating})))
        .await
        .error(422, "invalid")
        .field("questions");
    let pulse = call(
        "POST",
        "/api/v1/pulses",
        "/api/v1/pulses",
        Some(json!({"title": "API pulse", "schedule": "once", "open_days": 7, "remind_days": 2, "per_cycle": 7, "questions": questions})),
    )
    .await;
    assert_eq!(pulse.status, 201, "{}", pulse.json);
    let pulse_id = pulse.json["id"].as_str().unwrap().to_owned();
    assert_eq!(
        call("GET", "/api/v1/pulses", "/api/v1/pulses", None)
            .await
            .json
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let cycle = call(
        "POST",
        "/api/v1/pulses/{id}/cycles",
        &format!("/api/v1/pulses/{pulse_id}/cycles"),
        None,
    )
    .await;
    assert_eq!(cycle.status, 201, "{}", cycle.json);
    let cycle_id = cycle.json["id"].as_str().unwrap().to_owned();
    let open = call("GET", "/api/v1/cycles/open", "/api/v1/cycles/open", None).await;
    let asked = open.json[0]["questions"].as_array().unwrap().clone();
    let answers: serde_json::Map<String, serde_json::Value> = asked
        .iter()
        .filter_map(|q| {
            q["scale"]
                .as_array()
                .map(|s| (q["id"].as_str().unwrap().to_owned(), s[1].clone()))
        })
        .collect();
    let mut bad = answers.clone();
    bad.insert(asked[0]["id"].as_str().unwrap().to_owned(), json!(99));
    call(
        "POST",
        "/api/v1/cycles/{id}/responses",
        &format!("/api/v1/cycles/{cycle_id}/responses"),
        Some(json!({"answers": bad})),
    )
    .await
    .error(422, "invalid");
    let mine = call(
        "POST",
        "/api/v1/cycles/{id}/responses",
        &format!("/api/v1/cycles/{cycle_id}/responses"),
        Some(json!({"answers": answers, "comment": "Good team."})),
    )
    .await;
    assert_eq!(mine.status, 201, "{}", mine.json);
    api.call(
        "POST",
        &format!("/api/v1/cycles/{cycle_id}/responses"),
        Some(json!({"answers": answers})),
    )
    .await
    .error(409, "conflict");
    // Ana answers with her personal link's token, taken from her queued email.
    let payloads = app.queued_emails().await;
    let ana_mail = payloads
        .iter()
        .find(|p| p.contains("ana@bars.example") && p.contains("/pulse/answer/"))
        .unwrap();
    let token = crate::helpers::pulse_link_token(ana_mail).expect("a personal link");
    let by_link = Api::new(&app, "");
    done.borrow_mut()
        .insert("POST /api/v1/invitations/{token}/response".into());
    let answered = by_link
        .call(
            "POST",
            &format!("/api/v1/invitations/{token}/response"),
            Some(json!({"answers": answers})),
        )
        .await;
    assert_eq!(answered.status, 201, "{}", answered.json);
    by_link
        .call(
            "POST",
            "/api/v1/invitations/nope/response",
            Some(json!({"answers": answers})),
        )
        .await
        .error(404, "not_found");
    let during = call(
        "GET",
        "/api/v1/cycles/{id}/results",
        &format!("/api/v1/cycles/{cycle_id}/results"),
        None,
    )
    .await;
    assert_eq!(during.json["status"], "open");
    assert!(during.json["result"].is_null());
    assert_eq!(during.json["participation"], "small_group");
    let list = call("GET", "/api/v1/cycles", "/api/v1/cycles", None).await;
    assert_eq!(list.json.as_array().unwrap().len(), 1);
    let closed = call(
        "POST",
        "/api/v1/cycles/{id}/close",
        &format!("/api/v1/cycles/{cycle_id}/close"),
        None,
    )
    .await;
    assert_eq!(closed.json["closed"], true);
    let after = api.get(&format!("/api/v1/cycles/{cycle_id}/results?group=org")).await;
    assert_eq!(
        after.json["status"], "fewer_than_k",
        "2 answers < k: nothing else is said"
    );
    assert!(after.json["result"].is_null());
    api.get(&format!("/api/v1/cycles/{cycle_id}/results?group=bogus"))
        .await
        .error(422, "invalid");
    let heat = call(
        "GET",
        "/api/v1/cycles/{id}/heatmap",
        &format!("/api/v1/cycles/{cycle_id}/heatmap"),
        None,
    )
    .await;
    assert_eq!(heat.json.as_array().unwrap().len(), 0, "no team passed the threshold");

    // Insights: an action on the closed cycle, an update, an initiative
    // measured by the pulse, and its impact report.
    let due = app
        .state
        .now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .saturating_add(jiff::Span::new().days(10))
        .to_string();
    let action = call(
        "POST",
        "/api/v1/actions",
        "/api/v1/actions",
        Some(
            json!({"title": "Weekly huddle", "team_id": kid, "owner_id": aid, "due_date": due,
                    "visibility": "group", "pillar": "integration", "cycle_id": cycle_id}),
        ),
    )
    .await;
    assert_eq!(action.status, 201, "{}", action.json);
    assert_eq!(action.json["action"]["status"], "planned");
    let action_id = action.json["action"]["id"].as_str().unwrap().to_owned();
    api.call(
        "POST",
        "/api/v1/actions",
        Some(json!({"title": "", "owner_id": "1", "due_date": "2020-01-01", "visibility": "group"})),
    )
    .await
    .field("title");
    let listed = call("GET", "/api/v1/actions", "/api/v1/actions", None).await;
    assert_eq!(listed.json.as_array().unwrap().len(), 1);
    let updated = call(
        "POST",
        "/api/v1/actions/{id}/updates",
        &format!("/api/v1/actions/{action_id}/updates"),
        Some(json!({"note": "First huddle held.", "status": "in_progress"})),
    )
    .await;
    assert_eq!(updated.status, 201, "{}", updated.json);
    // The API holds to its document: an empty or padded value is refused,
    // where a form would read it as none.
    api.call(
        "POST",
        &format!("/api/v1/actions/{action_id}/updates"),
        Some(json!({"note": "x", "due_date": ""})),
    )
    .await
    .field("due_date");
    api.call(
        "POST",
        "/api/v1/actions",
        Some(json!({"title": "Huddle", "owner_id": aid, "due_date": due, "visibility": "group", "pillar": ""})),
    )
    .await
    .field("pillar");
    let one = call(
        "GET",
        "/api/v1/actions/{id}",
        &format!("/api/v1/actions/{action_id}"),
        None,
    )
    .await;
    assert_eq!(one.json["action"]["status"], "in_progress");
    assert_eq!(one.json["updates"][0]["note"], "First huddle held.");
    let pulse_of_cycle = closed.json["pulse_id"].as_str().unwrap().to_owned();
    let initiative = call(
        "POST",
        "/api/v1/initiatives",
        "/api/v1/initiatives",
        Some(
            json!({"name": "Weekly huddles", "practice": "huddles", "pillar": "integration",
                    "pulse_id": pulse_of_cycle, "starts_on": "2026-03-01", "teams": [{"team_id": kid}]}),
        ),
    )
    .await;
    assert_eq!(initiative.status, 201, "{}", initiative.json);
    assert_eq!(initiative.json["standing"], "active");
    api.call(
        "POST",
        "/api/v1/initiatives",
        Some(
            json!({"name": "No teams", "practice": "huddles", "pillar": "integration",
                    "pulse_id": pulse_of_cycle, "starts_on": "2026-03-01", "teams": []}),
        ),
    )
    .await
    .field("teams");
    let listed = call("GET", "/api/v1/initiatives", "/api/v1/initiatives", None).await;
    assert_eq!(listed.json.as_array().unwrap().len(), 1);
    let initiative_id = initiative.json["id"].as_str().unwrap().to_owned();
    let impact = call(
        "GET",
        "/api/v1/initiatives/{id}/impact",
        &format!("/api/v1/initiatives/{initiative_id}/impact"),
        None,
    )
    .await;
    assert_eq!(impact.status, 200, "{}", impact.json);
    assert_eq!(impact.json["cannot_tell"], true, "one cycle, nothing released");
    assert!(impact.json["estimate"].is_null());

    // Conversations: templates, a talk with Ana, its notes and item, a
    // request, the calendar feed.
    let templates = call("GET", "/api/v1/talk-templates", "/api/v1/talk-templates", None).await;
    assert_eq!(templates.json.as_array().unwrap().len(), 3, "{}", templates.json);
    let custom = call(
        "POST",
        "/api/v1/talk-templates",
        "/api/v1/talk-templates",
        Some(json!({"name": "Quarterly", "questions": [{"text": "How was the quarter?", "pillar": "value"}]})),
    )
    .await;
    assert_eq!(custom.status, 201, "{}", custom.json);
    let tid = custom.json["id"].as_str().unwrap().to_owned();
    let changed = call(
        "PUT",
        "/api/v1/talk-templates/{id}",
        &format!("/api/v1/talk-templates/{tid}"),
        Some(json!({"name": "Quarterly talk", "questions": [{"text": "How was the quarter?"}, {"text": "And the next?"}]})),
    )
    .await;
    assert_eq!(
        changed.json["questions"].as_array().unwrap().len(),
        2,
        "{}",
        changed.json
    );
    let tomorrow = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .saturating_add(jiff::Span::new().days(2))
        .to_string();
    let talk = call(
        "POST",
        "/api/v1/talks",
        "/api/v1/talks",
        Some(json!({"with_id": aid, "template_id": tid, "date": tomorrow, "time": "09:30", "minutes": 30})),
    )
    .await;
    assert_eq!(talk.status, 201, "{}", talk.json);
    let talk_id = talk.json["id"].as_str().unwrap().to_owned();
    let listed = call("GET", "/api/v1/talks", "/api/v1/talks", None).await;
    assert_eq!(listed.json.as_array().unwrap().len(), 1);
    call("GET", "/api/v1/talks/{id}", &format!("/api/v1/talks/{talk_id}"), None).await;
    let noted = call(
        "PUT",
        "/api/v1/talks/{id}/notes",
        &format!("/api/v1/talks/{talk_id}/notes"),
        Some(json!({"notes": [{"question": 0, "shared": "A good quarter", "private": "mine"}]})),
    )
    .await;
    assert_eq!(noted.json["questions"][0]["private"], "mine");
    let item = call(
        "POST",
        "/api/v1/talks/{id}/items",
        &format!("/api/v1/talks/{talk_id}/items"),
        Some(json!({"text": "Plan the next quarter", "owner_id": aid, "due_date": tomorrow})),
    )
    .await;
    assert_eq!(item.status, 201, "{}", item.json);
    let item_id = item.json["items"][0]["id"].as_str().unwrap().to_owned();
    call(
        "PATCH",
        "/api/v1/talk-items/{id}",
        &format!("/api/v1/talk-items/{item_id}"),
        Some(json!({"status": "done"})),
    )
    .await;
    let moved = call(
        "POST",
        "/api/v1/talks/{id}/time",
        &format!("/api/v1/talks/{talk_id}/time"),
        Some(json!({"date": tomorrow, "time": "11:00", "minutes": 45})),
    )
    .await;
    assert_eq!(moved.json["minutes"], 45, "{}", moved.json);
    call(
        "POST",
        "/api/v1/talks/{id}/held",
        &format!("/api/v1/talks/{talk_id}/held"),
        None,
    )
    .await
    .error(409, "conflict");
    let cancelled = call(
        "POST",
        "/api/v1/talks/{id}/cancel",
        &format!("/api/v1/talks/{talk_id}/cancel"),
        None,
    )
    .await;
    assert_eq!(cancelled.json["status"], "cancelled");
    let asked = call(
        "POST",
        "/api/v1/talk-requests",
        "/api/v1/talk-requests",
        Some(json!({"with_id": aid, "template_id": tid})),
    )
    .await;
    assert_eq!(asked.json["status"], "requested", "{}", asked.json);
    let feed = call("POST", "/api/v1/calendar-feed", "/api/v1/calendar-feed", None).await;
    assert_eq!(feed.status, 201);
    let off = call("DELETE", "/api/v1/calendar-feed", "/api/v1/calendar-feed", None).await;
    assert_eq!((off.status, off.json["on"].as_bool()), (200, Some(false)));

    // Erasing a leaver's personal data: owners only, leavers only, once.
    call(
        "POST",
        "/api/v1/people/{id}/erase",
        &format!("/api/v1/people/{aid}/erase"),
        None,
    )
    .await
    .error(403, "forbidden");
    let olu = app.person(org, "Olu", "olu@bars.example", Role::Owner, None).await;
    let owner = Api::new(&app, &token_for(&app, org, olu).await);
    let erase = format!("/api/v1/people/{aid}/erase");
    owner.call("POST", &erase, None).await.error(409, "conflict");
    owner
        .call(
            "POST",
            &format!("/api/v1/people/{aid}/deactivate"),
            Some(json!({"end_date": "2026-06-30", "reason": "voluntary"})),
        )
        .await;
    let erased = owner.call("POST", &erase, None).await;
    assert_eq!(erased.status, 200, "{}", erased.json);
    assert_eq!(erased.json["name"], "Former member");
    assert!(!erased.json.to_string().contains("ana@bars.example"), "{}", erased.json);
    owner.call("POST", &erase, None).await.error(409, "conflict");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'person.erased'")
            .await,
        1
    );

    let doc: serde_json::Value = reqwest::get(format!("http://{}/api/v1/openapi.json", app.addr))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    assert_eq!(
        documented,
        *done.borrow(),
        "documented operations and exercised operations differ"
    );
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    // Every reference in the document resolves.
    let text = doc.to_string();
    for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = reference.split('"').next().unwrap();
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "unresolvable reference to {name}"
        );
    }
    // The human-readable page lists them too.
    let page = reqwest::get(format!("http://{}/api", app.addr))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("PATCH /api/v1/people/{id}"), "{page}");
    app.run_jobs().await;
}

async fn api_errors_are_json_and_name_the_field(app: TestApp) {
    let org = app.org("Bars Co", "bars-co").await;
    let hr = app.person(org, "Hera", "hera@bars.example", Role::HrAdmin, None).await;
    let api = Api::new(&app, &token_for(&app, org, hr).await);
    api.raw("POST", "/api/v1/teams", "application/json", "{not json")
        .await
        .error(400, "bad_request");
    api.raw("POST", "/api/v1/teams", "text/plain", "{}")
        .await
        .error(415, "unsupported_media_type");
    api.call("POST", "/api/v1/teams", Some(json!({"name": 5})))
        .await
        .error(422, "invalid")
        .field("name");
    api.call("POST", "/api/v1/teams", Some(json!({})))
        .await
        .error(422, "invalid");
    api.call("POST", "/api/v1/teams", Some(json!({"name": "a/b"})))
        .await
        .error(422, "invalid")
        .field("name");
    api.call("POST", "/api/v1/teams", Some(json!({"name": "X", "parent_id": "nope"})))
        .await
        .error(422, "invalid")
        .field("parent_id");
    api.call("POST", "/api/v1/people", Some(json!({"name": "A", "email": "bad"})))
        .await
        .error(422, "invalid")
        .field("email");
    api.call(
        "POST",
        "/api/v1/people",
        Some(json!({"name": "A", "email": "a@b.example", "start_date": "1/2/2024"})),
    )
    .await
    .error(422, "invalid")
    .field("start_date");
    api.call(
        "POST",
        "/api/v1/people",
        Some(json!({"name": "A", "email": "a@b.example", "team_id": "123"})),
    )
    .await
    .error(422, "invalid")
    .field("team_id");
    api.call(
        "POST",
        "/api/v1/people",
        Some(json!({"name": "A", "email": "a@b.example", "role": "boss"})),
    )
    .await
    .error(422, "invalid")
    .field("role");
    api.call(
        "POST",
        "/api/v1/people",
        Some(json!({"name": "A", "email": "HERA@bars.example"})),
    )
    .await
    .error(409, "conflict")
    .field("email");
    api.get("/api/v1/people/abc").await.error(404, "not_found");
    api.get("/api/v1/people?status=gone")
        .await
        .error(422, "invalid")
        .field("status");
    api.get("/api/v1/nothing-here").await.error(404, "not_found");
    api.call("DELETE", "/api/v1/people", None)
        .await
        .error(405, "bad_request");
    let huge = format!("{{\"name\": \"{}\"}}", "x".repeat(belong::web::FORM_LIMIT));
    api.raw("POST", "/api/v1/teams", "application/json", &huge)
        .await
        .error(413, "too_large");
    assert_eq!(app.count("SELECT COUNT(*) FROM teams").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM people").await, 1);

    // Guessing tokens from one address is cut off.
    let guesser = Api::new(&app, "blg_guess");
    let mut last = None;
    for _ in 0..=(belong::web::api::ANONYMOUS_PER_MINUTE as usize) {
        last = Some(guesser.get("/api/v1/me").await);
    }
    let last = last.unwrap();
    last.error(429, "too_many_requests");
    assert!(last.headers.contains_key("retry-after"));
}

async fn api_keeps_organizations_and_roles_apart(app: TestApp) {
    let a = app.org("Alpha", "alpha").await;
    let b = app.org("Beta", "beta").await;
    let a_hr = app.person(a, "Hera", "hera@alpha.example", Role::HrAdmin, None).await;
    let a_emp = app.person(a, "Emil", "emil@alpha.example", Role::Employee, None).await;
    let b_team = app.team(b, "Secret Team", None).await;
    let b_person = app
        .person(b, "Bruno", "bruno@beta.example", Role::Employee, Some(b_team))
        .await;
    let hr = Api::new(&app, &token_for(&app, a, a_hr).await);
    let emp = Api::new(&app, &token_for(&app, a, a_emp).await);

    let people = hr.get("/api/v1/people?status=all").await;
    assert!(!people.json.to_string().contains("Bruno"));
    assert!(!hr.get("/api/v1/teams").await.json.to_string().contains("Secret"));
    hr.get(&format!("/api/v1/people/{b_person}"))
        .await
        .error(404, "not_found");
    hr.get(&format!("/api/v1/teams/{b_team}")).await.error(404, "not_found");
    hr.call(
        "PATCH",
        &format!("/api/v1/people/{b_person}"),
        Some(json!({"name": "Hacked"})),
    )
    .await
    .error(404, "not_found");
    hr.call(
        "POST",
        &format!("/api/v1/people/{b_person}/deactivate"),
        Some(json!({"end_date": "2026-01-01", "reason": "other"})),
    )
    .await
    .error(404, "not_found");
    hr.call(
        "PATCH",
        &format!("/api/v1/people/{a_emp}"),
        Some(json!({"team_id": b_team.to_string()})),
    )
    .await
    .error(422, "invalid")
    .field("team_id");
    hr.call(
        "PATCH",
        &format!("/api/v1/people/{a_emp}"),
        Some(json!({"role": "owner"})),
    )
    .await
    .error(422, "invalid")
    .field("role");

    for path in ["/api/v1/people", "/api/v1/teams", &format!("/api/v1/people/{a_hr}")] {
        emp.get(path).await.error(403, "forbidden");
    }
    emp.call("POST", "/api/v1/teams", Some(json!({"name": "Mine"})))
        .await
        .error(403, "forbidden");
    assert_eq!(emp.get("/api/v1/me").await.status, 200);
    let bruno = belong::org::service::person(&app.state.db, b, b_person)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bruno.name, "Bruno");
    // A deactivated person's token stops working.
    hr.call(
        "POST",
        &format!("/api/v1/people/{a_emp}/deactivate"),
        Some(json!({"end_date": "2026-01-01", "reason": "other"})),
    )
    .await;
    emp.get("/api/v1/me").await.error(401, "unauthorized");
}
