//! Value types more than one module reads, with no I/O: an email address
//! (people, sign-in links), the pillars of belonging (pulse, voice,
//! recognition); walking up a tree of ids; the time zones offered, and a
//! moment's day in one; escaping text for server-drawn markup.

mod email;
pub mod markup;
mod pillar;
pub mod tree;
pub mod zones;

pub use email::Email;
pub use pillar::Pillar;
