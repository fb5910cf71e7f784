// traceparent: parsing never crashes, and what parses re-formats to a value
// that parses to the same context.
#include <cstdlib>
#include <string_view>

#include "otelweb/propagation.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  otelweb::SpanContext sc;
  if (!otelweb::ParseTraceparent(in, &sc)) return 0;
  if (!sc.IsValid()) std::abort();
  char buf[55];
  otelweb::FormatTraceparent(sc, buf);
  otelweb::SpanContext again;
  if (!otelweb::ParseTraceparent(std::string_view(buf, 55), &again)) std::abort();
  if (!(again.trace_id() == sc.trace_id()) || !(again.span_id() == sc.span_id()) ||
      again.flags().value != sc.flags().value) {
    std::abort();
  }
  return 0;
}
