//! Child processes owned by a test: killed when the guard drops (a test that
//! panics unwinds through the drop), and by the kernel if the test process
//! itself dies first.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A running child process, stopped on drop.
pub struct OwnedChild {
    child: Child,
    name: String,
}

impl OwnedChild {
    /// Starts `command` with its output appended to `log`. The child gets
    /// SIGKILL from the kernel when the thread that started it ends, so even
    /// a test harness killed by a timeout leaves no server behind.
    pub fn spawn(name: &str, mut command: Command, log: &Path) -> OwnedChild {
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap_or_else(|e| panic!("opening {}: {e}", log.display()));
        let stderr = log_file.try_clone().expect("log file handle");
        command.stdin(Stdio::null()).stdout(log_file).stderr(stderr);
        // SAFETY: prctl(PR_SET_PDEATHSIG) is async-signal-safe and touches no
        // memory of the parent; it only asks the kernel to signal this child.
        unsafe {
            command.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("starting {name} ({command:?}): {e}"));
        OwnedChild {
            child,
            name: name.to_owned(),
        }
    }

    /// Whether the process has exited already.
    pub fn has_exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// The exit status, once the process has exited.
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits up to `timeout` for the process to exit;
    /// returns its exit status, or `None` if it is still running.
    pub fn terminate(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let pid = libc::pid_t::try_from(self.child.id()).expect("a pid fits pid_t");
        // SAFETY: kill(2) on our own child's pid; it has not been reaped yet
        // (we reap only in try_wait/wait below or on drop).
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for OwnedChild {
    fn drop(&mut self) {
        if let Err(e) = self.child.kill() {
            eprintln!("stopping {}: {e}", self.name);
        }
        let _ = self.child.wait();
    }
}

/// A loopback port nobody listens on right now. Another process may take it
/// before we do; callers retry on a failed start.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("binding an ephemeral loopback port")
}

/// Waits until `addr` accepts TCP connections, or `child` exits, or the
/// deadline passes. Returns whether it is accepting.
pub fn wait_until_listening(child: &mut OwnedChild, addr: SocketAddr, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return true;
        }
        if child.has_exited() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}
