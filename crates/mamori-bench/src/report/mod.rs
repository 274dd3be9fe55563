//! `mamori-bench report`: BENCHMARKS.md from the result files of one `cargo xtask bench`.
//!
//! Every number in the report is read from those files; the text around them only names what
//! was measured and how. A part whose results are missing says so instead of failing the whole
//! report, so a partial run still shows what it measured.
//!
//! - `inputs`: reading the result files and the machine.
//! - `sections`: one function per section, each adding its budgets to the summary.

mod inputs;
mod sections;

use std::fmt::Write as _;
use std::path::PathBuf;

use crate::http::Failure;

/// Where the results are and where the report goes.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The directory with node-verify.json, widget.json, load.json and steps.tsv.
    #[arg(long)]
    results: PathBuf,
    /// criterion's output directory (target/criterion).
    #[arg(long)]
    criterion: PathBuf,
    /// The file to write.
    #[arg(long)]
    out: PathBuf,
    /// Wall time of the whole bench run so far, seconds.
    #[arg(long)]
    wall_seconds: Option<f64>,
}

/// A performance budget of DESIGN.md and how this run did against it.
pub(crate) struct Budget {
    /// What is budgeted.
    pub(crate) what: &'static str,
    /// The budget as DESIGN.md states it.
    pub(crate) budget: &'static str,
    /// The measured value, formatted.
    pub(crate) measured: String,
    /// `None` when it could not be measured.
    pub(crate) met: Option<bool>,
}

/// Writes the report to `args.out`.
///
/// # Errors
///
/// When the report cannot be written; missing results only leave their section empty.
pub(crate) fn write(args: &Args) -> Result<(), Failure> {
    let machine = inputs::machine();
    let mut budgets = Vec::new();
    let steps = inputs::steps(&args.results.join("steps.tsv")).unwrap_or_default();

    let native = sections::native(&args.criterion, &mut budgets);
    let node = sections::node(&args.results.join("node-verify.json"), &mut budgets);
    let verifier = sections::verifier(&args.results.join("load.json"), &mut budgets);
    let widget = sections::widget(&args.results.join("widget.json"), &mut budgets);

    let mut md = String::new();
    md.push_str(
        "# Benchmarks\n\n\
         Written by `cargo xtask bench`; every number below comes from one run of it, and every \
         ratio compares implementations measured in that same run on the same machine. The \
         machine is a shared two-core virtual machine on which other work (builds, tests) may \
         run at the same time, so single timings are noisy: the tables give medians with their \
         spread, and runs of competing implementations are interleaved so that a busy minute \
         slows them alike. Run it again on your own hardware for numbers you can plan with.\n\n",
    );
    let _ = writeln!(
        md,
        "**Machine:** {} · {} cores · {:.0} GiB · {} · {}\n",
        machine.cpu, machine.cores, machine.memory_gib, machine.os, machine.rustc
    );
    md.push_str("## Budgets\n\n");
    md.push_str(&sections::budgets(&budgets));
    md.push_str(&native);
    md.push_str(&node);
    md.push_str(&verifier);
    md.push_str(&widget);
    md.push_str(&sections::commands(&steps, args.wall_seconds));
    std::fs::write(&args.out, md)?;
    Ok(())
}
