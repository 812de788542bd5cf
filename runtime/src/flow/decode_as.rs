//! User-named ports, like tshark's `-d`: `tcp.port==8080,http2` makes every TCP segment
//! to or from port 8080 HTTP/2, before the static port tables of the specs' `[[bind]]`s.
//!
//! The syntax is tshark's, `LAYER==SELECTOR,PROTOCOL`: `tcp.port` or `udp.port`, a port
//! (`8080`), a range (`8080-8090`) or a first port and a count (`8080:3`), and a protocol
//! as tshark spells it (`http`, `http2`, `tls`, `ssl`, `dns`, `mdns`, `llmnr`, `ftp`,
//! `ftp-data`, `dhcp`, `bootp`, `ssdp`) or a spec id of ours (`dns_tcp`, `vxlan`, ...).
//! DNS named on a TCP port is DNS over TCP (with its length prefix), as tshark's `dns`
//! is on either transport.
//!
//! As in tshark, when both ports of a segment are named, the lower one wins; a later
//! rule for a port replaces an earlier one.

use std::fmt;
use std::ops::RangeInclusive;
use std::str::FromStr;

use crate::layer::Level;
use crate::protocols::{Next, ProtocolId};

/// The table a rule names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selector {
    /// `tcp.port`
    TcpPort,
    /// `udp.port`
    UdpPort,
}

impl Selector {
    /// tshark's name of the table.
    pub fn name(self) -> &'static str {
        match self {
            Selector::TcpPort => "tcp.port",
            Selector::UdpPort => "udp.port",
        }
    }
}

/// One `--decode-as` rule: the ports of one transport bound to a protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// `tcp.port` or `udp.port`.
    pub selector: Selector,
    /// The ports named, both ends included.
    pub ports: RangeInclusive<u16>,
    /// What the payload is dissected as (with the display name the binding gives, as
    /// `MDNS` for `mdns`).
    pub next: Next,
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}=={}", self.selector.name(), self.ports.start())?;
        if self.ports.end() != self.ports.start() {
            write!(f, "-{}", self.ports.end())?;
        }
        write!(f, ",{}", self.next.protocol.id())
    }
}

/// Protocol names as tshark spells them, with the display name our static bindings give.
const TSHARK_NAMES: &[(&str, &str, Option<&str>)] = &[
    ("http", "http", None),
    ("http2", "http2", None),
    ("tls", "tls", None),
    ("ssl", "tls", None),
    ("dns", "dns", None),
    ("mdns", "dns", Some("MDNS")),
    ("llmnr", "dns", Some("LLMNR")),
    ("ftp", "ftp", None),
    ("ftp-data", "ftp_data", None),
    ("dhcp", "dhcp", None),
    ("bootp", "dhcp", None),
    ("ssdp", "http", Some("SSDP")),
];

/// The protocols a rule may name: those carried in a transport's payload.
fn payload_protocols() -> impl Iterator<Item = ProtocolId> {
    ProtocolId::ALL.into_iter().filter(|p| {
        p.layer() >= Level::Transport
            && !matches!(
                p,
                ProtocolId::Tcp | ProtocolId::Udp | ProtocolId::Sctp | ProtocolId::TeredoOrigin
            )
    })
}

fn protocol(name: &str, selector: Selector) -> Result<Next, String> {
    let lower = name.to_ascii_lowercase();
    let (id, display) = match TSHARK_NAMES.iter().find(|(n, _, _)| *n == lower) {
        Some((_, id, display)) => (*id, *display),
        None => (lower.as_str(), None),
    };
    let known = || {
        let mut names: Vec<&str> = TSHARK_NAMES.iter().map(|(n, _, _)| *n).collect();
        for p in payload_protocols() {
            if !names.contains(&p.id()) {
                names.push(p.id());
            }
        }
        names.join(", ")
    };
    let protocol = ProtocolId::from_name(id)
        .filter(|p| payload_protocols().any(|q| q == *p))
        .ok_or_else(|| format!("unknown protocol `{name}` (known: {})", known()))?;
    // tshark's `dns` reads DNS over TCP with its length prefix; ours is `dns_tcp`.
    let protocol = match (protocol, selector) {
        (ProtocolId::Dns, Selector::TcpPort) => ProtocolId::DnsTcp,
        (p, _) => p,
    };
    Ok(Next {
        protocol,
        name: display,
    })
}

fn port(s: &str) -> Result<u16, String> {
    match s.trim().parse::<u32>() {
        Ok(p) if (1..=65535).contains(&p) => Ok(p as u16),
        _ => Err(format!("`{}` is not a port (1 to 65535)", s.trim())),
    }
}

fn ports(s: &str) -> Result<RangeInclusive<u16>, String> {
    if let Some((first, last)) = s.split_once('-') {
        let (first, last) = (port(first)?, port(last)?);
        if last < first {
            return Err(format!("the port range `{s}` ends before it starts"));
        }
        Ok(first..=last)
    } else if let Some((first, count)) = s.split_once(':') {
        let first = port(first)?;
        let count = match count.trim().parse::<u32>() {
            Ok(n) if n >= 1 => n,
            _ => return Err(format!("`{}` is not a count of ports", count.trim())),
        };
        let last = u32::from(first) + count - 1;
        let last =
            u16::try_from(last).map_err(|_| format!("the port range `{s}` goes past 65535"))?;
        Ok(first..=last)
    } else {
        let p = port(s)?;
        Ok(p..=p)
    }
}

impl FromStr for Rule {
    type Err = String;

    /// Reads `tcp.port==8080,http` (see the module's documentation).
    fn from_str(rule: &str) -> Result<Rule, String> {
        let bad = |why: String| format!("decode-as rule `{rule}`: {why}");
        let (selector, rest) = rule.split_once("==").ok_or_else(|| {
            bad("expected LAYER==SELECTOR,PROTOCOL, as tcp.port==8080,http".into())
        })?;
        let selector = match selector.trim().to_ascii_lowercase().as_str() {
            "tcp.port" => Selector::TcpPort,
            "udp.port" => Selector::UdpPort,
            other => {
                return Err(bad(format!(
                    "the selector `{other}` is not supported (supported: tcp.port, udp.port)"
                )))
            }
        };
        let (ports_text, name) = rest.rsplit_once(',').ok_or_else(|| {
            bad("a protocol is missing after the port: tcp.port==8080,http".into())
        })?;
        let ports = ports(ports_text).map_err(bad)?;
        let next = protocol(name.trim(), selector).map_err(bad)?;
        Ok(Rule {
            selector,
            ports,
            next,
        })
    }
}

/// The rules of one capture.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecodeAs {
    rules: Vec<Rule>,
}

impl DecodeAs {
    /// No rule.
    pub fn new() -> DecodeAs {
        DecodeAs::default()
    }

    /// Adds a rule; it wins over earlier ones for the ports it names.
    pub fn push(&mut self, rule: Rule) {
        self.rules.push(rule);
    }

    /// Whether there is no rule.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The rules, in the order given.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    fn port(&self, selector: Selector, port: u16) -> Option<Next> {
        self.rules
            .iter()
            .rev()
            .find(|r| r.selector == selector && r.ports.contains(&port))
            .map(|r| r.next)
    }

    /// What a segment between `src_port` and `dst_port` is dissected as, if a rule
    /// names either port (the lower one first, as tshark tries them).
    pub fn lookup(&self, selector: Selector, src_port: u16, dst_port: u16) -> Option<Next> {
        if self.rules.is_empty() {
            return None;
        }
        let (low, high) = (src_port.min(dst_port), src_port.max(dst_port));
        self.port(selector, low)
            .or_else(|| self.port(selector, high))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(s: &str) -> Rule {
        s.parse().unwrap()
    }

    #[test]
    fn tshark_rules_read() {
        let r = rule("tcp.port==8080,http2");
        assert_eq!(r.selector, Selector::TcpPort);
        assert_eq!(r.ports, 8080..=8080);
        assert_eq!(r.next.protocol, ProtocolId::Http2);
        assert_eq!(rule("udp.port==5353,dns").next.protocol, ProtocolId::Dns);
        assert_eq!(rule("tcp.port==8443,tls").next.protocol, ProtocolId::Tls);
        assert_eq!(rule("tcp.port==8443,ssl").next.protocol, ProtocolId::Tls);
        assert_eq!(
            rule("TCP.PORT == 81 , HTTP").next.protocol,
            ProtocolId::Http
        );
        assert_eq!(
            rule("tcp.port==2121,ftp-data").next.protocol,
            ProtocolId::FtpData
        );
        // Our ids too.
        assert_eq!(
            rule("tcp.port==5300,dns_tcp").next.protocol,
            ProtocolId::DnsTcp
        );
        let mdns = rule("udp.port==5400,mdns").next;
        assert_eq!((mdns.protocol, mdns.name), (ProtocolId::Dns, Some("MDNS")));
        // tshark's dns on TCP is DNS over TCP, length prefix first.
        assert_eq!(rule("tcp.port==5300,dns").next.protocol, ProtocolId::DnsTcp);
    }

    #[test]
    fn ranges_as_tshark_writes_them() {
        assert_eq!(rule("tcp.port==8888-8890,http").ports, 8888..=8890);
        assert_eq!(rule("tcp.port==8888:3,http").ports, 8888..=8890);
        assert_eq!(rule("udp.port==65535:1,dns").ports, 65535..=65535);
    }

    #[test]
    fn bad_rules_say_why() {
        let err = |s: &str| s.parse::<Rule>().unwrap_err();
        assert!(err("tcp.port=8080,http").contains("LAYER==SELECTOR,PROTOCOL"));
        assert!(err("sctp.port==80,http").contains("`sctp.port` is not supported"));
        assert!(err("tcp.port==70000,http").contains("`70000` is not a port"));
        assert!(err("tcp.port==0,http").contains("`0` is not a port"));
        assert!(err("tcp.port==http").contains("protocol is missing"));
        assert!(err("tcp.port==80,gopher").contains("unknown protocol `gopher`"));
        assert!(err("tcp.port==80,ipv4").contains("unknown protocol `ipv4`"));
        assert!(err("tcp.port==90-80,http").contains("ends before it starts"));
        assert!(err("tcp.port==65535:2,http").contains("goes past 65535"));
        assert!(err("tcp.port==80:0,http").contains("not a count"));
    }

    #[test]
    fn the_lower_port_wins_and_a_later_rule_replaces() {
        let mut d = DecodeAs::new();
        assert_eq!(d.lookup(Selector::TcpPort, 8080, 40000), None);
        d.push(rule("tcp.port==8080,http2"));
        d.push(rule("tcp.port==40000,tls"));
        d.push(rule("udp.port==5300,dns"));
        let at = |d: &DecodeAs, s, a, b| d.lookup(s, a, b).map(|n| n.protocol);
        assert_eq!(
            at(&d, Selector::TcpPort, 40000, 8080),
            Some(ProtocolId::Http2)
        );
        assert_eq!(
            at(&d, Selector::TcpPort, 40000, 1234),
            Some(ProtocolId::Tls)
        );
        assert_eq!(at(&d, Selector::UdpPort, 8080, 1234), None);
        assert_eq!(at(&d, Selector::UdpPort, 1234, 5300), Some(ProtocolId::Dns));
        d.push(rule("tcp.port==8000-8100,http"));
        assert_eq!(at(&d, Selector::TcpPort, 8080, 1), Some(ProtocolId::Http));
    }
}
