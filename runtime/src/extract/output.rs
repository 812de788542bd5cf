//! The output file: written to a temporary file beside its final name and renamed into
//! place once complete, so a failed or interrupted run never leaves half a file.

use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::Error;

pub enum Output {
    Stdout,
    File {
        /// The name the user gave.
        path: PathBuf,
        /// The file replaced: `path` with symbolic links resolved.
        target: PathBuf,
        temp: Option<tempfile::NamedTempFile>,
    },
    /// Something that is not a regular file (`/dev/null`, a FIFO, a terminal): written
    /// directly, never replaced.
    Special {
        path: PathBuf,
        file: std::fs::File,
    },
}

impl Output {
    /// `-` is standard output; a path gets `extension` appended when it lacks it.
    pub fn create(path: &Path, extension: Option<&str>) -> Result<Output, Error> {
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
        if std::fs::metadata(&path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
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
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
            _ => PathBuf::from("."),
        };
        let temp = tempfile::Builder::new()
            .prefix(".pcapkit-")
            .suffix(".tmp")
            // As any new file: 0666 less the umask, not a temporary file's 0600.
            .permissions(std::fs::Permissions::from_mode(0o666))
            .tempfile_in(&dir)
            .map_err(|source| Error::Write {
                path: path.display().to_string(),
                source: plain(source),
            })?;
        Ok(Output::File {
            path,
            target,
            temp: Some(temp),
        })
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
            } => Err(Error::Write {
                path: path.display().to_string(),
                source: io::Error::other("the output is already complete"),
            }),
        }
    }

    /// Renames the complete temporary file to its final name.
    pub fn commit(&mut self) -> Result<(), Error> {
        if let Output::File { path, target, temp } = self {
            if let Some(temp) = temp.take() {
                temp.persist(&*target).map_err(|e| Error::Write {
                    path: path.display().to_string(),
                    source: plain(e.error),
                })?;
            }
        }
        Ok(())
    }

    pub fn path(&self) -> Option<&Path> {
        match self {
            Output::Stdout => None,
            Output::File { path, .. } | Output::Special { path, .. } => Some(path),
        }
    }

    pub fn display(&self) -> String {
        match self {
            Output::Stdout => "standard output".into(),
            Output::File { path, .. } | Output::Special { path, .. } => path.display().to_string(),
        }
    }
}

/// The error without the temporary file's name, which means nothing to the user.
fn plain(e: io::Error) -> io::Error {
    match e.raw_os_error() {
        Some(code) => io::Error::from_raw_os_error(code),
        None => io::Error::from(e.kind()),
    }
}
