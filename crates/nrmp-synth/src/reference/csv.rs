//! A deliberately tiny CSV reader for the embedded reference files (std only).
//!
//! Supported: one record per line, `,` separators, `#` comment lines, blank lines, a mandatory
//! header line, and fields wrapped in double quotes (so a name may contain a comma). Escaped quotes
//! (`""`) inside a field are rejected rather than unescaped, so every field can be handed out as a
//! `&'static str` slice of the embedded text without allocating.

use super::ReferenceError;

/// One data record: its 1-based line number in the file and its fields.
pub(crate) struct Record {
    /// 1-based line number, for error messages.
    pub(crate) line: usize,
    /// The fields, trimmed of surrounding whitespace and quotes.
    pub(crate) fields: Vec<&'static str>,
}

/// Splits `text` into records, checking the header equals `header` and every record has as many
/// fields as the header.
pub(crate) fn parse(
    file: &'static str,
    text: &'static str,
    header: &[&str],
) -> Result<Vec<Record>, ReferenceError> {
    let mut records = Vec::new();
    let mut seen_header = false;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let fields =
            split_line(trimmed).map_err(|message| ReferenceError::new(file, line, message))?;
        if !seen_header {
            if fields.as_slice() != header {
                return Err(ReferenceError::new(
                    file,
                    line,
                    format!("header is {fields:?}, expected {header:?}"),
                ));
            }
            seen_header = true;
            continue;
        }
        if fields.len() != header.len() {
            return Err(ReferenceError::new(
                file,
                line,
                format!("{} fields, expected {}", fields.len(), header.len()),
            ));
        }
        records.push(Record { line, fields });
    }
    if !seen_header {
        return Err(ReferenceError::new(file, 0, "no header line"));
    }
    Ok(records)
}

/// Splits one line on commas that are outside double quotes.
fn split_line(line: &'static str) -> Result<Vec<&'static str>, String> {
    let mut fields = Vec::new();
    let mut rest = line;
    loop {
        let trimmed = rest.trim_start();
        if let Some(after_quote) = trimmed.strip_prefix('"') {
            let Some(end) = after_quote.find('"') else {
                return Err("unterminated quoted field".to_owned());
            };
            fields.push(&after_quote[..end]);
            let tail = after_quote[end + 1..].trim_start();
            if tail.is_empty() {
                return Ok(fields);
            }
            match tail.strip_prefix(',') {
                Some(next) => rest = next,
                None => {
                    return Err(
                        "text after a closing quote (escaped quotes are not supported)".to_owned(),
                    );
                }
            }
        } else {
            match trimmed.find(',') {
                Some(comma) => {
                    fields.push(trimmed[..comma].trim());
                    rest = &trimmed[comma + 1..];
                }
                None => {
                    fields.push(trimmed.trim());
                    return Ok(fields);
                }
            }
        }
        if fields.iter().any(|f| f.contains('"')) {
            return Err("stray double quote".to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_plain_and_quoted_fields() {
        assert_eq!(split_line("a,b , c").unwrap(), vec!["a", "b", "c"]);
        assert_eq!(
            split_line(r#"x,"B, C and D",y"#).unwrap(),
            vec!["x", "B, C and D", "y"]
        );
        assert_eq!(split_line("a,,b").unwrap(), vec!["a", "", "b"]);
        assert_eq!(split_line("a,").unwrap(), vec!["a", ""]);
        assert!(split_line(r#""unterminated"#).is_err());
        assert!(split_line(r#""a""b",c"#).is_err());
    }

    #[test]
    fn checks_header_and_field_count() {
        let ok = parse("t", "# c\nh1,h2\n\n1,2\n", &["h1", "h2"]).unwrap();
        assert_eq!(ok.len(), 1);
        assert_eq!(ok[0].line, 4);
        assert!(parse("t", "h1,h3\n", &["h1", "h2"]).is_err());
        assert!(parse("t", "h1,h2\n1,2,3\n", &["h1", "h2"]).is_err());
        assert!(parse("t", "# only a comment\n", &["h1", "h2"]).is_err());
    }
}
