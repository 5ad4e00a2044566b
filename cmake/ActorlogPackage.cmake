# CPack: Debian packages of the install components (cmake/ActorlogInstall.cmake).
# scripts/package builds them with the prefix /usr:
#   actorlog_<version>_amd64.deb      runtime + service: actorlog, actorlog-node,
#       the shared libraries, example configs, the systemd unit template
#       actorlog-node@.service, /etc/actorlog/single.ini, /var/lib/actorlog
#       and the actorlog system user (postinst)
#   actorlog-dev_<version>_amd64.deb  development + static: headers, static
#       libraries, the CMake package and pkg-config files
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME actorlog)
set(CPACK_PACKAGE_VENDOR actorlog)
set(CPACK_PACKAGE_CONTACT "actorlog maintainers <actorlog@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "replicated commit log in the spirit of Apache Kafka, on the C++ Actor Framework")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime service development static)
set(CPACK_COMPONENTS_GROUPING ONE_PER_GROUP)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT) # <name>_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION database)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # runtime Depends from dpkg-shlibdeps
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME actorlog)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_DEPENDS adduser)
set(CPACK_DEBIAN_RUNTIME_DESCRIPTION "actorlog-node (systemctl start actorlog-node@single runs
/etc/actorlog/single.ini), the actorlog command-line tool, and the client
and node libraries.")
configure_file(${PROJECT_SOURCE_DIR}/packaging/debian/postinst.in
               ${PROJECT_BINARY_DIR}/packaging/debian/postinst @ONLY)
file(CONFIGURE OUTPUT ${PROJECT_BINARY_DIR}/packaging/debian/conffiles
     CONTENT "${AL_CONFIG_DIR}/single.ini\n")
set(CPACK_DEBIAN_RUNTIME_PACKAGE_CONTROL_EXTRA
    ${PROJECT_BINARY_DIR}/packaging/debian/postinst ${PROJECT_SOURCE_DIR}/packaging/debian/prerm
    ${PROJECT_SOURCE_DIR}/packaging/debian/postrm ${PROJECT_BINARY_DIR}/packaging/debian/conffiles)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_NAME actorlog-dev)
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_SHLIBDEPS OFF)
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_DEPENDS
    "actorlog (= ${PROJECT_VERSION}), libcaf-dev, libsqlite3-dev, libfmt-dev, libspdlog-dev, \
zlib1g-dev, libsnappy-dev, libzstd-dev, liblz4-dev, libinih-dev, libcpp-httplib-dev, pkg-config")
set(CPACK_DEBIAN_DEVELOPMENT_DESCRIPTION "Headers, static libraries, the CMake package and pkg-config files:
find_package(actorlog) gives actorlog::client and actorlog::node, and so do
pkg-config actorlog and actorlog-node.")

include(CPack)
cpack_add_component_group(runtime)
cpack_add_component_group(development)
cpack_add_component(runtime GROUP runtime)
cpack_add_component(service GROUP runtime)
cpack_add_component(development GROUP development)
cpack_add_component(static GROUP development)
