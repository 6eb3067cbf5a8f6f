//! The audit log's hash chain: a canonical byte form of each event, the chained hash
//! `SHA-256(prev_hash || canonical(event))`, and a verifier that finds the first place where a
//! stored log stops matching its chain and says whether an event looks changed, removed or
//! moved.
//!
//! # Canonical form (version 1)
//!
//! The bytes hashed for an event are the tag `nrmp-audit-v1` followed by a NUL byte, then these
//! fields in this order, each as an 8-byte big-endian length followed by that many UTF-8 bytes:
//!
//! 1. `seq` in decimal ASCII (so an event cannot be moved to another position unnoticed);
//! 2. `at` as `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC, microseconds, as stored);
//! 3. the actor's user name; 4. the actor's organisation code; 5. the action's snake_case name;
//! 6. the record kind;
//! 7. the record ids: an 8-byte big-endian count, then each id as length + bytes;
//! 8. the stated reason; 9. the detail.
//!
//! Length prefixes make the encoding unambiguous (no separator can be forged inside a field).
//! The hash of the first event uses [`GENESIS`] (32 zero bytes) as its previous hash. Hashes are
//! stored and compared as 64 lowercase hexadecimal characters.
//!
//! A chain kept in the same database as its log detects edits made with ordinary SQL (a changed
//! reason, a deleted or swapped row); someone able to rewrite every later hash and the head can
//! forge a consistent log. Recording the head (seq and hash, printed by `nrmp audit verify`)
//! somewhere else from time to time anchors the log up to that point.

use super::AuditEvent;
use sha2::{Digest, Sha256};
use std::fmt;

/// The previous hash of the first event: 32 zero bytes.
pub const GENESIS: [u8; 32] = [0; 32];

/// The tag that starts every canonical form (names the layout's version).
const TAG: &[u8] = b"nrmp-audit-v1\0";

/// [`GENESIS`] as stored (hex).
pub fn genesis_hex() -> String {
    to_hex(&GENESIS)
}

fn field(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// The canonical bytes of an event (see the module documentation for the layout).
pub fn canonical(e: &AuditEvent) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 + e.detail.len() + e.record_ids.len() * 40);
    out.extend_from_slice(TAG);
    field(&mut out, e.seq.to_string().as_bytes());
    field(
        &mut out,
        e.at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string().as_bytes(),
    );
    field(&mut out, e.actor.user.as_bytes());
    field(&mut out, e.actor.org.to_string().as_bytes());
    field(&mut out, e.action.as_str().as_bytes());
    field(&mut out, e.record_kind.as_bytes());
    out.extend_from_slice(&(e.record_ids.len() as u64).to_be_bytes());
    for id in &e.record_ids {
        field(&mut out, id.as_bytes());
    }
    field(&mut out, e.reason.as_bytes());
    field(&mut out, e.detail.as_bytes());
    out
}

/// `SHA-256(prev || canonical(e))`.
pub fn link_hash(prev: &[u8; 32], e: &AuditEvent) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(canonical(e));
    h.finalize().into()
}

/// The hash of `e` chained after the stored (hex) hash `prev_hex`; `None` if `prev_hex` is not
/// a well-formed hash.
pub fn link_hash_hex(prev_hex: &str, e: &AuditEvent) -> Option<String> {
    from_hex(prev_hex).map(|prev| to_hex(&link_hash(&prev, e)))
}

/// Lowercase hexadecimal.
pub fn to_hex(bytes: &[u8; 32]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(64);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

/// Parses 64 lowercase hexadecimal characters.
pub fn from_hex(s: &str) -> Option<[u8; 32]> {
    let b = s.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = (nibble(b[2 * i])? << 4) | nibble(b[2 * i + 1])?;
    }
    Some(out)
}

/// An event with the chain fields stored beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainedEvent {
    /// The event.
    pub event: AuditEvent,
    /// The stored hash of the event before it (hex; [`GENESIS`] for the first).
    pub prev_hash: String,
    /// The stored hash of this event (hex).
    pub hash: String,
}

impl ChainedEvent {
    /// Chains `event` after `prev_hash` (hex), computing its hash. `None` if `prev_hash` is
    /// not a well-formed hash.
    pub fn link(event: AuditEvent, prev_hash: &str) -> Option<Self> {
        let hash = link_hash_hex(prev_hash, &event)?;
        Some(Self {
            event,
            prev_hash: prev_hash.to_owned(),
            hash,
        })
    }
}

/// The end of the chain: the last event's seq and hash (seq 0 and [`GENESIS`] when empty).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ChainHead {
    /// The last event's position.
    pub seq: i64,
    /// The last event's hash (hex).
    pub hash: String,
}

impl ChainHead {
    /// The head of an empty log.
    pub fn empty() -> Self {
        Self {
            seq: 0,
            hash: genesis_hex(),
        }
    }
}

/// What a break in the chain looks like.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum BreakKind {
    /// The event's content no longer matches its hash (or its hash was recomputed, which the
    /// next event's link shows).
    Changed,
    /// Events are missing: seqs `seq ..= last` are gone.
    Removed {
        /// The last missing seq.
        last: i64,
    },
    /// The event is intact but not where it was written (rows moved or swapped).
    Reordered,
}

/// The first place where a stored log does not match its chain.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ChainBreak {
    /// The first seq at which the log breaks (for a removal, the first missing seq).
    pub seq: i64,
    /// What it looks like.
    pub kind: BreakKind,
}

impl fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            BreakKind::Changed => write!(
                f,
                "audit chain broken at seq {}: the event was changed after it was written",
                self.seq
            ),
            BreakKind::Removed { last } if *last == self.seq => write!(
                f,
                "audit chain broken at seq {}: the event was removed",
                self.seq
            ),
            BreakKind::Removed { last } => write!(
                f,
                "audit chain broken at seq {}: events {}..={} were removed",
                self.seq, self.seq, last
            ),
            BreakKind::Reordered => write!(
                f,
                "audit chain broken at seq {}: the event is out of place (rows moved or swapped)",
                self.seq
            ),
        }
    }
}

impl std::error::Error for ChainBreak {}

/// Checks a log one event at a time, oldest first, so a store can stream it in pages.
#[derive(Debug, Clone)]
pub struct Verifier {
    prev_seq: i64,
    prev_hash: String,
    count: u64,
}

impl Default for Verifier {
    fn default() -> Self {
        Self::new()
    }
}

impl Verifier {
    /// A verifier at the start of the log.
    pub fn new() -> Self {
        Self {
            prev_seq: 0,
            prev_hash: genesis_hex(),
            count: 0,
        }
    }

    /// How many events have verified so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Checks the next event (events must come in ascending seq order).
    pub fn push(&mut self, e: &ChainedEvent) -> Result<(), ChainBreak> {
        let seq = e.event.seq;
        let linked = e.prev_hash == self.prev_hash;
        let intact = link_hash_hex(&e.prev_hash, &e.event).as_deref() == Some(e.hash.as_str());
        let gap = seq > self.prev_seq + 1;
        let broken = |seq, kind| Err(ChainBreak { seq, kind });
        match (linked, intact) {
            (true, true) => {
                self.prev_seq = seq;
                self.prev_hash.clone_from(&e.hash);
                self.count += 1;
                Ok(())
            }
            (true, false) => broken(seq, BreakKind::Changed),
            (false, _) if gap => broken(self.prev_seq + 1, BreakKind::Removed { last: seq - 1 }),
            // Intact in itself but not linked to the event before it: that event was
            // changed and its hash recomputed to hide it.
            (false, true) if self.count > 0 => broken(self.prev_seq, BreakKind::Changed),
            (false, true) => broken(seq, BreakKind::Changed),
            // Neither linked nor matching its own hash at this position: content that was
            // written elsewhere in the log.
            (false, false) => broken(seq, BreakKind::Reordered),
        }
    }

    /// Ends verification, checking that the log ends where the stored head says: events
    /// deleted from the end leave no later event to notice them.
    pub fn finish(self, head: &ChainHead) -> Result<ChainHead, ChainBreak> {
        if self.prev_seq < head.seq {
            return Err(ChainBreak {
                seq: self.prev_seq + 1,
                kind: BreakKind::Removed { last: head.seq },
            });
        }
        if self.prev_seq > head.seq {
            // Events after the head were not appended through the chain.
            return Err(ChainBreak {
                seq: head.seq + 1,
                kind: BreakKind::Changed,
            });
        }
        if self.prev_hash != head.hash {
            return Err(ChainBreak {
                seq: self.prev_seq,
                kind: BreakKind::Changed,
            });
        }
        Ok(ChainHead {
            seq: self.prev_seq,
            hash: self.prev_hash,
        })
    }
}

/// Verifies a whole log (oldest first) against its head: `Ok(count)` or the first break.
pub fn verify<'a>(
    events: impl IntoIterator<Item = &'a ChainedEvent>,
    head: &ChainHead,
) -> Result<u64, ChainBreak> {
    let mut v = Verifier::new();
    for e in events {
        v.push(e)?;
    }
    let n = v.count();
    v.finish(head)?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{Actor, AuditAction};
    use crate::organisation::OrgCode;
    use chrono::{TimeZone, Utc};

    fn event(seq: i64, reason: &str) -> AuditEvent {
        AuditEvent {
            seq,
            at: Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).single().unwrap()
                + chrono::Duration::microseconds(seq * 1_000_001),
            actor: Actor::new("pc.test", OrgCode::parse("org", "force:met").unwrap()),
            action: AuditAction::Read,
            record_kind: "person".into(),
            record_ids: vec![format!("id-{seq}")],
            reason: reason.into(),
            detail: String::new(),
        }
    }

    fn chain(n: i64) -> (Vec<ChainedEvent>, ChainHead) {
        let mut prev = genesis_hex();
        let mut out = Vec::new();
        for seq in 1..=n {
            let c = ChainedEvent::link(event(seq, &format!("reason {seq}")), &prev).unwrap();
            prev.clone_from(&c.hash);
            out.push(c);
        }
        let head = ChainHead { seq: n, hash: prev };
        (out, head)
    }

    #[test]
    fn hex_round_trips_and_rejects_bad_input() {
        let bytes: [u8; 32] = std::array::from_fn(|i| (i * 7) as u8);
        assert_eq!(from_hex(&to_hex(&bytes)), Some(bytes));
        assert_eq!(from_hex("00"), None);
        assert_eq!(from_hex(&"g".repeat(64)), None);
        assert_eq!(from_hex(&"A".repeat(64)), None);
    }

    #[test]
    fn canonical_form_is_stable() {
        // Pinned: changing the layout would silently break every stored chain.
        let e = event(1, "encounter check");
        let c = ChainedEvent::link(e, &genesis_hex()).unwrap();
        assert_eq!(
            c.hash,
            to_hex(&{
                let mut h = Sha256::new();
                h.update(GENESIS);
                h.update(canonical(&c.event));
                h.finalize().into()
            })
        );
        let bytes = canonical(&c.event);
        assert!(bytes.starts_with(b"nrmp-audit-v1\0\0\0\0\0\0\0\0\x011"));
        assert!(
            bytes
                .windows(b"2026-03-01T12:00:01.000001Z".len())
                .any(|w| w == b"2026-03-01T12:00:01.000001Z")
        );
    }

    #[test]
    fn field_boundaries_cannot_be_shifted() {
        // "ab" + "c" and "a" + "bc" must hash differently.
        let mut a = event(1, "ab");
        a.detail = "c".into();
        let mut b = event(1, "a");
        b.detail = "bc".into();
        assert_ne!(canonical(&a), canonical(&b));
        let mut c = event(1, "x");
        c.record_ids = vec!["a,b".into()];
        let mut d = event(1, "x");
        d.record_ids = vec!["a".into(), "b".into()];
        assert_ne!(canonical(&c), canonical(&d));
    }

    #[test]
    fn an_intact_chain_verifies() {
        let (events, head) = chain(5);
        assert_eq!(verify(&events, &head), Ok(5));
        assert_eq!(verify(&[], &ChainHead::empty()), Ok(0));
    }

    #[test]
    fn a_changed_event_is_found() {
        let (mut events, head) = chain(5);
        events[2].event.reason = "nothing to see".into();
        assert_eq!(
            verify(&events, &head),
            Err(ChainBreak {
                seq: 3,
                kind: BreakKind::Changed
            })
        );
    }

    #[test]
    fn a_changed_event_with_its_hash_recomputed_is_found() {
        let (mut events, head) = chain(5);
        events[2].event.reason = "nothing to see".into();
        events[2].hash = link_hash_hex(&events[2].prev_hash, &events[2].event).unwrap();
        assert_eq!(
            verify(&events, &head),
            Err(ChainBreak {
                seq: 3,
                kind: BreakKind::Changed
            })
        );
    }

    #[test]
    fn removed_events_are_found_in_the_middle_at_the_start_and_at_the_end() {
        let (mut events, head) = chain(6);
        events.drain(2..4);
        let err = verify(&events, &head).unwrap_err();
        assert_eq!(
            err,
            ChainBreak {
                seq: 3,
                kind: BreakKind::Removed { last: 4 }
            }
        );
        assert!(
            err.to_string().contains("events 3..=4 were removed"),
            "{err}"
        );

        let (mut events, head) = chain(3);
        events.remove(0);
        assert_eq!(
            verify(&events, &head),
            Err(ChainBreak {
                seq: 1,
                kind: BreakKind::Removed { last: 1 }
            })
        );

        let (mut events, head) = chain(3);
        events.pop();
        assert_eq!(
            verify(&events, &head),
            Err(ChainBreak {
                seq: 3,
                kind: BreakKind::Removed { last: 3 }
            })
        );
    }

    #[test]
    fn swapped_events_are_found() {
        for (a, b) in [(1, 2), (1, 4), (0, 5)] {
            let (mut events, head) = chain(6);
            // Swap everything but the position.
            let (sa, sb) = (events[a].event.seq, events[b].event.seq);
            events.swap(a, b);
            events[a].event.seq = sa;
            events[b].event.seq = sb;
            assert_eq!(
                verify(&events, &head),
                Err(ChainBreak {
                    seq: sa,
                    kind: BreakKind::Reordered
                }),
                "swap {a} {b}"
            );
        }
    }

    #[test]
    fn events_written_past_the_head_are_found() {
        let (events, mut head) = chain(4);
        head.seq = 3;
        assert_eq!(verify(&events, &head).unwrap_err().seq, 4);
        let (events, mut head) = chain(4);
        head.hash = genesis_hex();
        assert_eq!(
            verify(&events, &head),
            Err(ChainBreak {
                seq: 4,
                kind: BreakKind::Changed
            })
        );
    }

    #[test]
    fn a_malformed_stored_hash_is_a_change_not_a_panic() {
        let (mut events, head) = chain(3);
        events[1].prev_hash = "zz".into();
        assert_eq!(verify(&events, &head).unwrap_err().seq, 2);
    }
}
