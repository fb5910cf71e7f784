// An unsampled request (traceparent ...-00) on a real socket: the handler's
// current span records nothing but carries the request's valid span context
// (log correlation reads it), and the context propagated downstream matches.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "otelweb/httplib/client.h"
#include "otelweb/httplib/server.h"
#include "otelweb/otelweb.h"
#include "otelweb/propagation.h"
#include "otelweb/testing/memory_tracing.h"

namespace otelweb::httplib {
namespace {

TEST(HttplibUnsampled, HandlerSeesTheNonRecordingSpansContext) {
  testing::MemoryTracingOptions mo;
  mo.sampler = ParentBasedSampler(AlwaysOnSampler());
  testing::MemoryTracing t(mo);
  ServerOptions so;
  so.tracer_provider = t.provider;
  so.excluded_urls = "";
  TracedServer app(so);
  std::mutex mu;
  SpanContext seen;
  bool recording = true;
  std::string downstream_traceparent;
  app.Get("/x", [&](const ::httplib::Request&, ::httplib::Response& res) {
    std::lock_guard<std::mutex> l(mu);
    seen = GetCurrentSpan().GetContext();
    recording = GetCurrentSpan().IsRecording();
    // What a client call from here would send downstream.
    std::map<std::string, std::string> carrier;
    MapCarrier<std::map<std::string, std::string>> setter(carrier);
    GetTextMapPropagator()->Inject(Context::Current(), setter);
    downstream_traceparent = carrier["traceparent"];
    res.set_content("ok", "text/plain");
  });
  int port = app.bind_to_any_port("127.0.0.1");
  std::thread th([&] { app.listen_after_bind(); });
  for (int i = 0; i < 5000 && !app.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  {
    ::httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(5);
    auto r = c.Get("/x", {{"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }
  app.stop();
  th.join();
  std::lock_guard<std::mutex> l(mu);
  EXPECT_FALSE(recording);
  ASSERT_TRUE(seen.IsValid());
  EXPECT_EQ(seen.trace_id().ToHex(), "0af7651916cd43dd8448eb211c80319c");
  EXPECT_NE(seen.span_id().ToHex(), "b7ad6b7169203331");  // the server span's own id
  EXPECT_FALSE(seen.sampled());
  EXPECT_EQ(downstream_traceparent,
            "00-0af7651916cd43dd8448eb211c80319c-" + seen.span_id().ToHex() + "-00");
  EXPECT_EQ(t.store->size(), 0u);
}

}  // namespace
}  // namespace otelweb::httplib
