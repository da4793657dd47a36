// SPDX-License-Identifier: Apache-2.0
#include "server/http/gzip.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <zlib.h>

#include <chrono>

namespace stride::server::http {
namespace {

// `size` zero bytes as gzip, compressed in pieces so the plain text is never in memory.
std::string ZerosGz(size_t size) {
  z_stream z{};
  deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY);
  std::string out;
  const std::string block(1 << 20, '\0');
  char buf[1 << 16];
  for (size_t done = 0; done < size;) {
    const size_t n = std::min(block.size(), size - done);
    done += n;
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(block.data()));
    z.avail_in = static_cast<uInt>(n);
    const int flush = done == size ? Z_FINISH : Z_NO_FLUSH;
    do {
      z.next_out = reinterpret_cast<Bytef*>(buf);
      z.avail_out = sizeof buf;
      deflate(&z, flush);
      out.append(buf, sizeof buf - z.avail_out);
    } while (z.avail_out == 0);
  }
  deflateEnd(&z);
  return out;
}

long PeakRssKiB() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

TEST(Gzip, RoundTripsAndReadsConcatenatedMembers) {
  const std::string text(100000, 'x');
  Result<std::string> back = Gunzip(Gzip(text), text.size());
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, text);
  Result<std::string> two = Gunzip(Gzip("ab") + Gzip("cd"), 10);
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(*two, "abcd");
}

TEST(Gzip, StopsABombAtTheLimitWithoutInflatingIt) {
  const std::string bomb = ZerosGz(size_t{256} << 20);  // 256 MiB of zeros in about 256 KB
  ASSERT_LT(bomb.size(), 1u << 20);
  const long before = PeakRssKiB();
  Result<std::string> r = Gunzip(bomb, 1 << 20);
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(r.status().message().find("1048576"), std::string::npos);
  // Inflating it all would take 256 MiB; stopping at the limit takes about the limit.
  EXPECT_LT(PeakRssKiB() - before, 64 * 1024);
}

TEST(Gzip, RefusesCorruptAndTruncatedData) {
  const std::string gz = Gzip(std::string(5000, 'y'));
  EXPECT_EQ(Gunzip("not gzip at all", 100).status().code(), StatusCode::kInvalidArgument);
  Result<std::string> cut = Gunzip(gz.substr(0, gz.size() / 2), 100000);
  EXPECT_EQ(cut.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(cut.status().message().find("ends early"), std::string::npos) << cut.status().message();
}

}  // namespace
}  // namespace stride::server::http
