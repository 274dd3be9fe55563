//! Running child processes: a header naming the exact command line, its output streamed live with
//! stdout also kept for parsing, and the wall time at the end.

use std::ffi::OsStr;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::Error;

/// What a command run by [`step`] left behind.
pub(crate) struct Finished {
    /// Whether it exited with status 0.
    pub(crate) success: bool,
    /// Everything it wrote to stdout; stderr went to the terminal only.
    pub(crate) stdout: String,
    /// Wall time from spawn to exit.
    pub(crate) elapsed: Duration,
}

/// Runs `command` as the step `title`: prints a header with the command line, shows its output as
/// it comes, keeps its stdout and prints the outcome with the wall time.
///
/// Only stdout is captured because that is where libtest and wasm-bindgen-test-runner write
/// results; stderr (cargo's progress) stays attached to the terminal.
///
/// # Errors
///
/// When the program cannot be started or its output cannot be read. A program that runs and
/// fails is a [`Finished`] with `success: false`.
pub(crate) fn step(title: &str, command: &mut Command) -> Result<Finished, Error> {
    println!("\n==> {title}\n    $ {}", display(command));
    let start = Instant::now();
    let mut child = command
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| spawn_error(command, &e))?;
    let stdout = match child.stdout.take() {
        Some(pipe) => {
            tee(pipe).map_err(|e| Error(format!("reading `{}`: {e}", display(command))))?
        }
        None => String::new(),
    };
    let status = child
        .wait()
        .map_err(|e| Error(format!("waiting for `{}`: {e}", display(command))))?;
    let elapsed = start.elapsed();
    let outcome = if status.success() {
        "ok".to_owned()
    } else {
        format!("FAILED ({status})")
    };
    println!("<== {title}: {outcome} in {}", seconds(elapsed));
    Ok(Finished {
        success: status.success(),
        stdout,
        elapsed,
    })
}

/// Runs `command` with its output shown and kills it if it is still running after `limit`.
/// Returns whether it exited with status 0 in time.
///
/// # Errors
///
/// When the program cannot be started or waited for.
pub(crate) fn run_with_limit(command: &mut Command, limit: Duration) -> Result<bool, Error> {
    let mut child = command
        .stdin(Stdio::null())
        .spawn()
        .map_err(|e| spawn_error(command, &e))?;
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status.success()),
            Ok(None) if start.elapsed() < limit => thread::sleep(Duration::from_millis(200)),
            Ok(None) => {
                println!(
                    "    gave up on `{}` after {}",
                    display(command),
                    seconds(limit)
                );
                // Either call failing means the child is already gone, which is what we want.
                let _ = child.kill();
                let _ = child.wait();
                return Ok(false);
            }
            Err(e) => return Err(Error(format!("waiting for `{}`: {e}", display(command)))),
        }
    }
}

/// Runs `command` quietly and returns its stdout, or `None` if it could not start or failed.
/// For probes such as `wasm-bindgen --version`, where "not there" and "broken" mean the same.
pub(crate) fn probe(command: &mut Command) -> Option<String> {
    let output = command
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The native `cargo` in `root`: the one running xtask, so both share a toolchain.
pub(crate) fn cargo(root: &Path) -> Command {
    let program = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(program);
    command.current_dir(root);
    command
}

/// The first file called `name` in a `PATH` directory.
pub(crate) fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// A duration as printed in headers and summaries.
pub(crate) fn seconds(duration: Duration) -> String {
    format!("{:.1}s", duration.as_secs_f64())
}

/// `command` as a shell line a user can copy: the variables we set, the program, its arguments.
pub(crate) fn display(command: &Command) -> String {
    let vars = command
        .get_envs()
        .filter_map(|(name, value)| Some(format!("{}={}", name.to_string_lossy(), quote(value?))));
    let words = std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(quote);
    vars.chain(words).collect::<Vec<_>>().join(" ")
}

/// Copies `pipe` to our stdout line by line as it arrives and returns everything it carried.
fn tee(pipe: impl Read) -> io::Result<String> {
    let mut reader = BufReader::new(pipe);
    let mut kept = String::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(kept);
        }
        // Keep reading even if our own stdout is gone (say, piped into `head`): a child blocked
        // on a full pipe would never exit.
        let _ = io::stdout().lock().write_all(&line);
        kept.push_str(&String::from_utf8_lossy(&line));
    }
}

fn spawn_error(command: &Command, error: &io::Error) -> Error {
    Error(format!(
        "cannot start `{}`: {error}",
        command.get_program().to_string_lossy()
    ))
}

fn quote(word: &OsStr) -> String {
    let word = word.to_string_lossy();
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        word.into_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_quotes_what_a_shell_would_split() {
        let mut command = Command::new("cargo");
        command
            .args(["doc", "--no-deps"])
            .env("RUSTDOCFLAGS", "-D warnings");
        assert_eq!(
            display(&command),
            "RUSTDOCFLAGS='-D warnings' cargo doc --no-deps"
        );
        assert_eq!(quote(OsStr::new("it's")), r"'it'\''s'");
        assert_eq!(quote(OsStr::new("")), "''");
    }

    #[test]
    fn step_keeps_stdout_and_reports_failure() {
        let mut command = Command::new("sh");
        command.args(["-c", "echo one; echo two; exit 3"]);
        let finished = step("sh", &mut command).unwrap();
        assert!(!finished.success);
        assert_eq!(finished.stdout, "one\ntwo\n");
    }

    #[test]
    fn run_with_limit_kills_a_hanging_child() {
        let mut command = Command::new("sleep");
        command.arg("30");
        // `sleep` left alone would exit 0; `false` means it was killed.
        assert!(!run_with_limit(&mut command, Duration::from_millis(300)).unwrap());
    }
}
