// SpanProcessor: what happens to a span when it starts and ends (OpenTelemetry
// specification, SDK "Span processor"), and the counters processors keep.
//
// Ownership: the TracerProvider owns its processors (std::unique_ptr); a
// processor owns its exporter.
// Thread-safety: OnStart/OnEnd are called concurrently from every thread that
// ends spans; ForceFlush/Shutdown may be called from any thread, concurrently
// with OnEnd. Both built-in processors are fully thread-safe.
#pragma once

#include <chrono>
#include <cstdint>

#include "otelweb/common.h"
#include "otelweb/context.h"
#include "otelweb/processor_counters.h"
#include "otelweb/trace/span_data.h"

namespace otelweb {

class SpanProcessor {
 public:
  virtual ~SpanProcessor() = default;
  // Called on the starting thread right after a recording span starts. Only
  // called when WantsOnStart() is true (so the common case costs nothing).
  virtual void OnStart(const SpanData& span, const Context& parent) noexcept {
    (void)span;
    (void)parent;
  }
  virtual bool WantsOnStart() const noexcept { return false; }
  // Receives one reference to every ended recording span (sampled or not;
  // processors that export should skip `!span->context().sampled()`).
  virtual void OnEnd(EndedSpan span) noexcept = 0;
  virtual OperationResult ForceFlush(std::chrono::milliseconds timeout = kDefaultFlushTimeout) noexcept = 0;
  // Flushes what is queued, shuts the exporter down, and makes later OnEnd
  // calls cheap no-ops. A second call returns AlreadyShutDown.
  virtual OperationResult Shutdown(std::chrono::milliseconds timeout = kDefaultFlushTimeout) noexcept = 0;
};

// ProcessorCounters (what the export processors did with the spans they got)
// is in otelweb/processor_counters.h, shared with the other signals.

}  // namespace otelweb
