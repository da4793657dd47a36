// SPDX-License-Identifier: Apache-2.0
#include "index/store/rocks_status.hpp"

#include <rocksdb/status.h>

namespace stride::index {

Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::Ok();
  const std::string message = what + ": " + s.ToString();
  if (s.IsNotFound()) return Status::NotFound(message);
  if (s.IsCorruption()) return Status::Corruption(message);
  if (s.IsIOError()) return Status::IoError(message);
  return Status::Internal(message);
}

}  // namespace stride::index
