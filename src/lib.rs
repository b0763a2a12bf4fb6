//! `belong` — measure and grow belonging at work without exposing anyone.
//!
//! See ARCHITECTURE.md for the module map and the invariants.
#![forbid(unsafe_code)]

pub mod account;
pub mod app;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod conversations;
pub mod db;
pub mod error;
pub mod home;
pub mod insights;
pub mod jobs;
pub mod limits;
pub mod module;
pub mod modules;
pub mod mydata;
pub mod notify;
pub mod org;
pub mod privacy;
pub mod pulse;
pub mod recognition;
pub mod shared;
pub mod voice;
pub mod web;
