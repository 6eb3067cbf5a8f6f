-- Alerts (docs/alerts.md). An alert names the fact it reports (alert_key, unique), so the same
-- fact raised twice — a change re-read from the outbox, two nodes following it — is one alert.
-- It holds no personal details: ids, organisation codes, grades and match weights by field
-- (detail, JSON); each recipient's view is rendered from the records through their grant.
CREATE TABLE alerts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_key    TEXT NOT NULL UNIQUE,
    kind         TEXT NOT NULL,
    person_id    TEXT,
    incident_id  TEXT,
    found_id     TEXT,
    raised_at    TEXT NOT NULL,
    detail       TEXT NOT NULL,
    escalation   TEXT NOT NULL DEFAULT 'none',
    escalated_at TEXT
);
CREATE INDEX alerts_unacknowledged ON alerts (escalation, raised_at);

-- Whom each alert is for: a role in an organisation, and the escalation level that added it.
CREATE TABLE alert_recipients (
    alert_id  BIGINT NOT NULL REFERENCES alerts (id),
    org       TEXT NOT NULL,
    role      TEXT NOT NULL,
    level     TEXT NOT NULL,
    PRIMARY KEY (alert_id, org, role)
);
CREATE INDEX alert_recipients_by_org ON alert_recipients (org, role, alert_id);

-- One acknowledgement per organisation and alert: who, when, and their note.
CREATE TABLE alert_acknowledgements (
    alert_id  BIGINT NOT NULL REFERENCES alerts (id),
    org       TEXT NOT NULL,
    user_name TEXT NOT NULL,
    at        TEXT NOT NULL,
    note      TEXT NOT NULL,
    PRIMARY KEY (alert_id, org)
);

-- What the live stream delivers: an alert raised, escalated or acknowledged. Appends serialise
-- on alert_head (a row lock), so event numbers are in commit order and a client that resumes
-- after the last number it saw misses nothing and sees nothing twice.
CREATE TABLE alert_events (
    seq       BIGINT PRIMARY KEY,
    alert_id  BIGINT NOT NULL REFERENCES alerts (id),
    event     TEXT NOT NULL,
    at        TEXT NOT NULL
);
CREATE INDEX alert_events_by_alert ON alert_events (alert_id);
CREATE TABLE alert_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL
);
INSERT INTO alert_head (id, seq) VALUES (1, 0);

-- Where each follower of the outbox has got to (its cursor, JSON), saved with what it raised.
CREATE TABLE outbox_cursors (
    consumer  TEXT PRIMARY KEY,
    state     TEXT NOT NULL
);

-- Each organisation's duty contact: whom to call (a desk, not a person).
CREATE TABLE duty_contacts (
    org   TEXT PRIMARY KEY REFERENCES organisations (code),
    data  TEXT NOT NULL
);

-- SQLite runs one node: its followers are woken in-process (docs/alerts.md).
