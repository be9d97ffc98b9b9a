//! The C symbols: `getrandom`, `getentropy` and `clock_gettime`, defined in the
//! program itself so that they win over glibc's for every caller linked into it.
//!
//! Checked on Rust 1.95 / glibc (`guards-tests`, and by experiment): std's
//! `hashmap_random_keys` calls `getrandom` (16 bytes, once per thread), `Instant::now()`
//! calls `clock_gettime(CLOCK_MONOTONIC)`, `SystemTime::now()` calls
//! `clock_gettime(CLOCK_REALTIME)` — all through these symbols, never through a raw
//! system call. Inside a run each is served by `served.rs`; outside one, `getrandom` and
//! `getentropy` make the system call themselves and `clock_gettime` calls glibc's
//! definition, found once with `dlsym(RTLD_NEXT)` (the vDSO-backed fast path).
//!
//! Rules: no panics (a panic cannot unwind out of an `extern "C"` function: it aborts),
//! no allocation outside a run, no locks.

use super::served::{self, Clock};
use super::thread;
use libc::{c_int, c_uint, c_void, clockid_t, size_t, ssize_t, timespec};
use std::sync::atomic::{AtomicUsize, Ordering};

/// `getrandom(2)`. In a run: the run's entropy, whatever the flags; never fails.
///
/// # Safety
/// As for glibc's: `buf` is valid for writes of `buflen` bytes.
#[no_mangle]
pub(crate) unsafe extern "C" fn getrandom(
    buf: *mut c_void,
    buflen: size_t,
    flags: c_uint,
) -> ssize_t {
    thread::mark_entropy_drawn();
    // SAFETY: forwarded from this function's contract.
    if unsafe { serve_entropy(buf.cast(), buflen) } {
        return buflen as ssize_t;
    }
    // SAFETY: the system call with the caller's arguments, which its contract covers.
    unsafe { libc::syscall(libc::SYS_getrandom, buf, buflen, flags) as ssize_t }
}

/// `getentropy(3)`: at most 256 bytes, else `EIO`. In a run: the run's entropy.
///
/// # Safety
/// As for glibc's: `buf` is valid for writes of `len` bytes.
#[no_mangle]
pub(crate) unsafe extern "C" fn getentropy(buf: *mut c_void, len: size_t) -> c_int {
    if len > 256 {
        set_errno(libc::EIO);
        return -1;
    }
    thread::mark_entropy_drawn();
    // SAFETY: forwarded from this function's contract.
    if unsafe { serve_entropy(buf.cast(), len) } {
        return 0;
    }
    let mut done = 0;
    while done < len {
        // SAFETY: `buf + done .. buf + len` lies within the caller's buffer.
        let n = unsafe {
            libc::syscall(
                libc::SYS_getrandom,
                buf.cast::<u8>().add(done),
                len - done,
                0,
            )
        };
        if n < 0 {
            if errno() == libc::EINTR {
                continue;
            }
            return -1;
        }
        done += n as usize;
    }
    0
}

/// `clock_gettime(2)`. In a run: the monotonic family (and the CPU-time clocks) read
/// virtual time, the real-time family the current node's wall clock; other clock ids
/// (dynamic ones: another process's CPU clock, a PTP device) pass through.
///
/// # Safety
/// As for glibc's: `tp` is valid for writing one `timespec`.
#[no_mangle]
pub(crate) unsafe extern "C" fn clock_gettime(clock: clockid_t, tp: *mut timespec) -> c_int {
    if let Some(ns) = clock_kind(clock).and_then(served::clock_ns) {
        if tp.is_null() {
            set_errno(libc::EFAULT);
            return -1;
        }
        let ts = timespec {
            tv_sec: (ns / 1_000_000_000) as libc::time_t,
            tv_nsec: (ns % 1_000_000_000) as libc::c_long,
        };
        // SAFETY: `tp` is non-null and, by this function's contract, writable.
        unsafe { tp.write(ts) };
        return 0;
    }
    // SAFETY: glibc's `clock_gettime` (or the system call) with the caller's arguments.
    unsafe { real_clock_gettime()(clock, tp) }
}

/// Which served clock `clock` is, if it is one a run serves.
fn clock_kind(clock: clockid_t) -> Option<Clock> {
    match clock {
        libc::CLOCK_REALTIME
        | libc::CLOCK_REALTIME_COARSE
        | libc::CLOCK_REALTIME_ALARM
        | libc::CLOCK_TAI => Some(Clock::Wall),
        libc::CLOCK_MONOTONIC
        | libc::CLOCK_MONOTONIC_RAW
        | libc::CLOCK_MONOTONIC_COARSE
        | libc::CLOCK_BOOTTIME
        | libc::CLOCK_BOOTTIME_ALARM
        | libc::CLOCK_PROCESS_CPUTIME_ID
        | libc::CLOCK_THREAD_CPUTIME_ID => Some(Clock::Monotonic),
        _ => None,
    }
}

/// Fills `buf[..len]` with the run's entropy; false (nothing written) outside a run.
///
/// # Safety
/// `buf` is valid for writes of `len` bytes.
unsafe fn serve_entropy(buf: *mut u8, len: usize) -> bool {
    let mut index = 0u64;
    let mut done = 0;
    while done < len {
        let Some(word) = served::entropy_word(index) else {
            return false; // only possible for the first word: a run does not end midway
        };
        let bytes = word.to_le_bytes();
        let n = bytes.len().min(len - done);
        // SAFETY: `done + n <= len`, so the copy stays within the caller's buffer; the
        // source is a local array, so the two do not overlap.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), buf.add(done), n) };
        done += n;
        index += 1;
    }
    if len > 0 {
        served::log_entropy(len);
    }
    true
}

type ClockGettime = unsafe extern "C" fn(clockid_t, *mut timespec) -> c_int;

/// glibc's `clock_gettime`, resolved on first use (0 = not yet).
static REAL_CLOCK_GETTIME: AtomicUsize = AtomicUsize::new(0);

/// glibc's `clock_gettime`: the next definition after this program's own, or the
/// system call if there is none.
fn real_clock_gettime() -> ClockGettime {
    let mut addr = REAL_CLOCK_GETTIME.load(Ordering::Relaxed);
    if addr == 0 {
        // SAFETY: `dlsym` with a NUL-terminated name and the RTLD_NEXT pseudo-handle,
        // called from this program's own object (which RTLD_NEXT searches past).
        addr = unsafe { libc::dlsym(libc::RTLD_NEXT, c"clock_gettime".as_ptr()) } as usize;
        if addr == 0 {
            addr = syscall_clock_gettime as ClockGettime as usize;
        }
        // Racing threads store the same address.
        REAL_CLOCK_GETTIME.store(addr, Ordering::Relaxed);
    }
    // SAFETY: `addr` is glibc's `clock_gettime` or `syscall_clock_gettime`, both of
    // type `ClockGettime`, and a function address is never 0.
    unsafe { std::mem::transmute::<usize, ClockGettime>(addr) }
}

/// `clock_gettime` as a bare system call (when glibc's cannot be found).
unsafe extern "C" fn syscall_clock_gettime(clock: clockid_t, tp: *mut timespec) -> c_int {
    // SAFETY: the system call with the caller's arguments, which its contract covers.
    unsafe { libc::syscall(libc::SYS_clock_gettime, clock, tp) as c_int }
}

fn errno() -> c_int {
    // SAFETY: glibc's thread-local errno location is always valid for its thread.
    unsafe { *libc::__errno_location() }
}

fn set_errno(value: c_int) {
    // SAFETY: as in `errno`.
    unsafe { *libc::__errno_location() = value };
}
