# FindCppHttplib: cpp-httplib as Debian's libcpp-httplib-dev ships it, a
# compiled library (httplib.h declares, libcpp-httplib.so defines) whose
# class layouts depend on the feature macros it was built with (see
# cpp-httplib.pc), so we define the same ones. Defines httplib::httplib.
include(FindPackageHandleStandardArgs)
find_path(HTTPLIB_INCLUDE_DIR httplib.h)
find_library(HTTPLIB_LIBRARY NAMES cpp-httplib)
find_package_handle_standard_args(CppHttplib REQUIRED_VARS HTTPLIB_INCLUDE_DIR HTTPLIB_LIBRARY)
if(CppHttplib_FOUND AND NOT TARGET httplib::httplib)
  find_package(Threads REQUIRED)
  add_library(httplib::httplib INTERFACE IMPORTED)
  target_include_directories(httplib::httplib SYSTEM INTERFACE ${HTTPLIB_INCLUDE_DIR})
  target_compile_definitions(httplib::httplib INTERFACE CPPHTTPLIB_OPENSSL_SUPPORT
                             CPPHTTPLIB_ZLIB_SUPPORT CPPHTTPLIB_BROTLI_SUPPORT)
  target_link_libraries(httplib::httplib INTERFACE ${HTTPLIB_LIBRARY} Threads::Threads)
endif()
