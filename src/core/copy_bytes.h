// A byte copy for the short strings of telemetry (attribute keys and values,
// span names): used by span recording (src/core) and the OTLP encoders
// (src/otlp/wire.h). Header-only; no state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace otelweb::internal {

// Copies n bytes; up to 32 without a call (overlapping word moves): keys
// and most attribute values are that short.
[[gnu::always_inline]] inline void CopyBytes(char* d, const char* s, size_t n) noexcept {
  if (n <= 16) {
    if (n >= 8) {
      uint64_t a, b;
      std::memcpy(&a, s, 8);
      std::memcpy(&b, s + n - 8, 8);
      std::memcpy(d, &a, 8);
      std::memcpy(d + n - 8, &b, 8);
    } else if (n >= 4) {
      uint32_t a, b;
      std::memcpy(&a, s, 4);
      std::memcpy(&b, s + n - 4, 4);
      std::memcpy(d, &a, 4);
      std::memcpy(d + n - 4, &b, 4);
    } else if (n != 0) {
      d[0] = s[0];
      d[n / 2] = s[n / 2];
      d[n - 1] = s[n - 1];
    }
  } else if (n <= 32) {
    uint64_t a, b, c, e;
    std::memcpy(&a, s, 8);
    std::memcpy(&b, s + 8, 8);
    std::memcpy(&c, s + n - 16, 8);
    std::memcpy(&e, s + n - 8, 8);
    std::memcpy(d, &a, 8);
    std::memcpy(d + 8, &b, 8);
    std::memcpy(d + n - 16, &c, 8);
    std::memcpy(d + n - 8, &e, 8);
  } else {
    std::memcpy(d, s, n);
  }
}

}  // namespace otelweb::internal
