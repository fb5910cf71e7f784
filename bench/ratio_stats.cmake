# Unit test of bench/ratio_stats.h, the statistics of the three-arm
# end-to-end programs (grpc_overhead, http_overhead).
if(OTELWEB_BUILD_TESTS)
  add_executable(otelweb_ratio_stats_test ${CMAKE_CURRENT_SOURCE_DIR}/ratio_stats_test.cc)
  target_link_libraries(otelweb_ratio_stats_test PRIVATE GTest::gtest GTest::gtest_main otelweb_warnings)
  gtest_discover_tests(otelweb_ratio_stats_test DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 60)
endif()
