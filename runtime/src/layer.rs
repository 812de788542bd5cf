//! What a dissector reports besides headers: protocol layers (for the `layer` threshold)
//! and why a header could not be read.

use std::fmt;
use std::str::FromStr;

/// The four layers protocols belong to, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Link,
    Internet,
    Transport,
    Application,
}

impl Level {
    pub const ALL: [Level; 4] = [
        Level::Link,
        Level::Internet,
        Level::Transport,
        Level::Application,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Level::Link => "link",
            Level::Internet => "internet",
            Level::Transport => "transport",
            Level::Application => "application",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

impl FromStr for Level {
    type Err = String;

    fn from_str(s: &str) -> Result<Level, String> {
        Level::ALL
            .into_iter()
            .find(|l| l.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!("unknown layer `{s}` (known: link, internet, transport, application)")
            })
    }
}

/// Why a header could not be dissected: too few bytes, or a spec assertion that fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DissectError {
    pub reason: String,
}

impl DissectError {
    pub fn new(reason: impl Into<String>) -> DissectError {
        DissectError {
            reason: reason.into(),
        }
    }
}

impl fmt::Display for DissectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for DissectError {}
