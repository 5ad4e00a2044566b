# cmake --install: binaries, libraries, headers, the CMake package, the
# pkg-config files and example configs, by component (cmake/ActorlogPackage.cmake
# turns them into Debian packages):
#   runtime      actorlog, actorlog-node, the shared libraries, example configs
#   development  headers, actorlogConfig.cmake, actorlog.pc, the .so links
#   static       the static libraries and their CMake targets
#   service      only when asked for (the .deb does): the systemd unit,
#                <sysconfdir>/actorlog/single.ini, <localstatedir>/lib/actorlog
include(CMakePackageConfigHelpers)
# Installing never builds (`make install`, cpack's preinstall): build first,
# as scripts/package does; ctest package:deb runs cpack beside other tests.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)
set(AL_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/actorlog)

install(TARGETS actorlog actorlog-node RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        COMPONENT runtime)
install(TARGETS actorlog_client actorlog_node EXPORT actorlogTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime
                NAMELINK_COMPONENT development)
install(TARGETS actorlog_client_static actorlog_node_static EXPORT actorlogStaticTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT static)
# A stripped install (the .deb) strips the archives' debug info too.
install(CODE "if(CMAKE_INSTALL_DO_STRIP)
  file(GLOB archives \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/libactorlog_*.a\")
  execute_process(COMMAND ${CMAKE_STRIP} --strip-debug \${archives})
endif()" COMPONENT static)
install(EXPORT actorlogTargets NAMESPACE actorlog:: DESTINATION ${AL_CMAKE_DIR}
        COMPONENT development)
install(EXPORT actorlogStaticTargets NAMESPACE actorlog:: DESTINATION ${AL_CMAKE_DIR}
        COMPONENT static)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/actorlogConfig.cmake.in
  ${PROJECT_BINARY_DIR}/actorlogConfig.cmake INSTALL_DESTINATION ${AL_CMAKE_DIR})
# 0.x: only the same minor version is compatible.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/actorlogConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/actorlogConfig.cmake
              ${PROJECT_BINARY_DIR}/actorlogConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/actorlogDependencies.cmake
              ${PROJECT_SOURCE_DIR}/cmake/FindCAF.cmake
              ${PROJECT_SOURCE_DIR}/cmake/FindCppHttplib.cmake
        DESTINATION ${AL_CMAKE_DIR} COMPONENT development)

# pkg-config: relocatable (the prefix is found from the .pc file's own
# place), except under /usr, where the packages put it.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(AL_PC_PREFIX /usr)
else()
  file(RELATIVE_PATH rel ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
  string(REGEX REPLACE "/$" "" rel "${rel}")
  set(AL_PC_PREFIX "\${pcfiledir}/${rel}")
endif()
foreach(pc actorlog actorlog-node)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/${pc}.pc.in ${PROJECT_BINARY_DIR}/${pc}.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/${pc}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig
          COMPONENT development)
endforeach()

# Headers: <actorlog/*.hpp>, and under actorlog/detail/ the internal headers
# they include, as the compiler lists them (cmake/InstallHeaderClosure.cmake).
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/actorlog ${PROJECT_BINARY_DIR}/include/actorlog
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT development)
file(GLOB AL_PUBLIC_HEADERS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/include/actorlog/*.hpp)
set(AL_HEADER_TU ${PROJECT_BINARY_DIR}/public_headers.cpp)
set(AL_HEADER_DEPFILE ${PROJECT_BINARY_DIR}/public_headers.d)
set(tu_text "// Generated: includes every public header (cmake/ActorlogInstall.cmake).\n")
foreach(h ${AL_PUBLIC_HEADERS})
  string(APPEND tu_text "#include \"${h}\"\n")
endforeach()
file(CONFIGURE OUTPUT ${AL_HEADER_TU} CONTENT "${tu_text}")
set(caf_include)
if(NOT CAF_INCLUDE_DIR IN_LIST CMAKE_CXX_IMPLICIT_INCLUDE_DIRECTORIES)
  set(caf_include -isystem ${CAF_INCLUDE_DIR})
endif()
add_custom_command(OUTPUT ${AL_HEADER_DEPFILE}
  COMMAND ${CMAKE_CXX_COMPILER} -std=c++17 -MM -MT ${AL_HEADER_DEPFILE} -MF ${AL_HEADER_DEPFILE}
          -I${PROJECT_SOURCE_DIR} -I${PROJECT_SOURCE_DIR}/include -I${PROJECT_BINARY_DIR}/include
          ${caf_include} ${AL_HEADER_TU}
  DEPENDS ${AL_HEADER_TU} ${AL_PUBLIC_HEADERS} DEPFILE ${AL_HEADER_DEPFILE}
  COMMENT "Listing the internal headers the public headers include")
add_custom_target(actorlog_header_closure ALL DEPENDS ${AL_HEADER_DEPFILE})
install(CODE "set(AL_HEADER_DEPFILE \"${AL_HEADER_DEPFILE}\")
set(AL_SOURCE_DIR \"${PROJECT_SOURCE_DIR}\")
set(AL_BINARY_DIR \"${PROJECT_BINARY_DIR}\")
set(AL_DETAIL_DIR \"${CMAKE_INSTALL_INCLUDEDIR}/actorlog/detail\")" COMPONENT development)
install(SCRIPT ${PROJECT_SOURCE_DIR}/cmake/InstallHeaderClosure.cmake COMPONENT development)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/configs/ DESTINATION ${CMAKE_INSTALL_DATADIR}/actorlog/configs
        COMPONENT runtime)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/docs/using-actorlog.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT runtime)

# The service: `systemctl start actorlog-node@NAME` runs actorlog-node with
# <sysconfdir>/actorlog/NAME.ini as the actorlog user; single.ini is
# configs/single/node.ini with its data under <localstatedir>/lib/actorlog.
set(AL_STATE_DIR ${CMAKE_INSTALL_FULL_LOCALSTATEDIR}/lib/actorlog)
set(AL_CONFIG_DIR ${CMAKE_INSTALL_FULL_SYSCONFDIR}/actorlog)
configure_file(${PROJECT_SOURCE_DIR}/packaging/actorlog-node@.service.in
               ${PROJECT_BINARY_DIR}/packaging/actorlog-node@.service @ONLY)
file(READ ${PROJECT_SOURCE_DIR}/configs/single/node.ini single_ini)
string(REGEX REPLACE "\ndata.dir = [^\n]*" "\ndata.dir = ${AL_STATE_DIR}/single" single_ini
       "${single_ini}")
file(CONFIGURE OUTPUT ${PROJECT_BINARY_DIR}/packaging/single.ini CONTENT "${single_ini}" @ONLY)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
             ${PROJECT_SOURCE_DIR}/configs/single/node.ini)
install(FILES ${PROJECT_BINARY_DIR}/packaging/actorlog-node@.service
        DESTINATION lib/systemd/system COMPONENT service EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_BINARY_DIR}/packaging/single.ini DESTINATION ${AL_CONFIG_DIR}
        COMPONENT service EXCLUDE_FROM_ALL)
install(DIRECTORY DESTINATION ${AL_STATE_DIR} COMPONENT service EXCLUDE_FROM_ALL)
