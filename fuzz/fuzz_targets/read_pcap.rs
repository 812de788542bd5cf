//! The pcap reader over whole files (seeds: the corpus's pcap files). Inputs starting
//! with pcapng's magic are left to `read_pcapng`.
#![no_main]

use std::sync::Mutex;

use libfuzzer_sys::fuzz_target;
use pcapkit_fuzz::{check_reader, Scratch};

static SCRATCH: Mutex<Option<Scratch>> = Mutex::new(None);

fuzz_target!(|data: &[u8]| {
    if data.starts_with(&[0x0a, 0x0d, 0x0d, 0x0a]) {
        return;
    }
    let mut scratch = SCRATCH.lock().unwrap();
    check_reader(data, scratch.get_or_insert_with(Scratch::new));
});
