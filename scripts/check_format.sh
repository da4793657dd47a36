#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fails when a tracked C++ file differs from what .clang-format makes of it.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v clang-format >/dev/null; then
  echo "clang-format not installed: format check skipped" >&2
  exit 0
fi
bad=$(git ls-files '*.cpp' '*.hpp' | while read -r f; do
  clang-format "$f" | cmp -s - "$f" || echo "$f"
done)
if [ -n "$bad" ]; then
  echo "not formatted (run: git ls-files '*.cpp' '*.hpp' | xargs clang-format -i):" >&2
  echo "$bad" >&2
  exit 1
fi
echo "format: ok"
