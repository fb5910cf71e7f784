// Protobuf wire-format primitives for the OTLP encoder, and a minimal reader
// for the few messages the exporter reads back (ExportTraceServiceResponse,
// google.rpc.Status / RetryInfo).
//
// Ownership: WireBuffer owns a std::string it reuses between messages.
// Thread-safety: none (one per encoder).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "core/copy_bytes.h"

namespace otelweb::otlp::internal {

inline size_t VarintSize(uint64_t v) noexcept {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// Bits that are set in a word when one of its bytes is not ASCII.
constexpr uint64_t kNonAsciiBits = 0x8080808080808080ull;

// True when every byte of `s` is ASCII: overlapping word loads, no byte loop.
[[gnu::always_inline]] inline bool IsAscii(std::string_view s) noexcept {
  const char* p = s.data();
  const size_t n = s.size();
  uint64_t acc = 0;
  if (n >= 8) {
    uint64_t w;
    for (size_t i = 0; i + 8 <= n; i += 8) {
      std::memcpy(&w, p + i, 8);
      acc |= w;
    }
    std::memcpy(&w, p + n - 8, 8);
    acc |= w;
  } else if (n >= 4) {
    uint32_t a, b;
    std::memcpy(&a, p, 4);
    std::memcpy(&b, p + n - 4, 4);
    acc = a | b;
  } else if (n != 0) {
    acc = uint8_t(p[0]) | uint8_t(p[n / 2]) | uint8_t(p[n - 1]);
  }
  return (acc & kNonAsciiBits) == 0;
}

// Moves one word of type W from s + off to d + off and returns it, widened.
template <typename W>
[[gnu::always_inline]] inline uint64_t MoveWord(char* d, const char* s, size_t off) noexcept {
  W w;
  std::memcpy(&w, s + off, sizeof(W));
  std::memcpy(d + off, &w, sizeof(W));
  return w;
}

// Copies n bytes (as otelweb::internal::CopyBytes) and returns the OR of
// the words it moved: `(result & kNonAsciiBits) == 0` when all n bytes are
// ASCII. The encoder checks and copies a string in one read this way.
[[gnu::always_inline]] inline uint64_t CopyAndOr(char* d, const char* s, size_t n) noexcept {
  if (n > 128) {
    std::memcpy(d, s, n);
    return IsAscii(std::string_view(s, n)) ? 0 : kNonAsciiBits;
  }
  if (n >= 8) {  // 8-byte words: first, last (overlapping), any between
    uint64_t acc = MoveWord<uint64_t>(d, s, 0) | MoveWord<uint64_t>(d, s, n - 8);
    for (size_t i = 8; i + 8 < n; i += 8) acc |= MoveWord<uint64_t>(d, s, i);
    return acc;
  }
  if (n >= 4) return MoveWord<uint32_t>(d, s, 0) | MoveWord<uint32_t>(d, s, n - 4);
  if (n == 0) return 0;
  return MoveWord<uint8_t>(d, s, 0) | MoveWord<uint8_t>(d, s, n / 2) | MoveWord<uint8_t>(d, s, n - 1);
}

class WireBuffer {
 public:
  void Clear() noexcept { n_ = 0; }
  size_t size() const noexcept { return n_; }

  [[gnu::always_inline]] void Reserve(size_t k) {
    if (__builtin_expect(n_ + k > s_.size(), 0)) Grow(n_ + k);
  }
  // Within the capacity (Finish() cut the string to the last message) the
  // string grows by at most 4 KiB past what is needed, so re-encoding a
  // message of about the last one's size zero-fills a few KiB, not the
  // whole spare capacity; beyond it, it doubles.
  [[gnu::noinline]] void Grow(size_t need) {
    s_.resize(need <= s_.capacity() ? std::min(s_.capacity(), need + 4096)
                                    : std::max(need, s_.size() * 2 + 1024));
  }
  [[gnu::always_inline]] void Varint(uint64_t v) {
    Reserve(10);
    char* p = s_.data() + n_;
    if (v < 0x80) {
      *p = static_cast<char>(v);
      ++n_;
      return;
    }
    while (v >= 0x80) {
      *p++ = static_cast<char>(v | 0x80);
      v >>= 7;
    }
    *p++ = static_cast<char>(v);
    n_ = static_cast<size_t>(p - s_.data());
  }
  [[gnu::always_inline]] void Fixed64(uint64_t v) {
    Reserve(8);
    std::memcpy(s_.data() + n_, &v, 8);  // little-endian hosts only (x86-64, aarch64)
    n_ += 8;
  }
  [[gnu::always_inline]] void Fixed32(uint32_t v) {
    Reserve(4);
    std::memcpy(s_.data() + n_, &v, 4);
    n_ += 4;
  }
  void Raw(const void* p, size_t len) {
    Reserve(len);
    if (len != 0) std::memcpy(s_.data() + n_, p, len);
    n_ += len;
  }
  [[gnu::always_inline]] void LenField(uint32_t tag, const void* p, size_t len) {
    Reserve(len + 16);
    char* w = s_.data() + n_;
    // Tags and short lengths are single bytes almost always.
    if (tag < 0x80 && len < 0x80) {
      w[0] = static_cast<char>(tag);
      w[1] = static_cast<char>(len);
      otelweb::internal::CopyBytes(w + 2, static_cast<const char*>(p), len);
      n_ += 2 + len;
      return;
    }
    Varint(tag);
    Varint(len);
    Raw(p, len);
  }

  // Starts a length-delimited field: writes the tag and leaves `reserved`
  // bytes for the length. Returns the offset End() needs.
  [[gnu::always_inline]] size_t Begin(uint32_t tag, size_t reserved) {
    Varint(tag);
    Reserve(reserved);
    size_t at = n_;
    n_ += reserved;
    return at;
  }
  // Writes the length of the field started at `at`, moving the body if the
  // length needs another number of bytes than was reserved.
  [[gnu::always_inline]] void End(size_t at, size_t reserved) {
    size_t body = at + reserved;
    size_t len = n_ - body;
    if (reserved == 1 && len < 0x80) {
      s_[at] = static_cast<char>(len);
      return;
    }
    size_t vs = VarintSize(len);
    if (vs != reserved) {
      if (vs > reserved) Reserve(vs - reserved);
      std::memmove(s_.data() + at + vs, s_.data() + body, len);
      n_ = at + vs + len;
    }
    char* p = s_.data() + at;
    while (len >= 0x80) {
      *p++ = static_cast<char>(len | 0x80);
      len >>= 7;
    }
    *p = static_cast<char>(len);
  }

  // Raw writing: Tail(k) reserves k bytes and returns where to write;
  // Commit(end) sets the size to `end` (which must lie within the reserve).
  [[gnu::always_inline]] char* Tail(size_t k) {
    Reserve(k);
    return s_.data() + n_;
  }
  [[gnu::always_inline]] void Commit(const char* end) { n_ = static_cast<size_t>(end - s_.data()); }
  [[gnu::always_inline]] static char* PutVarint(char* p, uint64_t v) {
    while (v >= 0x80) {
      *p++ = static_cast<char>(v | 0x80);
      v >>= 7;
    }
    *p++ = static_cast<char>(v);
    return p;
  }

  // The finished bytes (valid until the next Clear / write). Finish() cuts
  // the string to their size (its capacity stays: see Grow); View() leaves
  // the storage as it is (what the exporters use: no zero-filling at all
  // once the buffer has reached its largest message).
  const std::string& Finish() {
    s_.resize(n_);
    return s_;
  }
  std::string_view View() const noexcept { return {s_.data(), n_}; }

 private:
  std::string s_;
  size_t n_ = 0;
};

// Reads a protobuf message field by field.
class WireReader {
 public:
  explicit WireReader(std::string_view data) noexcept
      : p_(data.data()), end_(data.data() + data.size()) {}
  // Next field: false at the end or on malformed input (then ok() is false).
  bool Next(uint32_t* field, uint32_t* type) noexcept {
    if (p_ >= end_) return false;
    uint64_t tag;
    if (!ReadVarint(&tag)) return Fail();
    *field = static_cast<uint32_t>(tag >> 3);
    *type = static_cast<uint32_t>(tag & 7);
    return true;
  }
  bool ReadVarint(uint64_t* v) noexcept {
    uint64_t r = 0;
    for (int shift = 0; shift < 64 && p_ < end_; shift += 7) {
      uint8_t c = static_cast<uint8_t>(*p_++);
      r |= uint64_t(c & 0x7f) << shift;
      if ((c & 0x80) == 0) {
        *v = r;
        return true;
      }
    }
    return Fail();
  }
  bool ReadBytes(std::string_view* out) noexcept {
    uint64_t len;
    if (!ReadVarint(&len) || len > uint64_t(end_ - p_)) return Fail();
    *out = std::string_view(p_, len);
    p_ += len;
    return true;
  }
  // Skips a field of the given wire type.
  bool Skip(uint32_t type) noexcept {
    uint64_t v;
    std::string_view s;
    switch (type) {
      case 0:
        return ReadVarint(&v);
      case 1:
        return Advance(8);
      case 2:
        return ReadBytes(&s);
      case 5:
        return Advance(4);
      default:
        return Fail();
    }
  }
  bool ok() const noexcept { return ok_; }

 private:
  bool Advance(size_t n) noexcept {
    if (size_t(end_ - p_) < n) return Fail();
    p_ += n;
    return true;
  }
  bool Fail() noexcept {
    ok_ = false;
    p_ = end_;
    return false;
  }
  const char* p_;
  const char* end_;
  bool ok_ = true;
};

}  // namespace otelweb::otlp::internal
