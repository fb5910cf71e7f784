// Shared pieces of the benchmarks: the contract's no-op exporter and its ten
// attributes. Used by bench/*.cc and every src/<component>/*_bench.cc.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "otelweb/trace/span_data.h"
#include "otelweb/trace/span_exporter.h"
#include "otelweb/trace/simple_span_processor.h"
#include "otelweb/trace/batch_span_processor.h"
#include "otelweb/trace/sampler.h"
#include "otelweb/trace/span.h"
#include "otelweb/trace/tracer_provider.h"

namespace otelweb::bench {

// The contract's "no-op exporter": counts the spans it is given, nothing else
// (the processor still recycles the records). Thread-safe.
class NoopExporter final : public SpanExporter {
 public:
  ExportResult Export(std::span<EndedSpan> batch) noexcept override {
    count.fetch_add(batch.size(), std::memory_order_relaxed);
    return ExportResult::kSuccess;
  }
  OperationResult Shutdown(std::chrono::milliseconds) noexcept override { return OperationResult::Ok(); }
  std::string_view Name() const noexcept override { return "noop"; }
  std::atomic<uint64_t> count{0};
};

// Reads what an encoder would read (name and attribute keys of every span),
// then drops the batch: a no-op exporter that touches the records as an
// encoder does. Called by one processor thread at a time.
class ReadingExporter final : public SpanExporter {
 public:
  ExportResult Export(std::span<EndedSpan> batch) noexcept override {
    for (auto& s : batch) {
      bytes_ += s->name().size();
      for (size_t i = 0; i < s->attribute_count(); ++i) bytes_ += s->attribute(i).key().size();
    }
    count.fetch_add(batch.size(), std::memory_order_relaxed);
    return ExportResult::kSuccess;
  }
  OperationResult Shutdown(std::chrono::milliseconds) noexcept override { return OperationResult::Ok(); }
  std::string_view Name() const noexcept override { return "reading-noop"; }
  std::atomic<uint64_t> count{0};
  uint64_t bytes_ = 0;
};

// An always-on provider whose batch processor (default options) feeds a
// NoopExporter: what the instrumentation benchmarks trace into.
inline std::shared_ptr<TracerProvider> NoopBatchProvider() {
  TracerProviderOptions o;
  o.sampler = AlwaysOnSampler();
  o.processors.push_back(std::make_unique<BatchSpanProcessor>(std::make_unique<NoopExporter>()));
  return std::make_shared<TracerProvider>(std::move(o));
}

// The ten attributes of shared/BENCHMARKS.md, set after start.
inline void SetTenAttributes(SpanRef& s) {
  s.SetAttribute("http.request.method", "GET");
  s.SetAttribute("url.path", "/api/v1/users/12345/orders");
  s.SetAttribute("server.address", "api.example.com");
  s.SetAttribute("server.port", 8080);
  s.SetAttribute("http.response.status_code", 200);
  s.SetAttribute("network.protocol.version", "1.1");
  s.SetAttribute("user_agent.original", "Mozilla/5.0 (X11; Linux x86_64) bench/1.0");
  s.SetAttribute("http.request.body.size", 1234);
  s.SetAttribute("error", false);
  s.SetAttribute("cache.hit", true);
}

}  // namespace otelweb::bench
