// OTEL_RESOURCE_ATTRIBUTES and the scalar/list parsers used for every OTEL_* variable.
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/config.h"
#include "otelweb/diagnostics.h"
#include "otelweb/propagation.h"
#include "otelweb/resource.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> errors;
  for (const auto& kv : otelweb::ParseResourceAttributes(in, &errors)) {
    if (kv.key.empty()) std::abort();
  }
  bool b;
  int64_t i;
  double d;
  std::string s;
  (void)otelweb::config::ParseBool(in, &b);
  (void)otelweb::config::ParseInt(in, &i);
  (void)otelweb::config::ParseDouble(in, &d);
  if (otelweb::config::PercentDecode(in, &s) && s.size() > in.size()) std::abort();
  for (const auto& item : otelweb::config::SplitList(in)) {
    if (item.empty()) std::abort();
  }
  otelweb::LogLevel l;
  (void)otelweb::ParseLogLevel(in, &l);
  otelweb::SetLogLevel(otelweb::LogLevel::kNone);  // unknown propagator names would warn
  (void)otelweb::MakePropagators(in);
  return 0;
}
