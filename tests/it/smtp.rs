//! SMTP servers that receive the suite's email over TCP on 127.0.0.1, so
//! the mailer speaks real SMTP in every test: [`SmtpSink`] runs in the test
//! process and needs nothing installed; [`ExternalSmtp`] is Python's
//! aiosmtpd, a server written by others, which `.ci/run` installs and runs
//! the `external_` tests against.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;

use crate::helpers::TempDir;

/// A server that receives the suite's email.
pub trait Mailbox {
    fn port(&self) -> u16;
    /// What was accepted so far, in order.
    fn received(&self) -> Vec<ReceivedEmail>;
}

impl Mailbox for SmtpSink {
    fn port(&self) -> u16 {
        self.port
    }
    fn received(&self) -> Vec<ReceivedEmail> {
        SmtpSink::received(self)
    }
}

impl Mailbox for ExternalSmtp {
    fn port(&self) -> u16 {
        self.port
    }
    fn received(&self) -> Vec<ReceivedEmail> {
        ExternalSmtp::received(self)
    }
}

/// One message as the receiving server understood it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct ReceivedEmail {
    pub rcpt_tos: Vec<String>,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The `text/calendar` part (an invite), if any, and its method.
    #[serde(default)]
    pub calendar: String,
    #[serde(default)]
    pub calendar_method: String,
}

/// An SMTP server on a thread of the test process: it answers the commands
/// a mail client sends (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT), reads
/// each message's MIME parts, and refuses the first `fail_first` messages
/// with a temporary error (451).
pub struct SmtpSink {
    pub port: u16,
    received: Arc<Mutex<Vec<ReceivedEmail>>>,
    stop: Arc<AtomicBool>,
}

impl SmtpSink {
    pub fn start(port: u16, fail_first: u32) -> SmtpSink {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("the SMTP sink binds its port");
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let failures = Arc::new(AtomicU32::new(fail_first));
        let (store, stopped) = (received.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (store, failures) = (store.clone(), failures.clone());
                std::thread::spawn(move || {
                    let _ = session(stream, &store, &failures);
                });
            }
        });
        SmtpSink { port, received, stop }
    }

    /// What was accepted so far, in order.
    pub fn received(&self) -> Vec<ReceivedEmail> {
        self.received.lock().unwrap().clone()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accepting thread so that it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// One client's conversation; an error only ends the connection.
fn session(stream: TcpStream, store: &Mutex<Vec<ReceivedEmail>>, failures: &AtomicU32) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(20)))?;
    let mut out = stream.try_clone()?;
    let mut lines = BufReader::new(stream);
    out.write_all(b"220 belong-test ESMTP\r\n")?;
    let mut rcpt_tos: Vec<String> = Vec::new();
    loop {
        let mut line = String::new();
        if lines.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let command = line.trim_end();
        let verb = command.split([' ', ':']).next().unwrap_or("").to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" => out.write_all(b"250-belong-test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")?,
            "HELO" | "NOOP" => out.write_all(b"250 OK\r\n")?,
            "MAIL" => {
                rcpt_tos.clear();
                out.write_all(b"250 OK\r\n")?
            }
            "RCPT" => {
                let at = command.find('<').map_or(command.len(), |i| i + 1);
                let address = command[at..].split('>').next().unwrap_or("").to_owned();
                rcpt_tos.push(address);
                out.write_all(b"250 OK\r\n")?
            }
            "RSET" => {
                rcpt_tos.clear();
                out.write_all(b"250 OK\r\n")?
            }
            "DATA" => {
                out.write_all(b"354 end with <CRLF>.<CRLF>\r\n")?;
                let mut message = String::new();
                loop {
                    let mut l = String::new();
                    if lines.read_line(&mut l)? == 0 {
                        return Ok(());
                    }
                    if l == ".\r\n" || l == ".\n" {
                        break;
                    }
                    message.push_str(l.strip_prefix('.').unwrap_or(&l));
                }
                let refused = failures
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok();
                if refused {
                    out.write_all(b"451 4.3.0 try again later\r\n")?;
                } else {
                    store
                        .lock()
                        .unwrap()
                        .push(parse(&message, std::mem::take(&mut rcpt_tos)));
                    out.write_all(b"250 OK\r\n")?;
                }
            }
            "QUIT" => {
                out.write_all(b"221 bye\r\n")?;
                return Ok(());
            }
            _ => out.write_all(b"502 5.5.2 command not recognized\r\n")?,
        }
    }
}

/// A message's headers (names lower-cased, folded lines joined) and body.
fn split(message: &str) -> (HashMap<String, String>, &str) {
    let (head, body) = message
        .split_once("\r\n\r\n")
        .or_else(|| message.split_once("\n\n"))
        .unwrap_or((message, ""));
    let mut headers: HashMap<String, String> = HashMap::new();
    let mut last: Option<String> = None;
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(v) = last.as_ref().and_then(|name| headers.get_mut(name)) {
                v.push(' ');
                v.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            let name = name.trim().to_ascii_lowercase();
            headers.entry(name.clone()).or_insert_with(|| value.trim().to_owned());
            last = Some(name);
        }
    }
    (headers, body)
}

fn parse(message: &str, rcpt_tos: Vec<String>) -> ReceivedEmail {
    let (headers, _) = split(message);
    let header = |name: &str| headers.get(name).map(|v| decode_words(v)).unwrap_or_default();
    let mut mail = ReceivedEmail {
        rcpt_tos,
        to: header("to"),
        subject: header("subject"),
        text: String::new(),
        html: String::new(),
        calendar: String::new(),
        calendar_method: String::new(),
    };
    collect_parts(message, &mut mail);
    mail
}

/// Walks the MIME tree, keeping the first text/plain and text/html leaves.
fn collect_parts(entity: &str, mail: &mut ReceivedEmail) {
    let (headers, body) = split(entity);
    let content_type = headers
        .get("content-type")
        .cloned()
        .unwrap_or_else(|| "text/plain".into());
    let kind = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if kind.starts_with("multipart/") {
        let Some(boundary) = parameter(&content_type, "boundary") else {
            return;
        };
        let delimiter = format!("--{boundary}");
        for part in body.split(&delimiter).skip(1) {
            if part.starts_with("--") {
                break;
            }
            collect_parts(part.trim_start_matches(['\r', '\n']), mail);
        }
        return;
    }
    let encoding = headers
        .get("content-transfer-encoding")
        .map(|e| e.to_ascii_lowercase())
        .unwrap_or_default();
    let bytes = match encoding.as_str() {
        "base64" => {
            let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
            base64::engine::general_purpose::STANDARD
                .decode(compact)
                .expect("a base64 part decodes")
        }
        "quoted-printable" => quoted_printable::decode(body, quoted_printable::ParseMode::Robust)
            .expect("a quoted-printable part decodes"),
        _ => body.as_bytes().to_vec(),
    };
    let text = String::from_utf8(bytes)
        .expect("a text part is UTF-8")
        .replace("\r\n", "\n");
    match kind.as_str() {
        "text/plain" if mail.text.is_empty() => mail.text = text,
        "text/html" if mail.html.is_empty() => mail.html = text,
        "text/calendar" if mail.calendar.is_empty() => {
            mail.calendar = text;
            mail.calendar_method = parameter(&content_type, "method").unwrap_or_default();
        }
        _ => {}
    }
}

/// A parameter of a header value: `boundary` in `multipart/alternative;
/// boundary="x"`.
fn parameter(value: &str, name: &str) -> Option<String> {
    value.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k.trim().eq_ignore_ascii_case(name)).then(|| v.trim().trim_matches('"').to_owned())
    })
}

/// Decodes RFC 2047 encoded words (`=?utf-8?b?...?=`, `=?utf-8?q?...?=`);
/// the space between two adjacent encoded words is not part of the text.
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    let mut after_word = false;
    while let Some(start) = rest.find("=?") {
        let before = &rest[..start];
        let Some(word) = encoded_word(&rest[start..]) else {
            out.push_str(&rest[..start + 2]);
            rest = &rest[start + 2..];
            after_word = false;
            continue;
        };
        if !(after_word && before.trim().is_empty()) {
            out.push_str(before);
        }
        out.push_str(&word.0);
        rest = &rest[start + word.1..];
        after_word = true;
    }
    out.push_str(rest);
    out
}

/// The text of the encoded word `s` starts with, and its length.
fn encoded_word(s: &str) -> Option<(String, usize)> {
    let mut fields = s[2..].splitn(3, '?');
    let (charset, encoding, rest) = (fields.next()?, fields.next()?, fields.next()?);
    let end = rest.find("?=")?;
    let data = &rest[..end];
    if !charset.eq_ignore_ascii_case("utf-8") {
        return None;
    }
    let bytes = match encoding {
        "b" | "B" => base64::engine::general_purpose::STANDARD.decode(data).ok()?,
        "q" | "Q" => {
            let spaced = data.replace('_', " ");
            quoted_printable::decode(spaced, quoted_printable::ParseMode::Robust).ok()?
        }
        _ => return None,
    };
    let len = 2 + charset.len() + 1 + encoding.len() + 1 + end + 2;
    Some((String::from_utf8(bytes).ok()?, len))
}

/// A real SMTP server (Python's aiosmtpd) on a loopback port, writing what
/// it receives to a directory as JSON. The `external_` tests that use it
/// are ignored by a plain `cargo test`; `.ci/run` installs aiosmtpd and
/// runs them.
pub struct ExternalSmtp {
    pub port: u16,
    dir: TempDir,
    child: std::process::Child,
}

impl ExternalSmtp {
    pub fn start(port: u16, fail_first: u32) -> ExternalSmtp {
        let dir = TempDir::new();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/smtp_sink.py");
        let mut child = std::process::Command::new("python3")
            .args([
                script,
                "--port",
                &port.to_string(),
                "--dir",
                &dir.path(""),
                "--fail",
                &fail_first.to_string(),
            ])
            .stdout(std::process::Stdio::piped())
            .stdin(std::process::Stdio::null())
            .spawn()
            .expect("python3 runs (with aiosmtpd: pip install aiosmtpd)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready", "aiosmtpd did not start (pip install aiosmtpd)");
        ExternalSmtp { port, dir, child }
    }

    pub fn received(&self) -> Vec<ReceivedEmail> {
        let mut names: Vec<_> = std::fs::read_dir(&self.dir.0)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap())
            .collect()
    }
}

impl Drop for ExternalSmtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn headers_and_parts_decode_as_a_mail_reader_would() {
    let message = "To: =?utf-8?b?w4FuYQ==?= <ana@x.example>\r\nSubject: =?utf-8?q?Caf=C3=A9?=\r\n =?utf-8?q?_time?=\r\n\
        MIME-Version: 1.0\r\nContent-Type: multipart/alternative;\r\n boundary=\"b1\"\r\n\r\n\
        --b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
        Hello =E2=80=94 a long line=\r\n that goes on\r\n\
        --b1\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n\
        PHA+SGk8L3A+\r\n--b1--\r\n";
    let mail = parse(message, vec!["ana@x.example".into()]);
    assert_eq!(mail.to, "Ána <ana@x.example>");
    assert_eq!(mail.subject, "Café time");
    assert_eq!(mail.text, "Hello — a long line that goes on\n");
    assert_eq!(mail.html, "<p>Hi</p>");
}
