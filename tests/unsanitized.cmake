# SPDX-License-Identifier: Apache-2.0
# The tests the sanitizer build cannot run, included by tests/CMakeLists.txt. With
# STRIDE_TESTS_UNSANITIZED_ONLY they are the only tests (scripts/test.sh's GCC build); the
# sanitizer build (CMAKE_BUILD_TYPE Asan) runs everything else.

# glibc's allocator measured against its own account (mallinfo2): the sanitizers replace the
# allocator, so there the tests report that it is not measurable.
add_executable(stride_memory_tests engine/memory/keep_freed_test.cpp)
target_link_libraries(stride_memory_tests PRIVATE stride::engine stride_test_support)
gtest_discover_tests(stride_memory_tests PROPERTIES LABELS unit DISCOVERY_TIMEOUT 60)

# The map page in a real browser (tests/web): Debian's headless Chromium driven by puppeteer-core
# (npm, tests/web), against `stride serve` over a database the test imports. Skipped (77) without
# Chromium or puppeteer-core, saying which. Not under the sanitizers: it exercises the page, and
# the server's code under it is covered by the integration tests.
find_program(STRIDE_NODE node)
if(STRIDE_NODE AND NOT CMAKE_BUILD_TYPE STREQUAL "Asan")
  add_test(NAME Web.MapPageInHeadlessChromium
           COMMAND ${STRIDE_NODE} ${CMAKE_CURRENT_SOURCE_DIR}/web/page_test.mjs)
  set_tests_properties(Web.MapPageInHeadlessChromium PROPERTIES
    LABELS integration TIMEOUT 300 SKIP_RETURN_CODE 77
    ENVIRONMENT "STRIDE_BIN=$<TARGET_FILE:stride>;GEN_OSM=$<TARGET_FILE:gen_osm>;GEN_ACTIVITY=$<TARGET_FILE:gen_activity>;STRIDE_DATASETS_DIR=${STRIDE_DATASETS_DIR};STRIDE_WEB_ARTIFACTS=${PROJECT_BINARY_DIR}/web-artifacts")
endif()

# scripts/cluster.sh --check: the local cluster (PostgreSQL, Redis, 3 servers behind HAProxy, 2
# workers) checked through its load balancer, killing a server and a worker. Skipped (77)
# without haproxy, redis-server or PostgreSQL. Not under the sanitizers: the C++ cluster tests
# (integration/cluster_test.cpp) run there.
if(NOT CMAKE_BUILD_TYPE STREQUAL "Asan")
  add_test(NAME Cluster.ScriptCheckThroughHAProxy
           COMMAND bash ${PROJECT_SOURCE_DIR}/scripts/cluster.sh --check)
  set_tests_properties(Cluster.ScriptCheckThroughHAProxy PROPERTIES
    LABELS integration TIMEOUT 300 SKIP_RETURN_CODE 77
    ENVIRONMENT "STRIDE=$<TARGET_FILE:stride>;GEN_OSM=$<TARGET_FILE:gen_osm>;GEN_ACTIVITY=$<TARGET_FILE:gen_activity>;CLUSTER_DIR=${PROJECT_BINARY_DIR}/cluster-check;CLUSTER_FRESH_DB=1")
endif()

# C programs against the installed library (not under the sanitizers: a plain C program cannot
# load a library built with them).
if(STRIDE_BUILD_PACKAGES AND NOT CMAKE_BUILD_TYPE STREQUAL "Asan")
  add_test(NAME CApi.InstalledLibraryServesCProgramsBuiltEachWay
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/capi/installed_test.sh ${CMAKE_BINARY_DIR}
                   ${PROJECT_SOURCE_DIR})
  set_tests_properties(CApi.InstalledLibraryServesCProgramsBuiltEachWay PROPERTIES
                       LABELS integration TIMEOUT 300)
  # The Python module (python/): pytest from Debian over the build tree's package.
  add_test(NAME Python.Module
           COMMAND ${STRIDE_PYTHON_EXECUTABLE} -m pytest -q -p no:cacheprovider
                   ${PROJECT_SOURCE_DIR}/python/tests)
  set_tests_properties(Python.Module PROPERTIES LABELS integration TIMEOUT 300
    ENVIRONMENT "PYTHONPATH=${PROJECT_BINARY_DIR}/python;STRIDE_BUILD_DIR=${PROJECT_BINARY_DIR};STRIDE_DATASETS_DIR=${STRIDE_DATASETS_DIR}")
endif()
