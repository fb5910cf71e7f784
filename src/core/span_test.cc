// Span behaviour read back through the in-memory exporter.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "otelweb/testing/in_memory_exporter.h"
#include "otelweb/otelweb.h"

namespace otelweb {
namespace {

struct Fixture {
  std::shared_ptr<InMemorySpanStore> store = std::make_shared<InMemorySpanStore>();
  std::unique_ptr<TracerProvider> provider;
  Tracer tracer;

  explicit Fixture(SpanLimitsOptions limits = {}, std::shared_ptr<Sampler> sampler = AlwaysOnSampler()) {
    TracerProviderOptions o;
    o.sampler = std::move(sampler);
    o.limits = limits;
    o.resource = Resource(std::vector<OwnedKeyValue>{{"service.name", OwnedValue(AttributeValue("svc"))}});
    o.processors.push_back(std::make_unique<SimpleSpanProcessor>(std::make_unique<InMemorySpanExporter>(store)));
    provider = std::make_unique<TracerProvider>(std::move(o));
    tracer = provider->GetTracer("test-scope", "1.2.3", "https://example.com/schema");
  }
  const SpanData& only() {
    auto v = store->spans();
    EXPECT_EQ(v.size(), 1u);
    return *v.at(0);
  }
};

AttributeView Attr(const SpanData& s, std::string_view key) {
  AttributeView v;
  EXPECT_TRUE(s.FindAttribute(key, &v)) << "missing attribute " << key;
  return v;
}

TEST(Span, BasicFieldsReachTheExporter) {
  Fixture f;
  Timestamp before = Now();
  {
    Span s = f.tracer.StartSpan("GET /items/{id}", SpanKind::kServer);
    EXPECT_TRUE(s.IsRecording());
    EXPECT_TRUE(s.GetContext().IsValid());
    EXPECT_TRUE(s.GetContext().sampled());
  }  // ends on destruction
  const SpanData& d = f.only();
  EXPECT_EQ(d.name(), "GET /items/{id}");
  EXPECT_EQ(d.kind(), SpanKind::kServer);
  EXPECT_FALSE(d.parent_span_id().IsValid());
  EXPECT_GE(d.start_time(), before);
  EXPECT_GE(d.end_time(), d.start_time());
  EXPECT_EQ(d.scope().name, "test-scope");
  EXPECT_EQ(d.scope().version, "1.2.3");
  EXPECT_EQ(d.scope().schema_url, "https://example.com/schema");
  EXPECT_EQ(d.resource().service_name(), "svc");
  EXPECT_EQ(d.status(), StatusCode::kUnset);
}

// A span ended by a thread_local destroyed after the core's own per-thread
// state (an instrumentation's request still pending when its thread exits)
// made a new per-thread state that nothing handed back: LeakSanitizer found it.
TEST(Span, EndedByAThreadLocalDestroyedAfterTheThreadState) {
  Fixture f;
  struct Late {
    Span span;
    ~Late() { span.End(); }
  };
  for (int i = 0; i < 4; ++i) {
    std::thread([&] {
      thread_local Late late;  // constructed first, so destroyed after the core's state
      late.span = f.tracer.StartSpan("late");
    }).join();
  }
  EXPECT_EQ(f.store->size(), 4u);
}

TEST(Span, AttributesOfEveryType) {
  Fixture f;
  {
    Span s = f.tracer.StartSpan("x");
    s.SetAttribute("b", true);
    s.SetAttribute("i", int64_t{-42});
    s.SetAttribute("u", 7u);
    s.SetAttribute("d", 2.5);
    s.SetAttribute("s", "hello");
    std::string owned = "temporary value that is longer than the small string buffer";
    s.SetAttribute("s2", owned);
    owned.assign(owned.size(), 'x');  // the span keeps its own copy
    bool bools[] = {true, false, true};
    s.SetAttribute("ba", std::span<const bool>(bools));
    int64_t ints[] = {1, 2, 3};
    s.SetAttribute("ia", std::span<const int64_t>(ints));
    double ds[] = {0.5, -1.5};
    s.SetAttribute("da", std::span<const double>(ds));
    s.SetAttribute("sa", {"a", "bc", ""});
  }
  const SpanData& d = f.only();
  EXPECT_EQ(d.attribute_count(), 10u);
  EXPECT_TRUE(Attr(d, "b").as_bool());
  EXPECT_EQ(Attr(d, "i").as_int(), -42);
  EXPECT_EQ(Attr(d, "u").as_int(), 7);
  EXPECT_EQ(Attr(d, "d").as_double(), 2.5);
  EXPECT_EQ(Attr(d, "s").as_string(), "hello");
  EXPECT_EQ(Attr(d, "s2").as_string(), "temporary value that is longer than the small string buffer");
  auto ba = Attr(d, "ba");
  ASSERT_EQ(ba.type(), AttributeType::kBoolArray);
  ASSERT_EQ(ba.array_size(), 3u);
  EXPECT_TRUE(ba.bool_at(0));
  EXPECT_FALSE(ba.bool_at(1));
  auto ia = Attr(d, "ia");
  ASSERT_EQ(ia.array_size(), 3u);
  EXPECT_EQ(ia.int_at(2), 3);
  auto da = Attr(d, "da");
  EXPECT_EQ(da.double_at(1), -1.5);
  auto sa = Attr(d, "sa");
  ASSERT_EQ(sa.type(), AttributeType::kStringArray);
  ASSERT_EQ(sa.array_size(), 3u);
  EXPECT_EQ(sa.string_at(0), "a");
  EXPECT_EQ(sa.string_at(1), "bc");
  EXPECT_EQ(sa.string_at(2), "");
  EXPECT_EQ(sa.ToString(), "[\"a\", \"bc\", \"\"]");
}

TEST(Span, SameKeyOverwritesWithoutCountingAgainstTheLimit) {
  SpanLimitsOptions lim;
  lim.attribute_count = 2;
  Fixture f(lim);
  {
    Span s = f.tracer.StartSpan("x");
    s.SetAttribute("a", 1);
    s.SetAttribute("a_long_key_over_eight_bytes", 1);
    s.SetAttribute("a", "now a string");
    s.SetAttribute("a_long_key_over_eight_bytes", 2);
    s.SetAttribute("c", 3);  // over the limit: dropped
    s.SetAttribute("d", 4);  // dropped
  }
  const SpanData& d = f.only();
  EXPECT_EQ(d.attribute_count(), 2u);
  EXPECT_EQ(Attr(d, "a").as_string(), "now a string");
  EXPECT_EQ(Attr(d, "a_long_key_over_eight_bytes").as_int(), 2);
  EXPECT_EQ(d.dropped_attributes(), 2u);
  EXPECT_FALSE(d.FindAttribute("c", nullptr));
}

TEST(Span, ManyKeysEachSetTwiceKeepOneSlotAndTheLastValue) {
  // More keys than the 64 bits of the duplicate filter, many sharing their
  // first eight bytes: every second write must find the first.
  Fixture f;
  {
    Span s = f.tracer.StartSpan("x");
    for (int pass = 0; pass < 2; ++pass) {
      for (int i = 0; i < 100; ++i) {
        std::string key = (i % 2 ? "shared.prefix." : "k") + std::to_string(i);
        s.SetAttribute(key, int64_t{i * 10 + pass});
      }
    }
  }
  const SpanData& d = f.only();
  EXPECT_EQ(d.attribute_count(), 100u);
  EXPECT_EQ(d.dropped_attributes(), 0u);
  for (int i = 0; i < 100; ++i) {
    std::string key = (i % 2 ? "shared.prefix." : "k") + std::to_string(i);
    EXPECT_EQ(Attr(d, key).as_int(), i * 10 + 1) << key;
  }
}

TEST(Span, KeysSharingAnEightBytePrefixStayDistinct) {
  Fixture f;
  {
    Span s = f.tracer.StartSpan("x");
    s.SetAttribute("http.request.method", "GET");
    s.SetAttribute("http.request.body.size", 10);
    s.SetAttribute("http.response.status_code", 200);
  }
  const SpanData& d = f.only();
  EXPECT_EQ(d.attribute_count(), 3u);
  EXPECT_EQ(Attr(d, "http.request.method").as_string(), "GET");
  EXPECT_EQ(Attr(d, "http.request.body.size").as_int(), 10);
}

TEST(Span, ValueLengthLimitCutsOnCharacterBoundaries) {
  SpanLimitsOptions lim;
  lim.attribute_value_length = 5;
  Fixture f(lim);
  {
    Span s = f.tracer.StartSpan("x");
    s.SetAttribute("ascii", "abcdefgh");
    s.SetAttribute("utf8", "ab\xC3\xA9\xC3\xA9");  // "abéé": 6 bytes but 4 code points
    s.SetAttribute("arr", {"123456", "ab"});
    s.SetAttribute("num", 123456789);  // numbers are not cut
  }
  const SpanData& d = f.only();
  EXPECT_EQ(Attr(d, "ascii").as_string(), "abcde");
  EXPECT_EQ(Attr(d, "utf8").as_string(), "ab\xC3\xA9\xC3\xA9");  // 4 code points: under the limit of 5
  EXPECT_EQ(Attr(d, "arr").string_at(0), "12345");
  EXPECT_EQ(Attr(d, "arr").string_at(1), "ab");
  EXPECT_EQ(Attr(d, "num").as_int(), 123456789);
}

// The limit counts Unicode code points (spec), never splitting a character:
// a limit of 4 on a Japanese string keeps four characters (12 bytes).
TEST(Span, ValueLengthLimitCountsCodePoints) {
  SpanLimitsOptions lim;
  lim.attribute_value_length = 4;
  Fixture f(lim);
  {
    Span s = f.tracer.StartSpan("x");
    s.SetAttribute("ja", "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE3\x81\xA7\xE3\x81\x99");  // 日本語です
    s.SetAttribute("mixed", "a\xC3\xA9\xF0\x9F\x98\x80" "bc");  // aé😀bc
    s.SetAttribute("arr", {"\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE3\x81\xA7\xE3\x81\x99", "ok"});
  }
  const SpanData& d = f.only();
  EXPECT_EQ(Attr(d, "ja").as_string(), "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE3\x81\xA7");  // 日本語で
  EXPECT_EQ(Attr(d, "mixed").as_string(), "a\xC3\xA9\xF0\x9F\x98\x80" "b");
  EXPECT_EQ(Attr(d, "arr").string_at(0), "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE3\x81\xA7");
  EXPECT_EQ(Attr(d, "arr").string_at(1), "ok");
}

TEST(Span, EventsLinksAndTheirLimits) {
  SpanLimitsOptions lim;
  lim.event_count = 2;
  lim.link_count = 1;
  lim.attributes_per_event = 1;
  lim.attributes_per_link = 1;
  Fixture f(lim);
  Span other = f.tracer.StartSpan("other");
  SpanContext other_ctx = other.GetContext();
  other.End();
  f.store->Reset();
  Timestamp ts(std::chrono::nanoseconds(1700000000123456789));
  {
    Span s = f.tracer.StartSpan("x");
    KeyValue ea[] = {{"k1", 1}, {"k2", 2}};
    s.AddEvent("first", ea, ts);
    s.AddEvent("second");
    s.AddEvent("third");  // dropped
    KeyValue la[] = {{"l1", "v"}, {"l2", "w"}};
    s.AddLink(other_ctx, la);
    s.AddLink(other_ctx);     // dropped
    s.AddLink(SpanContext());  // invalid: ignored, not counted
  }
  const SpanData& d = f.only();
  ASSERT_EQ(d.event_count(), 2u);
  EXPECT_EQ(d.dropped_events(), 1u);
  EXPECT_EQ(d.event_name(0), "first");
  EXPECT_EQ(d.event_time(0), ts);
  ASSERT_EQ(d.event_attribute_count(0), 1u);
  EXPECT_EQ(d.event_attribute(0, 0).key(), "k1");
  EXPECT_EQ(d.event_dropped_attributes(0), 1u);
  EXPECT_EQ(d.event_name(1), "second");
  ASSERT_EQ(d.link_count(), 1u);
  EXPECT_EQ(d.dropped_links(), 1u);
  EXPECT_EQ(d.link_context(0).span_id(), other_ctx.span_id());
  EXPECT_EQ(d.link_attribute_count(0), 1u);
  EXPECT_EQ(d.link_dropped_attributes(0), 1u);
}

TEST(Span, LinksGivenAtStart) {
  Fixture f;
  Span a = f.tracer.StartSpan("a");
  Link links[] = {{a.GetContext(), {}}};
  SpanOptions o;
  o.links = links;
  { Span b = f.tracer.StartSpan("b", o); }
  a.End();
  auto b = f.store->FindByName("b");
  ASSERT_EQ(b.size(), 1u);
  ASSERT_EQ(b[0]->link_count(), 1u);
  EXPECT_EQ(b[0]->link_context(0).span_id(), a.GetContext().span_id());
}

TEST(Span, StatusRules) {
  Fixture f;
  {
    Span s = f.tracer.StartSpan("error-then-ok");
    s.SetStatus(StatusCode::kError, "boom");
    s.SetStatus(StatusCode::kUnset);  // ignored
  }
  {
    Span s = f.tracer.StartSpan("ok-is-final");
    s.SetStatus(StatusCode::kOk, "description dropped for ok");
    s.SetStatus(StatusCode::kError, "ignored");
  }
  auto e = f.store->FindByName("error-then-ok");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0]->status(), StatusCode::kError);
  EXPECT_EQ(e[0]->status_description(), "boom");
  auto ok = f.store->FindByName("ok-is-final");
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_EQ(ok[0]->status(), StatusCode::kOk);
  EXPECT_EQ(ok[0]->status_description(), "");
}

TEST(Span, RenameAndExplicitTimestamps) {
  Fixture f;
  Timestamp start(std::chrono::nanoseconds(1000));
  Timestamp end(std::chrono::nanoseconds(5000));
  SpanOptions o;
  o.start_time = start;
  Span s = f.tracer.StartSpan("GET", o);
  s.UpdateName("GET /users/:id");
  s.End(end);
  const SpanData& d = f.only();
  EXPECT_EQ(d.name(), "GET /users/:id");
  EXPECT_EQ(d.start_ns(), 1000);
  EXPECT_EQ(d.end_ns(), 5000);
}

TEST(Span, RecordException) {
  Fixture f;
  {
    Span s = f.tracer.StartSpan("x");
    try {
      throw std::out_of_range("index 7");
    } catch (const std::exception& e) {
      s.RecordException(e);
    }
    try {
      throw 42;
    } catch (...) {
      s.RecordCurrentException();
    }
  }
  const SpanData& d = f.only();
  ASSERT_EQ(d.event_count(), 2u);
  EXPECT_EQ(d.event_name(0), "exception");
  EXPECT_EQ(d.event_attribute(0, 0).key(), "exception.type");
  EXPECT_EQ(d.event_attribute(0, 0).as_string(), "std::out_of_range");
  EXPECT_EQ(d.event_attribute(0, 1).as_string(), "index 7");
  EXPECT_EQ(d.event_attribute(1, 0).as_string(), "int");
  EXPECT_EQ(d.status(), StatusCode::kUnset);  // recording an exception does not set status
}

TEST(Span, CallsAfterEndAreIgnoredAndEndTwiceIsHarmless) {
  Fixture f;
  Span s = f.tracer.StartSpan("x");
  SpanRef ref = s.Ref();
  s.End();
  s.End();
  EXPECT_FALSE(s.IsRecording());
  EXPECT_FALSE(ref.IsRecording());
  ref.SetAttribute("late", 1);
  ref.UpdateName("late");
  ASSERT_EQ(f.store->size(), 1u);
  const SpanData& d = f.only();
  EXPECT_EQ(d.name(), "x");
  EXPECT_EQ(d.attribute_count(), 0u);
  // A stale ref keeps being harmless once the record is reused for a new span.
  Span t = f.tracer.StartSpan("y");
  ref.SetAttribute("late", 2);
  t.End();
  auto y = f.store->FindByName("y");
  ASSERT_EQ(y.size(), 1u);
  EXPECT_EQ(y[0]->attribute_count(), 0u);
}

TEST(Span, MoveTransfersOwnership) {
  Fixture f;
  Span a = f.tracer.StartSpan("moved");
  Span b = std::move(a);
  EXPECT_FALSE(a.IsRecording());  // NOLINT(bugprone-use-after-move): checking the moved-from state
  EXPECT_TRUE(b.IsRecording());
  Span c = f.tracer.StartSpan("replaced");
  c = std::move(b);  // ends "replaced"
  EXPECT_EQ(f.store->FindByName("replaced").size(), 1u);
  c.End();
  EXPECT_EQ(f.store->FindByName("moved").size(), 1u);
  EXPECT_EQ(f.store->size(), 2u);
}

TEST(Span, StartAttributesAreStored) {
  Fixture f;
  KeyValue attrs[] = {{"http.request.method", "GET"}, {"url.path", "/"}};
  SpanOptions o;
  o.attributes = attrs;
  { Span s = f.tracer.StartSpan("x", o); }
  EXPECT_EQ(Attr(f.only(), "url.path").as_string(), "/");
}

TEST(Span, NonRecordingSpanStillHasIdsAndPropagatesParent) {
  Fixture f({}, AlwaysOffSampler());
  Span s = f.tracer.StartSpan("x");
  EXPECT_FALSE(s.IsRecording());
  EXPECT_TRUE(s.GetContext().IsValid());
  EXPECT_FALSE(s.GetContext().sampled());
  s.SetAttribute("ignored", 1);
  s.End();
  EXPECT_EQ(f.store->size(), 0u);
}

TEST(Span, ManySpansWithGrowingArenas) {
  // Records are reused; a big span followed by small ones must not leak data between them.
  Fixture f;
  for (int i = 0; i < 50; ++i) {
    Span s = f.tracer.StartSpan("s" + std::to_string(i));
    for (int j = 0; j < (i % 5) * 20; ++j) s.SetAttribute("k" + std::to_string(j), std::string(100, 'v'));
  }
  auto v = f.store->spans();
  ASSERT_EQ(v.size(), 50u);
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(v[i]->name(), "s" + std::to_string(i));
    EXPECT_EQ(v[i]->attribute_count(), static_cast<size_t>((i % 5) * 20));
  }
}

}  // namespace
}  // namespace otelweb
