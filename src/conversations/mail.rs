//! What conversations send: the emails (one template for all, never a
//! word of a note), the links in them, and a talk's calendar event.

use askama::Template;
use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::store::TalkRow;
use crate::app::App;
use crate::notify::email::OutgoingEmail;
use crate::notify::ical;
use crate::org::model::Person;
use crate::org::service::Directory;

/// "Tue 8 Dec 2026, 09:30".
pub fn moment(at: i64, zone: &TimeZone) -> String {
    Timestamp::from_second(at)
        .map(|t| t.to_zoned(zone.clone()).strftime("%a %-d %b %Y, %H:%M").to_string())
        .unwrap_or_default()
}

/// What a conversations email says.
pub struct Message {
    pub to: String,
    pub lines: Vec<String>,
    pub action: String,
    pub link: String,
}

#[derive(Template)]
#[template(path = "conversations/templates/email.txt")]
struct MessageText<'a> {
    m: &'a Message,
}

#[derive(Template)]
#[template(path = "conversations/templates/email.html")]
struct MessageHtml<'a> {
    m: &'a Message,
}

pub fn email(to: &Person, subject: String, lines: Vec<String>, action: &str, link: &str) -> OutgoingEmail {
    let m = Message {
        to: to.name.clone(),
        lines,
        action: action.to_owned(),
        link: link.to_owned(),
    };
    OutgoingEmail::of(
        to.email.clone(),
        subject,
        &MessageText { m: &m },
        &MessageHtml { m: &m },
    )
}

pub fn link(app: &App, talk_id: i64) -> String {
    format!("{}/talks/{talk_id}", app.settings.public_url.trim_end_matches('/'))
}

/// The calendar event of a talk (no word of its notes).
pub fn event(app: &App, dir: &Directory, t: &TalkRow, template: &str) -> Option<ical::Event> {
    let who = |id: i64| {
        dir.person(id).map(|p| ical::Who {
            name: p.name.clone(),
            email: p.email.clone(),
        })
    };
    let organizer = who(t.organizer_id)?;
    let guest = who(t.guest_id)?;
    Some(ical::Event {
        uid: format!("talk-{}@belong", t.id),
        sequence: t.sequence,
        start: Timestamp::from_second(t.starts_at?).ok()?,
        minutes: t.minutes,
        zone: TimeZone::get(&t.zone).unwrap_or(TimeZone::UTC),
        summary: format!("{template}: {} and {}", organizer.name, guest.name),
        description: format!("Open the talk in belong: {}", link(app, t.id)),
        url: Some(link(app, t.id)),
        attendees: vec![organizer.clone(), guest],
        organizer,
        cancelled: t.status == "cancelled",
    })
}
