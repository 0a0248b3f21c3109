//! A global allocator that counts: the system allocator, and a count of every allocation and
//! reallocation made through it. The bench binary and `tests/allocations.rs` install it with
//!
//! ```text
//! #[global_allocator]
//! static GLOBAL: engine_bench::counting::CountingAllocator = engine_bench::counting::CountingAllocator;
//! ```
//!
//! The count is process-wide, so a binary that installs it counts one thing at a time.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The system allocator, counting.
pub struct CountingAllocator;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// Inlined into the binary that installs it, as an allocator written there would be: a call
// across crates costs every allocation about ten instructions, which the bench would count.
// SAFETY: every call goes to the system allocator unchanged; only a counter is added.
unsafe impl GlobalAlloc for CountingAllocator {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Allocations and reallocations so far (0 unless [`CountingAllocator`] is installed).
#[inline]
pub fn allocations() -> usize {
    ALLOCATIONS.load(Ordering::Relaxed)
}

/// What `f` returns, and the allocations it made.
pub fn allocations_of<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = allocations();
    let out = f();
    (out, allocations() - before)
}
