//! Times the two halves of a run with reassembly on one thread, apart: the stateless
//! dissection of every frame, and the session's stateful stages over them (IP
//! defragmentation, TCP streams, PDUs), batch by batch as the default engine hands them
//! over. The best of several rounds, so that a change to either half can be measured
//! without the noise of two threads. The frames are read into memory first.
//!
//! ```sh
//! cargo run --release --example phases -- capture.pcap    # ROUNDS=12 by default
//! ```
//!
//! With `valgrind --tool=callgrind --toggle-collect='phases::session_batch'` and
//! `ROUNDS=1`, it counts the session's instructions alone (`phases::dissect_batch`: the
//! dissection's).

use std::time::{Duration, Instant};

use pcapkit::chain;
use pcapkit::reassembly::ReassemblyOptions;
use pcapkit::session::Session;
use pcapkit::{Extractor, Frame, Thresholds};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Frames handed over at a time, as the engines' batches.
const BATCH: usize = 256;

fn main() -> Result<(), pcapkit::Error> {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: phases CAPTURE");
        std::process::exit(2);
    };
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(12);
    let mut extractor = Extractor::builder().input(&path).store(false).build()?;
    let mut frames: Vec<Frame> = (&mut extractor).collect();
    // As the CLI dissects with `--ip --tcp --nofile`.
    let thresholds = Thresholds {
        views: true,
        defer_streams: true,
        ..Thresholds::default()
    };
    let options = ReassemblyOptions {
        ipv4: true,
        ipv6: true,
        tcp: true,
        ..Default::default()
    };
    let (mut best_dissect, mut best_session) = (Duration::MAX, Duration::MAX);
    for _ in 0..rounds {
        let mut session = Session::new(options, thresholds);
        let (mut dissect, mut process) = (Duration::ZERO, Duration::ZERO);
        for batch in frames.chunks_mut(BATCH) {
            let t = Instant::now();
            dissect_batch(batch, &thresholds);
            dissect += t.elapsed();
            let t = Instant::now();
            session_batch(&mut session, batch);
            process += t.elapsed();
        }
        let t = Instant::now();
        session.finish();
        process += t.elapsed();
        best_dissect = best_dissect.min(dissect);
        best_session = best_session.min(process);
    }
    println!(
        "{path}: {} frames, best of {rounds}: dissect {best_dissect:.2?}, session {best_session:.2?}",
        frames.len()
    );
    Ok(())
}

/// The stateless half, apart so that callgrind can count it alone
/// (`--toggle-collect=phases::dissect_batch`).
#[inline(never)]
fn dissect_batch(batch: &mut [Frame], thresholds: &Thresholds) {
    for f in batch.iter_mut() {
        chain::dissect(&f.data, f.linktype, thresholds, &mut f.layers);
    }
}

/// The session's half (`--toggle-collect=phases::session_batch`).
#[inline(never)]
fn session_batch(session: &mut Session, batch: &mut [Frame]) {
    for f in batch.iter_mut() {
        let data = std::mem::take(&mut f.data);
        session.process(f, &data);
        f.data = data;
        f.clear_reassembly();
    }
}
