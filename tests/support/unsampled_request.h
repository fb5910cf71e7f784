// Shared pieces of the adapters' unsampled-request tests (issue 11 §2): a GET
// whose traceparent ends in -00, what the handler saw of its current span,
// and the checks on it (the handler's span records nothing but carries a
// valid context: the request's trace id, its own span id, not sampled).
// Ownership: plain values. Thread-safety: SeenInHandler::Record may be called
// from a server thread while the test thread waits; Expect... after the
// server has stopped.
#pragma once

#include <gtest/gtest.h>

#include <mutex>
#include <string>

#include "otelweb/otelweb.h"
#include "otelweb/testing/memory_tracing.h"

namespace otelweb::testing {

inline constexpr char kUnsampledGet[] =
    "GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00\r\n\r\n";

struct SeenInHandler {
  std::mutex mu;
  SpanContext ctx;
  bool recording = true;
  // Call in the handler: keeps what the current span says.
  void Record() {
    std::lock_guard<std::mutex> l(mu);
    ctx = GetCurrentSpan().GetContext();
    recording = GetCurrentSpan().IsRecording();
  }
};

inline void ExpectTheUnsampledContextWasSeen(SeenInHandler& seen, const std::string& reply, const MemoryTracing& t) {
  EXPECT_NE(reply.find(" 200 "), std::string::npos) << reply;
  std::lock_guard<std::mutex> l(seen.mu);
  EXPECT_FALSE(seen.recording);
  ASSERT_TRUE(seen.ctx.IsValid());
  EXPECT_EQ(seen.ctx.trace_id().ToHex(), "0af7651916cd43dd8448eb211c80319c");
  EXPECT_NE(seen.ctx.span_id().ToHex(), "b7ad6b7169203331");  // the server span's own id
  EXPECT_FALSE(seen.ctx.sampled());
  EXPECT_EQ(t.store->size(), 0u);
}

}  // namespace otelweb::testing
