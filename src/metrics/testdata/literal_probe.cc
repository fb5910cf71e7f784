// A plugin whose string literals an application passes as attribute keys and
// values, then unloads: built twice (src/metrics/CMakeLists.txt) with literals
// of the same lengths and other bytes, so that the second one loaded after
// the first was unloaded may sit at the same addresses. Loaded by
// lookup_test.cc (MetricLookup.AnUnloadedPluginsLiteralsAreComparedByContent).
#include <cstddef>

extern "C" [[gnu::visibility("default")]] const char* otelweb_probe_key(size_t* n) {
  static constexpr char kKey[] = "plugin.route";
  *n = sizeof kKey - 1;
  return kKey;
}

extern "C" [[gnu::visibility("default")]] const char* otelweb_probe_value(size_t* n) {
  static constexpr char kValue[] = OTELWEB_PROBE_VALUE;
  *n = sizeof kValue - 1;
  return kValue;
}
