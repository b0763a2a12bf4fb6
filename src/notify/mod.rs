//! Reaching people: email over SMTP (sent through the job queue) and
//! posts to chat webhooks; iCalendar for invites and feeds.

pub mod email;
pub mod ical;
pub mod webhook;
