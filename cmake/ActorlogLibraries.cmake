# The installed libraries, made of the objects of the internal static
# libraries (nothing is compiled twice):
#   actorlog_client (libactorlog_client.so/.a): storage, Kafka codecs, state
#       machines, actors and the client facades: <actorlog/client.hpp>
#   actorlog_node   (libactorlog_node.so/.a): node runtime, config loader,
#       listener guard, al::embedded_cluster: <actorlog/node.hpp>,
#       <actorlog/embedded_cluster.hpp>
# Users see them as actorlog::client and actorlog::node (shared) and
# actorlog::client_static and actorlog::node_static (cmake/ActorlogInstall.cmake).
set(AL_CLIENT_OBJECTS $<TARGET_OBJECTS:al_storage> $<TARGET_OBJECTS:al_kafka_protocol>
    $<TARGET_OBJECTS:al_machines> $<TARGET_OBJECTS:al_actors>)
set(AL_NODE_OBJECTS $<TARGET_OBJECTS:al_config> $<TARGET_OBJECTS:al_guard>
    $<TARGET_OBJECTS:al_node> $<TARGET_OBJECTS:al_cluster_harness>)
# What the internal libraries link, as users need it for the static ones.
set(AL_CLIENT_DEPS caf::io SQLite::SQLite3 fmt::fmt spdlog::spdlog Threads::Threads ZLIB::ZLIB
    Snappy::snappy zstd::libzstd_shared PkgConfig::LZ4)
set(AL_NODE_DEPS PkgConfig::INIH httplib::httplib ${CMAKE_DL_LIBS})
set(AL_PUBLIC_INCLUDES
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include> $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/include>
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
    # The internal headers the public ones include, under their own paths.
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/actorlog/detail>)

function(al_public_library name export_name objects)
  add_library(${name} SHARED ${objects})
  add_library(${name}_static STATIC ${objects})
  set_target_properties(${name} PROPERTIES VERSION ${PROJECT_VERSION}
    # 0.x: a minor version may break the ABI.
    SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR}
    EXPORT_NAME ${export_name} INSTALL_RPATH "$ORIGIN")
  target_link_options(${name} PRIVATE -Wl,--no-undefined) # every dependency is linked
  set_target_properties(${name}_static PROPERTIES OUTPUT_NAME ${name}
    EXPORT_NAME ${export_name}_static)
  foreach(t ${name} ${name}_static)
    target_include_directories(${t} INTERFACE ${AL_PUBLIC_INCLUDES})
    target_compile_features(${t} INTERFACE cxx_std_17)
    set_target_properties(${t} PROPERTIES ARCHIVE_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/lib
      LIBRARY_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/lib)
  endforeach()
endfunction()

al_public_library(actorlog_client client "${AL_CLIENT_OBJECTS}")
# The public headers use CAF directly; the rest stays inside the shared library.
target_link_libraries(actorlog_client PUBLIC caf::io PRIVATE ${AL_CLIENT_DEPS})
target_link_libraries(actorlog_client_static PUBLIC ${AL_CLIENT_DEPS})

al_public_library(actorlog_node node "${AL_NODE_OBJECTS}")
target_link_libraries(actorlog_node PUBLIC actorlog_client PRIVATE ${AL_CLIENT_DEPS} ${AL_NODE_DEPS})
target_link_libraries(actorlog_node_static PUBLIC actorlog_client_static ${AL_NODE_DEPS})
