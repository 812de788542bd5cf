//! Walking the chain through generated views: a header whose fields all lie at byte
//! offsets (IPv4, TCP, Ethernet, ...) has an `XxxView<'a>` over its bytes, from the same
//! spec as its struct. The chain reads through it what it needs to go on (the header's
//! length, the payload length it declares, the next protocol) and leaves the header
//! undecoded ([`LayerKind::View`](super::LayerKind::View)), for consumers that read the
//! values from the frame's bytes when they want them (the `fields` output), or not at all.

use crate::layer::DissectError;
use crate::protocols::Next;
use crate::value::Visitor;

/// A generated view over a header's bytes (`Ipv4View`, `TcpView`, ...).
///
/// ```
/// use pcapkit::chain::HeaderView;
/// use pcapkit::protocols::udp::UdpView;
///
/// let bytes = [0x30, 0x39, 0x00, 0x35, 0x00, 0x0c, 0x00, 0x00, 1, 2, 3, 4];
/// let (udp, len) = UdpView::new(&bytes).unwrap();
/// assert_eq!((udp.srcport(), udp.dstport(), len), (12345, 53, 8));
/// assert_eq!(HeaderView::payload_len(&udp, 4), Some(4));
/// ```
pub trait HeaderView<'a>: Sized + Copy {
    /// The view of the header at the start of `input`, and the header's length; `None`
    /// when the bytes fall short.
    fn read(input: &'a [u8]) -> Option<(Self, usize)>;
    /// Checks the spec's assertions, as the struct's `check` does.
    fn check(&self) -> Result<(), DissectError>;
    /// The payload length the header declares, given `captured` bytes after it.
    fn payload_len(&self, captured: u64) -> Option<u64>;
    /// The protocol of `payload`, by the spec's dispatch rules.
    fn next_protocol(&self, payload: &[u8]) -> Option<Next>;
    /// Hands every value of the header to `v`.
    fn visit<V: Visitor + ?Sized>(&self, v: &mut V);
}

/// What the chain needs of a header to go on, read through its view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// Bytes of the header.
    pub header_len: usize,
    /// Bytes of payload after the header that are in the input.
    pub payload_len: usize,
    /// Payload bytes the header declares that are not in the input.
    pub missing: u64,
    /// The protocol of the payload (`None` when `stop`, or when there is no payload).
    pub next: Option<Next>,
}

/// The chain's step over the header `V` at the start of `input`: `None` when the bytes
/// fall short or an assertion fails (the caller then dissects the header as usual, which
/// says why). With `stop`, the payload's protocol is not looked up.
#[inline]
pub fn step<'a, V: HeaderView<'a>>(input: &'a [u8], stop: bool) -> Option<Step> {
    let (view, header_len) = V::read(input)?;
    view.check().ok()?;
    Some(Step::over(
        input,
        header_len,
        stop,
        |available| view.payload_len(available),
        |payload| view.next_protocol(payload),
    ))
}

impl Step {
    /// The step over a header of `header_len` bytes at the start of `input`, read as a
    /// view or decoded: `declared` gives the payload length it declares for the bytes
    /// after it, `next` the protocol of its payload (not asked with `stop`, or when
    /// there is no payload).
    #[inline]
    pub(crate) fn over(
        input: &[u8],
        header_len: usize,
        stop: bool,
        declared: impl FnOnce(u64) -> Option<u64>,
        next: impl FnOnce(&[u8]) -> Option<Next>,
    ) -> Step {
        let available = input.len() - header_len;
        let declared = declared(available as u64);
        let payload_len = match declared {
            Some(d) => usize::try_from(d).unwrap_or(usize::MAX).min(available),
            None => available,
        };
        let missing = declared.map_or(0, |d| d.saturating_sub(available as u64));
        let payload = &input[header_len..header_len + payload_len];
        let next = if stop || payload.is_empty() {
            None
        } else {
            next(payload)
        };
        Step {
            header_len,
            payload_len,
            missing,
            next,
        }
    }
}
