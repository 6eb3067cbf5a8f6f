//! Bearer secrets: session tokens (from sign-in) and API tokens (for system-to-system use).
//!
//! A secret is 32 random bytes, shown to its holder once and never stored: the register keeps
//! only its SHA-256 hash, so a copy of the database does not let anyone sign in. The prefix
//! (`nrmp_s_` for sessions, `nrmp_t_` for API tokens) lets secret scanners and people recognise
//! a leaked one.

use super::{SecureRng, UserId};
use crate::access::Role;
use crate::error::FieldError;
use crate::organisation::OrgCode;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::fmt;
use uuid::Uuid;

/// What a secret is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    /// A session from sign-in.
    Session,
    /// An API token.
    ApiToken,
}

impl SecretKind {
    fn prefix(self) -> &'static str {
        match self {
            Self::Session => "nrmp_s_",
            Self::ApiToken => "nrmp_t_",
        }
    }
}

/// A bearer secret in the clear: given to its holder once, then only its [`TokenHash`] is kept.
/// `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct BearerSecret(String);

impl BearerSecret {
    /// A fresh secret of `kind`.
    pub fn generate(kind: SecretKind, rng: &mut dyn SecureRng) -> Self {
        let mut bytes = [0u8; 32];
        rng.fill_bytes(&mut bytes);
        let mut s = String::with_capacity(7 + 64);
        s.push_str(kind.prefix());
        for b in bytes {
            s.push_str(&format!("{b:02x}"));
        }
        Self(s)
    }

    /// The secret, to hand to its holder.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Its hash, to store.
    pub fn hash(&self) -> TokenHash {
        TokenHash::of(&self.0)
    }

    /// What kind of secret `credential` looks like, from its prefix.
    pub fn kind_of(credential: &str) -> Option<SecretKind> {
        [SecretKind::Session, SecretKind::ApiToken]
            .into_iter()
            .find(|k| credential.starts_with(k.prefix()))
    }
}

impl fmt::Debug for BearerSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BearerSecret(***)")
    }
}

/// The SHA-256 of a bearer secret, in lower-case hex: what the store keeps and looks up.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenHash(String);

impl TokenHash {
    /// The hash of a presented credential.
    pub fn of(credential: &str) -> Self {
        let digest = Sha256::digest(credential.as_bytes());
        Self(digest.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// Reads a stored hash (64 hex digits).
    pub fn parse(field: &str, s: &str) -> Result<Self, FieldError> {
        if s.len() == 64
            && s.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        {
            Ok(Self(s.to_owned()))
        } else {
            Err(FieldError::new(field, "is not a SHA-256 hash"))
        }
    }

    /// The hex text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Identifies an API token (public: shown in lists, used to revoke).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct TokenId(pub Uuid);

impl TokenId {
    /// Parses a token id given in `field`.
    pub fn parse(field: &str, s: &str) -> Result<Self, FieldError> {
        Uuid::parse_str(s.trim())
            .map(Self)
            .map_err(|_| FieldError::new(field, format!("`{s}` is not a token id (a UUID)")))
    }
}

impl fmt::Display for TokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A name for an API token, saying what system uses it: 1–100 characters, no control
/// characters.
pub fn parse_token_name(field: &str, s: &str) -> Result<String, FieldError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(FieldError::new(
            field,
            "is empty; say which system uses the token",
        ));
    }
    if s.chars().count() > 100 {
        return Err(FieldError::new(field, "is longer than 100 characters"));
    }
    if s.chars().any(char::is_control) {
        return Err(FieldError::new(field, "contains a control character"));
    }
    Ok(s.to_owned())
}

/// The scopes of a new token: the roles it may act with. They must be roles its owner holds;
/// none requested means all of them. A token never acts with more than its owner currently
/// holds (see [`ApiToken::effective_roles`]).
pub fn parse_scopes(
    field: &str,
    requested: &[Role],
    held: &[Role],
) -> Result<Vec<Role>, FieldError> {
    if requested.is_empty() {
        let mut all = held.to_vec();
        all.sort();
        all.dedup();
        return Ok(all);
    }
    if let Some(r) = requested.iter().find(|r| !held.contains(r)) {
        return Err(FieldError::new(
            field,
            format!(
                "`{}` is not a role the token's owner holds, so the token cannot have it",
                r.as_str()
            ),
        ));
    }
    let mut scopes = requested.to_vec();
    scopes.sort();
    scopes.dedup();
    Ok(scopes)
}

/// Why a token is not accepted now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenRefusal {
    /// Revoked.
    #[error("token revoked")]
    Revoked,
    /// Past its expiry.
    #[error("token expired")]
    Expired,
    /// Its owner no longer holds any of its scopes.
    #[error("token has no scope its owner still holds")]
    NoScope,
}

/// An API token as stored (without its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    /// Id.
    pub id: TokenId,
    /// What uses it.
    pub name: String,
    /// Its owner, whose principal it acts as.
    pub user: UserId,
    /// The owner's organisation when it was issued.
    pub org: OrgCode,
    /// The roles it may act with (a subset of its owner's).
    pub scopes: Vec<Role>,
    /// Hash of the secret.
    pub hash: TokenHash,
    /// Issued at.
    pub created_at: DateTime<Utc>,
    /// Expires at, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// Revoked at, if revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiToken {
    /// Whether the token may be used at `now`.
    pub fn check(&self, now: DateTime<Utc>) -> Result<(), TokenRefusal> {
        if self.revoked_at.is_some() {
            return Err(TokenRefusal::Revoked);
        }
        if self.expires_at.is_some_and(|e| now >= e) {
            return Err(TokenRefusal::Expired);
        }
        Ok(())
    }

    /// The roles the token acts with: its scopes that its owner still holds.
    pub fn effective_roles(&self, owner_roles: &[Role]) -> Result<Vec<Role>, TokenRefusal> {
        let roles: Vec<Role> = self
            .scopes
            .iter()
            .copied()
            .filter(|r| owner_roles.contains(r))
            .collect();
        if roles.is_empty() {
            Err(TokenRefusal::NoScope)
        } else {
            Ok(roles)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use rand::SeedableRng;

    fn t(h: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + chrono::Duration::hours(h)
    }

    #[test]
    fn secrets_are_random_prefixed_and_stored_only_as_hashes() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let a = BearerSecret::generate(SecretKind::ApiToken, &mut rng);
        let b = BearerSecret::generate(SecretKind::ApiToken, &mut rng);
        assert_ne!(a, b);
        assert!(a.expose().starts_with("nrmp_t_"));
        assert_eq!(a.expose().len(), 7 + 64);
        let h = a.hash();
        assert_ne!(h.as_str(), a.expose());
        assert!(!h.as_str().contains(&a.expose()[7..]));
        assert_eq!(h, TokenHash::of(a.expose()));
        assert_ne!(h, b.hash());
        assert_eq!(TokenHash::parse("hash", h.as_str()).unwrap(), h);
        assert!(TokenHash::parse("hash", a.expose()).is_err());
        assert_eq!(
            BearerSecret::kind_of(a.expose()),
            Some(SecretKind::ApiToken)
        );
        let s = BearerSecret::generate(SecretKind::Session, &mut rng);
        assert_eq!(BearerSecret::kind_of(s.expose()), Some(SecretKind::Session));
        assert_eq!(BearerSecret::kind_of("Bearer x"), None);
        assert!(!format!("{a:?}").contains(&a.expose()[7..]));
        // SHA-256 of "abc" (FIPS 180-2 test vector)
        assert_eq!(
            TokenHash::of("abc").as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn scopes_must_be_roles_the_owner_holds() {
        let held = [Role::CallHandler, Role::Researcher];
        assert_eq!(
            parse_scopes("scopes", &[], &held).unwrap(),
            vec![Role::CallHandler, Role::Researcher]
        );
        assert_eq!(
            parse_scopes("scopes", &[Role::Researcher, Role::Researcher], &held).unwrap(),
            vec![Role::Researcher]
        );
        let e = parse_scopes("scopes", &[Role::NationalAnalyst], &held).unwrap_err();
        assert_eq!(e.field, "scopes");
        assert!(e.problem.contains("national_analyst"), "{e}");
    }

    #[test]
    fn revoked_expired_and_out_of_scope_tokens_are_refused() {
        let mut tok = ApiToken {
            id: TokenId(Uuid::from_u128(1)),
            name: "niche feed".into(),
            user: UserId(Uuid::from_u128(2)),
            org: OrgCode::parse("o", "force:kent").unwrap(),
            scopes: vec![Role::Researcher],
            hash: TokenHash::of("x"),
            created_at: t(0),
            expires_at: Some(t(24)),
            revoked_at: None,
        };
        assert_eq!(tok.check(t(23)), Ok(()));
        assert_eq!(tok.check(t(24)), Err(TokenRefusal::Expired));
        assert_eq!(
            tok.effective_roles(&[Role::Researcher, Role::CallHandler]),
            Ok(vec![Role::Researcher])
        );
        assert_eq!(
            tok.effective_roles(&[Role::CallHandler]),
            Err(TokenRefusal::NoScope)
        );
        tok.revoked_at = Some(t(1));
        assert_eq!(tok.check(t(2)), Err(TokenRefusal::Revoked));
        assert!(parse_token_name("name", "  ").is_err());
        assert_eq!(parse_token_name("name", " feed ").unwrap(), "feed");
    }
}
