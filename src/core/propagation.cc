// W3C Trace Context and Baggage propagators.
#include "otelweb/propagation.h"

#include <atomic>
#include <cstring>
#include <mutex>

#include "core/internal.h"
#include "core/config.h"
#include "otelweb/diagnostics.h"

namespace otelweb {

namespace {

struct HexTable {
  int8_t v[256];
  constexpr HexTable() : v() {
    for (int i = 0; i < 256; ++i) v[i] = -1;
    for (int i = 0; i < 10; ++i) v['0' + i] = static_cast<int8_t>(i);
    for (int i = 0; i < 6; ++i) v['a' + i] = static_cast<int8_t>(10 + i);
  }
};
constexpr HexTable kHexTable;

inline bool Hex2(const char* p, uint8_t* out) noexcept {
  int hi = kHexTable.v[static_cast<unsigned char>(p[0])];
  int lo = kHexTable.v[static_cast<unsigned char>(p[1])];
  if ((hi | lo) < 0) return false;
  *out = static_cast<uint8_t>((hi << 4) | lo);
  return true;
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
  uint8_t version;
  if (!Hex2(p, &version) || version == 0xff) return false;
  if (version == 0 && v.size() != 55) return false;
  // A future version may append fields after a '-'.
  if (version > 0 && v.size() > 55 && p[55] != '-') return false;
  if (p[2] != '-' || p[35] != '-' || p[52] != '-') return false;
  uint8_t tid[16], sid[8], flags;
  // Decode everything, then test once: any non-hex digit makes `bad` negative.
  int bad = 0;
  auto hex2 = [&bad](const char* q) noexcept {
    int hi = kHexTable.v[static_cast<unsigned char>(q[0])];
    int lo = kHexTable.v[static_cast<unsigned char>(q[1])];
    bad |= hi | lo;
    return static_cast<uint8_t>((hi << 4) | (lo & 15));
  };
  for (int i = 0; i < 16; ++i) tid[i] = hex2(p + 3 + 2 * i);
  for (int i = 0; i < 8; ++i) sid[i] = hex2(p + 36 + 2 * i);
  flags = hex2(p + 53);
  if (bad < 0) return false;
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
  sc.trace_id().ToHex(out + 3);
  out[35] = '-';
  sc.span_id().ToHex(out + 36);
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
