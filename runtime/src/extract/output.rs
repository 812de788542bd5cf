//! The output file: written to a temporary file beside its final name and renamed into
//! place once complete, so a failed or interrupted run never leaves half a file.

use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::{interrupt, Error};

/// A file's identity: device and inode, the same through any link to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileId {
    dev: u64,
    ino: u64,
}

impl FileId {
    /// The identity of a regular file (other files cannot be overwritten by mistake: a
    /// FIFO or a device is written through, never replaced).
    pub fn of(metadata: &std::fs::Metadata) -> Option<FileId> {
        metadata.is_file().then(|| FileId {
            dev: metadata.dev(),
            ino: metadata.ino(),
        })
    }
}

pub enum Output {
    Stdout,
    File {
        /// The name the user gave.
        path: PathBuf,
        /// The file replaced: `path` with symbolic links resolved.
        target: PathBuf,
        temp: Option<tempfile::NamedTempFile>,
        /// The temporary file's registration, for removal if the process is interrupted.
        pending: u64,
    },
    /// Something that is not a regular file (`/dev/null`, a FIFO, a terminal): written
    /// directly, never replaced.
    Special {
        path: PathBuf,
        file: std::fs::File,
    },
    /// A directory of files (`--files`): filled under a temporary name beside it and
    /// renamed into place once complete, as a file is.
    Dir {
        path: PathBuf,
        temp: Option<tempfile::TempDir>,
        pending: u64,
    },
}

impl Output {
    /// `-` is standard output; a path gets `extension` appended when it lacks it. An
    /// output that is the `input` file, by any name, is refused.
    pub fn create(
        path: &Path,
        extension: Option<&str>,
        input: Option<(FileId, &str)>,
    ) -> Result<Output, Error> {
        if path == Path::new("-") {
            return Ok(Output::Stdout);
        }
        let mut path = path.to_owned();
        if let Some(ext) = extension {
            if path
                .extension()
                .is_none_or(|e| !e.eq_ignore_ascii_case(ext))
            {
                let mut name = path.into_os_string();
                name.push(".");
                name.push(ext);
                path = PathBuf::from(name);
            }
        }
        // Through symbolic and hard links alike: the same device and inode.
        let existing = std::fs::metadata(&path).ok();
        if let Some((id, name)) = input {
            if existing.as_ref().and_then(FileId::of) == Some(id) {
                return Err(Error::OutputIsInput {
                    output: path,
                    input: name.to_owned(),
                });
            }
        }
        if existing.is_some_and(|m| !m.is_file() && !m.is_dir()) {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(|source| Error::Write {
                    path: path.display().to_string(),
                    source,
                })?;
            return Ok(Output::Special { path, file });
        }
        // Through a symbolic link, the file it names is the one replaced, not the link.
        let target = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        let dir = containing_dir(&target);
        // Registered as it is created: an interruption finds it either way.
        let mut registry = interrupt::lock();
        let temp = tempfile::Builder::new()
            .prefix(".pcapkit-")
            .suffix(".tmp")
            // As any new file: 0666 less the umask, not a temporary file's 0600.
            .permissions(std::fs::Permissions::from_mode(0o666))
            .tempfile_in(&dir)
            .map_err(|source| Error::Write {
                source: missing_directory(&path, &dir).unwrap_or_else(|| plain(source)),
                path: path.display().to_string(),
            })?;
        let pending = registry.add_temp(temp.path().to_owned());
        Ok(Output::File {
            path,
            target,
            temp: Some(temp),
            pending,
        })
    }

    /// A directory for `--files`: it must not exist yet, or be empty (it is replaced
    /// whole); `-` is refused.
    /// `option` names what asked for it, in errors.
    pub fn create_dir(path: &Path, option: &str) -> Result<Output, Error> {
        let refuse = |why: &str| Error::Write {
            path: path.display().to_string(),
            source: io::Error::other(why.to_owned()),
        };
        if path == Path::new("-") {
            return Err(refuse(&format!(
                "{option} writes a directory, not standard output"
            )));
        }
        if let Ok(m) = std::fs::metadata(path) {
            let empty = m.is_dir()
                && std::fs::read_dir(path).is_ok_and(|mut entries| entries.next().is_none());
            if !empty {
                return Err(refuse(&format!("{option} needs a new or empty directory")));
            }
        }
        let dir = containing_dir(path);
        let mut registry = interrupt::lock();
        let temp = tempfile::Builder::new()
            .prefix(".pcapkit-")
            .suffix(".tmp")
            .permissions(std::fs::Permissions::from_mode(0o777))
            .tempdir_in(&dir)
            .map_err(|source| Error::Write {
                source: missing_directory(path, &dir).unwrap_or_else(|| plain(source)),
                path: path.display().to_string(),
            })?;
        let pending = registry.add_temp(temp.path().to_owned());
        Ok(Output::Dir {
            path: path.to_owned(),
            temp: Some(temp),
            pending,
        })
    }

    /// The temporary directory a `--files` output is filled in.
    pub fn dir(&self) -> Option<&Path> {
        match self {
            Output::Dir {
                temp: Some(temp), ..
            } => Some(temp.path()),
            _ => None,
        }
    }

    pub fn writer(&self) -> Result<Box<dyn Write + Send>, Error> {
        match self {
            Output::Stdout => Ok(Box::new(io::stdout())),
            Output::File {
                path,
                temp: Some(temp),
                ..
            } => temp
                .as_file()
                .try_clone()
                .map(|f| Box::new(f) as Box<dyn Write + Send>)
                .map_err(|source| Error::Write {
                    path: path.display().to_string(),
                    source,
                }),
            Output::Special { path, file } => file
                .try_clone()
                .map(|f| Box::new(f) as Box<dyn Write + Send>)
                .map_err(|source| Error::Write {
                    path: path.display().to_string(),
                    source,
                }),
            Output::File {
                path, temp: None, ..
            }
            | Output::Dir { path, .. } => Err(Error::Write {
                path: path.display().to_string(),
                source: io::Error::other("the output is already complete"),
            }),
        }
    }

    /// Renames the complete temporary file to its final name.
    pub fn commit(&mut self) -> Result<(), Error> {
        if let Output::File {
            path,
            target,
            temp,
            pending,
        } = self
        {
            if let Some(temp) = temp.take() {
                // Renamed and forgotten at once: an interruption either removes the
                // temporary file or finds the output complete.
                let mut registry = interrupt::lock();
                registry.forget_temp(*pending);
                temp.persist(&*target).map_err(|e| Error::Write {
                    path: path.display().to_string(),
                    source: plain(e.error),
                })?;
            }
        }
        if let Output::Dir {
            path,
            temp,
            pending,
        } = self
        {
            if let Some(temp) = temp.take() {
                let mut registry = interrupt::lock();
                registry.forget_temp(*pending);
                // Kept (not removed on drop), then renamed over the new or empty directory.
                let from = temp.keep();
                std::fs::rename(&from, &*path).map_err(|source| {
                    let _ = std::fs::remove_dir_all(&from);
                    Error::Write {
                        path: path.display().to_string(),
                        source: plain(source),
                    }
                })?;
            }
        }
        Ok(())
    }

    /// Whether the output is in place (for a file, renamed to its name), or needs no
    /// renaming (standard output, a special file).
    pub fn is_complete(&self) -> bool {
        !matches!(
            self,
            Output::File { temp: Some(_), .. } | Output::Dir { temp: Some(_), .. }
        )
    }

    pub fn path(&self) -> Option<&Path> {
        match self {
            Output::Stdout => None,
            Output::File { path, .. } | Output::Special { path, .. } | Output::Dir { path, .. } => {
                Some(path)
            }
        }
    }

    pub fn display(&self) -> String {
        match self {
            Output::Stdout => "standard output".into(),
            Output::File { path, .. } | Output::Special { path, .. } | Output::Dir { path, .. } => {
                path.display().to_string()
            }
        }
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        // An uncommitted temporary file removes itself (`NamedTempFile`'s drop).
        if let Output::File { pending, .. } | Output::Dir { pending, .. } = self {
            interrupt::lock().forget_temp(*pending);
        }
    }
}

/// Says that the directory the output goes in is missing, when it is: the system only
/// says that something was not found.
fn missing_directory(path: &Path, dir: &Path) -> Option<io::Error> {
    if dir.is_dir() {
        return None;
    }
    let named = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => dir,
    };
    Some(io::Error::new(
        io::ErrorKind::NotFound,
        format!("directory {} does not exist", named.display()),
    ))
}

/// The error without the temporary file's name, which means nothing to the user.
fn plain(e: io::Error) -> io::Error {
    match e.raw_os_error() {
        Some(code) => io::Error::from_raw_os_error(code),
        None => io::Error::from(e.kind()),
    }
}

/// The directory a path's file lies in (`.` for a bare name): where its temporary file
/// goes, so that the rename into place stays within one file system.
fn containing_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    }
}
