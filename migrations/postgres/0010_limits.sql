-- Limits live in the database, so they hold across restarts and across
-- server processes sharing it, and each is checked and counted in one
-- atomic statement.

-- Failed attempts (sign-in, current password) per key, with a growing
-- delay: after the free failures, the next attempt waits 2 s, 4 s, 8 s …
-- up to 15 minutes. Keys: 'account:<org>:<email>', 'ip:<addr>',
-- 'password:<org>:<person>'.
DROP TABLE sign_in_failures;
CREATE TABLE throttles (
    throttle_key TEXT PRIMARY KEY,
    failures     BIGINT NOT NULL,
    last_at      BIGINT NOT NULL,   -- Unix seconds of the last counted attempt
    next_at      BIGINT NOT NULL    -- no attempt is evaluated before this
);

-- Token buckets (API tokens, feedback sends and codes, sign-in links):
-- tokens in thousandths, refilled by elapsed time.
CREATE TABLE rate_buckets (
    bucket_key TEXT PRIMARY KEY,
    tokens     BIGINT NOT NULL,     -- thousandths of a request
    at_ms      BIGINT NOT NULL      -- Unix milliseconds of the last refill
);
