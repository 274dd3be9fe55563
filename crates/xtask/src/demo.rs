//! `cargo xtask demo`: everything the demo needs, built, then `mamori demo` with the demo shop
//! on <http://127.0.0.1:8080>.
//!
//! The verifier serves the widget and the shop from one assets directory,
//! `target/demo/assets` (the release widget from `cargo xtask package` plus `www/demo`), and
//! keeps its database in `target/demo/data`, which survives restarts: trusted browsers stay
//! trusted. Delete that directory to start over.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::{Error, cmd, e2e, package, provision};

/// Where the demo listens; the demo merchant's registered origins follow from it.
const ADDRESS: &str = "127.0.0.1:8080";

/// Provisions, builds the widget and the verifier, and runs the demo until Ctrl-C.
///
/// # Errors
///
/// When provisioning or a build fails, or the verifier cannot start (say, the port is taken).
pub(crate) fn run(root: &Path) -> Result<(), Error> {
    let tools = provision::run(root)?;
    let built = package::build(root, &tools)?;
    if !cmd::step("build the verifier", &mut e2e::build_verifier(root))?.success {
        return Err(Error("the build of the `mamori` binary failed".to_owned()));
    }

    let demo = root.join("target/demo");
    let assets = demo.join("assets");
    // Rebuilt every time, so the shop and the widget are never older than the sources.
    if assets.exists() {
        fs::remove_dir_all(&assets)
            .map_err(|e| Error(format!("removing {}: {e}", assets.display())))?;
    }
    copy_dir(&built.www, &assets)?;
    copy_dir(&root.join("www/demo"), &assets.join("demo"))?;

    let url = format!("http://{ADDRESS}");
    println!(
        "\n==> mamori demo\n\
         \n    shop:     {url}/   (the same shop at http://localhost:8080/ is another device)\
         \n    mailbox:  {url}/demo/mailbox   (codes and fraud alerts, in Japanese and English)\
         \n\
         \n    Pay with 378282246310005 for a code challenge; pay again for a frictionless \
         purchase;\n    more than ¥50,000, or another browser, is challenged again. The shop \
         lists every demo card.\n    Stop with Ctrl-C. Data: {} (delete it to start over).\n",
        demo.join("data").display()
    );
    let mut verifier = Command::new(e2e::mamori_binary(root));
    verifier
        .arg("demo")
        .arg("--listen")
        .arg(ADDRESS)
        .arg("--data-dir")
        .arg(demo.join("data"))
        .arg("--assets-dir")
        .arg(&assets);
    let status = verifier
        .status()
        .map_err(|e| Error(format!("cannot start `{}`: {e}", cmd::display(&verifier))))?;
    if status.success() {
        Ok(())
    } else {
        Err(Error(format!(
            "`{}` stopped: {status}",
            cmd::display(&verifier)
        )))
    }
}

/// Copies the directory `from` into `to`, recursively.
fn copy_dir(from: &Path, to: &Path) -> Result<(), Error> {
    let fail = |what: &str, path: &Path, e: std::io::Error| {
        Error(format!("{what} {}: {e}", path.display()))
    };
    fs::create_dir_all(to).map_err(|e| fail("creating", to, e))?;
    for entry in fs::read_dir(from).map_err(|e| fail("reading", from, e))? {
        let path = entry.map_err(|e| fail("reading", from, e))?.path();
        let Some(name) = path.file_name() else {
            continue;
        };
        if path.is_dir() {
            copy_dir(&path, &to.join(name))?;
        } else {
            fs::copy(&path, to.join(name)).map_err(|e| fail("copying", &path, e))?;
        }
    }
    Ok(())
}
