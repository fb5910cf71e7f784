// Lowercase hexadecimal encoding and decoding, eight bytes at a time: in
// 16-byte SSE2 vectors on x86-64, in 64-bit registers elsewhere (SWAR); no
// table, no branch per character. Used for W3C
// traceparent and for trace and span ids in text.
//
// Decoding accepts exactly '0'-'9' and 'a'-'f' (W3C Trace Context rejects
// uppercase). Private to the tracing core.
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace otelweb::internal::hex {

inline uint64_t Load64LE(const void* p) noexcept {
  uint64_t v;
  std::memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  return v;
}

inline void Store64LE(void* p, uint64_t v) noexcept {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  std::memcpy(p, &v, 8);
}

inline void Store32LE(void* p, uint32_t v) noexcept {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap32(v);
#endif
  std::memcpy(p, &v, 4);
}

constexpr uint64_t kOnes = 0x0101010101010101ull;
constexpr uint64_t kHigh = 0x8080808080808080ull;

// The values of eight hex characters (character i in byte i), or sets `bad`
// to a non-zero value if one of them is not a lowercase hex digit.
inline uint64_t Nibbles8(uint64_t x, uint64_t& bad) noexcept {
  // For bytes below 0x80 (checked through `x & kHigh`), adding c to a byte
  // never carries into the next one, and its top bit tells "byte >= 0x80 - c".
  const uint64_t ge_0 = x + kOnes * (0x80 - '0');
  const uint64_t gt_9 = x + kOnes * (0x7F - '9');
  const uint64_t ge_a = x + kOnes * (0x80 - 'a');
  const uint64_t gt_f = x + kOnes * (0x7F - 'f');
  const uint64_t digit = ge_0 & ~gt_9;
  const uint64_t letter = ge_a & ~gt_f;
  bad |= ((digit | letter) & kHigh) ^ kHigh;
  bad |= x & kHigh;
  // '0'..'9' -> low nibble; 'a'..'f' -> low nibble (1..6) + 9.
  const uint64_t is_letter = (letter & kHigh) >> 7;
  return (x & (kOnes * 0x0F)) + is_letter * 9;
}

// Decodes 16 hex characters into 8 bytes (out[0] from p[0..1]); sets `bad`
// non-zero on a character outside [0-9a-f]. `out` is written either way.
inline void Decode8Swar(const char* p, uint8_t* out, uint64_t& bad) noexcept {
  uint32_t half[2];
  for (int k = 0; k < 2; ++k) {
    const uint64_t n = Nibbles8(Load64LE(p + 8 * k), bad);
    // Byte 2j gets (n[2j] << 4) | n[2j+1]; then the even bytes are packed.
    uint64_t v = ((n << 4) | (n >> 8)) & 0x00FF00FF00FF00FFull;
    v = (v | (v >> 8)) & 0x0000FFFF0000FFFFull;
    v = (v | (v >> 16)) & 0x00000000FFFFFFFFull;
    half[k] = static_cast<uint32_t>(v);
  }
  Store32LE(out, half[0]);
  Store32LE(out + 4, half[1]);
}

// Encodes 4 bytes as 8 lowercase hex characters.
inline uint64_t Encode4(uint32_t x) noexcept {
  // Byte i of x (in memory order) goes to the 16-bit lane i.
  uint64_t v = x;
  v = (v | (v << 16)) & 0x0000FFFF0000FFFFull;
  v = (v | (v << 8)) & 0x00FF00FF00FF00FFull;
  // Lane i: low byte = high nibble (printed first), high byte = low nibble.
  const uint64_t n = ((v >> 4) & 0x000F000F000F000Full) | ((v & 0x000F000F000F000Full) << 8);
  const uint64_t letter = ((n + kOnes * 6) >> 4) & kOnes;  // nibble >= 10
  return n + kOnes * '0' + letter * ('a' - '0' - 10);
}

// Encodes 8 bytes as 16 lowercase hex characters.
inline void Encode8Swar(const uint8_t* in, char* out) noexcept {
  uint32_t a, b;
  std::memcpy(&a, in, 4);
  std::memcpy(&b, in + 4, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  a = __builtin_bswap32(a);
  b = __builtin_bswap32(b);
#endif
  Store64LE(out, Encode4(a));
  Store64LE(out + 8, Encode4(b));
}

#if defined(__SSE2__)
// The same with 16-byte vectors (SSE2 is part of x86-64).
inline void Decode8(const char* p, uint8_t* out, uint64_t& bad) noexcept {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  // Signed compares: bytes >= 0x80 are negative and fall in neither range.
  const __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)),
                                      _mm_cmplt_epi8(v, _mm_set1_epi8('9' + 1)));
  const __m128i letter = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('a' - 1)),
                                       _mm_cmplt_epi8(v, _mm_set1_epi8('f' + 1)));
  bad |= static_cast<uint64_t>(_mm_movemask_epi8(_mm_or_si128(digit, letter)) ^ 0xFFFF);
  const __m128i n =
      _mm_add_epi8(_mm_and_si128(v, _mm_set1_epi8(0x0F)), _mm_and_si128(letter, _mm_set1_epi8(9)));
  // 16-bit lane j holds character 2j (low byte) and 2j+1 (high byte).
  const __m128i hi = _mm_slli_epi16(_mm_and_si128(n, _mm_set1_epi16(0x00FF)), 4);
  const __m128i lo = _mm_srli_epi16(n, 8);
  const __m128i bytes = _mm_packus_epi16(_mm_or_si128(hi, lo), _mm_setzero_si128());
  _mm_storel_epi64(reinterpret_cast<__m128i*>(out), bytes);
}

inline void Encode8(const uint8_t* in, char* out) noexcept {
  const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(in));
  const __m128i mask = _mm_set1_epi8(0x0F);
  const __m128i hi = _mm_and_si128(_mm_srli_epi16(b, 4), mask);
  const __m128i lo = _mm_and_si128(b, mask);
  const __m128i n = _mm_unpacklo_epi8(hi, lo);  // high nibble first
  const __m128i letter =
      _mm_and_si128(_mm_cmpgt_epi8(n, _mm_set1_epi8(9)), _mm_set1_epi8('a' - '0' - 10));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out),
                   _mm_add_epi8(_mm_add_epi8(n, _mm_set1_epi8('0')), letter));
}
#else
inline void Decode8(const char* p, uint8_t* out, uint64_t& bad) noexcept {
  Decode8Swar(p, out, bad);
}
inline void Encode8(const uint8_t* in, char* out) noexcept { Encode8Swar(in, out); }
#endif

}  // namespace otelweb::internal::hex
