#include "core/utf8.h"

#include <cstdint>
#include <cstring>

namespace otelweb {

namespace {

// Length of the valid sequence starting at s[i], or 0 if invalid.
size_t ValidSeq(const unsigned char* s, size_t n, size_t i) noexcept {
  unsigned char c = s[i];
  if (c < 0x80) return 1;
  auto cont = [&](size_t k) { return i + k < n && (s[i + k] & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    unsigned char c1 = s[i + 1];
    if (c == 0xE0 && c1 < 0xA0) return 0;  // overlong
    if (c == 0xED && c1 > 0x9F) return 0;  // surrogates
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    unsigned char c1 = s[i + 1];
    if (c == 0xF0 && c1 < 0x90) return 0;  // overlong
    if (c == 0xF4 && c1 > 0x8F) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

}  // namespace

bool IsValidUtf8(std::string_view sv) noexcept {
  const auto* s = reinterpret_cast<const unsigned char*>(sv.data());
  size_t n = sv.size(), i = 0;
  while (i < n) {
    if (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, s + i, 8);
      if ((w & 0x8080808080808080ull) == 0) {
        i += 8;
        continue;
      }
    }
    size_t k = ValidSeq(s, n, i);
    if (k == 0) return false;
    i += k;
  }
  return true;
}

void AppendSanitizedUtf8(std::string& out, std::string_view sv) {
  if (IsValidUtf8(sv)) {
    out.append(sv);
    return;
  }
  const auto* s = reinterpret_cast<const unsigned char*>(sv.data());
  size_t n = sv.size(), i = 0;
  while (i < n) {
    size_t k = ValidSeq(s, n, i);
    if (k == 0) {
      out.append("\xEF\xBF\xBD");
      ++i;
    } else {
      out.append(sv.data() + i, k);
      i += k;
    }
  }
}

}  // namespace otelweb
