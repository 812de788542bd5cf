//! The pcapng reader over whole files (seeds: the corpus's pcapng files). The first four
//! bytes are always the Section Header Block type, so that every input is read as pcapng.
#![no_main]

use std::sync::Mutex;

use libfuzzer_sys::fuzz_target;
use pcapkit_fuzz::{check_reader, Scratch};

static SCRATCH: Mutex<Option<Scratch>> = Mutex::new(None);

fuzz_target!(|data: &[u8]| {
    let mut input = vec![0x0a, 0x0d, 0x0d, 0x0a];
    input.extend_from_slice(data.get(4..).unwrap_or_default());
    let mut scratch = SCRATCH.lock().unwrap();
    check_reader(&input, scratch.get_or_insert_with(Scratch::new));
});
