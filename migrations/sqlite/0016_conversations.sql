-- Conversations: stay interviews, career talks and 1:1s between two
-- people. Every word said in one (notes, action items) is stored sealed
-- under the master key (PRIVACY.md rules 17 and 22): the columns named
-- `sealed` hold XChaCha20-Poly1305 ciphertext bound to the row's place.

-- A template's versions: editing one that past talks used adds a version,
-- so those talks keep their questions. `family` is the first version's id.
CREATE TABLE talk_templates (
    id         INTEGER PRIMARY KEY,
    org_id     INTEGER NOT NULL REFERENCES organizations (id),
    family     INTEGER NOT NULL,
    version    INTEGER NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('stay', 'career', 'one_on_one', 'custom')),
    name       TEXT NOT NULL,
    questions  TEXT NOT NULL,          -- JSON: [{"text": ..., "pillar": ... or null}]
    current    INTEGER NOT NULL,       -- 1: the version new talks use
    created_at INTEGER NOT NULL,
    UNIQUE (org_id, id),
    UNIQUE (org_id, family, version)
);
-- One built-in template of each kind per organization, however many
-- requests create them at once.
CREATE UNIQUE INDEX talk_templates_builtin ON talk_templates (org_id, kind) WHERE kind <> 'custom' AND version = 1;

CREATE TABLE talks (
    id           INTEGER PRIMARY KEY,   -- random (db::new_id)
    org_id       INTEGER NOT NULL REFERENCES organizations (id),
    template_id  INTEGER NOT NULL,
    organizer_id INTEGER NOT NULL,      -- who set the time (and sends the invite)
    guest_id     INTEGER NOT NULL,
    requested_by INTEGER,               -- set when one asked the other for it
    status       TEXT NOT NULL CHECK (status IN ('requested', 'scheduled', 'held', 'cancelled')),
    starts_at    INTEGER,               -- NULL while requested
    minutes      INTEGER NOT NULL,
    zone         TEXT NOT NULL,         -- the organizer's time zone, for the invite
    sequence     INTEGER NOT NULL,      -- the invite's SEQUENCE, raised on every change
    reminded     INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, template_id) REFERENCES talk_templates (org_id, id)
);
CREATE INDEX talks_by_organizer ON talks (org_id, organizer_id);
CREATE INDEX talks_by_guest ON talks (org_id, guest_id);
CREATE INDEX talks_by_time ON talks (org_id, status, starts_at);

-- Notes, one per question and reader: `scope` 0 is the shared note both
-- read and write; otherwise the author's id, for their private note.
CREATE TABLE talk_notes (
    org_id     INTEGER NOT NULL,
    talk_id    INTEGER NOT NULL,
    question   INTEGER NOT NULL,
    scope      INTEGER NOT NULL,
    sealed     BLOB NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by INTEGER NOT NULL,
    PRIMARY KEY (talk_id, question, scope),
    FOREIGN KEY (org_id, talk_id) REFERENCES talks (org_id, id)
);

-- Action items agreed in a talk; open ones come back at the pair's next
-- talk. The pair is stored lower id first.
CREATE TABLE talk_actions (
    id            INTEGER PRIMARY KEY,
    org_id        INTEGER NOT NULL,
    talk_id       INTEGER NOT NULL,
    person_low    INTEGER NOT NULL,
    person_high   INTEGER NOT NULL,
    owner_id      INTEGER NOT NULL,
    due_date      TEXT NOT NULL,        -- YYYY-MM-DD
    status        TEXT NOT NULL CHECK (status IN ('open', 'done', 'dropped')),
    sealed        BLOB NOT NULL,
    created_at    INTEGER NOT NULL,
    closed_at     INTEGER,
    FOREIGN KEY (org_id, talk_id) REFERENCES talks (org_id, id)
);
CREATE INDEX talk_actions_by_pair ON talk_actions (org_id, person_low, person_high, status);

-- How often a pair holds talks of a template (its family).
CREATE TABLE talk_cadences (
    org_id       INTEGER NOT NULL,
    person_low   INTEGER NOT NULL,
    person_high  INTEGER NOT NULL,
    family       INTEGER NOT NULL,
    every_days   INTEGER NOT NULL,
    organizer_id INTEGER NOT NULL,      -- who sees it as due (the manager)
    reminded_for TEXT,                  -- the due date an overdue reminder went out for
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (org_id, person_low, person_high, family)
);

-- A person's secret calendar feed: only the token's SHA-256 is kept.
CREATE TABLE calendar_feeds (
    person_id  INTEGER PRIMARY KEY,
    org_id     INTEGER NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);
