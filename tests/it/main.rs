//! The integration suite: the real app over HTTP, on SQLite and PostgreSQL.

mod helpers;

mod api;
mod audit;
mod auth;
mod browser;
mod cli;
mod conversations;
mod email;
mod forms;
mod guard;
mod hardening;
mod impact;
mod import;
mod insights;
mod jobs;
mod load;
mod people;
mod pulse;
mod recognition;
mod rules;
mod sealed;
mod setup;
mod smtp;
mod tenancy;
mod voice;
