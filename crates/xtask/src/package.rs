//! `cargo xtask package`: the release builds of the widget and the wasm verifier, packaged for
//! merchants two ways, with sizes and SRI hashes printed.
//!
//! - `target/www/`: what the verifier serves at `/widget/` for the script tag (its `widget_dir`):
//!   the loader (the custom element and the widget's modules, one minified script) as
//!   `mamori-<hash>.js` and as `mamori.js`, the WebAssembly as `mamori-<hash>.wasm`, and
//!   `manifest.json` naming both with their SRI hashes. `<hash>` is the first 16 hex digits of
//!   the file's SHA-256, so a name never changes content and can be cached for good. The loader
//!   fetches the wasm by its name with its SRI hash built in, so the one `integrity` on the
//!   script tag covers both. Beside each file, `<file>.gz`: the file compressed with Zopfli
//!   (npm's `@gfx/zopfli`), gzip that every client inflates, about 5 % smaller than zlib's best
//!   level; the verifier sends it to clients that accept gzip. The budget line reports zlib's
//!   level 9 (what the anchors in the benchmark are measured with), and the next line what the
//!   verifier sends.
//! - `target/npm/mamori/`: the npm package built from the `www/npm` template: `mamori` (the
//!   widget, ES module: its JavaScript modules under `widget/`, next to the WebAssembly as
//!   `mamori_widget_bg.wasm`, which `widget/mamori_widget.js` loads and calls),
//!   `mamori/react` and `mamori/vue` (the widget as a component of either framework),
//!   `mamori/verify` (result-token verification: instantiated synchronously on import in Node,
//!   with top-level await elsewhere), and type declarations for the element, its events and
//!   `window.mamori` (`mamori/globals`, `mamori/script-tag`).
//!
//! Size levers, each measured on the widget: the `wasm-release` profile (`opt-level = "z"`, LTO,
//! one codegen unit); the standard library rebuilt with `-Zbuild-std` on either toolchain
//! (`provision`), so that immediate-abort panics and no panic locations or `Debug` formatting
//! reach it too, and a fresh machine builds the same widget as a provisioned one; SHA-256's
//! compact software backend; `wasm-opt -Oz` from npm's `binaryen`; and esbuild's minifier, then
//! terser's, on the JavaScript. The npm tools are installed under `target/wasm/tools` on first
//! use.
//!
//! The widget's WebAssembly has no generated bindings: its exports take and answer numbers over
//! one buffer (`mamori-widget`'s `exports.rs`), and its hand-written glue is one of its modules.
//! The wasm verifier's bindings are wasm-bindgen's.
//!
//! The wasm verifier is built apart, for speed: it runs in merchants' backends once per payment,
//! where a few more kilobytes cost nothing and every microsecond of a verification counts. It
//! takes the `wasm-verify` profile (`opt-level = 3`), SHA-256's unrolled backend with WebAssembly
//! SIMD (`simd128`: Node 16.4+, every current browser and edge runtime), and `wasm-opt -O3`.
//!
//! Nothing here is committed: every output is under `target/`.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Error;
use crate::provision::{self, Tools, WasmToolchain};
use crate::{cmd, summary};

/// The widget's budget for JavaScript and wasm together, gzipped (DESIGN.md).
const BUDGET_GZIP: u64 = 15 * 1024;

/// npm tools the build uses, at versions known to handle what rustc 1.96 and wasm-bindgen emit.
const NODE_TOOLS: &[&str] = &[
    "binaryen@132",
    "esbuild@0.25",
    "terser@5.51",
    "@gfx/zopfli@1.0.15",
];

/// Both release builds' panic levers: panics that trap at once, with no message, location or
/// `Debug` formatting compiled in.
const PANIC_RUSTFLAGS: &str =
    "-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Zfmt-debug=none";

/// The WebAssembly features rustc emits for wasm32 by default, for wasm-opt to accept them.
const WASM_FEATURES: &[&str] = &[
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-reference-types",
    "--enable-multivalue",
];

/// Where the outputs are.
pub(crate) struct Built {
    /// The script-tag assets.
    pub(crate) www: PathBuf,
    /// The npm package directory, ready for `npm pack`.
    pub(crate) npm: PathBuf,
}

/// `cargo xtask package`: provisions, builds and prints where everything is.
///
/// # Errors
///
/// When provisioning or any build step fails.
pub(crate) fn run(root: &Path) -> Result<(), Error> {
    let tools = provision::run(root)?;
    let built = build(root, &tools)?;
    println!(
        "\nscript tag: {}\nnpm:        {}",
        built.www.display(),
        built.npm.display()
    );
    Ok(())
}

/// Builds both crates for release and assembles the script-tag assets and the npm package.
///
/// # Errors
///
/// When a tool is missing or a build step fails; the message names the step.
pub(crate) fn build(root: &Path, tools: &Tools) -> Result<Built, Error> {
    let node_tools = node_tools(root)?;
    compile(root, tools.wasm, Build::Widget)?;
    compile(root, tools.wasm, Build::Verifier)?;
    let release = release_dir(root, tools.wasm, Build::Widget);
    let verifier = release_dir(root, tools.wasm, Build::Verifier).join("mamori_verify_wasm.wasm");

    let stage = root.join("target/package");
    reset(&stage)?;
    let widget = stage.join("widget");
    let verify = stage.join("verify");
    // The name the npm package has always given it, which `mamori_widget.js` loads by default.
    let widget_wasm = widget.join("mamori_widget_bg.wasm");
    copy(&release.join("mamori_widget.wasm"), &widget_wasm)?;
    bindgen(tools, &verifier, "experimental-nodejs-module", &verify)?;
    let verify_web = stage.join("verify-web");
    bindgen(tools, &verifier, "web", &verify_web)?;
    // The widget's JavaScript (the flow, the DOM, fetch, IndexedDB, the fingerprint's readings,
    // and `mamori_widget.js`, which loads and calls the WebAssembly).
    let widget_modules = widget_modules(root)?;
    for module in &widget_modules {
        copy(module, &widget.join(file_name(module)?))?;
    }
    let verify_wasm = verify.join("mamori_verify_wasm_bg.wasm");
    wasm_opt(&node_tools, &widget_wasm, Build::Widget)?;
    wasm_opt(&node_tools, &verify_wasm, Build::Verifier)?;
    // Each bindings target names its imports its own way, so each gets its own optimised copy.
    wasm_opt(
        &node_tools,
        &verify_web.join("mamori_verify_wasm_bg.wasm"),
        Build::Verifier,
    )?;

    // Script tag: the loader bundles element.js and the widget's modules; the wasm's name and
    // hash are built in.
    let www = root.join("target/www");
    reset(&www)?;
    let wasm = report(std::slice::from_ref(&widget_wasm))?.remove(0);
    let wasm_name = format!("mamori-{}.wasm", wasm.short_hash);
    copy(&widget_wasm, &www.join(&wasm_name))?;
    let loader = read(&root.join("www/loader.js"))?
        .replace("__MAMORI_WASM_FILE__", &wasm_name)
        .replace("__MAMORI_WASM_INTEGRITY__", &wasm.integrity);
    write(&stage.join("loader.js"), &loader)?;
    copy(&root.join("www/element.js"), &stage.join("element.js"))?;
    let mut bundle = Command::new(node_tools.join("esbuild"));
    bundle
        .arg(stage.join("loader.js"))
        .args([
            "--bundle",
            "--minify",
            "--format=iife",
            "--target=es2020",
            "--log-level=warning",
            // The glue's default wasm URL uses `import.meta`; the loader always passes its own.
            "--log-override:empty-import-meta=silent",
        ])
        .arg(format!("--outfile={}", stage.join("mamori.js").display()));
    run_step("bundle mamori.js", &mut bundle)?;
    // A second pass by terser over esbuild's output: measured on this bundle, it takes about 3 %
    // more off the gzipped script than esbuild's minifier alone.
    let mut minify = Command::new(node_tools.join("terser"));
    minify
        .arg(stage.join("mamori.js"))
        .args([
            "--compress",
            "passes=2",
            "--mangle",
            "--ecma",
            "2020",
            "--output",
        ])
        .arg(www.join("mamori.js"));
    run_step("minify mamori.js", &mut minify)?;
    check_loader(&read(&www.join("mamori.js"))?, &wasm.integrity)?;
    let script = report(&[www.join("mamori.js")])?.remove(0);
    let script_name = format!("mamori-{}.js", script.short_hash);
    copy(&www.join("mamori.js"), &www.join(&script_name))?;
    let manifest = Manifest {
        script: &script_name,
        integrity: &script.integrity,
        wasm: &wasm_name,
        wasm_integrity: &wasm.integrity,
    };
    write(&www.join("manifest.json"), &manifest.to_json())?;
    let served = precompress(&node_tools, &www)?;

    // npm: the template, the shared element, the widget's modules and WebAssembly, the
    // verifier's bindings as wasm-bindgen wrote them.
    let npm = root.join("target/npm/mamori");
    reset(&npm)?;
    let template = root.join("www/npm");
    for name in [
        "index.js",
        "index.d.ts",
        "globals.d.ts",
        "script-tag.d.ts",
        "lifecycle.js",
        "react.js",
        "react.d.ts",
        "vue.js",
        "vue.d.ts",
        "verify.js",
        "verify-web.js",
        "verify-call.js",
        "verify.d.ts",
    ] {
        copy(&template.join(name), &npm.join(name))?;
    }
    let package_json = read(&template.join("package.json"))?.replacen(
        "\"version\": \"0.0.0\"",
        &format!("\"version\": \"{}\"", env!("CARGO_PKG_VERSION")),
        1,
    );
    write(&npm.join("package.json"), &package_json)?;
    copy(&root.join("www/element.js"), &npm.join("element.js"))?;
    if root.join("www/README.md").is_file() {
        copy(&root.join("www/README.md"), &npm.join("README.md"))?;
    }
    // The package is Apache-2.0 like the repository, and carries the licence and notice with it.
    for name in ["LICENSE", "NOTICE"] {
        copy(&root.join(name), &npm.join(name))?;
    }
    for module in &widget_modules {
        let name = file_name(module)?;
        copy(&widget.join(name), &npm.join("widget").join(name))?;
    }
    for (from, to, files) in [
        (&widget, "widget", &["mamori_widget_bg.wasm"][..]),
        (
            &verify,
            "verify",
            &["mamori_verify_wasm.js", "mamori_verify_wasm_bg.wasm"][..],
        ),
        (
            &verify_web,
            "verify-web",
            &["mamori_verify_wasm.js", "mamori_verify_wasm_bg.wasm"][..],
        ),
    ] {
        for file in files {
            copy(&from.join(file), &npm.join(to).join(file))?;
        }
    }

    let served: u64 = [manifest.script, manifest.wasm]
        .iter()
        .filter_map(|name| served.get(*name))
        .sum();
    print_sizes(&www, &manifest, [&script, &wasm], served, &npm)?;
    Ok(Built { www, npm })
}

/// `target/www/manifest.json`: the release's file names and SRI hashes, which the verifier
/// serves at `/widget/manifest.json` and merchants copy into their script tag.
struct Manifest<'a> {
    script: &'a str,
    integrity: &'a str,
    wasm: &'a str,
    wasm_integrity: &'a str,
}

impl Manifest<'_> {
    /// The JSON text. Every value is a file name or an SRI hash (`[A-Za-z0-9+/=.-]`), so none
    /// needs escaping.
    fn to_json(&self) -> String {
        format!(
            "{{\n  \"version\": \"{}\",\n  \"script\": \"{}\",\n  \"integrity\": \"{}\",\n  \
             \"wasm\": \"{}\",\n  \"wasm_integrity\": \"{}\"\n}}\n",
            env!("CARGO_PKG_VERSION"),
            self.script,
            self.integrity,
            self.wasm,
            self.wasm_integrity
        )
    }
}

/// The Node test of the packed npm package (`tests/node`), printing TAP to stdout for the
/// summary and the readable report to stderr.
pub(crate) fn node_test(root: &Path, npm: &Path) -> Command {
    node_suite(root, &root.join("tests/node"), npm)
}

/// Node's test runner over every `*.test.mjs` of `dir`, in name order, with the packed npm
/// package at `npm`; TAP to stdout for the summary, the readable report to stderr.
pub(crate) fn node_suite(root: &Path, dir: &Path, npm: &Path) -> Command {
    // A missing directory leaves the list empty, and node then fails the step by itself.
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.to_string_lossy().ends_with(".test.mjs"))
        .collect();
    files.sort();
    let mut command = Command::new("node");
    command
        .current_dir(root)
        .arg("--test")
        .args(summary::node_reporters(root))
        .args(files)
        .env("MAMORI_NPM_PACKAGE", npm);
    command
}

/// What a release build is for: the widget, built for size, or the verifier, built for speed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Build {
    Widget,
    Verifier,
}

impl Build {
    /// The cargo profile.
    fn profile(self) -> &'static str {
        match self {
            Self::Widget => "wasm-release",
            Self::Verifier => "wasm-verify",
        }
    }
}

/// The release build of one crate, the same on either toolchain: the standard library is
/// rebuilt (`-Zbuild-std`) so that the panic and formatting levers reach it too.
fn compile(root: &Path, toolchain: WasmToolchain, build: Build) -> Result<(), Error> {
    let mut command = toolchain.build_std_cargo(root);
    let package = match build {
        Build::Widget => "mamori-widget",
        Build::Verifier => "mamori-verify-wasm",
    };
    command.args(["--profile", build.profile(), "--package", package]);
    let flags = match build {
        // SHA-256's compact backend: the widget hashes a few short strings, size matters more.
        // No reference types: its exports take and answer only numbers, and nothing in it holds
        // a JavaScript value.
        Build::Widget => format!(
            "--cfg=sha2_backend_soft=\"compact\" -Ctarget-feature=-reference-types \
             {PANIC_RUSTFLAGS}"
        ),
        // SHA-256 is most of a verification's time; its SIMD backend is about a fifth faster.
        Build::Verifier => format!("-Ctarget-feature=+simd128 {PANIC_RUSTFLAGS}"),
    };
    command.env("RUSTFLAGS", flags);
    run_step(&format!("wasm release build of {package}"), &mut command)
}

/// Where `compile` leaves the `.wasm` files of `build`.
fn release_dir(root: &Path, toolchain: WasmToolchain, build: Build) -> PathBuf {
    let target = match toolchain {
        WasmToolchain::Rustup => root.join("target"),
        WasmToolchain::Debian => root.join("target/wasm"),
    };
    target.join("wasm32-unknown-unknown").join(build.profile())
}

fn bindgen(tools: &Tools, wasm: &Path, target: &str, out: &Path) -> Result<(), Error> {
    let mut command = Command::new(tools.wasm_bindgen());
    command
        .args(["--target", target, "--no-typescript", "--out-dir"])
        .arg(out)
        .arg(wasm);
    run_step(&format!("wasm-bindgen --target {target}"), &mut command)
}

/// `wasm-opt` in place (`-Oz` for the widget, `-O3` for the verifier), also dropping the name,
/// producers and target-features sections (metadata for tools, not for browsers).
fn wasm_opt(node_tools: &Path, wasm: &Path, build: Build) -> Result<(), Error> {
    let level = match build {
        Build::Widget => "-Oz",
        Build::Verifier => "-O3",
    };
    let mut command = Command::new(node_tools.join("wasm-opt"));
    command
        .arg(level)
        .args(WASM_FEATURES)
        .args(match build {
            Build::Widget => &[][..],
            Build::Verifier => &["--enable-simd"][..],
        })
        .args([
            "--strip-debug",
            "--strip-producers",
            "--strip-target-features",
        ])
        .arg(wasm)
        .arg("-o")
        .arg(wasm);
    run_step(&format!("wasm-opt {level}"), &mut command)
}

/// Installs the npm tools under `target/wasm/tools` if missing; returns their `bin` directory.
fn node_tools(root: &Path) -> Result<PathBuf, Error> {
    let prefix = root.join("target/wasm/tools");
    let bin = prefix.join("node_modules/.bin");
    if ["wasm-opt", "esbuild", "terser"]
        .iter()
        .all(|tool| bin.join(tool).is_file())
        && prefix.join(ZOPFLI).is_file()
    {
        return Ok(bin);
    }
    fs::create_dir_all(&prefix)
        .map_err(|e| Error(format!("creating {}: {e}", prefix.display())))?;
    let manifest = prefix.join("package.json");
    if !manifest.is_file() {
        write(&manifest, "{\"private\": true}\n")?;
    }
    let mut install = Command::new("npm");
    install
        .current_dir(&prefix)
        .args(["install", "--no-audit", "--no-fund", "--save-exact"])
        .args(NODE_TOOLS);
    run_step("npm install build tools", &mut install)?;
    Ok(bin)
}

/// The Zopfli module inside the build tools' `node_modules`.
const ZOPFLI: &str = "node_modules/@gfx/zopfli/package.json";

/// Writes `<file>.gz` beside every `.js`, `.wasm` and `.json` file of `www`, compressed with
/// Zopfli (15 iterations): gzip that any client inflates, a few percent smaller than zlib's best
/// level, and too slow to make at every start, so the verifier serves these when they match
/// their file (`mamori-server`'s `api::widget_files`). Answers each file's `.gz` size by name.
fn precompress(node_tools: &Path, www: &Path) -> Result<HashMap<String, u64>, Error> {
    const SCRIPT: &str = "const fs = require('fs'), { gzipAsync } = require('@gfx/zopfli');\
        (async () => { for (const f of process.argv.slice(1)) {\
        const gz = await gzipAsync(fs.readFileSync(f), { numiterations: 15 });\
        fs.writeFileSync(f + '.gz', gz); console.log(gz.length); } })()\
        .catch((e) => { console.error(e); process.exit(1); });";
    let mut names: Vec<String> = fs::read_dir(www)
        .map_err(|e| Error(format!("reading {}: {e}", www.display())))?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| [".js", ".wasm", ".json"].iter().any(|x| name.ends_with(x)))
        .collect();
    names.sort();
    // `node_tools` is `<prefix>/node_modules/.bin`.
    let modules = node_tools
        .parent()
        .ok_or_else(|| Error(format!("{} has no parent", node_tools.display())))?;
    let mut command = Command::new("node");
    command
        .env("NODE_PATH", modules)
        .args(["-e", SCRIPT])
        .args(names.iter().map(|name| www.join(name)));
    let output = cmd::probe(&mut command)
        .ok_or_else(|| Error(format!("`{}` failed", cmd::display(&command))))?;
    let sizes: Vec<u64> = output.lines().filter_map(|l| l.parse().ok()).collect();
    if sizes.len() != names.len() {
        return Err(Error(format!("unexpected Zopfli report: {output}")));
    }
    Ok(names.into_iter().zip(sizes).collect())
}

/// One file's sizes, SRI hash and content-addressed name part.
struct Report {
    path: PathBuf,
    bytes: u64,
    gzip: u64,
    integrity: String,
    /// The first 16 hex digits of the file's SHA-256.
    short_hash: String,
}

/// Sizes (raw and gzip -9), sha384 SRI hashes and short SHA-256 hashes, computed by Node,
/// which the package build needs anyway: xtask itself stays free of dependencies.
fn report(files: &[PathBuf]) -> Result<Vec<Report>, Error> {
    const SCRIPT: &str = "const fs = require('fs'), zlib = require('zlib'), c = require('crypto');\
        for (const f of process.argv.slice(1)) { const b = fs.readFileSync(f);\
        console.log([b.length, zlib.gzipSync(b, {level: 9}).length,\
        'sha384-' + c.createHash('sha384').update(b).digest('base64'),\
        c.createHash('sha256').update(b).digest('hex').slice(0, 16)].join(' ')); }";
    let mut command = Command::new("node");
    command.args(["-e", SCRIPT]).args(files);
    let output = cmd::probe(&mut command)
        .ok_or_else(|| Error(format!("`{}` failed", cmd::display(&command))))?;
    files
        .iter()
        .zip(output.lines())
        .map(|(path, line)| {
            let mut words = line.split(' ');
            let mut number = || words.next().and_then(|w| w.parse().ok());
            let (Some(bytes), Some(gzip)) = (number(), number()) else {
                return Err(Error(format!("unexpected size report: {line}")));
            };
            let (Some(integrity), Some(short_hash)) = (words.next(), words.next()) else {
                return Err(Error(format!("unexpected hash report: {line}")));
            };
            Ok(Report {
                path: path.clone(),
                bytes,
                gzip,
                integrity: integrity.to_owned(),
                short_hash: short_hash.to_owned(),
            })
        })
        .collect()
}

/// Prints the widget's files (reported while they were named, shown under their names in
/// `www`), the npm verifier's wasm, and `served`: the widget's two files as the verifier sends
/// them, from their Zopfli `.gz`.
fn print_sizes(
    www: &Path,
    manifest: &Manifest<'_>,
    widget: [&Report; 2],
    served: u64,
    npm: &Path,
) -> Result<(), Error> {
    let verify = report(&[npm.join("verify/mamori_verify_wasm_bg.wasm")])?;
    let names = [www.join(manifest.script), www.join(manifest.wasm)];
    let rows = names
        .iter()
        .zip(widget)
        .chain(verify.iter().map(|r| (&r.path, r)));
    println!("\n==> sizes and SRI hashes");
    for (path, r) in rows {
        println!(
            "    {:<52} {:>7} B  gzip {:>6} B  {}",
            path.display(),
            r.bytes,
            r.gzip,
            r.integrity
        );
    }
    let total: u64 = widget.iter().map(|r| r.gzip).sum();
    let verdict = if total <= BUDGET_GZIP {
        "within"
    } else {
        "OVER"
    };
    println!("    widget, JS + wasm gzipped: {total} B ({verdict} the budget of {BUDGET_GZIP} B)");
    println!("    as the verifier sends them (the Zopfli .gz beside each file): {served} B");
    println!(
        "\n==> script tag (the verifier serves target/www at /widget/)\n    \
         <script src=\"https://<verifier>/widget/{}\" integrity=\"{}\" crossorigin=\"anonymous\" \
         data-verifier=\"https://<verifier>\" defer></script>",
        manifest.script, manifest.integrity
    );
    Ok(())
}

/// Refuses a bundled loader that could not check the `.wasm` it fetches: one without the wasm's
/// SRI hash, or with any build placeholder (`__MAMORI_…`) left in it. The loader refuses to
/// load without the hash anyway; this stops such a release before it ships.
///
/// # Errors
///
/// When `script` lacks `wasm_integrity` or still holds a placeholder.
fn check_loader(script: &str, wasm_integrity: &str) -> Result<(), Error> {
    if let Some(at) = script.find("__MAMORI_") {
        let placeholder: String = script[at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        return Err(Error(format!(
            "mamori.js still holds the build placeholder {placeholder}"
        )));
    }
    if !script.contains(wasm_integrity) {
        return Err(Error(format!(
            "mamori.js does not hold the .wasm's integrity hash {wasm_integrity}"
        )));
    }
    Ok(())
}

fn run_step(title: &str, command: &mut Command) -> Result<(), Error> {
    if cmd::step(title, command)?.success {
        Ok(())
    } else {
        Err(Error(format!("{title} failed: {}", cmd::display(command))))
    }
}

/// Empties `dir`, creating it if needed: stale files must never end up in a package.
fn reset(dir: &Path) -> Result<(), Error> {
    if dir.exists() {
        fs::remove_dir_all(dir).map_err(|e| Error(format!("removing {}: {e}", dir.display())))?;
    }
    fs::create_dir_all(dir).map_err(|e| Error(format!("creating {}: {e}", dir.display())))
}

fn copy(from: &Path, to: &Path) -> Result<(), Error> {
    if let Some(parent) = to.parent() {
        fs::create_dir_all(parent)
            .map_err(|e| Error(format!("creating {}: {e}", parent.display())))?;
    }
    fs::copy(from, to).map(drop).map_err(|e| {
        Error(format!(
            "copying {} to {}: {e}",
            from.display(),
            to.display()
        ))
    })
}

/// The widget's JavaScript modules: every `.js` file in `crates/mamori-widget/src`, sorted.
fn widget_modules(root: &Path) -> Result<Vec<PathBuf>, Error> {
    let dir = root.join("crates/mamori-widget/src");
    let entries =
        fs::read_dir(&dir).map_err(|e| Error(format!("reading {}: {e}", dir.display())))?;
    let mut modules = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| Error(format!("reading {}: {e}", dir.display())))?
            .path();
        if path.extension().is_some_and(|ext| ext == "js") {
            modules.push(path);
        }
    }
    modules.sort();
    Ok(modules)
}

/// The last component of `path`, which every file found by [`widget_modules`] has.
fn file_name(path: &Path) -> Result<&std::ffi::OsStr, Error> {
    path.file_name()
        .ok_or_else(|| Error(format!("{} has no file name", path.display())))
}

fn read(path: &Path) -> Result<String, Error> {
    fs::read_to_string(path).map_err(|e| Error(format!("reading {}: {e}", path.display())))
}

fn write(path: &Path, text: &str) -> Result<(), Error> {
    fs::write(path, text).map_err(|e| Error(format!("writing {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "sha384-OnTE+7/jIjTAqmhn3DSwgaufbCgFjdzp5PQZiAKSsiujkMqoceqLStHZzFYN/OfX";

    #[test]
    fn a_loader_with_the_wasm_hash_and_no_placeholder_passes() {
        let script = format!("var f=\"mamori-0123456789abcdef.wasm\",i=\"{HASH}\";");
        assert!(check_loader(&script, HASH).is_ok());
    }

    #[test]
    fn a_loader_without_the_wasm_hash_is_refused() {
        let other = "sha384-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        let script = format!("var i=\"{other}\";");
        let Err(Error(message)) = check_loader(&script, HASH) else {
            panic!("a loader with another hash passed");
        };
        assert!(message.contains("does not hold"), "{message}");
    }

    #[test]
    fn a_loader_with_a_placeholder_left_is_refused_by_name() {
        let script = format!("var f=\"__MAMORI_WASM_FILE__\",i=\"{HASH}\";");
        let Err(Error(message)) = check_loader(&script, HASH) else {
            panic!("a loader with a placeholder passed");
        };
        assert!(message.contains("__MAMORI_WASM_FILE__"), "{message}");
    }
}
