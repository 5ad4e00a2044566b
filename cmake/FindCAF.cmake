# FindCAF: the C++ Actor Framework 0.17 as Debian's libcaf-dev ships it,
# without a CMake package config. Defines caf::core and caf::io. Used by the
# build and, installed beside actorlogConfig.cmake, by users' projects.
include(FindPackageHandleStandardArgs)
find_path(CAF_INCLUDE_DIR caf/all.hpp)
find_library(CAF_CORE_LIBRARY NAMES caf_core)
find_library(CAF_IO_LIBRARY NAMES caf_io)
find_package_handle_standard_args(CAF REQUIRED_VARS CAF_INCLUDE_DIR CAF_CORE_LIBRARY
                                  CAF_IO_LIBRARY)
if(CAF_FOUND AND NOT TARGET caf::core)
  find_package(Threads REQUIRED)
  add_library(caf::core INTERFACE IMPORTED)
  target_include_directories(caf::core SYSTEM INTERFACE ${CAF_INCLUDE_DIR})
  target_link_libraries(caf::core INTERFACE ${CAF_CORE_LIBRARY} Threads::Threads)
  add_library(caf::io INTERFACE IMPORTED)
  target_link_libraries(caf::io INTERFACE ${CAF_IO_LIBRARY} caf::core)
endif()
