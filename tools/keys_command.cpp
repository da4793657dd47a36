// SPDX-License-Identifier: Apache-2.0
#include "tools/keys_command.hpp"

#include <ostream>

#include "engine/text/iso_time.hpp"
#include "engine/time/now.hpp"
#include "index/store/data_keys.hpp"

namespace stride::tools {
namespace {

constexpr const char* kUsage =
    "usage: stride keys new [--id ID]\n"
    "       stride keys rotate --key-dir DIR [--kek-file F]\n"
    "  new            print a new key-encryption key as a key-ring line ID=HEX (256 random\n"
    "                 bits; default id kek-YYYY-MM-DD). Put it first in the KEK file to make\n"
    "                 it the primary, keep the older lines until 'rotate' has run\n"
    "  rotate         rewrap every data key in DIR under the primary KEK of F (or\n"
    "                 STRIDE_KEK_FILE / STRIDE_KEK); afterwards the older KEKs can go\n";

}  // namespace

int RunKeys(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    (args.empty() ? err : out) << kUsage;
    return args.empty() ? 2 : 0;
  }
  const std::string& verb = args[0];
  std::string id, key_dir, kek_file;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    const bool has = i + 1 < args.size();
    if (a == "--id" && has && verb == "new") {
      id = args[++i];
    } else if (a == "--key-dir" && has && verb == "rotate") {
      key_dir = args[++i];
    } else if (a == "--kek-file" && has && verb == "rotate") {
      kek_file = args[++i];
    } else {
      err << "stride keys " << verb << ": unknown or incomplete option '" << a << "'\n" << kUsage;
      return 2;
    }
  }
  if (verb == "new") {
    if (id.empty()) {
      id = "kek-" + engine::FormatIsoTime(engine::UnixNowS()).substr(0, 10);
    }
    Result<std::string> entry = index::KeyRing::NewEntry(id);
    if (!entry.ok()) {
      err << "stride keys new: " << entry.status().message() << "\n";
      return 2;
    }
    out << *entry << "\n";
    return 0;
  }
  if (verb != "rotate") {
    err << "stride keys: unknown verb '" << verb << "'\n" << kUsage;
    return 2;
  }
  if (key_dir.empty()) {
    err << "stride keys rotate: --key-dir is required\n" << kUsage;
    return 2;
  }
  Result<std::optional<index::KeyRing>> ring = index::KeyRing::FromConfig(kek_file);
  if (!ring.ok() || !ring->has_value()) {
    err << "stride keys rotate: "
        << (ring.ok() ? "no KEK (--kek-file F, STRIDE_KEK_FILE or STRIDE_KEK)"
                      : ring.status().message())
        << "\n";
    return ring.ok() ? 2 : 1;
  }
  const std::string primary = (*ring)->primary().id;
  Result<std::unique_ptr<index::FileDataKeys>> keys =
      index::FileDataKeys::Open(key_dir, std::move(**ring), [] {
        // A misspelt --key-dir made an empty store and "0 rewrapped" read as done: the old
        // KEK would then be retired with every data key still wrapped under it.
        index::FileDataKeys::Options o;
        o.create_if_missing = false;
        return o;
      }());
  if (!keys.ok()) {
    err << "stride keys rotate: " << keys.status().message() << "\n";
    return 1;
  }
  Result<index::FileDataKeys::RotateReport> report = (*keys)->Rotate();
  if (!report.ok()) {
    err << "stride keys rotate: " << report.status().message() << "\n";
    return 1;
  }
  out << report->keys << " data keys in " << key_dir << ", " << report->rewrapped
      << " rewrapped under KEK '" << primary << "'\n";
  return 0;
}

}  // namespace stride::tools
