//! What a dissector reports besides headers: protocol layers (for the `layer` threshold)
//! and why a header could not be read.

use std::fmt;
use std::str::FromStr;

/// The four layers protocols belong to, lowest first.
///
/// Parsed from its name in any case, as the `--layer` option does:
///
/// ```
/// use pcapkit::Level;
///
/// assert_eq!("Transport".parse::<Level>(), Ok(Level::Transport));
/// assert!(Level::Internet < Level::Transport);
/// assert!("session".parse::<Level>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Framing on the medium: Ethernet, VLAN tags, Linux cooked capture, PPP, ...
    Link,
    /// Routing between hosts: IPv4, IPv6 and its extension headers, ARP, ICMP, GRE, ...
    Internet,
    /// End-to-end transport, and tunnels carried over it: TCP, UDP, L2TP, GTP, Teredo, ...
    Transport,
    /// What applications say over the transport, such as HTTP.
    Application,
}

impl Level {
    /// Every layer, lowest first.
    pub const ALL: [Level; 4] = [
        Level::Link,
        Level::Internet,
        Level::Transport,
        Level::Application,
    ];

    /// The lowercase name, as parsed and displayed (`transport`).
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
    /// What went wrong; starts with [`TRUNCATED`](crate::wire::TRUNCATED) when the
    /// header did not fit in the captured bytes.
    pub reason: String,
}

impl DissectError {
    /// An error with this reason.
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
