// Carriers over header values a framework percent-decoded: what the
// propagators may still be given (see PercentDecodedHeaderReader).
#include <string>
#include <vector>

#include "core/http_token.h"
#include "otelweb/http/headers.h"
#include "otelweb/trace/span_context.h"

namespace otelweb::http {

namespace {

bool IsOws(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view TrimOws(std::string_view s) noexcept {
  while (!s.empty() && IsOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsOws(s.back())) s.remove_suffix(1);
  return s;
}

// W3C Baggage: baggage-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E.
bool IsBaggageOctet(unsigned char c) noexcept {
  return c == 0x21 || (c >= 0x23 && c <= 0x2B) || (c >= 0x2D && c <= 0x3A) ||
         (c >= 0x3C && c <= 0x5B) || (c >= 0x5D && c <= 0x7E);
}

void AppendBaggageEncoded(std::string& out, std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : value) {
    if (IsBaggageOctet(c) && c != '%') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
}

// Splits a decoded list header at ',' and keeps the members `accept` takes
// (given each non-blank piece untrimmed; it appends what it keeps to `out`).
// A piece `accept` calls a fragment (what a decoded ',' cut off a value) is
// dropped with the member taken from the piece just before it.
enum class Verdict { kKeep, kDrop, kFragment };
template <typename Accept>
std::string RebuildList(std::string_view decoded, Accept accept) {
  std::string out;
  out.reserve(decoded.size());
  bool previous_kept = false;
  size_t previous_begin = 0;
  while (true) {
    size_t comma = decoded.find(',');
    std::string_view piece = decoded.substr(0, comma);
    if (!TrimOws(piece).empty()) {
      size_t before = out.size();
      Verdict v = accept(piece, out);
      if (v == Verdict::kKeep) {
        previous_kept = true;
        previous_begin = before;
      } else {
        out.resize(before);
        // Remove the previous member (with the ',' accept put before it).
        if (v == Verdict::kFragment && previous_kept) out.resize(previous_begin);
        previous_kept = false;
      }
    } else {
      previous_kept = false;
    }
    if (comma == std::string_view::npos) break;
    decoded.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace

bool HasControlCharacter(std::string_view value) noexcept {
  for (unsigned char c : value) {
    if ((c < 0x20 && c != '\t') || c == 0x7F) return true;
  }
  return false;
}

bool DecodedTraceparentUsable(std::string_view decoded) noexcept {
  if (decoded.empty() || IsOws(decoded.front()) || IsOws(decoded.back())) return false;
  for (unsigned char c : decoded) {
    if (c < 0x21 || c > 0x7E || c == '%') return false;
  }
  return true;
}

std::string TracestateFromDecoded(std::string_view decoded) {
  return RebuildList(decoded, [](std::string_view piece, std::string& out) {
    std::string_view m = TrimOws(piece);  // OWS around list members
    size_t eq = m.find('=');
    if (eq == std::string_view::npos) return Verdict::kFragment;
    std::string_view key = m.substr(0, eq), value = m.substr(eq + 1);
    if (!TraceState::IsValidKey(key)) return Verdict::kFragment;
    if (!TraceState::IsValidValue(value) || value.find('%') != std::string_view::npos) {
      return Verdict::kDrop;
    }
    if (!out.empty()) out.push_back(',');
    out.append(m);
    return Verdict::kKeep;
  });
}

std::string BaggageFromDecoded(std::string_view decoded) {
  return RebuildList(decoded, [](std::string_view piece, std::string& out) {
    std::string_view m = piece;
    while (!m.empty() && IsOws(m.front())) m.remove_prefix(1);
    size_t eq = m.find('=');
    size_t semi = m.find(';');
    if (eq == std::string_view::npos || (semi != std::string_view::npos && semi < eq)) {
      return Verdict::kFragment;
    }
    std::string_view key = TrimOws(m.substr(0, eq));
    if (!otelweb::internal::IsToken(key)) return Verdict::kFragment;
    // Properties: the ';' may have been sent as "%3B" inside the value.
    if (semi != std::string_view::npos) return Verdict::kDrop;
    // Whitespace next to the value: OWS as sent, or a decoded "%20" that
    // belongs to the value? Refused.
    std::string_view value = m.substr(eq + 1);
    if (!value.empty() && (IsOws(value.front()) || IsOws(value.back()))) return Verdict::kDrop;
    if (!out.empty()) out.push_back(',');
    out.append(key).push_back('=');
    AppendBaggageEncoded(out, value);
    return Verdict::kKeep;
  });
}

std::string_view PercentDecodedHeaderReader::Get(std::string_view key,
                                                 std::string& scratch) const noexcept {
  std::string_view v = decoded_.Get(key, scratch);
  if (v.empty()) return v;
  try {
    if (key == "traceparent") return DecodedTraceparentUsable(v) ? v : std::string_view();
    if (key == "tracestate") {
      std::string rebuilt = TracestateFromDecoded(v);
      scratch = std::move(rebuilt);
      return scratch;
    }
    if (key == "baggage") {
      std::string rebuilt = BaggageFromDecoded(v);
      scratch = std::move(rebuilt);
      return scratch;
    }
    return HasControlCharacter(v) ? std::string_view() : v;
  } catch (...) {
    return {};
  }
}

}  // namespace otelweb::http
