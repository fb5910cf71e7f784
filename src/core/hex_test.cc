// The wide hex decoder and encoder (core/hex.h) against a one-character-at-a-time
// reference: every byte value in every position, and every non-hex character
// in every position.
#include "core/hex.h"

#include <gtest/gtest.h>

#include <string>

namespace otelweb::internal::hex {
namespace {

int RefDigit(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

TEST(Hex, EncodesEveryByteInEveryPositionLikeTheReference) {
  for (int pos = 0; pos < 8; ++pos) {
    for (int b = 0; b < 256; ++b) {
      uint8_t in[8] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
      in[pos] = static_cast<uint8_t>(b);
      std::string want;
      for (uint8_t x : in) {
        want += "0123456789abcdef"[x >> 4];
        want += "0123456789abcdef"[x & 15];
      }
      char out[16], out_swar[16];
      Encode8(in, out);
      Encode8Swar(in, out_swar);
      EXPECT_EQ(std::string(out, 16), want) << pos << " " << b;
      EXPECT_EQ(std::string(out_swar, 16), want) << pos << " " << b;
    }
  }
}

TEST(Hex, DecodesValidAndRejectsEveryOtherCharacterInEveryPosition) {
  const std::string base = "0123456789abcdef";
  for (int pos = 0; pos < 16; ++pos) {
    for (int c = 0; c < 256; ++c) {
      std::string s = base;
      s[pos] = static_cast<char>(c);
      const bool valid = RefDigit(static_cast<unsigned char>(c)) >= 0;
      uint8_t out[8], out_swar[8];
      uint64_t bad = 0, bad_swar = 0;
      Decode8(s.data(), out, bad);
      Decode8Swar(s.data(), out_swar, bad_swar);
      EXPECT_EQ(bad == 0, valid) << pos << " " << c;
      EXPECT_EQ(bad_swar == 0, valid) << pos << " " << c;
      if (!valid) continue;
      for (int i = 0; i < 8; ++i) {
        const int want = RefDigit(static_cast<unsigned char>(s[2 * i])) * 16 +
                         RefDigit(static_cast<unsigned char>(s[2 * i + 1]));
        EXPECT_EQ(out[i], want) << pos << " " << c << " " << i;
        EXPECT_EQ(out_swar[i], want) << pos << " " << c << " " << i;
      }
    }
  }
}

TEST(Hex, RoundTripsEveryByteValue) {
  for (int b = 0; b < 256; ++b) {
    uint8_t in[8];
    for (int i = 0; i < 8; ++i) in[i] = static_cast<uint8_t>(b + 37 * i);
    char text[16];
    Encode8(in, text);
    uint8_t back[8];
    uint64_t bad = 0;
    Decode8(text, back, bad);
    EXPECT_EQ(bad, 0u);
    for (int i = 0; i < 8; ++i) EXPECT_EQ(back[i], in[i]);
  }
}

}  // namespace
}  // namespace otelweb::internal::hex
