// MemoryTracing: the one-call tracing setup for tests. It builds a
// TracerProvider whose simple processor exports every ended span, at once and
// on the ending thread, into an InMemorySpanStore, and (by default) installs
// it as the global provider, so that instrumentations that use the global
// (every adapter unless given a provider) record into the store.
//
//   TEST(Checkout, RecordsAServerSpan) {
//     otelweb::testing::MemoryTracing tracing;
//     ... run the code under test ...
//     ASSERT_TRUE(tracing.WaitFor(1));
//     EXPECT_EQ(tracing.spans()[0]->name(), "GET /checkout");
//   }
//
// Ownership: MemoryTracing owns the provider (shared with the global slot and
// with whoever the test hands `provider` to) and shares the store with the
// exporter. On destruction it puts back the global provider that was
// installed when it was constructed (so nest MemoryTracing objects last-in,
// first-out); the provider itself shuts down when its last owner lets go.
// Thread-safety: construct and destroy on one thread (they replace a global);
// spans(), WaitFor() and Exactly() may be called from any thread while other
// threads end spans.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "otelweb/resource.h"
#include "otelweb/testing/in_memory_exporter.h"
#include "otelweb/trace/sampler.h"
#include "otelweb/trace/span_data.h"
#include "otelweb/trace/span_limits.h"
#include "otelweb/trace/tracer_provider.h"

namespace otelweb::testing {

struct MemoryTracingOptions {
  // Install the provider as the global one (and restore the previous global
  // on destruction). false: only tests that pass `provider` explicitly see it.
  bool set_global = true;
  // Default: AlwaysOnSampler() (every span recorded and exported).
  std::shared_ptr<Sampler> sampler{};
  // Default: an empty resource (no environment or host detection, so tests do
  // not depend on OTEL_RESOURCE_ATTRIBUTES or the machine).
  std::optional<Resource> resource{};
  SpanLimitsOptions limits{};
};

class MemoryTracing {
 public:
  explicit MemoryTracing(MemoryTracingOptions options = {});
  ~MemoryTracing();
  MemoryTracing(const MemoryTracing&) = delete;
  MemoryTracing& operator=(const MemoryTracing&) = delete;

  // A tracer of this provider (not of the global one).
  Tracer tracer(std::string_view name = "test") const { return provider->GetTracer(name); }
  // Exported spans in export order. Valid until store->Reset() or the store dies.
  std::vector<const SpanData*> spans() const { return store->spans(); }
  // Waits (at most `timeout`) until at least n spans were exported; false on
  // timeout. Server spans end after the response is written, so a client can
  // hold the response before the span is exported.
  bool WaitFor(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;
  // Waits for n spans, then `settle` more to catch unexpected extra ones, and
  // returns every span sorted by start time (export order is end order, which
  // differs from request order when spans end on several threads).
  std::vector<const SpanData*> Exactly(
      size_t n, std::chrono::milliseconds settle = std::chrono::milliseconds(30)) const;

  std::shared_ptr<InMemorySpanStore> store = std::make_shared<InMemorySpanStore>();
  std::shared_ptr<TracerProvider> provider;

 private:
  bool set_global_ = false;
  std::shared_ptr<TracerProvider> previous_;
};

}  // namespace otelweb::testing
