// W3C Trace Context and Baggage propagators.
#include "otelweb/propagation.h"

#include <atomic>
#include <cstring>
#include <mutex>

#include "core/hex.h"
#include "core/internal.h"
#include "core/config.h"
#include "otelweb/diagnostics.h"

namespace otelweb {

namespace {

// The value of one lowercase hex digit, or -1.
inline int HexDigit(char ch) noexcept {
  const unsigned c = static_cast<unsigned char>(ch);
  if (c - '0' < 10) return static_cast<int>(c - '0');
  if (c - 'a' < 6) return static_cast<int>(c - 'a' + 10);
  return -1;
}

constexpr char kHexDigits[] = "0123456789abcdef";

}  // namespace

// traceparent = version "-" trace-id "-" parent-id "-" trace-flags
bool ParseTraceparent(std::string_view v, SpanContext* out) noexcept {
  // Leading/trailing whitespace around the header value is tolerated.
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  if (v.size() < 55) return false;
  const char* p = v.data();
  const int v_hi = HexDigit(p[0]), v_lo = HexDigit(p[1]);
  if ((v_hi | v_lo) < 0) return false;
  const int version = (v_hi << 4) | v_lo;
  if (version == 0xff) return false;
  if (version == 0 && v.size() != 55) return false;
  // A future version may append fields after a '-'.
  if (version > 0 && v.size() > 55 && p[55] != '-') return false;
  if (p[2] != '-' || p[35] != '-' || p[52] != '-') return false;
  // Ids: 16 hex characters per step (internal::hex); any non-hex character
  // makes `bad` non-zero. Flags: two digits.
  uint8_t tid[16], sid[8];
  uint64_t bad = 0;
  internal::hex::Decode8(p + 3, tid, bad);
  internal::hex::Decode8(p + 19, tid + 8, bad);
  internal::hex::Decode8(p + 36, sid, bad);
  const int f_hi = HexDigit(p[53]), f_lo = HexDigit(p[54]);
  if (bad != 0 || (f_hi | f_lo) < 0) return false;
  const uint8_t flags = static_cast<uint8_t>((f_hi << 4) | f_lo);
  TraceId t(tid);
  SpanId s(sid);
  if (!t.IsValid() || !s.IsValid()) return false;
  // Sampled and random are kept (W3C Level 2); the spec reserves the other
  // bits and says to set them to zero, so they are not kept.
  *out = SpanContext(t, s, TraceFlags{static_cast<uint8_t>(flags & TraceFlags::kKnown)}, true);
  return true;
}

void FormatTraceparent(const SpanContext& sc, char out[55]) noexcept {
  out[0] = '0';
  out[1] = '0';
  out[2] = '-';
  internal::hex::Encode8(sc.trace_id().bytes().data(), out + 3);
  internal::hex::Encode8(sc.trace_id().bytes().data() + 8, out + 19);
  out[35] = '-';
  internal::hex::Encode8(sc.span_id().bytes().data(), out + 36);
  out[52] = '-';
  const uint8_t flags = sc.flags().value & TraceFlags::kKnown;
  out[53] = kHexDigits[flags >> 4];
  out[54] = kHexDigits[flags & 15];
}

void W3CTraceContextPropagator::Inject(const Context& ctx, TextMapSetter& carrier) const noexcept {
  const SpanContext& sc = ctx.span_context();
  if (!sc.IsValid()) return;
  char buf[55];
  FormatTraceparent(sc, buf);
  carrier.Set("traceparent", std::string_view(buf, 55));
  if (!sc.trace_state().empty()) carrier.Set("tracestate", sc.trace_state().header());
}

Context W3CTraceContextPropagator::Extract(const TextMapGetter& carrier, const Context& base) const noexcept {
  try {
    std::string scratch;
    std::string_view tp = carrier.Get("traceparent", scratch);
    if (tp.empty()) return base;
    SpanContext sc;
    if (!ParseTraceparent(tp, &sc)) return base;
    std::string scratch2;
    std::string_view ts = carrier.Get("tracestate", scratch2);
    if (!ts.empty()) {
      sc = SpanContext(sc.trace_id(), sc.span_id(), sc.flags(), true, TraceState::FromHeader(ts));
    }
    return base.WithSpanContext(std::move(sc));
  } catch (...) {
    return base;
  }
}

std::vector<std::string_view> W3CTraceContextPropagator::Fields() const { return {"traceparent", "tracestate"}; }

void W3CBaggagePropagator::Inject(const Context& ctx, TextMapSetter& carrier) const noexcept {
  if (ctx.baggage().empty()) return;
  try {
    std::string h = ctx.baggage().ToHeader();
    if (!h.empty()) carrier.Set("baggage", h);
  } catch (...) {
  }
}

Context W3CBaggagePropagator::Extract(const TextMapGetter& carrier, const Context& base) const noexcept {
  try {
    std::string scratch;
    std::string_view b = carrier.Get("baggage", scratch);
    if (b.empty()) return base;
    Baggage bg = Baggage::FromHeader(b);
    if (bg.empty()) return base;
    return base.WithBaggage(std::move(bg));
  } catch (...) {
    return base;
  }
}

std::vector<std::string_view> W3CBaggagePropagator::Fields() const { return {"baggage"}; }

CompositePropagator::CompositePropagator(std::vector<std::shared_ptr<TextMapPropagator>> parts) {
  for (auto& p : parts) {
    if (p) parts_.push_back(std::move(p));
  }
}

void CompositePropagator::Inject(const Context& ctx, TextMapSetter& carrier) const noexcept {
  for (const auto& p : parts_) p->Inject(ctx, carrier);
}

Context CompositePropagator::Extract(const TextMapGetter& carrier, const Context& base) const noexcept {
  Context c = base;
  for (const auto& p : parts_) c = p->Extract(carrier, c);
  return c;
}

std::vector<std::string_view> CompositePropagator::Fields() const {
  std::vector<std::string_view> out;
  for (const auto& p : parts_) {
    for (auto f : p->Fields()) out.push_back(f);
  }
  return out;
}

std::shared_ptr<TextMapPropagator> MakePropagators(std::string_view names) {
  std::vector<std::string> list = config::SplitList(names);
  if (list.empty()) list = {"tracecontext", "baggage"};
  std::vector<std::shared_ptr<TextMapPropagator>> parts;
  for (auto& n : list) {
    std::string lower;
    for (char c : n) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    if (lower == "tracecontext") {
      parts.push_back(std::make_shared<W3CTraceContextPropagator>());
    } else if (lower == "baggage") {
      parts.push_back(std::make_shared<W3CBaggagePropagator>());
    } else if (lower == "none") {
      return std::make_shared<CompositePropagator>(std::vector<std::shared_ptr<TextMapPropagator>>{});
    } else {
      Log(LogLevel::kWarning, "OTEL_PROPAGATORS: propagator '" + n +
                                  "' is not supported (supported: tracecontext, baggage, none); skipped");
    }
  }
  return std::make_shared<CompositePropagator>(std::move(parts));
}

namespace {
struct GlobalPropagator {
  std::mutex mu;
  std::shared_ptr<TextMapPropagator> p = MakePropagators("");
};
GlobalPropagator& GP() {
  static GlobalPropagator* g = new GlobalPropagator;
  return *g;
}
}  // namespace

std::shared_ptr<TextMapPropagator> GetTextMapPropagator() noexcept {
  std::lock_guard<std::mutex> lock(GP().mu);
  return GP().p;
}

void SetTextMapPropagator(std::shared_ptr<TextMapPropagator> p) noexcept {
  if (!p) p = MakePropagators("none");
  std::shared_ptr<TextMapPropagator> old;
  std::lock_guard<std::mutex> lock(GP().mu);
  old = std::exchange(GP().p, std::move(p));
  internal::BumpGlobalsGeneration();
}

}  // namespace otelweb
