// Private to the spdlog bridge: the span context the async logger's worker
// carries from the thread that called log(), read by the sink and the pattern
// flags.
#pragma once

#include "otelweb/trace/span_context.h"

namespace otelweb::spdlog_bridge::internal {

// Non-null only on the async worker while it runs the sinks for a message.
const SpanContext* CarriedSpanContext() noexcept;
void SetCarriedSpanContext(const SpanContext* sc) noexcept;
// The carried context if any, else the calling thread's current one.
const SpanContext& EffectiveSpanContext() noexcept;

}  // namespace otelweb::spdlog_bridge::internal
