-- A response keeps its answers and self-reported segments in its own row.
--
-- Response ids are random (PRIVACY.md rule 2), so every new row lands at a
-- random place in its B-tree. With answers in a table of their own, one
-- response dirtied about ten pages; packed into the row it dirties one,
-- and a commit of 64 responses writes a tenth of the WAL it used to.
--
-- The key is (cycle, random id): a cycle's responses are read together at
-- close, and within a cycle the order is still that of the random ids.
--   answers:  "question=value" pairs joined by ";"
--   segments: a JSON object {"segment question id": "value"}, or NULL

CREATE TABLE responses_packed (
    cycle_id    INTEGER NOT NULL,
    id          TEXT NOT NULL,
    org_id      INTEGER NOT NULL,
    team_id     INTEGER,
    tenure_band TEXT,
    answers     TEXT NOT NULL,
    segments    TEXT,
    comment     TEXT,
    PRIMARY KEY (cycle_id, id)
) WITHOUT ROWID;

INSERT INTO responses_packed (cycle_id, id, org_id, team_id, tenure_band, answers, segments, comment)
SELECT r.cycle_id, r.id, r.org_id, r.team_id, r.tenure_band,
       COALESCE((SELECT group_concat(a.question_id || '=' || a.value, ';')
                 FROM answers a WHERE a.response_id = r.id), ''),
       (SELECT NULLIF(json_group_object(CAST(s.segment_id AS TEXT), s.value), '{}')
        FROM response_segments s WHERE s.response_id = r.id),
       r.comment
FROM responses r;

DROP TABLE answers;
DROP TABLE response_segments;
DROP TABLE responses;
ALTER TABLE responses_packed RENAME TO responses;
