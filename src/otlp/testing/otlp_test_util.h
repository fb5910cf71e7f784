// Test helpers of the OTLP tests: spans with every OTLP feature, and a field-by-field
// comparison of a parsed ExportTraceServiceRequest (libprotobuf, generated from
// our .proto files) against the span data it was encoded from.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "otelweb/testing/in_memory_exporter.h"
#include "otelweb/testing/memory_tracing.h"
#include "otelweb/otelweb.h"
#include "core/utf8.h"

namespace otelweb::otlp::testing {

namespace pb = ::opentelemetry::proto;

inline std::string Clean(std::string_view s) {
  std::string out;
  AppendSanitizedUtf8(out, s);
  return out;
}

inline std::string Bytes(const uint8_t* p, size_t n) {
  return std::string(reinterpret_cast<const char*>(p), n);
}

inline uint32_t Flags(uint8_t w3c, bool remote) { return w3c | 0x100u | (remote ? 0x200u : 0u); }

// A provider writing to an in-memory store, with a fixed resource (not the
// global provider).
struct SpanSource : otelweb::testing::MemoryTracing {
  explicit SpanSource(std::string service = "svc", SpanLimitsOptions limits = {})
      : MemoryTracing(otelweb::testing::MemoryTracingOptions{
            .set_global = false,
            .sampler = AlwaysOnSampler(),
            .resource = Resource(
                std::vector<OwnedKeyValue>{{"service.name", OwnedValue(AttributeValue(service))},
                                           {"host.arch", OwnedValue(AttributeValue("amd64"))},
                                           {"process.pid", OwnedValue(AttributeValue(int64_t{4242}))}},
                "https://opentelemetry.io/schemas/1.26.0"),
            .limits = limits}) {}
};

// Ends one span with every feature OTLP carries: remote parent, trace state,
// attributes of every type, events, links with trace state and flags, status,
// and (with small limits) dropped counts.
inline void MakeRichSpan(Tracer& tracer, std::string_view name = "GET /items/{id}") {
  SpanContext parent(TraceId::FromWords(0x0102030405060708, 0x090a0b0c0d0e0f10),
                     SpanId::FromWord(0x1112131415161718), TraceFlags{1}, /*remote=*/true,
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
  Span s = tracer.StartSpan(name, so);
  s.SetAttribute("http.request.method", "GET");
  s.SetAttribute("http.response.status_code", 503);
  s.SetAttribute("ratio", 0.25);
  s.SetAttribute("negative", int64_t{-7});
  s.SetAttribute("flag", false);
  s.SetAttribute("empty", "");
  s.SetAttribute("bad.utf8", std::string_view("ok\xff\xfe end"));
  s.SetAttribute("tags", {std::string_view("a"), std::string_view("b\xc3")});
  s.SetAttribute("ints", {int64_t{1}, int64_t{-2}, int64_t{300}});
  static const bool bools[] = {true, false};
  static const double doubles[] = {1.5, -2.0};
  s.SetAttribute("bools", std::span<const bool>(bools));
  s.SetAttribute("doubles", std::span<const double>(doubles));
  s.SetAttribute("big", std::string(20000, 'x'));  // longer than a 2-byte length
  KeyValue ev_attrs[] = {{"exception.type", "std::runtime_error"}, {"exception.message", "boom"}};
  s.AddEvent("exception", ev_attrs);
  s.AddEvent("no attrs");
  s.SetStatus(StatusCode::kError, "upstream unavailable");
  s.End();
}

inline void ExpectValue(const pb::common::v1::AnyValue& a, const AttributeView& v) {
  switch (v.type()) {
    case AttributeType::kBool:
      ASSERT_TRUE(a.has_bool_value());
      EXPECT_EQ(a.bool_value(), v.as_bool());
      break;
    case AttributeType::kInt:
      ASSERT_TRUE(a.has_int_value());
      EXPECT_EQ(a.int_value(), v.as_int());
      break;
    case AttributeType::kDouble:
      ASSERT_TRUE(a.has_double_value());
      EXPECT_EQ(a.double_value(), v.as_double());
      break;
    case AttributeType::kString:
      ASSERT_TRUE(a.has_string_value());
      EXPECT_EQ(a.string_value(), Clean(v.as_string()));
      break;
    default: {
      ASSERT_TRUE(a.has_array_value());
      ASSERT_EQ(uint32_t(a.array_value().values_size()), v.array_size());
      for (uint32_t i = 0; i < v.array_size(); ++i) {
        const auto& e = a.array_value().values(int(i));
        switch (v.type()) {
          case AttributeType::kBoolArray:
            EXPECT_EQ(e.bool_value(), v.bool_at(i));
            break;
          case AttributeType::kIntArray:
            EXPECT_EQ(e.int_value(), v.int_at(i));
            break;
          case AttributeType::kDoubleArray:
            EXPECT_EQ(e.double_value(), v.double_at(i));
            break;
          case AttributeType::kStringArray:
            EXPECT_EQ(e.string_value(), Clean(v.string_at(i)));
            break;
          default:
            ADD_FAILURE();
        }
      }
    }
  }
}

template <typename Get>
void ExpectAttributes(const google::protobuf::RepeatedPtrField<pb::common::v1::KeyValue>& kvs,
                      size_t n, Get get) {
  ASSERT_EQ(size_t(kvs.size()), n);
  for (size_t i = 0; i < n; ++i) {
    AttributeView v = get(i);
    EXPECT_EQ(kvs[int(i)].key(), Clean(v.key()));
    ExpectValue(kvs[int(i)].value(), v);
  }
}

inline void ExpectResource(const pb::resource::v1::Resource& r, const Resource& want) {
  ASSERT_EQ(size_t(r.attributes_size()), want.attributes().size());
  for (size_t i = 0; i < want.attributes().size(); ++i) {
    const auto& kv = r.attributes(int(i));
    const OwnedKeyValue& w = want.attributes()[i];
    EXPECT_EQ(kv.key(), w.key);
    switch (w.value.type) {
      case AttributeType::kString:
        EXPECT_EQ(kv.value().string_value(), w.value.s);
        break;
      case AttributeType::kInt:
        EXPECT_EQ(kv.value().int_value(), w.value.i);
        break;
      case AttributeType::kBool:
        EXPECT_EQ(kv.value().bool_value(), w.value.b);
        break;
      case AttributeType::kDouble:
        EXPECT_EQ(kv.value().double_value(), w.value.d);
        break;
      default:
        break;
    }
  }
  EXPECT_EQ(r.dropped_attributes_count(), 0u);
}

inline void ExpectSpan(const pb::trace::v1::Span& p, const SpanData& s) {
  EXPECT_EQ(p.trace_id(), Bytes(s.trace_id().bytes().data(), 16));
  EXPECT_EQ(p.span_id(), Bytes(s.span_id().bytes().data(), 8));
  EXPECT_EQ(p.trace_state(), std::string(s.context().trace_state().header()));
  if (s.parent_span_id().IsValid()) {
    EXPECT_EQ(p.parent_span_id(), Bytes(s.parent_span_id().bytes().data(), 8));
  } else {
    EXPECT_TRUE(p.parent_span_id().empty());
  }
  EXPECT_EQ(p.flags(), Flags(s.context().flags().value, s.parent_is_remote()));
  EXPECT_EQ(p.name(), Clean(s.name()));
  EXPECT_EQ(int(p.kind()), int(s.kind()));
  EXPECT_EQ(p.start_time_unix_nano(), uint64_t(s.start_ns()));
  EXPECT_EQ(p.end_time_unix_nano(), uint64_t(s.end_ns()));
  ExpectAttributes(p.attributes(), s.attribute_count(), [&](size_t i) { return s.attribute(i); });
  EXPECT_EQ(p.dropped_attributes_count(), s.dropped_attributes());
  ASSERT_EQ(size_t(p.events_size()), s.event_count());
  for (size_t e = 0; e < s.event_count(); ++e) {
    const auto& pe = p.events(int(e));
    EXPECT_EQ(pe.time_unix_nano(), uint64_t(s.event_time_ns(e)));
    EXPECT_EQ(pe.name(), Clean(s.event_name(e)));
    ExpectAttributes(pe.attributes(), s.event_attribute_count(e),
                     [&](size_t j) { return s.event_attribute(e, j); });
    EXPECT_EQ(pe.dropped_attributes_count(), s.event_dropped_attributes(e));
  }
  EXPECT_EQ(p.dropped_events_count(), s.dropped_events());
  ASSERT_EQ(size_t(p.links_size()), s.link_count());
  for (size_t l = 0; l < s.link_count(); ++l) {
    const auto& pl = p.links(int(l));
    const SpanContext& lc = s.link_context(l);
    EXPECT_EQ(pl.trace_id(), Bytes(lc.trace_id().bytes().data(), 16));
    EXPECT_EQ(pl.span_id(), Bytes(lc.span_id().bytes().data(), 8));
    EXPECT_EQ(pl.trace_state(), std::string(lc.trace_state().header()));
    ExpectAttributes(pl.attributes(), s.link_attribute_count(l),
                     [&](size_t j) { return s.link_attribute(l, j); });
    EXPECT_EQ(pl.dropped_attributes_count(), s.link_dropped_attributes(l));
    EXPECT_EQ(pl.flags(), Flags(lc.flags().value, lc.is_remote()));
  }
  EXPECT_EQ(p.dropped_links_count(), s.dropped_links());
  EXPECT_EQ(int(p.status().code()), int(s.status()));
  EXPECT_EQ(p.status().message(), Clean(s.status_description()));
}

// Every span of `want` appears exactly once in the requests, under its own
// resource and scope, with every field equal.
inline void ExpectRequestsMatch(
    const std::vector<pb::collector::trace::v1::ExportTraceServiceRequest>& reqs,
    const std::vector<const SpanData*>& want) {
  std::map<std::string, const SpanData*> by_id;
  for (const SpanData* s : want) by_id[Bytes(s->span_id().bytes().data(), 8)] = s;
  std::map<std::string, int> seen;
  for (const auto& req : reqs) {
    for (const auto& rs : req.resource_spans()) {
      for (const auto& ss : rs.scope_spans()) {
        for (const auto& sp : ss.spans()) {
          auto it = by_id.find(sp.span_id());
          ASSERT_NE(it, by_id.end()) << "unexpected span " << sp.name();
          const SpanData& s = *it->second;
          ++seen[sp.span_id()];
          ExpectSpan(sp, s);
          ExpectResource(rs.resource(), s.resource());
          EXPECT_EQ(rs.schema_url(), std::string(s.resource().schema_url()));
          EXPECT_EQ(ss.scope().name(), s.scope().name);
          EXPECT_EQ(ss.scope().version(), s.scope().version);
          EXPECT_EQ(ss.schema_url(), s.scope().schema_url);
        }
      }
    }
  }
  EXPECT_EQ(seen.size(), want.size());
  for (auto& [id, n] : seen) EXPECT_EQ(n, 1) << "span delivered " << n << " times";
}

}  // namespace otelweb::otlp::testing
