-- What a search asked for (an encounter check's names, date of birth, marks…), kept beside its
-- audit event instead of inside it: the chained event holds only the fields given and the ids
-- shown, so the append-only log holds no personal details (docs/audit.md, "Stored search
-- queries"). Unlike the log, these rows can be deleted: erasing any person (or record) a query
-- concerned deletes the query, in the erasure's transaction.
CREATE TABLE audit_search_queries (
    seq    BIGINT PRIMARY KEY REFERENCES audit_events (seq),
    query  TEXT NOT NULL
);

-- Which records each stored query concerned: the persons it matched, whether or not the caller
-- was allowed to see them. A query is stored only if it concerned at least one record.
CREATE TABLE audit_search_query_subjects (
    seq        BIGINT NOT NULL REFERENCES audit_search_queries (seq) ON DELETE CASCADE,
    record_id  TEXT NOT NULL,
    PRIMARY KEY (seq, record_id)
);
CREATE INDEX audit_search_query_subjects_record ON audit_search_query_subjects (record_id);
