//! Reaching people: email over SMTP (sent through the job queue).

pub mod email;
