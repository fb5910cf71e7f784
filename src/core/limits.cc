// Span limits and batch processor options: code > environment > default.
#include <string>

#include "core/config.h"
#include "otelweb/diagnostics.h"
#include "otelweb/trace/simple_span_processor.h"
#include "otelweb/trace/batch_span_processor.h"
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

ResolvedBatchOptions ResolveBatchOptions(const BatchOptions& o) {
  ResolvedBatchOptions r;
  auto positive = [](const char* name, int64_t max) -> std::optional<int64_t> {
    return config::GetInt(name, 1, max);
  };
  if (o.max_queue_size && *o.max_queue_size > 0) {
    r.max_queue_size = *o.max_queue_size;
  } else if (auto v = positive("OTEL_BSP_MAX_QUEUE_SIZE", 1 << 26)) {
    r.max_queue_size = static_cast<uint32_t>(*v);
  }
  if (o.schedule_delay && o.schedule_delay->count() > 0) {
    r.schedule_delay = *o.schedule_delay;
  } else if (auto v = positive("OTEL_BSP_SCHEDULE_DELAY", int64_t{1} << 40)) {
    r.schedule_delay = std::chrono::milliseconds(*v);
  }
  if (o.max_export_batch_size && *o.max_export_batch_size > 0) {
    r.max_export_batch_size = *o.max_export_batch_size;
  } else if (auto v = positive("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 1 << 26)) {
    r.max_export_batch_size = static_cast<uint32_t>(*v);
  }
  if (o.export_timeout && o.export_timeout->count() > 0) {
    r.export_timeout = *o.export_timeout;
  } else if (auto v = positive("OTEL_BSP_EXPORT_TIMEOUT", int64_t{1} << 40)) {
    r.export_timeout = std::chrono::milliseconds(*v);
  }
  if (r.max_export_batch_size > r.max_queue_size) {
    Log(LogLevel::kWarning, "batch size " + std::to_string(r.max_export_batch_size) +
                                " is larger than the queue size " + std::to_string(r.max_queue_size) +
                                "; using the queue size");
    r.max_export_batch_size = r.max_queue_size;
  }
  return r;
}

}  // namespace otelweb
