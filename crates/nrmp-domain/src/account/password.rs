//! Passwords: the policy a new password must meet, and Argon2id hashing and verification.
//!
//! The policy follows NIST SP 800-63B: at least 8 and at most 128 characters, any Unicode
//! (normalised to NFKC before hashing, so the same password typed on two keyboards matches),
//! no composition rules, and refused if it is a known common password or the user name.

use crate::error::FieldError;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::collections::HashSet;
use std::fmt;
use std::sync::OnceLock;
use unicode_normalization::UnicodeNormalization;

use super::SecureRng;

/// The shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// The longest password accepted, in characters (long passphrases are welcome; this only bounds
/// the hashing work an attacker can ask for).
pub const MAX_PASSWORD_CHARS: usize = 128;

/// The common-password list (see the file's header for where it comes from).
const COMMON_PASSWORDS: &str = include_str!("../../data/common-passwords.txt");

fn common_passwords() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        COMMON_PASSWORDS
            .lines()
            .filter(|l| !l.starts_with("## ") && *l != "##" && !l.is_empty())
            .collect()
    })
}

/// How many entries the embedded common-password list has.
pub fn common_password_count() -> usize {
    common_passwords().len()
}

/// A password that meets the policy, normalised to NFKC. Never printed: `Debug` shows `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Checks a new password given in `field` against the policy. `username`, when given, may
    /// not be used as the password.
    pub fn parse(field: &str, s: &str, username: Option<&str>) -> Result<Self, FieldError> {
        let normal: String = s.nfkc().collect();
        let n = normal.chars().count();
        if n < MIN_PASSWORD_CHARS {
            return Err(FieldError::new(
                field,
                format!("is too short: use at least {MIN_PASSWORD_CHARS} characters"),
            ));
        }
        if n > MAX_PASSWORD_CHARS {
            return Err(FieldError::new(
                field,
                format!("is too long: use at most {MAX_PASSWORD_CHARS} characters"),
            ));
        }
        if normal.chars().any(char::is_control) {
            return Err(FieldError::new(field, "contains a control character"));
        }
        let folded = normal.trim().to_lowercase();
        if common_passwords().contains(folded.as_str()) {
            return Err(FieldError::new(
                field,
                "is one of the most common passwords, which attackers try first; choose another",
            ));
        }
        if username.is_some_and(|u| u.trim().to_lowercase() == folded) {
            return Err(FieldError::new(field, "may not be the user name"));
        }
        Ok(Self(normal))
    }

    /// The password (normalised).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Iterations.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl HashParams {
    /// OWASP's recommended minimum for Argon2id (Password Storage Cheat Sheet): 19 MiB of
    /// memory, 2 iterations, 1 lane.
    pub const OWASP: Self = Self {
        memory_kib: 19 * 1024,
        iterations: 2,
        parallelism: 1,
    };

    /// Cheap parameters, for tests only (the hash is still Argon2id; only the cost differs).
    pub const FAST_INSECURE_FOR_TESTS: Self = Self {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };

    fn hasher(self) -> Result<Argon2<'static>, FieldError> {
        let params = Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|e| FieldError::new("password_hash", format!("bad Argon2 parameters: {e}")))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

impl Default for HashParams {
    fn default() -> Self {
        Self::OWASP
    }
}

/// An Argon2id hash in PHC string form (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`), which carries
/// its own parameters and salt. `Debug` hides the hash.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Hashes `password` with a fresh 16-byte salt from `rng`.
    pub fn new(
        password: &Password,
        params: HashParams,
        rng: &mut dyn SecureRng,
    ) -> Result<Self, FieldError> {
        let mut salt = [0u8; 16];
        rng.fill_bytes(&mut salt);
        let salt = SaltString::encode_b64(&salt)
            .map_err(|e| FieldError::new("password_hash", format!("salt: {e}")))?;
        let hash = params
            .hasher()?
            .hash_password(password.expose().as_bytes(), &salt)
            .map_err(|e| FieldError::new("password_hash", e.to_string()))?;
        Ok(Self(hash.to_string()))
    }

    /// Reads a stored hash; only Argon2id PHC strings are accepted.
    pub fn parse(field: &str, s: &str) -> Result<Self, FieldError> {
        if !s.starts_with("$argon2id$") {
            return Err(FieldError::new(field, "is not an Argon2id hash"));
        }
        let parsed = argon2::password_hash::PasswordHash::new(s)
            .map_err(|e| FieldError::new(field, format!("is not a valid PHC string: {e}")))?;
        if parsed.salt.is_none() || parsed.hash.is_none() {
            return Err(FieldError::new(field, "has no salt or no hash"));
        }
        Ok(Self(s.to_owned()))
    }

    /// True if `candidate` (as typed; normalised here the same way as when hashed) matches.
    /// Takes the hash's own time whether or not it matches.
    pub fn verify(&self, candidate: &str) -> bool {
        let normal: String = candidate.nfkc().collect();
        match argon2::password_hash::PasswordHash::new(&self.0) {
            Ok(parsed) => Argon2::default()
                .verify_password(normal.as_bytes(), &parsed)
                .is_ok(),
            Err(_) => false,
        }
    }

    /// The PHC string, to store.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// A seeded CSPRNG (rand's StdRng is ChaCha12), so tests are reproducible.
    fn rng() -> rand::rngs::StdRng {
        rand::rngs::StdRng::seed_from_u64(1)
    }

    #[test]
    fn short_passwords_are_refused_naming_the_field() {
        let e = Password::parse("password", "Tr0ub4!", None).unwrap_err();
        assert_eq!(e.field, "password");
        assert!(e.problem.contains("at least 8"), "{e}");
        // eight characters are enough, however plain
        assert!(Password::parse("password", "vkq mrzt", None).is_ok());
    }

    #[test]
    fn common_passwords_are_refused_whatever_their_case() {
        assert!(
            common_password_count() > 8000,
            "{}",
            common_password_count()
        );
        for p in [
            "password",
            "PassWord1",
            "12345678",
            "iloveyou1",
            " qwertyuiop ",
        ] {
            let e = Password::parse("password", p, None).unwrap_err();
            assert!(e.problem.contains("common"), "{p}: {e}");
        }
    }

    #[test]
    fn no_composition_rules_and_long_or_unicode_passwords_are_fine() {
        // all lower case, no digits: fine if long and uncommon
        assert!(Password::parse("p", "correct horse battery staple", None).is_ok());
        let long = "x".repeat(60) + "long passphrase";
        assert!(Password::parse("p", &long, None).is_ok());
        assert!(Password::parse("p", &"y".repeat(MAX_PASSWORD_CHARS), None).is_ok());
        let e = Password::parse("p", &"y".repeat(MAX_PASSWORD_CHARS + 1), None).unwrap_err();
        assert!(e.problem.contains("at most 128"), "{e}");
        // characters, not bytes: eight Vietnamese letters are eight characters
        assert!(Password::parse("p", "Nguyễn Đức Anh", None).is_ok());
        assert!(Password::parse("p", "ĐứcĐứcĐ", None).is_err()); // seven
        assert!(Password::parse("p", "ĐứcĐứcĐứ", None).is_ok()); // eight
        assert!(Password::parse("p", "пароль-зима-река", None).is_ok());
    }

    #[test]
    fn the_user_name_and_control_characters_are_refused() {
        let e = Password::parse("p", "Sam.Taylor", Some("sam.taylor")).unwrap_err();
        assert!(e.problem.contains("user name"), "{e}");
        assert!(Password::parse("p", "abc\u{7}defghij", None).is_err());
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let p = Password::parse("p", "vkq mrzt plod", None).unwrap();
        assert!(!format!("{p:?}").contains("vkq"));
        let h = PasswordHash::new(&p, HashParams::FAST_INSECURE_FOR_TESTS, &mut rng()).unwrap();
        assert!(!format!("{h:?}").contains("argon2"));
    }

    #[test]
    fn argon2id_round_trip() {
        let p = Password::parse("p", "vkq mrzt plod", None).unwrap();
        let h = PasswordHash::new(&p, HashParams::FAST_INSECURE_FOR_TESTS, &mut rng()).unwrap();
        assert!(
            h.as_str().starts_with("$argon2id$v=19$m=64,t=1,p=1$"),
            "{}",
            h.as_str()
        );
        assert!(h.verify("vkq mrzt plod"));
        assert!(!h.verify("vkq mrzt plod "));
        assert!(!h.verify("VKQ MRZT PLOD"));
        // a second hash of the same password has another salt
        let h2 = PasswordHash::new(&p, HashParams::FAST_INSECURE_FOR_TESTS, &mut rng()).unwrap();
        let mut other = rand::rngs::StdRng::seed_from_u64(2);
        let h3 = PasswordHash::new(&p, HashParams::FAST_INSECURE_FOR_TESTS, &mut other).unwrap();
        assert_eq!(h, h2, "same seed, same salt");
        assert_ne!(h, h3);
        assert!(h3.verify("vkq mrzt plod"));
        // stored and read back
        let back = PasswordHash::parse("password_hash", h.as_str()).unwrap();
        assert!(back.verify("vkq mrzt plod"));
    }

    #[test]
    fn owasp_parameters_are_the_default_and_are_recorded_in_the_hash() {
        assert_eq!(HashParams::default(), HashParams::OWASP);
        let p = Password::parse("p", "vkq mrzt plod", None).unwrap();
        let h = PasswordHash::new(&p, HashParams::OWASP, &mut rng()).unwrap();
        assert!(
            h.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{}",
            h.as_str()
        );
        assert!(h.verify("vkq mrzt plod"));
    }

    #[test]
    fn composed_and_decomposed_unicode_match() {
        let composed = "café-terrasse"; // é as one code point
        let decomposed = "cafe\u{301}-terrasse"; // e + combining acute
        let p = Password::parse("p", composed, None).unwrap();
        let h = PasswordHash::new(&p, HashParams::FAST_INSECURE_FOR_TESTS, &mut rng()).unwrap();
        assert!(h.verify(decomposed));
    }

    #[test]
    fn only_argon2id_hashes_are_read() {
        assert!(PasswordHash::parse("h", "$2b$12$abcdefghijklmnopqrstuv").is_err());
        assert!(PasswordHash::parse("h", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaA").is_err());
        assert!(PasswordHash::parse("h", "$argon2id$garbage").is_err());
    }
}
