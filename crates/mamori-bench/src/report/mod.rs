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
    /// Rewrite only this part of an existing report (`cargo xtask bench verify`): its section,
    /// its budget rows and its step, everything else left as the last full run wrote it.
    #[arg(long, value_enum)]
    only: Option<Part>,
}

/// A part of the report that can be measured and rewritten by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Part {
    /// Section 2, verification in Node (`bench/verify.mjs`).
    Node,
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
    if args.only == Some(Part::Node) {
        return splice_node(args);
    }
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

/// Rewrites section 2, the Node budget rows and the Node step of the report at `args.out`.
///
/// # Errors
///
/// When the report cannot be read or written, or lacks section 2 or 3.
fn splice_node(args: &Args) -> Result<(), Failure> {
    let old =
        std::fs::read_to_string(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    let mut budgets = Vec::new();
    let mut section = sections::node(&args.results.join("node-verify.json"), &mut budgets);
    // Said in the section, since the rest of the report comes from another run.
    section.push_str(
        "This section and its budget rows were measured by `cargo xtask bench verify`, apart \
         from the rest of the report; its ratios compare only libraries of that one run.\n\n",
    );
    let (Some(start), Some(end)) = (old.find("## 2. "), old.find("## 3. ")) else {
        return Err(format!("{}: no sections 2 and 3 to replace", args.out.display()).into());
    };
    let budget_rows = sections::budgets(&budgets);
    let node_rows: Vec<&str> = budget_rows
        .lines()
        .filter(|line| line.starts_with("| result-token verify, wasm in Node"))
        .collect();
    let mut rows_written = false;
    let mut md = String::new();
    for line in old[..start].lines() {
        if line.starts_with("| result-token verify, wasm in Node") {
            // The old rows go; the new ones take the place of the first.
            if !rows_written {
                for row in &node_rows {
                    md.push_str(row);
                    md.push('\n');
                }
                rows_written = true;
            }
            continue;
        }
        md.push_str(line);
        md.push('\n');
    }
    md.push_str(&section);
    let steps = inputs::steps(&args.results.join("steps.tsv")).unwrap_or_default();
    let node_step = steps.iter().find(|s| s.title.starts_with("Node verify"));
    for line in old[end..].lines() {
        match node_step {
            Some(step) if line.starts_with("| Node verify") => {
                md.push_str(&sections::step_row(step));
            }
            _ => {
                md.push_str(line);
                md.push('\n');
            }
        }
    }
    std::fs::write(&args.out, md)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = "# Benchmarks\n\n## Budgets\n\n| what | budget | this run | verdict |\n\
        | --- | --- | --- | --- |\n| result-token verify, native | ≥ 2× `jsonwebtoken` | 1.86× | \
        **not met** |\n| result-token verify, wasm in Node | ≥ 2× `jose` | 6.58× | met |\n\
        | widget | ≤ 30 KB | 37 KB | **not met** |\n\n## 1. Native\n\nkept\n\n## 2. Old Node\n\n\
        old numbers\n\n## 3. Load\n\nkept too\n\n| step | wall time | command |\n| --- | --- | --- |\n\
        | Node verify: old | 12 s | `node old.mjs` |\n| widget | 41 s | `node widget.mjs` |\n";

    #[test]
    fn the_node_part_replaces_only_its_section_rows_and_step() -> Result<(), Failure> {
        let dir = std::env::temp_dir().join(format!("mamori-report-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let out = dir.join("BENCHMARKS.md");
        std::fs::write(&out, OLD)?;
        std::fs::write(
            dir.join("node-verify.json"),
            r#"{"node":"v20","token_bytes":447,"warmup_ms":1000,"round_ms":300,"libraries":[
                {"name":"mamori createVerifier","version":"0.1.0","ops_per_second":[300,300,300]},
                {"name":"mamori verifyResult","version":"0.1.0","ops_per_second":[150,150,150]},
                {"name":"fast-jwt","version":"6.3.6","ops_per_second":[100,100,100]}]}"#,
        )?;
        std::fs::write(
            dir.join("steps.tsv"),
            "Node verify: new\t23.0\tnode bench/verify.mjs out.json\n",
        )?;
        let args = Args {
            results: dir.clone(),
            criterion: dir.join("criterion"),
            out: out.clone(),
            wall_seconds: None,
            only: Some(Part::Node),
        };
        write(&args)?;
        let md = std::fs::read_to_string(&out)?;
        std::fs::remove_dir_all(&dir)?;

        assert!(md.contains("| result-token verify, native | ≥ 2× `jsonwebtoken` | 1.86× |"));
        assert!(!md.contains("6.58×") && !md.contains("old numbers") && !md.contains("old.mjs"));
        assert!(md.contains("`createVerifier` | ≥ 2× `fast-jwt` (uncached) | 3.00× | met |"));
        assert!(md.contains("`verifyResult` | ≥ 1× `fast-jwt` (uncached) | 1.50× | met |"));
        assert!(md.contains("| Node verify: new | 23 s | `node bench/verify.mjs out.json` |"));
        for kept in [
            "## 1. Native\n\nkept",
            "## 3. Load\n\nkept too",
            "| widget | 41 s |",
        ] {
            assert!(md.contains(kept), "{kept}");
        }
        // The new rows stand where the old one stood, before the widget's.
        let rows: Vec<&str> = md
            .lines()
            .filter(|l| l.starts_with("| result-token"))
            .collect();
        assert_eq!(rows.len(), 3);
        assert!(md.find("`verifyResult` | ≥ 1×") < md.find("| widget | ≤ 30 KB"));
        Ok(())
    }
}
