//! Every form, sent wrong on purpose, read as the person who sent it
//! would: each problem named by the label they see beside the field, the
//! message beside that field too, every problem at once, what they typed
//! kept, and no internal name, id or token anywhere in the words.

use belong::auth::Role;

use crate::helpers::{Browser, Page, TestApp, both_databases};

both_databases!(
    every_form_names_each_wrong_field_by_its_label_beside_it_and_all_at_once,
    forms_without_visible_fields_explain_in_words_on_the_error_page,
    the_setup_form_names_each_wrong_field_too,
);

/// What a person reads on `html`: tags, scripts and styles removed and
/// entities decoded, white space collapsed.
fn visible(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let lower = rest.get(..8).unwrap_or(rest).to_ascii_lowercase();
        let skip_to = if lower.starts_with("<script") {
            "</script>"
        } else if lower.starts_with("<style") {
            "</style>"
        } else {
            ">"
        };
        let name: String = rest[1..]
            .trim_start_matches('/')
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect();
        match rest.find(skip_to) {
            Some(end) => rest = &rest[end + skip_to.len()..],
            None => rest = "",
        }
        // Words run on across inline tags; a block ends them.
        if !matches!(
            name.as_str(),
            "a" | "span" | "strong" | "em" | "b" | "i" | "code" | "abbr"
        ) {
            out.push(' ');
        }
    }
    out.push_str(rest);
    let decoded = out
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&");
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The problems of the page's error summary: (the id its link points at,
/// the link's words, the message after them).
fn summary_links(html: &str) -> Vec<(String, String, String)> {
    let Some(start) = html.find("<div class=\"alert\" role=\"alert\">") else {
        return Vec::new();
    };
    let block = &html[start..];
    let block = &block[..block.find("</div>").expect("the summary ends")];
    let mut links = Vec::new();
    for item in block.split("<li>").skip(1) {
        let item = &item[..item.find("</li>").expect("the item ends")];
        let Some(rest) = item.strip_prefix("<a href=\"#") else {
            continue;
        };
        let id = rest[..rest.find('"').unwrap()].to_owned();
        let text_at = rest.find('>').unwrap() + 1;
        let end = text_at + rest[text_at..].find("</a>").unwrap();
        let message = rest[end + 4..].trim_start_matches(':');
        links.push((id, visible(&rest[text_at..end]), visible(message)));
    }
    links
}

/// The opening tag of the element with this id.
fn element<'a>(html: &'a str, id: &str) -> Option<&'a str> {
    let at = html.find(&format!(" id=\"{id}\""))?;
    let open = html[..at].rfind('<')?;
    let close = at + html[at..].find('>')?;
    Some(&html[open..=close])
}

/// The words that name the field with this id: its `<label for>`, or the
/// `<legend>` of the fieldset with that id.
fn label_of(html: &str, id: &str) -> Option<String> {
    if let Some(at) = html.find(&format!("<label for=\"{id}\">")) {
        let rest = &html[at..];
        let text_at = rest.find('>').unwrap() + 1;
        // The label's own words, before any hint inside it.
        let end = rest[text_at..].find('<').unwrap();
        return Some(visible(&rest[text_at..text_at + end]));
    }
    let tag = element(html, id)?;
    if !tag.starts_with("<fieldset") {
        return None;
    }
    let rest = &html[html.find(tag).unwrap()..];
    let legend = rest.find("<legend")?;
    let text_at = legend + rest[legend..].find('>')? + 1;
    let end = rest[text_at..].find("</legend>")?;
    Some(visible(&rest[text_at..text_at + end]))
}

/// Words a person must never read: the form's field keys ("start_date",
/// "name:"), anything in snake_case, the CSRF token's name.
fn assert_no_internal_names(page: &Page, keys: &[&str]) {
    // What is shown as code (a CSV file's column names) is to be typed as
    // it stands: the one place such a name belongs.
    let mut prose = page.body.clone();
    while let Some(at) = prose.find("<code>") {
        let end = at + prose[at..].find("</code>").expect("code ends") + 7;
        prose.replace_range(at..end, "");
    }
    let text = visible(&prose);
    assert!(!text.to_lowercase().contains("csrf"), "the word csrf is shown: {text}");
    for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '/')) {
        // A time zone's name ("America/New_York") is the one kind allowed.
        if word.contains('/') {
            continue;
        }
        let inner = word.trim_matches('_');
        assert!(!inner.contains('_'), "an internal name {word:?} is shown: {text}");
    }
    // No message is led by a field's key ("start_date: …", "name: …").
    let mut messages: Vec<String> = summary_links(&page.body).into_iter().map(|(_, _, m)| m).collect();
    for opening in ["<span class=\"field-error\"", "<p class=\"error\"", "<li>"] {
        for piece in page.body.split(opening).skip(1) {
            let inner = &piece[piece.find('>').unwrap() + 1..];
            messages.push(visible(&inner[..inner.find("</").unwrap_or(inner.len())]));
        }
    }
    for key in keys {
        for message in &messages {
            // Keys are lower case; labels start with a capital.
            assert!(
                !message.starts_with(&format!("{key}:")),
                "the field key {key:?} leads {message:?}"
            );
            assert!(
                !message.contains(&format!("\"{key}\"")),
                "the field key {key:?} is in {message:?}"
            );
        }
    }
}

/// `page` is the form shown again because of exactly the fields labelled
/// `labels`: each named in the summary by the words of its own label, with
/// a link to it, its message beside it and the field marked invalid; the
/// `typed` values are kept.
fn assert_refused(page: &Page, status: u16, keys: &[&str], labels: &[&str], typed: &[&str]) {
    assert_eq!(page.status.as_u16(), status, "{}", page.body);
    let links = summary_links(&page.body);
    let named: Vec<&str> = links.iter().map(|(_, l, _)| l.as_str()).collect();
    let mut want = labels.to_vec();
    want.sort_unstable();
    let mut got = named.clone();
    got.sort_unstable();
    assert_eq!(got, want, "the summary names other fields: {}", page.body);
    let text = visible(&page.body);
    assert!(text.contains("Please correct the marked fields"), "{text}");
    for (id, label, message) in &links {
        assert_eq!(
            label_of(&page.body, id).as_deref().map(str::trim),
            Some(label.as_str()),
            "the summary calls #{id} {label:?}, but the form labels it otherwise: {}",
            page.body
        );
        let control = element(&page.body, id).unwrap_or_else(|| panic!("no field #{id}: {}", page.body));
        assert!(
            control.contains("aria-invalid=\"true\""),
            "#{id} is not marked: {control}"
        );
        assert!(
            control.contains(&format!("{id}-error")),
            "#{id} is not described by its message: {control}"
        );
        let beside = element(&page.body, &format!("{id}-error"))
            .unwrap_or_else(|| panic!("no message beside #{id}: {}", page.body));
        assert!(beside.contains("field-error"), "{beside}");
        // The same words in the summary and beside the field.
        let said = visible(&page.body[page.body.find(beside).unwrap() + beside.len()..])
            .split(" ")
            .take(message.split(' ').count())
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(said.to_lowercase(), message.to_lowercase(), "#{id}: {}", page.body);
    }
    for value in typed {
        let escaped = value.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;");
        assert!(
            page.body.contains(&escaped),
            "what was typed ({value:?}) is lost: {}",
            page.body
        );
    }
    assert_no_internal_names(page, keys);
}

/// `page` is the error page for a form with no field to mark (a button, a
/// hidden value): it says which value was wrong in words, status `status`.
fn assert_explained(page: &Page, status: u16, keys: &[&str], words: &str) {
    assert_eq!(page.status.as_u16(), status, "{}", page.body);
    let text = visible(&page.body);
    assert!(text.contains(words), "expected {words:?} in: {text}");
    assert_no_internal_names(page, keys);
}

fn keys<'a>(fields: &[(&'a str, &'a str)]) -> Vec<&'a str> {
    fields.iter().map(|(k, _)| *k).collect()
}

/// Posts `fields` to `path` after opening `page` (for its CSRF token) and
/// checks the refusal.
async fn refused(b: &Browser, page: &str, path: &str, fields: &[(&str, &str)], labels: &[&str], typed: &[&str]) {
    b.get(page).await;
    let answer = b.post(path, fields).await;
    let status = answer.status.as_u16();
    assert!((400..500).contains(&status), "{path}: {status}: {}", answer.body);
    assert_refused(&answer, status, &keys(fields), labels, typed);
}

struct Org {
    org: i64,
    kitchen: i64,
    emil: i64,
}

async fn org(app: &TestApp) -> Org {
    let org = app.org("Bars Co", "bars-co").await;
    let kitchen = app.team(org, "Kitchen", None).await;
    app.person(org, "Olga Owner", "olga@bars.example", Role::Owner, None)
        .await;
    app.person(org, "Hera Hr", "hera@bars.example", Role::HrAdmin, None)
        .await;
    let emil = app
        .person(org, "Emil Cook", "emil@bars.example", Role::Employee, Some(kitchen))
        .await;
    for i in 0..4 {
        app.member(
            org,
            &format!("Cook {i}"),
            &format!("cook{i}@bars.example"),
            Some(kitchen),
        )
        .await;
    }
    Org { org, kitchen, emil }
}

async fn every_form_names_each_wrong_field_by_its_label_beside_it_and_all_at_once(app: TestApp) {
    // With email on, so that every form is offered (the sign-in link's).
    let smtp = crate::helpers::SmtpSink::start(crate::helpers::free_port(), 0);
    let app = app.with_mail(smtp.port).await;
    let o = org(&app).await;
    let hr = app.signed_in("hera@bars.example").await;
    let owner = app.signed_in("olga@bars.example").await;
    let emil = app.signed_in("emil@bars.example").await;
    let (kitchen, person) = (o.kitchen.to_string(), format!("/people/{}", o.emil));

    // People and teams.
    let person_fields = [
        ("name", " "),
        ("email", "not-an-address"),
        ("role", "employee"),
        ("team", kitchen.as_str()),
        ("manager", ""),
        ("start_date", "31/02/2024"),
        ("time_zone", "Mars/Olympus"),
    ];
    refused(
        &hr,
        "/people/new",
        "/people",
        &person_fields,
        &["Name", "Email", "Start date", "Time zone"],
        &["not-an-address", "31/02/2024", "Mars/Olympus"],
    )
    .await;
    refused(
        &hr,
        &person,
        &person,
        &person_fields,
        &["Name", "Email", "Start date", "Time zone"],
        &[],
    )
    .await;
    refused(
        &hr,
        &person,
        &format!("{person}/deactivate"),
        &[("end_date", "soon"), ("reason", "bored")],
        &["Last day", "Reason"],
        &["soon"],
    )
    .await;
    refused(
        &hr,
        "/teams",
        "/teams",
        &[("name", "A/B"), ("parent", "")],
        &["Name"],
        &["A/B"],
    )
    .await;
    refused(
        &hr,
        &format!("/teams/{kitchen}"),
        &format!("/teams/{kitchen}"),
        &[("name", " "), ("parent", "kitchen")],
        &["Name", "Inside team"],
        &[],
    )
    .await;
    hr.get("/import").await;
    let upload = hr.upload("/import", "people.csv", b"\xff\xfe not text".to_vec()).await;
    assert_refused(&upload, upload.status.as_u16(), &["file"], &["CSV file"], &[]);

    // Pulses.
    refused(
        &hr,
        "/pulse/new",
        "/pulse",
        &[
            ("title", " "),
            ("schedule", "hourly"),
            ("open_days", "zero"),
            ("remind_days", "-1"),
            ("per_cycle", "many"),
            ("audience", "all"),
        ],
        &[
            "Title",
            "Schedule",
            "Days each cycle stays open",
            "Reminder, days before it closes",
            "Questions per cycle",
        ],
        &["zero", "-1", "many"],
    )
    .await;
    refused(
        &hr,
        "/pulse/questions",
        "/pulse/questions",
        &[("pillar", "moon"), ("text", " ")],
        &["Pillar", "Wording"],
        &[],
    )
    .await;
    refused(
        &hr,
        "/pulse/segments",
        "/pulse/segments",
        &[("text", " "), ("options", "Only one")],
        &["Question", "Options"],
        &["Only one"],
    )
    .await;
    refused(
        &owner,
        "/settings",
        "/settings",
        &[("k", "2")],
        &["Smallest group whose results are shown"],
        &[],
    )
    .await;
    refused(
        &owner,
        "/settings",
        "/settings/retention",
        &[("keep_responses", "on"), ("retention_months", "soon")],
        &["Delete kept answers and comments this many months after a pulse closes"],
        &["soon"],
    )
    .await;
    let cycle = crate::pulse::launch_pulse(&app, &hr, o.org).await;
    let answer = format!("/pulse/cycles/{cycle}/answer");
    emil.get(&answer).await;
    let refusal = emil.post(&answer, &[]).await;
    assert_eq!(refusal.status, 422, "{}", refusal.body);
    // Each unanswered question is named by its own wording.
    let links = summary_links(&refusal.body);
    assert!(links.len() >= 2, "{}", refusal.body);
    for (id, label, _) in &links {
        let wording = label_of(&refusal.body, id).unwrap_or_else(|| panic!("no question #{id}"));
        assert!(label.contains(&wording), "{label:?} does not name {wording:?}");
        assert!(
            element(&refusal.body, &format!("{id}-error")).is_some(),
            "no message beside #{id}"
        );
    }
    assert_no_internal_names(&refusal, &[]);

    // Thanks, values, awards.
    refused(
        &emil,
        "/thanks",
        "/thanks",
        &[("value", "999"), ("message", " ")],
        &["Who", "For which value", "Thank you for…"],
        &[],
    )
    .await;
    refused(
        &hr,
        "/thanks/values",
        "/thanks/values",
        &[("name", " "), ("description", &"d".repeat(400)), ("pillar", "moon")],
        &["Name", "What it means", "Pillar"],
        &[],
    )
    .await;
    refused(
        &owner,
        "/thanks/values",
        "/thanks/webhook",
        &[("webhook_url", "ftp://chat.example/hook")],
        &["Incoming webhook address"],
        &["ftp://chat.example/hook"],
    )
    .await;
    refused(
        &hr,
        "/thanks/awards",
        "/thanks/awards",
        &[("title", " ")],
        &["Title"],
        &[],
    )
    .await;
    assert_eq!(
        hr.submit("/thanks/awards", &[("title", "Cook of May")]).await.status,
        200
    );
    let round = app.count("SELECT id FROM award_rounds").await;
    refused(
        &emil,
        "/thanks/awards",
        &format!("/thanks/awards/{round}/nominate"),
        &[("nominee", ""), ("reason", " ")],
        &["Nominate", "Why"],
        &[],
    )
    .await;

    // An action.
    refused(
        &hr,
        "/actions/new",
        "/actions",
        &[
            ("title", " "),
            ("pillar", "moon"),
            ("group", "kitchen"),
            ("owner", "x"),
            ("due_date", "soon"),
            ("visibility", "all"),
        ],
        &["Title", "Pillar", "For", "Owner", "Due", "Who can read it"],
        &["soon"],
    )
    .await;

    // An initiative.
    refused(
        &hr,
        "/initiatives/new",
        "/initiatives",
        &[
            ("name", " "),
            ("practice", "juggling"),
            ("pillar", "moon"),
            ("pulse", "x"),
            ("starts_on", "soon"),
        ],
        &[
            "Name",
            "Practice",
            "Pillar it should move",
            "Measured by",
            "Starts",
            "Teams taking part",
        ],
        &["soon"],
    )
    .await;

    // The feedback box.
    refused(
        &emil,
        "/voice",
        "/voice",
        &[
            ("team", "nowhere"),
            ("pillar", "moon"),
            ("topic", &"t".repeat(80)),
            ("body", " "),
        ],
        &["To", "About", "Topic", "Message"],
        &[],
    )
    .await;
    let stranger = app.browser();
    refused(
        &stranger,
        "/voice",
        "/voice/thread",
        &[("code", "ABCD-EFGH")],
        &["Your code"],
        &["ABCD-EFGH"],
    )
    .await;

    // Signing in and the account.
    let visitor = app.browser();
    refused(
        &visitor,
        "/signin",
        "/signin",
        &[("org", " "), ("email", "nobody"), ("password", "")],
        &["Organization", "Email", "Password"],
        &["nobody"],
    )
    .await;
    refused(
        &visitor,
        "/signin",
        "/signin/link",
        &[("org", " "), ("email", "nobody")],
        &["Organization", "Email"],
        &["nobody"],
    )
    .await;
    refused(
        &emil,
        "/account/password",
        "/account/password",
        &[("current", ""), ("new", "short"), ("confirm", "other")],
        &["Current password", "New password", "New password again"],
        &[],
    )
    .await;
    refused(
        &hr,
        "/account/tokens",
        "/account/tokens",
        &[("name", " ")],
        &["Name"],
        &[],
    )
    .await;

    // Nothing of it was stored.
    assert_eq!(app.count("SELECT COUNT(*) FROM people").await, 7);
    assert_eq!(app.count("SELECT COUNT(*) FROM teams").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM thank_yous").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM feedback_threads").await, 0);
    app.run_jobs().await;
}

async fn forms_without_visible_fields_explain_in_words_on_the_error_page(app: TestApp) {
    let o = org(&app).await;
    let hr = app.signed_in("hera@bars.example").await;
    let kitchen = o.kitchen.to_string();
    hr.get("/teams").await;
    let page = hr
        .post(&format!("/teams/{kitchen}/active"), &[("active", "maybe")])
        .await;
    assert_explained(&page, 422, &["active"], "The button sent neither on nor off");
    hr.get("/thanks").await;
    let page = hr.get("/thanks?team=kitchen").await;
    assert_explained(&page, 422, &["team"], "Board: ");
    hr.get("/voice/inbox").await;
    let page = hr.get("/voice/inbox?status=lost").await;
    assert_explained(&page, 422, &["status"], "Status: ");
    hr.get("/people").await;
    let page = hr
        .post(&format!("/people/{}", o.emil), &[("name", "x"), ("role", "boss")])
        .await;
    assert!(page.status.is_client_error(), "{}", page.body);
    assert_no_internal_names(&page, &["role"]);
}

async fn the_setup_form_names_each_wrong_field_too(app: TestApp) {
    let visitor = app.browser();
    refused(
        &visitor,
        "/setup",
        "/setup",
        &[
            ("code", ""),
            ("org_name", " "),
            ("name", " "),
            ("email", "olga"),
            ("password", "short"),
            ("confirm", "other"),
            ("time_zone", "Mars/Olympus"),
        ],
        &[
            "Setup code",
            "Organization name",
            "Your name",
            "Your email",
            "Password",
            "Password again",
            "Time zone",
        ],
        &["olga"],
    )
    .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM organizations").await, 0);
}
