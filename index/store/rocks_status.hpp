// SPDX-License-Identifier: Apache-2.0
//
// A RocksDB status as a Stride Status, `what` saying which operation on which path: one
// mapping for the route and run databases.
#pragma once

#include <string>

#include "engine/status.hpp"

namespace rocksdb {
class Status;
}  // namespace rocksdb

namespace stride::index {

// Ok stays Ok; NotFound, Corruption and IOError keep their kind; anything else is Internal.
// The message is "<what>: <RocksDB's message>".
Status FromRocks(const rocksdb::Status& s, const std::string& what);

}  // namespace stride::index
