//! Walking up a tree of ids (teams to their parents, people to their
//! managers): one walk with one guard, so a loop in stored data (refused on
//! write, but never trusted on read) ends the walk instead of spinning.

use std::collections::HashSet;

/// `start`, its parent, the parent's parent… up to the top, each id once.
pub fn up<F: Fn(i64) -> Option<i64>>(start: Option<i64>, parent: F) -> Up<F> {
    Up {
        at: start,
        parent,
        seen: HashSet::new(),
        looped: false,
    }
}

pub struct Up<F> {
    at: Option<i64>,
    parent: F,
    seen: HashSet<i64>,
    looped: bool,
}

impl<F> Up<F> {
    /// Whether the walk ended because it came back to an id it had passed.
    pub fn looped(&self) -> bool {
        self.looped
    }
}

impl<F: Fn(i64) -> Option<i64>> Iterator for Up<F> {
    type Item = i64;

    fn next(&mut self) -> Option<i64> {
        let id = self.at?;
        if !self.seen.insert(id) {
            self.looped = true;
            self.at = None;
            return None;
        }
        self.at = (self.parent)(id);
        Some(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_to_the_top_and_stops_at_a_loop() {
        let parent = |id: i64| match id {
            1 => Some(2),
            2 => Some(3),
            3 => None,
            7 => Some(8),
            8 => Some(7),
            _ => None,
        };
        assert_eq!(up(Some(1), parent).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(up(None, parent).count(), 0);
        let mut looping = up(Some(7), parent);
        assert_eq!(looping.by_ref().collect::<Vec<_>>(), [7, 8]);
        assert!(looping.looped());
        let mut top = up(Some(2), parent);
        assert_eq!(top.by_ref().count(), 2);
        assert!(!top.looped());
    }
}
