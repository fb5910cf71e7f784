// OTLP/JSON of ExportLogsServiceRequest / LogsData (the specification's JSON
// mapping: lowerCamelCase names, hex trace and span ids, 64-bit integers as
// strings, enums as integers).
#include <string>
#include <vector>

#include "otelweb/otlp/log_exporter.h"
#include "otelweb/resource.h"
#include "otelweb/trace/tracer.h"
#include "otlp/json_writer.h"

namespace otelweb::otlp {

using namespace internal::json;

namespace {

void AnyJson(std::string& out, const AttributeValue& v) {
  switch (v.type()) {
    case AttributeType::kBool:
      out += v.as_bool() ? "{\"boolValue\":true}" : "{\"boolValue\":false}";
      return;
    case AttributeType::kInt:
      out += "{\"intValue\":";
      JsonInt64(out, v.as_int());
      out += '}';
      return;
    case AttributeType::kDouble:
      out += "{\"doubleValue\":";
      JsonDouble(out, v.as_double());
      out += '}';
      return;
    case AttributeType::kString:
      out += "{\"stringValue\":";
      JsonString(out, v.as_string());
      out += '}';
      return;
    default:
      out += "{}";
  }
}

// {"arrayValue":{"values":[...]}} / {"kvlistValue":{"values":[{"key":..,"value":..}]}}
void AnyBodyJson(std::string& out, const logs::BodyView& v) {
  if (v.kind() == logs::BodyValue::Kind::kScalar) {
    AnyJson(out, v.scalar());
    return;
  }
  const bool map = v.kind() == logs::BodyValue::Kind::kMap;
  out += map ? "{\"kvlistValue\":{\"values\":[" : "{\"arrayValue\":{\"values\":[";
  bool first = true;
  v.ForEach([&](std::string_view key, const logs::BodyView& e) {
    if (!first) out += ',';
    first = false;
    if (map) {
      out += "{\"key\":";
      JsonString(out, key);
      out += ",\"value\":";
      AnyBodyJson(out, e);
      out += '}';
    } else {
      AnyBodyJson(out, e);
    }
  });
  out += "]}}";
}

void RecordJson(std::string& out, const logs::LogRecord& r) {
  out += "{\"timeUnixNano\":\"";
  out += std::to_string(r.timestamp().time_since_epoch().count());
  out += "\",\"observedTimeUnixNano\":\"";
  out += std::to_string(r.observed_timestamp().time_since_epoch().count());
  out += "\",\"severityNumber\":";
  out += std::to_string(static_cast<int>(r.severity()));
  if (!r.severity_text().empty()) {
    out += ",\"severityText\":";
    JsonString(out, r.severity_text());
  }
  if (r.has_structured_body()) {
    out += ",\"body\":";
    AnyBodyJson(out, r.structured_body());
  } else if (r.body().type() != AttributeType::kNone) {
    out += ",\"body\":";
    AnyJson(out, r.body());
  }
  out += ",\"attributes\":[";
  for (size_t i = 0; i < r.attribute_count(); ++i) {
    if (i) out += ',';
    const KeyValue kv = r.attribute(i);
    out += "{\"key\":";
    JsonString(out, kv.key);
    out += ",\"value\":";
    AnyJson(out, kv.value);
    out += '}';
  }
  out += ']';
  if (r.dropped_attributes_count() != 0) {
    out += ",\"droppedAttributesCount\":";
    out += std::to_string(r.dropped_attributes_count());
  }
  if (r.trace_id().IsValid()) {
    char tid[32], sid[16];
    r.trace_id().ToHex(tid);
    out += ",\"flags\":";
    out += std::to_string(r.trace_flags().value);
    out += ",\"traceId\":\"";
    out.append(tid, 32);
    out += '"';
    if (r.span_id().IsValid()) {
      r.span_id().ToHex(sid);
      out += ",\"spanId\":\"";
      out.append(sid, 16);
      out += '"';
    }
  }
  if (!r.event_name().empty()) {
    out += ",\"eventName\":";
    JsonString(out, r.event_name());
  }
  out += '}';
}

}  // namespace

std::string EncodeLogsJson(std::span<const logs::LogRecord* const> recs) {
  static const Resource kEmptyResource;
  static const InstrumentationScope kEmptyScope;
  auto res_of = [](const logs::LogRecord* r) { return r->resource() ? r->resource() : &kEmptyResource; };
  auto scope_of = [](const logs::LogRecord* r) { return r->scope() ? r->scope() : &kEmptyScope; };
  std::string out = "{\"resourceLogs\":[";
  std::vector<const Resource*> resources;
  for (const logs::LogRecord* r : recs) {
    bool seen = false;
    for (const Resource* x : resources) seen |= x == res_of(r);
    if (!seen) resources.push_back(res_of(r));
  }
  for (size_t ri = 0; ri < resources.size(); ++ri) {
    const Resource* res = resources[ri];
    if (ri) out += ',';
    out += "{\"resource\":{\"attributes\":[";
    for (size_t i = 0; i < res->attributes().size(); ++i) {
      if (i) out += ',';
      out += "{\"key\":";
      JsonString(out, res->attributes()[i].key);
      out += ",\"value\":";
      AnyValueOwned(out, res->attributes()[i].value);
      out += '}';
    }
    out += "]},\"scopeLogs\":[";
    std::vector<const InstrumentationScope*> scopes;
    for (const logs::LogRecord* r : recs) {
      if (res_of(r) != res) continue;
      bool seen = false;
      for (const InstrumentationScope* s : scopes) seen |= s == scope_of(r);
      if (!seen) scopes.push_back(scope_of(r));
    }
    for (size_t si = 0; si < scopes.size(); ++si) {
      if (si) out += ',';
      out += "{\"scope\":{\"name\":";
      JsonString(out, scopes[si]->name);
      out += ",\"version\":";
      JsonString(out, scopes[si]->version);
      out += "},\"logRecords\":[";
      bool first = true;
      for (const logs::LogRecord* r : recs) {
        if (res_of(r) != res || scope_of(r) != scopes[si]) continue;
        if (!first) out += ',';
        first = false;
        RecordJson(out, *r);
      }
      out += "],\"schemaUrl\":";
      JsonString(out, scopes[si]->schema_url);
      out += '}';
    }
    out += "],\"schemaUrl\":";
    JsonString(out, res->schema_url());
    out += '}';
  }
  out += "]}";
  return out;
}

}  // namespace otelweb::otlp
