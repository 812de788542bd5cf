//! The capture files of the corpus folder.

use std::path::{Path, PathBuf};

/// File name extensions of capture files.
const EXTENSIONS: &[&str] = &["pcap", "pcapng"];

/// The capture files (`*.pcap`, `*.pcapng`) directly in `dir`, sorted by name.
pub fn list(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read corpus {}: {e}", dir.display()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_file() && is_capture(path))
        .collect();
    files.sort_by_key(|path| file_name(path));
    Ok(files)
}

/// Keeps only the named files; every name must be in the corpus.
pub fn select(files: Vec<PathBuf>, names: &[String]) -> Result<Vec<PathBuf>, String> {
    if names.is_empty() {
        return Ok(files);
    }
    if let Some(missing) = names
        .iter()
        .find(|n| !files.iter().any(|f| &file_name(f) == *n))
    {
        return Err(format!("no capture file named {missing} in the corpus"));
    }
    Ok(files
        .into_iter()
        .filter(|f| names.contains(&file_name(f)))
        .collect())
}

/// The file name of a path, as text.
pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Whether the path has a capture file extension.
fn is_capture(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.contains(&e))
}

/// Runs `check` on every file with `jobs` worker threads, larger files first (so that the
/// workers finish together); the results come back in the input order.
pub fn check_each<R: Send>(
    files: &[PathBuf],
    jobs: usize,
    check: impl Fn(&Path) -> Result<R, String> + Sync,
) -> Result<Vec<R>, String> {
    let size = |i: &usize| std::fs::metadata(&files[*i]).map_or(0, |m| m.len());
    let mut order: Vec<usize> = (0..files.len()).collect();
    order.sort_by_key(|i| std::cmp::Reverse(size(i)));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: std::sync::Mutex<Vec<Option<Result<R, String>>>> =
        std::sync::Mutex::new((0..files.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, files.len().max(1)) {
            scope.spawn(|| {
                let next = || next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                while let Some(&i) = order.get(next()) {
                    let result = check(&files[i]);
                    results.lock().expect("no worker panics")[i] = Some(result);
                }
            });
        }
    });
    results
        .into_inner()
        .expect("no worker panics")
        .into_iter()
        .map(|r| r.expect("every file was checked"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_extensions() {
        assert!(is_capture(Path::new("a/b.pcap")));
        assert!(is_capture(Path::new("b.pcapng")));
        assert!(!is_capture(Path::new("MANIFEST.md")));
        assert!(!is_capture(Path::new("b.pcap.gz")));
    }

    #[test]
    fn selection_by_name() {
        let files = vec![PathBuf::from("d/a.pcap"), PathBuf::from("d/b.pcapng")];
        let picked = select(files.clone(), &["b.pcapng".into()]).unwrap();
        assert_eq!(picked, [PathBuf::from("d/b.pcapng")]);
        assert_eq!(select(files.clone(), &[]).unwrap(), files);
        assert!(select(files, &["c.pcap".into()]).is_err());
    }
}
