//! Waking a producer less often. A producer blocked on a full bounded channel is woken by
//! every item the consumer takes: one wake-up (a system call, and in a virtual machine
//! an interrupt between processors) per batch, for as long as the consumer is the slower
//! side. [`Room`] lets the producer wait instead until the consumer has drained the
//! channel down to a low mark, so it is woken once for several batches and then sends
//! them without blocking.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

/// Items in a channel, counted by both ends, and where a waiting producer sleeps.
pub(crate) struct Room {
    /// Items sent and not yet taken.
    queued: AtomicUsize,
    /// A waiting producer is woken when at most this many are left.
    low: usize,
    /// The producer is waiting (guarded, so that a wake-up is never lost).
    waiting: Mutex<bool>,
    drained: Condvar,
    /// The consumer is gone: nobody will drain the channel.
    closed: AtomicBool,
}

impl Room {
    /// An empty room whose waiting producer is woken at `low` items left.
    pub(crate) fn new(low: usize) -> Room {
        Room {
            queued: AtomicUsize::new(0),
            low,
            waiting: Mutex::new(false),
            drained: Condvar::new(),
            closed: AtomicBool::new(false),
        }
    }

    /// The producer sent an item.
    pub(crate) fn sent(&self) {
        self.queued.fetch_add(1, Ordering::SeqCst);
    }

    /// The consumer took an item; wakes the producer if it waits and the low mark is
    /// reached.
    pub(crate) fn taken(&self) {
        let left = self.queued.fetch_sub(1, Ordering::SeqCst).saturating_sub(1);
        if left <= self.low {
            self.wake();
        }
    }

    /// Items sent and not yet taken.
    pub(crate) fn queued(&self) -> usize {
        self.queued.load(Ordering::SeqCst)
    }

    /// The producer waits until the low mark is reached, or the consumer is gone.
    pub(crate) fn wait(&self) {
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        while self.queued() > self.low && !self.closed.load(Ordering::SeqCst) {
            *waiting = true;
            waiting = self
                .drained
                .wait(waiting)
                .unwrap_or_else(|e| e.into_inner());
        }
        *waiting = false;
    }

    /// The consumer is gone: a waiting producer returns.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.wake();
    }

    fn wake(&self) {
        let waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        if *waiting {
            self.drained.notify_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::thread;

    #[test]
    fn a_producer_waits_until_the_low_mark() {
        let room = Arc::new(Room::new(1));
        for _ in 0..4 {
            room.sent();
        }
        let consumer = {
            let room = Arc::clone(&room);
            thread::spawn(move || {
                for _ in 0..3 {
                    room.taken();
                }
            })
        };
        room.wait();
        assert!(room.queued() <= 1);
        consumer.join().unwrap();
        assert_eq!(room.queued(), 1);
    }

    #[test]
    fn a_waiting_producer_returns_when_the_consumer_is_gone() {
        let room = Arc::new(Room::new(0));
        room.sent();
        room.sent();
        let closer = {
            let room = Arc::clone(&room);
            thread::spawn(move || room.close())
        };
        room.wait();
        closer.join().unwrap();
        assert_eq!(room.queued(), 2);
    }
}
