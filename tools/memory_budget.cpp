// SPDX-License-Identifier: Apache-2.0
#include "tools/memory_budget.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "engine/memory/keep_freed.hpp"
#include "index/store/route_db.hpp"
#include "tools/format.hpp"

namespace stride::tools {

namespace {

// Bytes as whole MiB, rounded up: a peak one byte over the budget is said as over it.
uint64_t MiBUp(uint64_t bytes) {
  return (bytes + 1048575) >> 20;
}

}  // namespace

bool ParseMemoryMb(const std::string& s, uint64_t* mib) {
  int v = 0;
  if (!ParseInt(s, 1, 1 << 24, &v)) return false;
  *mib = static_cast<uint64_t>(v);
  return true;
}

MemoryBudget::MemoryBudget(uint64_t mib, std::string command)
    : bytes_(mib << 20), command_(std::move(command)) {
  if (bytes_ == 0) return;
  const auto peak = engine::PeakResidentBytes();
  if (peak > bytes_) {
    over_at_start_mib_ = MiBUp(peak);
    return;
  }
  watcher_ = std::thread([this] { Watch(); });
}

MemoryBudget::~MemoryBudget() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  if (watcher_.joinable()) watcher_.join();
}

void MemoryBudget::SetPhase(std::string phase) {
  std::lock_guard<std::mutex> lock(mu_);
  phase_ = std::move(phase);
}

bool MemoryBudget::OutOfMemory(size_t more_bytes) const {
  if (bytes_ == 0) return false;
  const double budget = 0.95 * static_cast<double>(bytes_);
  return static_cast<double>(engine::ResidentBytes()) + static_cast<double>(more_bytes) > budget;
}

void MemoryBudget::Watch() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    // The kernel's high-water mark, not a sample: a peak between two looks is seen at the
    // next one.
    const auto peak = engine::PeakResidentBytes();
    if (peak > bytes_) {
      const bool switched = index::AbandonBuilds();
      std::fprintf(stderr,
                   "stride %s: error: --memory-mb %llu: the process reached %llu MiB while %s, "
                   "over the budget: %s\n",
                   command_.c_str(), static_cast<unsigned long long>(bytes_ >> 20),
                   static_cast<unsigned long long>(MiBUp(peak)), phase_.c_str(),
                   switched ? "the new database had been switched in already"
                            : "removing the unfinished database (the database is as it was; "
                              "this map needs more memory)");
      std::fflush(stderr);
      std::_Exit(1);
    }
    stop_cv_.wait_for(lock, std::chrono::milliseconds(100), [this] { return stop_; });
  }
}

}  // namespace stride::tools
