-- Platform: background jobs and recurring schedules, API tokens, magic
-- sign-in links, and the audit log.

-- A unit of background work. A worker claims a due job by setting a lease
-- (locked_until); a job whose worker died is claimed again once the lease
-- runs out. Finished jobs keep done_at, given-up ones failed_at.
CREATE TABLE jobs (
    id           BIGINT PRIMARY KEY,
    org_id       BIGINT,
    kind         TEXT NOT NULL,
    payload      TEXT NOT NULL,          -- JSON
    run_at       BIGINT NOT NULL,
    attempts     BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    locked_until BIGINT,
    locked_by    TEXT,
    last_error   TEXT,
    done_at      BIGINT,
    failed_at    BIGINT,
    created_at   BIGINT NOT NULL
);
CREATE INDEX jobs_due ON jobs (run_at) WHERE done_at IS NULL AND failed_at IS NULL;

-- A recurring job: when next_run_at passes, a job is queued and next_run_at
-- moves to the rule's next occurrence in the schedule's time zone.
CREATE TABLE schedules (
    id          BIGINT PRIMARY KEY,
    org_id      BIGINT,
    name        TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL,
    payload     TEXT NOT NULL,
    rule        TEXT NOT NULL,
    time_zone   TEXT NOT NULL,
    next_run_at BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);

-- API tokens act as the person who made them. Only the SHA-256 is stored.
CREATE TABLE api_tokens (
    id           BIGINT PRIMARY KEY,
    org_id       BIGINT NOT NULL,
    person_id    BIGINT NOT NULL,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT,
    FOREIGN KEY (org_id, person_id) REFERENCES people (org_id, id)
);
CREATE INDEX api_tokens_by_person ON api_tokens (org_id, person_id);

-- Single-use sign-in links sent by email. Only the SHA-256 is stored.
CREATE TABLE magic_links (
    token_hash  TEXT PRIMARY KEY,
    org_id      BIGINT NOT NULL,
    person_id   BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT,
    FOREIGN KEY (org_id, person_id) REFERENCES people (org_id, id)
);

-- Who read or changed what. actor_id 0 is the command line.
CREATE TABLE audit_events (
    id           BIGINT PRIMARY KEY,
    org_id       BIGINT NOT NULL REFERENCES organizations (id),
    actor_id     BIGINT NOT NULL,
    action       TEXT NOT NULL,
    subject_type TEXT NOT NULL,
    subject_id   BIGINT,
    detail       TEXT NOT NULL,
    at           BIGINT NOT NULL
);
CREATE INDEX audit_by_time ON audit_events (org_id, at);
CREATE INDEX audit_by_subject ON audit_events (org_id, subject_type, subject_id);

-- Records of the diagnostic `jobs.touch` job (see jobs/mod.rs).
CREATE TABLE job_touches (
    label TEXT NOT NULL,
    at    BIGINT NOT NULL
);
