-- Pulse: the question bank, pulses and their cycles, participation and
-- anonymous responses (PRIVACY.md rules 1-6).
--
-- "Who has answered" (participation) and "what was answered" (responses,
-- answers) share no column, key or token. Responses carry their cycle and
-- the group snapshot, never a time; their ids are random and the tables are
-- clustered by them (WITHOUT ROWID), so the file keeps no submission order.

ALTER TABLE organizations ADD COLUMN anonymity_k INTEGER NOT NULL DEFAULT 5;
ALTER TABLE organizations ADD COLUMN share_results INTEGER NOT NULL DEFAULT 0;

-- One row per version of a question: editing wording after answers exist
-- makes a new row (same family, next version) and retires the old one.
CREATE TABLE questions (
    id         INTEGER PRIMARY KEY,
    org_id     INTEGER NOT NULL REFERENCES organizations (id),
    family     INTEGER NOT NULL,
    version    INTEGER NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('agree', 'enps', 'comment')),
    pillar     TEXT NOT NULL CHECK (pillar IN ('acceptance', 'value', 'support', 'integration', 'stay', 'enps', 'comment')),
    text       TEXT NOT NULL,
    builtin    INTEGER NOT NULL DEFAULT 0,
    retired    INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    UNIQUE (org_id, id),
    UNIQUE (family, version)
);

CREATE TABLE pulses (
    id           INTEGER PRIMARY KEY,
    org_id       INTEGER NOT NULL REFERENCES organizations (id),
    title        TEXT NOT NULL,
    schedule     TEXT NOT NULL CHECK (schedule IN ('once', 'monthly', 'quarterly')),
    open_days    INTEGER NOT NULL,
    remind_days  INTEGER NOT NULL,
    per_cycle    INTEGER NOT NULL,          -- questions asked per cycle (5-10)
    audience_all INTEGER NOT NULL,
    active       INTEGER NOT NULL DEFAULT 1,
    created_at   INTEGER NOT NULL,
    UNIQUE (org_id, id)
);

-- Chosen teams (with their sub-teams) when the audience is not everyone.
CREATE TABLE pulse_teams (
    pulse_id INTEGER NOT NULL,
    org_id   INTEGER NOT NULL,
    team_id  INTEGER NOT NULL,
    PRIMARY KEY (pulse_id, team_id),
    FOREIGN KEY (org_id, pulse_id) REFERENCES pulses (org_id, id),
    FOREIGN KEY (org_id, team_id) REFERENCES teams (org_id, id)
);

-- Questions of a pulse; core ones are asked every cycle, others rotate.
CREATE TABLE pulse_questions (
    pulse_id    INTEGER NOT NULL,
    org_id      INTEGER NOT NULL,
    question_id INTEGER NOT NULL,
    core        INTEGER NOT NULL,
    position    INTEGER NOT NULL,
    PRIMARY KEY (pulse_id, question_id),
    FOREIGN KEY (org_id, pulse_id) REFERENCES pulses (org_id, id),
    FOREIGN KEY (org_id, question_id) REFERENCES questions (org_id, id)
);

CREATE TABLE cycles (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL,
    pulse_id    INTEGER NOT NULL,
    number      INTEGER NOT NULL,
    opens_at    INTEGER NOT NULL,
    closes_at   INTEGER NOT NULL,
    closed_at   INTEGER,
    anonymity_k INTEGER NOT NULL,           -- frozen when the cycle opens
    plan        TEXT,                       -- publication plan, set at close
    UNIQUE (org_id, id),
    UNIQUE (pulse_id, number),
    FOREIGN KEY (org_id, pulse_id) REFERENCES pulses (org_id, id)
);

CREATE TABLE cycle_questions (
    cycle_id    INTEGER NOT NULL,
    org_id      INTEGER NOT NULL,
    question_id INTEGER NOT NULL,
    position    INTEGER NOT NULL,
    PRIMARY KEY (cycle_id, question_id),
    FOREIGN KEY (org_id, cycle_id) REFERENCES cycles (org_id, id),
    FOREIGN KEY (org_id, question_id) REFERENCES questions (org_id, id)
);

-- The roster as the cycle opened: who may answer, in which team, in which
-- tenure band. Team moves later do not change a cycle.
CREATE TABLE cycle_roster (
    cycle_id    INTEGER NOT NULL,
    org_id      INTEGER NOT NULL,
    person_id   INTEGER NOT NULL,
    team_id     INTEGER,
    tenure_band TEXT,
    PRIMARY KEY (cycle_id, person_id),
    FOREIGN KEY (org_id, cycle_id) REFERENCES cycles (org_id, id)
);

-- Who has answered: created for everyone when the cycle opens (rule 3),
-- no time at all (rule 2).
CREATE TABLE participation (
    cycle_id  INTEGER NOT NULL,
    org_id    INTEGER NOT NULL,
    person_id INTEGER NOT NULL,
    answered  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (cycle_id, person_id),
    FOREIGN KEY (org_id, cycle_id) REFERENCES cycles (org_id, id)
);

-- Personal links: the SHA-256 of a random token, for a cycle and person.
-- Never copied into a response (rule 4).
CREATE TABLE invitations (
    token_hash TEXT PRIMARY KEY,
    cycle_id   INTEGER NOT NULL,
    org_id     INTEGER NOT NULL,
    person_id  INTEGER NOT NULL,
    FOREIGN KEY (org_id, cycle_id) REFERENCES cycles (org_id, id)
);

-- What was answered. id: 128 random bits as hex.
CREATE TABLE responses (
    id          TEXT PRIMARY KEY,
    cycle_id    INTEGER NOT NULL,
    org_id      INTEGER NOT NULL,
    team_id     INTEGER,
    tenure_band TEXT,
    comment     TEXT
) WITHOUT ROWID;
CREATE INDEX responses_by_cycle ON responses (cycle_id);

CREATE TABLE answers (
    response_id TEXT NOT NULL,
    question_id INTEGER NOT NULL,
    value       INTEGER NOT NULL,
    PRIMARY KEY (response_id, question_id)
) WITHOUT ROWID;

-- Results released when a cycle closed: one row per published group.
-- Figures never change afterwards (rule 14).
CREATE TABLE cycle_results (
    cycle_id  INTEGER NOT NULL,
    org_id    INTEGER NOT NULL,
    group_key TEXT NOT NULL,
    result    TEXT NOT NULL,
    PRIMARY KEY (cycle_id, group_key),
    FOREIGN KEY (org_id, cycle_id) REFERENCES cycles (org_id, id)
);
