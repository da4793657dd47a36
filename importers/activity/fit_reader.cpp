// SPDX-License-Identifier: Apache-2.0
//
// FIT: our own streaming decoder. One pass over the bytes, no allocation per message.
//
// A FIT file is a 12- or 14-byte header (size, protocol, profile, data size, ".FIT", optional
// header CRC), then definition and data messages, then a CRC-16 of everything before it.
// Files may be chained: another header follows the CRC. A definition binds a local message
// type (0-15) to a global message number, an architecture (byte order) and a list of fields
// (number, size, base type), plus developer fields (size known, meaning in messages 206/207).
// A data message carries the values in that layout; a compressed-timestamp header packs a
// 5-bit time offset and a 2-bit local type into the header byte.
//
// When a definition arrives, a decode plan keeps only the fields this reader uses (offset,
// size, base type, slot), so a data message is a few loads. Values equal to the base type's
// "invalid" pattern become NaN. enhanced_altitude and enhanced_speed win over the legacy
// 16-bit fields; positions are semicircles (2^31 = 180 degrees).
//
// Messages read: file_id (0), sport (12), session (18), lap (19), record (20), event (21,
// timer start/stop), device_info (23), and for workout files (ReadFitWorkout) workout (26) and
// workout_step (27); developer fields are skipped by size.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "engine/track/segment.hpp"
#include "importers/activity/activity_reader.hpp"
#include "importers/activity/detail/encoding.hpp"
#include "importers/activity/fit_crc.hpp"

namespace stride::importers {
namespace {

using engine::kNaN;

constexpr double kFitEpochToUnix = 631065600.0;  // 1989-12-31T00:00:00Z
constexpr double kSemicircleToDeg = 180.0 / 2147483648.0;

constexpr uint16_t kFileId = 0, kSport = 12, kSession = 18, kLap = 19, kRecord = 20, kEvent = 21,
                   kDeviceInfo = 23, kWorkout = 26, kWorkoutStep = 27, kFieldDescription = 206;

// Slots: the fields this reader uses, across message types.
enum Slot : uint8_t {
  kTimestamp,
  kLat,
  kLon,
  kAltitude,
  kHeartRate,
  kCadence,
  kDistance,
  kSpeed,
  kPower,
  kTemperature,
  kGpsAccuracy,
  kFractionalCadence,
  kEnhancedSpeed,
  kEnhancedAltitude,
  kStartTime,
  kElapsed,
  kTimer,
  kTotalDistance,
  kSportField,
  kSubSport,
  kAscent,
  kDescent,
  kAvgHr,
  kMaxHr,
  kCalories,
  kLapTrigger,
  kEventField,
  kEventType,
  kManufacturer,
  kProduct,
  kDeviceIndex,
  kFileType,
  kNumValidSteps,
  kMessageIndex,
  kDurationType,
  kDurationValue,
  kTargetType,
  kTargetValue,
  kTargetLow,
  kTargetHigh,
  kIntensity,
  kSlotCount
};

struct PlanItem {
  uint16_t offset;
  uint8_t size;
  uint8_t base;  // base type number (0-16)
  uint8_t slot;
};

struct Definition {
  bool defined = false;
  bool big_endian = false;
  uint16_t global = 0;
  uint32_t size = 0;              // bytes of a data message (without the header byte)
  int compressed_sd_offset = -1;  // record field 8 (compressed_speed_distance), byte[3]
  int text_offset = -1;  // device_info product_name (27) or field_description field_name (3)
  uint8_t text_size = 0;
  std::vector<PlanItem> plan;
};

// The part of the FIT profile this reader uses: (message, field number) -> slot.
struct ProfileField {
  uint16_t global;
  uint8_t num;
  uint8_t slot;
};
constexpr ProfileField kProfile[] = {
    // record
    {kRecord, 0, kLat},
    {kRecord, 1, kLon},
    {kRecord, 2, kAltitude},
    {kRecord, 3, kHeartRate},
    {kRecord, 4, kCadence},
    {kRecord, 5, kDistance},
    {kRecord, 6, kSpeed},
    {kRecord, 7, kPower},
    {kRecord, 13, kTemperature},
    {kRecord, 31, kGpsAccuracy},
    {kRecord, 53, kFractionalCadence},
    {kRecord, 73, kEnhancedSpeed},
    {kRecord, 78, kEnhancedAltitude},
    // session
    {kSession, 2, kStartTime},
    {kSession, 5, kSportField},
    {kSession, 6, kSubSport},
    {kSession, 7, kElapsed},
    {kSession, 8, kTimer},
    {kSession, 9, kTotalDistance},
    {kSession, 11, kCalories},
    {kSession, 16, kAvgHr},
    {kSession, 17, kMaxHr},
    {kSession, 22, kAscent},
    {kSession, 23, kDescent},
    // lap
    {kLap, 2, kStartTime},
    {kLap, 7, kElapsed},
    {kLap, 8, kTimer},
    {kLap, 9, kTotalDistance},
    {kLap, 15, kAvgHr},
    {kLap, 16, kMaxHr},
    {kLap, 24, kLapTrigger},
    {kLap, 25, kSportField},
    // event, sport, file_id, device_info
    {kEvent, 0, kEventField},
    {kEvent, 1, kEventType},
    {kSport, 0, kSportField},
    {kSport, 1, kSubSport},
    {kFileId, 0, kFileType},
    {kFileId, 1, kManufacturer},
    {kFileId, 2, kProduct},
    {kDeviceInfo, 0, kDeviceIndex},
    {kDeviceInfo, 2, kManufacturer},
    {kDeviceInfo, 4, kProduct},
    // workout, workout_step
    {kWorkout, 4, kSportField},
    {kWorkout, 6, kNumValidSteps},
    {kWorkoutStep, 254, kMessageIndex},
    {kWorkoutStep, 1, kDurationType},
    {kWorkoutStep, 2, kDurationValue},
    {kWorkoutStep, 3, kTargetType},
    {kWorkoutStep, 4, kTargetValue},
    {kWorkoutStep, 5, kTargetLow},
    {kWorkoutStep, 6, kTargetHigh},
    {kWorkoutStep, 7, kIntensity},
};

// Which slot field `num` of message `global` fills, or kSlotCount for none. Runs once per
// field of a definition message, never per data message.
uint8_t SlotFor(uint16_t global, uint8_t num) {
  if (num == 253) return kTimestamp;  // timestamp, in every message
  for (const ProfileField& f : kProfile) {
    if (f.global == global && f.num == num) return f.slot;
  }
  return kSlotCount;
}

constexpr std::array<uint8_t, 17> kBaseSize = {1, 1, 1, 2, 2, 4, 4, 1, 4, 8, 1, 2, 4, 1, 8, 8, 8};

inline uint64_t LoadUnsigned(const uint8_t* p, int n, bool be) {
  uint64_t v = 0;
  if (be) {
    for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  } else {
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
  }
  return v;
}

// The first element of a field as a double, NaN when it holds the type's invalid value.
inline double Decode(const uint8_t* p, uint8_t base, bool be) {
  switch (base) {
    case 0:   // enum
    case 2:   // uint8
    case 13:  // byte
      return p[0] == 0xFF ? kNaN : p[0];
    case 1:
      return p[0] == 0x7F ? kNaN : static_cast<int8_t>(p[0]);
    case 10:
      return p[0] == 0 ? kNaN : p[0];
    case 3: {
      const auto v = static_cast<uint16_t>(LoadUnsigned(p, 2, be));
      return v == 0x7FFF ? kNaN : static_cast<int16_t>(v);
    }
    case 4: {
      const auto v = static_cast<uint16_t>(LoadUnsigned(p, 2, be));
      return v == 0xFFFF ? kNaN : v;
    }
    case 11: {
      const auto v = static_cast<uint16_t>(LoadUnsigned(p, 2, be));
      return v == 0 ? kNaN : v;
    }
    case 5: {
      const auto v = static_cast<uint32_t>(LoadUnsigned(p, 4, be));
      return v == 0x7FFFFFFF ? kNaN : static_cast<int32_t>(v);
    }
    case 6: {
      const auto v = static_cast<uint32_t>(LoadUnsigned(p, 4, be));
      return v == 0xFFFFFFFF ? kNaN : v;
    }
    case 12: {
      const auto v = static_cast<uint32_t>(LoadUnsigned(p, 4, be));
      return v == 0 ? kNaN : v;
    }
    case 8: {
      const auto bits = static_cast<uint32_t>(LoadUnsigned(p, 4, be));
      if (bits == 0xFFFFFFFF) return kNaN;
      float f;
      std::memcpy(&f, &bits, 4);
      return f;
    }
    case 9: {
      const uint64_t bits = LoadUnsigned(p, 8, be);
      if (bits == ~uint64_t{0}) return kNaN;
      double d;
      std::memcpy(&d, &bits, 8);
      return d;
    }
    case 14: {
      const uint64_t v = LoadUnsigned(p, 8, be);
      return v == 0x7FFFFFFFFFFFFFFFULL ? kNaN : static_cast<double>(static_cast<int64_t>(v));
    }
    case 15: {
      const uint64_t v = LoadUnsigned(p, 8, be);
      return v == ~uint64_t{0} ? kNaN : static_cast<double>(v);
    }
    case 16: {
      const uint64_t v = LoadUnsigned(p, 8, be);
      return v == 0 ? kNaN : static_cast<double>(v);
    }
    default:
      return kNaN;
  }
}

std::string SportWord(int sport) {
  switch (sport) {
    case 0:
      return "generic";
    case 1:
      return "running";
    case 2:
      return "cycling";
    case 3:
      return "transition";
    case 4:
      return "fitness_equipment";
    case 5:
      return "swimming";
    case 10:
      return "training";
    case 11:
      return "walking";
    case 13:
      return "alpine_skiing";
    case 17:
      return "hiking";
    case 20:
      return "rowing";
    case 21:
      return "mountaineering";
    default:
      return "sport_" + std::to_string(sport);
  }
}

std::string SubSportWord(int sub) {
  switch (sub) {
    case 0:
      return "generic";
    case 1:
      return "treadmill";
    case 2:
      return "street";
    case 3:
      return "trail";
    case 4:
      return "track";
    case 5:
      return "spin";
    case 6:
      return "indoor_cycling";
    case 7:
      return "road";
    case 8:
      return "mountain";
    case 14:
      return "indoor_rowing";
    case 17:
      return "lap_swimming";
    case 18:
      return "open_water";
    case 58:
      return "virtual_activity";
    default:
      return "sub_sport_" + std::to_string(sub);
  }
}

std::string ManufacturerWord(int m) {
  switch (m) {
    case 1:
      return "garmin";
    case 13:
      return "dynastream_oem";
    case 15:
      return "dynastream";
    case 23:
      return "suunto";
    case 32:
      return "wahoo_fitness";
    case 38:
      return "o_synce";
    case 69:
      return "stages_cycling";
    case 70:
      return "sigmasport";
    case 89:
      return "tacx";
    case 95:
      return "stryd";
    case 123:
      return "polar";
    case 255:
      return "development";
    case 260:
      return "zwift";
    case 265:
      return "strava";
    case 282:
      return "hammerhead";
    case 294:
      return "coros";
    default:
      return "manufacturer_" + std::to_string(m);
  }
}

// An enum or id field's value (sport, manufacturer, product, trigger) as an int: -1 unless it
// is within [0, 0xFFFF]. A corrupt or fuzzed definition can give these fields a float or a wide
// base type, and converting an out-of-range double to int is undefined behaviour.
int EnumOf(double v) {
  return v >= 0 && v <= 65535 ? static_cast<int>(v) : -1;  // false for NaN
}

engine::Sport SportFromFit(int sport, int sub) {
  switch (sport) {
    case 1:
      return engine::Sport::kRun;
    case 2:
      return engine::Sport::kRide;
    case 5:
      return engine::Sport::kSwim;
    case 11:
      return engine::Sport::kWalk;
    case 17:
    case 21:
      return engine::Sport::kHike;
    case 0:
      return sub == 0 ? engine::Sport::kUnknown : engine::Sport::kOther;
    default:
      return engine::Sport::kOther;
  }
}

struct SessionInfo {
  double start_time = kNaN;
  double end_time = kNaN;  // timestamp
  int sport = -1, sub_sport = -1;
  engine::DeviceTotals totals;
};

class FitDecoder {
 public:
  FitDecoder(std::string_view bytes, const ReadLimits& limits)
      : p_(reinterpret_cast<const uint8_t*>(bytes.data())), n_(bytes.size()), limits_(limits) {}

  Result<engine::Activity> Run();
  Result<FitWorkout> RunWorkout();

 private:
  Status DecodeAll();
  Status Fail(size_t offset, const std::string& what) {
    return Status::InvalidArgument("byte " + std::to_string(offset) + ": " + what);
  }
  Status DecodeFile(size_t start, size_t* next);
  Status ReadDefinition(size_t pos, uint8_t header, size_t data_end, size_t* consumed);
  void HandleData(const Definition& def, const uint8_t* msg, double compressed_ts);
  engine::Activity Assemble();

  const uint8_t* p_;
  size_t n_;
  ReadLimits limits_;
  std::array<Definition, 16> defs_;
  double last_ts_ = kNaN;  // raw FIT seconds
  double vals_[kSlotCount];

  // Decoded content.
  std::vector<engine::TrackPoint> records_;
  std::vector<engine::Lap> laps_;
  std::vector<int> lap_sports_;
  std::vector<engine::TimerEvent> events_;
  std::vector<SessionInfo> sessions_;
  int sport_msg_ = -1, sub_sport_msg_ = -1;
  std::string manufacturer_;
  std::string product_;
  std::vector<std::string> developer_fields_;
  int file_type_ = -1;
  FitWorkout workout_;

  // The NUL-terminated string at the definition's text field.
  static std::string Text(const uint8_t* msg, const Definition& def) {
    const char* s = reinterpret_cast<const char*>(msg + def.text_offset);
    return std::string(s, strnlen(s, def.text_size));
  }
  double dist_acc_ = 0;  // compressed_speed_distance accumulator
  int last_dist_raw_ = -1;
};

// FIT file_id.type names of the files that are not activities (the FIT profile's `file`).
const char* FitFileTypeName(int type) {
  switch (type) {
    case 1:
      return "device";
    case 2:
      return "settings";
    case 3:
      return "sport";
    case 5:
      return "workout";
    case 6:
      return "course";
    case 7:
      return "schedules";
    case 9:
      return "weight";
    case 10:
      return "totals";
    case 11:
      return "goals";
    case 14:
      return "blood pressure";
    case 15:
      return "monitoring";
    case 20:
      return "activity summary";
    case 28:
      return "daily monitoring";
    case 32:
      return "monitoring";
    case 34:
      return "segment";
    case 35:
      return "segment list";
    default:
      return "unknown";
  }
}

Result<engine::Activity> FitDecoder::Run() {
  STRIDE_RETURN_IF_ERROR(DecodeAll());
  Result<engine::Activity> a = Assemble();
  if (a.ok() && a->RecordsNothing() && file_type_ >= 0 && file_type_ != 4) {
    return Status::InvalidArgument("not an activity: a FIT " +
                                   std::string(FitFileTypeName(file_type_)) +
                                   " file (file_id type " + std::to_string(file_type_) +
                                   ", an activity is 4), without a record, lap or session");
  }
  return a;
}

Result<FitWorkout> FitDecoder::RunWorkout() {
  STRIDE_RETURN_IF_ERROR(DecodeAll());
  if (file_type_ != 5) {
    return Status::InvalidArgument("not a FIT workout file: file_id type " +
                                   std::to_string(file_type_) + ", expected 5 (workout)");
  }
  std::sort(workout_.steps.begin(), workout_.steps.end(),
            [](const FitWorkoutStep& a, const FitWorkoutStep& b) { return a.index < b.index; });
  return workout_;
}

Status FitDecoder::DecodeAll() {
  // Records take 20-70 bytes of a file (with their definitions and the other messages): room
  // for one per 32 bytes saves the copies of a vector grown by doubling. Pages never written
  // are never faulted in, so an overestimate costs address space only; at most 2^20 records
  // (about 100 MB of it), which a system that does not overcommit still grants, and beyond
  // which the vector grows as before.
  records_.reserve(std::min({n_ / 32, limits_.max_points, size_t{1} << 20}));
  size_t pos = 0;
  int files = 0;
  while (pos < n_) {
    if (files > 0) {
      // Chained file, or trailing padding.
      bool zeros = true;
      for (size_t i = pos; i < n_ && zeros; ++i) zeros = p_[i] == 0;
      if (zeros) break;
    }
    size_t next = 0;
    STRIDE_RETURN_IF_ERROR(DecodeFile(pos, &next));
    ++files;
    pos = next;
  }
  if (files == 0) return Fail(0, "empty file, expected a FIT header");
  return Status::Ok();
}

Status FitDecoder::DecodeFile(size_t start, size_t* next) {
  if (n_ - start < 12) {
    return Fail(start, "expected a FIT header of 12 or 14 bytes, found " +
                           std::to_string(n_ - start) + " bytes");
  }
  const uint8_t* h = p_ + start;
  const uint8_t hsize = h[0];
  if ((hsize != 12 && hsize != 14) || std::memcmp(h + 8, ".FIT", 4) != 0) {
    return Fail(start, "invalid FIT header: expected size 12 or 14 and '.FIT' at byte " +
                           std::to_string(start + 8));
  }
  if (n_ - start < hsize) return Fail(start, "file ends inside the FIT header");
  if (hsize == 14) {
    const uint16_t stored = static_cast<uint16_t>(h[12] | (h[13] << 8));
    if (stored != 0 && stored != FitCrc16(h, 12)) {
      return Fail(start + 12, "header CRC mismatch (damaged header)");
    }
  }
  const uint32_t data_size = static_cast<uint32_t>(h[4] | (h[5] << 8) | (h[6] << 16) |
                                                   (static_cast<uint32_t>(h[7]) << 24));
  const size_t data_begin = start + hsize;
  size_t data_end = data_begin + data_size;
  if (data_size == 0) {
    // Streaming writers may leave the size unset: the data runs to the CRC at the end.
    if (n_ - data_begin < 2) return Fail(data_begin, "expected data and a CRC after the header");
    data_end = n_ - 2;
  }
  if (data_end > n_) {
    return Fail(n_, "file ends early: the header announces " + std::to_string(data_size) +
                        " data bytes, only " + std::to_string(n_ - data_begin) +
                        " follow (truncated file)");
  }
  if (data_end + 2 > n_) {
    // Data complete, CRC missing: some exporters omit it. The data is read; nothing checks it.
    *next = n_;
  } else {
    const uint16_t stored = static_cast<uint16_t>(p_[data_end] | (p_[data_end + 1] << 8));
    const uint16_t computed = FitCrc16(p_ + start, data_end - start);
    if (stored != computed && stored != 0) {
      char buf[96];
      std::snprintf(buf, sizeof buf,
                    "file CRC mismatch: computed 0x%04X, stored 0x%04X (damaged file)", computed,
                    stored);
      return Fail(data_end, buf);
    }
    *next = data_end + 2;
  }
  for (auto& d : defs_) d.defined = false;

  size_t pos = data_begin;
  while (pos < data_end) {
    const uint8_t header = p_[pos];
    const size_t msg_at = pos;
    ++pos;
    if (header & 0x80) {  // compressed timestamp
      const int local = (header >> 5) & 0x3;
      const Definition& def = defs_[static_cast<size_t>(local)];
      if (!def.defined) {
        return Fail(msg_at, "compressed-timestamp message for local type " + std::to_string(local) +
                                ", which has no definition");
      }
      if (pos + def.size > data_end)
        return Fail(msg_at, "message runs past the end of the data (truncated file)");
      const uint32_t offset = header & 0x1F;
      double ts = kNaN;
      if (!std::isnan(last_ts_)) {
        const auto last = static_cast<uint32_t>(last_ts_);
        ts = static_cast<double>(last + ((offset - (last & 0x1F)) & 0x1F));
        last_ts_ = ts;
      }
      HandleData(def, p_ + pos, ts);
      pos += def.size;
    } else if (header & 0x40) {  // definition
      size_t consumed = 0;
      STRIDE_RETURN_IF_ERROR(ReadDefinition(pos, header, data_end, &consumed));
      pos += consumed;
    } else {
      const int local = header & 0x0F;
      const Definition& def = defs_[static_cast<size_t>(local)];
      if (!def.defined) {
        return Fail(msg_at, "data message for local type " + std::to_string(local) +
                                ", which has no definition (expected a definition message first)");
      }
      if (pos + def.size > data_end)
        return Fail(msg_at, "message runs past the end of the data (truncated file)");
      HandleData(def, p_ + pos, kNaN);
      pos += def.size;
    }
    if (records_.size() > limits_.max_points) {
      return Status::ResourceExhausted("byte " + std::to_string(msg_at) + ": more than " +
                                       std::to_string(limits_.max_points) + " records");
    }
  }
  return Status::Ok();
}

Status FitDecoder::ReadDefinition(size_t pos, uint8_t header, size_t data_end, size_t* consumed) {
  const size_t start = pos;
  if (pos + 5 > data_end) return Fail(pos - 1, "definition message runs past the end of the data");
  const bool be = p_[pos + 1] == 1;
  if (p_[pos + 1] > 1)
    return Fail(pos + 1,
                "invalid architecture byte " + std::to_string(p_[pos + 1]) + ", expected 0 or 1");
  const auto global = static_cast<uint16_t>(LoadUnsigned(p_ + pos + 2, 2, be));
  const uint8_t nfields = p_[pos + 4];
  pos += 5;
  if (pos + 3u * nfields > data_end)
    return Fail(start - 1, "definition message runs past the end of the data");
  Definition& d = defs_[header & 0x0F];
  d = Definition();
  d.defined = true;
  d.big_endian = be;
  d.global = global;
  uint32_t offset = 0;
  for (uint8_t f = 0; f < nfields; ++f, pos += 3) {
    const uint8_t num = p_[pos], size = p_[pos + 1], base = p_[pos + 2] & 0x1F;
    if (size == 0) return Fail(pos + 1, "field " + std::to_string(num) + " has size 0");
    const uint8_t slot = SlotFor(global, num);
    if (global == kRecord && num == 8 && size == 3)
      d.compressed_sd_offset = static_cast<int>(offset);
    if (base == 7 &&
        ((global == kDeviceInfo && num == 27) || (global == kFieldDescription && num == 3) ||
         (global == kWorkout && num == 8))) {
      d.text_offset = static_cast<int>(offset);
      d.text_size = size;
    }
    if (slot != kSlotCount && base < kBaseSize.size() && size >= kBaseSize[base] && base != 7) {
      d.plan.push_back({static_cast<uint16_t>(offset), size, base, slot});
    }
    offset += size;
  }
  if (header & 0x20) {  // developer fields: sizes only, values skipped
    if (pos + 1 > data_end) return Fail(pos, "definition message runs past the end of the data");
    const uint8_t ndev = p_[pos++];
    if (pos + 3u * ndev > data_end)
      return Fail(pos, "developer field definitions run past the end of the data");
    for (uint8_t f = 0; f < ndev; ++f, pos += 3) offset += p_[pos + 1];
  }
  d.size = offset;
  *consumed = pos - start;
  return Status::Ok();
}

void FitDecoder::HandleData(const Definition& def, const uint8_t* msg, double compressed_ts) {
  for (double& v : vals_) v = kNaN;
  for (const PlanItem& it : def.plan)
    vals_[it.slot] = Decode(msg + it.offset, it.base, def.big_endian);
  // FIT times are uint32 seconds; anything else (a fuzzed base type) is no time at all.
  if (!(vals_[kTimestamp] >= 0 && vals_[kTimestamp] <= 4294967295.0)) vals_[kTimestamp] = kNaN;
  if (!std::isnan(vals_[kTimestamp])) {
    last_ts_ = vals_[kTimestamp];
  } else if (!std::isnan(compressed_ts)) {
    vals_[kTimestamp] = compressed_ts;
  }
  const double ts = std::isnan(vals_[kTimestamp]) ? kNaN : vals_[kTimestamp] + kFitEpochToUnix;
  auto time_of = [](double v) { return std::isnan(v) ? kNaN : v + kFitEpochToUnix; };
  switch (def.global) {
    case kWorkout: {
      if (def.text_offset >= 0) workout_.name = Text(msg, def);
      workout_.sport = EnumOf(vals_[kSportField]);
      workout_.num_valid_steps = EnumOf(vals_[kNumValidSteps]);
      break;
    }
    case kWorkoutStep: {
      if (workout_.steps.size() >= 10000) break;
      FitWorkoutStep st;
      st.index = EnumOf(vals_[kMessageIndex]);
      st.duration_type = EnumOf(vals_[kDurationType]);
      st.duration_value = vals_[kDurationValue];
      st.target_type = EnumOf(vals_[kTargetType]);
      st.target_value = vals_[kTargetValue];
      st.target_low = vals_[kTargetLow];
      st.target_high = vals_[kTargetHigh];
      st.intensity = EnumOf(vals_[kIntensity]);
      workout_.steps.push_back(st);
      break;
    }
    case kRecord: {
      engine::TrackPoint pt;
      pt.time_s = ts;
      if (!std::isnan(vals_[kLat]) && !std::isnan(vals_[kLon])) {
        pt.lat_deg = vals_[kLat] * kSemicircleToDeg;
        pt.lon_deg = vals_[kLon] * kSemicircleToDeg;
      }
      const double alt =
          !std::isnan(vals_[kEnhancedAltitude]) ? vals_[kEnhancedAltitude] : vals_[kAltitude];
      if (!std::isnan(alt)) pt.ele_m = alt / 5.0 - 500.0;
      pt.hr_bpm = vals_[kHeartRate];
      if (!std::isnan(vals_[kCadence])) {
        pt.cadence_rpm =
            vals_[kCadence] +
            (std::isnan(vals_[kFractionalCadence]) ? 0.0 : vals_[kFractionalCadence] / 128.0);
      }
      const double speed =
          !std::isnan(vals_[kEnhancedSpeed]) ? vals_[kEnhancedSpeed] : vals_[kSpeed];
      if (!std::isnan(speed)) pt.speed_mps = speed / 1000.0;
      if (!std::isnan(vals_[kDistance])) pt.distance_m = vals_[kDistance] / 100.0;
      pt.power_w = vals_[kPower];
      pt.temperature_c = vals_[kTemperature];
      pt.gps_accuracy_m = vals_[kGpsAccuracy];
      if (def.compressed_sd_offset >= 0) {
        const uint8_t* c = msg + def.compressed_sd_offset;
        if (!(c[0] == 0xFF && c[1] == 0xFF && c[2] == 0xFF)) {
          if (std::isnan(pt.speed_mps)) pt.speed_mps = ((c[0] | ((c[1] & 0x0F) << 8))) / 100.0;
          const int raw = (c[1] >> 4) | (c[2] << 4);  // 12 bits, 1/16 m, rolls over
          if (last_dist_raw_ >= 0) dist_acc_ += ((raw - last_dist_raw_) & 0xFFF) / 16.0;
          last_dist_raw_ = raw;
          if (std::isnan(pt.distance_m)) pt.distance_m = dist_acc_;
        }
      }
      records_.push_back(pt);
      break;
    }
    case kEvent: {
      if (vals_[kEventField] != 0 || std::isnan(ts)) break;  // timer events only
      const double type = vals_[kEventType];
      if (type == 0) {
        events_.push_back({ts, true});
      } else if (type == 1 || type == 4 || type == 8 || type == 9) {
        events_.push_back({ts, false});
      }
      break;
    }
    case kLap: {
      engine::Lap lap;
      lap.start_time_s = time_of(vals_[kStartTime]);
      lap.elapsed_time_s = vals_[kElapsed] / 1000.0;
      lap.timer_time_s = vals_[kTimer] / 1000.0;
      lap.distance_m = vals_[kTotalDistance] / 100.0;
      lap.avg_hr_bpm = vals_[kAvgHr];
      lap.max_hr_bpm = vals_[kMaxHr];
      static const char* kTriggers[] = {"manual",          "time",         "distance",
                                        "position_start",  "position_lap", "position_waypoint",
                                        "position_marked", "session_end",  "fitness_equipment"};
      const int trig = EnumOf(vals_[kLapTrigger]);
      if (trig >= 0 && trig <= 8) lap.trigger = kTriggers[trig];
      if (std::isnan(lap.start_time_s) && !std::isnan(ts) && !std::isnan(lap.elapsed_time_s)) {
        lap.start_time_s = ts - lap.elapsed_time_s;
      }
      laps_.push_back(lap);
      lap_sports_.push_back(EnumOf(vals_[kSportField]));
      break;
    }
    case kSession: {
      SessionInfo s;
      s.start_time = time_of(vals_[kStartTime]);
      s.end_time = ts;
      s.sport = EnumOf(vals_[kSportField]);
      s.sub_sport = EnumOf(vals_[kSubSport]);
      auto opt = [](double v, double scale) {
        return std::isnan(v) ? std::optional<double>() : std::optional<double>(v / scale);
      };
      s.totals.elapsed_time_s = opt(vals_[kElapsed], 1000.0);
      s.totals.timer_time_s = opt(vals_[kTimer], 1000.0);
      s.totals.distance_m = opt(vals_[kTotalDistance], 100.0);
      s.totals.ascent_m = opt(vals_[kAscent], 1.0);
      s.totals.descent_m = opt(vals_[kDescent], 1.0);
      s.totals.avg_hr_bpm = opt(vals_[kAvgHr], 1.0);
      s.totals.max_hr_bpm = opt(vals_[kMaxHr], 1.0);
      s.totals.calories_kcal = opt(vals_[kCalories], 1.0);
      if (std::isnan(s.start_time) && !std::isnan(ts) && s.totals.elapsed_time_s) {
        s.start_time = ts - *s.totals.elapsed_time_s;
      }
      sessions_.push_back(s);
      break;
    }
    case kSport:
      if (EnumOf(vals_[kSportField]) >= 0) sport_msg_ = EnumOf(vals_[kSportField]);
      if (EnumOf(vals_[kSubSport]) >= 0) sub_sport_msg_ = EnumOf(vals_[kSubSport]);
      break;
    case kFileId:
      if (file_type_ < 0) file_type_ = EnumOf(vals_[kFileType]);
      if (EnumOf(vals_[kManufacturer]) >= 0)
        manufacturer_ = ManufacturerWord(EnumOf(vals_[kManufacturer]));
      if (EnumOf(vals_[kProduct]) > 0) product_ = std::to_string(EnumOf(vals_[kProduct]));
      break;
    case kDeviceInfo:
      // The creator device (index 0) may name its product.
      if (vals_[kDeviceIndex] == 0 && def.text_offset >= 0) {
        const std::string name = Text(msg, def);
        if (!name.empty()) product_ = name;
      }
      break;
    case kFieldDescription:
      // Developer fields (defined by messages 206/207) are skipped by size in data messages;
      // their names say what the file carries (a footpod's power, a sensor's core temperature).
      if (def.text_offset >= 0) {
        const std::string name = Text(msg, def);
        if (!name.empty() && std::find(developer_fields_.begin(), developer_fields_.end(), name) ==
                                 developer_fields_.end()) {
          developer_fields_.push_back(name);
        }
      }
      break;
    default:
      break;
  }
}

engine::Activity FitDecoder::Assemble() {
  engine::Activity act;
  act.format = "fit";
  act.device = manufacturer_;
  if (!product_.empty()) act.device += (act.device.empty() ? "" : " ") + product_;
  act.developer_fields = developer_fields_;
  std::sort(
      events_.begin(), events_.end(),
      [](const engine::TimerEvent& a, const engine::TimerEvent& b) { return a.time_s < b.time_s; });
  std::vector<SessionInfo> sessions = sessions_;
  std::sort(sessions.begin(), sessions.end(),
            [](const SessionInfo& a, const SessionInfo& b) { return a.start_time < b.start_time; });
  if (sessions.empty()) {
    SessionInfo s;
    s.sport = sport_msg_ >= 0 ? sport_msg_ : (!lap_sports_.empty() ? lap_sports_.front() : -1);
    s.sub_sport = sub_sport_msg_;
    sessions.push_back(s);
  }
  const size_t ns = sessions.size();
  // Which session a time falls in: the last whose start is at or before it.
  auto session_of = [&](double t) {
    size_t k = 0;
    if (std::isnan(t)) return k;
    while (k + 1 < ns && !(sessions[k + 1].start_time > t)) ++k;
    return k;
  };
  act.sessions.resize(ns);
  for (size_t k = 0; k < ns; ++k) {
    engine::Track& t = act.sessions[k];
    t.format = "fit";
    t.device = act.device;
    const SessionInfo& s = sessions[k];
    if (s.sport >= 0) {
      t.sport_name = SportWord(s.sport);
      t.sport = SportFromFit(s.sport, s.sub_sport < 0 ? 0 : s.sub_sport);
    }
    if (s.sub_sport >= 0) t.sub_sport = SubSportWord(s.sub_sport);
    t.device_totals = s.totals;
    t.developer_fields = developer_fields_;
  }
  // Records: in file order, into the session of their time (a record without time stays with
  // the session of the record before it). Counted first, so each session's dozen streams are
  // allocated once at their size.
  std::vector<size_t> session(records_.size());
  std::vector<size_t> count(ns, 0);
  size_t current = 0;
  for (size_t i = 0; i < records_.size(); ++i) {
    if (!std::isnan(records_[i].time_s)) current = session_of(records_[i].time_s);
    session[i] = current;
    ++count[current];
  }
  for (size_t k = 0; k < ns; ++k) act.sessions[k].Reserve(count[k]);
  for (size_t i = 0; i < records_.size(); ++i) act.sessions[session[i]].Append(records_[i]);
  for (const engine::Lap& l : laps_) act.sessions[session_of(l.start_time_s)].laps.push_back(l);
  for (const engine::TimerEvent& e : events_) {
    act.sessions[session_of(e.time_s)].timer_events.push_back(e);
  }
  // Each session of a multi-sport file starts with the timer state that the whole file's
  // events imply at its first record: a session's own events may begin mid-session (a
  // restart after a pause) while the start that preceded them fell to the session before.
  if (!events_.empty()) {
    for (engine::Track& t : act.sessions) {
      const auto first =
          std::find_if(t.time_s.begin(), t.time_s.end(), [](double x) { return !std::isnan(x); });
      if (first == t.time_s.end()) continue;
      const double t0 = *first;
      const bool file_has_said = events_.front().time_s <= t0;
      if (!file_has_said && t.timer_events.empty()) continue;  // nothing to say
      if (!t.timer_events.empty() && t.timer_events.front().time_s <= t0) continue;
      const bool running = engine::TimerRunningAt(events_, t0);
      t.timer_events.insert(t.timer_events.begin(), engine::TimerEvent{t0, running});
    }
  }
  // Events are trusted only when they agree with the device's own timer total: some
  // devices write a stop and never the restart (gpsbabel's Oregon 700 sample: events say 38
  // minutes, the session 69). Then the analysis measures moving time by speed instead.
  for (engine::Track& t : act.sessions) {
    if (t.timer_events.empty() || !t.device_totals.timer_time_s || t.size() < 2) continue;
    const double implied =
        engine::TimerRunningSeconds(t.timer_events, t.time_s.front(), t.time_s.back());
    const double total = *t.device_totals.timer_time_s;
    if (std::fabs(implied - total) > std::max(60.0, 0.1 * total)) {
      t.timer_events.clear();
      t.timer_events_dropped = true;
    }
  }
  detail::RepairText(&act);
  return act;
}

}  // namespace

Result<FitWorkout> ReadFitWorkout(std::string_view bytes, const ReadLimits& limits) {
  if (bytes.size() > limits.max_bytes) {
    return Status::ResourceExhausted("file of " + std::to_string(bytes.size()) +
                                     " bytes is over the limit of " +
                                     std::to_string(limits.max_bytes));
  }
  FitDecoder decoder(bytes, limits);
  return decoder.RunWorkout();
}

Result<engine::Activity> ReadFit(std::string_view bytes, const ReadLimits& limits) {
  if (bytes.size() > limits.max_bytes) {
    return Status::ResourceExhausted("file of " + std::to_string(bytes.size()) +
                                     " bytes is over the limit of " +
                                     std::to_string(limits.max_bytes));
  }
  FitDecoder decoder(bytes, limits);
  return decoder.Run();
}

}  // namespace stride::importers
