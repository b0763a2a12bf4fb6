//! Email over SMTP: the mail server's settings and the transport. Messages
//! are rendered when they are queued and sent by a job (`jobs::email`), so
//! a slow or failing mail server never slows a request and a message
//! survives a restart.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};

/// How to reach the mail server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Security {
    /// Plain SMTP (a relay on the same machine or a test server).
    None,
    /// Upgrade with STARTTLS (usually port 587).
    StartTls,
    /// TLS from the first byte (usually port 465).
    Tls,
}

impl std::str::FromStr for Security {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "none" => Ok(Security::None),
            "starttls" => Ok(Security::StartTls),
            "tls" => Ok(Security::Tls),
            _ => Err("must be starttls, tls or none".into()),
        }
    }
}

/// SMTP settings; `Debug` hides the password.
#[derive(Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: Option<String>,
    pub password: Option<String>,
    pub from: String,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("from", &self.from)
            .finish()
    }
}

/// Sends mail, or — with no SMTP server configured — says it is off.
#[derive(Clone)]
pub struct Mailer {
    transport: Option<(AsyncSmtpTransport<Tokio1Executor>, Mailbox)>,
}

impl Mailer {
    pub fn off() -> Mailer {
        Mailer { transport: None }
    }

    pub fn is_on(&self) -> bool {
        self.transport.is_some()
    }

    pub fn new(s: &SmtpSettings) -> Result<Mailer, String> {
        let from: Mailbox = s.from.parse().map_err(|e| format!("smtp-from: {e}"))?;
        let builder = match s.security {
            Security::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host),
            Security::StartTls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&s.host).map_err(|e| format!("smtp-host: {e}"))?
            }
            Security::Tls => {
                AsyncSmtpTransport::<Tokio1Executor>::relay(&s.host).map_err(|e| format!("smtp-host: {e}"))?
            }
        };
        let mut builder = builder.port(s.port).timeout(Some(Duration::from_secs(30)));
        if let (Some(user), Some(password)) = (&s.username, &s.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(Mailer {
            transport: Some((builder.build(), from)),
        })
    }

    pub async fn send(&self, email: &OutgoingEmail) -> Result<(), String> {
        let Some((transport, from)) = &self.transport else {
            return Ok(());
        };
        let to: Mailbox = email.to.parse().map_err(|e| format!("recipient: {e}"))?;
        let message = Message::builder()
            .from(from.clone())
            .to(to)
            .subject(&email.subject)
            .multipart(parts(email))
            .map_err(|e| e.to_string())?;
        transport.send(message).await.map_err(|e| e.to_string())?;
        Ok(())
    }
}

/// A rendered email waiting in the queue.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OutgoingEmail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// An iCalendar invite, sent as a third alternative part
    /// (`text/calendar; method=...`) that mail apps show as an event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar: Option<Calendar>,
}

/// An invite: its method (REQUEST, CANCEL) and the iCalendar text.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Calendar {
    pub method: String,
    pub ics: String,
}

/// The message's parts: text and HTML, and the invite when there is one.
fn parts(email: &OutgoingEmail) -> MultiPart {
    let both = MultiPart::alternative_plain_html(email.text.clone(), email.html.clone());
    match &email.calendar {
        None => both,
        Some(c) => {
            let kind = format!("text/calendar; charset=utf-8; method={}", c.method);
            let kind = lettre::message::header::ContentType::parse(&kind).expect("a calendar content type parses");
            both.singlepart(lettre::message::SinglePart::builder().header(kind).body(c.ics.clone()))
        }
    }
}

impl OutgoingEmail {
    /// An email whose two parts are one message rendered by its text and
    /// its HTML template. Those templates only print the strings they are
    /// given, which cannot fail.
    pub fn of(
        to: String,
        subject: String,
        text: &impl askama::Template,
        html: &impl askama::Template,
    ) -> OutgoingEmail {
        OutgoingEmail {
            to,
            subject,
            text: text.render().expect("an email's text template renders"),
            html: html.render().expect("an email's HTML template renders"),
            calendar: None,
        }
    }

    /// The same email carrying an invite.
    pub fn with_calendar(mut self, method: &str, ics: String) -> OutgoingEmail {
        self.calendar = Some(Calendar {
            method: method.to_owned(),
            ics,
        });
        self
    }
}
