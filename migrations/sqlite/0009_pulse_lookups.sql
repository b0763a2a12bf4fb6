-- Each answer looks up its invitation by token hash and flips its
-- participation row. As rowid tables with a separate primary-key index,
-- both cost two B-tree searches; clustered by their key (WITHOUT ROWID),
-- one. Participation still carries no time and exists before anyone answers.

CREATE TABLE invitations_keyed (
    token_hash TEXT PRIMARY KEY,
    cycle_id   INTEGER NOT NULL,
    org_id     INTEGER NOT NULL,
    person_id  INTEGER NOT NULL,
    FOREIGN KEY (org_id, cycle_id) REFERENCES cycles (org_id, id)
) WITHOUT ROWID;
INSERT INTO invitations_keyed (token_hash, cycle_id, org_id, person_id)
SELECT token_hash, cycle_id, org_id, person_id FROM invitations;
DROP TABLE invitations;
ALTER TABLE invitations_keyed RENAME TO invitations;

CREATE TABLE participation_keyed (
    cycle_id  INTEGER NOT NULL,
    org_id    INTEGER NOT NULL,
    person_id INTEGER NOT NULL,
    answered  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (cycle_id, person_id),
    FOREIGN KEY (org_id, cycle_id) REFERENCES cycles (org_id, id)
) WITHOUT ROWID;
INSERT INTO participation_keyed (cycle_id, org_id, person_id, answered)
SELECT cycle_id, org_id, person_id, answered FROM participation;
DROP TABLE participation;
ALTER TABLE participation_keyed RENAME TO participation;
