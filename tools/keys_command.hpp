// SPDX-License-Identifier: Apache-2.0
//
// `stride keys`: the key-encryption keys of encryption at rest (index/store/data_keys.hpp).
//   stride keys new [--id ID]             prints a new KEK entry (ID=HEX) for a key-ring file
//   stride keys rotate --key-dir DIR ...  rewraps every data key under the ring's primary KEK,
//                                         after which the older KEKs can leave the ring
// Rotation touches the key directory only (one small file per user), never the records; it
// may run while a server uses the directory (each file is replaced atomically).
// Exit codes: 0 done, 1 failed (the message says why), 2 bad usage.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace stride::tools {

int RunKeys(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace stride::tools
