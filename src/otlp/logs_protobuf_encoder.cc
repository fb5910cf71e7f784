// ExportLogsServiceRequest in the protobuf wire format, written straight from
// log records (field numbers: opentelemetry/proto/logs/v1/logs.proto). Nested
// lengths are reserved and filled in afterwards, as in protobuf_encoder.cc.
#include <cstring>
#include <string>
#include <vector>

#include "core/utf8.h"
#include "otelweb/otlp/log_exporter.h"
#include "otelweb/resource.h"
#include "otelweb/trace/tracer.h"
#include "otlp/wire.h"

namespace otelweb::otlp {

namespace {

using internal::WireBuffer;
enum : uint32_t { kVarint = 0, kFixed64 = 1, kLen = 2, kFixed32 = 5 };
constexpr uint32_t Tag(uint32_t field, uint32_t type) { return (field << 3) | type; }

}  // namespace

struct LogsProtobufEncoder::Impl {
  WireBuffer b;
  std::string scratch;
  struct Group {
    const Resource* resource;
    const InstrumentationScope* scope;
  };
  std::vector<Group> groups;

  void String(uint32_t tag, std::string_view s) {
    if (IsValidUtf8(s)) {
      b.LenField(tag, s.data(), s.size());
    } else {
      scratch.clear();
      AppendSanitizedUtf8(scratch, s);
      b.LenField(tag, scratch.data(), scratch.size());
    }
  }
  void OptString(uint32_t tag, std::string_view s) {
    if (!s.empty()) String(tag, s);
  }
  void Any(uint32_t tag, const AttributeValue& v) {
    const size_t any = b.Begin(tag, 2);
    switch (v.type()) {
      case AttributeType::kBool:
        b.Varint(Tag(2, kVarint));
        b.Varint(v.as_bool() ? 1 : 0);
        break;
      case AttributeType::kInt:
        b.Varint(Tag(3, kVarint));
        b.Varint(static_cast<uint64_t>(v.as_int()));
        break;
      case AttributeType::kDouble: {
        b.Varint(Tag(4, kFixed64));
        uint64_t u;
        const double d = v.as_double();
        std::memcpy(&u, &d, 8);
        b.Fixed64(u);
        break;
      }
      case AttributeType::kString:
        String(Tag(1, kLen), v.as_string());
        break;
      default:
        break;
    }
    b.End(any, 2);
  }
  // A structured body: ArrayValue (AnyValue field 5, values = 1) or
  // KeyValueList (field 6, values = 1, KeyValue key = 1 value = 2).
  void AnyBody(uint32_t tag, const logs::BodyView& v) {
    if (v.kind() == logs::BodyValue::Kind::kScalar) {
      Any(tag, v.scalar());
      return;
    }
    const bool map = v.kind() == logs::BodyValue::Kind::kMap;
    const size_t any = b.Begin(tag, 2);
    const size_t list = b.Begin(Tag(map ? 6 : 5, kLen), 2);
    v.ForEach([&](std::string_view key, const logs::BodyView& e) {
      if (map) {
        const size_t kv = b.Begin(Tag(1, kLen), 2);
        String(Tag(1, kLen), key);
        AnyBody(Tag(2, kLen), e);
        b.End(kv, 2);
      } else {
        AnyBody(Tag(1, kLen), e);
      }
    });
    b.End(list, 2);
    b.End(any, 2);
  }
  void OwnedKv(const OwnedKeyValue& kv) {
    const size_t m = b.Begin(Tag(1, kLen), 2);
    String(Tag(1, kLen), kv.key);
    const OwnedValue& v = kv.value;
    switch (v.type) {
      case AttributeType::kBool:
        Any(Tag(2, kLen), AttributeValue(v.b));
        break;
      case AttributeType::kInt:
        Any(Tag(2, kLen), AttributeValue(v.i));
        break;
      case AttributeType::kDouble:
        Any(Tag(2, kLen), AttributeValue(v.d));
        break;
      case AttributeType::kString:
        Any(Tag(2, kLen), AttributeValue(std::string_view(v.s)));
        break;
      default: {  // arrays of the resource: rare; strings and ints
        const size_t any = b.Begin(Tag(2, kLen), 2);
        const size_t arr = b.Begin(Tag(5, kLen), 2);
        for (const auto& s : v.strings) Any(Tag(1, kLen), AttributeValue(std::string_view(s)));
        for (int64_t i : v.ints) Any(Tag(1, kLen), AttributeValue(i));
        for (double d : v.doubles) Any(Tag(1, kLen), AttributeValue(d));
        for (bool x : v.bools) Any(Tag(1, kLen), AttributeValue(x));
        b.End(arr, 2);
        b.End(any, 2);
      }
    }
    b.End(m, 2);
  }

  void Record(const logs::LogRecord& r) {
    const size_t m = b.Begin(Tag(2, kLen), 2);  // ScopeLogs.log_records
    const auto t = static_cast<uint64_t>(r.timestamp().time_since_epoch().count());
    if (t != 0) {
      b.Varint(Tag(1, kFixed64));
      b.Fixed64(t);
    }
    if (r.severity() != logs::Severity::kUnspecified) {
      b.Varint(Tag(2, kVarint));
      b.Varint(static_cast<uint64_t>(r.severity()));
    }
    OptString(Tag(3, kLen), r.severity_text());
    const AttributeValue body = r.body();
    if (r.has_structured_body()) {
      AnyBody(Tag(5, kLen), r.structured_body());
    } else if (body.type() != AttributeType::kNone) {
      Any(Tag(5, kLen), body);
    }
    for (size_t i = 0; i < r.attribute_count(); ++i) {
      const KeyValue kv = r.attribute(i);
      const size_t a = b.Begin(Tag(6, kLen), 1);
      String(Tag(1, kLen), kv.key);
      Any(Tag(2, kLen), kv.value);
      b.End(a, 1);
    }
    if (r.dropped_attributes_count() != 0) {
      b.Varint(Tag(7, kVarint));
      b.Varint(r.dropped_attributes_count());
    }
    if (r.trace_id().IsValid()) {
      b.Varint(Tag(8, kFixed32));
      b.Fixed32(r.trace_flags().value);
      b.LenField(Tag(9, kLen), r.trace_id().bytes().data(), 16);
      if (r.span_id().IsValid()) b.LenField(Tag(10, kLen), r.span_id().bytes().data(), 8);
    }
    const auto o = static_cast<uint64_t>(r.observed_timestamp().time_since_epoch().count());
    if (o != 0) {
      b.Varint(Tag(11, kFixed64));
      b.Fixed64(o);
    }
    OptString(Tag(12, kLen), r.event_name());
    b.End(m, 2);
  }

  std::string_view Run(std::span<const logs::LogRecord* const> recs) {
    b.Clear();
    groups.clear();
    static const Resource kEmptyResource;
    static const InstrumentationScope kEmptyScope;
    auto res_of = [](const logs::LogRecord* r) { return r->resource() ? r->resource() : &kEmptyResource; };
    auto scope_of = [](const logs::LogRecord* r) { return r->scope() ? r->scope() : &kEmptyScope; };
    for (const logs::LogRecord* r : recs) {
      bool seen = false;
      for (const Group& g : groups) seen |= (g.resource == res_of(r) && g.scope == scope_of(r));
      if (!seen) groups.push_back({res_of(r), scope_of(r)});
    }
    for (size_t gi = 0; gi < groups.size(); ++gi) {
      const Resource* res = groups[gi].resource;
      bool first = true;
      for (size_t k = 0; k < gi; ++k) first &= (groups[k].resource != res);
      if (!first) continue;
      const size_t rl = b.Begin(Tag(1, kLen), 3);  // ResourceLogs
      const size_t rm = b.Begin(Tag(1, kLen), 2);
      for (const OwnedKeyValue& kv : res->attributes()) OwnedKv(kv);
      b.End(rm, 2);
      for (size_t g = gi; g < groups.size(); ++g) {
        if (groups[g].resource != res) continue;
        const InstrumentationScope* sc = groups[g].scope;
        const size_t sl = b.Begin(Tag(2, kLen), 3);  // ScopeLogs
        const size_t sm = b.Begin(Tag(1, kLen), 1);
        OptString(Tag(1, kLen), sc->name);
        OptString(Tag(2, kLen), sc->version);
        b.End(sm, 1);
        for (const logs::LogRecord* r : recs) {
          if (res_of(r) == res && scope_of(r) == sc) Record(*r);
        }
        OptString(Tag(3, kLen), sc->schema_url);
        b.End(sl, 3);
      }
      OptString(Tag(3, kLen), res->schema_url());
      b.End(rl, 3);
    }
    return b.View();
  }
};

LogsProtobufEncoder::LogsProtobufEncoder() : impl_(new Impl) {}
LogsProtobufEncoder::~LogsProtobufEncoder() = default;
const std::string& LogsProtobufEncoder::Encode(std::span<const logs::LogRecord* const> records) {
  impl_->Run(records);
  return impl_->b.Finish();
}

std::string_view LogsProtobufEncoder::EncodeView(std::span<const logs::LogRecord* const> records) {
  return impl_->Run(records);
}

}  // namespace otelweb::otlp
