# otelweb_metrics_soak: RSS under attribute churn with delta temporality
# (issue 13; docs/performance.md "Metrics").
if(TARGET otelweb_metrics)
  add_executable(otelweb_metrics_soak ${CMAKE_CURRENT_SOURCE_DIR}/metrics_soak.cc)
  target_link_libraries(otelweb_metrics_soak PRIVATE otelweb_metrics Threads::Threads otelweb_warnings)
endif()
