//! Hash and load the same bytes. A library is read once; its sha256 is taken
//! of those bytes (and checked against the lock), and on Linux the dynamic
//! loader opens a sealed memfd holding exactly them — so nobody can swap the
//! file between the check and `dlopen`. Elsewhere the file is opened by path
//! after the check (a window remains; documented in the plugin guide).

use std::path::PathBuf;

/// Attempts at sealing a library's memfd that the kernel finds busy (see `new`).
#[cfg(target_os = "linux")]
const SEAL_TRIES: u32 = 5;

/// Bytes the loader can open by path.
pub(super) struct SealedLibrary {
    #[cfg(target_os = "linux")]
    fd: std::os::fd::OwnedFd,
    #[cfg(not(target_os = "linux"))]
    path: PathBuf,
}

impl SealedLibrary {
    /// Copies `bytes` into an anonymous memory file and seals it against any change.
    #[cfg(target_os = "linux")]
    pub(super) fn new(name: &str, bytes: &[u8], _path: &std::path::Path) -> std::io::Result<Self> {
        use std::io::Write;
        use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
        let cname = std::ffi::CString::new(format!("ikd-plugin-{name}"))
            .map_err(|_| std::io::Error::other("plugin name with a NUL byte"))?;
        // SAFETY: a valid C string and flags; the result is checked.
        let raw = unsafe {
            libc::memfd_create(cname.as_ptr(), libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING)
        };
        if raw < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: `raw` is a new descriptor owned by nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        std::fs::File::from(fd.try_clone()?).write_all(bytes)?;
        let seals =
            libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;
        // The kernel refuses `F_SEAL_WRITE` with EBUSY while a page of the file still holds
        // an extra reference (under load, e.g. one not yet drained from another CPU's page
        // batch), after waiting ~150 ms itself. Nothing but this function writes the memfd,
        // so the references go away: try again a few times before refusing the plugin.
        let mut pause = std::time::Duration::from_millis(20);
        for attempt in 1.. {
            // SAFETY: `fd` is an open memfd created with MFD_ALLOW_SEALING.
            if unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_ADD_SEALS, seals) } == 0 {
                break;
            }
            let error = std::io::Error::last_os_error();
            if error.raw_os_error() != Some(libc::EBUSY) || attempt == SEAL_TRIES {
                return Err(error);
            }
            std::thread::sleep(pause);
            pause *= 2;
        }
        Ok(SealedLibrary { fd })
    }

    #[cfg(not(target_os = "linux"))]
    pub(super) fn new(_name: &str, _bytes: &[u8], path: &std::path::Path) -> std::io::Result<Self> {
        Ok(SealedLibrary {
            path: path.to_owned(),
        })
    }

    /// Keeps the descriptor (and so the path) for the life of the process.
    pub(super) fn keep_open(self) {
        std::mem::forget(self);
    }

    /// What to pass to the loader.
    pub(super) fn path(&self) -> PathBuf {
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            PathBuf::from(format!("/proc/self/fd/{}", self.fd.as_raw_fd()))
        }
        #[cfg(not(target_os = "linux"))]
        {
            self.path.clone()
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_library_holds_the_bytes_and_refuses_writes() {
        let sealed = SealedLibrary::new("t", b"abc", std::path::Path::new("unused")).unwrap();
        assert_eq!(std::fs::read(sealed.path()).unwrap(), b"abc");
        let write = std::fs::OpenOptions::new()
            .write(true)
            .open(sealed.path())
            .and_then(|mut f| std::io::Write::write_all(&mut f, b"x"));
        assert!(write.is_err(), "a sealed memfd must refuse writes");
    }
}
