-- Accounts (postgres): users, their sign-in sessions and API tokens (issue 5).
-- Secrets are never stored in the clear: passwords as Argon2id PHC strings, session and API
-- tokens as the SHA-256 of the token. Timestamps are RFC 3339 UTC text, as everywhere else.
-- Flags and counters are BIGINT (0/1 for flags) so one query text serves both backends.

CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    username        TEXT NOT NULL UNIQUE,
    org             TEXT NOT NULL REFERENCES organisations (code),
    roles           TEXT NOT NULL,            -- JSON array of role names
    clients         TEXT NOT NULL,            -- JSON array of person ids (advocates only)
    disabled        BIGINT NOT NULL DEFAULT 0,
    password_hash   TEXT NOT NULL,
    totp_secret     TEXT,                     -- base32; NULL until enrolled
    totp_last_step  BIGINT,                   -- step of the last accepted code (replay guard)
    failed_attempts BIGINT NOT NULL DEFAULT 0,
    locked_until    TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX users_org ON users (org, username);

CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id),
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    ended_at     TEXT
);
CREATE INDEX sessions_user ON sessions (user_id, ended_at);

CREATE TABLE api_tokens (
    id          TEXT PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id),
    org         TEXT NOT NULL REFERENCES organisations (code),
    scopes      TEXT NOT NULL,                -- JSON array of role names
    created_at  TEXT NOT NULL,
    expires_at  TEXT,
    revoked_at  TEXT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);
CREATE INDEX api_tokens_org ON api_tokens (org);
