// Console exporter: trace trees for people, OTLP/JSON lines for machines.
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "otelweb/trace/console_exporter.h"
#include "otelweb/resource.h"
#include "otelweb/trace/tracer_provider.h"
#include "core/utf8.h"

namespace otelweb {

// ---------------------------------------------------------------------------
// OTLP/JSON

namespace {

void JsonString(std::string& out, std::string_view s) {
  std::string clean;
  AppendSanitizedUtf8(clean, s);
  out += '"';
  for (unsigned char c : clean) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

void JsonDouble(std::string& out, double d) {
  // proto3 JSON: non-finite doubles are the strings "NaN", "Infinity", "-Infinity".
  if (std::isnan(d)) {
    out += "\"NaN\"";
  } else if (std::isinf(d)) {
    out += d > 0 ? "\"Infinity\"" : "\"-Infinity\"";
  } else {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", d);
    out += buf;
  }
}

void JsonInt64(std::string& out, int64_t v) {
  out += '"';
  out += std::to_string(v);
  out += '"';
}

void JsonU64(std::string& out, uint64_t v) {
  out += '"';
  out += std::to_string(v);
  out += '"';
}

void AnyValueView(std::string& out, const AttributeView& v) {
  switch (v.type()) {
    case AttributeType::kBool: out += v.as_bool() ? "{\"boolValue\":true}" : "{\"boolValue\":false}"; return;
    case AttributeType::kInt: out += "{\"intValue\":"; JsonInt64(out, v.as_int()); out += '}'; return;
    case AttributeType::kDouble: out += "{\"doubleValue\":"; JsonDouble(out, v.as_double()); out += '}'; return;
    case AttributeType::kString: out += "{\"stringValue\":"; JsonString(out, v.as_string()); out += '}'; return;
    case AttributeType::kNone: out += "{}"; return;
    default: break;
  }
  out += "{\"arrayValue\":{\"values\":[";
  for (uint32_t i = 0; i < v.array_size(); ++i) {
    if (i) out += ',';
    switch (v.type()) {
      case AttributeType::kBoolArray: out += v.bool_at(i) ? "{\"boolValue\":true}" : "{\"boolValue\":false}"; break;
      case AttributeType::kIntArray: out += "{\"intValue\":"; JsonInt64(out, v.int_at(i)); out += '}'; break;
      case AttributeType::kDoubleArray: out += "{\"doubleValue\":"; JsonDouble(out, v.double_at(i)); out += '}'; break;
      case AttributeType::kStringArray: out += "{\"stringValue\":"; JsonString(out, v.string_at(i)); out += '}'; break;
      default: break;
    }
  }
  out += "]}}";
}

void AnyValueOwned(std::string& out, const OwnedValue& v) {
  switch (v.type) {
    case AttributeType::kBool: out += v.b ? "{\"boolValue\":true}" : "{\"boolValue\":false}"; return;
    case AttributeType::kInt: out += "{\"intValue\":"; JsonInt64(out, v.i); out += '}'; return;
    case AttributeType::kDouble: out += "{\"doubleValue\":"; JsonDouble(out, v.d); out += '}'; return;
    case AttributeType::kString: out += "{\"stringValue\":"; JsonString(out, v.s); out += '}'; return;
    case AttributeType::kNone: out += "{}"; return;
    default: break;
  }
  out += "{\"arrayValue\":{\"values\":[";
  bool first = true;
  auto sep = [&] {
    if (!first) out += ',';
    first = false;
  };
  for (bool b : v.bools) { sep(); out += b ? "{\"boolValue\":true}" : "{\"boolValue\":false}"; }
  for (auto i : v.ints) { sep(); out += "{\"intValue\":"; JsonInt64(out, i); out += '}'; }
  for (auto d : v.doubles) { sep(); out += "{\"doubleValue\":"; JsonDouble(out, d); out += '}'; }
  for (auto& s : v.strings) { sep(); out += "{\"stringValue\":"; JsonString(out, s); out += '}'; }
  out += "]}}";
}

template <typename Get>
void KeyValues(std::string& out, size_t n, Get get) {
  out += '[';
  for (size_t i = 0; i < n; ++i) {
    if (i) out += ',';
    AttributeView v = get(i);
    out += "{\"key\":";
    JsonString(out, v.key());
    out += ",\"value\":";
    AnyValueView(out, v);
    out += '}';
  }
  out += ']';
}

void HexField(std::string& out, const char* name, const char* hex, size_t n) {
  out += ",\"";
  out += name;
  out += "\":\"";
  out.append(hex, n);
  out += '"';
}

// OTLP span flags: W3C flags in the low byte, plus bit 8 "has is_remote" and
// bit 9 "parent is remote".
uint32_t OtlpFlags(uint8_t w3c, bool remote) { return w3c | 0x100u | (remote ? 0x200u : 0u); }

void SpanJson(std::string& out, const SpanData& s) {
  char tid[32], sid[16], pid[16];
  s.trace_id().ToHex(tid);
  s.span_id().ToHex(sid);
  out += "{\"traceId\":\"";
  out.append(tid, 32);
  out += '"';
  HexField(out, "spanId", sid, 16);
  if (!s.context().trace_state().empty()) {
    out += ",\"traceState\":";
    JsonString(out, s.context().trace_state().header());
  }
  if (s.parent_span_id().IsValid()) {
    s.parent_span_id().ToHex(pid);
    HexField(out, "parentSpanId", pid, 16);
  }
  out += ",\"flags\":" + std::to_string(OtlpFlags(s.context().flags().value, s.parent_is_remote()));
  out += ",\"name\":";
  JsonString(out, s.name());
  out += ",\"kind\":" + std::to_string(static_cast<int>(s.kind()));
  out += ",\"startTimeUnixNano\":";
  JsonU64(out, static_cast<uint64_t>(s.start_ns()));
  out += ",\"endTimeUnixNano\":";
  JsonU64(out, static_cast<uint64_t>(s.end_ns()));
  out += ",\"attributes\":";
  KeyValues(out, s.attribute_count(), [&](size_t i) { return s.attribute(i); });
  out += ",\"droppedAttributesCount\":" + std::to_string(s.dropped_attributes());
  out += ",\"events\":[";
  for (size_t e = 0; e < s.event_count(); ++e) {
    if (e) out += ',';
    out += "{\"timeUnixNano\":";
    JsonU64(out, static_cast<uint64_t>(s.event_time_ns(e)));
    out += ",\"name\":";
    JsonString(out, s.event_name(e));
    out += ",\"attributes\":";
    KeyValues(out, s.event_attribute_count(e), [&](size_t j) { return s.event_attribute(e, j); });
    out += ",\"droppedAttributesCount\":" + std::to_string(s.event_dropped_attributes(e)) + "}";
  }
  out += "],\"droppedEventsCount\":" + std::to_string(s.dropped_events());
  out += ",\"links\":[";
  for (size_t l = 0; l < s.link_count(); ++l) {
    if (l) out += ',';
    const SpanContext& lc = s.link_context(l);
    lc.trace_id().ToHex(tid);
    lc.span_id().ToHex(sid);
    out += "{\"traceId\":\"";
    out.append(tid, 32);
    out += '"';
    HexField(out, "spanId", sid, 16);
    if (!lc.trace_state().empty()) {
      out += ",\"traceState\":";
      JsonString(out, lc.trace_state().header());
    }
    out += ",\"attributes\":";
    KeyValues(out, s.link_attribute_count(l), [&](size_t j) { return s.link_attribute(l, j); });
    out += ",\"droppedAttributesCount\":" + std::to_string(s.link_dropped_attributes(l));
    out += ",\"flags\":" + std::to_string(OtlpFlags(lc.flags().value, lc.is_remote())) + "}";
  }
  out += "],\"droppedLinksCount\":" + std::to_string(s.dropped_links());
  out += ",\"status\":{";
  if (!s.status_description().empty()) {
    out += "\"message\":";
    JsonString(out, s.status_description());
    out += ',';
  }
  out += "\"code\":" + std::to_string(static_cast<int>(s.status())) + "}}";
}

}  // namespace

std::string SpansToOtlpJson(std::span<const SpanData* const> spans) {
  std::string out = "{\"resourceSpans\":[";
  // Group by resource, then scope, in order of first appearance.
  std::vector<const Resource*> resources;
  for (const SpanData* s : spans) {
    if (std::find(resources.begin(), resources.end(), &s->resource()) == resources.end()) {
      resources.push_back(&s->resource());
    }
  }
  for (size_t ri = 0; ri < resources.size(); ++ri) {
    const Resource* r = resources[ri];
    if (ri) out += ',';
    out += "{\"resource\":{\"attributes\":[";
    for (size_t i = 0; i < r->attributes().size(); ++i) {
      if (i) out += ',';
      out += "{\"key\":";
      JsonString(out, r->attributes()[i].key);
      out += ",\"value\":";
      AnyValueOwned(out, r->attributes()[i].value);
      out += '}';
    }
    out += "],\"droppedAttributesCount\":0},\"scopeSpans\":[";
    std::vector<const InstrumentationScope*> scopes;
    for (const SpanData* s : spans) {
      if (&s->resource() == r && std::find(scopes.begin(), scopes.end(), &s->scope()) == scopes.end()) {
        scopes.push_back(&s->scope());
      }
    }
    for (size_t si = 0; si < scopes.size(); ++si) {
      if (si) out += ',';
      out += "{\"scope\":{\"name\":";
      JsonString(out, scopes[si]->name);
      out += ",\"version\":";
      JsonString(out, scopes[si]->version);
      out += "},\"spans\":[";
      bool first = true;
      for (const SpanData* s : spans) {
        if (&s->resource() != r || &s->scope() != scopes[si]) continue;
        if (!first) out += ',';
        first = false;
        SpanJson(out, *s);
      }
      out += "],\"schemaUrl\":";
      JsonString(out, scopes[si]->schema_url);
      out += '}';
    }
    out += "],\"schemaUrl\":";
    JsonString(out, r->schema_url());
    out += '}';
  }
  out += "]}";
  return out;
}

// ---------------------------------------------------------------------------
// Trace tree

struct ConsoleSpanExporter::State {
  ConsoleExporterOptions opt;
  FILE* out = stdout;
  bool color = false;
  std::mutex mu;
  bool shut_down = false;
  // Spans held until their trace's local root ends, in arrival order per trace.
  std::map<TraceId, std::vector<EndedSpan>> pending;
  std::deque<TraceId> order;  // traces by first arrival
  size_t held = 0;

  const char* C(const char* code) const { return color ? code : ""; }

  static std::string Duration(int64_t ns) {
    char buf[32];
    if (ns < 1000) std::snprintf(buf, sizeof buf, "%" PRId64 "ns", ns);
    else if (ns < 1000000) std::snprintf(buf, sizeof buf, "%.1fµs", double(ns) / 1e3);
    else if (ns < 1000000000) std::snprintf(buf, sizeof buf, "%.2fms", double(ns) / 1e6);
    else std::snprintf(buf, sizeof buf, "%.3fs", double(ns) / 1e9);
    return buf;
  }

  void PrintTrace(const TraceId& tid, std::vector<EndedSpan>& spans) {
    if (spans.empty()) return;
    std::vector<const SpanData*> v;
    for (auto& s : spans) v.push_back(s.get());
    std::sort(v.begin(), v.end(), [](auto* a, auto* b) { return a->start_ns() < b->start_ns(); });
    int64_t t0 = v.front()->start_ns(), t1 = t0;
    for (auto* s : v) t1 = std::max(t1, s->end_ns());
    const int64_t total = std::max<int64_t>(t1 - t0, 1);
    // Roots: spans whose parent is not in this batch.
    auto in_set = [&](const SpanId& id) {
      for (auto* s : v) {
        if (s->span_id() == id) return true;
      }
      return false;
    };
    std::string text;
    char tidhex[32];
    tid.ToHex(tidhex);
    text += C("\x1b[1m");
    text += "trace ";
    text.append(tidhex, 32);
    text += C("\x1b[0m");
    text += "  service=";
    AppendSanitizedUtf8(text, v.front()->resource().service_name());
    text += "  spans=" + std::to_string(v.size()) + "  duration=" + Duration(t1 - t0) + "\n";
    for (auto* s : v) {
      if (!s->parent_span_id().IsValid() || !in_set(s->parent_span_id())) {
        PrintSpan(text, v, s, "", true, t0, total, s->parent_span_id().IsValid() && !s->parent_is_remote());
      }
    }
    text += "\n";
    std::fwrite(text.data(), 1, text.size(), out);
  }

  void PrintSpan(std::string& text, const std::vector<const SpanData*>& all, const SpanData* s,
                 const std::string& prefix, bool last, int64_t t0, int64_t total, bool orphan) {
    const char* branch = color ? (last ? "└─ " : "├─ ") : (last ? "`- " : "|- ");
    const char* cont = color ? (last ? "   " : "│  ") : (last ? "   " : "|  ");
    // Waterfall bar, 30 columns.
    constexpr int kW = 30;
    int a = static_cast<int>((s->start_ns() - t0) * kW / total);
    int b = static_cast<int>((s->end_ns() - t0) * kW / total);
    a = std::clamp(a, 0, kW - 1);
    b = std::clamp(b, a + 1, kW);
    std::string bar(kW, ' ');
    for (int i = a; i < b; ++i) bar[i] = '=';
    text += "[" + bar + "] ";
    text += prefix + branch;
    if (s->status() == StatusCode::kError) text += C("\x1b[31m");
    AppendSanitizedUtf8(text, s->name());
    if (s->status() == StatusCode::kError) text += C("\x1b[0m");
    text += "  ";
    text += C("\x1b[2m");
    text += std::string(SpanKindName(s->kind()));
    text += " " + Duration(s->end_ns() - s->start_ns());
    text += C("\x1b[0m");
    if (s->status() == StatusCode::kError) {
      text += C("\x1b[31m");
      text += " ERROR";
      if (!s->status_description().empty()) {
        text += " (";
        AppendSanitizedUtf8(text, s->status_description());
        text += ")";
      }
      text += C("\x1b[0m");
    }
    if (orphan) text += " (parent not seen)";
    if (s->parent_is_remote()) text += " (remote parent)";
    // Key attributes first, then the others, compactly.
    static const char* kKeys[] = {"http.request.method", "http.route", "url.path", "url.full",
                                  "http.response.status_code", "db.operation.name", "db.query.text",
                                  "server.address", "error.type", "user.id"};
    std::string attrs;
    for (const char* k : kKeys) {
      AttributeView av;
      if (s->FindAttribute(k, &av)) {
        attrs.append(" ").append(k).append("=").append(av.ToString());
      }
    }
    size_t others = 0;
    for (size_t i = 0; i < s->attribute_count(); ++i) {
      AttributeView av = s->attribute(i);
      bool key = false;
      for (const char* k : kKeys) key = key || av.key() == k;
      if (key) continue;
      if (others < 4) attrs.append(" ").append(av.key()).append("=").append(av.ToString());
      ++others;
    }
    if (others > 4) attrs += " (+" + std::to_string(others - 4) + " more)";
    if (!attrs.empty()) {
      text += " ";
      text += C("\x1b[36m");
      AppendSanitizedUtf8(text, attrs.substr(1));
      text += C("\x1b[0m");
    }
    text += "\n";
    std::string child_prefix = prefix + cont;
    for (size_t e = 0; e < s->event_count(); ++e) {
      text += std::string(kW + 3, ' ') + child_prefix + "* event ";
      AppendSanitizedUtf8(text, s->event_name(e));
      for (size_t j = 0; j < s->event_attribute_count(e); ++j) {
        AttributeView av = s->event_attribute(e, j);
        text.append(" ").append(av.key()).append("=");
        AppendSanitizedUtf8(text, av.ToString());
      }
      text += "\n";
    }
    std::vector<const SpanData*> kids;
    for (auto* c : all) {
      if (c->parent_span_id() == s->span_id() && c->trace_id() == s->trace_id()) kids.push_back(c);
    }
    for (size_t i = 0; i < kids.size(); ++i) {
      PrintSpan(text, all, kids[i], child_prefix, i + 1 == kids.size(), t0, total, false);
    }
  }

  void FlushTrace(const TraceId& tid) {
    auto it = pending.find(tid);
    if (it == pending.end()) return;
    held -= it->second.size();
    PrintTrace(tid, it->second);
    pending.erase(it);
    order.erase(std::remove(order.begin(), order.end(), tid), order.end());
  }

  void FlushAll() {
    while (!order.empty()) FlushTrace(order.front());
    std::fflush(out);
  }
};

ConsoleSpanExporter::ConsoleSpanExporter(ConsoleExporterOptions options) : s_(new State) {
  s_->opt = options;
  s_->out = options.out ? options.out : stdout;
  s_->color = options.color.value_or(isatty(fileno(s_->out)) != 0);
}

ConsoleSpanExporter::~ConsoleSpanExporter() {
  std::lock_guard<std::mutex> lock(s_->mu);
  if (!s_->shut_down) s_->FlushAll();
}

ExportResult ConsoleSpanExporter::Export(std::span<EndedSpan> batch) noexcept {
  try {
    std::lock_guard<std::mutex> lock(s_->mu);
    if (s_->shut_down) return ExportResult::kFailure;
    if (s_->opt.format == ConsoleExporterOptions::Format::kJsonLines) {
      std::string lines;
      for (auto& s : batch) {
        const SpanData* p = s.get();
        lines += SpansToOtlpJson(std::span<const SpanData* const>(&p, 1));
        lines += '\n';
      }
      std::fwrite(lines.data(), 1, lines.size(), s_->out);
      std::fflush(s_->out);
      return ExportResult::kSuccess;
    }
    std::vector<TraceId> complete;
    for (auto& s : batch) {
      TraceId tid = s->trace_id();
      bool local_root = !s->parent_span_id().IsValid() || s->parent_is_remote();
      auto [it, inserted] = s_->pending.try_emplace(tid);
      if (inserted) s_->order.push_back(tid);
      it->second.push_back(std::move(s));
      ++s_->held;
      if (local_root) complete.push_back(tid);
    }
    for (auto& tid : complete) s_->FlushTrace(tid);
    while (s_->held > s_->opt.max_buffered_spans && !s_->order.empty()) s_->FlushTrace(s_->order.front());
    std::fflush(s_->out);
    return ExportResult::kSuccess;
  } catch (...) {
    return ExportResult::kFailure;
  }
}

OperationResult ConsoleSpanExporter::ForceFlush(std::chrono::milliseconds) noexcept {
  try {
    std::lock_guard<std::mutex> lock(s_->mu);
    s_->FlushAll();
    return OperationResult::Ok();
  } catch (...) {
    return OperationResult::Failure();
  }
}

OperationResult ConsoleSpanExporter::Shutdown(std::chrono::milliseconds) noexcept {
  try {
    std::lock_guard<std::mutex> lock(s_->mu);
    if (s_->shut_down) return OperationResult::AlreadyShutDown();
    s_->FlushAll();
    s_->shut_down = true;
    return OperationResult::Ok();
  } catch (...) {
    return OperationResult::Failure();
  }
}

}  // namespace otelweb
