//! A bounded set of open trace files: thousands of concurrent flows must not run out of
//! file descriptors, so at most `max` files stay open; the oldest opened is closed to
//! make room, and a file written again is reopened to append.

use std::collections::{HashMap, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

pub struct OpenFiles {
    max: usize,
    open: HashMap<usize, File>,
    /// Flows in the order their files were opened.
    order: VecDeque<usize>,
    /// Files opened, reopenings included (for tests and statistics).
    opened: u64,
}

impl OpenFiles {
    /// At most `max` (at least 1) files open at once.
    pub fn new(max: usize) -> OpenFiles {
        OpenFiles {
            max: max.max(1),
            open: HashMap::new(),
            order: VecDeque::new(),
            opened: 0,
        }
    }

    /// Appends `data` to flow `id`'s file `path`, creating it when `create` (a new file
    /// must not exist: two flows never share one).
    pub fn append(&mut self, id: usize, path: &Path, create: bool, data: &[u8]) -> io::Result<()> {
        if !self.open.contains_key(&id) {
            while self.open.len() >= self.max {
                let Some(old) = self.order.pop_front() else {
                    break;
                };
                self.open.remove(&old);
            }
            let file = loop {
                let opened = if create {
                    OpenOptions::new().write(true).create_new(true).open(path)
                } else {
                    OpenOptions::new().append(true).open(path)
                };
                match opened {
                    Ok(file) => break file,
                    // The process's descriptor limit is lower than `max`: make do with
                    // half the files open now, from here on.
                    Err(e) if is_out_of_descriptors(&e) && !self.open.is_empty() => {
                        self.max = (self.open.len() / 2).max(1);
                        while self.open.len() >= self.max {
                            let Some(old) = self.order.pop_front() else {
                                break;
                            };
                            self.open.remove(&old);
                        }
                    }
                    Err(e) => return Err(e),
                }
            };
            self.opened += 1;
            self.open.insert(id, file);
            self.order.push_back(id);
        }
        let file = self.open.get_mut(&id).expect("opened above");
        file.write_all(data)
    }

    /// Closes flow `id`'s file, if open.
    pub fn close(&mut self, id: usize) {
        if self.open.remove(&id).is_some() {
            self.order.retain(|&i| i != id);
        }
    }

    /// Files open now.
    pub fn len(&self) -> usize {
        self.open.len()
    }

    /// Files opened so far, reopenings included.
    pub fn opened(&self) -> u64 {
        self.opened
    }
}

/// EMFILE (the process's limit) or ENFILE (the system's).
fn is_out_of_descriptors(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(23 | 24))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_more_than_max_open_and_appends_on_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let mut files = OpenFiles::new(2);
        let path = |i: usize| dir.path().join(format!("f{i}"));
        for i in 0..5 {
            files.append(i, &path(i), true, b"a").unwrap();
            assert!(files.len() <= 2);
        }
        // Flow 0 was closed to make room: it is reopened and appended to.
        files.append(0, &path(0), false, b"b").unwrap();
        assert!(files.len() <= 2);
        assert_eq!(files.opened(), 6);
        files.close(0);
        assert_eq!(std::fs::read(path(0)).unwrap(), b"ab");
        assert_eq!(std::fs::read(path(4)).unwrap(), b"a");
        // A new flow never takes an existing file.
        assert!(files.append(9, &path(1), true, b"x").is_err());
    }
}
