//! The `mamori` command line against a throwaway configuration.

// The helper outside `#[test]` panics to fail the test, like the tests themselves.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

fn mamori(config: &Path, args: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .unwrap();
    let text =
        String::from_utf8(output.stdout).unwrap() + &String::from_utf8(output.stderr).unwrap();
    (output.status.success(), text)
}

#[test]
fn administration_commands() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("mamori.toml");
    std::fs::write(
        &config,
        format!(
            "database_url = \"sqlite://{}\"\nsecrets_file = \"{}\"\n[security]\nkey_overlap = 60\n",
            dir.path().join("m.db").display(),
            dir.path().join("secrets.key").display()
        ),
    )
    .unwrap();

    let (ok, out) = mamori(
        &config,
        &[
            "merchant",
            "add",
            "--name",
            "Shop",
            "--origin",
            "https://shop.example",
            "--sandbox",
        ],
    );
    assert!(ok, "{out}");
    let id = out
        .lines()
        .next()
        .unwrap()
        .strip_prefix("merchant ")
        .unwrap()
        .to_owned();
    let secret = out
        .lines()
        .nth(1)
        .unwrap()
        .rsplit(' ')
        .next()
        .unwrap()
        .to_owned();
    assert!(secret.starts_with("mamori_sk.k_"), "{out}");
    let key = mamori_core::token::SigningKey::from_secret_key(&secret).unwrap();

    let (ok, out) = mamori(&config, &["merchant", "rotate-key", &id]);
    assert!(ok, "{out}");
    assert!(out.contains("older keys stop working at"));
    let (ok, out) = mamori(&config, &["merchant", "list"]);
    assert!(
        ok && out.contains(&id) && out.contains("[sandbox]"),
        "{out}"
    );
    assert!(
        out.contains(&format!("key {}  retiring at", key.kid())),
        "{out}"
    );
    assert!(out.contains("current"), "{out}");
    assert!(!out.contains(&secret), "a secret is printed only once");

    let (ok, out) = mamori(
        &config,
        &["merchant", "add", "--name", "X", "--origin", "shop.example"],
    );
    assert!(!ok && out.contains("not an origin"), "{out}");

    let (ok, out) = mamori(
        &config,
        &[
            "cardholder",
            "enroll",
            "--card",
            "3782 822463 10005",
            "--email",
            "t@example.jp",
        ],
    );
    assert!(ok, "{out}");
    let ch = out.split_whitespace().nth(1).unwrap().to_owned();
    let (ok, out) = mamori(
        &config,
        &[
            "cardholder",
            "enroll",
            "--card",
            "378282246310005",
            "--email",
            "t@example.jp",
        ],
    );
    assert!(!ok, "enrolled twice: {out}");
    let (ok, out) = mamori(
        &config,
        &[
            "cardholder",
            "enroll",
            "--card",
            "378282246310006",
            "--email",
            "t@example.jp",
        ],
    );
    assert!(!ok && out.contains("not valid"), "{out}");
    let (ok, out) = mamori(&config, &["cardholder", "block", &ch]);
    assert!(ok && out.contains("blocked"), "{out}");
    let (ok, out) = mamori(&config, &["cardholder", "list"]);
    assert!(
        ok && out.contains("••••0005") && out.contains("blocked"),
        "{out}"
    );
    assert!(
        !out.contains("378282246310005"),
        "the card number is never stored: {out}"
    );

    let (ok, out) = mamori(&config, &["reports", "list", "--all"]);
    assert!(ok && out.is_empty(), "{out}");
    let (ok, out) = mamori(&config, &["reports", "resolve", "fr_nope"]);
    assert!(!ok && out.contains("no open report"), "{out}");
}
