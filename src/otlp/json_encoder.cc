// OTLP/JSON (the specification's JSON mapping of the OTLP protobuf messages):
// ExportTraceServiceRequest bodies for OTLP/HTTP JSON, and TracesData lines
// for the OTLP file exporter (the two messages have the same JSON shape: one
// "resourceSpans" array).
#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "core/utf8.h"
#include "otelweb/otlp/exporter.h"
#include "otelweb/resource.h"
#include "otelweb/trace/tracer_provider.h"
#include "otlp/json_writer.h"

namespace otelweb::otlp {

// Shared with the logs encoder (otlp/json_writer.h).
namespace internal::json {

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

}  // namespace internal::json
using namespace internal::json;

void AppendJson(std::string& out, std::span<const SpanData* const> spans) {
  out += "{\"resourceSpans\":[";
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
}

std::string EncodeJson(std::span<const SpanData* const> spans) {
  std::string out;
  AppendJson(out, spans);
  return out;
}

std::string EncodeJson(std::span<const EndedSpan> spans) {
  std::vector<const SpanData*> views;
  views.reserve(spans.size());
  for (const EndedSpan& s : spans) views.push_back(s.get());
  return EncodeJson(views);
}

}  // namespace otelweb::otlp
