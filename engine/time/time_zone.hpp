// SPDX-License-Identifier: Apache-2.0
//
// TimeZone: UTC offsets of an IANA time zone ("Europe/Andorra") from the system's compiled
// tz database (/usr/share/zoneinfo, Debian's tzdata; TZif files, RFC 8536). Day-by-day
// challenges judge each day in the runner's own zone, so "a run on the 3rd" means the 3rd
// where the runner was, across daylight saving changes. (libstdc++ 12 has no chrono tzdb.)
// Times past the file's last transition use the last rule's offset (the POSIX TZ footer is
// not evaluated): exact for zones without DST today, an hour off in summers after ~2037 for
// the others.
//
// Thread-safety: a loaded TimeZone is immutable; Load() may be called from any thread (a zone
// is read from its file once per process and directory, then copied from memory).
//
//   Result<TimeZone> tz = TimeZone::Load("Europe/Andorra");
//   std::string day = tz->LocalDate(run.start_time_s);   // "2026-07-14"
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/status.hpp"

namespace stride::engine {

class TimeZone {
 public:
  // "UTC" (and "Etc/UTC") need no file. kInvalidArgument for names with "..", a leading '/',
  // or characters outside [A-Za-z0-9_+-/]; kNotFound when the database has no such zone.
  static Result<TimeZone> Load(std::string_view name,
                               const std::string& zoneinfo_dir = "/usr/share/zoneinfo");
  static TimeZone Utc();

  const std::string& name() const { return name_; }
  // Seconds east of UTC at the instant `utc_s`.
  int32_t OffsetAt(double utc_s) const;
  // The local calendar date at `utc_s`: days since 1970-01-01, and as "YYYY-MM-DD".
  int64_t LocalDay(double utc_s) const;
  std::string LocalDate(double utc_s) const;
  // The UTC instant of local midnight starting `day` (days since 1970-01-01, local).
  double StartOfLocalDay(int64_t day) const;

 private:
  std::string name_;
  std::vector<int64_t> transitions_;  // UTC seconds, ascending
  std::vector<int32_t> offsets_;      // offset after each transition
  int32_t initial_offset_ = 0;        // before the first transition
};

// "YYYY-MM-DD" as days since 1970-01-01; false when malformed or not a real date.
bool ParseDate(std::string_view text, int64_t* day);
std::string FormatDate(int64_t day);

}  // namespace stride::engine
