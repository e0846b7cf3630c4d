//! The allocator settings of a process that streams frames (`netgear`, and
//! the bench crate's peers, which include this file so that the bound they
//! measure is set up the same way).

/// Keeps freed frame buffers in the process for the next frames.
///
/// glibc's malloc serves blocks of 128 KiB and more with `mmap` and gives
/// the top of its heaps back to the kernel past 128 KiB; both thresholds
/// rise after the first large free, but a stream of frames (libzmq
/// allocates every received message, the JPEG codecs every output) still
/// keeps returning pages to the kernel and faulting them back in, zeroed:
/// a fifth to a third of a multi-server hub's CPU time per 230 KB frame
/// (perf: `exc_page_fault`, `clear_page_erms`). With fixed thresholds (32
/// MiB, glibc's largest, and 128 MiB) a freed buffer is reused as it is.
/// Memory then stays at its peak instead of shrinking back, and the peak
/// itself is unchanged: it is the frames in flight.
pub fn keep_freed_frames() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes two of malloc's parameters; it is called
    // before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 128 << 20);
    }
}
