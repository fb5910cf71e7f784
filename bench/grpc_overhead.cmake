# End-to-end overhead of the gRPC instrumentation (issue 17): unary echo,
# instrumented vs plain, interleaved rounds (docs/performance.md).
if(TARGET otelweb_grpc AND TARGET otelweb_grpc_echo_proto)
  add_executable(otelweb_grpc_overhead ${CMAKE_CURRENT_SOURCE_DIR}/grpc_overhead.cc)
  target_link_libraries(otelweb_grpc_overhead PRIVATE otelweb_grpc otelweb_grpc_echo_proto otelweb_bench_support
                        Threads::Threads otelweb_warnings)
endif()
