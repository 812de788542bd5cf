//! The protocol chain: from a link type, dissect header after header, each payload going
//! to the protocol its header's dispatch table names, until a threshold, an unknown key,
//! or the end of the bytes.
//!
//! Bad input never panics and never aborts: a header that cannot be read becomes a
//! `Malformed` layer (protocol and reason) and the layers before it stay.

mod frame;
mod view;

pub use frame::{tcp_len, Frame, Layer, LayerKind, Reassembled, ReassemblyKind, Timestamp};
pub use view::{step, HeaderView, Step};

use crate::layer::Level;
use crate::protocols::{self, Next, ProtocolId};

/// Where dissection stops: the protocol that matches is dissected, its payload is Raw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Thresholds {
    /// Stop after the last protocol of this layer (`transport`: TCP is dissected, HTTP is not).
    pub layer: Option<Level>,
    /// Stop after this protocol.
    pub protocol: Option<ProtocolId>,
    /// Leave a TCP payload undissected when its protocol is cut into PDUs on the stream
    /// (a `[stream]` section in its spec): the TCP layer is then the frame's last, with
    /// its payload still to dissect. For a session that reassembles TCP, which dissects
    /// the PDUs instead and the segment itself only if it is not framed (see
    /// `Session::process`): the segment's own dissection would mostly be thrown away.
    pub defer_streams: bool,
    /// Walk the headers that have a generated view (IPv4, TCP, Ethernet, ...) through it
    /// and leave them undecoded ([`LayerKind::View`]): for a consumer that reads values
    /// with [`Layer::visit_in`] (the `fields` output) or none at all (dissect only). The
    /// session decodes the headers it acts on ([`Layer::decode`]).
    pub views: bool,
}

impl Thresholds {
    fn stops_before(&self, next: ProtocolId) -> bool {
        self.layer.is_some_and(|l| next.layer() > l)
    }

    fn stops_after(&self, protocol: ProtocolId) -> bool {
        self.protocol == Some(protocol)
    }

    /// Whether the payload of a `protocol` header, bound to `next`, is left to the
    /// session (see [`defer_streams`](Self::defer_streams)).
    fn defers(&self, protocol: ProtocolId, next: Option<Next>) -> bool {
        self.defer_streams
            && protocol == ProtocolId::Tcp
            && next.is_some_and(|m| {
                m.protocol.stream_framer().is_some() && !self.stops_before(m.protocol)
            })
    }
}

/// Dissects a frame of `linktype` into `layers` (cleared first).
pub fn dissect(data: &[u8], linktype: u32, limits: &Thresholds, layers: &mut Vec<Layer>) {
    layers.clear();
    let start = protocols::table::linktype(u64::from(linktype));
    walk(data, start, limits, layers);
}

/// Dissects `data` starting with `protocol`, as if a table had sent it there.
pub fn dissect_from(
    protocol: ProtocolId,
    data: &[u8],
    limits: &Thresholds,
    layers: &mut Vec<Layer>,
) {
    layers.clear();
    walk(
        data,
        Some(Next {
            protocol,
            name: None,
        }),
        limits,
        layers,
    );
}

/// Dissects `data` as the payload a dispatch table sent to `next` (keeping the name the
/// binding gives it), appending to `layers`.
pub fn dissect_next(next: Next, data: &[u8], limits: &Thresholds, layers: &mut Vec<Layer>) {
    walk(data, Some(next), limits, layers);
}

/// A Raw layer over `len` bytes at `offset`.
pub fn raw(offset: usize, len: usize) -> Layer {
    Layer {
        kind: LayerKind::Raw,
        name: "Raw",
        offset,
        header_len: len,
        payload_len: 0,
        missing: 0,
        truncated: None,
    }
}

fn walk(data: &[u8], mut next: Option<Next>, limits: &Thresholds, layers: &mut Vec<Layer>) {
    // Appends: `dissect` and `dissect_from` clear first, `dissect_next` continues a list.
    let mut offset = 0;
    let mut end = data.len();
    loop {
        let Some(n) = next else {
            if offset < end {
                layers.push(raw(offset, end - offset));
            }
            return;
        };
        if limits.stops_before(n.protocol) {
            if offset < end {
                layers.push(raw(offset, end - offset));
            }
            return;
        }
        let input = &data[offset..end];
        if limits.views {
            let stop = limits.stops_after(n.protocol);
            if let Some(step) = protocols::view_step(n.protocol, input, stop) {
                let deferred = limits.defers(n.protocol, step.next);
                layers.push(Layer {
                    name: n.name.unwrap_or(n.protocol.name()),
                    kind: LayerKind::View(n.protocol),
                    offset,
                    header_len: step.header_len,
                    payload_len: step.payload_len,
                    missing: step.missing,
                    truncated: None,
                });
                if deferred {
                    return;
                }
                next = step.next;
                offset += step.header_len;
                end = offset + step.payload_len;
                continue;
            }
        }
        let (header, header_len) = match protocols::dissect(n.protocol, input) {
            Ok(ok) => ok,
            Err(e) => {
                layers.push(unreadable(n, offset, input, e.reason));
                return;
            }
        };
        let Step {
            payload_len,
            missing,
            next: after,
            ..
        } = Step::over(
            input,
            header_len,
            limits.stops_after(n.protocol),
            |available| header.payload_len(available),
            |payload| header.next_protocol(payload),
        );
        next = after;
        let deferred = limits.defers(n.protocol, next);
        layers.push(Layer {
            name: n.name.unwrap_or(n.protocol.name()),
            kind: LayerKind::Header(header),
            offset,
            header_len,
            payload_len,
            missing,
            truncated: None,
        });
        if deferred {
            return;
        }
        offset += header_len;
        end = offset + payload_len;
    }
}

/// Whether `input` reads as `n`: the layer the chain would make of it has a header (cut
/// short or not), not `Malformed`.
pub fn reads_as(n: Next, input: &[u8]) -> bool {
    match protocols::dissect(n.protocol, input) {
        Ok(_) => true,
        Err(e) => {
            e.reason.starts_with(crate::wire::TRUNCATED)
                && protocols::dissect_partial(n.protocol, input).is_some()
        }
    }
}

/// The layer for a header that could not be read: the values its captured bytes hold
/// when it was cut short, else `Malformed`.
fn unreadable(n: Next, offset: usize, input: &[u8], reason: String) -> Layer {
    if reason.starts_with(crate::wire::TRUNCATED) {
        if let Some(header) = protocols::dissect_partial(n.protocol, input) {
            return Layer {
                kind: LayerKind::Header(header),
                name: n.name.unwrap_or(n.protocol.name()),
                offset,
                header_len: input.len(),
                payload_len: 0,
                missing: 0,
                truncated: Some(reason.into_boxed_str()),
            };
        }
    }
    Layer {
        kind: LayerKind::Malformed {
            protocol: n.protocol,
            reason,
        },
        name: "Malformed",
        offset,
        header_len: input.len(),
        payload_len: 0,
        missing: 0,
        truncated: None,
    }
}
