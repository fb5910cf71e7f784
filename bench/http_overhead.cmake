# End-to-end overhead of the cpp-httplib server instrumentation (issue 4).
if(TARGET otelweb_httplib)
  add_executable(otelweb_http_overhead ${CMAKE_CURRENT_SOURCE_DIR}/http_overhead.cc)
  target_include_directories(otelweb_http_overhead PRIVATE ${PROJECT_SOURCE_DIR}/src)  # core/ab_switches.h
  target_link_libraries(otelweb_http_overhead PRIVATE otelweb_httplib otelweb_core Threads::Threads
                        otelweb_warnings)
  if(TARGET otelweb_otlp_testing)
    target_link_libraries(otelweb_http_overhead PRIVATE otelweb_otlp otelweb_otlp_testing)
    target_compile_definitions(otelweb_http_overhead PRIVATE OTELWEB_HAVE_OTLP=1)
  endif()
endif()
