// Identity of a span as it travels: trace id, span id, flags, trace state.
//
// Ownership: TraceId/SpanId/SpanContext are values. TraceState is an immutable,
// reference-counted list; copies share it (an atomic increment when non-empty,
// nothing when empty).
// Thread-safety: all of these are immutable once built and safe to share.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace otelweb {

// 16-byte trace id. All-zero is invalid.
class TraceId {
 public:
  constexpr TraceId() noexcept = default;
  explicit TraceId(const uint8_t (&bytes)[16]) noexcept { std::memcpy(b_.data(), bytes, 16); }
  // Big-endian: hi gives bytes 0..7, lo bytes 8..15.
  static TraceId FromWords(uint64_t hi, uint64_t lo) noexcept {
    TraceId t;
    hi = __builtin_bswap64(hi);
    lo = __builtin_bswap64(lo);
    std::memcpy(t.b_.data(), &hi, 8);
    std::memcpy(t.b_.data() + 8, &lo, 8);
    return t;
  }
  // Parses exactly 32 lowercase hex characters; nullopt otherwise.
  static std::optional<TraceId> FromHex(std::string_view hex) noexcept;

  bool IsValid() const noexcept {
    uint64_t a, b;
    std::memcpy(&a, b_.data(), 8);
    std::memcpy(&b, b_.data() + 8, 8);
    return (a | b) != 0;
  }
  const std::array<uint8_t, 16>& bytes() const noexcept { return b_; }
  // The low 8 bytes as a big-endian number (what the ratio sampler reads).
  uint64_t Low64() const noexcept;
  void ToHex(char out[32]) const noexcept;
  std::string ToHex() const;

  friend bool operator==(const TraceId& a, const TraceId& b) noexcept { return a.b_ == b.b_; }
  friend bool operator<(const TraceId& a, const TraceId& b) noexcept { return a.b_ < b.b_; }

 private:
  std::array<uint8_t, 16> b_{};
};

// 8-byte span id. All-zero is invalid.
class SpanId {
 public:
  constexpr SpanId() noexcept = default;
  explicit SpanId(const uint8_t (&bytes)[8]) noexcept { std::memcpy(b_.data(), bytes, 8); }
  static SpanId FromWord(uint64_t v) noexcept {
    SpanId s;
    v = __builtin_bswap64(v);
    std::memcpy(s.b_.data(), &v, 8);
    return s;
  }
  static std::optional<SpanId> FromHex(std::string_view hex) noexcept;

  bool IsValid() const noexcept {
    uint64_t a;
    std::memcpy(&a, b_.data(), 8);
    return a != 0;
  }
  const std::array<uint8_t, 8>& bytes() const noexcept { return b_; }
  void ToHex(char out[16]) const noexcept;
  std::string ToHex() const;

  friend bool operator==(const SpanId& a, const SpanId& b) noexcept { return a.b_ == b.b_; }

 private:
  std::array<uint8_t, 8> b_{};
};

// W3C trace flags (Trace Context Level 2, "trace-flags"): bit 0 is
// "sampled", bit 1 is "random" (the trace id's rightmost 7 bytes are random).
// Other bits have no meaning yet; the spec says to set them to zero, so
// extraction drops them and they are never sent.
struct TraceFlags {
  static constexpr uint8_t kSampled = 0x01;
  static constexpr uint8_t kRandom = 0x02;
  // The bits otelweb knows and propagates.
  static constexpr uint8_t kKnown = kSampled | kRandom;
  uint8_t value = 0;
  constexpr bool sampled() const noexcept { return (value & kSampled) != 0; }
  constexpr bool random() const noexcept { return (value & kRandom) != 0; }
};

// W3C tracestate (Trace Context Level 2): at most 32 list members, keys and
// values per the Level 2 grammar ('@' is an ordinary key character). Invalid
// input never throws: FromHeader drops the members it cannot keep, and
// Set/Delete leave the state unchanged when given invalid keys or values.
class TraceState {
 public:
  static constexpr size_t kMaxMembers = 32;

  TraceState() noexcept = default;
  TraceState(const TraceState& o) noexcept : rep_(o.rep_) {
    if (rep_ != nullptr) Ref();
  }
  TraceState(TraceState&& o) noexcept : rep_(std::exchange(o.rep_, nullptr)) {}
  // Most spans have no trace state: assignments, moves and the destructor
  // stay inline, and only a non-empty state costs a call (its reference count).
  TraceState& operator=(const TraceState& o) noexcept {
    if (rep_ != o.rep_) {
      if (o.rep_ != nullptr) o.Ref();
      Rep* old = std::exchange(rep_, o.rep_);
      if (old != nullptr) Drop(old);
    }
    return *this;
  }
  TraceState& operator=(TraceState&& o) noexcept {
    if (this != &o) {
      Rep* old = std::exchange(rep_, std::exchange(o.rep_, nullptr));
      if (old != nullptr) Drop(old);
    }
    return *this;
  }
  ~TraceState() {
    if (rep_ != nullptr) Drop(rep_);
  }

  // Parses a tracestate header value (several header lines joined by ',').
  // Empty members are skipped; an invalid member (not key=value, or a key or
  // value outside the grammar) is dropped alone and the others are kept in
  // order; of a repeated key the first occurrence is kept; with more than 32
  // valid members the whole value is discarded (the W3C test suite's choice).
  static TraceState FromHeader(std::string_view header);
  static bool IsValidKey(std::string_view key) noexcept;
  static bool IsValidValue(std::string_view value) noexcept;

  bool empty() const noexcept { return rep_ == nullptr; }
  size_t size() const noexcept;
  // Value for key, or empty when absent.
  std::string_view Get(std::string_view key) const noexcept;
  // Returns a new state with key set to value and moved to the front (W3C
  // mutation rules); *this unchanged. Invalid key/value: returns *this.
  TraceState Set(std::string_view key, std::string_view value) const;
  TraceState Delete(std::string_view key) const;
  // Calls f(key, value) for each member, left to right, until f returns false.
  template <typename F>
  void ForEach(F&& f) const {
    std::string_view rest = header();
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      std::string_view m = rest.substr(0, comma);
      size_t eq = m.find('=');
      if (!f(m.substr(0, eq), m.substr(eq + 1))) return;
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  // The canonical header value ("k1=v1,k2=v2"), empty when empty.
  std::string_view header() const noexcept;

  friend bool operator==(const TraceState& a, const TraceState& b) noexcept {
    return a.header() == b.header();
  }

 private:
  struct Rep;
  void Ref() const noexcept;
  // Drops one reference to rep (not null); frees it on the last.
  static void Drop(Rep* rep) noexcept;
  explicit TraceState(Rep* rep) noexcept : rep_(rep) {}
  static TraceState FromCanonical(std::string canonical);
  Rep* rep_ = nullptr;
};

class SpanContext {
 public:
  SpanContext() noexcept = default;
  SpanContext(TraceId trace_id, SpanId span_id, TraceFlags flags, bool remote,
              TraceState state = {}) noexcept
      : trace_id_(trace_id), span_id_(span_id), flags_(flags), remote_(remote),
        state_(std::move(state)) {}

  const TraceId& trace_id() const noexcept { return trace_id_; }
  const SpanId& span_id() const noexcept { return span_id_; }
  TraceFlags flags() const noexcept { return flags_; }
  bool sampled() const noexcept { return flags_.sampled(); }
  bool is_remote() const noexcept { return remote_; }
  const TraceState& trace_state() const noexcept { return state_; }
  bool IsValid() const noexcept { return trace_id_.IsValid() && span_id_.IsValid(); }

  friend bool operator==(const SpanContext& a, const SpanContext& b) noexcept {
    return a.trace_id_ == b.trace_id_ && a.span_id_ == b.span_id_ &&
           a.flags_.value == b.flags_.value && a.remote_ == b.remote_ && a.state_ == b.state_;
  }

 private:
  TraceId trace_id_;
  SpanId span_id_;
  TraceFlags flags_;
  bool remote_ = false;
  TraceState state_;
};

}  // namespace otelweb
