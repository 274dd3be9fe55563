//! `cargo xtask demo`: until the verifier exists, this provisions and builds mamori-core for
//! wasm32, which is the part of the demo that can already be shown to work.

use std::path::Path;

use crate::{Error, cmd, provision};

/// Provisions, then builds mamori-core for wasm32 in release mode.
///
/// # Errors
///
/// When provisioning or the build fails.
pub(crate) fn run(root: &Path) -> Result<(), Error> {
    let tools = provision::run(root)?;
    let mut build = tools.wasm.cargo(root, "build");
    build.args(["--release", "--package", "mamori-core"]);
    if !cmd::step("build mamori-core for wasm32", &mut build)?.success {
        return Err(Error("the wasm32 build of mamori-core failed".to_owned()));
    }
    println!(
        "\nmamori-core builds for wasm32. The verifier demo (a demo shop, the widget and a \
         mailbox) arrives with mamori-server."
    );
    Ok(())
}
