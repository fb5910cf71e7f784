// baggage: never crashes; limits hold; encoding then decoding keeps values.
#include <cstdlib>
#include <string>
#include <string_view>

#include "otelweb/baggage.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  otelweb::Baggage b = otelweb::Baggage::FromHeader(in);
  if (b.size() > otelweb::Baggage::kMaxMembers) std::abort();
  std::string h = b.ToHeader();
  if (h.size() > otelweb::Baggage::kMaxTotalBytes) std::abort();
  otelweb::Baggage back = otelweb::Baggage::FromHeader(h);
  // Every member that fitted in the header comes back with its value.
  back.ForEach([&](std::string_view name, std::string_view value, std::string_view) {
    if (b.Get(name) != value) std::abort();
    return true;
  });
  return 0;
}
