// RFC 9110 §5.6.2 tokens: what HTTP field names (and W3C Baggage keys, which
// reuse the grammar) are made of. One definition for every check of them.
#pragma once

#include <string_view>

namespace otelweb::internal {

// True for an RFC 9110 tchar: a letter, a digit or one of !#$%&'*+-.^_`|~
// (visible ASCII without the delimiters "(),/:;<=>?@[\]{} and DQUOTE). A
// space, a tab, a control byte or a byte >= 0x80 is not one. Pure.
inline bool IsTokenChar(unsigned char c) noexcept {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

// True when `s` is a token: one or more tchars. Pure.
inline bool IsToken(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (!IsTokenChar(c)) return false;
  }
  return true;
}

}  // namespace otelweb::internal
