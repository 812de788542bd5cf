//! FTP control connection (RFC 959, RFC 2428): requests and replies are text lines, so
//! `specs/application/ftp.toml` names this hook to fill the generated `Ftp` struct.
//!
//! One TCP segment at a time, as tshark does: the segment's first line gives the fields,
//! the rest are counted. Whether the segment is a request or a reply depends on its
//! direction, which the bytes alone do not tell: [`parse`] guesses from the first bytes
//! (three digits: a reply), and the session, which knows the ports, calls
//! [`parse_directed`] when the guess was wrong (a reply's continuation line that starts
//! with a letter, say).
//!
//! The addresses announced by PORT, EPRT, 227 (PASV) and 229 (EPSV) are parsed here;
//! [`Announcement`] tells the session which data connection to expect.

use std::net::{IpAddr, Ipv4Addr};

use crate::protocols::ftp::Ftp;

/// Longest first line kept in the fields (a longer one is cut, and said so in `problem`).
pub const MAX_LINE: usize = 4 * 1024;

/// Reads an FTP request or reply, telling which by its first bytes; the layer takes the
/// whole segment.
pub fn parse(input: &[u8]) -> Result<(Ftp, usize), String> {
    Ok((parse_directed(input, !looks_like_reply(input)), input.len()))
}

/// Whether `input` starts with three digits, as a reply's first and last lines do.
pub fn looks_like_reply(input: &[u8]) -> bool {
    input.len() >= 3 && input[..3].iter().all(u8::is_ascii_digit)
}

/// Reads `input` as a request (`request`) or as a reply.
pub fn parse_directed(input: &[u8], request: bool) -> Ftp {
    let mut ftp = Ftp::default();
    let (first, _) = line(input, 0);
    ftp.lines = count_lines(input);
    let cut = first.len() > MAX_LINE;
    let first = &first[..first.len().min(MAX_LINE)];
    if request {
        // RFC 2640 3.1: exactly one space between the command and its argument; further
        // spaces belong to the argument (a path name).
        let (command, arg) = match first.iter().position(|&b| b == b' ') {
            Some(sp) => (&first[..sp], &first[sp + 1..]),
            None => (first, &b""[..]),
        };
        ftp.command = text(command);
        ftp.arg = text(arg);
        if command.eq_ignore_ascii_case(b"PORT") {
            match six_numbers(arg) {
                Ok((ip, port)) => {
                    ftp.active_ip = ip.to_string();
                    ftp.active_port = port;
                }
                Err(e) => ftp.problem = format!("PORT: {e}"),
            }
        } else if command.eq_ignore_ascii_case(b"EPRT") {
            match eprt(arg) {
                Ok((ip, port)) => {
                    ftp.eprt_ip = ip.to_string();
                    ftp.eprt_port = port;
                }
                Err(e) => ftp.problem = format!("EPRT: {e}"),
            }
        }
    } else if looks_like_reply(first) {
        ftp.code = first[..3]
            .iter()
            .fold(0, |n, d| n * 10 + u16::from(d - b'0'));
        // The code, then a space (last line) or a hyphen (first line of a multi-line one).
        ftp.text = text(first.get(4..).unwrap_or_default());
        let rest = first.get(4..).unwrap_or_default();
        match ftp.code {
            227 => match six_numbers(rest) {
                Ok((ip, port)) => {
                    ftp.passive_ip = ip.to_string();
                    ftp.passive_port = port;
                }
                Err(e) => ftp.problem = format!("227: {e}"),
            },
            229 => match epsv(rest) {
                Ok(port) => ftp.epsv_port = port,
                Err(e) => ftp.problem = format!("229: {e}"),
            },
            _ => {}
        }
    } else {
        // A line in the middle of a multi-line reply.
        ftp.text = text(first);
    }
    if cut && ftp.problem.is_empty() {
        ftp.problem = format!("first line longer than {MAX_LINE} bytes, cut");
    }
    ftp
}

/// A data connection that a control connection announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Announcement {
    /// PORT or EPRT: the client listens at this address and port.
    Active(IpAddr, u16),
    /// 227: the server listens at this address and port.
    Passive(IpAddr, u16),
    /// 229: the server listens on this port of the control connection's server address.
    ExtendedPassive(u16),
}

impl Announcement {
    /// The announcement an FTP layer makes, if any.
    pub fn of(ftp: &Ftp) -> Option<Announcement> {
        if ftp.active_port != 0 {
            return Some(Announcement::Active(
                ftp.active_ip.parse().ok()?,
                ftp.active_port,
            ));
        }
        if ftp.eprt_port != 0 {
            return Some(Announcement::Active(
                ftp.eprt_ip.parse().ok()?,
                ftp.eprt_port,
            ));
        }
        if ftp.passive_port != 0 {
            return Some(Announcement::Passive(
                ftp.passive_ip.parse().ok()?,
                ftp.passive_port,
            ));
        }
        if ftp.epsv_port != 0 {
            return Some(Announcement::ExtendedPassive(ftp.epsv_port));
        }
        None
    }
}

/// `h1,h2,h3,h4,p1,p2` (RFC 959 4.1.2) somewhere in `s`: the first run of six
/// comma-separated numbers, as tshark and curl look for it in 227 replies, which put it in
/// parentheses or not. Every number must be 0 to 255; port 0 is refused.
fn six_numbers(s: &[u8]) -> Result<(IpAddr, u16), String> {
    let mut at = 0;
    let mut out_of_range = false;
    while at < s.len() {
        if !s[at].is_ascii_digit() {
            at += 1;
            continue;
        }
        match numbers_at(s, at) {
            Some(n) if n.iter().all(|&x| x <= 255) => {
                let ip = Ipv4Addr::new(n[0] as u8, n[1] as u8, n[2] as u8, n[3] as u8);
                let port = (n[4] << 8 | n[5]) as u16;
                if port == 0 {
                    return Err("port 0".into());
                }
                return Ok((IpAddr::V4(ip), port));
            }
            Some(_) => out_of_range = true,
            None => {}
        }
        while at < s.len() && s[at].is_ascii_digit() {
            at += 1;
        }
    }
    Err(if out_of_range {
        "a number of h1,h2,h3,h4,p1,p2 is not 0 to 255".into()
    } else {
        "no h1,h2,h3,h4,p1,p2".into()
    })
}

/// Six decimal numbers separated by commas starting at `at` (spaces allowed before a
/// number, as `sscanf("%d,%d,...")` allows them); each capped so that a long run of digits
/// cannot overflow.
fn numbers_at(s: &[u8], mut at: usize) -> Option<[u32; 6]> {
    let mut n = [0u32; 6];
    for (i, slot) in n.iter_mut().enumerate() {
        if i > 0 {
            if s.get(at) != Some(&b',') {
                return None;
            }
            at += 1;
            while s.get(at) == Some(&b' ') {
                at += 1;
            }
        }
        let start = at;
        while let Some(d) = s.get(at).filter(|d| d.is_ascii_digit()) {
            *slot = (*slot * 10 + u32::from(d - b'0')).min(1_000_000);
            at += 1;
        }
        if at == start {
            return None;
        }
    }
    Some(n)
}

/// Whether `c` may delimit EPRT and EPSV arguments (RFC 2428 section 2: printable ASCII,
/// not a digit, hex letter, dot or colon, which an address could hold).
fn delimiter(c: u8) -> bool {
    c.is_ascii_graphic() && !b"0123456789abcdef.:".contains(&c.to_ascii_lowercase())
}

/// EPRT's argument `<d><af><d><address><d><port><d>` (RFC 2428 section 2), af 1 (IPv4)
/// or 2 (IPv6).
fn eprt(arg: &[u8]) -> Result<(IpAddr, u16), String> {
    let Some(&d) = arg.first().filter(|&&c| delimiter(c)) else {
        return Err("no delimiter".into());
    };
    let parts: Vec<&[u8]> = arg.split(|&c| c == d).collect();
    // `|1|addr|port|` splits into "", af, addr, port, "".
    if parts.len() != 5 || !parts[4].is_empty() {
        return Err("not |af|address|port|".into());
    }
    let field = |b: &[u8]| std::str::from_utf8(b).ok().map(str::to_owned);
    let addr = field(parts[2]).unwrap_or_default();
    let ip: IpAddr = match parts[1] {
        b"1" => IpAddr::V4(addr.parse().map_err(|_| "bad IPv4 address")?),
        b"2" => IpAddr::V6(addr.parse().map_err(|_| "bad IPv6 address")?),
        _ => return Err("address family is neither 1 nor 2".into()),
    };
    let port = port(parts[3]).ok_or("bad port")?;
    Ok((ip, port))
}

/// The port of a 229 reply's `(<d><d><d><port><d>)` (RFC 2428 section 3); the text
/// before the parenthesis may hold other parentheses.
fn epsv(text: &[u8]) -> Result<u16, String> {
    let mut from = 0;
    while let Some(open) = text[from..].iter().position(|&c| c == b'(') {
        let rest = &text[from + open + 1..];
        from += open + 1;
        let [a, b, c, ..] = rest else { continue };
        if !(delimiter(*a) && a == b && b == c) {
            continue;
        }
        let digits = rest[3..].iter().take_while(|c| c.is_ascii_digit()).count();
        let after = &rest[3 + digits..];
        if after.len() >= 2 && after[0] == *a && after[1] == b')' {
            return port(&rest[3..3 + digits]).ok_or_else(|| "bad port".into());
        }
    }
    Err("no (|||port|)".into())
}

/// A TCP port in decimal, 1 to 65535.
fn port(digits: &[u8]) -> Option<u16> {
    if digits.is_empty() || digits.len() > 5 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits)
        .ok()?
        .parse()
        .ok()
        .filter(|&p| p != 0)
}

/// The line starting at `start`, without its end (CR LF, LF, or a lone CR, as tshark's
/// line finder takes them), and where the next one starts.
fn line(input: &[u8], start: usize) -> (&[u8], usize) {
    let rest = &input[start..];
    match rest.iter().position(|&b| b == b'\n' || b == b'\r') {
        Some(end) => {
            let next = if rest[end..].starts_with(b"\r\n") {
                end + 2
            } else {
                end + 1
            };
            (&rest[..end], start + next)
        }
        None => (rest, input.len()),
    }
}

/// Lines in `input`: ends of line, plus one for an unfinished last line.
fn count_lines(input: &[u8]) -> u32 {
    let ends = input.iter().filter(|&&b| b == b'\n').count();
    let unfinished = usize::from(!input.is_empty() && !input.ends_with(b"\n"));
    u32::try_from(ends + unfinished).unwrap_or(u32::MAX)
}

/// The lines of `input`, without their ends (the last one may be unfinished).
pub fn lines(input: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos >= input.len() {
            return None;
        }
        let (l, next) = line(input, pos);
        pos = next;
        Some(l)
    })
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(s: &[u8]) -> Ftp {
        parse_directed(s, false)
    }

    fn request(s: &[u8]) -> Ftp {
        parse_directed(s, true)
    }

    #[test]
    fn request_command_and_argument() {
        let f = request(b"RETR robots.txt\r\n");
        assert_eq!((f.command.as_str(), f.arg.as_str()), ("RETR", "robots.txt"));
        assert_eq!(f.code, 0);
        // RFC 2640: spaces after the first belong to the path name.
        let f = request(b"STOR  two spaces\r\n");
        assert_eq!(
            (f.command.as_str(), f.arg.as_str()),
            ("STOR", " two spaces")
        );
        let f = request(b"PASV\r\n");
        assert_eq!((f.command.as_str(), f.arg.as_str()), ("PASV", ""));
    }

    #[test]
    fn reply_code_and_text() {
        let f = reply(b"220 Service ready for new user.\r\n");
        assert_eq!(f.code, 220);
        assert_eq!(f.text, "Service ready for new user.");
        assert_eq!(f.lines, 1);
        assert!(f.command.is_empty());
    }

    #[test]
    fn multi_line_reply_rfc_959() {
        // RFC 959 4.2's example.
        let f = reply(
            b"123-First line\r\nSecond line\r\n  234 A line beginning with numbers\r\n123 The last line\r\n",
        );
        assert_eq!(f.code, 123);
        assert_eq!(f.text, "First line");
        assert_eq!(f.lines, 4);
        // A continuation segment: no code, the line is the text.
        let f = reply(b" MDTM\r\n SIZE\r\n");
        assert_eq!((f.code, f.text.as_str(), f.lines), (0, " MDTM", 2));
    }

    #[test]
    fn port_command_rfc_959() {
        // RFC 959 4.1.2: PORT h1,h2,h3,h4,p1,p2; port = p1 * 256 + p2.
        let f = request(b"PORT 141,142,220,235,131,46\r\n");
        assert_eq!(f.active_ip, "141.142.220.235");
        assert_eq!(f.active_port, 131 * 256 + 46);
        assert_eq!(
            Announcement::of(&f),
            Some(Announcement::Active(
                "141.142.220.235".parse().unwrap(),
                33582
            ))
        );
    }

    #[test]
    fn pasv_reply_forms() {
        // The forms curl lists as seen in the wild, with and without parentheses.
        for s in [
            &b"227 Entering Passive Mode (127,0,0,1,4,51)\r\n"[..],
            b"227 Data transfer will passively listen to 127,0,0,1,4,51\r\n",
            b"227 Entering passive mode. 127,0,0,1,4,51\r\n",
        ] {
            let f = reply(s);
            assert_eq!((f.passive_ip.as_str(), f.passive_port), ("127.0.0.1", 1075));
            assert!(f.problem.is_empty());
        }
    }

    #[test]
    fn eprt_rfc_2428() {
        // RFC 2428 section 2's examples.
        let f = request(b"EPRT |1|132.235.1.2|6275|\r\n");
        assert_eq!((f.eprt_ip.as_str(), f.eprt_port), ("132.235.1.2", 6275));
        let f = request(b"EPRT |2|1080::8:800:200C:417A|5282|\r\n");
        assert_eq!(
            (f.eprt_ip.as_str(), f.eprt_port),
            ("1080::8:800:200c:417a", 5282)
        );
        assert!(request(b"EPRT |3|x|1|\r\n").problem.contains("family"));
        assert!(request(b"EPRT 1|1.2.3.4|5|\r\n")
            .problem
            .contains("delimiter"));
        assert!(request(b"EPRT |1|1.2.3.4|99999|\r\n")
            .problem
            .contains("port"));
    }

    #[test]
    fn epsv_rfc_2428() {
        // RFC 2428 section 3's example.
        let f = reply(b"229 Entering Extended Passive Mode (|||6446|)\r\n");
        assert_eq!(f.epsv_port, 6446);
        assert_eq!(
            Announcement::of(&f),
            Some(Announcement::ExtendedPassive(6446))
        );
        // A parenthesis in the text before the real one.
        let f = reply(b"229 Ok (really) (!!!21!)\r\n");
        assert_eq!(f.epsv_port, 21);
        assert!(reply(b"229 Ok (|||0|)\r\n").problem.contains("port"));
        assert!(reply(b"229 Ok\r\n").problem.contains("|||port|"));
    }

    #[test]
    fn garbage_port_arguments_are_refused() {
        for arg in [
            &b"PORT 300,1,1,1,1,1\r\n"[..],
            b"PORT 1,1,1,1,1,256\r\n",
            b"PORT 1,2,3\r\n",
            b"PORT 99999999999999999999,1,1,1,1,1\r\n",
            b"PORT 1,1,1,1,0,0\r\n",
        ] {
            let f = request(arg);
            assert_eq!(f.active_port, 0, "{arg:?}");
            assert!(!f.problem.is_empty(), "{arg:?}");
            assert_eq!(Announcement::of(&f), None);
        }
    }

    #[test]
    fn long_line_is_cut() {
        let mut s = b"USER ".to_vec();
        s.resize(MAX_LINE * 3, b'a');
        let f = request(&s);
        assert_eq!(f.arg.len(), MAX_LINE - 5);
        assert!(f.problem.contains("cut"));
    }

    #[test]
    fn direction_guess() {
        let (f, len) = parse(b"230 Logged in\r\n").unwrap();
        assert_eq!((f.code, len), (230, 15));
        let (f, _) = parse(b"QUIT\r\n").unwrap();
        assert_eq!(f.command, "QUIT");
    }
}
