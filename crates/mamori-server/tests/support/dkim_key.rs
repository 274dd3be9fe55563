//! DKIM keys made as an operator makes them: `mamori dkim keygen`, run as a process.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The sender every mail test uses; its domain is the signing domain.
pub const FROM: &str = "mamori <no-reply@issuer.example>";

/// What `mamori dkim keygen` did.
pub struct Keygen {
    pub success: bool,
    /// Its standard output and error.
    pub output: String,
}

/// Runs `mamori dkim keygen --algorithm <algorithm> [options…]` writing to `key_file`, with
/// [`FROM`] and selector `selector`, and no other `MAMORI_*` variable.
pub fn keygen(key_file: &Path, selector: &str, algorithm: &str, options: &[&str]) -> Keygen {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mamori"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("MAMORI_") {
            command.env_remove(name);
        }
    }
    let output = command
        .args(["dkim", "keygen", "--algorithm", algorithm])
        .args(options)
        .env("MAMORI_MAIL_DKIM_KEY_FILE", key_file)
        .env("MAMORI_MAIL_DKIM_SELECTOR", selector)
        .env("MAMORI_MAIL_FROM", FROM)
        .output()
        .unwrap();
    Keygen {
        success: output.status.success(),
        output: String::from_utf8(output.stdout).unwrap()
            + &String::from_utf8(output.stderr).unwrap(),
    }
}

/// A fresh key of `algorithm` in `dir`, and its TXT record's value joined from the zone line
/// keygen printed.
pub fn new_key(dir: &Path, selector: &str, algorithm: &str) -> (PathBuf, String) {
    let path = dir.join(format!("{selector}.pem"));
    let made = keygen(&path, selector, algorithm, &[]);
    assert!(made.success, "{}", made.output);
    let line = made
        .output
        .lines()
        .find(|l| l.starts_with(&format!("{selector}._domainkey.issuer.example. IN TXT (")))
        .unwrap_or_else(|| panic!("no record in {}", made.output));
    let record: String = line.split('"').skip(1).step_by(2).collect();
    (path, record)
}
