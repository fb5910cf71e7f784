// Trace context for text and JSON logs written without OTLP (OpenTelemetry
// specification, compatibility/logging_trace_context.md): lowercase hex
// `trace_id`, `span_id` and `trace_flags`, for code that logs through
// std::ostream, printf or a JSON writer. (spdlog users: the pattern flags of
// otelweb/spdlog/pattern.h print the same fields.)
//
// Outside any span the ids print as all zeros (32 and 16 '0's, flags "00"):
// the W3C "invalid" ids, fixed width, never garbage. The specification
// defines no form for "no trace"; Python prints "0". Unsampled requests have
// valid ids and print them (flags "00").
//
// Ownership: TraceFields is a value (fixed char arrays, no allocation).
// Thread-safety: CurrentTraceFields reads the calling thread's context.
#pragma once

#include <iosfwd>
#include <string>

#include "otelweb/trace/span_context.h"

namespace otelweb::logs {

struct TraceFields {
  char trace_id[33];     // NUL-terminated
  char span_id[17];
  char trace_flags[3];

  // Fills from a span context (all zeros when invalid).
  static TraceFields From(const SpanContext& sc) noexcept;
  // `trace_id=… span_id=… trace_flags=01`
  std::string ToText() const;
  // `"trace_id":"…","span_id":"…","trace_flags":"01"` (no braces), for a
  // JSON object being written.
  void AppendJsonMembers(std::string& out) const;
};

// The calling thread's current span context as fields.
TraceFields CurrentTraceFields() noexcept;

// Writes ToText().
std::ostream& operator<<(std::ostream& os, const TraceFields& f);

}  // namespace otelweb::logs
