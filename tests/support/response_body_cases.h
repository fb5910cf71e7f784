// What the civetweb and libmicrohttpd tests of their response-body helpers
// (civetweb::SendBody, microhttpd::QueueBody) check after their requests,
// the same rules for both adapters (docs/metrics.md, "response body size").
//
// Thread-safety: test-thread only.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "support/manual_metrics.h"

namespace otelweb::testing {

// The recorded http.server.response.body.size of one GET each of `prefix`
// (body "hello"), `prefix`-empty, -204 and -304 (a body the helper must drop),
// -missing (a 404 with the 13-byte body "no such thing") and one HEAD of
// `prefix`, and nothing else; `requests` durations in all.
inline void ExpectHelperBodySizes(const metrics::ResourceMetrics& rm, const std::string& prefix,
                                  size_t requests) {
  const auto got =
      HistogramCountSumBy(rm, "http.server.response.body.size",
                          {"http.request.method", "http.route", "http.response.status_code"});
  const std::map<std::string, std::pair<uint64_t, double>> want = {
      {"GET " + prefix + " 200", {1, 5}},
      {"HEAD " + prefix + " 200", {1, 0}},
      {"GET " + prefix + "-empty 200", {1, 0}},
      {"GET " + prefix + "-204 204", {1, 0}},
      {"GET " + prefix + "-304 304", {1, 0}},
      {"GET " + prefix + "-missing 404", {1, 13}}};
  EXPECT_EQ(got, want);
  EXPECT_EQ(HistogramTotalCount(rm, "http.server.request.duration"), requests);
}

// How many of `texts` contain `part`.
inline int CountContaining(const std::vector<std::string>& texts, std::string_view part) {
  int n = 0;
  for (const std::string& t : texts) n += t.find(part) != std::string::npos;
  return n;
}

}  // namespace otelweb::testing
