//! How often something may be tried: failed attempts with a growing delay
//! (sign-in, the current password) and token buckets (API calls, sign-in
//! links).
//!
//! Both live in the database, so they hold across restarts and across
//! several server processes sharing one PostgreSQL, and both check and
//! count in one atomic step, before the work they guard: forty parallel
//! guesses get exactly as far as forty guesses in a row. Buckets whose
//! keys must not be at rest (feedback sends and codes) are kept in memory
//! instead ([`InMemory`]).

mod store;

use jiff::Timestamp;

use crate::db::Db;

/// The first delay once the free failures are used up; it doubles with
/// each further failure.
pub const FIRST_DELAY: i64 = 2;
/// The longest delay between two attempts.
pub const MAX_DELAY: i64 = 15 * 60;
/// Failures are forgotten after this long without one.
pub const QUIET: i64 = 60 * 60;

/// A key of failed attempts and how many failures are free of any delay.
#[derive(Clone, Debug)]
pub struct Throttle {
    pub key: String,
    pub free: i64,
}

/// The wait, in seconds, after `failures` failures with `free` of them free.
pub fn delay_after(failures: i64, free: i64) -> i64 {
    if failures < free {
        return 0;
    }
    let doublings = (failures - free).min(20) as u32;
    FIRST_DELAY.saturating_mul(1 << doublings).min(MAX_DELAY)
}

/// Counts one attempt against every key, before it is evaluated: `Ok(())`
/// lets it go ahead, `Err(seconds)` says how long until one may. The
/// attempt is counted as a failure until the caller says otherwise
/// ([`forget`], [`give_back`]), so it takes no second step to race.
pub async fn attempt(db: &Db, throttles: &[Throttle], now: Timestamp) -> Result<Result<(), i64>, sqlx::Error> {
    let now = now.as_second();
    let mut tx = db.begin().await?;
    for t in throttles {
        let Some(failures) = store::count_failure(&mut tx, &t.key, now, QUIET).await? else {
            let next_at = store::next_at(&mut tx, &t.key).await?;
            // Nothing is counted: the transaction rolls back.
            return Ok(Err((next_at - now).max(1)));
        };
        store::set_next_at(&mut tx, &t.key, now + delay_after(failures, t.free)).await?;
    }
    tx.commit().await?;
    Ok(Ok(()))
}

/// The attempt succeeded: its key starts afresh (an account signed in).
pub async fn forget(db: &Db, key: &str) -> Result<(), sqlx::Error> {
    store::delete_throttle(db, key).await
}

/// The attempt did not count after all (it succeeded, for a key shared by
/// many accounts; or it was never evaluated): one failure is taken back.
pub async fn give_back(db: &Db, throttle: &Throttle) -> Result<(), sqlx::Error> {
    store::uncount_failure(db, &throttle.key, throttle.free).await
}

/// A token bucket: holds `burst` requests and gains one every `every_ms`.
#[derive(Clone, Debug)]
pub struct Bucket {
    pub key: String,
    pub burst: i64,
    pub every_ms: i64,
}

impl Bucket {
    pub fn new(key: impl Into<String>, burst: i64, every_ms: i64) -> Bucket {
        Bucket {
            key: key.into(),
            burst: burst.max(1),
            every_ms: every_ms.max(1),
        }
    }

    /// Thousandths of a request in the bucket now: what was `left` at
    /// `at_ms`, refilled since, at most a full bucket. The statement in
    /// [`take`] computes the same in SQL.
    fn refilled(&self, left: i64, at_ms: i64, now_ms: i64) -> i64 {
        (left + (now_ms - at_ms).max(0) * 1000 / self.every_ms).min(self.burst * 1000)
    }

    /// Seconds until a bucket holding `have` thousandths has a whole
    /// request again.
    fn wait_seconds(&self, have: i64) -> i64 {
        let wait_ms = (1000 - have).max(0) * self.every_ms / 1000;
        ((wait_ms + 999) / 1000).max(1)
    }

    /// A bucket that allows `per_minute` on average, half of them at once.
    pub fn per_minute(key: impl Into<String>, per_minute: i64) -> Bucket {
        let per_minute = per_minute.max(1);
        Bucket::new(key, (per_minute / 2).max(1), 60_000 / per_minute)
    }
}

/// Takes one request from the bucket in one statement: `Err(seconds)`
/// says when to come back.
pub async fn take(db: &Db, bucket: &Bucket, now: Timestamp) -> Result<Result<(), i64>, sqlx::Error> {
    let now_ms = now.as_millisecond();
    let full = bucket.burst * 1000;
    let mut conn = db.acquire().await?;
    if store::take_token(&mut conn, &bucket.key, full, now_ms, bucket.every_ms).await? {
        return Ok(Ok(()));
    }
    let (tokens, at_ms) = store::bucket(&mut conn, &bucket.key).await?;
    Ok(Err(bucket.wait_seconds(bucket.refilled(tokens, at_ms, now_ms))))
}

/// Returns a request taken by [`take`] that turned out not to count (a
/// form refused for its content, say).
pub async fn put_back(db: &Db, bucket: &Bucket) -> Result<(), sqlx::Error> {
    store::put_back(db, &bucket.key).await
}

/// Token buckets kept in this process's memory only, for limits whose
/// keys must never be at rest: a row "this session sent feedback at 10:42"
/// or "this address followed a feedback thread" would name the anonymous
/// sender to whoever holds a copy of the database (PRIVACY.md rules 16 and
/// 22). They reset on restart and are per process.
#[derive(Default)]
pub struct InMemory {
    buckets: std::sync::Mutex<std::collections::HashMap<String, (i64, i64)>>,
}

impl InMemory {
    /// Like [`take`], in memory.
    pub fn take(&self, bucket: &Bucket, now: Timestamp) -> Result<(), i64> {
        let now_ms = now.as_millisecond();
        let full = bucket.burst * 1000;
        let mut all = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if all.len() > 100_000 {
            // Buckets full again are the same as no bucket.
            all.retain(|_, (tokens, at)| *tokens < full && now_ms - *at < 3_600_000);
        }
        let (tokens, at) = all.entry(bucket.key.clone()).or_insert((full, now_ms));
        let have = bucket.refilled(*tokens, *at, now_ms);
        *at = now_ms;
        if have >= 1000 {
            *tokens = have - 1000;
            Ok(())
        } else {
            *tokens = have;
            Err(bucket.wait_seconds(have))
        }
    }

    /// Like [`put_back`], in memory.
    pub fn put_back(&self, bucket: &Bucket) {
        let mut all = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((tokens, _)) = all.get_mut(&bucket.key) {
            *tokens += 1000;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_start_after_the_free_failures_and_double_up_to_the_cap() {
        assert_eq!(delay_after(1, 5), 0);
        assert_eq!(delay_after(4, 5), 0);
        assert_eq!(delay_after(5, 5), 2);
        assert_eq!(delay_after(6, 5), 4);
        assert_eq!(delay_after(7, 5), 8);
        assert_eq!(delay_after(30, 5), MAX_DELAY);
        assert_eq!(delay_after(i64::MAX, 5), MAX_DELAY);
    }

    #[test]
    fn an_in_memory_bucket_empties_refills_and_takes_back() {
        let limits = InMemory::default();
        let b = Bucket::new("a", 3, 1000);
        let t0 = Timestamp::from_second(1_000_000).unwrap();
        for _ in 0..3 {
            assert!(limits.take(&b, t0).is_ok());
        }
        assert_eq!(limits.take(&b, t0), Err(1));
        assert!(
            limits.take(&Bucket::new("b", 3, 1000), t0).is_ok(),
            "buckets are per key"
        );
        limits.put_back(&b);
        assert!(limits.take(&b, t0).is_ok(), "a request given back counts again");
        let later = t0.checked_add(jiff::SignedDuration::from_secs(1)).unwrap();
        assert!(limits.take(&b, later).is_ok(), "one more after a second");
        assert!(limits.take(&b, later).is_err());
    }

    #[test]
    fn a_bucket_per_minute_holds_half_a_minute_at_once() {
        let b = Bucket::per_minute("k", 600);
        assert_eq!((b.burst, b.every_ms), (300, 100));
        let b = Bucket::per_minute("k", 0);
        assert_eq!((b.burst, b.every_ms), (1, 60_000));
    }
}
