-- Insights, continued: initiatives whose impact is measured from released
-- team results, and a setting that shows each team its own released
-- results.

ALTER TABLE organizations ADD COLUMN share_team_results INTEGER NOT NULL DEFAULT 0;

-- An action's owner is reminded once as its due date nears.
ALTER TABLE actions ADD COLUMN reminded INTEGER NOT NULL DEFAULT 0;

CREATE TABLE initiatives (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES organizations (id),
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    practice    TEXT NOT NULL,        -- one of the product's practices, or the org's own words
    pillar      TEXT NOT NULL,        -- the pillar it should move
    pulse_id    INTEGER NOT NULL,      -- the pulse whose cycles measure it
    starts_on   TEXT NOT NULL,        -- YYYY-MM-DD
    ends_on     TEXT,
    sub_teams   INTEGER NOT NULL,      -- 1: the teams take part with their sub-teams
    status      TEXT NOT NULL CHECK (status IN ('proposed', 'active')),
    proposer_id INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (org_id, id)
);

CREATE TABLE initiative_teams (
    org_id        INTEGER NOT NULL,
    initiative_id INTEGER NOT NULL,
    team_id       INTEGER NOT NULL,
    starts_on     TEXT,               -- NULL: the initiative's start
    PRIMARY KEY (initiative_id, team_id),
    FOREIGN KEY (org_id, initiative_id) REFERENCES initiatives (org_id, id)
);

-- How many each team's roster asked and how many answered, counted once
-- when a cycle closes (roster and participation are frozen by then), so
-- pages that show participation per cycle need not count again. Counts
-- only: what participation already holds, summed.
CREATE TABLE cycle_turnout (
    org_id   INTEGER NOT NULL,
    cycle_id INTEGER NOT NULL,
    team_id  INTEGER,
    people   INTEGER NOT NULL,
    answered INTEGER NOT NULL
);
CREATE INDEX cycle_turnout_by_cycle ON cycle_turnout (org_id, cycle_id);
-- Cycles closed before now: counted once here, as a close counts them.
INSERT INTO cycle_turnout (org_id, cycle_id, team_id, people, answered)
SELECT r.org_id, r.cycle_id, r.team_id, COUNT(*), CAST(COALESCE(SUM(x.answered), 0) AS BIGINT)
FROM cycle_roster r
JOIN participation x ON x.org_id = r.org_id AND x.cycle_id = r.cycle_id AND x.person_id = r.person_id
JOIN cycles c ON c.org_id = r.org_id AND c.id = r.cycle_id
WHERE c.closed_at IS NOT NULL
GROUP BY r.org_id, r.cycle_id, r.team_id;

-- A closed cycle's released team figures in brief, written with its
-- results: for each published team group, its responses and the four
-- pillars' % favourable. The same figures as the stored results, read
-- at once by analyses over many teams and cycles.
ALTER TABLE cycles ADD COLUMN pillars TEXT;

-- A recipient may link a feedback thread to the action that answers it;
-- the sender sees the action and its status through their code. Nothing
-- about the sender.
ALTER TABLE feedback_threads ADD COLUMN action_id INTEGER;
