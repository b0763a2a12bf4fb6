-- Insights: actions taken on results, each with an owner, a due date and
-- dated updates. An action is for a group (a team, or the organization
-- when team_id is NULL) and may come from a released result of a cycle.

CREATE TABLE actions (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES organizations (id),
    title       TEXT NOT NULL,
    description TEXT NOT NULL,
    pillar      TEXT,                 -- acceptance, value, support, integration, or NULL
    team_id     INTEGER,               -- NULL: the whole organization
    cycle_id    INTEGER,               -- the cycle whose result it answers, if any
    owner_id    INTEGER NOT NULL,
    creator_id  INTEGER NOT NULL,
    due_date    TEXT NOT NULL,        -- YYYY-MM-DD
    status      TEXT NOT NULL CHECK (status IN ('planned', 'in_progress', 'done', 'dropped')),
    visibility  TEXT NOT NULL CHECK (visibility IN ('group', 'org')),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (org_id, id)
);
CREATE INDEX actions_by_org ON actions (org_id, status, due_date);

CREATE TABLE action_updates (
    id         INTEGER PRIMARY KEY,
    org_id     INTEGER NOT NULL,
    action_id  INTEGER NOT NULL,
    author_id  INTEGER NOT NULL,
    note       TEXT NOT NULL,
    status     TEXT,                  -- the status it set, if it changed it
    created_at INTEGER NOT NULL,
    FOREIGN KEY (org_id, action_id) REFERENCES actions (org_id, id)
);
CREATE INDEX action_updates_by_action ON action_updates (action_id, created_at);
