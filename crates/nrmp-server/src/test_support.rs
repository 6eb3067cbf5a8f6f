//! Test helpers (feature `test-support`): an [`Authenticator`] that knows a fixed set of
//! tokens, one per test principal. Never used by the service itself.

use crate::auth::{AuthError, Authenticator};
use async_trait::async_trait;
use nrmp_domain::access::Principal;
use std::collections::HashMap;
use std::sync::RwLock;

/// Maps fixed bearer tokens to principals.
#[derive(Debug, Default)]
pub struct StaticAuthenticator {
    tokens: RwLock<HashMap<String, Principal>>,
}

impl StaticAuthenticator {
    /// An authenticator that knows no token.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes `token` stand for `principal`.
    pub fn insert(&self, token: impl Into<String>, principal: Principal) {
        if let Ok(mut t) = self.tokens.write() {
            t.insert(token.into(), principal);
        }
    }
}

#[async_trait]
impl Authenticator for StaticAuthenticator {
    async fn authenticate(&self, credential: &str) -> Result<Principal, AuthError> {
        self.tokens
            .read()
            .map_err(|_| AuthError::Unavailable("token table poisoned".into()))?
            .get(credential)
            .cloned()
            .ok_or(AuthError::Invalid)
    }
}
