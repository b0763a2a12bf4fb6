-- Sealed until close (PRIVACY.md rules 1, 2 and 4).
--
-- While a cycle is open its answers are stored sealed, under a data key of
-- that cycle which is kept here only wrapped by the master key (a key file
-- outside the database). At close the answers are opened once, the results
-- released, what is kept written in one transaction in random order, and
-- the sealed rows and the cycle's key deleted.

-- A value sealed under the master key, to tell at start whether the key
-- given is the one this database was sealed with.
CREATE TABLE key_check (
    id     BIGINT PRIMARY KEY CHECK (id = 1),
    sealed BYTEA NOT NULL
);

-- One row per open cycle; deleted when the cycle closes.
CREATE TABLE cycle_keys (
    cycle_id BIGINT PRIMARY KEY,
    org_id   BIGINT NOT NULL,
    wrapped  BYTEA NOT NULL,
    FOREIGN KEY (org_id, cycle_id) REFERENCES cycles (org_id, id)
);

-- Answers of open cycles. id: random; sealed: every answer of a cycle the
-- same length, whatever was written.
CREATE TABLE sealed_answers (
    id       BIGINT PRIMARY KEY,
    cycle_id BIGINT NOT NULL,
    org_id   BIGINT NOT NULL,
    sealed   BYTEA NOT NULL
);
CREATE INDEX sealed_answers_by_cycle ON sealed_answers (cycle_id);

-- What is kept after close: no comment (comments are kept only as
-- released, inside the results) and only attributes that at least k kept
-- responses of the cycle share. Rows of the old table are moved by the
-- server at its first start with a key (open cycles sealed, closed ones
-- coarsened), which then drops it.
ALTER TABLE responses RENAME TO legacy_responses;
CREATE TABLE responses (
    cycle_id    BIGINT NOT NULL,
    id          TEXT NOT NULL,
    org_id      BIGINT NOT NULL,
    team_id     BIGINT,
    tenure_band TEXT,
    answers     TEXT NOT NULL,
    segments    TEXT,
    PRIMARY KEY (cycle_id, id)
);

-- Keep individual responses after release (1) or only the released
-- figures (0); how many months kept responses live (NULL: no limit).
ALTER TABLE organizations ADD COLUMN keep_responses BIGINT NOT NULL DEFAULT 1;
ALTER TABLE organizations ADD COLUMN retention_months BIGINT;

-- A job whose payload carries a secret (a link with its token) keeps it
-- here, sealed under the master key, and erased once the job is done.
ALTER TABLE jobs ADD COLUMN sealed BYTEA;
