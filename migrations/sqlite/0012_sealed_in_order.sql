-- Sealed answers are appended in the order they are written: the order of
-- their writes is visible anyway (WAL frames), which is why they are
-- sealed, and appending keeps each answer to the pages it fills. On
-- SQLite an INTEGER PRIMARY KEY left out is the next rowid already, so
-- nothing changes here (PostgreSQL's column gains a default). Kept
-- responses (after close) still carry random ids.
SELECT 1;
