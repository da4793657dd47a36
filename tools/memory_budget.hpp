// SPDX-License-Identifier: Apache-2.0
//
// The memory budget of `stride import` and `stride update` (--memory-mb): what the process
// holds resident (engine::ResidentBytes: heap, stacks, mapped files' pages) is kept under it.
//
// Two parts. The contraction hierarchy, the phase whose memory grows with the map's density
// rather than its size (46 M shortcuts at 10^8 nodes), adapts: it stops contracting once what
// is resident plus what its finished arrays will add comes within 5 % of the budget, and
// leaves the rest as its core (HierarchyOptions::out_of_memory): the import finishes within
// the budget and searches on a larger core are slower. The other phases cannot trade memory
// for anything yet (their memory is what the map has: node locations, ways, routes, the
// graph), so a watch thread reads the process's peak resident memory (the kernel's
// high-water mark, which no spike escapes) ten times a second and, over the budget, stops
// the command as an interrupt does: the unfinished database removed
// (index::AbandonBuilds), DIR as it was (or the new database, when the peak came as it was
// being switched in: the line says which), one error line naming the phase and the peak, exit
// status 1. A command that finishes was within its budget.
//
// Trade-offs: a peak is seen up to 100 ms after it (the command goes on meanwhile); pages
// the allocator keeps after a free count (an import gives them back between phases:
// engine::ReturnFreedMemory); a hierarchy stopped early depends on what the process held
// then, so two imports under one budget may differ in their core (never in their answers).
//
// Thread-safety: SetPhase and OutOfMemory from any thread.
//
//   MemoryBudget budget(mib, "import");      // watching from here, when mib > 0
//   budget.SetPhase("nodes+ways");
//   options.out_of_memory = [&](size_t more) { return budget.OutOfMemory(more); };
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace stride::tools {

// --memory-mb's value: a whole number of MiB from 1 to 2^24 (16 TiB); false otherwise, and
// the message says what was expected.
bool ParseMemoryMb(const std::string& s, uint64_t* mib);
inline constexpr const char* kMemoryMbExpected =
    "expected a whole number of MiB from 1 to 16777216 (16 TiB)";

class MemoryBudget {
 public:
  // mib == 0: no budget (nothing watched; OutOfMemory is always false). A process over the
  // budget already is not watched: the caller asks over_at_start() and stops, from its own
  // thread, before it has built anything.
  MemoryBudget(uint64_t mib, std::string command);
  ~MemoryBudget();
  MemoryBudget(const MemoryBudget&) = delete;
  MemoryBudget& operator=(const MemoryBudget&) = delete;

  bool enabled() const { return bytes_ > 0; }
  uint64_t mib() const { return bytes_ >> 20; }
  // The peak so far (MiB) when it was over the budget as this was made; 0 otherwise.
  uint64_t over_at_start() const { return over_at_start_mib_; }
  // What the process is doing, for the error ("while reading nodes+ways").
  void SetPhase(std::string phase);
  // True when the resident memory plus `more_bytes` comes within 5 % of the budget.
  bool OutOfMemory(size_t more_bytes) const;

 private:
  void Watch();

  uint64_t bytes_;
  std::string command_;
  mutable std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stop_ = false;
  std::string phase_ = "starting";
  uint64_t over_at_start_mib_ = 0;
  std::thread watcher_;
};

}  // namespace stride::tools
