// SpanStub: an ended span described field by field, turned into the same
// EndedSpan that processors and exporters receive, without setting up a
// provider (the counterpart of opentelemetry-go's tracetest.SpanStub). For
// unit tests of exporters, encoders and processors:
//
//   otelweb::testing::SpanStub stub;
//   stub.name = "GET /items/{id}";
//   stub.kind = otelweb::SpanKind::kServer;
//   stub.attributes = {{"http.request.method",
//   otelweb::OwnedValue(otelweb::AttributeValue("GET"))}}; std::vector<otelweb::EndedSpan> batch;
//   batch.push_back(stub.Build());
//   exporter.Export(batch);
//
// Build() runs the SDK's own span path (a private provider with this stub's
// resource, limits, IDs and sampling decision), so the result is exactly what
// a real span with these fields would be, limits and UTF-8 handling included.
//
// Ownership: the stub is a plain value. The EndedSpan owns its storage; its
// resource() and scope() stay valid for the whole process (each Build() keeps
// a few hundred bytes of provider state until exit, as every provider does).
// Thread-safety: a stub is a value; Build() may be called from any thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "otelweb/common.h"
#include "otelweb/resource.h"
#include "otelweb/trace/span.h"
#include "otelweb/trace/span_context.h"
#include "otelweb/trace/span_data.h"
#include "otelweb/trace/span_limits.h"
#include "otelweb/trace/tracer.h"

namespace otelweb::testing {

struct SpanStub {
  struct Event {
    std::string name{};
    Timestamp time{};  // default: the time Build() adds it
    std::vector<OwnedKeyValue> attributes{};
  };
  struct Link {
    SpanContext context{};
    std::vector<OwnedKeyValue> attributes{};
  };

  std::string name = "span";
  SpanKind kind = SpanKind::kInternal;
  // Invalid (zero) IDs are generated at random. With a valid parent the trace
  // ID is the parent's and `trace_id` is ignored.
  TraceId trace_id{};
  SpanId span_id{};
  // The parent's span context (remote or not, as it says); invalid: a root span.
  SpanContext parent{};
  // false: recorded but not sampled (the sampled flag is clear; exporting
  // processors skip it).
  bool sampled = true;
  // The span's trace state; default: the parent's.
  std::optional<TraceState> trace_state{};
  Timestamp start_time{};  // default: the time Build() runs
  Timestamp end_time{};    // default: the time Build() ends it
  std::vector<OwnedKeyValue> attributes{};
  std::vector<Event> events{};
  std::vector<Link> links{};
  StatusCode status = StatusCode::kUnset;
  std::string status_description{};
  // Default: an empty resource.
  Resource resource{};
  InstrumentationScope scope{"otelweb.testing", "", ""};
  // Limits applied while building (set them to produce dropped counts).
  SpanLimitsOptions limits{};

  // The ended span. Never empty.
  EndedSpan Build() const;
};

}  // namespace otelweb::testing
