-- Recognition: the thank-you board, the organization's values, and
-- employee-of-the-month rounds.

-- Where each thank-you is also posted (a Slack- or Teams-compatible
-- incoming webhook); NULL: nowhere.
ALTER TABLE organizations ADD COLUMN thanks_webhook_url TEXT;

CREATE TABLE org_values (
    id          BIGINT PRIMARY KEY,
    org_id      BIGINT NOT NULL REFERENCES organizations (id),
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL,        -- lowercased name: unique per org
    description TEXT NOT NULL,
    pillar      TEXT NOT NULL,        -- acceptance, value, support or integration
    active      BIGINT NOT NULL DEFAULT 1,
    created_at  BIGINT NOT NULL,
    UNIQUE (org_id, id),
    UNIQUE (org_id, name_key)
);

-- A thank-you, or the post announcing a round's winner (kind = 'award').
CREATE TABLE thank_yous (
    id         BIGINT PRIMARY KEY,
    org_id     BIGINT NOT NULL REFERENCES organizations (id),
    author_id  BIGINT NOT NULL,
    value_id   BIGINT,
    kind       TEXT NOT NULL DEFAULT 'thanks',
    message    TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, author_id) REFERENCES people (org_id, id),
    FOREIGN KEY (org_id, value_id) REFERENCES org_values (org_id, id)
);
CREATE INDEX thank_yous_by_time ON thank_yous (org_id, created_at);

CREATE TABLE thank_you_recipients (
    thank_you_id BIGINT NOT NULL,
    org_id       BIGINT NOT NULL,
    person_id    BIGINT NOT NULL,
    PRIMARY KEY (thank_you_id, person_id),
    FOREIGN KEY (org_id, thank_you_id) REFERENCES thank_yous (org_id, id),
    FOREIGN KEY (org_id, person_id) REFERENCES people (org_id, id)
);
CREATE INDEX thank_you_recipients_by_person ON thank_you_recipients (org_id, person_id);

-- One reaction of each kind per person and thank-you.
CREATE TABLE thank_you_reactions (
    thank_you_id BIGINT NOT NULL,
    org_id       BIGINT NOT NULL,
    person_id    BIGINT NOT NULL,
    kind         TEXT NOT NULL,
    PRIMARY KEY (thank_you_id, person_id, kind),
    FOREIGN KEY (org_id, thank_you_id) REFERENCES thank_yous (org_id, id)
);
