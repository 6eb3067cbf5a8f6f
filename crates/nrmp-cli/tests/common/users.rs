//! Register users for the command-line tests, added through the accounts service with cheap
//! password hashing: the commands that touch records act as one of them (`--as-user`).

use nrmp_app::accounts::{AccountSettings, Accounts, NewUser};
use nrmp_domain::access::{Principal, Role};
use nrmp_domain::account::{AccountPolicy, HashParams};
use nrmp_domain::clock::SystemClock;
use nrmp_domain::ids::PersonId;
use nrmp_domain::organisation::{OrgCode, OrgKind};
use nrmp_store::Store;
use std::sync::Arc;

/// Adds the register user `name` of organisation `org` with `role` (an advocate with
/// `clients`), as the national unit's administrator would.
pub async fn add_user(
    store: Arc<dyn Store>,
    name: &str,
    org: &str,
    role: Role,
    clients: &[PersonId],
) {
    let settings = AccountSettings {
        policy: AccountPolicy {
            hash: HashParams::FAST_INSECURE_FOR_TESTS,
            ..AccountPolicy::default()
        },
        secure_cookie: false,
        ..AccountSettings::default()
    };
    let accounts = Accounts::new(store, Arc::new(SystemClock), settings).unwrap();
    let admin = Principal::new(
        "test-setup",
        OrgCode::parse("org", "national:nmpu").unwrap(),
        OrgKind::NationalUnit,
        vec![Role::Administrator],
        vec![],
    )
    .unwrap();
    let user = NewUser {
        username: name.to_owned(),
        org: org.to_owned(),
        roles: vec![role.as_str().to_owned()],
        clients: clients.iter().map(ToString::to_string).collect(),
        password: "long enough passphrase 17".to_owned(),
    };
    accounts
        .add_user(&admin, "test set-up", user)
        .await
        .unwrap();
}
