//! The HTTP/1 hook: `message_len` (how TCP reassembly cuts messages from a stream) and
//! `parse` (the header fields). The first byte sets the framing context.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pcapkit::hooks::http::{self, Framing, FramingContext};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, stream)) = data.split_first() else {
        return;
    };
    let cx = FramingContext {
        closed: flags & 1 != 0,
        head_request: flags & 2 != 0,
    };
    match http::message_len(stream, cx) {
        Framing::Complete(n) => {
            assert!(n <= stream.len(), "Complete({n}) of {} bytes", stream.len());
            assert!(n > 0 || stream.is_empty(), "an empty message");
            // Unless the close delimits it, a message is delimited by its own bytes:
            // it alone frames the same, and bytes after it change nothing.
            if !cx.closed {
                assert_eq!(http::message_len(&stream[..n], cx), Framing::Complete(n));
            }
        }
        Framing::Needs(n) => {
            assert!(
                n > stream.len(),
                "Needs({n}) with {} bytes there",
                stream.len()
            )
        }
        Framing::Incomplete | Framing::NotMessage => {}
    }
    if let Ok((_, len)) = http::parse(stream) {
        assert!(
            len <= stream.len(),
            "parse read {len} of {} bytes",
            stream.len()
        );
    }
    http::looks_like_http(stream);
});
