// The hand-written protobuf encoder, checked by parsing its bytes with
// libprotobuf (classes generated from our .proto files) field by field.
#include <gtest/gtest.h>

#include <random>

#include "otelweb/otlp/exporter.h"
#include "otelweb/testing/span_stub.h"
#include "otlp/testing/otlp_test_util.h"

namespace otelweb::otlp {
namespace {

using testing::SpanSource;
namespace pb = ::opentelemetry::proto;

pb::collector::trace::v1::ExportTraceServiceRequest Parse(const std::string& bytes) {
  pb::collector::trace::v1::ExportTraceServiceRequest req;
  EXPECT_TRUE(req.ParseFromString(bytes)) << "libprotobuf rejected our bytes";
  return req;
}

TEST(ProtobufEncoder, EmptyBatchIsAnEmptyRequest) {
  ProtobufEncoder enc;
  EXPECT_EQ(enc.Encode(std::span<const SpanData* const>()), "");
}

// What an exporter author does: encode spans built from stubs, no provider.
TEST(ProtobufEncoder, SpanStubsEncodeWithoutAProvider) {
  otelweb::testing::SpanStub server;
  server.name = "GET /items/{id}";
  server.kind = SpanKind::kServer;
  server.trace_id = TraceId::FromWords(0x0102030405060708, 0x090a0b0c0d0e0f10);
  server.span_id = SpanId::FromWord(0x1112131415161718);
  server.start_time = Timestamp(std::chrono::nanoseconds(1'000'000'000));
  server.end_time = Timestamp(std::chrono::nanoseconds(3'000'000'000));
  server.attributes = {{"http.response.status_code", OwnedValue(AttributeValue(500))}};
  server.events = {{"exception", Timestamp(std::chrono::nanoseconds(2'000'000'000)),
                    {{"exception.type", OwnedValue(AttributeValue("std::runtime_error"))}}}};
  server.status = StatusCode::kError;
  server.status_description = "boom";
  server.resource = Resource({{"service.name", OwnedValue(AttributeValue("stub-a"))}});
  server.scope = {"lib.a", "1.0", ""};
  otelweb::testing::SpanStub other;
  other.name = "other";
  other.resource = Resource({{"service.name", OwnedValue(AttributeValue("stub-b"))}});
  std::vector<EndedSpan> ended;
  ended.push_back(server.Build());
  ended.push_back(other.Build());
  std::vector<const SpanData*> spans{ended[0].get(), ended[1].get()};
  auto req = Parse(ProtobufEncoder().Encode(spans));
  ASSERT_EQ(req.resource_spans_size(), 2);  // one per resource
  testing::ExpectRequestsMatch({req}, spans);
  const auto& rs = req.resource_spans(0);
  EXPECT_EQ(rs.resource().attributes(0).value().string_value(), "stub-a");
  EXPECT_EQ(rs.scope_spans(0).scope().name(), "lib.a");
  const auto& p = rs.scope_spans(0).spans(0);
  EXPECT_EQ(p.trace_id(), std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10", 16));
  EXPECT_EQ(p.start_time_unix_nano(), 1'000'000'000u);
  EXPECT_EQ(p.end_time_unix_nano(), 3'000'000'000u);
  EXPECT_EQ(p.events(0).time_unix_nano(), 2'000'000'000u);
  EXPECT_EQ(int(p.status().code()), 2);  // STATUS_CODE_ERROR
  EXPECT_EQ(p.status().message(), "boom");
}

TEST(ProtobufEncoder, EveryFieldOfARichSpan) {
  SpanLimitsOptions limits;
  limits.attribute_count = 11;  // 12 set: one dropped
  limits.event_count = 2;
  SpanSource src("svc", limits);
  Tracer t = src.provider->GetTracer("scope-a", "1.0", "https://example.com/scope-schema");
  testing::MakeRichSpan(t);
  {
    Span s = t.StartSpan("events");
    for (int i = 0; i < 4; ++i) s.AddEvent("e");  // two dropped
    s.SetStatus(StatusCode::kOk);
  }
  {
    Span root = t.StartSpan("root", SpanKind::kClient);
    Scope sc = MakeCurrent(root);
    Span child = t.StartSpan("child", SpanKind::kConsumer);  // local parent
  }
  auto spans = src.store->spans();
  ASSERT_EQ(spans.size(), 4u);
  EXPECT_EQ(spans[0]->dropped_attributes(), 1u);
  EXPECT_EQ(spans[1]->dropped_events(), 2u);
  ProtobufEncoder enc;
  auto req = Parse(enc.Encode(spans));
  ASSERT_EQ(req.resource_spans_size(), 1);
  ASSERT_EQ(req.resource_spans(0).scope_spans_size(), 1);
  ASSERT_EQ(req.resource_spans(0).scope_spans(0).spans_size(), 4);
  testing::ExpectRequestsMatch({req}, spans);
  // Order is kept, and the remote-parent bits are what the spec says.
  const auto& ps = req.resource_spans(0).scope_spans(0).spans();
  EXPECT_EQ(ps[0].name(), "GET /items/{id}");
  EXPECT_EQ(ps[0].flags(), 0x301u);
  EXPECT_EQ(ps[0].trace_state(), "vendor=abc,other=x1");
  EXPECT_EQ(ps[0].links(0).flags(), 0x300u);
  EXPECT_EQ(ps[3].name(), "root");
  EXPECT_EQ(ps[2].flags(), 0x103u);  // child: local parent; sampled + random (a trace started here)
  // Invalid UTF-8 was repaired, so libprotobuf accepted the strings.
  bool found = false;
  for (const auto& kv : ps[0].attributes()) {
    if (kv.key() == "bad.utf8") {
      found = true;
      EXPECT_EQ(kv.value().string_value(), "ok\xEF\xBF\xBD\xEF\xBF\xBD end");
    }
  }
  EXPECT_TRUE(found);
}

TEST(ProtobufEncoder, GroupsByResourceThenScope) {
  SpanSource a("svc-a"), b("svc-b");
  Tracer a1 = a.provider->GetTracer("one", "1");
  Tracer a2 = a.provider->GetTracer("two", "2");
  Tracer b1 = b.provider->GetTracer("one", "1");
  std::vector<const SpanData*> all;
  // Interleaved: a1, b1, a2, a1, b1.
  a1.StartSpan("a1-x").End();
  b1.StartSpan("b1-x").End();
  a2.StartSpan("a2-x").End();
  a1.StartSpan("a1-y").End();
  b1.StartSpan("b1-y").End();
  auto sa = a.store->spans();
  auto sb = b.store->spans();
  all = {sa[0], sb[0], sa[1], sa[2], sb[1]};
  ProtobufEncoder enc;
  auto req = Parse(enc.Encode(all));
  ASSERT_EQ(req.resource_spans_size(), 2);
  EXPECT_EQ(req.resource_spans(0).resource().attributes(0).value().string_value(), "svc-a");
  EXPECT_EQ(req.resource_spans(1).resource().attributes(0).value().string_value(), "svc-b");
  ASSERT_EQ(req.resource_spans(0).scope_spans_size(), 2);
  EXPECT_EQ(req.resource_spans(0).scope_spans(0).scope().name(), "one");
  ASSERT_EQ(req.resource_spans(0).scope_spans(0).spans_size(), 2);
  EXPECT_EQ(req.resource_spans(0).scope_spans(0).spans(0).name(), "a1-x");
  EXPECT_EQ(req.resource_spans(0).scope_spans(0).spans(1).name(), "a1-y");
  EXPECT_EQ(req.resource_spans(0).scope_spans(1).scope().name(), "two");
  EXPECT_EQ(req.resource_spans(1).scope_spans(0).spans_size(), 2);
  testing::ExpectRequestsMatch({req}, all);
}

TEST(ProtobufEncoder, BufferIsReusedAcrossBatches) {
  SpanSource src;
  Tracer t = src.provider->GetTracer("s");
  for (int i = 0; i < 64; ++i) testing::MakeRichSpan(t, "span-" + std::to_string(i));
  auto spans = src.store->spans();
  ProtobufEncoder enc;
  std::string first = enc.Encode(spans);
  const char* data = enc.Encode(spans).data();
  EXPECT_EQ(enc.Encode(spans), first);
  EXPECT_EQ(enc.Encode(spans).data(), data);  // same storage
  auto req = Parse(first);
  testing::ExpectRequestsMatch({req}, spans);
  // A smaller batch after a bigger one.
  auto req2 = Parse(enc.Encode(std::span<const SpanData* const>(spans.data(), 1)));
  testing::ExpectRequestsMatch({req2}, {spans[0]});
}

// The exporter's path: views of batches of varying size give the bytes
// Encode() gives, and once the largest batch has been encoded the storage
// stays where it is (no regrowth, so no zero-filling).
TEST(ProtobufEncoder, ViewsOfVaryingBatchesAreTheEncodedBytes) {
  SpanSource src;
  Tracer t = src.provider->GetTracer("s");
  for (int i = 0; i < 64; ++i) testing::MakeRichSpan(t, "span-" + std::to_string(i));
  auto spans = src.store->spans();
  auto first = [&](size_t n) { return std::span<const SpanData* const>(spans.data(), n); };
  ProtobufEncoder enc;
  const char* largest = enc.EncodeView(first(64)).data();
  for (size_t n : {1u, 64u, 10u, 33u, 64u, 2u}) {
    const std::string expected = ProtobufEncoder().Encode(first(n));
    const std::string_view view = enc.EncodeView(first(n));
    EXPECT_EQ(view, expected) << n << " spans";
    EXPECT_EQ(view.data(), largest) << n << " spans";
    testing::ExpectRequestsMatch({Parse(std::string(view))}, std::vector<const SpanData*>(spans.begin(), spans.begin() + n));
  }
  // Encode() after views still gives a string of exactly the message.
  EXPECT_EQ(enc.Encode(first(3)), ProtobufEncoder().Encode(first(3)));
}

// Keys, values and span names of every length the fast path copies in a
// different way (0-3, 4-7, 8-16, 17-128 bytes, longer), with one non-ASCII
// byte at the first, middle and last position: ASCII and valid UTF-8 come out
// as they went in, invalid UTF-8 comes out repaired (U+FFFD), and the message
// stays well-formed when the encoder falls back to its UTF-8 path after it
// started writing an attribute.
TEST(ProtobufEncoder, StringsOfEveryLengthKeepValidAndRepairInvalidUtf8) {
  SpanSource src;
  Tracer t = src.provider->GetTracer("s");
  struct Want {
    std::string name, key, value, key3;
    int64_t len;
  };
  std::vector<Want> want;
  auto repaired = [](const std::string& s) {
    std::string out;
    for (char c : s) {
      if (c == '\xFF')
        out += "\xEF\xBF\xBD";
      else
        out += c;
    }
    return out;
  };
  for (size_t len : {0u, 1u, 2u, 3u, 4u, 7u, 8u, 9u, 15u, 16u, 17u, 31u, 32u, 33u, 64u, 127u, 128u, 129u, 300u}) {
    for (const std::string& odd : {std::string(), std::string("\xC3\xA9"), std::string("\xFF")}) {
      for (size_t at : {size_t(0), len / 2, len}) {
        if (odd.empty() && at != 0) continue;
        std::string base(len, 'k');
        for (size_t i = 0; i < len; ++i) base[i] = char('a' + i % 26);
        std::string s = base.substr(0, at) + odd + base.substr(at);
        std::string key = "key." + s;
        Span sp = t.StartSpan(s);
        sp.SetAttribute(key, s);
        sp.SetAttribute("plain", std::string_view(s));
        sp.SetAttribute(std::string_view(s.empty() ? "empty" : s), int64_t(len));
        want.push_back({repaired(s), repaired(key), repaired(s), repaired(s.empty() ? "empty" : s), int64_t(len)});
      }
    }
  }
  auto spans = src.store->spans();
  ASSERT_EQ(spans.size(), want.size());
  ProtobufEncoder enc;
  for (int round = 0; round < 2; ++round) {  // second round: reused buffer
    auto req = Parse(enc.Encode(spans));
    const auto& ps = req.resource_spans(0).scope_spans(0).spans();
    ASSERT_EQ(size_t(ps.size()), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      SCOPED_TRACE(i);
      EXPECT_EQ(ps[int(i)].name(), want[i].name);
      ASSERT_EQ(ps[int(i)].attributes_size(), 3);
      EXPECT_EQ(ps[int(i)].attributes(0).key(), want[i].key);
      EXPECT_EQ(ps[int(i)].attributes(0).value().string_value(), want[i].value);
      EXPECT_EQ(ps[int(i)].attributes(1).key(), "plain");
      EXPECT_EQ(ps[int(i)].attributes(1).value().string_value(), want[i].value);
      EXPECT_EQ(ps[int(i)].attributes(2).key(), want[i].key3);
      EXPECT_EQ(ps[int(i)].attributes(2).value().int_value(), want[i].len);
    }
  }
}

// Random spans through both span-head paths (with and without trace state
// and parent, names under and over 128 bytes) and both attribute paths:
// names, keys and string values of random lengths made of ASCII (with
// embedded NULs and control bytes), valid multi-byte UTF-8 and invalid
// bytes, in one batch and in batches of one. Every field must parse back as
// the span holds it (invalid UTF-8 repaired), and the same batch must encode
// to the same bytes with a fresh and a reused encoder.
TEST(ProtobufEncoder, RandomStringsEncodeAsTheSpansHoldThem) {
  std::mt19937_64 rng(7);
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  auto text = [&](size_t max_len) {
    std::string s;
    const size_t n = pick(4) == 0 ? 120 + pick(20) : pick(max_len + 1);
    while (s.size() < n) {
      switch (pick(10)) {
        case 0:
          s += '\0';
          break;
        case 1:
          s += static_cast<char>(1 + pick(31));
          break;
        case 2:
          s += "\xC3\xA9";  // é
          break;
        case 3:
          s += "\xF0\x9F\x98\x80";  // an emoji
          break;
        case 4:
          s += static_cast<char>(0x80 + pick(128));  // a lone byte: invalid
          break;
        case 5:
          s += "\xE2\x82";  // a truncated sequence
          break;
        default:
          s += static_cast<char>(0x20 + pick(95));
      }
    }
    return s;
  };
  std::vector<EndedSpan> ended;
  for (int i = 0; i < 400; ++i) {
    otelweb::testing::SpanStub stub;
    stub.name = text(pick(2) == 0 ? 16 : 200);
    stub.kind = static_cast<SpanKind>(1 + pick(5));
    if (pick(2) == 0) {
      stub.parent = SpanContext(TraceId::FromWords(rng() | 1, rng()), SpanId::FromWord(rng() | 1),
                                TraceFlags{1}, pick(2) == 0,
                                pick(2) == 0 ? TraceState::FromHeader("v=1") : TraceState());
    }
    if (pick(3) == 0) stub.trace_state = TraceState::FromHeader("a=" + std::to_string(i));
    const size_t n = pick(6);
    for (size_t j = 0; j < n; ++j) {
      std::string key = std::to_string(j) + text(20);
      switch (pick(4)) {
        case 0:
          stub.attributes.push_back({key, OwnedValue(AttributeValue(int64_t(rng())))});
          break;
        case 1:
          stub.attributes.push_back({key, OwnedValue(AttributeValue(pick(2) == 0))});
          break;
        default: {
          const std::string v = text(pick(2) == 0 ? 8 : 300);
          stub.attributes.push_back({key, OwnedValue(AttributeValue(std::string_view(v)))});
        }
      }
    }
    stub.start_time = Timestamp(std::chrono::nanoseconds(rng() >> 2));
    stub.end_time = Timestamp(std::chrono::nanoseconds(rng() >> 2));
    ended.push_back(stub.Build());
  }
  std::vector<const SpanData*> spans;
  for (const EndedSpan& e : ended) spans.push_back(e.get());
  ProtobufEncoder reused;
  const std::string whole = reused.Encode(spans);
  testing::ExpectRequestsMatch({Parse(whole)}, spans);
  EXPECT_EQ(ProtobufEncoder().Encode(spans), whole);
  for (const SpanData* s : spans) {
    const std::vector<const SpanData*> one{s};
    const std::string bytes = reused.Encode(one);
    EXPECT_EQ(bytes, ProtobufEncoder().Encode(one));
    testing::ExpectRequestsMatch({Parse(bytes)}, one);
  }
  EXPECT_EQ(reused.Encode(spans), whole);
}

}  // namespace
}  // namespace otelweb::otlp
