//! Every generated dissector on its own: the first byte picks the protocol (in
//! `ProtocolId::ALL` order), the rest is its input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pcapkit::protocols::{self, ProtocolId};
use pcapkit_fuzz::Values;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, input)) = data.split_first() else {
        return;
    };
    let protocol = ProtocolId::ALL[usize::from(pick) % ProtocolId::ALL.len()];
    match protocols::dissect(protocol, input) {
        Ok((header, len)) => {
            assert!(
                len <= input.len(),
                "{protocol:?} read {len} of {} bytes",
                input.len()
            );
            assert_eq!(header.protocol(), protocol);
            let payload = &input[len..];
            header.payload_len(payload.len() as u64);
            header.next_protocol(payload);
            let mut values = Values::default();
            header.visit(&mut values);
            values.finish();
            // A header is read from its own bytes: the same bytes alone read the same
            // (but an empty header, like raw IP's, looks at what follows it).
            if len > 0 {
                match protocols::dissect(protocol, &input[..len]) {
                    Ok((again, again_len)) => {
                        assert_eq!((&again, again_len), (&header, len), "{protocol:?} alone")
                    }
                    // A DNS message's compression pointers may point past its last record,
                    // into the rest of the bytes it was read from (a UDP payload is the
                    // whole message): alone, its bytes lack what such a pointer names, or
                    // hold only the start of a label it leads to. Those two reasons are
                    // the only ones a pointer followed into missing bytes can give.
                    Err(e)
                        if protocol == ProtocolId::Dns
                            && (e.reason.contains("compression pointer points past")
                                || e.reason.contains("a label runs past the end")) => {}
                    Err(e) => panic!("{protocol:?}: its own {len} bytes fail alone: {}", e.reason),
                }
            }
        }
        Err(_) => {
            if let Some(header) = protocols::dissect_partial(protocol, input) {
                let mut values = Values::default();
                header.visit(&mut values);
                values.finish();
            }
        }
    }
});
