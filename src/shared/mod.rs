//! Value types more than one module reads, with no I/O: an email address
//! (people, sign-in links), the pillars of belonging (pulse, voice,
//! recognition).

mod email;
mod pillar;

pub use email::Email;
pub use pillar::Pillar;
