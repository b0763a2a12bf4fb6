-- The feedback box (PRIVACY.md rule 16). A thread is found by the SHA-256
-- of the secret code its sender holds; nothing here says who the sender is:
-- no person, session, address or time of day, only the day.
--
-- Thread ids are random, so rows sit in the order of a random number and
-- neither ids nor the file's row order tell when a message came in.
-- Messages are keyed by (thread, position) for the same reason.

CREATE TABLE feedback_threads (
    id              INTEGER PRIMARY KEY,   -- random (db::new_id)
    org_id          INTEGER NOT NULL REFERENCES organizations (id),
    team_id         INTEGER,               -- recipients: this team's managers; NULL: HR admins and owners
    pillar          TEXT,
    topic           TEXT,
    code_hash       TEXT NOT NULL UNIQUE,
    status          TEXT NOT NULL DEFAULT 'new',
    assignee_id     INTEGER,
    opened_day      TEXT NOT NULL,         -- YYYY-MM-DD, in the org's time zone
    delivered_day   TEXT,                  -- the digest that brought it; NULL until then
    first_reply_day TEXT,
    closing_note    TEXT,
    abusive         INTEGER NOT NULL DEFAULT 0,
    FOREIGN KEY (org_id, team_id) REFERENCES teams (org_id, id)
);
CREATE INDEX feedback_threads_by_org ON feedback_threads (org_id, team_id);

CREATE TABLE feedback_messages (
    thread_id   INTEGER NOT NULL REFERENCES feedback_threads (id),
    position    INTEGER NOT NULL,          -- order within the thread
    org_id      INTEGER NOT NULL,
    from_sender INTEGER NOT NULL,          -- 1: the anonymous sender; 0: a recipient
    author_id   INTEGER,                   -- a recipient; or a sender who chose to sign
    body        TEXT NOT NULL,
    day         TEXT NOT NULL,
    delivered   INTEGER NOT NULL,          -- the sender's wait for the next digest
    PRIMARY KEY (thread_id, position)
) WITHOUT ROWID;
