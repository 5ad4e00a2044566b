# Third-party dependencies, all from Debian packages (installed by scripts/setup).
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)

# CAF 0.17 (libcaf-dev) ships no CMake package config: find it by hand.
find_path(CAF_INCLUDE_DIR caf/all.hpp REQUIRED)
find_library(CAF_CORE_LIBRARY NAMES caf_core REQUIRED)
find_library(CAF_IO_LIBRARY NAMES caf_io REQUIRED)
add_library(caf::core INTERFACE IMPORTED GLOBAL)
target_include_directories(caf::core SYSTEM INTERFACE ${CAF_INCLUDE_DIR})
target_link_libraries(caf::core INTERFACE ${CAF_CORE_LIBRARY} Threads::Threads)
add_library(caf::io INTERFACE IMPORTED GLOBAL)
target_link_libraries(caf::io INTERFACE ${CAF_IO_LIBRARY} caf::core)

find_package(SQLite3 REQUIRED)
find_package(cxxopts REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(ZLIB REQUIRED)
find_package(Snappy REQUIRED)
find_package(zstd REQUIRED)
pkg_check_modules(LZ4 REQUIRED IMPORTED_TARGET liblz4)
pkg_check_modules(INIH REQUIRED IMPORTED_TARGET inih)

# cpp-httplib (libcpp-httplib-dev): the /metrics endpoint of every node.
# Debian ships it as a compiled library: httplib.h declares, libcpp-httplib.so
# defines, and the class layouts depend on the feature macros the library was
# built with (see cpp-httplib.pc), so we define the same ones.
find_path(HTTPLIB_INCLUDE_DIR httplib.h REQUIRED)
find_library(HTTPLIB_LIBRARY NAMES cpp-httplib REQUIRED)
add_library(httplib::httplib INTERFACE IMPORTED GLOBAL)
target_include_directories(httplib::httplib SYSTEM INTERFACE ${HTTPLIB_INCLUDE_DIR})
target_compile_definitions(httplib::httplib INTERFACE CPPHTTPLIB_OPENSSL_SUPPORT
                           CPPHTTPLIB_ZLIB_SUPPORT CPPHTTPLIB_BROTLI_SUPPORT)
target_link_libraries(httplib::httplib INTERFACE ${HTTPLIB_LIBRARY} Threads::Threads)

if(ACTORLOG_BUILD_TESTS)
  find_package(Catch2 2 REQUIRED)
  # librdkafka (librdkafka-dev), test-only: the murmur2 partitioner is
  # cross-checked against librdkafka's. Optional: without it that one test
  # is not built.
  find_path(RDKAFKA_INCLUDE_DIR librdkafka/rdkafka.h)
  find_library(RDKAFKA_LIBRARY NAMES rdkafka)
  if(RDKAFKA_INCLUDE_DIR AND RDKAFKA_LIBRARY)
    set(AL_HAVE_RDKAFKA ON)
    add_library(rdkafka::rdkafka INTERFACE IMPORTED GLOBAL)
    target_include_directories(rdkafka::rdkafka SYSTEM INTERFACE ${RDKAFKA_INCLUDE_DIR})
    target_link_libraries(rdkafka::rdkafka INTERFACE ${RDKAFKA_LIBRARY})
  else()
    set(AL_HAVE_RDKAFKA OFF)
    message(STATUS "librdkafka not found (apt-get install librdkafka-dev, or run scripts/setup): "
                   "partitioner_librdkafka_test (murmur2 cross-check) will not be built")
  endif()
endif()
