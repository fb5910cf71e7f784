// Issue 3 interop peer: exports spans with every OTLP feature through
// OtlpSpanExporter, and prints what the receiver must decode, field by field,
// in a neutral shape (not our OTLP/JSON renderer) on one "EXPECT " line.
//
// Usage: otelweb_otlp_interop_client <grpc|http/protobuf|http/json> <endpoint> <gzip 0|1>
// Exit code 0 when the exporter reports every span delivered.
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>

#include "otelweb/testing/in_memory_exporter.h"
#include "otelweb/otlp/exporter.h"
#include "otelweb/otelweb.h"
#include "core/utf8.h"

using namespace otelweb;

namespace {

void Str(std::string& o, std::string_view s) {
  std::string clean;
  AppendSanitizedUtf8(clean, s);
  o += '"';
  for (unsigned char c : clean) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += char(c);
    } else if (c < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", c);
      o += b;
    } else {
      o += char(c);
    }
  }
  o += '"';
}

std::string Hex(const uint8_t* p, size_t n) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += d[p[i] >> 4];
    s += d[p[i] & 15];
  }
  return s;
}

std::string Dbl(double d) {
  char b[40];
  std::snprintf(b, sizeof b, "%.17g", d);
  return b;
}

// {"s":..} {"b":..} {"i":"..."} {"d":..} {"a":[..]}
void Value(std::string& o, const AttributeView& v) {
  auto scalar = [&](AttributeType t, uint32_t i) {
    switch (t) {
      case AttributeType::kBool:
      case AttributeType::kBoolArray:
        o += std::string("{\"b\":") +
             ((t == AttributeType::kBool ? v.as_bool() : v.bool_at(i)) ? "true" : "false") + "}";
        break;
      case AttributeType::kInt:
      case AttributeType::kIntArray:
        o += "{\"i\":\"" + std::to_string(t == AttributeType::kInt ? v.as_int() : v.int_at(i)) +
             "\"}";
        break;
      case AttributeType::kDouble:
      case AttributeType::kDoubleArray:
        o += "{\"d\":" + Dbl(t == AttributeType::kDouble ? v.as_double() : v.double_at(i)) + "}";
        break;
      default:
        o += "{\"s\":";
        Str(o, t == AttributeType::kString ? v.as_string() : v.string_at(i));
        o += "}";
    }
  };
  if (!v.is_array()) return scalar(v.type(), 0);
  o += "{\"a\":[";
  for (uint32_t i = 0; i < v.array_size(); ++i) {
    if (i) o += ',';
    scalar(v.type(), i);
  }
  o += "]}";
}

template <typename Get>
void Attrs(std::string& o, size_t n, Get get) {
  o += '[';
  for (size_t i = 0; i < n; ++i) {
    if (i) o += ',';
    AttributeView v = get(i);
    o += "{\"key\":";
    Str(o, v.key());
    o += ",\"value\":";
    Value(o, v);
    o += '}';
  }
  o += ']';
}

uint32_t Flags(uint8_t w3c, bool remote) { return w3c | 0x100u | (remote ? 0x200u : 0u); }

std::string Expect(const SpanData& s) {
  std::string o = "{\"traceId\":\"" + Hex(s.trace_id().bytes().data(), 16) + "\",\"spanId\":\"" +
                  Hex(s.span_id().bytes().data(), 8) + "\",\"parentSpanId\":\"" +
                  (s.parent_span_id().IsValid() ? Hex(s.parent_span_id().bytes().data(), 8) : "") +
                  "\"";
  o += ",\"traceState\":";
  Str(o, s.context().trace_state().header());
  o += ",\"flags\":" + std::to_string(Flags(s.context().flags().value, s.parent_is_remote()));
  o += ",\"name\":";
  Str(o, s.name());
  o += ",\"kind\":" + std::to_string(int(s.kind()));
  o += ",\"start\":\"" + std::to_string(s.start_ns()) + "\",\"end\":\"" +
       std::to_string(s.end_ns()) + "\"";
  o += ",\"attributes\":";
  Attrs(o, s.attribute_count(), [&](size_t i) { return s.attribute(i); });
  o += ",\"droppedAttributesCount\":" + std::to_string(s.dropped_attributes());
  o += ",\"events\":[";
  for (size_t e = 0; e < s.event_count(); ++e) {
    if (e) o += ',';
    o += "{\"time\":\"" + std::to_string(s.event_time_ns(e)) + "\",\"name\":";
    Str(o, s.event_name(e));
    o += ",\"attributes\":";
    Attrs(o, s.event_attribute_count(e), [&](size_t j) { return s.event_attribute(e, j); });
    o += ",\"droppedAttributesCount\":" + std::to_string(s.event_dropped_attributes(e)) + "}";
  }
  o += "],\"droppedEventsCount\":" + std::to_string(s.dropped_events());
  o += ",\"links\":[";
  for (size_t l = 0; l < s.link_count(); ++l) {
    const SpanContext& c = s.link_context(l);
    if (l) o += ',';
    o += "{\"traceId\":\"" + Hex(c.trace_id().bytes().data(), 16) + "\",\"spanId\":\"" +
         Hex(c.span_id().bytes().data(), 8) + "\",\"traceState\":";
    Str(o, c.trace_state().header());
    o += ",\"attributes\":";
    Attrs(o, s.link_attribute_count(l), [&](size_t j) { return s.link_attribute(l, j); });
    o += ",\"droppedAttributesCount\":" + std::to_string(s.link_dropped_attributes(l));
    o += ",\"flags\":" + std::to_string(Flags(c.flags().value, c.is_remote())) + "}";
  }
  o += "],\"droppedLinksCount\":" + std::to_string(s.dropped_links());
  o += ",\"status\":{\"code\":" + std::to_string(int(s.status())) + ",\"message\":";
  Str(o, s.status_description());
  o += "},\"scope\":{\"name\":";
  Str(o, s.scope().name);
  o += ",\"version\":";
  Str(o, s.scope().version);
  o += ",\"schemaUrl\":";
  Str(o, s.scope().schema_url);
  o += "},\"resource\":{\"schemaUrl\":";
  Str(o, s.resource().schema_url());
  o += ",\"attributes\":[";
  bool first = true;
  for (const auto& kv : s.resource().attributes()) {
    if (!first) o += ',';
    first = false;
    o += "{\"key\":";
    Str(o, kv.key);
    o += ",\"value\":";
    if (kv.value.type == AttributeType::kInt)
      o += "{\"i\":\"" + std::to_string(kv.value.i) + "\"}";
    else {
      o += "{\"s\":";
      Str(o, kv.value.s);
      o += "}";
    }
    o += '}';
  }
  o += "]}}";
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s <grpc|http/protobuf|http/json> <endpoint> <gzip 0|1>\n",
                 argv[0]);
    return 2;
  }
  otlp::OtlpExporterOptions eo;
  eo.read_environment = false;
  std::string proto = argv[1];
  eo.protocol = proto == "grpc"        ? otlp::Protocol::kGrpc
                : proto == "http/json" ? otlp::Protocol::kHttpJson
                                       : otlp::Protocol::kHttpProtobuf;
  eo.endpoint = argv[2];
  eo.compression =
      std::strcmp(argv[3], "1") == 0 ? otlp::Compression::kGzip : otlp::Compression::kNone;
  eo.timeout = std::chrono::seconds(10);
  auto exporter = std::make_unique<otlp::OtlpSpanExporter>(eo);
  otlp::OtlpSpanExporter* ex = exporter.get();

  auto store = std::make_shared<InMemorySpanStore>();
  TracerProviderOptions po;
  po.sampler = AlwaysOnSampler();
  po.limits.attribute_count = 11;  // 12 set on the rich span: one dropped
  po.limits.event_count = 3;
  po.resource = Resource({{"service.name", OwnedValue(AttributeValue("interop-svc"))},
                          {"process.pid", OwnedValue(AttributeValue(int64_t{4242}))}},
                         "https://opentelemetry.io/schemas/1.26.0");
  po.processors.push_back(
      std::make_unique<SimpleSpanProcessor>(std::make_unique<InMemorySpanExporter>(store)));
  po.processors.push_back(std::make_unique<BatchSpanProcessor>(std::move(exporter)));
  TracerProvider provider(std::move(po));
  Tracer t = provider.GetTracer("interop-scope", "9.8.7", "https://example.com/scope-schema");
  Tracer t2 = provider.GetTracer("second-scope");

  {
    SpanContext parent(TraceId::FromWords(0x0102030405060708, 0x090a0b0c0d0e0f10),
                       SpanId::FromWord(0x1112131415161718), TraceFlags{1}, true,
                       TraceState::FromHeader("vendor=abc,other=x1"));
    Context ctx = Context().WithSpanContext(parent);
    SpanContext linked(TraceId::FromWords(0xaaaa, 0xbbbb), SpanId::FromWord(0xcccc), TraceFlags{0},
                       true, TraceState::FromHeader("l=1"));
    KeyValue link_attrs[] = {{"link.kind", "follows"}, {"link.n", 3}};
    Link links[] = {{linked, link_attrs}};
    SpanOptions so;
    so.kind = SpanKind::kServer;
    so.parent = &ctx;
    so.links = links;
    Span s = t.StartSpan("GET /items/{id}", so);
    s.SetAttribute("http.request.method", "GET");
    s.SetAttribute("http.response.status_code", 503);
    s.SetAttribute("ratio", 0.25);
    s.SetAttribute("negative", int64_t{-7});
    s.SetAttribute("big.int", int64_t{9007199254740993});  // beyond a double's precision
    s.SetAttribute("flag", false);
    s.SetAttribute("empty", "");
    s.SetAttribute("bad.utf8", std::string_view("ok\xff end"));
    s.SetAttribute("tags", {std::string_view("a"), std::string_view("b")});
    s.SetAttribute("ints", {int64_t{1}, int64_t{-2}, int64_t{300}});
    static const bool bools[] = {true, false};
    s.SetAttribute("bools", std::span<const bool>(bools));
    s.SetAttribute("dropped", "by the limit");
    KeyValue ev[] = {{"exception.type", "std::runtime_error"},
                     {"exception.message", "boom \"quoted\""}};
    s.AddEvent("exception", ev);
    s.AddEvent("e2");
    s.AddEvent("e3");
    s.AddEvent("e4 dropped");
    s.SetStatus(StatusCode::kError, "upstream unavailable");
  }
  {
    Span root = t.StartSpan("root", SpanKind::kClient);
    Scope sc = MakeCurrent(root);
    Span child = t2.StartSpan("child", SpanKind::kProducer);
    child.SetStatus(StatusCode::kOk);
  }
  std::string out = "EXPECT [";
  bool first = true;
  for (const SpanData* s : store->spans()) {
    if (!first) out += ',';
    first = false;
    out += Expect(*s);
  }
  out += "]\n";
  std::fputs(out.c_str(), stdout);
  std::fflush(stdout);
  provider.Shutdown(std::chrono::seconds(15));
  auto c = ex->counters();
  std::fprintf(stderr, "exported=%" PRIu64 " dropped=%" PRIu64 "\n", c.spans_exported,
               c.spans_dropped);
  return c.spans_exported == store->size() ? 0 : 1;
}
