// SPDX-License-Identifier: Apache-2.0
#include "engine/time/time_zone.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>

#include "engine/text/iso_time.hpp"

namespace stride::engine {
namespace {

int64_t Be(const std::string& b, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i)
    v = (v << 8) | static_cast<unsigned char>(b[at + static_cast<size_t>(i)]);
  if (bytes == 4) return static_cast<int32_t>(static_cast<uint32_t>(v));
  return static_cast<int64_t>(v);
}

}  // namespace

TimeZone TimeZone::Utc() {
  TimeZone z;
  z.name_ = "UTC";
  return z;
}

Result<TimeZone> TimeZone::Load(std::string_view name, const std::string& zoneinfo_dir) {
  if (name == "UTC" || name == "Etc/UTC" || name == "Z") return Utc();
  if (name.empty() || name.size() > 64 || name.front() == '/' ||
      name.find("..") != std::string_view::npos ||
      !std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '+' || c == '-' || c == '/';
      })) {
    return Status::InvalidArgument("time zone '" + std::string(name) +
                                   "': expected an IANA name such as Europe/Andorra");
  }
  // Zones read once per process: a request that judges a day in the runner's zone should not
  // open a file. Only zones that exist are kept, so the cache is bounded by the database.
  static std::mutex cache_mu;
  static std::map<std::string, TimeZone, std::less<>> cache;
  const std::string key = zoneinfo_dir + '\0' + std::string(name);
  {
    std::lock_guard lock(cache_mu);
    if (auto it = cache.find(key); it != cache.end()) return it->second;
  }
  std::ifstream in(zoneinfo_dir + "/" + std::string(name), std::ios::binary);
  if (!in) return Status::NotFound("time zone '" + std::string(name) + "': unknown");
  const std::string b((std::istreambuf_iterator<char>(in)), {});
  auto bad = [&] {
    return Status::Corruption("time zone '" + std::string(name) + "': not a TZif file");
  };
  if (b.size() < 44 || b.compare(0, 4, "TZif") != 0) return bad();
  // Header: counts of isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt at 20..43.
  auto counts = [&](size_t at, int64_t c[6]) {
    for (int i = 0; i < 6; ++i) c[i] = Be(b, at + 20 + 4 * static_cast<size_t>(i), 4);
  };
  int64_t c[6];
  counts(0, c);
  size_t at = 44;
  int time_bytes = 4;
  if (b[4] >= '2') {
    // Skip the v1 block; the v2 block has 64-bit times.
    at += static_cast<size_t>(c[3] * 4 + c[3] + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0]);
    if (b.size() < at + 44 || b.compare(at, 4, "TZif") != 0) return bad();
    counts(at, c);
    at += 44;
    time_bytes = 8;
  }
  const int64_t timecnt = c[3], typecnt = c[4];
  if (typecnt <= 0 ||
      b.size() < at + static_cast<size_t>(timecnt * (time_bytes + 1) + typecnt * 6)) {
    return bad();
  }
  TimeZone z;
  z.name_ = std::string(name);
  std::vector<int64_t> times(static_cast<size_t>(timecnt));
  for (int64_t i = 0; i < timecnt; ++i) {
    times[static_cast<size_t>(i)] = Be(b, at + static_cast<size_t>(i * time_bytes), time_bytes);
  }
  at += static_cast<size_t>(timecnt * time_bytes);
  std::vector<uint8_t> idx(static_cast<size_t>(timecnt));
  for (int64_t i = 0; i < timecnt; ++i)
    idx[static_cast<size_t>(i)] = static_cast<uint8_t>(b[at + static_cast<size_t>(i)]);
  at += static_cast<size_t>(timecnt);
  std::vector<int32_t> type_offsets(static_cast<size_t>(typecnt));
  for (int64_t i = 0; i < typecnt; ++i) {
    type_offsets[static_cast<size_t>(i)] =
        static_cast<int32_t>(Be(b, at + static_cast<size_t>(i * 6), 4));
  }
  z.initial_offset_ = type_offsets[0];
  for (int64_t i = 0; i < timecnt; ++i) {
    if (idx[static_cast<size_t>(i)] >= type_offsets.size()) return bad();
    z.transitions_.push_back(times[static_cast<size_t>(i)]);
    z.offsets_.push_back(type_offsets[idx[static_cast<size_t>(i)]]);
  }
  std::lock_guard lock(cache_mu);
  cache.emplace(key, z);
  return z;
}

int32_t TimeZone::OffsetAt(double utc_s) const {
  if (transitions_.empty() || !std::isfinite(utc_s)) return initial_offset_;
  const auto t = static_cast<int64_t>(std::floor(std::clamp(utc_s, -1e15, 1e15)));
  const auto it = std::upper_bound(transitions_.begin(), transitions_.end(), t);
  if (it == transitions_.begin()) return initial_offset_;
  return offsets_[static_cast<size_t>(it - transitions_.begin() - 1)];
}

int64_t TimeZone::LocalDay(double utc_s) const {
  const double local = utc_s + OffsetAt(utc_s);
  return static_cast<int64_t>(std::floor(std::clamp(local, -1e15, 1e15) / 86400.0));
}

std::string TimeZone::LocalDate(double utc_s) const {
  return FormatDate(LocalDay(utc_s));
}

double TimeZone::StartOfLocalDay(int64_t day) const {
  // The offset at local midnight, found by one correction step (exact unless midnight falls
  // in a DST gap, where the first instant of the day is taken).
  const double local = static_cast<double>(day) * 86400.0;
  double utc = local - OffsetAt(local);
  utc = local - OffsetAt(utc);
  return utc;
}

bool ParseDate(std::string_view s, int64_t* day) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  int v[3] = {0, 0, 0};
  const size_t starts[3] = {0, 5, 8}, lens[3] = {4, 2, 2};
  for (int k = 0; k < 3; ++k) {
    for (size_t i = 0; i < lens[k]; ++i) {
      const char c = s[starts[k] + i];
      if (c < '0' || c > '9') return false;
      v[k] = v[k] * 10 + (c - '0');
    }
  }
  if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31) return false;
  const long long d = DaysFromCivil(v[0], static_cast<unsigned>(v[1]), static_cast<unsigned>(v[2]));
  if (FormatDate(d) != s) return false;  // 2026-02-30 and the like
  *day = d;
  return true;
}

std::string FormatDate(int64_t day) {
  long long y = 0;
  unsigned m = 0, d = 0;
  CivilFromDays(day, &y, &m, &d);
  char buf[32];
  // A year before 1 BC as ISO 8601 writes it, "-0001": "%04lld" of -1 is "-001".
  std::snprintf(buf, sizeof buf, "%s%04lld-%02u-%02u", y < 0 ? "-" : "", y < 0 ? -y : y, m, d);
  return buf;
}

}  // namespace stride::engine
