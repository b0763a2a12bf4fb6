-- Employee of the month: HR opens a round, anyone nominates a colleague
-- with a reason, everyone votes once, and the winner is posted to the
-- thank-you board.

CREATE TABLE award_rounds (
    id           BIGINT PRIMARY KEY,
    org_id       BIGINT NOT NULL REFERENCES organizations (id),
    title        TEXT NOT NULL,
    phase        TEXT NOT NULL DEFAULT 'nominating',   -- nominating, voting, closed
    opened_at    BIGINT NOT NULL,
    closed_at    BIGINT,
    winner_id    BIGINT,
    thank_you_id BIGINT,
    UNIQUE (org_id, id)
);

CREATE TABLE award_nominations (
    round_id     BIGINT NOT NULL,
    org_id       BIGINT NOT NULL,
    nominator_id BIGINT NOT NULL,
    nominee_id   BIGINT NOT NULL,
    reason       TEXT NOT NULL,
    PRIMARY KEY (round_id, nominator_id),
    FOREIGN KEY (org_id, round_id) REFERENCES award_rounds (org_id, id),
    FOREIGN KEY (org_id, nominee_id) REFERENCES people (org_id, id)
);

-- Votes are secret: who has voted and what was voted are kept apart, with
-- nothing to join them (the pulse's rule 1, for ballots).
CREATE TABLE award_voters (
    round_id BIGINT NOT NULL,
    org_id   BIGINT NOT NULL,
    voter_id BIGINT NOT NULL,
    PRIMARY KEY (round_id, voter_id),
    FOREIGN KEY (org_id, round_id) REFERENCES award_rounds (org_id, id)
);

CREATE TABLE award_ballots (
    round_id   BIGINT NOT NULL,
    id         TEXT NOT NULL,          -- random
    org_id     BIGINT NOT NULL,
    nominee_id BIGINT NOT NULL,
    PRIMARY KEY (round_id, id)
);
