// tracestate: never crashes; a parsed state's canonical header parses back
// to the same state, within the member limit.
#include <cstdlib>
#include <string_view>

#include "otelweb/trace/span_context.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  otelweb::TraceState ts = otelweb::TraceState::FromHeader(in);
  if (ts.size() > otelweb::TraceState::kMaxMembers) std::abort();
  otelweb::TraceState again = otelweb::TraceState::FromHeader(ts.header());
  if (!(again == ts)) std::abort();
  if (!ts.empty()) {
    otelweb::TraceState set = ts.Set("fuzz", "1");
    if (set.size() > otelweb::TraceState::kMaxMembers || set.Get("fuzz") != "1") std::abort();
  }
  return 0;
}
