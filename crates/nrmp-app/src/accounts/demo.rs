//! Demo accounts: one user per role, in a suitable organisation of the demo register, with a
//! printed password and (for roles that read personal data) a second factor.
//!
//! Demo users are named `demo.<role>` (e.g. `demo.call-handler`). Running it again resets
//! their passwords and second factors, so the sign-ins it prints always work. `nrmp users
//! totp-code --user demo.…` prints a current code for demo users only.

use super::{AccountError, Accounts, NewUser, UserUpdate};
use nrmp_domain::access::{Principal, Role};
use nrmp_domain::organisation::{OrgKind, Organisation};
use rand::Rng;

/// The user-name prefix of demo accounts.
pub const DEMO_PREFIX: &str = "demo.";

/// One demo sign-in to print.
#[derive(Clone, PartialEq, Eq, serde::Serialize)]
pub struct DemoSignIn {
    /// The role.
    pub role: Role,
    /// User name.
    pub username: String,
    /// Organisation code.
    pub org: String,
    /// Password.
    pub password: String,
    /// Second-factor secret (base32), if the role needs one.
    pub totp_secret: Option<String>,
    /// Its `otpauth://` URI.
    pub otpauth_uri: Option<String>,
}

impl std::fmt::Debug for DemoSignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoSignIn")
            .field("role", &self.role)
            .field("username", &self.username)
            .field("org", &self.org)
            .finish_non_exhaustive()
    }
}

/// Creates (or resets) one demo user per role, each in the first organisation of `orgs` whose
/// kind the role fits (preferring the national unit for researchers and administrators).
/// Roles with no fitting organisation are skipped. Acts as a national administrator, so the
/// register must have a national unit.
pub async fn create_demo_users(
    accounts: &Accounts,
    orgs: &[Organisation],
) -> Result<Vec<DemoSignIn>, AccountError> {
    let national = orgs
        .iter()
        .find(|o| o.kind == OrgKind::NationalUnit)
        .ok_or_else(|| AccountError::invalid("orgs", "the demo register has no national unit"))?;
    let admin = Principal::new(
        "nrmp-demo",
        national.code.clone(),
        OrgKind::NationalUnit,
        vec![Role::Administrator],
        vec![],
    )?;
    let reason = "demo accounts";
    let mut out = Vec::new();
    for role in Role::ALL {
        let org = if matches!(role, Role::Researcher | Role::Administrator) {
            Some(national)
        } else {
            orgs.iter().find(|o| role.fits(o.kind))
        };
        let Some(org) = org else {
            continue;
        };
        let username = format!("{DEMO_PREFIX}{}", role.as_str().replace('_', "-"));
        let password = demo_password(accounts);
        let totp = match accounts.find_user(&username).await {
            Ok(existing) => {
                let update = UserUpdate {
                    password: Some(password.clone()),
                    reset_totp: role.reads_personal_data(),
                    disabled: Some(false),
                    unlock: true,
                    ..UserUpdate::default()
                };
                accounts
                    .update_user(&admin, reason, existing.id, update)
                    .await?
                    .totp
            }
            Err(AccountError::NotFound(_)) => {
                let input = NewUser {
                    username: username.clone(),
                    org: org.code.to_string(),
                    roles: vec![role.as_str().to_owned()],
                    clients: vec![],
                    password: password.clone(),
                };
                accounts.add_user(&admin, reason, input).await?.totp
            }
            Err(e) => return Err(e),
        };
        out.push(DemoSignIn {
            role,
            username,
            org: org.code.to_string(),
            password,
            totp_secret: totp.as_ref().map(|t| t.secret.clone()),
            otpauth_uri: totp.map(|t| t.otpauth_uri),
        });
    }
    Ok(out)
}

/// A random password of 16 lower-case letters and digits in groups of four (about 80 bits).
fn demo_password(accounts: &Accounts) -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = accounts.fork_rng();
    (0..4)
        .map(|_| {
            (0..4)
                .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("-")
}
