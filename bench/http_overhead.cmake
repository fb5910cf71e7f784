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
if(TARGET otelweb_http_overhead AND OTELWEB_BUILD_TESTS)
  # The output's shape (three arms, rotation, CIs, verdict, last `ratio` line)
  # and --control 0 as bench/ab18.sh uses it; no timing is checked.
  add_test(NAME http_overhead_smoke
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/http_overhead_smoke.sh $<TARGET_FILE:otelweb_http_overhead>)
  set_tests_properties(http_overhead_smoke PROPERTIES TIMEOUT 120 SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
endif()
