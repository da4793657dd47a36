// SPDX-License-Identifier: Apache-2.0
#include "server/http/multipart.hpp"

#include <gtest/gtest.h>

namespace stride::server::http {
namespace {

TEST(Multipart, FindsTheFirstFilePartAfterFormFields) {
  const std::string body =
      "--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nfrom the app\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"m\\\"orning.gpx\"\r\n"
      "Content-Type: application/gpx+xml\r\n\r\n<gpx>\r\n--X</gpx>\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=\"f2\"; filename=\"b.gpx\"\r\n\r\nB\r\n"
      "--XyZ--\r\n";
  EXPECT_EQ(MultipartBoundary("multipart/form-data; boundary=XyZ"), "XyZ");
  EXPECT_EQ(MultipartBoundary("Multipart/Form-Data; charset=x; boundary=\"XyZ\""), "XyZ");
  EXPECT_EQ(MultipartBoundary("application/octet-stream"), "");
  Result<FilePart> f = FirstFilePart(body, "XyZ");
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ(f->filename, "m\"orning.gpx");
  EXPECT_EQ(f->content, "<gpx>\r\n--X</gpx>");
}

TEST(Multipart, SaysWhatIsWrong) {
  EXPECT_EQ(
      FirstFilePart("--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--b--", "b")
          .status()
          .code(),
      StatusCode::kNotFound);
  EXPECT_NE(FirstFilePart("no boundary here", "b").status().message().find("does not occur"),
            std::string::npos);
  EXPECT_NE(
      FirstFilePart("--b\r\nContent-Disposition: form-data; filename=\"a\"\r\n\r\nno end", "b")
          .status()
          .message()
          .find("no closing boundary"),
      std::string::npos);
  EXPECT_NE(FirstFilePart("--b\r\nX: y", "b").status().message().find("do not end"),
            std::string::npos);
}

}  // namespace
}  // namespace stride::server::http
