// The trace page's JSON, written directly (see trace_json.h).
#include "view/trace_json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <unordered_map>

#include "core/utf8.h"
#include "view/otlp_json.h"

namespace otelweb::view {

namespace {

using otlp_pb::common::v1::AnyValue;
using otlp_pb::common::v1::KeyValue;

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void AppendBase64(std::string& out, std::string_view bin) {
  size_t i = 0;
  for (; i + 2 < bin.size(); i += 3) {
    uint32_t v =
        uint32_t(uint8_t(bin[i])) << 16 | uint32_t(uint8_t(bin[i + 1])) << 8 | uint8_t(bin[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kB64[(v >> s) & 63];
  }
  size_t rest = bin.size() - i;
  if (rest > 0) {
    uint32_t v =
        uint32_t(uint8_t(bin[i])) << 16 | (rest == 2 ? uint32_t(uint8_t(bin[i + 1])) << 8 : 0);
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += rest == 2 ? kB64[(v >> 6) & 63] : '=';
    out += '=';
  }
}

void AppendHexString(std::string& out, std::string_view bytes) {
  static const char* d = "0123456789abcdef";
  out += '"';
  for (char c : bytes) {
    out += d[uint8_t(c) >> 4];
    out += d[uint8_t(c) & 15];
  }
  out += '"';
}

template <typename T>
void AppendNumber(std::string& out, T v) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// As a JSON string: nanosecond times exceed 2^53.
void AppendQuotedNumber(std::string& out, uint64_t v) {
  out += '"';
  AppendNumber(out, v);
  out += '"';
}

void AppendDouble(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";  // JSON has no NaN or infinity
    return;
  }
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  std::string_view s(buf, size_t(r.ptr - buf));
  out += s;
  if (s.find_first_of(".e") == std::string_view::npos)
    out += ".0";  // stays a floating-point number
}

void AppendValue(std::string& out, const AnyValue& v, int depth);

void AppendKeyValues(std::string& out, const google::protobuf::RepeatedPtrField<KeyValue>& kvs,
                     int depth) {
  // Keys sorted; a repeated key keeps its last value (as a JSON object would).
  std::vector<int> order(size_t(kvs.size()));
  for (int i = 0; i < kvs.size(); ++i) order[size_t(i)] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return kvs.Get(a).key() < kvs.Get(b).key(); });
  out += '{';
  bool first = true;
  for (size_t i = 0; i < order.size(); ++i) {
    const KeyValue& kv = kvs.Get(order[i]);
    if (i + 1 < order.size() && kvs.Get(order[i + 1]).key() == kv.key()) continue;
    if (!first) out += ',';
    first = false;
    AppendJsonString(out, kv.key());
    out += ':';
    AppendValue(out, kv.value(), depth + 1);
  }
  out += '}';
}

void AppendValue(std::string& out, const AnyValue& v, int depth) {
  if (depth > 64) {  // libprotobuf parses at most 100 levels; the page shows far fewer
    out += "null";
    return;
  }
  switch (v.value_case()) {
    case AnyValue::kStringValue:
      AppendJsonString(out, v.string_value());
      return;
    case AnyValue::kBoolValue:
      out += v.bool_value() ? "true" : "false";
      return;
    case AnyValue::kIntValue: {
      constexpr int64_t kSafe = int64_t(1) << 53;
      if (v.int_value() > kSafe || v.int_value() < -kSafe) {
        out += '"';
        AppendNumber(out, v.int_value());
        out += '"';
      } else {
        AppendNumber(out, v.int_value());
      }
      return;
    }
    case AnyValue::kDoubleValue:
      AppendDouble(out, v.double_value());
      return;
    case AnyValue::kBytesValue:
      out += '"';
      AppendBase64(out, v.bytes_value());
      out += '"';
      return;
    case AnyValue::kArrayValue: {
      out += '[';
      bool first = true;
      for (const auto& e : v.array_value().values()) {
        if (!first) out += ',';
        first = false;
        AppendValue(out, e, depth + 1);
      }
      out += ']';
      return;
    }
    case AnyValue::kKvlistValue:
      AppendKeyValues(out, v.kvlist_value().values(), depth);
      return;
    default:
      out += "null";
      return;
  }
}

const char* KindText(int k) {
  static const char* names[] = {"UNSPECIFIED", "INTERNAL", "SERVER",
                                "CLIENT",      "PRODUCER", "CONSUMER"};
  return k >= 0 && k <= 5 ? names[k] : "UNSPECIFIED";
}
const char* StatusText(int c) {
  static const char* names[] = {"UNSET", "OK", "ERROR"};
  return c >= 0 && c <= 2 ? names[c] : "UNSET";
}

// What a span copies from its context: `"service":…,` and the indexes into the
// trace's `resources` and `scopes` arrays.
struct ContextRef {
  std::string service;
  int resource = 0, scope = 0;
};

// The distinct resources and scopes of one trace, each written once.
class Contexts {
 public:
  const ContextRef& Of(const StoredSpan& s) {
    if (s.context_id != 0) {
      auto it = by_id_.find(s.context_id);
      if (it != by_id_.end()) return it->second;
      return by_id_.emplace(s.context_id, Make(*s.context)).first->second;
    }
    unsaved_ = Make(*s.context);
    return unsaved_;
  }

  // `"resources":[…],"scopes":[…]`
  void Append(std::string& out) const {
    out += "\"resources\":[";
    for (size_t i = 0; i < resources_.size(); ++i) {
      if (i) out += ',';
      out += resources_[i];
    }
    out += "],\"scopes\":[";
    for (size_t i = 0; i < scopes_.size(); ++i) {
      if (i) out += ',';
      out += scopes_[i];
    }
    out += ']';
  }

 private:
  static int Index(std::vector<std::string>& list, std::unordered_map<std::string, int>& index,
                   std::string json) {
    auto it = index.find(json);
    if (it != index.end()) return it->second;
    int i = int(list.size());
    index.emplace(json, i);
    list.push_back(std::move(json));
    return i;
  }

  ContextRef Make(const otlp_pb::trace::v1::ResourceSpans& rs) {
    ContextRef c;
    std::string service = "unknown_service";
    for (const auto& kv : rs.resource().attributes()) {
      if (kv.key() == "service.name" && kv.value().has_string_value())
        service = kv.value().string_value();
    }
    c.service = "\"service\":";
    AppendJsonString(c.service, service);
    c.service += ',';
    std::string resource = "{\"attributes\":";
    AppendAttributesJson(resource, rs.resource().attributes());
    resource += '}';
    c.resource = Index(resources_, resource_index_, std::move(resource));
    std::string scope = "{\"name\":";
    AppendJsonString(scope, rs.scope_spans_size() ? rs.scope_spans(0).scope().name() : "");
    scope += ",\"version\":";
    AppendJsonString(scope, rs.scope_spans_size() ? rs.scope_spans(0).scope().version() : "");
    scope += '}';
    c.scope = Index(scopes_, scope_index_, std::move(scope));
    return c;
  }

  std::unordered_map<int64_t, ContextRef> by_id_;  // by the stored context's id
  ContextRef unsaved_;
  std::vector<std::string> resources_, scopes_;
  std::unordered_map<std::string, int> resource_index_, scope_index_;
};

// One span; members with their default value (no events, no links, zero
// dropped counts, empty trace state and status message) are left out.
void AppendSpan(std::string& out, const otlp_pb::trace::v1::Span& sp, const ContextRef& ctx) {
  out += "{\"spanId\":";
  AppendHexString(out, sp.span_id());
  out += ",\"parentSpanId\":";
  AppendHexString(out, sp.parent_span_id());
  out += ",\"name\":";
  AppendJsonString(out, sp.name());
  out += ",\"kind\":\"";
  out += KindText(int(sp.kind()));
  out += "\",";
  out += ctx.service;
  out += "\"startTimeUnixNano\":";
  AppendQuotedNumber(out, sp.start_time_unix_nano());
  out += ",\"endTimeUnixNano\":";
  AppendQuotedNumber(out, sp.end_time_unix_nano());
  out += ",\"durationNano\":";
  AppendNumber(out, int64_t(sp.end_time_unix_nano() - sp.start_time_unix_nano()));
  out += ",\"status\":{\"code\":\"";
  out += StatusText(int(sp.status().code()));
  out += '"';
  if (!sp.status().message().empty()) {
    out += ",\"message\":";
    AppendJsonString(out, sp.status().message());
  }
  out += "},\"attributes\":";
  AppendAttributesJson(out, sp.attributes());
  if (sp.events_size() > 0) {
    out += ",\"events\":[";
    for (int i = 0; i < sp.events_size(); ++i) {
      const auto& e = sp.events(i);
      if (i) out += ',';
      out += "{\"name\":";
      AppendJsonString(out, e.name());
      out += ",\"timeUnixNano\":";
      AppendQuotedNumber(out, e.time_unix_nano());
      out += ",\"attributes\":";
      AppendAttributesJson(out, e.attributes());
      if (e.dropped_attributes_count() > 0) {
        out += ",\"droppedAttributesCount\":";
        AppendNumber(out, e.dropped_attributes_count());
      }
      out += '}';
    }
    out += ']';
  }
  if (sp.links_size() > 0) {
    out += ",\"links\":[";
    for (int i = 0; i < sp.links_size(); ++i) {
      const auto& l = sp.links(i);
      if (i) out += ',';
      out += "{\"traceId\":";
      AppendHexString(out, l.trace_id());
      out += ",\"spanId\":";
      AppendHexString(out, l.span_id());
      if (!l.trace_state().empty()) {
        out += ",\"traceState\":";
        AppendJsonString(out, l.trace_state());
      }
      out += ",\"attributes\":";
      AppendAttributesJson(out, l.attributes());
      out += '}';
    }
    out += ']';
  }
  auto count = [&](const char* member, uint32_t n) {
    if (n == 0) return;
    out += member;
    AppendNumber(out, n);
  };
  count(",\"droppedAttributesCount\":", sp.dropped_attributes_count());
  count(",\"droppedEventsCount\":", sp.dropped_events_count());
  count(",\"droppedLinksCount\":", sp.dropped_links_count());
  out += ",\"resourceIndex\":";
  AppendNumber(out, ctx.resource);
  out += ",\"scopeIndex\":";
  AppendNumber(out, ctx.scope);
  if (!sp.trace_state().empty()) {
    out += ",\"traceState\":";
    AppendJsonString(out, sp.trace_state());
  }
  out += '}';
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view s) {
  std::string repaired;
  if (!IsValidUtf8(s)) {
    AppendSanitizedUtf8(repaired, s);
    s = repaired;
  }
  static const char* d = "0123456789abcdef";
  out += '"';
  size_t run = 0;  // start of the bytes copied as they are
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += "\\u00";
        out += d[c >> 4];
        out += d[c & 15];
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

void AppendAttributesJson(std::string& out,
                          const google::protobuf::RepeatedPtrField<KeyValue>& attributes) {
  AppendKeyValues(out, attributes, 0);
}

std::string TraceJson(std::string_view trace_id, const std::vector<StoredSpan>& spans) {
  std::string out;
  out.reserve(256 + spans.size() * 400);
  out += "{\"traceId\":";
  AppendHexString(out, trace_id);
  out += ",\"spans\":[";
  Contexts contexts;
  for (size_t i = 0; i < spans.size(); ++i) {
    if (i) out += ',';
    AppendSpan(out, spans[i].span, contexts.Of(spans[i]));
  }
  out += "],";
  contexts.Append(out);  // after the spans, which named them
  out += '}';
  return out;
}

}  // namespace otelweb::view
