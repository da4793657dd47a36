// SPDX-License-Identifier: Apache-2.0
//
// Whole files the stores write beside their databases (key files, the trail graph).
//
// Thread-safety: plain functions; concurrent writers of one path race for the rename.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "engine/status.hpp"

namespace stride::index {

// Writes `bytes` to `path` through a temporary name (`path`.tmp), synced when `sync`, with
// permission bits `mode`, so a crash leaves the old file or the new one, never a torn one.
// IoError naming the file and the reason; the temporary is removed on failure.
Status WriteFileAtomic(const std::string& path, std::string_view bytes, bool sync,
                       mode_t mode = 0600);

}  // namespace stride::index
