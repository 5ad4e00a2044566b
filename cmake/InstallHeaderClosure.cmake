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
  if(NOT IS_ABSOLUTE "${header}" OR NOT header MATCHES "\\.hpp$")
    continue() # the generated TU that includes every public header
  endif()
  file(RELATIVE_PATH rel ${AL_SOURCE_DIR} ${header})
  string(FIND "${header}" "${AL_BINARY_DIR}/" in_build_dir)
  # Public and generated headers are installed as they are (include/actorlog/).
  if(in_build_dir EQUAL 0 OR rel MATCHES "^\\.\\./" OR rel MATCHES "^include/")
    continue()
  endif()
  get_filename_component(dir ${rel} DIRECTORY)
  file(INSTALL ${header} DESTINATION ${CMAKE_INSTALL_PREFIX}/${AL_DETAIL_DIR}/${dir})
endforeach()
