//! Blocking reads that the end of a program can interrupt.
//!
//! An M blocked in a native call (`NativeCtx::blocking`) is an OS thread
//! inside a system call; the program's end (main returns, `os.Exit`, a
//! panic, a `SIGQUIT` dump) joins every M, so an M still waiting for input
//! nobody sends would keep the program alive (Go simply exits the process,
//! which an embedded VM may not do). Each program run therefore owns an
//! [`ExitWake`], an eventfd that `Runtime::finish` makes readable; natives
//! that may wait indefinitely (`bufio.Scanner` on stdin, embedders' own)
//! wait with [`read_unless_exiting`], which polls the input and the eventfd
//! together and gives up when the program is over. Natives that cannot wait
//! forever (reading a regular file) need none of this.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// The "program is over" eventfd of one program run.
///
/// Invariant: once [`ExitWake::signal`] has run the eventfd stays readable
/// (nobody reads it), so every later poll returns at once.
pub struct ExitWake {
    fd: Option<OwnedFd>,
}

impl ExitWake {
    /// A fresh eventfd; without one (the process is out of descriptors),
    /// blocking reads simply cannot be interrupted.
    pub fn new() -> ExitWake {
        // SAFETY: eventfd takes no pointers; a non-negative result is a new
        // descriptor nobody else owns, so OwnedFd may take it.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        ExitWake {
            // SAFETY: as above: `fd` is ours alone when non-negative.
            fd: (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd) }),
        }
    }

    /// Makes the eventfd readable for good: every [`read_unless_exiting`]
    /// waiting on it, now or later, returns `None`.
    pub fn signal(&self) {
        if let Some(fd) = &self.fd {
            let one: u64 = 1;
            // SAFETY: writes 8 bytes from a live u64 to a descriptor we own.
            // A full counter (EAGAIN) means it is readable already.
            let _ = unsafe { libc::write(fd.as_raw_fd(), (&one as *const u64).cast(), 8) };
        }
    }

    /// The descriptor to poll (`-1` when there is none: poll ignores it).
    pub fn raw(&self) -> RawFd {
        self.fd.as_ref().map_or(-1, |fd| fd.as_raw_fd())
    }
}

impl Default for ExitWake {
    fn default() -> Self {
        ExitWake::new()
    }
}

/// Reads from `fd` into `buf` once it has input (or end of file), unless the
/// program ends first: `None` then, and nothing was read. Meant for the
/// inside of a blocking region (it may wait indefinitely); `exit_fd` is
/// [`crate::native::NativeCtx::exit_fd`].
pub fn read_unless_exiting(fd: RawFd, exit_fd: RawFd, buf: &mut [u8]) -> Option<io::Result<usize>> {
    loop {
        let mut fds = [pollin(fd), pollin(exit_fd)];
        // SAFETY: `fds` is a live array of two pollfd, as the count says.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) };
        if n < 0 {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Some(Err(err));
        }
        if fds[1].revents != 0 {
            return None;
        }
        if fds[0].revents == 0 {
            continue;
        }
        // SAFETY: reads at most `buf.len()` bytes into the live buffer.
        let got = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if got < 0 {
            let err = io::Error::last_os_error();
            match err.kind() {
                // A signal, or a descriptor someone made non-blocking.
                io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock => continue,
                _ => return Some(Err(err)),
            }
        }
        return Some(Ok(got as usize));
    }
}

/// Waits up to `timeout` for the program to end (`exit_fd` readable);
/// whether it did. Without an `exit_fd` (`-1`) it just sleeps.
pub fn wait_for_exit(exit_fd: RawFd, timeout: std::time::Duration) -> bool {
    let mut fds = [pollin(exit_fd)];
    let ms = timeout.as_millis().clamp(1, i32::MAX as u128) as i32;
    // SAFETY: `fds` is a live array of one pollfd, as the count says.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), 1, ms) };
    n > 0 && fds[0].revents != 0
}

/// A poll entry waiting for `fd` to be readable (`-1`: ignored by poll).
fn pollin(fd: RawFd) -> libc::pollfd {
    libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::fd::AsRawFd;

    fn pipe() -> (std::fs::File, std::fs::File) {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors pipe writes.
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        // SAFETY: both descriptors are new and owned by nobody else.
        unsafe {
            (
                std::fs::File::from_raw_fd(fds[0]),
                std::fs::File::from_raw_fd(fds[1]),
            )
        }
    }

    #[test]
    fn reads_what_is_there() {
        let wake = ExitWake::new();
        let (r, mut w) = pipe();
        w.write_all(b"hello").unwrap();
        let mut buf = [0u8; 16];
        let n = read_unless_exiting(r.as_raw_fd(), wake.raw(), &mut buf);
        assert_eq!(n.unwrap().unwrap(), 5);
        assert_eq!(&buf[..5], b"hello");
        drop(w);
        let eof = read_unless_exiting(r.as_raw_fd(), wake.raw(), &mut buf);
        assert_eq!(eof.unwrap().unwrap(), 0);
    }

    #[test]
    fn the_end_of_the_program_interrupts_a_waiting_read() {
        let wake = ExitWake::new();
        let (r, _w) = pipe();
        std::thread::scope(|s| {
            let reader = s.spawn(|| {
                let mut buf = [0u8; 16];
                read_unless_exiting(r.as_raw_fd(), wake.raw(), &mut buf).is_none()
            });
            std::thread::sleep(std::time::Duration::from_millis(20));
            wake.signal();
            assert!(reader.join().unwrap(), "the read gave up");
        });
        // And it stays signalled: a later read gives up at once.
        let mut buf = [0u8; 16];
        assert!(read_unless_exiting(r.as_raw_fd(), wake.raw(), &mut buf).is_none());
    }
}
