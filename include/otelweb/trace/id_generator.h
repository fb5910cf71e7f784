// The trace and span id source of a TracerProvider (OpenTelemetry
// specification, SDK "Id Generators").
// Ownership: a provider shares its generator (std::shared_ptr).
#pragma once

#include "otelweb/trace/span_context.h"

namespace otelweb {

// Makes trace and span ids. The default is a per-thread xoshiro256** stream
// seeded from the OS, which makes ids without locks or syscalls.
// Thread-safety: called concurrently from every thread that starts spans.
class IdGenerator {
 public:
  virtual ~IdGenerator() = default;
  virtual TraceId NewTraceId() noexcept = 0;
  virtual SpanId NewSpanId() noexcept = 0;
  // True when every trace id's rightmost 7 bytes are random: traces started
  // with this generator then carry the W3C Level 2 "random" trace flag.
  // Default false (a custom generator may encode something in its ids).
  virtual bool TraceIdsAreRandom() const noexcept { return false; }
};

}  // namespace otelweb
