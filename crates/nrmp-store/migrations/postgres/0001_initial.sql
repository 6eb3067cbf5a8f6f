-- nrmp initial schema (postgres). Each record is stored whole as JSON in `data` (the domain type's
-- serde form); the other columns are copies of the fields that queries filter or join on.
-- Timestamps are RFC 3339 UTC text with microseconds (fixed width, so they sort as text).
-- Migrations are never edited once applied: add a new file instead.

CREATE TABLE organisations (
    code         TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    name         TEXT NOT NULL,
    data         TEXT NOT NULL
);

CREATE TABLE persons (
    id           TEXT PRIMARY KEY,
    owning_org   TEXT NOT NULL REFERENCES organisations (code),
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    data         TEXT NOT NULL
);

CREATE TABLE incidents (
    id            TEXT PRIMARY KEY,
    person_id     TEXT NOT NULL REFERENCES persons (id),
    owning_org    TEXT NOT NULL REFERENCES organisations (code),
    force_missing TEXT NOT NULL REFERENCES organisations (code),
    category      TEXT NOT NULL,
    risk          TEXT NOT NULL,
    reported_at   TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL,
    found_at      TEXT,
    data          TEXT NOT NULL
);
CREATE INDEX incidents_person ON incidents (person_id, last_seen_at);
CREATE INDEX incidents_force ON incidents (force_missing, last_seen_at);
CREATE INDEX incidents_last_seen ON incidents (last_seen_at);

CREATE TABLE referrals (
    id              TEXT PRIMARY KEY,
    person_id       TEXT NOT NULL REFERENCES persons (id),
    first_responder TEXT NOT NULL REFERENCES organisations (code),
    referred_on     TEXT NOT NULL,
    data            TEXT NOT NULL
);
CREATE INDEX referrals_person ON referrals (person_id);

CREATE TABLE placements (
    id                TEXT PRIMARY KEY,
    person_id         TEXT NOT NULL REFERENCES persons (id),
    placing_authority TEXT NOT NULL REFERENCES organisations (code),
    host_authority    TEXT NOT NULL REFERENCES organisations (code),
    started_at        TEXT NOT NULL,
    ended_at          TEXT,
    data              TEXT NOT NULL
);
CREATE INDEX placements_person ON placements (person_id);

-- Pre-filled profiles: every version kept; (id, version) is the key.
CREATE TABLE profiles (
    id           TEXT NOT NULL,
    version      BIGINT NOT NULL,
    person_id    TEXT NOT NULL REFERENCES persons (id),
    prepared_by  TEXT NOT NULL REFERENCES organisations (code),
    prepared_at  TEXT NOT NULL,
    data         TEXT NOT NULL,
    PRIMARY KEY (id, version)
);
CREATE INDEX profiles_person ON profiles (person_id);

CREATE TABLE found_persons (
    id            TEXT PRIMARY KEY,
    found_by      TEXT NOT NULL REFERENCES organisations (code),
    found_at      TEXT NOT NULL,
    identified_as TEXT REFERENCES persons (id),
    data          TEXT NOT NULL
);

-- Append-only: who, acting for which organisation, did what to which records, when, and why.
CREATE TABLE audit_events (
    seq          BIGSERIAL PRIMARY KEY,
    at           TEXT NOT NULL,
    actor_user   TEXT NOT NULL,
    actor_org    TEXT NOT NULL,
    action       TEXT NOT NULL,
    record_kind  TEXT NOT NULL,
    record_ids   TEXT NOT NULL,
    reason       TEXT NOT NULL,
    detail       TEXT NOT NULL
);
CREATE INDEX audit_events_at ON audit_events (at);

-- Events for alerting and for keeping the matching index current, written in the same
-- transaction as the change (transactional outbox).
CREATE TABLE outbox (
    seq          BIGSERIAL PRIMARY KEY,
    at           TEXT NOT NULL,
    event        TEXT NOT NULL,
    record_kind  TEXT NOT NULL,
    record_id    TEXT NOT NULL
);
