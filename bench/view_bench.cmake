# otelweb_view_bench: otelweb-view's ingest rate and trace-list latencies
# (docs/performance.md "otelweb-view").
if(TARGET otelweb_view)
  add_executable(otelweb_view_bench ${CMAKE_CURRENT_SOURCE_DIR}/view_bench.cc)
  target_link_libraries(otelweb_view_bench PRIVATE otelweb_view otelweb_warnings)
  target_compile_definitions(otelweb_view_bench PRIVATE OTELWEB_VIEW_BIN="$<TARGET_FILE:otelweb-view>")
  add_dependencies(otelweb_view_bench otelweb-view)
endif()
