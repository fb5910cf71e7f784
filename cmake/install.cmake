# Installation: headers, libraries, a CMake package (find_package(otelweb),
# targets otelweb::<component>) and a pkg-config file (otelweb.pc).
set(_cfgdir ${CMAKE_INSTALL_LIBDIR}/cmake/otelweb)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/otelweb DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# Helper interface targets that component targets link to travel with them.
set(_export_targets ${OTELWEB_INSTALL_TARGETS})
foreach(t otelweb_civetweb_lib otelweb_proto)
  if(TARGET ${t})
    list(APPEND _export_targets ${t})
  endif()
endforeach()
install(TARGETS ${_export_targets} EXPORT otelwebTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT otelwebTargets NAMESPACE otelweb:: DESTINATION ${_cfgdir})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/otelwebConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/otelwebConfig.cmake INSTALL_DESTINATION ${_cfgdir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/otelwebConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/otelwebConfig.cmake ${PROJECT_BINARY_DIR}/otelwebConfigVersion.cmake
        DESTINATION ${_cfgdir})

# pkg-config: the core library (components add their own -l flags).
set(_pc_libs "")
foreach(t ${OTELWEB_INSTALL_TARGETS})
  string(PREPEND _pc_libs "-l${t} ")
endforeach()
configure_file(${PROJECT_SOURCE_DIR}/cmake/otelweb.pc.in ${PROJECT_BINARY_DIR}/otelweb.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/otelweb.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
