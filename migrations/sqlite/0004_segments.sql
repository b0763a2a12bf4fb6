-- Self-reported segments: optional questions at the end of the pulse form
-- (work location, remote or on-site…). The answer is stored only with the
-- anonymous response, never with the person.

CREATE TABLE segment_questions (
    id         INTEGER PRIMARY KEY,
    org_id     INTEGER NOT NULL REFERENCES organizations (id),
    text       TEXT NOT NULL,
    options    TEXT NOT NULL,          -- JSON array of the choices
    active     INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    UNIQUE (org_id, id)
);

CREATE TABLE response_segments (
    response_id TEXT NOT NULL,
    segment_id  INTEGER NOT NULL,
    value       TEXT NOT NULL,
    PRIMARY KEY (response_id, segment_id)
) WITHOUT ROWID;
