// SPDX-License-Identifier: Apache-2.0
//
// Analysing recordings one after another allocates and frees tens of MB per file. With glibc's
// defaults the freed top of the heap goes back to the kernel after each file (M_TRIM_THRESHOLD
// 128 KiB, adjusted upward only by large mmap'd blocks) and the next file faults it in again:
// a third of the time of analysing the shared GPX files in a row was the kernel zeroing those
// pages (perf, 2026-12-03). KeepFreedMemory() keeps up to `bytes` of freed heap in the process
// for the next analysis instead, and grows the heap in steps of bytes / 8.
//
// Trade-off: process-wide, and the memory stays resident (counted in RSS) until the process
// exits or the heap shrinks past `bytes`. For batch work (the CLI's analyze, the Python module
// by default), not for a long-running server whose memory should follow its load.
// KeepFreedMemory(0) sets glibc's default values back (128 KiB, no pad); glibc then no longer
// raises its thresholds on its own, as it does while nothing set them. False, changing nothing,
// when the allocator takes no such setting (not glibc's, or a sanitizer's).
//
// Measured (bench/scripts/activity_vs_gpxpy.sh): analysing recordings held in memory, a third
// faster; from paths, no change (reading a file frees a large mapped block, which makes glibc
// raise its thresholds by itself).
//
// Thread-safety: call before the threads that allocate start (mallopt is not synchronised with
// allocations in flight on every libc).
#pragma once

#include <cstddef>

namespace stride::engine {

// True when the allocator took the setting.
bool KeepFreedMemory(size_t bytes);

}  // namespace stride::engine
