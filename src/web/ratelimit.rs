//! In-memory token buckets keyed by caller (an API token, an address).
//! They reset when the process restarts, which is fine for their job:
//! keeping one caller from flooding the server.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

#[derive(Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    /// Takes one request from `key`'s bucket, which holds `burst` and
    /// refills `per_minute`. `Err(seconds)` says when to come back.
    pub fn take(&self, key: &str, burst: f64, per_minute: f64) -> Result<(), u64> {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > 100_000 {
            buckets.retain(|_, (tokens, at)| *tokens < burst && now.duration_since(*at).as_secs() < 3600);
        }
        let (tokens, at) = buckets.entry(key.to_owned()).or_insert((burst, now));
        let refill = now.duration_since(*at).as_secs_f64() * per_minute / 60.0;
        *tokens = (*tokens + refill).min(burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) * 60.0 / per_minute).ceil().max(1.0) as u64)
        }
    }
}

impl RateLimiter {
    /// Returns a request taken by [`RateLimiter::take`] that turned out not
    /// to count (a form refused for its content, say).
    pub fn give_back(&self, key: &str) {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((tokens, _)) = buckets.get_mut(key) {
            *tokens += 1.0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_empties_and_says_when_to_return() {
        let limits = RateLimiter::default();
        for _ in 0..3 {
            assert!(limits.take("a", 3.0, 60.0).is_ok());
        }
        let wait = limits.take("a", 3.0, 60.0).unwrap_err();
        assert!((1..=2).contains(&wait), "{wait}");
        assert!(limits.take("b", 3.0, 60.0).is_ok(), "buckets are per key");
        limits.give_back("a");
        assert!(limits.take("a", 3.0, 60.0).is_ok(), "a request given back counts again");
        assert!(limits.take("a", 3.0, 60.0).is_err());
    }
}
