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

if(ACTORLOG_BUILD_TESTS)
  find_package(Catch2 2 REQUIRED)
endif()
