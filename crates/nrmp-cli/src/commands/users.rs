//! `nrmp users`: user accounts from the command line — add, disable, enable, reset, list, API
//! tokens, and a current second-factor code for demo accounts.
//!
//! The command acts as an administrator of the `--as-org` organisation (default: the national
//! unit, which may administer every organisation), through the same accounts service and
//! need-to-know policy as the HTTP API, so every change is audited the same way. Passwords
//! are never taken on the command line: they are prompted for (without echo) or read from
//! standard input with `--password-stdin`.

use crate::{ActorArgs, DatabaseArg};
use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use nrmp_domain::access::{Principal, Role};
use nrmp_domain::account::TokenId;
use nrmp_domain::clock::Clock;
use nrmp_domain::organisation::OrgCode;
use nrmp_server::accounts::{
    AccountSettings, Accounts, DEMO_PREFIX, DemoSignIn, NewUser, TotpEnrolment, UserView,
    create_demo_users,
};
use std::io::{BufRead, IsTerminal};
use std::sync::Arc;

/// `nrmp users` subcommands.
#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Add a user to an organisation with one or more roles. Prints the second-factor secret
    /// to hand to them when a role reads personal data.
    Add(AddArgs),
    /// Disable a user: they cannot sign in, their sessions end, their API tokens stop working.
    Disable(UserArgs),
    /// Enable a disabled user.
    Enable(UserArgs),
    /// Set a new password (clears a lock-out, ends sessions); `--totp` also enrols a new
    /// second factor.
    Reset(ResetArgs),
    /// List the users of an organisation.
    List(ListArgs),
    /// API tokens for system-to-system use.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Print the current second-factor code of a demo account (`demo.*` users only).
    TotpCode(TotpCodeArgs),
}

/// The register and who is acting.
#[derive(Debug, Args)]
pub struct Common {
    /// The register.
    #[command(flatten)]
    pub db: DatabaseArg,
    /// Who is acting, for the audit log (an administrator of `--as-org`).
    #[command(flatten)]
    pub actor: ActorArgs,
}

/// Arguments of `nrmp users add`.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// User name (letters, digits, `.`, `-`, `_`).
    #[arg(long)]
    pub username: String,
    /// The organisation's code, e.g. `force:kent`.
    #[arg(long = "org")]
    pub organisation: String,
    /// A role (repeat for several): call_handler, missing_person_coordinator, patrol_officer,
    /// missing_from_care_lead, social_worker, national_analyst, advocate, researcher,
    /// administrator.
    #[arg(long = "role", required = true)]
    pub roles: Vec<String>,
    /// An advocate's client (a person id; repeat for several).
    #[arg(long = "client")]
    pub clients: Vec<String>,
    /// Read the password from the first line of standard input instead of prompting.
    #[arg(long)]
    pub password_stdin: bool,
    /// The register and who is acting.
    #[command(flatten)]
    pub common: Common,
}

/// A user to act on.
#[derive(Debug, Args)]
pub struct UserArgs {
    /// User name.
    #[arg(long = "user")]
    pub username: String,
    /// The register and who is acting.
    #[command(flatten)]
    pub common: Common,
}

/// Arguments of `nrmp users reset`.
#[derive(Debug, Args)]
pub struct ResetArgs {
    /// User name.
    #[arg(long = "user")]
    pub username: String,
    /// Also enrol a new second factor (prints it).
    #[arg(long)]
    pub totp: bool,
    /// Read the new password from the first line of standard input instead of prompting.
    #[arg(long)]
    pub password_stdin: bool,
    /// The register and who is acting.
    #[command(flatten)]
    pub common: Common,
}

/// Arguments of `nrmp users list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// The organisation (default: `--as-org`).
    #[arg(long = "org")]
    pub organisation: Option<String>,
    /// The register and who is acting.
    #[command(flatten)]
    pub common: Common,
}

/// `nrmp users token` subcommands.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Issue an API token owned by a user; the token is printed once.
    Create(TokenCreateArgs),
    /// Revoke an API token.
    Revoke(TokenRevokeArgs),
    /// List an organisation's API tokens.
    List(ListArgs),
}

/// Arguments of `nrmp users token create`.
#[derive(Debug, Args)]
pub struct TokenCreateArgs {
    /// The user the token acts as.
    #[arg(long = "user")]
    pub username: String,
    /// What uses the token, e.g. "Kent Niche nightly feed".
    #[arg(long)]
    pub name: String,
    /// A role the token may act with (repeat; default: all the user's roles).
    #[arg(long = "scope")]
    pub scopes: Vec<String>,
    /// Days until it expires (default: never).
    #[arg(long)]
    pub expires_in_days: Option<u32>,
    /// The register and who is acting.
    #[command(flatten)]
    pub common: Common,
}

/// Arguments of `nrmp users token revoke`.
#[derive(Debug, Args)]
pub struct TokenRevokeArgs {
    /// The token's id (from `token create` or `token list`).
    pub id: String,
    /// The register and who is acting.
    #[command(flatten)]
    pub common: Common,
}

/// Arguments of `nrmp users totp-code`.
#[derive(Debug, Args)]
pub struct TotpCodeArgs {
    /// A demo user name (`demo.…`).
    #[arg(long = "user")]
    pub username: String,
    /// The register.
    #[command(flatten)]
    pub db: DatabaseArg,
}

/// Opens the register and the accounts service.
async fn accounts(db: &DatabaseArg, clock: Arc<dyn Clock>) -> anyhow::Result<Accounts> {
    let store = super::open_migrated(&db.database).await?;
    Ok(Accounts::new(store, clock, AccountSettings::default())?)
}

/// The acting administrator: `--as-user` for `--as-org`, holding the administrator role.
pub async fn acting(accounts: &Accounts, actor: &ActorArgs) -> anyhow::Result<Principal> {
    let org = OrgCode::parse("--as-org", &actor.org)?;
    let kind = accounts
        .store()
        .organisations()
        .await?
        .into_iter()
        .find(|o| o.code == org)
        .map(|o| o.kind)
        .with_context(|| format!("--as-org: `{org}` is not an organisation in the register"))?;
    Ok(Principal::new(
        actor.user.clone(),
        org,
        kind,
        vec![Role::Administrator],
        vec![],
    )?)
}

/// Reads a password: the first line of standard input, or a prompt (twice, without echo).
fn read_password(from_stdin: bool, what: &str) -> anyhow::Result<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        let pw = line.trim_end_matches(['\r', '\n']).to_owned();
        if pw.is_empty() {
            bail!("--password-stdin: standard input had no password");
        }
        return Ok(pw);
    }
    if !std::io::stdin().is_terminal() {
        bail!("no terminal to prompt for the password: use --password-stdin");
    }
    let first = rpassword::prompt_password(format!("{what}: "))?;
    let again = rpassword::prompt_password(format!("{what} again: "))?;
    if first != again {
        bail!("the two passwords differ");
    }
    Ok(first)
}

fn print_user(u: &UserView) {
    let roles: Vec<&str> = u.roles.iter().map(|r| r.as_str()).collect();
    let mut flags = Vec::new();
    if u.disabled {
        flags.push("disabled".to_owned());
    }
    if let Some(t) = u.locked_until {
        flags.push(format!(
            "sign-in throttled until {}",
            t.format("%Y-%m-%d %H:%M UTC")
        ));
    }
    if u.totp_required && !u.totp_enrolled {
        flags.push("second factor not enrolled".to_owned());
    }
    println!(
        "{:<28} {:<22} {:<40} {}",
        u.username.as_str(),
        u.org.as_str(),
        roles.join(","),
        flags.join("; ")
    );
}

fn print_totp(t: &TotpEnrolment) {
    println!("second factor (give to the user once; it is not shown again):");
    println!("  secret       {}", t.secret);
    println!("  otpauth URI  {}", t.otpauth_uri);
}

/// Creates (or resets) the demo accounts of a demo register: one per role (see
/// [`nrmp_server::accounts::create_demo_users`]). For `nrmp demo`.
pub async fn demo_accounts(
    store: Arc<dyn nrmp_store::Store>,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Vec<DemoSignIn>> {
    let orgs = store.organisations().await?;
    let acc = Accounts::new(store, clock, AccountSettings::default())?;
    Ok(create_demo_users(&acc, &orgs).await?)
}

/// The demo sign-ins as text to print: one line per role, with how to get a second-factor
/// code.
pub fn format_demo_sign_ins(sign_ins: &[DemoSignIn], database: &str) -> String {
    let mut out = String::from("demo sign-ins (synthetic register only; reset on every run):\n");
    for d in sign_ins {
        out.push_str(&format!(
            "  {:<28} {:<36} password {}{}\n",
            d.role.as_str(),
            format!("{} ({})", d.username, d.org),
            d.password,
            if d.totp_secret.is_some() {
                "  + code"
            } else {
                ""
            }
        ));
    }
    if sign_ins.iter().any(|d| d.totp_secret.is_some()) {
        out.push_str(&format!(
            "  \"+ code\": roles that read personal data need a second-factor code: \
             `{nrmp} users totp-code --database {database} --user NAME` prints the current one \
             (demo accounts only), or enrol the otpauth URI below in an authenticator app.\n",
            nrmp = crate::invocation::program()
        ));
        for d in sign_ins {
            if let Some(uri) = &d.otpauth_uri {
                out.push_str(&format!("    {:<28} {uri}\n", d.username));
            }
        }
    }
    out
}

/// Runs `nrmp users …`.
pub async fn run(cmd: UsersCommand, clock: Arc<dyn Clock>) -> anyhow::Result<()> {
    match cmd {
        UsersCommand::Add(a) => {
            let acc = accounts(&a.common.db, clock).await?;
            let by = acting(&acc, &a.common.actor).await?;
            let password = read_password(a.password_stdin, "password")?;
            let created = acc
                .add_user(
                    &by,
                    &a.common.actor.reason,
                    NewUser {
                        username: a.username,
                        org: a.organisation,
                        roles: a.roles,
                        clients: a.clients,
                        password,
                    },
                )
                .await?;
            println!(
                "added {} ({}) to {}",
                created.user.username.as_str(),
                created.user.id,
                created.user.org
            );
            if let Some(t) = &created.totp {
                print_totp(t);
            }
        }
        UsersCommand::Disable(a) => {
            let acc = accounts(&a.common.db, clock).await?;
            let by = acting(&acc, &a.common.actor).await?;
            let id = acc.find_user(&a.username).await?.id;
            let u = acc.disable(&by, &a.common.actor.reason, id).await?;
            println!("disabled {}", u.username.as_str());
        }
        UsersCommand::Enable(a) => {
            let acc = accounts(&a.common.db, clock).await?;
            let by = acting(&acc, &a.common.actor).await?;
            let id = acc.find_user(&a.username).await?.id;
            let u = acc.enable(&by, &a.common.actor.reason, id).await?;
            println!("enabled {}", u.username.as_str());
        }
        UsersCommand::Reset(a) => {
            let acc = accounts(&a.common.db, clock).await?;
            let by = acting(&acc, &a.common.actor).await?;
            let id = acc.find_user(&a.username).await?.id;
            let password = read_password(a.password_stdin, "new password")?;
            let changed = acc
                .reset_password(&by, &a.common.actor.reason, id, &password, a.totp)
                .await?;
            println!(
                "reset the password of {}; any lock-out is cleared and their sessions ended",
                changed.user.username.as_str()
            );
            if let Some(t) = &changed.totp {
                print_totp(t);
            }
        }
        UsersCommand::List(a) => {
            let acc = accounts(&a.common.db, clock).await?;
            let by = acting(&acc, &a.common.actor).await?;
            let org = a
                .organisation
                .map(|o| OrgCode::parse("--org", &o))
                .transpose()?;
            let users = acc.list_users(&by, org.as_ref()).await?;
            for u in &users {
                print_user(u);
            }
            println!("{} users", users.len());
        }
        UsersCommand::Token(TokenCommand::Create(a)) => {
            let acc = accounts(&a.common.db, clock.clone()).await?;
            let by = acting(&acc, &a.common.actor).await?;
            let owner = acc.find_user(&a.username).await?;
            let expires = a
                .expires_in_days
                .map(|d| clock.now() + chrono::Duration::days(i64::from(d)));
            let issued = acc
                .create_token(
                    &by,
                    &a.common.actor.reason,
                    Some(owner.id),
                    &a.name,
                    &a.scopes,
                    expires,
                )
                .await?;
            let scopes: Vec<&str> = issued.token.scopes.iter().map(|r| r.as_str()).collect();
            println!(
                "issued token {} for {} (scopes: {}; expires: {})",
                issued.token.id,
                owner.username.as_str(),
                scopes.join(","),
                issued
                    .token
                    .expires_at
                    .map_or_else(|| "never".to_owned(), |t| t.to_rfc3339())
            );
            println!("token (shown once; send it as `Authorization: Bearer …`):");
            println!("{}", issued.secret.expose());
        }
        UsersCommand::Token(TokenCommand::Revoke(a)) => {
            let acc = accounts(&a.common.db, clock).await?;
            let by = acting(&acc, &a.common.actor).await?;
            let id = TokenId::parse("id", &a.id)?;
            let t = acc.revoke_token(&by, &a.common.actor.reason, id).await?;
            println!("revoked token {} ({})", t.id, t.name);
        }
        UsersCommand::Token(TokenCommand::List(a)) => {
            let acc = accounts(&a.common.db, clock).await?;
            let by = acting(&acc, &a.common.actor).await?;
            let org = match a.organisation {
                Some(o) => OrgCode::parse("--org", &o)?,
                None => by.org().clone(),
            };
            let tokens = acc.list_tokens(&by, Some(&org)).await?;
            for t in &tokens {
                let scopes: Vec<&str> = t.scopes.iter().map(|r| r.as_str()).collect();
                let state = match (t.revoked_at, t.expires_at) {
                    (Some(r), _) => format!("revoked {}", r.format("%Y-%m-%d")),
                    (None, Some(e)) => format!("expires {}", e.format("%Y-%m-%d")),
                    (None, None) => "no expiry".to_owned(),
                };
                println!(
                    "{}  {:<30} {:<30} {}",
                    t.id,
                    t.name,
                    scopes.join(","),
                    state
                );
            }
            println!("{} tokens", tokens.len());
        }
        UsersCommand::TotpCode(a) => {
            if !a
                .username
                .trim()
                .to_ascii_lowercase()
                .starts_with(DEMO_PREFIX)
            {
                bail!("--user: codes are printed only for demo accounts ({DEMO_PREFIX}…)");
            }
            let acc = accounts(&a.db, clock.clone()).await?;
            let user = acc.find_user(&a.username).await?;
            let Some(secret) = &user.totp else {
                bail!(
                    "{} has no second factor (their roles do not need one)",
                    user.username
                );
            };
            println!("{}", secret.code_at(clock.now()));
        }
    }
    Ok(())
}
