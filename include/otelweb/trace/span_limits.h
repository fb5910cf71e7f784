// Span limits (OpenTelemetry specification, SDK "Span Limits"): how many
// attributes, events and links a span keeps, and how long attribute values may
// be. SpanLimitsOptions is what code sets; ResolveSpanLimits fills the rest
// from the OTEL_SPAN_*, OTEL_EVENT_*, OTEL_LINK_* and OTEL_ATTRIBUTE_*
// variables, else the spec's defaults.
// Ownership: plain values. Thread-safety: ResolveSpanLimits reads the
// environment; call it at set-up.
#pragma once

#include <cstdint>
#include <optional>

namespace otelweb {

// Per-span limits (OpenTelemetry spec). Unset fields come from the
// environment (OTEL_SPAN_*, OTEL_EVENT_*, OTEL_LINK_*, OTEL_ATTRIBUTE_*), else
// the spec's defaults: 128 for counts, no value-length limit.
struct SpanLimitsOptions {
  std::optional<uint32_t> attribute_count{};
  std::optional<uint32_t> attribute_value_length{};  // Unicode code points (never splits one); UINT32_MAX = unlimited
  std::optional<uint32_t> event_count{};
  std::optional<uint32_t> link_count{};
  std::optional<uint32_t> attributes_per_event{};
  std::optional<uint32_t> attributes_per_link{};
};

struct SpanLimits {
  static constexpr uint32_t kUnlimited = UINT32_MAX;
  uint32_t attribute_count = 128;
  uint32_t attribute_value_length = kUnlimited;
  uint32_t event_count = 128;
  uint32_t link_count = 128;
  uint32_t attributes_per_event = 128;
  uint32_t attributes_per_link = 128;
};
SpanLimits ResolveSpanLimits(const SpanLimitsOptions& options);

}  // namespace otelweb
