//! Following the transactional outbox without missing a change: [`ChangeCursor`] and
//! [`next_changes`], shared by every follower (the matching index, the alert consumer).
//!
//! On PostgreSQL an outbox number is taken when a transaction writes, not when it commits, so a
//! change can become visible *behind* one already seen (numbers 7 and 9 committed, 8 still
//! running). The cursor remembers every number it skipped over as a gap, with when it first
//! noticed it, and reads the gaps again on every call until they fill — or, after
//! `gap_timeout`, gives them up (a rolled-back transaction burns its number for ever). A change
//! is returned once: a number at or below the high mark that is not a gap has been returned.
//! On SQLite (one writer at a time) numbers are taken in commit order and gaps never open.
//!
//! The cursor is plain data (serde), so a follower can store it with what it did, in the same
//! transaction, and carry on after a restart exactly where it stopped.

use crate::{Change, OutboxStore, Result};
use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeMap;

/// Most changes read at a time.
const BATCH: u32 = 1_000;

/// Most gaps a cursor remembers; beyond that the oldest are given up (a burst of rolled-back
/// transactions must not make every read unbounded).
const MAX_GAPS: usize = 10_000;

/// Where a follower of the outbox has got to.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChangeCursor {
    /// Highest change number returned.
    pub high: i64,
    /// Numbers below `high` not seen yet, with when each was first noticed missing.
    #[serde(default)]
    pub gaps: BTreeMap<i64, DateTime<Utc>>,
}

impl ChangeCursor {
    /// A cursor that has seen every change up to `seq`.
    pub fn at(seq: i64) -> Self {
        Self {
            high: seq,
            gaps: BTreeMap::new(),
        }
    }

    /// Where the next read starts: just before the oldest gap, or at the high mark.
    fn floor(&self) -> i64 {
        self.gaps
            .keys()
            .next()
            .map_or(self.high, |g| (g - 1).min(self.high))
    }

    /// Takes in a page of changes read after [`Self::floor`], in number order, and returns those
    /// not returned before; numbers skipped over become gaps noticed at `now`.
    pub fn accept(&mut self, page: Vec<Change>, now: DateTime<Utc>) -> Vec<Change> {
        let mut new = Vec::new();
        for c in page {
            if c.seq > self.high {
                for missing in self.high + 1..c.seq {
                    self.gaps.insert(missing, now);
                }
                self.high = c.seq;
                new.push(c);
            } else if self.gaps.remove(&c.seq).is_some() {
                new.push(c);
            }
        }
        while self.gaps.len() > MAX_GAPS {
            self.gaps.pop_first();
        }
        new
    }

    /// Gives up gaps noticed before `now - timeout`.
    pub fn expire(&mut self, now: DateTime<Utc>, timeout: Duration) {
        self.gaps.retain(|_, noticed| now - *noticed < timeout);
    }
}

/// The changes committed since `cursor` (gaps included as they fill), at most about `limit`,
/// in the order read; advances the cursor. Gaps older than `gap_timeout` are given up first.
///
/// # Errors
/// Store errors; the cursor is then unchanged.
pub async fn next_changes<S: OutboxStore + ?Sized>(
    store: &S,
    cursor: &mut ChangeCursor,
    now: DateTime<Utc>,
    gap_timeout: Duration,
    limit: usize,
) -> Result<Vec<Change>> {
    let mut next = cursor.clone();
    next.expire(now, gap_timeout);
    let mut out = Vec::new();
    // Re-read from before the oldest gap, then page on from the high mark.
    let mut from = next.floor();
    loop {
        let page = store.changes_after(from, BATCH).await?;
        let full = page.len() == BATCH as usize;
        let Some(last) = page.last().map(|c| c.seq) else {
            break;
        };
        out.extend(next.accept(page, now));
        from = last;
        if !full || out.len() >= limit {
            break;
        }
    }
    *cursor = next;
    Ok(out)
}

/// The PostgreSQL channel notified when the outbox grows.
pub const OUTBOX_CHANNEL: &str = "nrmp_outbox";
/// The PostgreSQL channel notified when the alert stream grows.
pub const ALERTS_CHANNEL: &str = "nrmp_alerts";

/// Wakes followers on every node: a LISTEN on [`OUTBOX_CHANNEL`] and [`ALERTS_CHANNEL`]
/// (PostgreSQL only; the migration's triggers NOTIFY at commit). A notification says only
/// "look again": the tables stay the source of truth, and a follower that misses one catches up
/// at its next poll.
pub struct ChangeListener(sqlx::postgres::PgListener);

impl std::fmt::Debug for ChangeListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChangeListener")
    }
}

impl ChangeListener {
    /// Listens on the database at `url`; `None` on SQLite (one node: followers are woken in
    /// the process).
    pub async fn connect(url: &str) -> Result<Option<Self>> {
        if crate::Backend::from_url(url)? != crate::Backend::Postgres {
            return Ok(None);
        }
        let mut l = sqlx::postgres::PgListener::connect(url).await?;
        l.listen_all([OUTBOX_CHANNEL, ALERTS_CHANNEL]).await?;
        Ok(Some(Self(l)))
    }

    /// The channel of the next notification. Reconnects after a lost connection (and then
    /// answers as if notified, since notifications may have been missed meanwhile).
    pub async fn recv(&mut self) -> Result<String> {
        match self.0.try_recv().await? {
            Some(n) => Ok(n.channel().to_owned()),
            None => Ok(String::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(seq: i64) -> Change {
        Change {
            seq,
            event: "person.create".into(),
            record_kind: "person".into(),
            record_id: seq.to_string(),
        }
    }

    fn seqs(cs: &[Change]) -> Vec<i64> {
        cs.iter().map(|c| c.seq).collect()
    }

    #[test]
    fn a_change_committed_late_behind_later_ones_is_returned_once_when_it_appears() {
        let t0 = DateTime::UNIX_EPOCH;
        let mut c = ChangeCursor::at(6);
        // 7 and 9 are committed, 8 is still running
        assert_eq!(seqs(&c.accept(vec![change(7), change(9)], t0)), vec![7, 9]);
        assert_eq!(c.high, 9);
        assert_eq!(c.gaps.keys().copied().collect::<Vec<_>>(), vec![8]);
        assert_eq!(c.floor(), 7);
        // re-reading from the floor returns only 8 once it commits, and never 9 again
        assert_eq!(
            seqs(&c.accept(vec![change(8), change(9)], t0)),
            vec![8],
            "the late change, once"
        );
        assert!(c.gaps.is_empty());
        assert!(c.accept(vec![change(8), change(9)], t0).is_empty());
    }

    #[test]
    fn a_gap_that_never_fills_is_given_up_after_the_timeout() {
        let t0 = DateTime::UNIX_EPOCH;
        let mut c = ChangeCursor::at(0);
        c.accept(vec![change(1), change(3)], t0);
        c.expire(t0 + Duration::seconds(59), Duration::seconds(60));
        assert_eq!(c.gaps.len(), 1);
        c.expire(t0 + Duration::seconds(60), Duration::seconds(60));
        assert!(c.gaps.is_empty());
        assert_eq!(c.floor(), 3);
    }

    #[test]
    fn the_cursor_survives_a_round_trip_through_json() {
        let mut c = ChangeCursor::at(0);
        c.accept(vec![change(2)], DateTime::UNIX_EPOCH);
        let text = serde_json::to_string(&c).unwrap_or_default();
        let back: ChangeCursor = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(back, c);
    }
}
