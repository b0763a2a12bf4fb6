-- Foundation: organizations (tenants), teams, people, sign-in sessions,
-- sign-in throttling and CSV import batches.
-- Ids are random 63-bit integers chosen by the application; times are Unix
-- seconds (UTC); calendar dates are 'YYYY-MM-DD' text.
-- Every tenant row carries org_id, and composite foreign keys on
-- (org_id, id) make it impossible to point at another organization's row.

CREATE TABLE organizations (
    id          BIGINT PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    time_zone   TEXT NOT NULL DEFAULT 'UTC',
    created_at  BIGINT NOT NULL
);

CREATE TABLE teams (
    id          BIGINT PRIMARY KEY,
    org_id      BIGINT NOT NULL REFERENCES organizations (id),
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL,          -- lower-cased name: unique per org
    parent_id   BIGINT,
    active      BIGINT NOT NULL DEFAULT 1,
    created_at  BIGINT NOT NULL,
    UNIQUE (org_id, name_key),
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, parent_id) REFERENCES teams (org_id, id)
);

CREATE TABLE people (
    id            BIGINT PRIMARY KEY,
    org_id        BIGINT NOT NULL REFERENCES organizations (id),
    name          TEXT NOT NULL,
    email         TEXT NOT NULL,        -- as written
    email_key     TEXT NOT NULL,        -- lower-cased: unique per org
    role          TEXT NOT NULL CHECK (role IN ('employee', 'manager', 'hr_admin', 'owner')),
    team_id       BIGINT,
    manager_id    BIGINT,
    start_date    TEXT,
    end_date      TEXT,
    leave_reason  TEXT CHECK (leave_reason IN ('voluntary', 'involuntary', 'other')),
    time_zone     TEXT NOT NULL,
    active        BIGINT NOT NULL DEFAULT 1,
    password_hash TEXT,
    must_change_password BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    UNIQUE (org_id, email_key),
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, team_id) REFERENCES teams (org_id, id),
    FOREIGN KEY (org_id, manager_id) REFERENCES people (org_id, id)
);
CREATE INDEX people_by_team ON people (org_id, team_id);
CREATE INDEX people_by_manager ON people (org_id, manager_id);

-- A sign-in. The cookie holds a random token; only its SHA-256 is stored.
CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    org_id      BIGINT NOT NULL,
    person_id   BIGINT NOT NULL,
    csrf_token  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    FOREIGN KEY (org_id, person_id) REFERENCES people (org_id, id) ON DELETE CASCADE
);
CREATE INDEX sessions_by_person ON sessions (person_id);

-- Failed sign-in attempts per key ('account:<org>:<email>' or 'ip:<addr>')
-- within a fixed window.
CREATE TABLE sign_in_failures (
    throttle_key TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    failures     BIGINT NOT NULL
);

-- An uploaded people CSV between its preview and its confirmation.
CREATE TABLE import_batches (
    id          BIGINT PRIMARY KEY,
    org_id      BIGINT NOT NULL REFERENCES organizations (id),
    uploaded_by BIGINT NOT NULL,
    file_name   TEXT NOT NULL,
    content     BYTEA NOT NULL,         -- the file as uploaded
    created_at  BIGINT NOT NULL,
    applied_at  BIGINT,
    UNIQUE (org_id, id)
);
