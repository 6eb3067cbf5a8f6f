//! Accounts in SQL: users, sessions and API tokens (tables from migration `0003_accounts`).
//!
//! Implements [`AccountStore`]. Every change writes its audit event through
//! [`super::audit::append`], as the rest of the store does, in the same transaction. Uses
//! [`super::audit`] and [`super::rows`]. Secrets are stored only as hashes (see `nrmp_domain::account`).

use super::rows::invalid;
use super::{SqlStore, audit};
use crate::prelude::*;
use crate::records::ts;
use crate::{AccountChange, AccountChangeFn, Result, StoreError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nrmp_domain::access::Role;
use nrmp_domain::account::{Account, ApiToken, Session, TokenHash, TokenId, UserId, Username};
use nrmp_domain::account::{PasswordHash, TotpSecret};
use nrmp_domain::audit::AuditAction;
use nrmp_domain::error::ValidationErrors;
use nrmp_domain::ids::PersonId;
use nrmp_domain::organisation::{OrgCode, OrgKind};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Row};

const USER: &str = UserId::KIND;
const TOKEN: &str = "api_token";

const USER_COLUMNS: &str = "u.id, u.username, u.org, o.kind AS org_kind, u.roles, u.clients, \
    u.disabled, u.password_hash, u.totp_secret, u.totp_last_step, u.failed_attempts, \
    u.locked_until, u.created_at, u.updated_at";

const TOKEN_COLUMNS: &str =
    "id, token_hash, name, user_id, org, scopes, created_at, expires_at, revoked_at";

fn parse_time(field: &str, s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.to_utc())
        .map_err(|e| StoreError::corrupt_value(format!("{field} `{s}`: {e}")))
}

fn opt_time(field: &str, s: Option<String>) -> Result<Option<DateTime<Utc>>> {
    s.map(|s| parse_time(field, &s)).transpose()
}

fn json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::corrupt_value(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(field: &str, s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| StoreError::corrupt_value(format!("{field}: {e}")))
}

fn field<T>(r: std::result::Result<T, nrmp_domain::FieldError>) -> Result<T> {
    r.map_err(|e| StoreError::corrupt_value(e.to_string()))
}

fn user_row(r: &AnyRow) -> Result<Account> {
    let id: String = r.try_get("id")?;
    let totp: Option<String> = r.try_get("totp_secret")?;
    let failed: i64 = r.try_get("failed_attempts")?;
    Ok(Account {
        id: field(UserId::parse("id", &id))?,
        username: field(Username::parse(
            "username",
            &r.try_get::<String, _>("username")?,
        ))?,
        org: field(OrgCode::parse("org", &r.try_get::<String, _>("org")?))?,
        org_kind: field(OrgKind::parse(
            "org_kind",
            &r.try_get::<String, _>("org_kind")?,
        ))?,
        roles: from_json::<Vec<Role>>("roles", &r.try_get::<String, _>("roles")?)?,
        clients: from_json::<Vec<PersonId>>("clients", &r.try_get::<String, _>("clients")?)?,
        disabled: r.try_get::<i64, _>("disabled")? != 0,
        password: field(PasswordHash::parse(
            "password_hash",
            &r.try_get::<String, _>("password_hash")?,
        ))?,
        totp: totp
            .map(|s| field(TotpSecret::from_base32("totp_secret", &s)))
            .transpose()?,
        totp_last_step: r.try_get("totp_last_step")?,
        failed_attempts: u32::try_from(failed).unwrap_or(u32::MAX),
        locked_until: opt_time("locked_until", r.try_get("locked_until")?)?,
        created_at: parse_time("created_at", &r.try_get::<String, _>("created_at")?)?,
        updated_at: parse_time("updated_at", &r.try_get::<String, _>("updated_at")?)?,
    })
}

fn token_row(r: &AnyRow) -> Result<ApiToken> {
    Ok(ApiToken {
        id: field(TokenId::parse("id", &r.try_get::<String, _>("id")?))?,
        name: r.try_get("name")?,
        user: field(UserId::parse(
            "user_id",
            &r.try_get::<String, _>("user_id")?,
        ))?,
        org: field(OrgCode::parse("org", &r.try_get::<String, _>("org")?))?,
        scopes: from_json::<Vec<Role>>("scopes", &r.try_get::<String, _>("scopes")?)?,
        hash: field(TokenHash::parse(
            "token_hash",
            &r.try_get::<String, _>("token_hash")?,
        ))?,
        created_at: parse_time("created_at", &r.try_get::<String, _>("created_at")?)?,
        expires_at: opt_time("expires_at", r.try_get("expires_at")?)?,
        revoked_at: opt_time("revoked_at", r.try_get("revoked_at")?)?,
    })
}

fn session_row(r: &AnyRow) -> Result<Session> {
    Ok(Session {
        hash: field(TokenHash::parse(
            "token_hash",
            &r.try_get::<String, _>("token_hash")?,
        ))?,
        user: field(UserId::parse(
            "user_id",
            &r.try_get::<String, _>("user_id")?,
        ))?,
        created_at: parse_time("created_at", &r.try_get::<String, _>("created_at")?)?,
        last_seen_at: parse_time("last_seen_at", &r.try_get::<String, _>("last_seen_at")?)?,
        ended_at: opt_time("ended_at", r.try_get("ended_at")?)?,
    })
}

/// Checks what the database cannot: roles that fit the organisation, an advocate's clients.
fn check(account: &Account) -> Result<()> {
    account.principal().map(|_| ()).map_err(StoreError::Invalid)
}

fn classify(e: sqlx::Error, what: &str) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        match db.kind() {
            sqlx::error::ErrorKind::UniqueViolation => {
                return StoreError::Conflict(format!("{what} already exists"));
            }
            sqlx::error::ErrorKind::ForeignKeyViolation => {
                return StoreError::Invalid(ValidationErrors::one(
                    "org",
                    "is not an organisation in the register",
                ));
            }
            _ => {}
        }
    }
    StoreError::from(e)
}

async fn org_kind(conn: &mut AnyConnection, org: &OrgCode) -> Result<OrgKind> {
    let kind: Option<String> = sqlx::query_scalar("SELECT kind FROM organisations WHERE code = $1")
        .bind(org.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    match kind {
        Some(k) => field(OrgKind::parse("org_kind", &k)),
        None => Err(invalid(
            "org",
            &format!("`{org}` is not an organisation in the register"),
        )),
    }
}

async fn create_user(pool: &AnyPool, ctx: &Ctx, account: &Account) -> Result<()> {
    let mut tx = super::tx::begin_write_on(pool).await?;
    if org_kind(&mut tx, &account.org).await? != account.org_kind {
        return Err(invalid(
            "org",
            &format!("`{}` is not a {}", account.org, account.org_kind.as_str()),
        ));
    }
    check(account)?;
    sqlx::query(
        "INSERT INTO users (id, username, org, roles, clients, disabled, password_hash, \
         totp_secret, totp_last_step, failed_attempts, locked_until, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(account.id.to_string())
    .bind(account.username.to_string())
    .bind(account.org.to_string())
    .bind(json(&account.roles)?)
    .bind(json(&account.clients)?)
    .bind(i64::from(account.disabled))
    .bind(account.password.as_str().to_owned())
    .bind(account.totp.as_ref().map(TotpSecret::to_base32))
    .bind(account.totp_last_step)
    .bind(i64::from(account.failed_attempts))
    .bind(account.locked_until.map(ts))
    .bind(ts(account.created_at))
    .bind(ts(account.updated_at))
    .execute(&mut *tx)
    .await
    .map_err(|e| classify(e, &format!("user name `{}`", account.username)))?;
    let roles: Vec<&str> = account.roles.iter().map(|r| r.as_str()).collect();
    audit::append(
        &mut tx,
        ctx,
        AuditAction::PermissionChange,
        USER,
        &[account.id.to_string()],
        &format!(
            "created user {} in {} with roles {}",
            account.username,
            account.org,
            roles.join(" ")
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn fetch_user(conn: &mut AnyConnection, id: UserId) -> Result<Account> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users u JOIN organisations o ON o.code = u.org WHERE u.id = $1"
    );
    let row = sqlx::query(&sql)
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            kind: USER,
            id: id.to_string(),
        })?;
    user_row(&row)
}

async fn user(pool: &AnyPool, id: UserId) -> Result<Account> {
    let mut conn = pool.acquire().await?;
    fetch_user(&mut conn, id).await
}

async fn user_by_name(pool: &AnyPool, username: &Username) -> Result<Option<Account>> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users u JOIN organisations o ON o.code = u.org \
         WHERE u.username = $1"
    );
    sqlx::query(&sql)
        .bind(username.to_string())
        .fetch_optional(pool)
        .await?
        .as_ref()
        .map(user_row)
        .transpose()
}

async fn users(pool: &AnyPool, org: Option<&OrgCode>) -> Result<Vec<Account>> {
    let base = format!("SELECT {USER_COLUMNS} FROM users u JOIN organisations o ON o.code = u.org");
    let rows = match org {
        Some(org) => {
            sqlx::query(&format!("{base} WHERE u.org = $1 ORDER BY u.username"))
                .bind(org.to_string())
                .fetch_all(pool)
                .await?
        }
        None => {
            sqlx::query(&format!("{base} ORDER BY u.username"))
                .fetch_all(pool)
                .await?
        }
    };
    rows.iter().map(user_row).collect()
}

async fn update_user(
    pool: &AnyPool,
    ctx: &Ctx,
    id: UserId,
    change: &AccountChangeFn<'_>,
) -> Result<AccountChange> {
    let mut tx = super::tx::begin_write_on(pool).await?;
    // A no-op write takes the row lock (PostgreSQL) or the write lock (SQLite) first, so two
    // concurrent sign-in failures cannot both read the same failure count.
    let locked = sqlx::query("UPDATE users SET updated_at = updated_at WHERE id = $1")
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
    if locked.rows_affected() == 0 {
        return Err(StoreError::NotFound {
            kind: USER,
            id: id.to_string(),
        });
    }
    let current = fetch_user(&mut tx, id).await?;
    let out = change(&current)?;
    let a = &out.account;
    if a.id != current.id || a.username != current.username || a.created_at != current.created_at {
        return Err(invalid(
            "user",
            "an account's id, user name and creation time cannot change",
        ));
    }
    if a.org != current.org && org_kind(&mut tx, &a.org).await? != a.org_kind {
        return Err(invalid(
            "org",
            &format!("`{}` is not a {}", a.org, a.org_kind.as_str()),
        ));
    }
    check(a)?;
    sqlx::query(
        "UPDATE users SET org = $1, roles = $2, clients = $3, disabled = $4, password_hash = $5, \
         totp_secret = $6, totp_last_step = $7, failed_attempts = $8, locked_until = $9, \
         updated_at = $10 WHERE id = $11",
    )
    .bind(a.org.to_string())
    .bind(json(&a.roles)?)
    .bind(json(&a.clients)?)
    .bind(i64::from(a.disabled))
    .bind(a.password.as_str().to_owned())
    .bind(a.totp.as_ref().map(TotpSecret::to_base32))
    .bind(a.totp_last_step)
    .bind(i64::from(a.failed_attempts))
    .bind(a.locked_until.map(ts))
    .bind(ts(a.updated_at))
    .bind(id.to_string())
    .execute(&mut *tx)
    .await
    .map_err(|e| classify(e, "user"))?;
    let ids = [id.to_string()];
    if out.end_sessions {
        let ended = sqlx::query(
            "UPDATE sessions SET ended_at = $1 WHERE user_id = $2 AND ended_at IS NULL",
        )
        .bind(ts(ctx.at))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        if ended.rows_affected() > 0 {
            audit::append(
                &mut tx,
                ctx,
                AuditAction::SignOut,
                USER,
                &ids,
                &format!(
                    "{} session(s) ended by an account change",
                    ended.rows_affected()
                ),
            )
            .await?;
        }
    }
    if let Some(s) = &out.new_session {
        if s.user != id {
            return Err(invalid("session", "belongs to another user"));
        }
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, ended_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(s.hash.as_str().to_owned())
        .bind(id.to_string())
        .bind(ts(s.created_at))
        .bind(ts(s.last_seen_at))
        .bind(s.ended_at.map(ts))
        .execute(&mut *tx)
        .await
        .map_err(|e| classify(e, "session"))?;
    }
    for (action, detail) in &out.audit {
        audit::append(&mut tx, ctx, *action, USER, &ids, detail).await?;
    }
    tx.commit().await?;
    Ok(out)
}

async fn session(pool: &AnyPool, hash: &TokenHash) -> Result<Option<Session>> {
    sqlx::query(
        "SELECT token_hash, user_id, created_at, last_seen_at, ended_at FROM sessions \
         WHERE token_hash = $1",
    )
    .bind(hash.as_str().to_owned())
    .fetch_optional(pool)
    .await?
    .as_ref()
    .map(session_row)
    .transpose()
}

async fn touch_session(pool: &AnyPool, hash: &TokenHash, at: DateTime<Utc>) -> Result<()> {
    sqlx::query(
        "UPDATE sessions SET last_seen_at = $1 \
         WHERE token_hash = $2 AND ended_at IS NULL AND last_seen_at < $1",
    )
    .bind(ts(at))
    .bind(hash.as_str().to_owned())
    .execute(pool)
    .await?;
    Ok(())
}

async fn end_session(pool: &AnyPool, ctx: &Ctx, hash: &TokenHash, detail: &str) -> Result<bool> {
    let mut tx = super::tx::begin_write_on(pool).await?;
    let user: Option<String> = sqlx::query_scalar(
        "UPDATE sessions SET ended_at = $1 WHERE token_hash = $2 AND ended_at IS NULL \
         RETURNING user_id",
    )
    .bind(ts(ctx.at))
    .bind(hash.as_str().to_owned())
    .fetch_optional(&mut *tx)
    .await?;
    let Some(user) = user else {
        return Ok(false);
    };
    audit::append(&mut tx, ctx, AuditAction::SignOut, USER, &[user], detail).await?;
    tx.commit().await?;
    Ok(true)
}

async fn create_token(pool: &AnyPool, ctx: &Ctx, token: &ApiToken) -> Result<()> {
    let mut tx = super::tx::begin_write_on(pool).await?;
    let owner = fetch_user(&mut tx, token.user).await?;
    if owner.org != token.org {
        return Err(invalid(
            "org",
            "a token belongs to its owner's organisation",
        ));
    }
    if token.scopes.is_empty() || token.scopes.iter().any(|r| !owner.roles.contains(r)) {
        return Err(invalid(
            "scopes",
            "a token's scopes must be roles its owner holds",
        ));
    }
    sqlx::query(&format!(
        "INSERT INTO api_tokens ({TOKEN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    ))
    .bind(token.id.to_string())
    .bind(token.hash.as_str().to_owned())
    .bind(token.name.clone())
    .bind(token.user.to_string())
    .bind(token.org.to_string())
    .bind(json(&token.scopes)?)
    .bind(ts(token.created_at))
    .bind(token.expires_at.map(ts))
    .bind(token.revoked_at.map(ts))
    .execute(&mut *tx)
    .await
    .map_err(|e| classify(e, &format!("token {}", token.id)))?;
    let scopes: Vec<&str> = token.scopes.iter().map(|r| r.as_str()).collect();
    let expiry = token.expires_at.map_or_else(|| "never".to_owned(), ts);
    audit::append(
        &mut tx,
        ctx,
        AuditAction::TokenIssued,
        TOKEN,
        &[token.id.to_string(), token.user.to_string()],
        &format!(
            "token `{}` for {} with scopes {}; expires {expiry}",
            token.name,
            owner.username,
            scopes.join(" ")
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn fetch_token(conn: &mut AnyConnection, id: TokenId) -> Result<ApiToken> {
    let row = sqlx::query(&format!(
        "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = $1"
    ))
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| StoreError::NotFound {
        kind: TOKEN,
        id: id.to_string(),
    })?;
    token_row(&row)
}

async fn token(pool: &AnyPool, id: TokenId) -> Result<ApiToken> {
    let mut conn = pool.acquire().await?;
    fetch_token(&mut conn, id).await
}

async fn token_by_hash(pool: &AnyPool, hash: &TokenHash) -> Result<Option<ApiToken>> {
    sqlx::query(&format!(
        "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = $1"
    ))
    .bind(hash.as_str().to_owned())
    .fetch_optional(pool)
    .await?
    .as_ref()
    .map(token_row)
    .transpose()
}

async fn tokens(
    pool: &AnyPool,
    user: Option<UserId>,
    org: Option<&OrgCode>,
) -> Result<Vec<ApiToken>> {
    let base = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens");
    let order = "ORDER BY created_at DESC, id";
    let rows = match (user, org) {
        (Some(u), Some(o)) => {
            sqlx::query(&format!("{base} WHERE user_id = $1 AND org = $2 {order}"))
                .bind(u.to_string())
                .bind(o.to_string())
                .fetch_all(pool)
                .await?
        }
        (Some(u), None) => {
            sqlx::query(&format!("{base} WHERE user_id = $1 {order}"))
                .bind(u.to_string())
                .fetch_all(pool)
                .await?
        }
        (None, Some(o)) => {
            sqlx::query(&format!("{base} WHERE org = $1 {order}"))
                .bind(o.to_string())
                .fetch_all(pool)
                .await?
        }
        (None, None) => {
            sqlx::query(&format!("{base} {order}"))
                .fetch_all(pool)
                .await?
        }
    };
    rows.iter().map(token_row).collect()
}

async fn revoke_token(pool: &AnyPool, ctx: &Ctx, id: TokenId) -> Result<ApiToken> {
    let mut tx = super::tx::begin_write_on(pool).await?;
    let done =
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(ts(ctx.at))
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
    let token = fetch_token(&mut tx, id).await?;
    if done.rows_affected() > 0 {
        audit::append(
            &mut tx,
            ctx,
            AuditAction::TokenRevoked,
            TOKEN,
            &[token.id.to_string(), token.user.to_string()],
            &format!("token `{}` revoked", token.name),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(token)
}

#[async_trait]
impl AccountStore for SqlStore {
    async fn create_user(&self, ctx: &Ctx, account: &Account) -> Result<()> {
        create_user(&self.pool, ctx, account).await
    }

    async fn user(&self, id: UserId) -> Result<Account> {
        user(&self.pool, id).await
    }

    async fn user_by_name(&self, username: &Username) -> Result<Option<Account>> {
        user_by_name(&self.pool, username).await
    }

    async fn users(&self, org: Option<&OrgCode>) -> Result<Vec<Account>> {
        users(&self.pool, org).await
    }

    async fn update_user(
        &self,
        ctx: &Ctx,
        id: UserId,
        change: &AccountChangeFn<'_>,
    ) -> Result<AccountChange> {
        update_user(&self.pool, ctx, id, change).await
    }

    async fn session(&self, hash: &TokenHash) -> Result<Option<Session>> {
        session(&self.pool, hash).await
    }

    async fn touch_session(&self, hash: &TokenHash, at: DateTime<Utc>) -> Result<()> {
        touch_session(&self.pool, hash, at).await
    }

    async fn end_session(&self, ctx: &Ctx, hash: &TokenHash, detail: &str) -> Result<bool> {
        end_session(&self.pool, ctx, hash, detail).await
    }

    async fn create_token(&self, ctx: &Ctx, token: &ApiToken) -> Result<()> {
        create_token(&self.pool, ctx, token).await
    }

    async fn token(&self, id: TokenId) -> Result<ApiToken> {
        token(&self.pool, id).await
    }

    async fn token_by_hash(&self, hash: &TokenHash) -> Result<Option<ApiToken>> {
        token_by_hash(&self.pool, hash).await
    }

    async fn tokens(&self, user: Option<UserId>, org: Option<&OrgCode>) -> Result<Vec<ApiToken>> {
        tokens(&self.pool, user, org).await
    }

    async fn revoke_token(&self, ctx: &Ctx, id: TokenId) -> Result<ApiToken> {
        revoke_token(&self.pool, ctx, id).await
    }
}
