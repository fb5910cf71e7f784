// Private to the logs library: process-wide counters and the recursion flag.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "core/export_counters.h"
#include "otelweb/logs/log_record.h"

namespace otelweb::logs::internal {

struct LogsGlobals {
  std::atomic<uint64_t> filtered{0}, recursive{0};
};
LogsGlobals& Globals() noexcept;
// Process-wide mirror of the batch log record processors' counters (its
// dropped_queue_full is LogsSdkCounters::dropped_queue_full).
otelweb::internal::ExportCounters& QueueMirror() noexcept;
bool& EmittingFlag() noexcept;

// Appends an array body as [a, b] and a map body as {k: v, ...}, nested,
// with `scalar` writing each scalar (the console formats' own style).
void AppendStructuredBody(std::string& out, const BodyView& v, void (*scalar)(std::string&, const AttributeValue&));

inline void Add(std::atomic<uint64_t>& c, uint64_t n) noexcept { c.fetch_add(n, std::memory_order_relaxed); }

}  // namespace otelweb::logs::internal
