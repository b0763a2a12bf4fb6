//! The reporting thresholds of PRIVACY.md that are not the guard itself,
//! each in one place and each taking the organization's k (frozen on the
//! cycle): participation (rule 11), comments (rule 8) and the smallest team
//! the feedback box delivers to (rule 16). Distributions by scale point
//! (rule 12) are not released at all: every released figure counts answers
//! in bands of at least two points (see `pulse::results`).

use serde::Serialize;

/// Participation as rule 11 allows it to be shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Participation {
    /// The group has fewer than k people.
    SmallGroup,
    /// Fewer than k have answered.
    FewerThanK,
    /// Rounded down to 10 %.
    Percent(u32),
}

/// Rule 11: participation of a group of `people` of whom `answered` have
/// answered.
pub fn participation(people: u32, answered: u32, k: u32) -> Participation {
    if people < k {
        Participation::SmallGroup
    } else if answered < k {
        Participation::FewerThanK
    } else {
        Participation::Percent(answered * 100 / people / 10 * 10)
    }
}

/// Rule 8: a group's comments may be listed only when at least k of its
/// people wrote one.
pub fn enough_writers(writers: u32, k: u32) -> bool {
    writers >= k
}

/// The fewest people a team of the feedback box may have to receive
/// messages itself (rule 16): five, or the organization's k when higher.
pub const FEEDBACK_MIN_TEAM: u32 = 5;

pub fn feedback_min_team(k: u32) -> usize {
    k.max(FEEDBACK_MIN_TEAM) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn participation_is_coarse() {
        assert_eq!(participation(4, 4, 5), Participation::SmallGroup);
        assert_eq!(participation(12, 4, 5), Participation::FewerThanK);
        assert_eq!(participation(12, 11, 5), Participation::Percent(90));
        assert_eq!(participation(12, 5, 5), Participation::Percent(40));
    }

    #[test]
    fn thresholds_follow_k() {
        assert!(!enough_writers(4, 5) && enough_writers(5, 5) && enough_writers(3, 3));
        assert_eq!(feedback_min_team(3), 5);
        assert_eq!(feedback_min_team(7), 7);
    }
}
