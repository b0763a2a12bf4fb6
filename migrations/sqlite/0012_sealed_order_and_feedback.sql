-- Sealed answers are appended in the order they are written: the order of
-- their writes is visible anyway (WAL frames), which is why they are
-- sealed, and appending keeps each answer to the pages it fills. On
-- SQLite an INTEGER PRIMARY KEY left out is the next rowid already, so
-- nothing changes here (PostgreSQL's column gains a default). Kept
-- responses (after close) still carry random ids.


-- Feedback waits for the digest sealed (PRIVACY.md rule 22): a new thread
-- or a sender's follow-up is one sealed row, all the same length, with
-- nothing in clear but its organization. The digest opens them, writes
-- threads and messages in random order, and deletes these rows.
CREATE TABLE feedback_pending (
    id     INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL,
    sealed BLOB NOT NULL
);
