# Third-party dependencies, all from Debian packages (installed by scripts/setup).
macro(al_require)
  find_package(${ARGV} REQUIRED)
endmacro()
include(actorlogDependencies) # the libraries' dependencies, shared with actorlogConfig.cmake
find_package(cxxopts REQUIRED)

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
