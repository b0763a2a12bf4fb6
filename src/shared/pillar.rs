//! The pillars of belonging a question, a thank-you value or a message is
//! about: the pulse asks by them, recognition and voice tag by them.

/// The four pillars of belonging, and the outcome measures.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Pillar {
    Acceptance,
    Value,
    Support,
    Integration,
    /// Intent to stay.
    Stay,
    Enps,
    Comment,
}

impl Pillar {
    pub const BELONGING: [Pillar; 4] = [Pillar::Acceptance, Pillar::Value, Pillar::Support, Pillar::Integration];

    pub fn as_str(self) -> &'static str {
        match self {
            Pillar::Acceptance => "acceptance",
            Pillar::Value => "value",
            Pillar::Support => "support",
            Pillar::Integration => "integration",
            Pillar::Stay => "stay",
            Pillar::Enps => "enps",
            Pillar::Comment => "comment",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Pillar::Acceptance => "Acceptance",
            Pillar::Value => "Value",
            Pillar::Support => "Support",
            Pillar::Integration => "Integration",
            Pillar::Stay => "Intent to stay",
            Pillar::Enps => "eNPS",
            Pillar::Comment => "Comment",
        }
    }

    pub fn parse(s: &str) -> Option<Pillar> {
        [
            Pillar::Acceptance,
            Pillar::Value,
            Pillar::Support,
            Pillar::Integration,
            Pillar::Stay,
            Pillar::Enps,
            Pillar::Comment,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }

    pub fn is_belonging(self) -> bool {
        Pillar::BELONGING.contains(&self)
    }

    /// The answer scale: (lowest, highest), or None for free text.
    pub fn scale(self) -> Option<(i64, i64)> {
        match self {
            Pillar::Enps => Some((0, 10)),
            Pillar::Comment => None,
            _ => Some((1, 5)),
        }
    }

    pub fn kind(self) -> &'static str {
        match self {
            Pillar::Enps => "enps",
            Pillar::Comment => "comment",
            _ => "agree",
        }
    }
}
