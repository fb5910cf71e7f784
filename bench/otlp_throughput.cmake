# End-to-end OTLP export throughput to a local receiver (issue 3).
if(TARGET otelweb_otlp_testing)
  add_executable(otelweb_otlp_throughput ${CMAKE_CURRENT_SOURCE_DIR}/otlp_throughput.cc)
  target_link_libraries(otelweb_otlp_throughput PRIVATE otelweb_otlp otelweb_otlp_testing otelweb_core
                        Threads::Threads otelweb_warnings)
  target_include_directories(otelweb_otlp_throughput PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
endif()
