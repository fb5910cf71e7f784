// Trace and span ids, and W3C tracestate.
#include "otelweb/trace/span_context.h"

#include <atomic>
#include <new>
#include <string>
#include <vector>

#include "core/hex.h"

namespace otelweb {

namespace {

bool ParseHexBytes(std::string_view hex, uint8_t* out, size_t n) noexcept {
  if (hex.size() != n * 2) return false;
  uint64_t bad = 0;
  for (size_t i = 0; i < n; i += 8) internal::hex::Decode8(hex.data() + 2 * i, out + i, bad);
  return bad == 0;
}

void ToHexBytes(const uint8_t* in, size_t n, char* out) noexcept {
  for (size_t i = 0; i < n; i += 8) internal::hex::Encode8(in + i, out + 2 * i);
}

}  // namespace

std::optional<TraceId> TraceId::FromHex(std::string_view hex) noexcept {
  TraceId t;
  if (!ParseHexBytes(hex, t.b_.data(), 16)) return std::nullopt;
  return t;
}


uint64_t TraceId::Low64() const noexcept {
  uint64_t v = 0;
  for (int i = 8; i < 16; ++i) v = (v << 8) | b_[i];
  return v;
}

void TraceId::ToHex(char out[32]) const noexcept { ToHexBytes(b_.data(), 16, out); }
std::string TraceId::ToHex() const {
  std::string s(32, '0');
  ToHex(s.data());
  return s;
}

std::optional<SpanId> SpanId::FromHex(std::string_view hex) noexcept {
  SpanId s;
  if (!ParseHexBytes(hex, s.b_.data(), 8)) return std::nullopt;
  return s;
}

void SpanId::ToHex(char out[16]) const noexcept { ToHexBytes(b_.data(), 8, out); }
std::string SpanId::ToHex() const {
  std::string s(16, '0');
  ToHex(s.data());
  return s;
}

// ---------------------------------------------------------------------------
// TraceState

struct TraceState::Rep {
  std::atomic<int> refs{1};
  std::string header;  // canonical "k=v,k=v"
  size_t members = 0;
};

void TraceState::Ref() const noexcept { rep_->refs.fetch_add(1, std::memory_order_relaxed); }

void TraceState::Drop(Rep* rep) noexcept {
  if (rep->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete rep;
}

size_t TraceState::size() const noexcept { return rep_ ? rep_->members : 0; }
std::string_view TraceState::header() const noexcept {
  return rep_ ? std::string_view(rep_->header) : std::string_view();
}

namespace {

bool IsLcAlpha(char c) { return c >= 'a' && c <= 'z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsKeyChar(char c) {
  return IsLcAlpha(c) || IsDigit(c) || c == '_' || c == '-' || c == '*' || c == '/' || c == '@';
}

// W3C Trace Context Level 2 (the 2020 key change, kept in every later draft):
//   key = ( lcalpha / DIGIT ) 0*255 ( keychar )
//   keychar = lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@"
// '@' is an ordinary key character: no tenant/system split, no length split.
bool ValidKey(std::string_view k) {
  if (k.empty() || k.size() > 256) return false;
  if (!IsLcAlpha(k[0]) && !IsDigit(k[0])) return false;
  for (char c : k.substr(1)) {
    if (!IsKeyChar(c)) return false;
  }
  return true;
}

// value = 0*255(chr) nblk-chr; chr = %x20 / nblk-chr; nblk-chr = %x21-2B / %x2D-3C / %x3E-7E
bool ValidValue(std::string_view v) {
  if (v.empty() || v.size() > 256) return false;
  for (char c : v) {
    if (c < 0x20 || c > 0x7E || c == ',' || c == '=') return false;
  }
  return v.back() != ' ';
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

bool TraceState::IsValidKey(std::string_view key) noexcept { return ValidKey(key); }
bool TraceState::IsValidValue(std::string_view value) noexcept { return ValidValue(value); }

TraceState TraceState::FromCanonical(std::string canonical) {
  if (canonical.empty()) return TraceState();
  auto* rep = new (std::nothrow) Rep;
  if (rep == nullptr) return TraceState();
  rep->header = std::move(canonical);
  size_t n = 1;
  for (char c : rep->header) n += c == ',';
  rep->members = n;
  return TraceState(rep);
}

TraceState TraceState::FromHeader(std::string_view header) {
  // Member by member (W3C Trace Context Level 2, "tracestate Header Field
  // Values"): empty and whitespace-only members are skipped; a member that is
  // not key=value with a valid key and value is dropped on its own, and the
  // others are kept in order; of repeated keys the first occurrence is kept
  // (the Level 2 draft lets a vendor keep or discard duplicates). More than 32
  // valid members: the header is discarded, as the W3C test suite expects.
  try {
    std::vector<std::pair<std::string_view, std::string_view>> members;
    std::string_view rest = header;
    while (true) {
      size_t comma = rest.find(',');
      std::string_view m = TrimOws(rest.substr(0, comma));
      if (!m.empty()) {
        size_t eq = m.find('=');
        if (eq != std::string_view::npos) {
          std::string_view k = m.substr(0, eq), v = m.substr(eq + 1);
          bool keep = ValidKey(k) && ValidValue(v);
          for (auto& e : members) {
            if (!keep) break;
            if (e.first == k) keep = false;  // a later duplicate
          }
          if (keep) {
            members.emplace_back(k, v);
            if (members.size() > kMaxMembers) return TraceState();
          }
        }
      }
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
    std::string canonical;
    canonical.reserve(header.size());
    for (auto& e : members) {
      if (!canonical.empty()) canonical += ',';
      canonical.append(e.first).append("=").append(e.second);
    }
    return FromCanonical(std::move(canonical));
  } catch (...) {
    return TraceState();
  }
}

std::string_view TraceState::Get(std::string_view key) const noexcept {
  std::string_view found;
  ForEach([&](std::string_view k, std::string_view v) {
    if (k == key) {
      found = v;
      return false;
    }
    return true;
  });
  return found;
}

TraceState TraceState::Set(std::string_view key, std::string_view value) const {
  if (!ValidKey(key) || !ValidValue(value)) return *this;
  std::string out;
  out.append(key).append("=").append(value);
  size_t n = 1;
  ForEach([&](std::string_view k, std::string_view v) {
    if (k == key) return true;
    if (n == kMaxMembers) return false;  // the right-most members fall off
    out.append(",").append(k).append("=").append(v);
    ++n;
    return true;
  });
  return FromCanonical(std::move(out));
}

TraceState TraceState::Delete(std::string_view key) const {
  std::string out;
  bool removed = false;
  ForEach([&](std::string_view k, std::string_view v) {
    if (k == key) {
      removed = true;
      return true;
    }
    if (!out.empty()) out += ',';
    out.append(k).append("=").append(v);
    return true;
  });
  if (!removed) return *this;
  return FromCanonical(std::move(out));
}

}  // namespace otelweb
