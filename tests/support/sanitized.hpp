// SPDX-License-Identifier: Apache-2.0
//
// STRIDE_TEST_SANITIZED is defined when the test is built with AddressSanitizer (GCC or
// clang): its allocator replaces glibc's, so glibc's heap settings and accounts (mallopt,
// mallinfo2) do not apply.
#pragma once

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define STRIDE_TEST_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(STRIDE_TEST_SANITIZED)
#define STRIDE_TEST_SANITIZED 1
#endif
