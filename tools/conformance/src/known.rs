//! Known differences: disagreements that have been looked at and explained
//! (`known-differences.toml`). A disagreement matching an entry counts as explained.

use std::path::Path;

use serde::Deserialize;

use crate::mapping::FieldMap;

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KnownFile {
    #[serde(default)]
    difference: Vec<RawEntry>,
}

/// One `[[difference]]` table as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    file: String,
    field: String,
    frames: Option<String>,
    reason: String,
}

/// One explained difference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Capture file name; `*` matches any run of characters.
    pub file: String,
    /// pcapkit field path; `*` matches any run of characters.
    pub field: String,
    /// Frames covered; `None` covers every frame.
    pub frames: Option<FrameSet>,
    pub reason: String,
}

impl Entry {
    /// Whether this entry explains a disagreement.
    pub fn covers(&self, file: &str, field: &str, frame: u64) -> bool {
        glob_match(&self.file, file)
            && glob_match(&self.field, field)
            && self.frames.as_ref().is_none_or(|f| f.contains(frame))
    }
}

/// All known differences, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownDifferences {
    pub entries: Vec<Entry>,
}

impl KnownDifferences {
    /// Reads and checks the file; its field patterns must match some of `fields`, the
    /// fields compared in the mode it is used for.
    pub fn load(path: &Path, fields: &[FieldMap]) -> Result<KnownDifferences, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Self::parse(&text, fields).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses and checks the TOML text against the compared `fields`.
    pub fn parse(text: &str, fields: &[FieldMap]) -> Result<KnownDifferences, String> {
        let raw: KnownFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let entries = raw
            .difference
            .into_iter()
            .enumerate()
            .map(|(i, e)| {
                check_entry(e, fields).map_err(|msg| format!("difference #{}: {msg}", i + 1))
            })
            .collect::<Result<_, _>>()?;
        Ok(KnownDifferences { entries })
    }

    /// The index of the first entry that explains this disagreement.
    pub fn explain(&self, file: &str, field: &str, frame: u64) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| e.covers(file, field, frame))
    }
}

/// Validates one entry: a non-empty reason, a field pattern that matches a mapped field,
/// a well-formed frame set.
fn check_entry(raw: RawEntry, fields: &[FieldMap]) -> Result<Entry, String> {
    if raw.reason.trim().is_empty() {
        return Err("empty reason".into());
    }
    if raw.file.is_empty() {
        return Err("empty file".into());
    }
    if !fields.iter().any(|f| glob_match(&raw.field, f.pcapkit)) {
        return Err(format!("field `{}` matches no compared field", raw.field));
    }
    let frames = raw.frames.as_deref().map(FrameSet::parse).transpose()?;
    Ok(Entry {
        file: raw.file,
        field: raw.field,
        frames,
        reason: raw.reason,
    })
}

/// A set of frame numbers written as `3`, `1-5,9`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameSet {
    ranges: Vec<(u64, u64)>,
}

impl FrameSet {
    /// Parses a comma-separated list of numbers and inclusive ranges.
    pub fn parse(text: &str) -> Result<FrameSet, String> {
        let ranges = text
            .split(',')
            .map(|part| parse_range(part.trim()))
            .collect::<Result<_, _>>()
            .map_err(|e| format!("frames \"{text}\": {e}"))?;
        Ok(FrameSet { ranges })
    }

    /// Whether a frame number is in the set.
    pub fn contains(&self, frame: u64) -> bool {
        self.ranges
            .iter()
            .any(|&(lo, hi)| lo <= frame && frame <= hi)
    }
}

/// `7` → (7, 7); `1-5` → (1, 5).
fn parse_range(part: &str) -> Result<(u64, u64), String> {
    let number = |s: &str| {
        s.trim()
            .parse::<u64>()
            .map_err(|_| format!("`{part}` is not a frame number or range"))
    };
    let (lo, hi) = match part.split_once('-') {
        Some((lo, hi)) => (number(lo)?, number(hi)?),
        None => (number(part)?, number(part)?),
    };
    if lo > hi {
        return Err(format!("range `{part}` is reversed"));
    }
    Ok((lo, hi))
}

impl std::fmt::Display for FrameSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .ranges
            .iter()
            .map(|&(lo, hi)| {
                if lo == hi {
                    lo.to_string()
                } else {
                    format!("{lo}-{hi}")
                }
            })
            .collect();
        f.write_str(&parts.join(","))
    }
}

/// Matches `text` against a pattern in which `*` stands for any run of characters.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let middle: Vec<&str> = parts.collect();
    let Some((last, middle)) = middle.split_last() else {
        return rest.is_empty(); // no `*` at all: exact match
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::{FIELDS, REASSEMBLY_FIELDS};

    #[test]
    fn frame_sets() {
        let set = FrameSet::parse("1-5, 9").unwrap();
        assert!(set.contains(1) && set.contains(5) && set.contains(9));
        assert!(!set.contains(0) && !set.contains(6) && !set.contains(10));
        assert!(FrameSet::parse("3").unwrap().contains(3));
        assert_eq!(set.to_string(), "1-5,9");
        assert!(FrameSet::parse("5-1").is_err());
        assert!(FrameSet::parse("a").is_err());
        assert!(FrameSet::parse("").is_err());
    }

    #[test]
    fn globs() {
        assert!(glob_match("*", "anything"));
        assert!(glob_match("tcp.seq", "tcp.seq"));
        assert!(!glob_match("tcp.seq", "tcp.seqx"));
        assert!(glob_match("tcp.*", "tcp.flags"));
        assert!(!glob_match("tcp.*", "udp.len"));
        assert!(glob_match("zeek_*.pcap", "zeek_web.pcap"));
        assert!(!glob_match("zeek_*.pcap", "zeek_web.pcapng"));
        assert!(glob_match("*trunc*", "zeek_trunc_trunc-hdr.pcap"));
        assert!(!glob_match("a*a", "a"));
    }

    #[test]
    fn header_only_file_has_no_entries() {
        let known = KnownDifferences::parse("# nothing yet\n", &FIELDS).unwrap();
        assert!(known.entries.is_empty());
    }

    #[test]
    fn entries_explain_matching_cells() {
        let known = KnownDifferences::parse(
            r#"
            [[difference]]
            file   = "zeek_tcp_truncated-header.pcap"
            field  = "tcp.seq"
            frames = "1-24"
            reason = "cut header"

            [[difference]]
            file   = "*"
            field  = "http.*"
            reason = "no HTTP heuristics"
            "#,
            &FIELDS,
        )
        .unwrap();
        assert_eq!(
            known.explain("zeek_tcp_truncated-header.pcap", "tcp.seq", 24),
            Some(0)
        );
        assert_eq!(
            known.explain("zeek_tcp_truncated-header.pcap", "tcp.seq", 25),
            None
        );
        assert_eq!(known.explain("other.pcap", "tcp.seq", 1), None);
        assert_eq!(known.explain("other.pcap", "http.uri", 7), Some(1));
    }

    #[test]
    fn bad_entries_are_rejected() {
        let typo = "[[difference]]\nfile=\"*\"\nfield=\"tcp.sequence\"\nreason=\"x\"\n";
        assert!(KnownDifferences::parse(typo, &FIELDS)
            .unwrap_err()
            .contains("tcp.sequence"));
        let no_reason = "[[difference]]\nfile=\"*\"\nfield=\"*\"\nreason=\" \"\n";
        assert!(KnownDifferences::parse(no_reason, &FIELDS).is_err());
        let unknown_key = "[[difference]]\nfile=\"*\"\nfield=\"*\"\nreason=\"x\"\nframe=\"1\"\n";
        assert!(KnownDifferences::parse(unknown_key, &FIELDS).is_err());
    }

    #[test]
    fn reassembly_fields_are_known_only_in_reassembly_mode() {
        let entry = "[[difference]]\nfile=\"*\"\nfield=\"tcp.stream\"\nreason=\"x\"\n";
        assert!(KnownDifferences::parse(entry, &FIELDS).is_err());
        assert!(KnownDifferences::parse(entry, &REASSEMBLY_FIELDS).is_ok());
    }
}
