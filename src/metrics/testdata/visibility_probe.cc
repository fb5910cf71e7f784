// A plugin built as a hardened package builds its code (-fvisibility=hidden;
// see src/metrics/CMakeLists.txt) that reads, inline, the thread-locals the
// library writes. Loaded by lookup_test.cc
// (MetricLookup.AHiddenVisibilityPluginReadsTheLibrarysThreadLocals): with
// the variables hidden it would read copies of its own.
#include <cstdint>

#include "otelweb/context.h"
#include "otelweb/metrics/instruments.h"

extern "C" [[gnu::visibility("default")]] bool otelweb_probe_sampled_span_current() {
  return otelweb::detail::t_sampled_span_current;
}

extern "C" [[gnu::visibility("default")]] uint32_t otelweb_probe_stripe() {
  return otelweb::metrics::detail::t_stripe;
}
