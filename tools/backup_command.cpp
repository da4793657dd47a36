// SPDX-License-Identifier: Apache-2.0
#include "tools/backup_command.hpp"

#include <chrono>
#include <ostream>

#include "engine/text/iso_time.hpp"
#include "index/store/run_db.hpp"
#include "tools/format.hpp"

namespace stride::tools {
namespace {

constexpr const char* kBackupUsage =
    "usage: stride backup --runs DIR --to BACKUP_DIR [--keep N]\n"
    "       stride backup --list BACKUP_DIR\n"
    "  --runs DIR     the run database (of a stopped server; a running one backs up with\n"
    "                 POST /v1/admin/backups when started with --backup-dir)\n"
    "  --to DIR       the backup directory: files shared with earlier backups there are\n"
    "                 not copied again\n"
    "  --keep N       keep the newest N backups (default: all)\n"
    "  --list DIR     the backups in DIR: id, time, size, files\n";

constexpr const char* kRestoreUsage =
    "usage: stride restore --from BACKUP_DIR --runs NEW_DIR [--id N]\n"
    "  --from DIR     the backup directory\n"
    "  --runs DIR     where to restore: a new or empty directory, not inside the backup\n"
    "                 directory (then stop the server and swap it in); restored beside it\n"
    "                 and moved into place, so an interrupted restore leaves no DIR\n"
    "  --id N         which backup (default: the newest); its checksums are verified first\n";

void PrintBackup(std::ostream& out, const engine::BackupInfo& b) {
  out << "backup " << b.id << "  " << engine::FormatIsoTime(static_cast<double>(b.created_unix_s))
      << "  " << b.size_bytes << " bytes  " << b.files << " files\n";
}

}  // namespace

int RunBackup(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  std::string runs, to, list;
  int keep = 0;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const bool has = i + 1 < args.size();
    if (a == "--help" || a == "-h") {
      out << kBackupUsage;
      return 0;
    } else if (a == "--runs" && has) {
      runs = args[++i];
    } else if (a == "--to" && has) {
      to = args[++i];
    } else if (a == "--list" && has) {
      list = args[++i];
    } else if (a == "--keep" && has) {
      if (!ParseInt(args[++i], 1, 10000, &keep)) {
        err << "stride backup: --keep " << args[i] << ": expected 1 to 10000\n";
        return 2;
      }
    } else {
      err << "stride backup: unknown or incomplete option '" << a << "'\n" << kBackupUsage;
      return 2;
    }
  }
  if (!list.empty()) {
    Result<std::vector<engine::BackupInfo>> backups = index::RunDb::ListBackups(list);
    if (!backups.ok()) {
      err << "stride backup: " << backups.status().message() << "\n";
      return 1;
    }
    for (const engine::BackupInfo& b : *backups) PrintBackup(out, b);
    return 0;
  }
  if (runs.empty() || to.empty()) {
    err << "stride backup: --runs and --to are required\n" << kBackupUsage;
    return 2;
  }
  if (!index::RunDb::Exists(runs)) {
    err << "stride backup: --runs " << runs << ": not a run database (no RocksDB CURRENT file)\n";
    return 1;
  }
  index::RunDb::Options ro;
  ro.records_unused = true;  // copies files: an encrypted database needs no keys for it
  Result<std::unique_ptr<index::RunDb>> db = index::RunDb::Open(runs, ro);
  if (!db.ok()) {
    err << "stride backup: " << db.status().message() << "\n";
    if (db.status().message().find("lock") != std::string::npos) {
      err << "stride backup: a running server holds " << runs
          << ": back up through it (stride serve --backup-dir DIR, then POST /v1/admin/backups "
             "with an admin token), or stop it first\n";
    }
    return 1;
  }
  const auto t0 = std::chrono::steady_clock::now();
  Result<engine::BackupInfo> b = (*db)->Backup(to, static_cast<uint32_t>(keep));
  if (!b.ok()) {
    err << "stride backup: " << b.status().message() << "\n";
    return 1;
  }
  PrintBackup(out, *b);
  err << "backed up " << runs << " into " << to << " in "
      << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s\n";
  return 0;
}

int RunRestore(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  std::string from, runs;
  int id = 0;  // 0: the newest
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const bool has = i + 1 < args.size();
    if (a == "--help" || a == "-h") {
      out << kRestoreUsage;
      return 0;
    } else if (a == "--from" && has) {
      from = args[++i];
    } else if (a == "--runs" && has) {
      runs = args[++i];
    } else if (a == "--id" && has) {
      if (!ParseInt(args[++i], 1, 1'000'000'000, &id)) {
        err << "stride restore: --id " << args[i] << ": expected a backup id (1 or more)\n";
        return 2;
      }
    } else {
      err << "stride restore: unknown or incomplete option '" << a << "'\n" << kRestoreUsage;
      return 2;
    }
  }
  if (from.empty() || runs.empty()) {
    err << "stride restore: --from and --runs are required\n" << kRestoreUsage;
    return 2;
  }
  const Status s = index::RunDb::Restore(from, static_cast<uint32_t>(id), runs);
  if (!s.ok()) {
    err << "stride restore: " << s.message() << "\n";
    return 1;
  }
  out << "restored "
      << (id == 0 ? std::string("the newest backup") : "backup " + std::to_string(id)) << " of "
      << from << " into " << runs << "\n";
  return 0;
}

}  // namespace stride::tools
