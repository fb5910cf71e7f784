// OTLP metrics encoders: ExportMetricsServiceRequest as protobuf (written
// directly with WireBuffer, field numbers of opentelemetry-proto
// metrics/v1/metrics.proto) and as OTLP/JSON. Collections are small next to
// span batches (one point per series per interval), so this favours clarity:
// nested messages reserve one or two length bytes and are fixed up at End.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

#include "core/utf8.h"
#include "otelweb/otlp/metric_exporter.h"
#include "otlp/json_writer.h"
#include "otlp/wire.h"

namespace otelweb::otlp {

namespace {

using internal::WireBuffer;
using metrics::Exemplar;
using metrics::HistogramPoint;
using metrics::MetricData;
using metrics::MetricPointKind;
using metrics::NumberPoint;

enum : uint32_t { kVarint = 0, kFixed64 = 1, kLen = 2 };
constexpr uint32_t Tag(uint32_t field, uint32_t type) { return (field << 3) | type; }

uint64_t Nanos(Timestamp t) { return static_cast<uint64_t>(t.time_since_epoch().count()); }

uint64_t Bits(double d) {
  uint64_t u;
  std::memcpy(&u, &d, 8);
  return u;
}

class Pb {
 public:
  explicit Pb(WireBuffer& b) : b_(b) {}

  void String(uint32_t field, std::string_view s) {
    if (s.empty()) return;
    if (IsValidUtf8(s)) {
      b_.LenField(Tag(field, kLen), s.data(), s.size());
    } else {
      std::string clean;
      AppendSanitizedUtf8(clean, s);
      b_.LenField(Tag(field, kLen), clean.data(), clean.size());
    }
  }
  void Fixed64(uint32_t field, uint64_t v) {
    b_.Varint(Tag(field, kFixed64));
    b_.Fixed64(v);
  }
  void Double(uint32_t field, double v) { Fixed64(field, Bits(v)); }

  void AnyValue(uint32_t field, const OwnedValue& v) {
    size_t any = b_.Begin(Tag(field, kLen), 1);
    switch (v.type) {
      case AttributeType::kBool:
        b_.Varint(Tag(2, kVarint));
        b_.Varint(v.b ? 1 : 0);
        break;
      case AttributeType::kInt:
        b_.Varint(Tag(3, kVarint));
        b_.Varint(static_cast<uint64_t>(v.i));
        break;
      case AttributeType::kDouble:
        Double(4, v.d);
        break;
      case AttributeType::kString:
        b_.Varint(Tag(1, kLen));
        {
          std::string clean;
          AppendSanitizedUtf8(clean, v.s);
          b_.Varint(clean.size());
          b_.Raw(clean.data(), clean.size());
        }
        break;
      case AttributeType::kNone:
        break;
      default: {
        size_t arr = b_.Begin(Tag(5, kLen), 2);
        for (bool x : v.bools) {
          OwnedValue e;
          e.type = AttributeType::kBool;
          e.b = x;
          AnyValue(1, e);
        }
        for (int64_t x : v.ints) {
          OwnedValue e;
          e.type = AttributeType::kInt;
          e.i = x;
          AnyValue(1, e);
        }
        for (double x : v.doubles) {
          OwnedValue e;
          e.type = AttributeType::kDouble;
          e.d = x;
          AnyValue(1, e);
        }
        for (const auto& x : v.strings) {
          OwnedValue e;
          e.type = AttributeType::kString;
          e.s = x;
          AnyValue(1, e);
        }
        b_.End(arr, 2);
      }
    }
    b_.End(any, 1);
  }

  void KeyValues(uint32_t field, const std::vector<OwnedKeyValue>& kvs) {
    for (const auto& kv : kvs) {
      size_t at = b_.Begin(Tag(field, kLen), 1);
      String(1, kv.key);
      AnyValue(2, kv.value);
      b_.End(at, 1);
    }
  }

  void Exemplars(uint32_t field, const std::vector<Exemplar>& ex) {
    for (const auto& e : ex) {
      size_t at = b_.Begin(Tag(field, kLen), 1);
      Fixed64(2, Nanos(e.time));
      if (e.is_int) {
        Fixed64(6, static_cast<uint64_t>(e.as_int));
      } else {
        Double(3, e.as_double);
      }
      if (e.span_id.IsValid()) b_.LenField(Tag(4, kLen), e.span_id.bytes().data(), 8);
      if (e.trace_id.IsValid()) b_.LenField(Tag(5, kLen), e.trace_id.bytes().data(), 16);
      KeyValues(7, e.filtered_attributes);
      b_.End(at, 1);
    }
  }

  void Number(uint32_t field, const NumberPoint& p) {
    size_t at = b_.Begin(Tag(field, kLen), 2);
    Fixed64(2, Nanos(p.start_time));
    Fixed64(3, Nanos(p.time));
    if (p.is_int) {
      Fixed64(6, static_cast<uint64_t>(p.as_int));
    } else {
      Double(4, p.as_double);
    }
    Exemplars(5, p.exemplars);
    KeyValues(7, p.attributes);
    b_.End(at, 2);
  }

  void Histogram(uint32_t field, const HistogramPoint& p) {
    size_t at = b_.Begin(Tag(field, kLen), 2);
    Fixed64(2, Nanos(p.start_time));
    Fixed64(3, Nanos(p.time));
    Fixed64(4, p.count);
    Double(5, p.sum);
    if (!p.bucket_counts.empty()) {  // packed fixed64
      b_.Varint(Tag(6, kLen));
      b_.Varint(p.bucket_counts.size() * 8);
      for (uint64_t c : p.bucket_counts) b_.Fixed64(c);
    }
    if (!p.boundaries.empty()) {  // packed double
      b_.Varint(Tag(7, kLen));
      b_.Varint(p.boundaries.size() * 8);
      for (double d : p.boundaries) b_.Fixed64(Bits(d));
    }
    Exemplars(8, p.exemplars);
    KeyValues(9, p.attributes);
    if (p.has_min_max) {
      Double(11, p.min);
      Double(12, p.max);
    }
    b_.End(at, 2);
  }

  void Buckets(uint32_t field, const metrics::ExponentialBuckets& b) {
    if (b.bucket_counts.empty()) return;
    size_t at = b_.Begin(Tag(field, kLen), 2);
    if (b.offset != 0) {  // sint32: zigzag
      b_.Varint(Tag(1, kVarint));
      b_.Varint(static_cast<uint32_t>((b.offset << 1) ^ (b.offset >> 31)));
    }
    size_t packed = b_.Begin(Tag(2, kLen), 2);  // packed uint64
    for (uint64_t c : b.bucket_counts) b_.Varint(c);
    b_.End(packed, 2);
    b_.End(at, 2);
  }

  void ExponentialHistogram(uint32_t field, const HistogramPoint& p) {
    size_t at = b_.Begin(Tag(field, kLen), 2);
    KeyValues(1, p.attributes);
    Fixed64(2, Nanos(p.start_time));
    Fixed64(3, Nanos(p.time));
    Fixed64(4, p.count);
    Double(5, p.sum);
    if (p.scale != 0) {
      b_.Varint(Tag(6, kVarint));
      b_.Varint(static_cast<uint32_t>((p.scale << 1) ^ (p.scale >> 31)));
    }
    if (p.zero_count != 0) Fixed64(7, p.zero_count);
    Buckets(8, p.positive);
    Buckets(9, p.negative);
    Exemplars(11, p.exemplars);
    if (p.has_min_max) {
      Double(12, p.min);
      Double(13, p.max);
    }
    if (p.zero_threshold != 0) Double(14, p.zero_threshold);
    b_.End(at, 2);
  }

  void Metric(uint32_t field, const MetricData& m) {
    size_t at = b_.Begin(Tag(field, kLen), 3);
    String(1, m.name);
    String(2, m.description);
    String(3, m.unit);
    switch (m.point_kind) {
      case MetricPointKind::kGauge: {
        size_t g = b_.Begin(Tag(5, kLen), 3);
        for (const auto& p : m.number_points) Number(1, p);
        b_.End(g, 3);
        break;
      }
      case MetricPointKind::kSum: {
        size_t s = b_.Begin(Tag(7, kLen), 3);
        for (const auto& p : m.number_points) Number(1, p);
        b_.Varint(Tag(2, kVarint));
        b_.Varint(static_cast<uint64_t>(m.temporality));
        if (m.monotonic) {
          b_.Varint(Tag(3, kVarint));
          b_.Varint(1);
        }
        b_.End(s, 3);
        break;
      }
      case MetricPointKind::kHistogram: {
        size_t h = b_.Begin(Tag(9, kLen), 3);
        for (const auto& p : m.histogram_points) Histogram(1, p);
        b_.Varint(Tag(2, kVarint));
        b_.Varint(static_cast<uint64_t>(m.temporality));
        b_.End(h, 3);
        break;
      }
      case MetricPointKind::kExponentialHistogram: {
        size_t h = b_.Begin(Tag(10, kLen), 3);
        for (const auto& p : m.histogram_points) ExponentialHistogram(1, p);
        b_.Varint(Tag(2, kVarint));
        b_.Varint(static_cast<uint64_t>(m.temporality));
        b_.End(h, 3);
        break;
      }
    }
    b_.End(at, 3);
  }

 private:
  WireBuffer& b_;
};

// ---------------------------------------------------------------------------
// OTLP/JSON

// The OTLP/JSON value writers shared with the trace and logs encoders.
using internal::json::AnyValueOwned;
using internal::json::JsonDouble;
using internal::json::JsonInt64;
using internal::json::JsonString;
using internal::json::JsonU64;

void JAttrs(std::string& out, const char* name, const std::vector<OwnedKeyValue>& kvs) {
  out += '"';
  out += name;
  out += "\":[";
  for (size_t i = 0; i < kvs.size(); ++i) {
    if (i) out += ',';
    out += "{\"key\":";
    JsonString(out, kvs[i].key);
    out += ",\"value\":";
    AnyValueOwned(out, kvs[i].value);
    out += '}';
  }
  out += ']';
}

void JExemplars(std::string& out, const std::vector<Exemplar>& ex) {
  out += ",\"exemplars\":[";
  for (size_t i = 0; i < ex.size(); ++i) {
    const auto& e = ex[i];
    if (i) out += ',';
    out += "{\"timeUnixNano\":";
    JsonU64(out, Nanos(e.time));
    if (e.is_int) {
      out += ",\"asInt\":";
      JsonInt64(out, e.as_int);
    } else {
      out += ",\"asDouble\":";
      JsonDouble(out, e.as_double);
    }
    if (e.trace_id.IsValid()) out += ",\"traceId\":\"" + e.trace_id.ToHex() + "\"";
    if (e.span_id.IsValid()) out += ",\"spanId\":\"" + e.span_id.ToHex() + "\"";
    out += ',';
    JAttrs(out, "filteredAttributes", e.filtered_attributes);
    out += '}';
  }
  out += ']';
}

void JNumber(std::string& out, const NumberPoint& p) {
  out += '{';
  JAttrs(out, "attributes", p.attributes);
  out += ",\"startTimeUnixNano\":";
  JsonU64(out, Nanos(p.start_time));
  out += ",\"timeUnixNano\":";
  JsonU64(out, Nanos(p.time));
  if (p.is_int) {
    out += ",\"asInt\":";
    JsonInt64(out, p.as_int);
  } else {
    out += ",\"asDouble\":";
    JsonDouble(out, p.as_double);
  }
  JExemplars(out, p.exemplars);
  out += '}';
}

// The fields both histogram kinds open with: attributes, times, count, sum.
void JHistogramHead(std::string& out, const HistogramPoint& p) {
  out += '{';
  JAttrs(out, "attributes", p.attributes);
  out += ",\"startTimeUnixNano\":";
  JsonU64(out, Nanos(p.start_time));
  out += ",\"timeUnixNano\":";
  JsonU64(out, Nanos(p.time));
  out += ",\"count\":";
  JsonU64(out, p.count);
  out += ",\"sum\":";
  JsonDouble(out, p.sum);
}

void JMinMax(std::string& out, const HistogramPoint& p) {
  if (p.has_min_max) {
    out += ",\"min\":";
    JsonDouble(out, p.min);
    out += ",\"max\":";
    JsonDouble(out, p.max);
  }
}

void JHistogram(std::string& out, const HistogramPoint& p) {
  JHistogramHead(out, p);
  out += ",\"bucketCounts\":[";
  for (size_t i = 0; i < p.bucket_counts.size(); ++i) {
    if (i) out += ',';
    JsonU64(out, p.bucket_counts[i]);
  }
  out += "],\"explicitBounds\":[";
  for (size_t i = 0; i < p.boundaries.size(); ++i) {
    if (i) out += ',';
    JsonDouble(out, p.boundaries[i]);
  }
  out += ']';
  JMinMax(out, p);
  JExemplars(out, p.exemplars);
  out += '}';
}

void JBuckets(std::string& out, const char* name, const metrics::ExponentialBuckets& b) {
  out += ",\"";
  out += name;
  out += "\":{\"offset\":" + std::to_string(b.offset) + ",\"bucketCounts\":[";
  for (size_t i = 0; i < b.bucket_counts.size(); ++i) {
    if (i) out += ',';
    JsonU64(out, b.bucket_counts[i]);
  }
  out += "]}";
}

void JExponentialHistogram(std::string& out, const HistogramPoint& p) {
  JHistogramHead(out, p);
  out += ",\"scale\":" + std::to_string(p.scale);
  out += ",\"zeroCount\":";
  JsonU64(out, p.zero_count);
  JBuckets(out, "positive", p.positive);
  JBuckets(out, "negative", p.negative);
  JMinMax(out, p);
  out += ",\"zeroThreshold\":";
  JsonDouble(out, p.zero_threshold);
  JExemplars(out, p.exemplars);
  out += '}';
}

}  // namespace

void EncodeMetricsProtobuf(const metrics::ResourceMetrics& rm, std::string* out) {
  WireBuffer b;
  Pb pb(b);
  size_t res_metrics = b.Begin(Tag(1, kLen), 4);
  {
    size_t res = b.Begin(Tag(1, kLen), 2);
    pb.KeyValues(1, rm.resource.attributes());
    b.End(res, 2);
    for (const auto& sm : rm.scope_metrics) {
      size_t smat = b.Begin(Tag(2, kLen), 4);
      size_t scope = b.Begin(Tag(1, kLen), 1);
      pb.String(1, sm.scope.name);
      pb.String(2, sm.scope.version);
      pb.KeyValues(3, sm.scope.attributes);
      b.End(scope, 1);
      for (const auto& m : sm.metrics) pb.Metric(2, m);
      pb.String(3, sm.scope.schema_url);
      b.End(smat, 4);
    }
    pb.String(3, rm.resource.schema_url());
  }
  b.End(res_metrics, 4);
  *out = b.Finish();
}

std::string EncodeMetricsJson(const metrics::ResourceMetrics& rm) {
  std::string out = "{\"resourceMetrics\":[{\"resource\":{";
  JAttrs(out, "attributes", rm.resource.attributes());
  out += "},\"scopeMetrics\":[";
  for (size_t i = 0; i < rm.scope_metrics.size(); ++i) {
    const auto& sm = rm.scope_metrics[i];
    if (i) out += ',';
    out += "{\"scope\":{\"name\":";
    JsonString(out, sm.scope.name);
    out += ",\"version\":";
    JsonString(out, sm.scope.version);
    out += "},\"metrics\":[";
    for (size_t j = 0; j < sm.metrics.size(); ++j) {
      const auto& m = sm.metrics[j];
      if (j) out += ',';
      out += "{\"name\":";
      JsonString(out, m.name);
      out += ",\"description\":";
      JsonString(out, m.description);
      out += ",\"unit\":";
      JsonString(out, m.unit);
      switch (m.point_kind) {
        case MetricPointKind::kGauge:
          out += ",\"gauge\":{\"dataPoints\":[";
          for (size_t k = 0; k < m.number_points.size(); ++k) {
            if (k) out += ',';
            JNumber(out, m.number_points[k]);
          }
          out += "]}";
          break;
        case MetricPointKind::kSum:
          out += ",\"sum\":{\"dataPoints\":[";
          for (size_t k = 0; k < m.number_points.size(); ++k) {
            if (k) out += ',';
            JNumber(out, m.number_points[k]);
          }
          out += "],\"aggregationTemporality\":" + std::to_string(static_cast<int>(m.temporality)) +
                 ",\"isMonotonic\":" + (m.monotonic ? "true" : "false") + "}";
          break;
        case MetricPointKind::kHistogram:
          out += ",\"histogram\":{\"dataPoints\":[";
          for (size_t k = 0; k < m.histogram_points.size(); ++k) {
            if (k) out += ',';
            JHistogram(out, m.histogram_points[k]);
          }
          out += "],\"aggregationTemporality\":" + std::to_string(static_cast<int>(m.temporality)) +
                 "}";
          break;
        case MetricPointKind::kExponentialHistogram:
          out += ",\"exponentialHistogram\":{\"dataPoints\":[";
          for (size_t k = 0; k < m.histogram_points.size(); ++k) {
            if (k) out += ',';
            JExponentialHistogram(out, m.histogram_points[k]);
          }
          out += "],\"aggregationTemporality\":" + std::to_string(static_cast<int>(m.temporality)) +
                 "}";
          break;
      }
      out += '}';
    }
    out += "]";
    if (!sm.scope.schema_url.empty()) {
      out += ",\"schemaUrl\":";
      JsonString(out, sm.scope.schema_url);
    }
    out += '}';
  }
  out += "]";
  if (!rm.resource.schema_url().empty()) {
    out += ",\"schemaUrl\":";
    JsonString(out, rm.resource.schema_url());
  }
  out += "}]}";
  return out;
}

}  // namespace otelweb::otlp
