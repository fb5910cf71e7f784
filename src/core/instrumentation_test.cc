// The instrumentation kit (otelweb/instrumentation.h).
#include "otelweb/instrumentation.h"

#include <gtest/gtest.h>

#include "otelweb/testing/diagnostics_capture.h"

#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "otelweb/otelweb.h"
#include "otelweb/testing/diagnostics_capture.h"
#include "otelweb/testing/in_memory_exporter.h"
#include "otelweb/testing/installed_tracing.h"
#include "otelweb/testing/memory_tracing.h"
#include "otelweb/testing/span_readers.h"

namespace otelweb::instrumentation {
namespace {

// Collects warnings while alive.
struct Diagnostics : otelweb::testing::DiagnosticsCapture {
  Diagnostics() : DiagnosticsCapture(LogLevel::kWarning) {}
};

// An in-memory provider that is not installed globally.
struct Memory : otelweb::testing::MemoryTracing {
  Memory() : MemoryTracing({.set_global = false}) {}
};

// Restores the global provider and propagator after a test.
struct GlobalsGuard {
  std::shared_ptr<TextMapPropagator> propagator = GetTextMapPropagator();
  ~GlobalsGuard() {
    SetTracerProvider(nullptr);
    SetTextMapPropagator(propagator);
  }
};

// ---------------------------------------------------------------------------
// Published

TEST(Published, KeepsEveryValueAliveAndPublishesTheLatest) {
  Published<std::string> p;
  EXPECT_EQ(p.Get(), nullptr);
  const std::string* a = p.Publish(std::make_unique<std::string>("a"));
  EXPECT_EQ(p.Get(), a);
  const std::string* b = p.Update([](std::string& s) { s += "b"; });
  EXPECT_EQ(*p.Get(), "ab");
  EXPECT_EQ(*a, "a");  // an old snapshot stays valid
  p.Withdraw();
  EXPECT_EQ(p.Get(), nullptr);
  EXPECT_EQ(*b, "ab");
  EXPECT_EQ(p.history_size(), 2u);
  // Update without a current value starts from a default value.
  p.Update([](std::string& s) { s = "c"; });
  EXPECT_EQ(*p.Get(), "c");
  // PublishUnless keeps what is good enough.
  const std::string* kept = p.PublishUnless([](const std::string& s) { return s == "c"; },
                                            [] { return std::make_unique<std::string>("d"); });
  EXPECT_EQ(*kept, "c");
  EXPECT_EQ(p.history_size(), 3u);
}

// ---------------------------------------------------------------------------
// Hooks and exception names

struct CustomError {};

TEST(ExceptionNames, DemangledTypes) {
  EXPECT_EQ(TypeName(typeid(std::runtime_error)), "std::runtime_error");
  try {
    throw CustomError{};
  } catch (...) {
    EXPECT_EQ(CurrentExceptionTypeName(), "otelweb::instrumentation::(anonymous namespace)::CustomError");
  }
  try {
    throw 7;
  } catch (...) {
    EXPECT_EQ(CurrentExceptionTypeName(), "int");
  }
  EXPECT_EQ(CurrentExceptionTypeName(), "unknown");
}

TEST(RunGuarded, CatchesAndReportsOnceNamingTheType) {
  Diagnostics diag;
  std::atomic<bool> warned{false};
  int ran = 0;
  EXPECT_TRUE(RunGuarded(warned, "a test hook", [&] { ++ran; }));
  EXPECT_FALSE(RunGuarded(warned, "a test hook", [&] {
    ++ran;
    throw std::invalid_argument("bad value");
  }));
  EXPECT_FALSE(RunGuarded(warned, "a test hook", [] { throw 42; }));
  EXPECT_EQ(ran, 2);
  std::vector<std::string> m = diag.messages();
  ASSERT_EQ(m.size(), 1u);
  EXPECT_NE(m[0].find("a test hook threw std::invalid_argument: bad value"), std::string::npos)
      << m[0];
  EXPECT_NE(m[0].find("reported once"), std::string::npos);

  std::atomic<bool> other{false};
  EXPECT_FALSE(RunGuarded(other, "another hook", [] { throw CustomError{}; }));
  EXPECT_EQ(diag.Count("another hook threw otelweb::instrumentation::"), 1u);
}

// ---------------------------------------------------------------------------
// AttrList

TEST(AttrList, HoldsUpToNAndCountsTheRest) {
  AttrList<3> l;
  l.Add("a", 1);
  l.AddIfNotEmpty("skip", "");
  l.AddIfPositive("skip", 0);
  l.AddIfNotEmpty("b", "x");
  l.AddIfPositive("c", 5);
  EXPECT_EQ(l.size(), 3u);
  EXPECT_EQ(l.attributes().size(), 3u);
  EXPECT_EQ(l[1].key, "b");
  ASSERT_NE(l.Find("c"), nullptr);
  EXPECT_EQ(l.Find("c")->as_int(), 5);
  EXPECT_EQ(l.Find("skip"), nullptr);
#ifdef NDEBUG
  otelweb::testing::DiagnosticsCapture diag(LogLevel::kWarning);
  l.Add("d", 1);  // full: dropped and counted, nothing overwritten
  l.Add("e", 1);
  EXPECT_EQ(l.size(), 3u);
  EXPECT_EQ(l.dropped(), 2u);
  EXPECT_EQ(l[2].key, "c");
  // Not silent: one warning, naming the first key left out.
  EXPECT_EQ(diag.size(), 1u) << diag.text();
  EXPECT_EQ(diag.Count("'d' and later ones were left out"), 1u) << diag.text();
#else
  EXPECT_DEATH(l.Add("d", 1), "raise N");
#endif
}

// ---------------------------------------------------------------------------
// InstrumentationTracer

// Issue 12 §2: at the attribute count limit, an instrumentation's own
// attribute replaces the most recent user attribute (counted as dropped);
// start attributes and other owned ones stay; a limit of 0 still holds.
TEST(InstrumentationAttributes, DisplaceUserAttributesNeverOwnedOnes) {
  otelweb::testing::MemoryTracingOptions mo;
  mo.limits.attribute_count = 4;
  otelweb::testing::MemoryTracing t(mo);
  {
    SpanOptions so;
    KeyValue start[] = {{"http.request.method", "GET"}};
    so.attributes = start;
    Span span = t.tracer().StartSpan("s", so);
    span.SetAttribute("user.a", int64_t{1});
    span.SetAttribute("user.b", int64_t{2});
    span.SetAttribute("user.c", int64_t{3});
    span.SetAttribute("user.d", int64_t{4});  // over the limit: dropped
    SetInstrumentationAttribute(span, "http.route", "/r");  // replaces user.c
    SetInstrumentationAttribute(span, "http.response.status_code", int64_t{500});  // replaces user.b
    SetInstrumentationAttribute(span, "error.type", "500");                       // replaces user.a
    SetInstrumentationAttribute(span, "extra.owned", true);  // only owned ones left: dropped
    SetInstrumentationAttribute(span, "http.route", "/r2");  // an existing key: replaced in place
  }
  auto spans = t.Exactly(1);
  ASSERT_EQ(spans.size(), 1u);
  const SpanData* s = spans[0];
  EXPECT_EQ(s->attribute_count(), 4u);
  EXPECT_EQ(otelweb::testing::StrAttr(s, "http.request.method"), "GET");
  EXPECT_EQ(otelweb::testing::StrAttr(s, "http.route"), "/r2");
  EXPECT_EQ(otelweb::testing::IntAttr(s, "http.response.status_code"), 500);
  EXPECT_EQ(otelweb::testing::StrAttr(s, "error.type"), "500");
  EXPECT_FALSE(otelweb::testing::HasAttr(s, "user.a"));
  EXPECT_FALSE(otelweb::testing::HasAttr(s, "extra.owned"));
  EXPECT_EQ(s->dropped_attributes(), 5u);  // user.d, user.c, user.b, user.a, extra.owned

  otelweb::testing::MemoryTracingOptions zero;
  zero.limits.attribute_count = 0;
  otelweb::testing::MemoryTracing z(zero);
  {
    Span span = z.tracer().StartSpan("z");
    SetInstrumentationAttribute(span, "http.route", "/r");
  }
  auto zs = z.Exactly(1);
  ASSERT_EQ(zs.size(), 1u);
  EXPECT_EQ(zs[0]->attribute_count(), 0u);
  EXPECT_EQ(zs[0]->dropped_attributes(), 1u);
}

// Owned attributes stored while the list has room (the inline store path)
// keep their mark: a later owned attribute on the full list displaces the
// user attribute, never them.
TEST(InstrumentationAttributes, OwnedAttributesStoredWithRoomKeepTheirMark) {
  otelweb::testing::MemoryTracingOptions mo;
  mo.limits.attribute_count = 3;
  otelweb::testing::MemoryTracing t(mo);
  {
    Span span = t.tracer().StartSpan("s");
    SetInstrumentationAttribute(span, "a.owned", int64_t{1});
    const KeyValue more[] = {{"b.owned", "two"}};
    SetInstrumentationAttributes(span, more);
    span.SetAttribute("user.x", int64_t{3});
    SetInstrumentationAttribute(span, "c.owned", int64_t{4});  // replaces user.x
    SetInstrumentationAttribute(span, "d.owned", int64_t{5});  // only owned ones left: dropped
  }
  auto spans = t.Exactly(1);
  ASSERT_EQ(spans.size(), 1u);
  const SpanData* s = spans[0];
  EXPECT_EQ(s->attribute_count(), 3u);
  EXPECT_EQ(otelweb::testing::IntAttr(s, "a.owned"), 1);
  EXPECT_EQ(otelweb::testing::StrAttr(s, "b.owned"), "two");
  EXPECT_EQ(otelweb::testing::IntAttr(s, "c.owned"), 4);
  EXPECT_FALSE(otelweb::testing::HasAttr(s, "user.x"));
  EXPECT_FALSE(otelweb::testing::HasAttr(s, "d.owned"));
  EXPECT_EQ(s->dropped_attributes(), 2u);
}

TEST(InstrumentationTracer, ExplicitProviderIsUsedAndLive) {
  Memory m;
  InstrumentationTracer t("kit.test", "1.2", m.provider);
  const ResolvedTracer& r = t.Resolve();
  EXPECT_TRUE(r.live);
  EXPECT_EQ(r.tracer.scope().name, "kit.test");
  EXPECT_EQ(r.tracer.scope().version, "1.2");
  t.StartSpan("s").End();
  EXPECT_EQ(m.store->size(), 1u);
}

TEST(InstrumentationTracer, FollowsTheGlobalProviderAcrossReinstalls) {
  GlobalsGuard guard;
  SetTracerProvider(nullptr);
  InstrumentationTracer t("kit.test");
  EXPECT_FALSE(t.Resolve().live);
  EXPECT_FALSE(t.StartSpan("none").GetContext().IsValid());

  Memory first;
  SetTracerProvider(first.provider);
  const ResolvedTracer* r1 = &t.Resolve();
  EXPECT_TRUE(r1->live);
  EXPECT_EQ(&t.Resolve(), r1);  // nothing changed: the same snapshot
  t.StartSpan("one").End();
  EXPECT_EQ(first.store->size(), 1u);

  Memory second;
  SetTracerProvider(second.provider);
  t.StartSpan("two").End();
  EXPECT_EQ(first.store->size(), 1u);
  ASSERT_EQ(second.store->size(), 1u);
  EXPECT_EQ(second.store->spans()[0]->name(), "two");
  EXPECT_EQ(r1->generation != t.Resolve().generation, true);

  // The propagator is part of the globals too.
  auto only_baggage = std::make_shared<W3CBaggagePropagator>();
  SetTextMapPropagator(only_baggage);
  EXPECT_EQ(t.propagator(), only_baggage.get());
}

TEST(InstrumentationTracer, ReportsSpansStartedThroughAShutDownProviderOnce) {
  ResetShutDownDiagnosticForTesting();
  Diagnostics diag;
  Memory m;
  InstrumentationTracer t("kit.shutdown", kVersion, m.provider);
  t.StartSpan("before").End();
  EXPECT_EQ(diag.Count("shut down"), 0u);
  m.provider->Shutdown();
  EXPECT_FALSE(t.StartSpan("after").GetContext().IsValid());
  EXPECT_FALSE(t.StartSpan("again").GetContext().IsValid());
  EXPECT_EQ(diag.Count("'kit.shutdown' starts spans through a tracer provider that has been shut "
                       "down"),
            1u);
  EXPECT_EQ(diag.Count("keep the TracingHandle it returned alive"), 1u);
  EXPECT_EQ(m.store->size(), 1u);
}

TEST(InstrumentationTracer, ReportsADroppedTracingHandleOnce) {
  GlobalsGuard guard;
  ResetShutDownDiagnosticForTesting();
  Diagnostics diag;
  InstrumentationTracer t("kit.dropped");
  otelweb::testing::InstalledMemoryTracing first;
  t.StartSpan("kept").End();
  first.Drop();  // the handle goes: provider shut down, global reset
  EXPECT_EQ(first.store->size(), 1u);
  EXPECT_EQ(diag.Count("TracingHandle returned by InstallTracing was destroyed"), 0u);
  t.StartSpan("lost").End();
  t.StartSpan("lost too").End();
  EXPECT_EQ(diag.Count("'kit.dropped' is tracing requests, but the tracer provider installed as "
                       "the global one has been shut down"),
            1u);
  EXPECT_EQ(diag.Count("Keep the handle alive for the life of the program"), 1u);

  // Installing again: spans flow, and nothing more is reported.
  otelweb::testing::InstalledMemoryTracing again;
  t.StartSpan("back").End();
  EXPECT_EQ(again.store->size(), 1u);
  EXPECT_EQ(diag.messages().size(), 1u);
}

TEST(InstrumentationTracer, NoReportWhenTracingIsTurnedOffDeliberately) {
  GlobalsGuard guard;
  ResetShutDownDiagnosticForTesting();
  Diagnostics diag;
  Memory m;
  SetTracerProvider(m.provider);
  InstrumentationTracer t("kit.off");
  t.StartSpan("on").End();
  SetTracerProvider(nullptr);  // the provider itself is still running
  t.StartSpan("off").End();
  EXPECT_EQ(m.store->size(), 1u);
  EXPECT_EQ(diag.Count("shut down"), 0u);
}

}  // namespace
}  // namespace otelweb::instrumentation
