# What actorlog's libraries link, all from Debian packages. Included by the
# build (cmake/Dependencies.cmake) and, installed, by actorlogConfig.cmake,
# so users' projects find the same libraries the same way. The includer
# defines al_require(<find_package arguments>): find_package(... REQUIRED)
# in the build, find_dependency(...) in the package config.
al_require(Threads)
al_require(PkgConfig)
al_require(CAF)          # FindCAF.cmake beside this file: caf::core, caf::io
al_require(SQLite3)      # SQLite::SQLite3
al_require(fmt)
al_require(spdlog)
al_require(ZLIB)         # Kafka's codecs: gzip, snappy, zstd, lz4
al_require(Snappy)
al_require(zstd)
if(NOT TARGET PkgConfig::LZ4)
  pkg_check_modules(LZ4 REQUIRED IMPORTED_TARGET liblz4)
endif()
if(NOT TARGET PkgConfig::INIH) # node config files (the node library)
  pkg_check_modules(INIH REQUIRED IMPORTED_TARGET inih)
endif()
al_require(CppHttplib)   # FindCppHttplib.cmake: /metrics (the node library)
