// Span limits: code > environment > default.
#include <string>

#include "core/config.h"
#include "otelweb/diagnostics.h"
#include "otelweb/trace/span_limits.h"
#include "otelweb/trace/tracer_provider.h"

namespace otelweb {

namespace {

// A non-negative count from the first set variable among `names`.
std::optional<uint32_t> EnvCount(std::initializer_list<const char*> names) {
  for (const char* n : names) {
    if (!config::GetString(n)) continue;
    if (auto v = config::GetInt(n, 0, UINT32_MAX - 1)) return static_cast<uint32_t>(*v);
    return std::nullopt;  // invalid: warned; the default applies
  }
  return std::nullopt;
}

}  // namespace

SpanLimits ResolveSpanLimits(const SpanLimitsOptions& o) {
  SpanLimits l;
  l.attribute_count = o.attribute_count
                          ? *o.attribute_count
                          : EnvCount({"OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "OTEL_ATTRIBUTE_COUNT_LIMIT"}).value_or(128);
  l.attribute_value_length =
      o.attribute_value_length
          ? *o.attribute_value_length
          : EnvCount({"OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT"})
                .value_or(SpanLimits::kUnlimited);
  l.event_count = o.event_count ? *o.event_count : EnvCount({"OTEL_SPAN_EVENT_COUNT_LIMIT"}).value_or(128);
  l.link_count = o.link_count ? *o.link_count : EnvCount({"OTEL_SPAN_LINK_COUNT_LIMIT"}).value_or(128);
  l.attributes_per_event = o.attributes_per_event
                               ? *o.attributes_per_event
                               : EnvCount({"OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT"}).value_or(128);
  l.attributes_per_link = o.attributes_per_link
                              ? *o.attributes_per_link
                              : EnvCount({"OTEL_LINK_ATTRIBUTE_COUNT_LIMIT"}).value_or(128);
  return l;
}

}  // namespace otelweb
