//! The integration suite: the real app over HTTP, on SQLite and PostgreSQL.

mod helpers;

mod auth;
mod cli;
mod email;
mod import;
mod jobs;
mod people;
mod tenancy;
