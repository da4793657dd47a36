// SPDX-License-Identifier: Apache-2.0
#include "engine/training/fit_workout.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "engine/text/fit_crc.hpp"

namespace stride::engine {
namespace {

constexpr double kFitEpochToUnix = 631065600.0;  // 1989-12-31T00:00:00Z

// Base types (FIT profile): enum 0x00, uint16 0x84, uint32 0x86, uint32z 0x8C, string 0x07.
struct FieldDef {
  uint8_t num, size, base;
};

class Writer {
 public:
  void Define(uint8_t local, uint16_t global, const std::vector<FieldDef>& fields) {
    out_.push_back(static_cast<char>(0x40 | local));
    out_.push_back(0);  // reserved
    out_.push_back(0);  // little-endian
    U16(global);
    out_.push_back(static_cast<char>(fields.size()));
    for (const FieldDef& f : fields) {
      out_.push_back(static_cast<char>(f.num));
      out_.push_back(static_cast<char>(f.size));
      out_.push_back(static_cast<char>(f.base));
    }
  }
  void Data(uint8_t local) { out_.push_back(static_cast<char>(local)); }
  void U8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void U16(uint16_t v) {
    U8(static_cast<uint8_t>(v & 0xFF));
    U8(static_cast<uint8_t>(v >> 8));
  }
  void U32(uint32_t v) {
    U16(static_cast<uint16_t>(v & 0xFFFF));
    U16(static_cast<uint16_t>(v >> 16));
  }
  void Text(const std::string& s, size_t size) {
    for (size_t i = 0; i < size; ++i) U8(i < s.size() ? static_cast<uint8_t>(s[i]) : 0);
  }
  // Header (14 bytes, with its CRC) + data + CRC.
  std::string File() const {
    std::string f;
    const uint32_t size = static_cast<uint32_t>(out_.size());
    const uint8_t h[12] = {14,
                           0x20,  // protocol 2.0
                           0x54,
                           0x08,  // profile 21.32
                           static_cast<uint8_t>(size),
                           static_cast<uint8_t>(size >> 8),
                           static_cast<uint8_t>(size >> 16),
                           static_cast<uint8_t>(size >> 24),
                           '.',
                           'F',
                           'I',
                           'T'};
    f.append(reinterpret_cast<const char*>(h), 12);
    const uint16_t hcrc = FitCrc16(h, 12);
    f.push_back(static_cast<char>(hcrc & 0xFF));
    f.push_back(static_cast<char>(hcrc >> 8));
    f += out_;
    const uint16_t crc = FitCrc16(reinterpret_cast<const uint8_t*>(f.data()), f.size());
    f.push_back(static_cast<char>(crc & 0xFF));
    f.push_back(static_cast<char>(crc >> 8));
    return f;
  }

 private:
  std::string out_;
};

struct Step {
  uint8_t duration_type = 1;  // distance
  uint32_t duration_value = 0;
  uint8_t target_type = 0;  // speed
  uint32_t target_value = 0, low = 0, high = 0;
  uint8_t intensity = 0;
};

uint8_t IntensityOf(const std::string& kind) {
  if (kind == "warmup") return 2;
  if (kind == "cooldown") return 3;
  if (kind == "recovery") return 4;
  return 0;  // work, steady: active
}

}  // namespace

std::string FitWorkoutFile(const PlannedDay& day, const std::string& name,
                           const FitWorkoutOptions& o) {
  std::vector<Step> steps;
  auto distance_step = [&](const WorkoutStep& s) {
    Step st;
    st.duration_value = static_cast<uint32_t>(std::lround(s.distance_m * 100));
    const double slow = s.pace_s_per_km + o.pace_margin_s;
    const double fast = std::max(60.0, s.pace_s_per_km - o.pace_margin_s);
    st.low = static_cast<uint32_t>(std::lround(1000.0 / slow * 1000));
    st.high = static_cast<uint32_t>(std::lround(1000.0 / fast * 1000));
    st.intensity = IntensityOf(s.kind);
    return st;
  };
  for (size_t i = 0; i < day.steps.size(); ++i) {
    const WorkoutStep& s = day.steps[i];
    const bool repeated_with_recovery = s.repeat > 1 && i + 1 < day.steps.size() &&
                                        day.steps[i + 1].kind == "recovery" &&
                                        day.steps[i + 1].repeat == s.repeat - 1;
    if (repeated_with_recovery) {
      const uint32_t first = static_cast<uint32_t>(steps.size());
      steps.push_back(distance_step(s));
      steps.push_back(distance_step(day.steps[i + 1]));
      Step repeat;
      repeat.duration_type = 6;  // repeat until steps complete
      repeat.duration_value = first;
      repeat.target_type = 2;  // open
      repeat.target_value = static_cast<uint32_t>(s.repeat - 1);
      steps.push_back(repeat);
      steps.push_back(distance_step(s));
      ++i;  // the recovery is written
    } else {
      for (int r = 0; r < std::max(1, s.repeat); ++r) steps.push_back(distance_step(s));
    }
  }

  Writer w;
  // file_id: type, manufacturer (255 development), product, serial number, time created.
  w.Define(0, 0, {{0, 1, 0x00}, {1, 2, 0x84}, {2, 2, 0x84}, {3, 4, 0x8C}, {4, 4, 0x86}});
  w.Data(0);
  w.U8(5);
  w.U16(255);
  w.U16(0);
  w.U32(o.serial_number);
  w.U32(static_cast<uint32_t>(std::max(0.0, o.created_unix_s - kFitEpochToUnix)));
  // workout: wkt_name (16 bytes, NUL-terminated), sport (1 running), num_valid_steps.
  w.Define(1, 26, {{8, 16, 0x07}, {4, 1, 0x00}, {6, 2, 0x84}});
  w.Data(1);
  w.Text(name.substr(0, 15), 16);
  w.U8(1);
  w.U16(static_cast<uint16_t>(steps.size()));
  // workout_step: message_index, duration_type, duration_value, target_type, target_value,
  // custom_target_value_low/high, intensity.
  w.Define(2, 27,
           {{254, 2, 0x84},
            {1, 1, 0x00},
            {2, 4, 0x86},
            {3, 1, 0x00},
            {4, 4, 0x86},
            {5, 4, 0x86},
            {6, 4, 0x86},
            {7, 1, 0x00}});
  for (size_t i = 0; i < steps.size(); ++i) {
    const Step& st = steps[i];
    w.Data(2);
    w.U16(static_cast<uint16_t>(i));
    w.U8(st.duration_type);
    w.U32(st.duration_value);
    w.U8(st.target_type);
    w.U32(st.target_value);
    w.U32(st.duration_type == 6 ? 0xFFFFFFFF : st.low);
    w.U32(st.duration_type == 6 ? 0xFFFFFFFF : st.high);
    w.U8(st.duration_type == 6 ? 0xFF : st.intensity);
  }
  return w.File();
}

}  // namespace stride::engine
