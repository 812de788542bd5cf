//! Running an external program with captured output and a time limit.

use std::io::{self, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Exited with this code.
    Exited(i32),
    /// Killed by this signal.
    Signalled(i32),
    /// Still running at the time limit; it was killed.
    TimedOut,
}

/// The output and end of a finished process.
#[derive(Debug, Clone)]
pub struct Captured {
    pub stdout: String,
    pub stderr: String,
    pub ended: Ended,
}

/// How often a running child is polled.
const POLL: Duration = Duration::from_millis(5);

/// Runs `command` with stdin closed, capturing stdout and stderr, killing it after
/// `timeout`. Fails only if the program cannot be started.
pub fn run(mut command: Command, timeout: Duration) -> io::Result<Captured> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let ended = wait(&mut child, timeout)?;
    Ok(Captured {
        stdout: join(stdout),
        stderr: join(stderr),
        ended,
    })
}

/// Reads a pipe to the end on its own thread, so that neither pipe can fill and block.
fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            // A read error just ends the output early; what was read is kept.
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

/// The text a drain thread collected (lossy UTF-8).
fn join(handle: JoinHandle<Vec<u8>>) -> String {
    let bytes = handle.join().unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Waits for the child, killing it at the time limit.
fn wait(child: &mut Child, timeout: Duration) -> io::Result<Ended> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(ended(status));
        }
        if Instant::now() >= deadline {
            child.kill()?;
            child.wait()?;
            return Ok(Ended::TimedOut);
        }
        thread::sleep(POLL);
    }
}

/// Exit code or signal of a finished process.
fn ended(status: ExitStatus) -> Ended {
    if let Some(code) = status.code() {
        return Ended::Exited(code);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return Ended::Signalled(signal);
        }
    }
    Ended::Signalled(0)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn sh(script: &str, timeout: Duration) -> Captured {
        let mut command = Command::new("sh");
        command.arg("-c").arg(script);
        run(command, timeout).expect("sh runs")
    }

    #[test]
    fn captures_output_and_code() {
        let out = sh("echo out; echo err >&2; exit 3", Duration::from_secs(10));
        assert_eq!(out.stdout, "out\n");
        assert_eq!(out.stderr, "err\n");
        assert_eq!(out.ended, Ended::Exited(3));
    }

    #[test]
    fn reports_signals() {
        let out = sh("kill -SEGV $$", Duration::from_secs(10));
        assert_eq!(out.ended, Ended::Signalled(11));
    }

    #[test]
    fn kills_at_the_time_limit() {
        let out = sh("exec sleep 5", Duration::from_millis(100));
        assert_eq!(out.ended, Ended::TimedOut);
    }

    #[test]
    fn missing_program_is_an_error() {
        let command = Command::new("/nonexistent/program");
        assert!(run(command, Duration::from_secs(1)).is_err());
    }
}
