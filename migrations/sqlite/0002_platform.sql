-- Platform: background jobs and recurring schedules, API tokens, magic
-- sign-in links, and the audit log.

-- A unit of background work. A worker claims a due job by setting a lease
-- (locked_until); a job whose worker died is claimed again once the lease
-- runs out. Finished jobs keep done_at, given-up ones failed_at.
CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY,
    org_id       INTEGER,
    kind         TEXT NOT NULL,
    payload      TEXT NOT NULL,          -- JSON
    run_at       INTEGER NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    locked_until INTEGER,
    locked_by    TEXT,
    last_error   TEXT,
    done_at      INTEGER,
    failed_at    INTEGER,
    created_at   INTEGER NOT NULL
);
CREATE INDEX jobs_due ON jobs (run_at) WHERE done_at IS NULL AND failed_at IS NULL;

-- A recurring job: when next_run_at passes, a job is queued and next_run_at
-- moves to the rule's next occurrence in the schedule's time zone.
CREATE TABLE schedules (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER,
    name        TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL,
    payload     TEXT NOT NULL,
    rule        TEXT NOT NULL,
    time_zone   TEXT NOT NULL,
    next_run_at INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);

-- API tokens act as the person who made them. Only the SHA-256 is stored.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    org_id       INTEGER NOT NULL,
    person_id    INTEGER NOT NULL,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER,
    FOREIGN KEY (org_id, person_id) REFERENCES people (org_id, id)
);
CREATE INDEX api_tokens_by_person ON api_tokens (org_id, person_id);

-- Single-use sign-in links sent by email. Only the SHA-256 is stored.
CREATE TABLE magic_links (
    token_hash  TEXT PRIMARY KEY,
    org_id      INTEGER NOT NULL,
    person_id   INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER,
    FOREIGN KEY (org_id, person_id) REFERENCES people (org_id, id)
);

-- Who read or changed what. actor_id 0 is the command line.
CREATE TABLE audit_events (
    id           INTEGER PRIMARY KEY,
    org_id       INTEGER NOT NULL REFERENCES organizations (id),
    actor_id     INTEGER NOT NULL,
    action       TEXT NOT NULL,
    subject_type TEXT NOT NULL,
    subject_id   INTEGER,
    detail       TEXT NOT NULL,
    at           INTEGER NOT NULL
);
CREATE INDEX audit_by_time ON audit_events (org_id, at);
CREATE INDEX audit_by_subject ON audit_events (org_id, subject_type, subject_id);

-- Records of the diagnostic `jobs.touch` job (see jobs/mod.rs).
CREATE TABLE job_touches (
    label TEXT NOT NULL,
    at    INTEGER NOT NULL
);
