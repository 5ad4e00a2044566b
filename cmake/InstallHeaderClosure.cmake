# Run by `cmake --install` (cmake/ActorlogInstall.cmake): installs the
# internal headers that the public headers include, as the compiler listed
# them in AL_HEADER_DEPFILE (a make rule: "target: file file \<newline> ..."),
# under <includedir>/actorlog/detail/ with their paths in the source tree,
# which is the include path the installed CMake targets and pkg-config add.
file(READ ${AL_HEADER_DEPFILE} deps)
string(REPLACE "\\\n" " " deps "${deps}")
string(REGEX REPLACE "^[^:]*:" "" deps "${deps}")
separate_arguments(deps UNIX_COMMAND "${deps}")
foreach(header ${deps})
  file(RELATIVE_PATH rel ${AL_SOURCE_DIR} ${header})
  string(FIND "${header}" "${AL_BINARY_DIR}/" in_build_dir)
  # Public headers and generated ones are installed as they are; the TU is no header.
  if(in_build_dir EQUAL 0 OR rel MATCHES "^\\.\\./" OR rel MATCHES "^include/" OR NOT rel MATCHES "\\.hpp$"
     OR NOT EXISTS ${AL_SOURCE_DIR}/${rel})
    continue()
  endif()
  get_filename_component(dir ${rel} DIRECTORY)
  file(INSTALL ${header} DESTINATION ${CMAKE_INSTALL_PREFIX}/${AL_DETAIL_DIR}/${dir})
endforeach()
