//! The heap of a batch job: freed memory kept in the process for the next allocation.
//!
//! `strawfire locate` reads a layer and a feed into buffers it frees again (the layer's pieces
//! read per key range, gathered into the index's order; the feed's parsing) and then allocates
//! the match's answers. glibc gives large blocks (from 128 KiB, a threshold it raises as such
//! blocks are freed) a mapping of their own, unmapped on free, and trims the top of its heap
//! past 128 KiB free: so the answers were fresh pages again, each a page fault and a page
//! zeroed by the kernel. A job that runs once and exits loses nothing by keeping what it
//! freed, so [`keep_freed_memory`] tells glibc to: blocks below 32 MiB (its maximum) come from
//! the heap, and the heap is not trimmed. Measured on the locate bench's first run (BENCHMARKS.md,
//! "Locate", seventh step).
//!
//! Not for the service: a long-running process that never gives memory back grows to its
//! highest point for good (`strawfire serve` keeps glibc's defaults).

/// Blocks below this come from the heap, not a mapping of their own: glibc's maximum
/// (`DEFAULT_MMAP_THRESHOLD_MAX`, 32 MiB on 64-bit).
const MMAP_THRESHOLD: usize = 32 << 20;

/// Tells glibc to keep freed memory for this process's next allocations (module doc). For a
/// batch job that exits (`strawfire locate`, the locate bench), called at its start, before
/// the threads that allocate. Returns whether glibc took both settings (`false` on other C
/// libraries, where it does nothing).
pub fn keep_freed_memory() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let threshold = libc::c_int::try_from(MMAP_THRESHOLD).expect("32 MiB fits an int");
        // SAFETY: `mallopt` only sets two of the allocator's tuning parameters (it takes the
        // arena lock itself); no memory is handed out or freed by it.
        #[allow(unsafe_code)]
        let taken = unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, threshold) == 1
                // The parameter is an `int`: its largest value (2 GiB) is "never" for a job
                // of this size.
                && libc::mallopt(libc::M_TRIM_THRESHOLD, libc::c_int::MAX) == 1
        };
        taken
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Set when this test runs again alone in a child process (below).
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    const CHILD: &str = "STRAWFIRE_HEAP_TEST_CHILD";

    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn glibc_takes_both_settings_and_large_blocks_come_from_the_heap() {
        if std::env::var_os(CHILD).is_none() {
            // The allocator's thresholds are the whole process's, and glibc raises its own as
            // other tests free large blocks (and they may map some meanwhile): the check runs
            // again alone, in a fresh process of this test binary, where without the setting
            // the block below is mapped.
            let name = "locate::heap::tests::glibc_takes_both_settings_and_large_blocks_come_from_the_heap";
            let out = std::process::Command::new(std::env::current_exe().unwrap())
                .args(["--exact", name, "--test-threads=1", "--nocapture"])
                .env(CHILD, "1")
                .output()
                .unwrap();
            let said = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(out.status.success(), "the check alone failed:\n{said}");
            assert!(
                said.contains("1 passed"),
                "the check did not run alone:\n{said}"
            );
            return;
        }
        assert!(keep_freed_memory());
        // A 16 MiB block is below the threshold now: glibc's `mallinfo2` counts mapped
        // blocks apart (`hblkhd`), and this one is not among them.
        let before = mapped_bytes();
        let block = vec![1u8; 16 << 20];
        let after = mapped_bytes();
        std::hint::black_box(&block);
        assert!(
            after < before + (16 << 20),
            "a 16 MiB block was given a mapping of its own ({before} → {after} bytes mapped)"
        );
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn mapped_bytes() -> usize {
        // SAFETY: `mallinfo2` only reads the allocator's statistics.
        #[allow(unsafe_code)]
        let info = unsafe { libc::mallinfo2() };
        info.hblkhd
    }
}
