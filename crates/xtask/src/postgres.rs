//! A throwaway PostgreSQL cluster for the test run: initialised in a temporary directory, started
//! on a free loopback port with trust authentication, and stopped and deleted when dropped.
//!
//! A user who already has a server sets `DATABASE_URL=postgres://…` and no cluster is made; the
//! tests then create and drop their own databases on it.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Error;
use crate::cmd;

/// Where Debian's `postgresql` package puts each major version's programs.
const DEBIAN_POSTGRES_LIB: &str = "/usr/lib/postgresql";

/// The superuser of the throwaway cluster; with trust authentication it needs no password.
const SUPERUSER: &str = "mamori";

/// The system account Debian's package creates; PostgreSQL refuses to run as root.
const SYSTEM_USER: &str = "postgres";

/// The environment variable the test suites read the server's URL from.
pub(crate) const URL_VARIABLE: &str = "MAMORI_TEST_POSTGRES_URL";

/// A PostgreSQL server the tests can use: either the user's or our own throwaway cluster.
pub(crate) enum Server {
    /// `DATABASE_URL`, given by the user.
    External(String),
    /// A cluster we started; stopped and deleted on drop.
    Throwaway(Cluster),
}

impl Server {
    /// The URL of a superuser connection, for the tests' `CREATE DATABASE`.
    pub(crate) fn url(&self) -> &str {
        match self {
            Self::External(url) => url,
            Self::Throwaway(cluster) => &cluster.url,
        }
    }
}

/// The user's server, if `DATABASE_URL` names a PostgreSQL one.
pub(crate) fn external() -> Option<String> {
    std::env::var("DATABASE_URL")
        .ok()
        .filter(|url| url.starts_with("postgres://") || url.starts_with("postgresql://"))
}

/// The directory holding `initdb` and `pg_ctl`: on `PATH`, else the newest Debian version.
pub(crate) fn find_programs() -> Option<PathBuf> {
    if let Some(initdb) = cmd::find_in_path("initdb") {
        return initdb.parent().map(Path::to_path_buf);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(DEBIAN_POSTGRES_LIB)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

/// A running throwaway cluster.
pub(crate) struct Cluster {
    programs: PathBuf,
    dir: PathBuf,
    url: String,
    /// Whether the server runs as [`SYSTEM_USER`] because we are root.
    as_system_user: bool,
}

impl Cluster {
    /// Initialises and starts a cluster with the programs in `programs`.
    ///
    /// # Errors
    ///
    /// When a free port cannot be found or `initdb`/`pg_ctl` fail; their output is shown.
    pub(crate) fn start(programs: &Path) -> Result<Self, Error> {
        let port = free_port()?;
        let dir = std::env::temp_dir().join(format!("mamori-postgres-{}", std::process::id()));
        // A directory left by a killed run with the same pid would make initdb refuse.
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error(format!("creating {}: {e}", dir.display())))?;
        let as_system_user = is_root();
        let cluster = Self {
            programs: programs.to_path_buf(),
            url: format!("postgres://{SUPERUSER}@127.0.0.1:{port}/postgres"),
            dir,
            as_system_user,
        };
        if as_system_user {
            let mut chown = Command::new("chown");
            chown
                .arg(format!("{SYSTEM_USER}:{SYSTEM_USER}"))
                .arg(&cluster.dir);
            cluster.expect_success("chown", &mut chown)?;
        }
        let data = cluster.dir.join("data");
        let mut initdb = cluster.program("initdb");
        initdb.arg("--pgdata").arg(&data).args([
            "--auth=trust",
            "--username",
            SUPERUSER,
            "--encoding=UTF8",
            "--no-sync",
        ]);
        cluster.expect_success("initdb", &mut initdb)?;
        let mut pg_ctl = cluster.program("pg_ctl");
        // No fsync: the cluster lives for one test run, and durability is not what is tested.
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -k {} -c fsync=off -c max_connections=200",
            cluster.dir.display()
        );
        pg_ctl
            .arg("--pgdata")
            .arg(&data)
            .arg("--log")
            .arg(cluster.dir.join("server.log"))
            .args(["--options", &options, "--wait", "--timeout=60", "start"]);
        cluster.expect_success("pg_ctl start", &mut pg_ctl)?;
        Ok(cluster)
    }

    /// A command running `name` from the cluster's programs, as the system user when root.
    fn program(&self, name: &str) -> Command {
        let path = self.programs.join(name);
        if self.as_system_user {
            let mut command = Command::new("runuser");
            command.args(["-u", SYSTEM_USER, "--"]).arg(path);
            command
        } else {
            Command::new(path)
        }
    }

    fn expect_success(&self, title: &str, command: &mut Command) -> Result<(), Error> {
        let finished = cmd::step(title, command)?;
        if finished.success {
            Ok(())
        } else {
            Err(Error(format!(
                "`{}` failed; the server log, if any, is in {}",
                cmd::display(command),
                self.dir.display()
            )))
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let mut stop = self.program("pg_ctl");
        stop.arg("--pgdata")
            .arg(self.dir.join("data"))
            .args(["--mode=immediate", "stop"]);
        // Best effort: a server that already died has nothing to stop, and the directory goes
        // either way.
        let _ = cmd::probe(&mut stop);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A port that was free a moment ago. Another process could take it before the server binds it;
/// then `pg_ctl start` fails and says so, which on a test machine is rare enough.
fn free_port() -> Result<u16, Error> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .map_err(|e| Error(format!("finding a free port: {e}")))
}

fn is_root() -> bool {
    cmd::probe(Command::new("id").arg("-u"))
        .as_deref()
        .map(str::trim)
        == Some("0")
}
