//! Real `mamori` processes: `mamori serve` started from a configuration file, read through
//! its JSON log lines and ended with SIGKILL, and the administration commands run to
//! completion.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::oneshot;

/// How long a test waits for something that happens in the background (an instance starting,
/// a mail arriving) before it fails. A guard against hanging, not a speed requirement.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// Writes `dir/mamori.toml` for `mamori serve` on `database_url`: port 0, JSON logs, secrets in
/// `dir`, mail over plain SMTP to the test receiver on `smtp_port` polled every second. `risk`
/// and `mail` are more lines of those sections (`key = value`, each ending in a newline).
pub fn write_config(
    dir: &Path,
    database_url: &str,
    smtp_port: u16,
    risk: &str,
    mail: &str,
) -> PathBuf {
    let config = dir.join("mamori.toml");
    let secrets = dir.join("secrets.key").display().to_string();
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\n\
             database_url = {database_url:?}\n\
             public_url = \"https://verifier.example\"\n\
             secrets_file = {secrets:?}\n\
             log_format = \"json\"\n\
             [risk]\n{risk}\
             [mail]\n\
             poll_interval = 1\n{mail}\
             [mail.smtp]\n\
             host = \"127.0.0.1\"\n\
             port = {smtp_port}\n\
             tls = \"none\"\n\
             timeout = 10\n"
        ),
    )
    .unwrap();
    config
}

/// One `mamori serve` process.
pub struct Instance {
    pub base: String,
    child: Child,
    /// Outbox row ids this instance logged as delivered.
    pub delivered: Arc<Mutex<Vec<i64>>>,
}

impl Instance {
    /// Starts `mamori --config <config> serve` and waits until it listens. The configuration
    /// asks for port 0 and JSON logs; the port is read from the "listening" line.
    pub async fn start(config: &Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mamori"))
            .arg("--config")
            .arg(config)
            .arg("serve")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the mamori binary starts");
        let stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let delivered = Arc::new(Mutex::new(Vec::new()));
        let (listening, address) = oneshot::channel();
        let seen = Arc::clone(&delivered);
        // The pipe is read to its end, or the instance would block once it filled.
        std::thread::spawn(move || {
            let mut listening = Some(listening);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                let Ok(entry) = serde_json::from_str::<Value>(&line) else {
                    continue;
                };
                let fields = &entry["fields"];
                match fields["message"].as_str() {
                    Some("mamori verifier listening") => {
                        if let (Some(tx), Some(address)) =
                            (listening.take(), fields["address"].as_str())
                        {
                            tx.send(address.to_owned()).ok();
                        }
                    }
                    Some("mail delivered") => {
                        seen.lock().unwrap().push(fields["id"].as_i64().unwrap());
                    }
                    _ => {}
                }
            }
        });
        let errors = std::thread::spawn(move || {
            let mut text = String::new();
            stderr.read_to_string(&mut text).ok();
            text
        });
        let Ok(Ok(address)) = tokio::time::timeout(PATIENCE, address).await else {
            child.kill().ok();
            child.wait().ok();
            let errors = errors.join().unwrap_or_default();
            panic!("mamori serve did not start: {errors}");
        };
        Self {
            base: format!("http://{address}"),
            child,
            delivered,
        }
    }

    /// Ends the process with SIGKILL: no shutdown, no flushing, connections cut mid-request.
    pub fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        // Already gone after `kill`; that error means nothing here.
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// Runs `mamori --config <config> <args>` to completion and answers its output.
pub async fn cli(config: &Path, args: &[&str]) -> String {
    let config = PathBuf::from(config);
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_mamori"))
            .arg("--config")
            .arg(&config)
            .args(&args)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "mamori failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The rest of the first line of `output` that starts with `prefix`.
pub fn line_after(output: &str, prefix: &str) -> String {
    output
        .lines()
        .find_map(|line| line.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no {prefix:?} in {output}"))
        .trim()
        .to_owned()
}

/// An authentication as the widget in a test holds it: its id and client secret.
pub trait WidgetHeld {
    /// The authentication id.
    fn id(&self) -> &str;
    /// Its client secret.
    fn secret(&self) -> &str;
}

/// A widget call to the instance at `base`: `None` when the instance did not answer (it is
/// gone, or went away mid-request).
pub async fn widget(
    http: &reqwest::Client,
    base: &str,
    held: &impl WidgetHeld,
    path: &str,
    body: Value,
) -> Option<(u16, Value)> {
    let response = http
        .post(format!("{base}/v1/authentications/{}{path}", held.id()))
        .bearer_auth(held.secret())
        .header("origin", super::ORIGIN)
        .json(&body)
        .send()
        .await
        .ok()?;
    let status = response.status().as_u16();
    let body = response.json().await.ok()?;
    Some((status, body))
}
