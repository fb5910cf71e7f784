// MemoryTracing: a provider exporting synchronously into an in-memory store.
#include "otelweb/testing/memory_tracing.h"

#include <algorithm>
#include <thread>

#include "otelweb/trace/simple_span_processor.h"

namespace otelweb::testing {

MemoryTracing::MemoryTracing(MemoryTracingOptions options) : set_global_(options.set_global) {
  TracerProviderOptions o;
  o.sampler = options.sampler ? std::move(options.sampler) : AlwaysOnSampler();
  o.resource = options.resource ? std::move(options.resource) : std::optional<Resource>(Resource());
  o.limits = options.limits;
  o.processors.push_back(
      std::make_unique<SimpleSpanProcessor>(std::make_unique<InMemorySpanExporter>(store)));
  provider = std::make_shared<TracerProvider>(std::move(o));
  if (set_global_) {
    previous_ = GetTracerProvider();
    SetTracerProvider(provider);
  }
}

MemoryTracing::~MemoryTracing() {
  if (set_global_) SetTracerProvider(std::move(previous_));
}

bool MemoryTracing::WaitFor(size_t n, std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (store->size() < n) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

std::vector<const SpanData*> MemoryTracing::Exactly(size_t n,
                                                    std::chrono::milliseconds settle) const {
  WaitFor(n);
  std::this_thread::sleep_for(settle);
  std::vector<const SpanData*> v = store->spans();
  std::stable_sort(v.begin(), v.end(), [](const SpanData* a, const SpanData* b) {
    return a->start_ns() < b->start_ns();
  });
  return v;
}

}  // namespace otelweb::testing
