//! Walking up a tree of ids (teams to their parents, people to their
//! managers): one walk with one guard, so a loop in stored data (refused on
//! write, but never trusted on read) ends the walk instead of spinning.

use std::collections::HashSet;
use std::hash::Hash;

/// `start`, its parent, the parent's parent… up to the top, each id once.
pub fn up<T, F: Fn(T) -> Option<T>>(start: Option<T>, parent: F) -> Up<T, F> {
    Up {
        at: start,
        parent,
        seen: HashSet::new(),
        looped: false,
    }
}

pub struct Up<T, F> {
    at: Option<T>,
    parent: F,
    seen: HashSet<T>,
    looped: bool,
}

impl<T, F> Up<T, F> {
    /// Whether the walk ended because it came back to an id it had passed.
    pub fn looped(&self) -> bool {
        self.looped
    }
}

impl<T: Clone + Eq + Hash, F: Fn(T) -> Option<T>> Iterator for Up<T, F> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        let id = self.at.take()?;
        if !self.seen.insert(id.clone()) {
            self.looped = true;
            return None;
        }
        self.at = (self.parent)(id.clone());
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
        // Any id that can be compared: emails up a reporting line.
        let manager = |email: String| (email == "ana").then(|| "bo".to_owned());
        assert_eq!(up(Some("ana".to_owned()), manager).collect::<Vec<_>>(), ["ana", "bo"]);
    }
}
