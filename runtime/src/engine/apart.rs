//! Keeping the default engine's two threads on different processors. The caller and
//! the reader wake each other at every few batches; the kernel's scheduler then tends
//! to put the woken thread on the waker's processor, so for stretches both share one
//! while the other idles (a 2-processor machine showed 30 to 60 involuntary context
//! switches a run instead of about 5, and the run took a seventh longer).
//!
//! Each thread is barred from the processor the other starts on, nothing more: on a
//! larger machine both keep every other processor, so several runs side by side still
//! spread. Only on Linux; elsewhere, and with fewer than two processors allowed, this
//! does nothing. It changes the calling thread's affinity, so the library asks for it
//! only when told to ([`ExtractorBuilder::threads_apart`](crate::ExtractorBuilder::threads_apart));
//! the command line does.

/// The processors each thread may use.
#[derive(Clone, Copy)]
pub(crate) struct Apart {
    #[cfg(target_os = "linux")]
    caller: libc::cpu_set_t,
    #[cfg(target_os = "linux")]
    reader: libc::cpu_set_t,
}

impl Apart {
    /// The two sets, when at least two processors are allowed: the caller's processor
    /// now and the next allowed one after it are each taken from the other's set.
    #[cfg(target_os = "linux")]
    pub(crate) fn new() -> Option<Apart> {
        use libc::{cpu_set_t, sched_getaffinity, sched_getcpu, CPU_CLR, CPU_ISSET, CPU_SETSIZE};
        // SAFETY: a zeroed `cpu_set_t` is an empty set; the calls get its true size, and
        // the CPU_* helpers are given indices below CPU_SETSIZE.
        unsafe {
            let mut allowed: cpu_set_t = std::mem::zeroed();
            if sched_getaffinity(0, std::mem::size_of::<cpu_set_t>(), &mut allowed) != 0 {
                return None;
            }
            let cpus: Vec<usize> = (0..CPU_SETSIZE as usize)
                .filter(|&c| CPU_ISSET(c, &allowed))
                .collect();
            if cpus.len() < 2 {
                return None;
            }
            let here = usize::try_from(sched_getcpu()).ok();
            let caller_cpu = here.filter(|c| cpus.contains(c)).unwrap_or(cpus[0]);
            let reader_cpu = cpus
                .iter()
                .copied()
                .find(|&c| c > caller_cpu)
                .unwrap_or(cpus[0]);
            let (mut caller, mut reader) = (allowed, allowed);
            CPU_CLR(reader_cpu, &mut caller);
            CPU_CLR(caller_cpu, &mut reader);
            Some(Apart { caller, reader })
        }
    }

    #[cfg(not(target_os = "linux"))]
    pub(crate) fn new() -> Option<Apart> {
        None
    }

    /// Keeps the calling thread to the caller's set.
    pub(crate) fn enter_caller(&self) {
        #[cfg(target_os = "linux")]
        set(&self.caller);
    }

    /// Keeps the calling thread to the reader's set.
    pub(crate) fn enter_reader(&self) {
        #[cfg(target_os = "linux")]
        set(&self.reader);
    }
}

/// Sets the calling thread's affinity; a refusal (a container's policy) leaves it as it
/// was, which only costs the speed this was for.
#[cfg(target_os = "linux")]
fn set(cpus: &libc::cpu_set_t) {
    // SAFETY: `cpus` is a whole `cpu_set_t`; thread id 0 is the calling thread.
    unsafe {
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), cpus);
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn the_two_sets_each_bar_one_processor_the_other_keeps() {
        // SAFETY: whole sets, indices below CPU_SETSIZE.
        unsafe {
            let mut allowed: libc::cpu_set_t = std::mem::zeroed();
            libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut allowed);
            let count = |s: &libc::cpu_set_t| libc::CPU_COUNT(s);
            let apart = Apart::new();
            if count(&allowed) < 2 {
                assert!(apart.is_none(), "one processor: nothing to keep apart");
                return;
            }
            let apart = apart.expect("two processors or more");
            assert_eq!(count(&apart.caller), count(&allowed) - 1);
            assert_eq!(count(&apart.reader), count(&allowed) - 1);
            let only = |a: &libc::cpu_set_t, b: &libc::cpu_set_t| {
                (0..libc::CPU_SETSIZE as usize)
                    .filter(|&c| libc::CPU_ISSET(c, a) && !libc::CPU_ISSET(c, b))
                    .count()
            };
            assert_eq!(only(&apart.caller, &apart.reader), 1);
            assert_eq!(only(&apart.reader, &apart.caller), 1);
        }
    }
}
