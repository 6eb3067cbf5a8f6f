//! Bounds on everything that reaches the audit log. The log is append-only — nothing written
//! to it can ever be removed — so each value an event holds (and each stored search query) is
//! cut to a fixed length, and its control characters are made visible, *before* anything is
//! stored: no request can add more than a bounded amount to the log, and no reason or detail
//! can carry terminal escapes, line breaks or bidirectional overrides to whoever reads it.
//!
//! [`AuditEvent::bounded`](super::AuditEvent::bounded) applies these to a whole event; the store
//! calls it on its one append path, so no caller can forget.

/// Longest actor user name kept, in characters.
pub const MAX_USER_CHARS: usize = 128;
/// Longest record kind kept, in characters.
pub const MAX_KIND_CHARS: usize = 64;
/// Longest record id kept, in characters (ids are UUIDs, `uuid@version` or organisation codes).
pub const MAX_ID_CHARS: usize = 128;
/// Most record ids one event lists; more are counted in the detail instead.
pub const MAX_IDS: usize = 5_000;
/// Longest reason kept for most actions: [`Reason::MAX_CHARS`](crate::access::Reason::MAX_CHARS),
/// the longest reason an access accepts.
pub const MAX_REASON_CHARS: usize = crate::access::Reason::MAX_CHARS;
/// Longest reason kept for a retention review or an erasure: the longest a review decision
/// accepts.
pub const MAX_DECISION_REASON_CHARS: usize = crate::retention::MAX_REASON;
/// Longest detail kept, in characters.
pub const MAX_DETAIL_CHARS: usize = 1_000;
/// Longest stored search query kept, in characters (see [`super::search`]).
pub const MAX_QUERY_CHARS: usize = 2_000;

/// Room kept at the end of a cut value for the marker saying how much was cut.
const MARKER_ROOM: usize = 40;

/// True for a character that must not reach the log as itself: control characters (C0, DEL,
/// C1: newlines, tabs, ANSI escapes) and the invisible formatting characters that reorder or
/// hide text (bidirectional marks, embeddings, overrides and isolates, zero-width characters,
/// line and paragraph separators, the byte-order mark, interlinear annotation).
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2069}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
        )
}

/// `s` with every [unsafe](is_unsafe) character written as `\u{…}` (hexadecimal), and cut to
/// at most `max` characters: a value that does not fit keeps its start and ends with
/// `…[N characters cut]`, N counting characters of `s`. `max` must leave room for the marker
/// (at least 64).
pub fn bounded(s: &str, max: usize) -> String {
    bounded_with(s, max, is_unsafe)
}

/// A record id for the log: as [`bounded`] to [`MAX_ID_CHARS`], with commas and white space
/// escaped too (ids are stored comma-separated).
pub fn bounded_id(s: &str) -> String {
    bounded_with(s, MAX_ID_CHARS, |c| {
        is_unsafe(c) || c == ',' || c.is_whitespace()
    })
}

fn bounded_with(s: &str, max: usize, escape: impl Fn(char) -> bool) -> String {
    let piece = |c: char, out: &mut String| {
        if escape(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    };
    let mut out = String::with_capacity(s.len().min(max * 4));
    let mut len = 0usize;
    let budget = max.saturating_sub(MARKER_ROOM);
    let mut cut_at: Option<(usize, usize)> = None; // (byte length of out, chars of s used)
    let mut tmp = String::new();
    for (used, c) in s.chars().enumerate() {
        tmp.clear();
        piece(c, &mut tmp);
        let n = tmp.chars().count();
        if cut_at.is_none() && len + n > budget {
            cut_at = Some((out.len(), used));
        }
        if len + n > max {
            let (keep, used) = cut_at.unwrap_or((out.len(), used));
            out.truncate(keep);
            let total = s.chars().count();
            out.push_str(&format!("…[{} characters cut]", total - used));
            return out;
        }
        out.push_str(&tmp);
        len += n;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_clean_text_is_unchanged() {
        assert_eq!(
            bounded("stopped at Harwich port", 500),
            "stopped at Harwich port"
        );
        assert_eq!(bounded("", 500), "");
        assert_eq!(
            bounded("Nguyễn Văn Đức — ቴስፋለም", 500),
            "Nguyễn Văn Đức — ቴስፋለም"
        );
    }

    #[test]
    fn control_and_bidi_characters_are_made_visible() {
        assert_eq!(
            bounded(
                "a\nb\r\t\u{1b}[31mred\u{202e}txt.exe\u{2066}\u{200b}\u{7f}\u{85}",
                500
            ),
            "a\\u{a}b\\u{d}\\u{9}\\u{1b}[31mred\\u{202e}txt.exe\\u{2066}\\u{200b}\\u{7f}\\u{85}"
        );
        assert!(!bounded("\u{1b}]0;title\u{7}", 500).chars().any(is_unsafe));
    }

    #[test]
    fn long_text_is_cut_with_a_marker_and_never_exceeds_the_bound() {
        let s = "x".repeat(250_000);
        let b = bounded(&s, 500);
        assert!(b.chars().count() <= 500, "{}", b.chars().count());
        assert!(b.starts_with("xxxx"));
        assert!(
            b.ends_with(&format!("…[{} characters cut]", 250_000 - 460)),
            "{b}"
        );
        // Escapes count towards the bound.
        let s = "\u{1b}".repeat(10_000);
        let b = bounded(&s, 500);
        assert!(b.chars().count() <= 500);
        assert!(b.ends_with("characters cut]"), "{b}");
        assert!(!b.chars().any(is_unsafe));
        // Exactly at the bound: kept whole.
        let s = "é".repeat(500);
        assert_eq!(bounded(&s, 500), s);
        let s = "é".repeat(501);
        assert!(bounded(&s, 500).chars().count() <= 500);
    }

    #[test]
    fn ids_cannot_carry_separators() {
        assert_eq!(bounded_id("a,b c\nd"), "a\\u{2c}b\\u{20}c\\u{a}d");
        assert!(bounded_id(&"1".repeat(10_000)).chars().count() <= MAX_ID_CHARS);
        assert_eq!(
            bounded_id("0192f3c4-0000-7000-8000-000000000001@2"),
            "0192f3c4-0000-7000-8000-000000000001@2"
        );
    }
}
