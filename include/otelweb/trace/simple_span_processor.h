// SimpleSpanProcessor (OpenTelemetry specification, SDK "Simple processor").
// Ownership: owns its exporter. Thread-safety: OnEnd may be called from any
// thread; exports are serialised.
#pragma once

#include <chrono>
#include <memory>

#include "otelweb/trace/span_exporter.h"
#include "otelweb/trace/span_processor.h"

namespace otelweb {

// Exports every sampled span synchronously on the ending thread, one Export
// call at a time (a mutex serialises them). For tests and debugging: it puts
// the exporter's latency on the application's thread.
class SimpleSpanProcessor final : public SpanProcessor {
 public:
  explicit SimpleSpanProcessor(std::unique_ptr<SpanExporter> exporter);
  ~SimpleSpanProcessor() override;
  void OnEnd(EndedSpan span) noexcept override;
  OperationResult ForceFlush(std::chrono::milliseconds timeout = kDefaultFlushTimeout) noexcept override;
  OperationResult Shutdown(std::chrono::milliseconds timeout = kDefaultFlushTimeout) noexcept override;
  ProcessorCounters counters() const noexcept;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace otelweb
