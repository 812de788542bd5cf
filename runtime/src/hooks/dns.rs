//! DNS: the message is read from `specs/application/dns.toml`; this module holds its
//! hand-written view (`[protocol] view = "DnsView"`), for the chain's walk through views.

use crate::chain::HeaderView;
use crate::dnsname::{MAX_HOPS, MAX_NAME_BYTES};
use crate::layer::DissectError;
use crate::protocols::dns::{Dns, Question, Rr};
use crate::protocols::Next;
use crate::value::Visitor;

/// A view of a DNS message over its bytes: [`HeaderView::read`] finds where the message
/// ends, checking its names and records as the spec's reader does, without making them;
/// the [`Dns`] struct is read only when the values are wanted.
///
/// It accepts exactly what the struct's reader accepts, with the same length: the
/// 12-byte header, then each question (a name and 4 bytes) and each resource record (a
/// name, 8 bytes, a 16-bit length and that many bytes of data, whose layout never fails:
/// data that does not read as its type's is kept as bytes). A name is read as
/// `dnsname::read` reads it: labels up to a zero byte or a compression pointer, followed
/// through the message, at most 255 bytes and 127 pointers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DnsView<'a> {
    /// The bytes the message was read from: its compression pointers may point past
    /// its end, into what follows it.
    input: &'a [u8],
    /// The message's length.
    len: usize,
}

impl<'a> DnsView<'a> {
    /// The message's bytes.
    pub fn as_bytes(&self) -> &'a [u8] {
        &self.input[..self.len]
    }

    /// The decoded message (read, as the view, from the bytes it was found in).
    pub fn decode(&self) -> Option<Dns> {
        Dns::parse(self.input).ok().map(|(dns, _)| dns)
    }
}

impl<'a> HeaderView<'a> for DnsView<'a> {
    fn read(input: &'a [u8]) -> Option<(Self, usize)> {
        let head = input.first_chunk::<12>()?;
        let count = |i: usize| usize::from(u16::from_be_bytes([head[i], head[i + 1]]));
        let questions = count(4);
        let records = count(6) + count(8) + count(10);
        let mut at = 12;
        for _ in 0..questions {
            at = name_end(input, at)?.checked_add(4)?;
        }
        for _ in 0..records {
            at = name_end(input, at)?.checked_add(8)?;
            let length = input.get(at..at + 2)?;
            let length = usize::from(u16::from_be_bytes([length[0], length[1]]));
            at = at.checked_add(2 + length)?;
        }
        input.get(..at)?;
        Some((DnsView { input, len: at }, at))
    }

    fn check(&self) -> Result<(), DissectError> {
        Ok(())
    }

    fn payload_len(&self, _captured: u64) -> Option<u64> {
        None
    }

    fn next_protocol(&self, _payload: &[u8]) -> Option<Next> {
        None
    }

    /// The values of the decoded message, in the same order, without its lists: the
    /// struct's own `visit` shows the fixed header with the four sections left empty (an
    /// empty list allocates nothing), and [`Sections`] fills each section in as it
    /// closes, one record at a time, each read on the stack.
    fn visit<V: Visitor + ?Sized>(&self, v: &mut V) {
        let Some(head) = self.input.first_chunk::<12>() else {
            return;
        };
        let word = |i: usize| u16::from_be_bytes([head[i], head[i + 1]]);
        let header = Dns {
            id: word(0),
            flags: word(2),
            qdcount: word(4),
            ancount: word(6),
            nscount: word(8),
            arcount: word(10),
            questions: Vec::new(),
            answers: Vec::new(),
            authority: Vec::new(),
            additional: Vec::new(),
        };
        let counts = [
            header.qdcount,
            header.ancount,
            header.nscount,
            header.arcount,
        ];
        crate::dnsname::with_message(self.input, || {
            header.visit(&mut Sections {
                message: self.input,
                at: 12,
                counts,
                section: 0,
                inner: v,
            })
        });
    }
}

/// Passes a message's values on to `inner`, reading the records of each section from the
/// message as the (empty) list of that section ends.
struct Sections<'m, 'v, V: ?Sized> {
    message: &'m [u8],
    /// Where the next record starts.
    at: usize,
    /// Records in each section, from the header.
    counts: [u16; 4],
    /// Sections begun so far.
    section: usize,
    inner: &'v mut V,
}

impl<V: Visitor + ?Sized> Sections<'_, '_, V> {
    fn records<T>(&mut self, count: u16, visit: impl Fn(&T, &mut V))
    where
        T: for<'a> deku::DekuReader<'a, deku::ctx::Endian>,
    {
        for _ in 0..count {
            let Some(rest) = self.message.get(self.at..) else {
                return;
            };
            // The view checked every record as the struct's reader does: none fails.
            let Ok((record, len)) = crate::wire::read_header::<T, _>(rest, deku::ctx::Endian::Big)
            else {
                return;
            };
            self.at += len;
            self.inner.begin_item();
            visit(&record, self.inner);
            self.inner.end_item();
        }
    }
}

impl<V: Visitor + ?Sized> Visitor for Sections<'_, '_, V> {
    fn field(&mut self, info: &'static crate::value::FieldInfo, value: crate::value::Value<'_>) {
        self.inner.field(info, value);
    }

    fn whole(&mut self, info: &'static crate::value::FieldInfo, value: crate::value::Value<'_>) {
        self.inner.whole(info, value);
    }

    fn begin_list(&mut self, info: &'static crate::value::FieldInfo) {
        self.section += 1;
        self.inner.begin_list(info);
    }

    fn end_list(&mut self) {
        match self.section {
            1 => self.records(self.counts[0], |q: &Question, v| q.visit(v)),
            n @ 2..=4 => self.records(self.counts[n - 1], |r: &Rr, v| r.visit(v)),
            _ => {}
        }
        self.inner.end_list();
    }

    fn begin_item(&mut self) {
        self.inner.begin_item();
    }

    fn end_item(&mut self) {
        self.inner.end_item();
    }

    fn begin_record(&mut self, info: &'static crate::value::FieldInfo) {
        self.inner.begin_record(info);
    }

    fn end_record(&mut self) {
        self.inner.end_record();
    }

    fn wants_list(
        &mut self,
        info: &'static crate::value::FieldInfo,
        values: &'static [crate::value::FieldInfo],
    ) -> bool {
        self.inner.wants_list(info, values)
    }
}

/// Where the name at `at` in `message` ends (after its zero byte or its pointer), if it
/// reads as `dnsname::read` reads it, following its pointers as `dnsname::follow` does.
fn name_end(message: &[u8], at: usize) -> Option<usize> {
    let mut wire_len = 0;
    let (mut target, end) = match labels(message, at, &mut wire_len)? {
        Labels::End(end) => return Some(end),
        Labels::Pointer { target, after } => (target, after),
    };
    let mut hops = 1;
    loop {
        match labels(message, target, &mut wire_len)? {
            Labels::End(_) => return Some(end),
            Labels::Pointer { target: next, .. } => {
                hops += 1;
                if hops > MAX_HOPS {
                    return None;
                }
                target = next;
            }
        }
    }
}

/// How a run of labels ends.
enum Labels {
    /// With a zero byte; the offset after it.
    End(usize),
    /// With a compression pointer: where it points, and the offset after it.
    Pointer { target: usize, after: usize },
}

/// Reads the labels at `at` up to a zero byte or a compression pointer, adding their
/// bytes to the name's `wire_len`; `None` where `dnsname` fails (a label past the end,
/// a reserved label type, a name over 255 bytes).
fn labels(message: &[u8], mut at: usize, wire_len: &mut usize) -> Option<Labels> {
    loop {
        let len = *message.get(at)?;
        match len & 0xc0 {
            0x00 if len == 0 => return Some(Labels::End(at + 1)),
            0x00 => {
                message.get(at + 1..at + 1 + usize::from(len))?;
                *wire_len += 1 + usize::from(len);
                if *wire_len + 1 > MAX_NAME_BYTES {
                    return None;
                }
                at += 1 + usize::from(len);
            }
            0xc0 => {
                let low = *message.get(at + 1)?;
                return Some(Labels::Pointer {
                    target: usize::from(u16::from_be_bytes([len & 0x3f, low])),
                    after: at + 2,
                });
            }
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Transcript;
    use proptest::prelude::*;

    /// The view's length against the struct reader's, on `input`, and the values each
    /// shows.
    fn agree(input: &[u8]) -> Result<(), TestCaseError> {
        let view = DnsView::read(input);
        let parsed = Dns::parse(input).ok();
        prop_assert_eq!(
            view.map(|(_, len)| len),
            parsed.as_ref().map(|(_, len)| *len),
            "{:02x?}",
            input
        );
        if let (Some((view, _)), Some((dns, _))) = (view, parsed) {
            let (mut a, mut b) = (Transcript::default(), Transcript::default());
            view.visit(&mut a);
            dns.visit(&mut b);
            prop_assert_eq!(a, b, "{:02x?}", input);
        }
        Ok(())
    }

    /// A query for www.example.com A with an OPT record, and a response with a pointer.
    const QUERY: &[u8] = b"\x4f\x3a\x01\x00\x00\x01\x00\x00\x00\x00\x00\x01\
        \x03www\x07example\x03com\x00\x00\x01\x00\x01\
        \x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00";
    const RESPONSE: &[u8] = b"\x4f\x3a\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00\
        \x03www\x07example\x03com\x00\x00\x01\x00\x01\
        \xc0\x0c\x00\x01\x00\x01\x00\x00\x0e\x10\x00\x04\x5d\xb8\xd8\x22";

    #[test]
    fn messages_end_where_the_struct_reader_ends_them() {
        for m in [QUERY, RESPONSE] {
            assert_eq!(DnsView::read(m).map(|(_, n)| n), Some(m.len()));
            agree(m).unwrap();
            // Cut anywhere: both refuse (or, past the last record, both stop there).
            for cut in 0..m.len() {
                agree(&m[..cut]).unwrap();
            }
        }
    }

    #[test]
    fn pointer_loops_and_bad_label_types_are_refused_by_both() {
        let mut looped = RESPONSE.to_vec();
        // The answer's name points at itself.
        looped[34] = 33;
        agree(&looped).unwrap();
        assert!(DnsView::read(&looped).is_none());
        let mut bad = QUERY.to_vec();
        bad[12] = 0x45;
        agree(&bad).unwrap();
        assert!(DnsView::read(&bad).is_none());
    }

    #[test]
    fn pointers_past_the_message_resolve_in_what_follows() {
        // The answer's name points 2 bytes past the message's end, where a root name
        // lies (a hostile message, but the struct reader reads it so: fuzzing found it).
        let mut m = RESPONSE.to_vec();
        let end = m.len();
        m[34] = (end + 2) as u8;
        m.extend_from_slice(&[0xff, 0xff, 0]);
        agree(&m).unwrap();
        let (view, len) = DnsView::read(&m).unwrap();
        assert_eq!(len, end);
        let decoded = view.decode().expect("read from the bytes it was found in");
        assert_eq!(Some(decoded), Dns::parse(&m).ok().map(|(dns, _)| dns));
    }

    #[test]
    fn pointer_chains_end_at_the_same_hop_limit() {
        for pointers in [MAX_HOPS - 1, MAX_HOPS, MAX_HOPS + 1] {
            // One question whose name is a pointer into a chain of pointers, each to
            // the next, the last to a root name.
            let mut m = b"\x00\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00".to_vec();
            let chain = 12 + 2 + 4;
            m.extend_from_slice(&[0xc0 | (chain >> 8) as u8, chain as u8, 0, 1, 0, 1]);
            for k in 1..pointers {
                let next = chain + 2 * k;
                m.extend_from_slice(&[0xc0 | (next >> 8) as u8, next as u8]);
            }
            m.push(0);
            agree(&m).unwrap();
            assert_eq!(
                DnsView::read(&m).is_some(),
                pointers <= MAX_HOPS,
                "{pointers} pointers"
            );
        }
    }

    #[test]
    fn names_end_at_the_same_length_limit() {
        // Three labels of 63 bytes and one of `last`: 255 bytes with the root for 61.
        for last in [60u8, 61, 62] {
            let mut name = Vec::new();
            for len in [63, 63, 63, last] {
                name.push(len);
                name.extend(std::iter::repeat_n(b'a', usize::from(len)));
            }
            name.push(0);
            // The name in the question, then once more behind a pointer to it.
            let mut m = b"\x00\x01\x01\x00\x00\x02\x00\x00\x00\x00\x00\x00".to_vec();
            m.extend_from_slice(&name);
            m.extend_from_slice(&[0, 1, 0, 1, 0xc0, 12, 0, 1, 0, 1]);
            agree(&m).unwrap();
            assert_eq!(DnsView::read(&m).is_some(), last <= 61, "last label {last}");
        }
    }

    proptest! {
        #[test]
        fn the_view_agrees_with_the_struct_reader_on_any_bytes(
            input in prop::collection::vec(any::<u8>(), 0..96),
        ) {
            agree(&input)?;
        }

        /// Real messages with bytes changed: names, pointers, counts and lengths broken.
        #[test]
        fn the_view_agrees_on_damaged_messages(
            response in any::<bool>(),
            flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
            cut in any::<prop::sample::Index>(),
        ) {
            let mut m = if response { RESPONSE.to_vec() } else { QUERY.to_vec() };
            for (at, byte) in flips {
                let i = at.index(m.len());
                m[i] = byte;
            }
            agree(&m)?;
            let keep = cut.index(m.len() + 1);
            agree(&m[..keep])?;
        }
    }
}
