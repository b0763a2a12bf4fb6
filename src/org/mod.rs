//! Organization: organizations (tenants), people, teams, the CSV import of
//! an HRIS export, and the demo organization.

pub mod api;
pub mod demo;
pub mod import;
pub mod model;
pub mod mydata;
pub mod pages;
pub mod service;
pub mod store;
