//! What sign-in costs: Argon2id hashing and verification with the production (OWASP)
//! parameters, and the cheap checks beside them (TOTP, token hashing). Prints the figures.
//!
//! ```sh
//! cargo run --release -p nrmp-domain --example account_costs
//! ```

use nrmp_domain::account::{HashParams, Password, PasswordHash, TokenHash, TotpSecret};
use rand::SeedableRng;
use std::time::Instant;

fn time<T>(label: &str, n: u32, mut f: impl FnMut() -> T) {
    let _warm = f();
    let start = Instant::now();
    for _ in 0..n {
        std::hint::black_box(f());
    }
    let per = start.elapsed() / n;
    let rate = 1.0 / per.as_secs_f64();
    println!("{label:<44} {per:>12.2?} each  ({rate:>10.0} per second, one core)");
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let pw = Password::parse("password", "plum orchard 42", None)?;
    let p = HashParams::OWASP;
    println!(
        "Argon2id m={} KiB, t={}, p={}",
        p.memory_kib, p.iterations, p.parallelism
    );
    let hash = PasswordHash::new(&pw, p, &mut rng)?;
    time("hash a new password", 20, || {
        PasswordHash::new(&pw, p, &mut rng).map(|h| h.as_str().len())
    });
    time("verify a password (right)", 20, || {
        hash.verify("plum orchard 42")
    });
    time("verify a password (wrong)", 20, || {
        hash.verify("plum orchard 43")
    });
    time("check a new password against the policy", 10_000, || {
        Password::parse("password", "correct horse battery", None).is_ok()
    });
    let secret = TotpSecret::generate(&mut rng);
    let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
    let code = secret.code_at(now);
    time("verify a TOTP code (3 steps compared)", 10_000, || {
        secret.verify(&code, now, None).is_ok()
    });
    time("hash a bearer token (SHA-256)", 100_000, || {
        TokenHash::of("nrmp_s_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
    });
    Ok(())
}
