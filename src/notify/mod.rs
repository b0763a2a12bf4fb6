//! Reaching people: email over SMTP (sent through the job queue) and
//! posts to chat webhooks.

pub mod email;
pub mod webhook;
