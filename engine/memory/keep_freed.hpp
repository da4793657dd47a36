// SPDX-License-Identifier: Apache-2.0
//
// Analysing recordings one after another allocates and frees tens of MB per file. With glibc's
// defaults the freed top of the heap goes back to the kernel after each file (M_TRIM_THRESHOLD
// 128 KiB, adjusted upward only by large mmap'd blocks) and the next file faults it in again:
// a third of the time of analysing the shared GPX files in a row was the kernel zeroing those
// pages (perf, 2026-12-03). KeepFreedMemory() keeps up to `bytes` of freed heap in the process
// for the next analysis instead, and grows the heap in steps of bytes / 8. It also serves
// blocks up to 32 MiB from the heap: once a threshold is set, glibc no longer adapts its mmap
// threshold and would map every block of 128 KiB or more on its own and unmap it when freed,
// so the long columns of the next large recording would be faulted in afresh (and
// PreferHugePages needs its block from the heap).
//
// Trade-off: process-wide, and the memory stays resident (counted in RSS) until the process
// exits or the heap shrinks past `bytes`. For batch work (the CLI's analyze, the Python module
// by default), not for a long-running server whose memory should follow its load.
// KeepFreedMemory(0) sets glibc's default values back (128 KiB, no pad); glibc then no longer
// raises its thresholds on its own, as it does while nothing set them. False, changing nothing,
// when the allocator takes no such setting (not glibc's, or a sanitizer's).
//
// Measured (bench/scripts/activity_vs_gpxpy.sh, against glibc's defaults): analysing
// recordings held in memory, a third faster; from paths, no change (reading a file frees a
// large mapped block, and glibc's defaults then raise their thresholds by themselves).
//
// Thread-safety: call before the threads that allocate start (mallopt is not synchronised with
// allocations in flight on every libc).
#pragma once

#include <cstddef>
#include <cstdint>

namespace stride::engine {

// True when the allocator took the setting.
bool KeepFreedMemory(size_t bytes);

// Whether KeepFreedMemory(n > 0) is in force.
bool KeepingFreedMemory();

// Gives the kernel back the freed memory the allocator still holds: the free top of every heap
// and the whole free pages inside them (glibc's malloc_trim). Between the phases of a long job
// whose next phase needs memory of other sizes: the millions of small blocks an import frees
// stay resident, scattered through the heaps, unless given back. True when something was
// returned; false otherwise, and when the allocator has no such call (not glibc's).
//
// Thread-safety: any thread; it takes every heap's lock in turn.
bool ReturnFreedMemory();

// Gives the kernel back the whole pages inside [begin, begin + bytes): part of a large array
// still allocated that the caller will not read again (what a pass over it has finished
// with), so that the memory goes as the pass goes rather than when the array is freed. Those
// pages read as zeros if touched again; the array is freed as usual. Returns the bytes given
// back (0 when the range holds no whole page, or the kernel refused).
//
// Thread-safety: any thread, provided no other thread touches the range.
size_t ReleasePages(void* begin, size_t bytes);

// ReleasePages for a pass over one array, front to back: Behind(p) says no byte below p will
// be read again, and gives back the pages wholly below it not given back yet (a page the last
// call left because it held bytes still needed goes at the first call past its end).
class ReleaseBehind {
 public:
  explicit ReleaseBehind(const void* begin) : next_(reinterpret_cast<uintptr_t>(begin)) {}
  void Behind(const void* p);
  size_t released() const { return released_; }  // bytes given back so far

 private:
  uintptr_t next_;  // from here up, nothing was given back
  size_t released_ = 0;
};

// The process's resident memory now, bytes (/proc/self/statm: anonymous and file pages); 0
// where there is no /proc. Reads one small file: microseconds.
uint64_t ResidentBytes();

// The most this process has held resident since it started, bytes (the kernel's high-water
// mark, getrusage's ru_maxrss): a peak between two looks is not missed. 0 where unknown.
uint64_t PeakResidentBytes();

// Asks the kernel to back the next `bytes` of the calling thread's heap with transparent huge
// pages (2 MiB). After start-up, page faults are what a short analysis pays most for on virtual
// machines (~10 us each on our 2-core VMs): a huge page is one fault where small pages are 512.
// glibc does this for every heap when started with GLIBC_TUNABLES=glibc.malloc.hugetlb=1, which
// a process cannot ask for itself once running; this does it for one thread's heap.
//
// How: mallocs `bytes` (from the thread's heap, as KeepFreedMemory serves blocks this large
// there), advises the 2 MiB-aligned inside of the block MADV_HUGEPAGE, frees it, and holds the
// part below the first aligned address with a block of its own until the thread exits, so that
// what the thread allocates next starts in the advised range. Relies on glibc carving new
// blocks from the low end of the heap's free top; where that does not hold, only speed differs.
//
// Does nothing and returns false unless KeepFreedMemory(n > 0) took effect (and when the kernel
// refuses the advice: no THP, or THP "never"). Memory: up to 2 MiB more resident per thread, as
// the kernel faults in 2 MiB at a time; nothing is touched by the call itself. The kernel may
// compact memory to find a huge page ("defrag"), a delay the allocation then pays once.
//
// Once per thread: after a call made while memory is kept, later calls on the same thread do
// nothing and return the first one's answer, so a library can call it before every piece of
// work (the C API does, before each analysis).
//
// Thread-safety: per thread; call at the start of a thread that will allocate heavily.
bool PreferHugePages(size_t bytes);

// What the CLI's analysing threads and the C API ask PreferHugePages for: room for the largest
// recordings' working set. The 29 shared GPX files without and with it (perf stat): 1,412 and
// 166 page faults, 56 and 40 ms of CPU at --jobs 1; 2,150 and 200, 66 and 44 ms at --jobs 2.
inline constexpr size_t kAnalysisHugePageBytes = size_t{16} << 20;

}  // namespace stride::engine
