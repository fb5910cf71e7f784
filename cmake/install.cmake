# Installation: public headers, every component library, a CMake package
# (find_package(otelweb [COMPONENTS ...]) with targets otelweb::<component>) and
# pkg-config files (otelweb-<component>.pc for each component, otelweb.pc for
# the umbrella component `otelweb` (src/otelweb, target otelweb::otelweb):
# Install/InstallTracing with core and, when built, the OTLP library).
#
# Nothing here needs editing when a component is added: the libraries come
# from OTELWEB_INSTALL_TARGETS (filled by otelweb_add_component), and each
# component's third-party dependencies are read from its link interface. Known
# imported targets map to a find_package() call and a pkg-config module
# through OTELWEB_IMPORTED_PACKAGES; a pkg-config imported target
# (PkgConfig::<PREFIX> from pkg_check_modules) maps to itself. A component
# needing something else records it in cache variables before this file runs:
#   OTELWEB_DEPS_<name>         CMake code for otelwebConfig.cmake (e.g. "find_package(Foo QUIET)")
#   OTELWEB_PC_REQUIRES_<name>  pkg-config modules for otelweb-<name>.pc
#   OTELWEB_PC_LIBS_<name>      extra linker flags for otelweb-<name>.pc
# and appends "<imported target>=<find_package arguments>|<pkg-config module>"
# to OTELWEB_IMPORTED_PACKAGES for a new kind of imported target.

set(_cfgdir ${CMAKE_INSTALL_LIBDIR}/cmake/otelweb)
set(_pcdir ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

set(OTELWEB_IMPORTED_PACKAGES ${OTELWEB_IMPORTED_PACKAGES}
    "Threads::Threads=Threads|"
    "CURL::libcurl=CURL|libcurl"
    "SQLite::SQLite3=SQLite3|sqlite3"
    "ZLIB::ZLIB=ZLIB|zlib"
    "OpenSSL::SSL=OpenSSL|libssl"
    "OpenSSL::Crypto=OpenSSL|libcrypto"
    "protobuf::libprotobuf=Protobuf|protobuf"
    "protobuf::libprotobuf-lite=Protobuf|protobuf-lite"
    "gRPC::grpc++=gRPC CONFIG|grpc++"
    "gRPC::grpc++_unsecure=gRPC CONFIG|grpc++_unsecure"
    "gRPC::grpc=gRPC CONFIG|grpc"
    "gRPC::gpr=gRPC CONFIG|gpr")
list(REMOVE_DUPLICATES OTELWEB_IMPORTED_PACKAGES)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/otelweb DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.h")

# Link items of `tgt` as a consumer sees them: $<LINK_ONLY:x> unwrapped,
# build-only items dropped, aliases resolved.
function(_otelweb_link_items tgt out)
  set(_r "")
  get_target_property(_items ${tgt} INTERFACE_LINK_LIBRARIES)
  if(_items)
    foreach(i IN LISTS _items)
      if(i MATCHES "BUILD_INTERFACE")
        continue()
      endif()
      string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" i "${i}")
      string(REGEX REPLACE "^\\$<INSTALL_INTERFACE:(.*)>$" "\\1" i "${i}")
      if(i STREQUAL "" OR i MATCHES "^\\$<")
        continue()
      endif()
      if(TARGET ${i})
        get_target_property(_aliased ${i} ALIASED_TARGET)
        if(_aliased)
          set(i ${_aliased})
        endif()
      endif()
      list(APPEND _r "${i}")
    endforeach()
  endif()
  set(${out} "${_r}" PARENT_SCOPE)
endfunction()

# Linker flags a consumer needs from `tgt`'s INTERFACE_LINK_OPTIONS.
function(_otelweb_link_options tgt out)
  set(_r "")
  get_target_property(_opts ${tgt} INTERFACE_LINK_OPTIONS)
  if(_opts)
    foreach(o IN LISTS _opts)
      if(o MATCHES "BUILD_INTERFACE" OR o MATCHES "^\\$<")
        continue()
      endif()
      string(REGEX REPLACE "^SHELL:" "" o "${o}")
      string(REGEX REPLACE "^LINKER:" "-Wl," o "${o}")
      list(APPEND _r "${o}")
    endforeach()
  endif()
  set(${out} "${_r}" PARENT_SCOPE)
endfunction()

# Walks the link interface of component or helper target `tgt` and appends to
# the caller's variables:
#   _w_components  otelweb components it needs (names without otelweb_)
#   _w_helpers     our own non-component targets it needs (exported too)
#   _w_modules     pkg-config modules
#   _w_libs        linker flags with no pkg-config module behind them
#   _w_imported    imported targets it needs
#   _w_cmake       CMake code that defines those imported targets
macro(_otelweb_walk tgt)
  _otelweb_link_items(${tgt} _walk_items_${tgt})
  _otelweb_link_options(${tgt} _walk_opts)
  list(APPEND _w_libs ${_walk_opts})
  foreach(i IN LISTS _walk_items_${tgt})
    # Imported targets are classified by name: they are usually local to the
    # directory that found them, hence invisible here.
    set(_pkg "")
    foreach(e IN LISTS OTELWEB_IMPORTED_PACKAGES)
      if(e MATCHES "^([^=]+)=([^|]*)\\|(.*)$" AND CMAKE_MATCH_1 STREQUAL i)
        set(_pkg "${CMAKE_MATCH_2}")
        set(_mod "${CMAKE_MATCH_3}")
      endif()
    endforeach()
    if(i MATCHES "^PkgConfig::(.+)$")
      set(_p ${CMAKE_MATCH_1})
      list(APPEND _w_imported ${i})
      list(APPEND _w_modules ${${_p}_MODULE_NAME})
      list(APPEND _w_cmake
           "if(NOT TARGET ${i})\n  find_package(PkgConfig QUIET)\n  if(PkgConfig_FOUND)\n    pkg_check_modules(${_p} QUIET IMPORTED_TARGET ${${_p}_MODULE_NAME})\n  endif()\nendif()")
    elseif(_pkg)
      list(APPEND _w_imported ${i})
      list(APPEND _w_cmake "if(NOT TARGET ${i})\n  find_package(${_pkg} QUIET)\nendif()")
      if(_mod)
        list(APPEND _w_modules ${_mod})
      elseif(i STREQUAL "Threads::Threads")
        list(APPEND _w_libs -pthread)
      endif()
    elseif(i IN_LIST OTELWEB_INSTALL_TARGETS)
      string(REGEX REPLACE "^otelweb_" "" _c ${i})
      list(APPEND _w_components ${_c})
    elseif(TARGET ${i})
      get_target_property(_imp ${i} IMPORTED)
      get_target_property(_type ${i} TYPE)
      if(_imp)
        message(WARNING "otelweb install: ${tgt} links ${i}, which cmake/install.cmake does not "
                        "know how to find; add it to OTELWEB_IMPORTED_PACKAGES")
      elseif(NOT i IN_LIST _w_helpers)
        # Our own helper target (e.g. generated protobuf code): exported too.
        list(APPEND _w_helpers ${i})
        if(NOT _type STREQUAL "INTERFACE_LIBRARY")
          get_target_property(_on ${i} OUTPUT_NAME)
          if(NOT _on)
            set(_on ${i})
          endif()
          list(APPEND _w_libs "-l${_on}")
        endif()
        _otelweb_walk(${i})
      endif()
    elseif(i MATCHES "::")
      message(WARNING "otelweb install: ${tgt} links ${i}, which cmake/install.cmake does not "
                      "know how to find; add it to OTELWEB_IMPORTED_PACKAGES")
    elseif(i MATCHES "^-")
      list(APPEND _w_libs "${i}")
    elseif(i MATCHES "^/.*/lib([^/]+)\\.(so|a)(\\.[0-9.]+)?$")
      set(_n ${CMAKE_MATCH_1})
      get_filename_component(_d "${i}" DIRECTORY)
      if(NOT _d IN_LIST CMAKE_CXX_IMPLICIT_LINK_DIRECTORIES)
        list(APPEND _w_libs "-L${_d}")
      endif()
      list(APPEND _w_libs "-l${_n}")
    else()
      list(APPEND _w_libs "-l${i}")
    endif()
  endforeach()
endmacro()

set(_export_targets ${OTELWEB_INSTALL_TARGETS})
set(_components "")
set(_config_deps "")
set(_sanitize_flag "")
if(OTELWEB_SANITIZE)
  # A sanitized build's libraries need the sanitizer runtime in every program
  # linking them.
  set(_sanitize_flag "-fsanitize=${OTELWEB_SANITIZE}")
endif()

foreach(t IN LISTS OTELWEB_INSTALL_TARGETS)
  string(REGEX REPLACE "^otelweb_" "" c ${t})
  list(APPEND _components ${c})
  if(_sanitize_flag)
    target_link_options(${t} INTERFACE $<INSTALL_INTERFACE:${_sanitize_flag}>)
  endif()
  set(_w_components "")
  set(_w_helpers "")
  set(_w_modules "")
  set(_w_libs "")
  set(_w_imported "")
  set(_w_cmake "")
  _otelweb_walk(${t})
  list(APPEND _export_targets ${_w_helpers})
  foreach(v _w_components _w_modules _w_imported _w_cmake)
    list(REMOVE_DUPLICATES ${v})
  endforeach()

  # otelwebConfig.cmake: find what this component needs; it counts as found
  # (find_package(otelweb COMPONENTS <name>)) only if all of it was.
  string(APPEND _config_deps "\n# ${c}\nset(otelweb_${c}_FOUND TRUE)\n")
  foreach(code IN LISTS _w_cmake)
    string(APPEND _config_deps "${code}\n")
  endforeach()
  if(DEFINED OTELWEB_DEPS_${c})
    string(APPEND _config_deps "${OTELWEB_DEPS_${c}}\n")
  endif()
  foreach(imp IN LISTS _w_imported)
    string(APPEND _config_deps "if(NOT TARGET ${imp})\n  set(otelweb_${c}_FOUND FALSE)\n"
                               "  list(APPEND _otelweb_missing \"${c}: ${imp}\")\nendif()\n")
  endforeach()
  foreach(dep IN LISTS _w_components)
    string(APPEND _config_deps "if(NOT otelweb_${dep}_FOUND)\n  set(otelweb_${c}_FOUND FALSE)\nendif()\n")
  endforeach()

  # otelweb-<name>.pc; the umbrella component's is otelweb.pc.
  if(c STREQUAL "otelweb")
    set(PC_NAME otelweb)
    set(PC_DESCRIPTION "${PROJECT_DESCRIPTION} (everything: Install/InstallTracing, core, OTLP)")
  else()
    set(PC_NAME otelweb-${c})
    set(PC_DESCRIPTION "otelweb ${c} (${PROJECT_DESCRIPTION})")
  endif()
  set(_req "")
  foreach(dep IN LISTS _w_components)
    list(APPEND _req otelweb-${dep})
  endforeach()
  list(APPEND _req ${_w_modules} ${OTELWEB_PC_REQUIRES_${c}})
  list(REMOVE_DUPLICATES _req)
  list(JOIN _req " " PC_REQUIRES)
  get_target_property(_on ${t} OUTPUT_NAME)
  if(NOT _on)
    set(_on ${t})
  endif()
  set(_libs "-L\${libdir}" "-l${_on}" ${_w_libs} ${OTELWEB_PC_LIBS_${c}} ${_sanitize_flag})
  list(REMOVE_DUPLICATES _libs)
  list(JOIN _libs " " PC_LIBS)
  set(PC_CFLAGS "-I\${includedir}")
  if(c STREQUAL "core")
    string(APPEND PC_CFLAGS " -std=c++20")
  endif()
  configure_file(${PROJECT_SOURCE_DIR}/cmake/otelweb.pc.in ${PROJECT_BINARY_DIR}/pkgconfig/${PC_NAME}.pc
                 @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/pkgconfig/${PC_NAME}.pc DESTINATION ${_pcdir})
endforeach()

list(REMOVE_DUPLICATES _export_targets)
install(TARGETS ${_export_targets} EXPORT otelwebTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT otelwebTargets NAMESPACE otelweb:: DESTINATION ${_cfgdir})

set(OTELWEB_CONFIG_COMPONENTS "${_components}")
set(OTELWEB_CONFIG_DEPENDENCIES "${_config_deps}")
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/otelwebConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/otelwebConfig.cmake INSTALL_DESTINATION ${_cfgdir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/otelwebConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/otelwebConfig.cmake ${PROJECT_BINARY_DIR}/otelwebConfigVersion.cmake
        DESTINATION ${_cfgdir})
