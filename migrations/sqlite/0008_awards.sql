-- Employee of the month: HR opens a round, anyone nominates a colleague
-- with a reason, everyone votes once, and the winner is posted to the
-- thank-you board.

CREATE TABLE award_rounds (
    id           INTEGER PRIMARY KEY,
    org_id       INTEGER NOT NULL REFERENCES organizations (id),
    title        TEXT NOT NULL,
    phase        TEXT NOT NULL DEFAULT 'nominating',   -- nominating, voting, closed
    opened_at    INTEGER NOT NULL,
    closed_at    INTEGER,
    winner_id    INTEGER,
    thank_you_id INTEGER,
    UNIQUE (org_id, id)
);

CREATE TABLE award_nominations (
    round_id     INTEGER NOT NULL,
    org_id       INTEGER NOT NULL,
    nominator_id INTEGER NOT NULL,
    nominee_id   INTEGER NOT NULL,
    reason       TEXT NOT NULL,
    PRIMARY KEY (round_id, nominator_id),
    FOREIGN KEY (org_id, round_id) REFERENCES award_rounds (org_id, id),
    FOREIGN KEY (org_id, nominee_id) REFERENCES people (org_id, id)
);

-- Votes are secret: who has voted and what was voted are kept apart, with
-- nothing to join them (the pulse's rule 1, for ballots).
CREATE TABLE award_voters (
    round_id INTEGER NOT NULL,
    org_id   INTEGER NOT NULL,
    voter_id INTEGER NOT NULL,
    PRIMARY KEY (round_id, voter_id),
    FOREIGN KEY (org_id, round_id) REFERENCES award_rounds (org_id, id)
);

CREATE TABLE award_ballots (
    round_id   INTEGER NOT NULL,
    id         TEXT NOT NULL,          -- random
    org_id     INTEGER NOT NULL,
    nominee_id INTEGER NOT NULL,
    PRIMARY KEY (round_id, id)
) WITHOUT ROWID;
