//! The second factor: time-based one-time passwords (RFC 6238; SHA-1, 6 digits, 30-second
//! steps, one step of clock drift either way), as every authenticator app understands them.
//!
//! A code is accepted once: the step it belongs to is remembered, and a code from that step or
//! an earlier one is refused, so a code seen over someone's shoulder cannot be replayed.

use super::SecureRng;
use crate::error::FieldError;
use chrono::{DateTime, Utc};
use std::fmt;
use totp_rs::{Algorithm, Secret, TOTP};

/// Seconds per code.
pub const TOTP_STEP_SECS: u64 = 30;
/// Digits per code.
pub const TOTP_DIGITS: usize = 6;
/// Steps of drift accepted either side of the current one.
pub const TOTP_SKEW: i64 = 1;
/// Secret length in bytes (160 bits, as RFC 4226 recommends).
pub const TOTP_SECRET_BYTES: usize = 20;

/// Why a code was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TotpError {
    /// Not the code for this moment (or not six digits).
    #[error("wrong code")]
    Wrong,
    /// The code was right but was already used.
    #[error("code already used")]
    Replayed,
}

/// A user's TOTP secret. `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Vec<u8>);

impl TotpSecret {
    /// A fresh random secret.
    pub fn generate(rng: &mut dyn SecureRng) -> Self {
        let mut bytes = vec![0u8; TOTP_SECRET_BYTES];
        rng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// Reads a base32 secret (RFC 4648, as authenticator apps show it; spaces and case are
    /// ignored).
    pub fn from_base32(field: &str, s: &str) -> Result<Self, FieldError> {
        let clean: String = s
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase()
            .trim_end_matches('=')
            .to_owned();
        let bytes = Secret::Encoded(clean)
            .to_bytes()
            .map_err(|_| FieldError::new(field, "is not a base32 TOTP secret"))?;
        if bytes.len() < 16 {
            return Err(FieldError::new(
                field,
                "is shorter than 128 bits; RFC 4226 requires at least that",
            ));
        }
        Ok(Self(bytes))
    }

    /// The secret in base32, to store or to type into an authenticator app.
    pub fn to_base32(&self) -> String {
        self.totp("x").get_secret_base32()
    }

    fn totp(&self, account: &str) -> TOTP {
        TOTP::new_unchecked(
            Algorithm::SHA1,
            TOTP_DIGITS,
            TOTP_SKEW as u8,
            TOTP_STEP_SECS,
            self.0.clone(),
            Some("nrmp".to_owned()),
            account.to_owned(),
        )
    }

    /// The `otpauth://` URI an authenticator app enrols from (often shown as a QR code).
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> String {
        let mut t = self.totp(account);
        t.issuer = Some(issuer.to_owned());
        t.get_url()
    }

    /// The step (30-second slot since the Unix epoch) that `at` falls in.
    pub fn step_at(at: DateTime<Utc>) -> i64 {
        at.timestamp().div_euclid(TOTP_STEP_SECS as i64)
    }

    /// The code for the step `at` falls in.
    pub fn code_at(&self, at: DateTime<Utc>) -> String {
        let secs = u64::try_from(Self::step_at(at)).unwrap_or(0) * TOTP_STEP_SECS;
        self.totp("x").generate(secs)
    }

    /// Checks `code` at `at`, refusing any code from step `last_used` or earlier. Returns the
    /// step the code belongs to, to be remembered as the new `last_used`.
    pub fn verify(
        &self,
        code: &str,
        at: DateTime<Utc>,
        last_used: Option<i64>,
    ) -> Result<i64, TotpError> {
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if code.len() != TOTP_DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(TotpError::Wrong);
        }
        let now = Self::step_at(at);
        let totp = self.totp("x");
        // Compare with every step in the window (no early exit), in constant time each.
        let mut matched: Option<i64> = None;
        for step in now - TOTP_SKEW..=now + TOTP_SKEW {
            let Ok(secs) = u64::try_from(step) else {
                continue;
            };
            let expected = totp.generate(secs * TOTP_STEP_SECS);
            if constant_time_eq(expected.as_bytes(), code.as_bytes()) && matched.is_none() {
                matched = Some(step);
            }
        }
        match matched {
            None => Err(TotpError::Wrong),
            Some(step) if last_used.is_some_and(|last| step <= last) => Err(TotpError::Replayed),
            Some(step) => Ok(step),
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use rand::SeedableRng;

    /// RFC 6238 appendix B's SHA-1 key ("12345678901234567890").
    fn rfc_secret() -> TotpSecret {
        TotpSecret(b"12345678901234567890".to_vec())
    }

    fn t(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(secs, 0).unwrap()
    }

    #[test]
    fn rfc_6238_test_vectors() {
        // RFC 6238 appendix B, SHA-1, truncated to 6 digits (the last six of the 8-digit codes)
        for (secs, code8) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
        ] {
            assert_eq!(rfc_secret().code_at(t(secs)), &code8[2..], "at {secs}");
        }
    }

    #[test]
    fn codes_are_accepted_one_step_either_side_and_no_further() {
        let s = rfc_secret();
        let base = 1_234_567_890 / 30 * 30; // start of a step
        let code = s.code_at(t(base));
        let step = TotpSecret::step_at(t(base));
        // the whole of its own step
        assert_eq!(s.verify(&code, t(base), None), Ok(step));
        assert_eq!(s.verify(&code, t(base + 29), None), Ok(step));
        // the previous step's code is still good in the next step (clock drift)…
        assert_eq!(s.verify(&code, t(base + 30), None), Ok(step));
        assert_eq!(s.verify(&code, t(base + 59), None), Ok(step));
        // …but not two steps on
        assert_eq!(s.verify(&code, t(base + 60), None), Err(TotpError::Wrong));
        // and a code from the next step is accepted a step early, not two
        assert_eq!(s.verify(&code, t(base - 1), None), Ok(step));
        assert_eq!(s.verify(&code, t(base - 30), None), Ok(step));
        assert_eq!(s.verify(&code, t(base - 31), None), Err(TotpError::Wrong));
    }

    #[test]
    fn a_used_code_cannot_be_replayed() {
        let s = rfc_secret();
        let now = t(1_700_000_010);
        let code = s.code_at(now);
        let step = s.verify(&code, now, None).unwrap();
        assert_eq!(
            s.verify(&code, now + chrono::Duration::seconds(5), Some(step)),
            Err(TotpError::Replayed)
        );
        // an older code inside the window is refused too once a newer one was used
        let prev = s.code_at(now - chrono::Duration::seconds(30));
        assert_eq!(s.verify(&prev, now, Some(step)), Err(TotpError::Replayed));
        // the next step's code is fine
        let later = now + chrono::Duration::seconds(30);
        assert_eq!(s.verify(&s.code_at(later), later, Some(step)), Ok(step + 1));
    }

    #[test]
    fn malformed_codes_are_wrong() {
        let s = rfc_secret();
        for c in ["", "12345", "1234567", "abcdef", "12 34 5x"] {
            assert_eq!(s.verify(c, t(59), None), Err(TotpError::Wrong), "{c}");
        }
        // spaces inside are tolerated, as apps show "287 082"
        assert!(s.verify("287 082", t(59), None).is_ok());
    }

    #[test]
    fn secrets_round_trip_through_base32_and_the_otpauth_uri() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(9);
        let s = TotpSecret::generate(&mut rng);
        let b32 = s.to_base32();
        assert_eq!(b32.len(), 32); // 160 bits
        assert_eq!(TotpSecret::from_base32("totp", &b32).unwrap(), s);
        assert_eq!(
            TotpSecret::from_base32("totp", &b32.to_lowercase()).unwrap(),
            s
        );
        let uri = s.otpauth_uri("nrmp", "kent.handler");
        assert!(
            uri.starts_with("otpauth://totp/nrmp:kent.handler?"),
            "{uri}"
        );
        assert!(uri.contains(&format!("secret={b32}")), "{uri}");
        assert!(uri.contains("issuer=nrmp"), "{uri}");
        assert_ne!(TotpSecret::generate(&mut rng), s);
        assert!(!format!("{s:?}").contains(&b32));
        let e = TotpSecret::from_base32("totp_secret", "not base32!").unwrap_err();
        assert_eq!(e.field, "totp_secret");
        assert!(TotpSecret::from_base32("t", "GEZDGNBV").is_err()); // 40 bits
    }
}
