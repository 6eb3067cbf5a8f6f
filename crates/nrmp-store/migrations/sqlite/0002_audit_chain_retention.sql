-- The audit log becomes a hash chain, and records get retention review dates (sqlite).
-- See docs/audit.md for the canonical form of an event and how the chain is verified.

-- Each event's hash is SHA-256(prev_hash || canonical(event)), computed by the store inside the
-- transaction that writes the event. Events written before this migration have NULL hashes
-- until the store chains them, right after migrating (see `audit_log::chain_unchained`).
ALTER TABLE audit_events ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_events ADD COLUMN hash TEXT;

-- The end of the chain: one row, updated by every append. Appends take its row lock (the write
-- lock on SQLite), so concurrent writers queue and never fork the chain; seqs come from here,
-- so they have no gaps (a gap means a removed event). `hash` is NULL while existing events
-- still need chaining.
CREATE TABLE audit_head (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    seq   BIGINT NOT NULL,
    hash  TEXT
);
INSERT INTO audit_head (id, seq, hash)
SELECT 1, COALESCE(MAX(seq), 0),
       CASE WHEN COUNT(*) = 0
            THEN '0000000000000000000000000000000000000000000000000000000000000000'
       END
FROM audit_events;

-- Which records each event concerns, one row per record id: answers "who has seen or changed
-- this record" without parsing record_ids. Derived from the chained events (not part of the
-- chain itself).
CREATE TABLE audit_event_records (
    seq          BIGINT NOT NULL,
    record_kind  TEXT NOT NULL,
    record_id    TEXT NOT NULL
);
CREATE INDEX audit_event_records_id ON audit_event_records (record_id, seq);

-- Append-only: the database refuses to change or delete events. The only update allowed is
-- chaining an event written before this migration (its hash is still NULL).
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
WHEN OLD.hash IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;

-- Retention: one row per subject (a person, or a found person) with the date its records are
-- next reviewed, and the last review decision. Records about a person (incidents, referrals,
-- placements, profiles) push their person's review date later as they are written.
CREATE TABLE retention (
    record_kind  TEXT NOT NULL,
    record_id    TEXT NOT NULL,
    review_date  TEXT NOT NULL,
    decision     TEXT,
    decided_by   TEXT,
    decided_org  TEXT,
    decided_at   TEXT,
    reason       TEXT,
    PRIMARY KEY (record_kind, record_id)
);
CREATE INDEX retention_due ON retention (review_date);

-- Work the store finishes in Rust right after migrating, one row per task until it is done:
-- giving records stored before this migration their review dates. (Chaining old audit events
-- is marked by audit_head.hash being NULL.)
CREATE TABLE pending_backfill (task TEXT PRIMARY KEY);
INSERT INTO pending_backfill (task) VALUES ('retention');
