// otelweb::testing: each helper does what its header says, and restores
// what it replaced.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "otelweb/testing/diagnostics_capture.h"
#include "otelweb/testing/installed_tracing.h"
#include "otelweb/testing/memory_tracing.h"
#include "otelweb/testing/scoped_env.h"
#include "otelweb/testing/span_readers.h"
#include "otelweb/testing/span_stub.h"
#include "otelweb/trace/console_exporter.h"

namespace otelweb::testing {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "<unset>";
}

TEST(InstalledMemoryTracing, InstallsThroughInstallTracingAndCanBeDroppedAndInstalledAgain) {
  InstalledMemoryTracing first;
  EXPECT_EQ(GetTracerProvider(), first.handle.shared_provider());
  GetTracer("app").StartSpan("one").End();
  EXPECT_EQ(first.store->size(), 1u);  // simple processor: exported at End
  first.Drop();
  EXPECT_NE(GetTracerProvider(), first.handle.shared_provider());
  GetTracer("app").StartSpan("lost").End();  // the no-op global again
  InstalledMemoryTracing second;
  GetTracer("app").StartSpan("two").End();
  EXPECT_EQ(second.WaitFor(1), 1u);
  EXPECT_TRUE(second.Shutdown().ok());
  EXPECT_FALSE(second.Shutdown().ok());  // already shut down
  ASSERT_EQ(first.store->size(), 1u);
  EXPECT_EQ(first.store->spans()[0]->name(), "one");
  ASSERT_EQ(second.store->size(), 1u);
  EXPECT_EQ(second.store->spans()[0]->name(), "two");
  EXPECT_EQ(GetTracerProvider(), TracerProvider::NoOp());
}

TEST(InstalledMemoryTracing, KeepsTheOtherOptionsItIsGiven) {
  TracingOptions o;
  o.sampler = AlwaysOffSampler();
  InstalledMemoryTracing t(std::move(o));
  GetTracer("app").StartSpan("sampled out").End();
  EXPECT_EQ(t.WaitFor(1, std::chrono::milliseconds(20)), 0u);
}

TEST(MemoryTracing, InstallsItsProviderGloballyAndRestoresThePreviousOne) {
  auto before = GetTracerProvider();
  {
    MemoryTracing t;
    EXPECT_EQ(GetTracerProvider(), t.provider);
    GetTracer("app").StartSpan("through-the-global").End();
    {
      MemoryTracing inner;
      GetTracer("app").StartSpan("inner").End();
      EXPECT_EQ(inner.store->size(), 1u);
    }
    EXPECT_EQ(GetTracerProvider(), t.provider);
    ASSERT_TRUE(t.WaitFor(1));
    ASSERT_EQ(t.spans().size(), 1u);
    EXPECT_EQ(t.spans()[0]->name(), "through-the-global");
  }
  EXPECT_EQ(GetTracerProvider(), before);
}

TEST(MemoryTracing, WithoutSetGlobalLeavesTheGlobalAlone) {
  auto before = GetTracerProvider();
  MemoryTracing t(MemoryTracingOptions{.set_global = false});
  EXPECT_EQ(GetTracerProvider(), before);
  t.tracer().StartSpan("explicit").End();
  EXPECT_EQ(t.store->size(), 1u);
  EXPECT_TRUE(t.spans()[0]->resource().attributes().empty());
}

TEST(MemoryTracing, WaitForTimesOutAndExactlySortsByStartTime) {
  MemoryTracing t(MemoryTracingOptions{.set_global = false});
  EXPECT_FALSE(t.WaitFor(1, std::chrono::milliseconds(20)));
  Tracer tr = t.tracer();
  Span first = tr.StartSpan("first");
  std::this_thread::sleep_for(std::chrono::milliseconds(1));
  tr.StartSpan("second").End();  // exported before "first"
  first.End();
  auto spans = t.Exactly(2, std::chrono::milliseconds(0));
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0]->name(), "first");
  EXPECT_EQ(spans[1]->name(), "second");
  EXPECT_EQ(t.store->spans()[0]->name(), "second");
}

TEST(MemoryTracing, SamplerAndLimitsAreApplied) {
  MemoryTracing off(MemoryTracingOptions{.set_global = false, .sampler = AlwaysOffSampler()});
  off.tracer().StartSpan("dropped").End();
  EXPECT_EQ(off.store->size(), 0u);
  MemoryTracing small(MemoryTracingOptions{.set_global = false, .limits = {.attribute_count = 1}});
  Span s = small.tracer().StartSpan("s");
  s.SetAttribute("a", 1);
  s.SetAttribute("b", 2);
  s.End();
  ASSERT_EQ(small.store->size(), 1u);
  EXPECT_EQ(small.spans()[0]->attribute_count(), 1u);
  EXPECT_EQ(small.spans()[0]->dropped_attributes(), 1u);
}

TEST(SpanReaders, ReadEachTypeAndSayWhatIsThereOtherwise) {
  MemoryTracing t(MemoryTracingOptions{.set_global = false});
  Span s = t.tracer().StartSpan("s");
  s.SetAttribute("str", "v");
  s.SetAttribute("int", 42);
  s.SetAttribute("dbl", 0.5);
  s.SetAttribute("flag", true);
  s.SetAttribute("arr", {std::string_view("x"), std::string_view("y")});
  s.AddEvent("first");
  s.AddEvent("second");
  s.End();
  const SpanData* d = t.spans().at(0);
  EXPECT_TRUE(HasAttr(d, "str"));
  EXPECT_FALSE(HasAttr(d, "nope"));
  EXPECT_EQ(StrAttr(d, "str"), "v");
  EXPECT_EQ(StrAttr(d, "nope"), "<absent>");
  EXPECT_EQ(StrAttr(d, "int"), "<not a string: 42>");
  EXPECT_EQ(IntAttr(d, "int"), 42);
  EXPECT_EQ(IntAttr(d, "str"), -1);
  EXPECT_EQ(DoubleAttr(d, "dbl"), 0.5);
  EXPECT_EQ(DoubleAttr(d, "int"), std::nullopt);
  EXPECT_EQ(BoolAttr(d, "flag"), true);
  EXPECT_EQ(BoolAttr(d, "str"), std::nullopt);
  EXPECT_EQ(ArrAttr(d, "arr"), (std::vector<std::string>{"x", "y"}));
  EXPECT_TRUE(ArrAttr(d, "str").empty());
  size_t i = 99;
  EXPECT_EQ(EventNamed(d, "second", &i), d);
  EXPECT_EQ(i, 1u);
  EXPECT_EQ(EventNamed(d, "third", &i), nullptr);
}

TEST(DiagnosticsCapture, RecordsFromItsLevelAndRestoresSinkAndLevel) {
  std::vector<std::string> outer;
  SetDiagnosticsSink([&](LogLevel, std::string_view m) { outer.emplace_back(m); });
  SetLogLevel(LogLevel::kError);
  {
    DiagnosticsCapture diag(LogLevel::kWarning);
    EXPECT_EQ(GetLogLevel(), LogLevel::kWarning);
    Log(LogLevel::kInfo, "info: below the capture's level");
    Log(LogLevel::kWarning, "first warning");
    Log(LogLevel::kError, "an error");
    EXPECT_EQ(diag.size(), 2u);
    EXPECT_EQ(diag.Count("warning"), 1u);
    EXPECT_EQ(diag.Count("info"), 0u);
    ASSERT_EQ(diag.entries().size(), 2u);
    EXPECT_EQ(diag.entries()[1].level, LogLevel::kError);
    EXPECT_EQ(diag.messages(), (std::vector<std::string>{"first warning", "an error"}));
    EXPECT_EQ(diag.text(), "first warning\nan error\n");
    {
      DiagnosticsCapture nested(LogLevel::kDebug);
      Log(LogLevel::kDebug, "debug");
      EXPECT_EQ(nested.Count("debug"), 1u);
    }
    EXPECT_EQ(GetLogLevel(), LogLevel::kWarning);
    Log(LogLevel::kWarning, "after nested");
    EXPECT_EQ(diag.Count("after nested"), 1u);
    diag.Clear();
    EXPECT_EQ(diag.size(), 0u);
  }
  EXPECT_EQ(GetLogLevel(), LogLevel::kError);
  EXPECT_TRUE(outer.empty());
  Log(LogLevel::kError, "back to the outer sink");
  EXPECT_EQ(outer, (std::vector<std::string>{"back to the outer sink"}));
  SetDiagnosticsSink(nullptr);
  SetLogLevel(LogLevel::kInfo);
}

TEST(DiagnosticsCapture, SeesTheSdksOwnWarnings) {
  DiagnosticsCapture diag;
  TracerProvider p;
  p.GetTracer("");  // an empty tracer name is allowed, with a warning
  EXPECT_GE(diag.size(), 1u) << diag.text();
}

TEST(ScopedEnv, SetsUnsetsAndRestoresEveryVariableItTouched) {
  ::setenv("OTELWEB_T_KEEP", "old", 1);
  ::setenv("OTELWEB_T_GONE", "here", 1);
  ::unsetenv("OTELWEB_T_NEW");
  {
    ScopedEnv env{{"OTELWEB_T_NEW", "1"}};
    env.Set("OTELWEB_T_KEEP", "changed").Set("OTELWEB_T_KEEP", "twice").Unset("OTELWEB_T_GONE");
    EXPECT_EQ(Env("OTELWEB_T_NEW"), "1");
    EXPECT_EQ(Env("OTELWEB_T_KEEP"), "twice");
    EXPECT_EQ(Env("OTELWEB_T_GONE"), "<unset>");
  }
  EXPECT_EQ(Env("OTELWEB_T_NEW"), "<unset>");
  EXPECT_EQ(Env("OTELWEB_T_KEEP"), "old");
  EXPECT_EQ(Env("OTELWEB_T_GONE"), "here");
  ::unsetenv("OTELWEB_T_KEEP");
  ::unsetenv("OTELWEB_T_GONE");
}

TEST(ScopedEnv, UnsetPrefixClearsOnlyMatchingNames) {
  ::setenv("OTELWEB_P_A", "a", 1);
  ::setenv("OTELWEB_P_B", "b", 1);
  ::setenv("OTELWEB_Q", "q", 1);
  {
    ScopedEnv env;
    env.UnsetPrefix("OTELWEB_P_");
    EXPECT_EQ(Env("OTELWEB_P_A"), "<unset>");
    EXPECT_EQ(Env("OTELWEB_P_B"), "<unset>");
    EXPECT_EQ(Env("OTELWEB_Q"), "q");
    env.Restore();
    EXPECT_EQ(Env("OTELWEB_P_A"), "a");
    env.Set("OTELWEB_P_A", "reused");
  }
  EXPECT_EQ(Env("OTELWEB_P_A"), "a");
  EXPECT_EQ(Env("OTELWEB_P_B"), "b");
  for (const char* n : {"OTELWEB_P_A", "OTELWEB_P_B", "OTELWEB_Q"}) ::unsetenv(n);
}

Timestamp At(int64_t ns) { return Timestamp(std::chrono::nanoseconds(ns)); }

SpanStub RichStub() {
  SpanStub stub;
  stub.name = "GET /items/{id}";
  stub.kind = SpanKind::kServer;
  stub.trace_id = TraceId::FromWords(0x0102030405060708, 0x090a0b0c0d0e0f10);
  stub.span_id = SpanId::FromWord(0x1112131415161718);
  stub.start_time = At(1'700'000'000'000'000'000);
  stub.end_time = At(1'700'000'000'250'000'000);
  stub.attributes = {
      {"http.request.method", OwnedValue(AttributeValue("GET"))},
      {"http.response.status_code", OwnedValue(AttributeValue(503))},
      {"tags", OwnedValue(AttributeValue({std::string_view("a"), std::string_view("b")}))}};
  stub.events = {{"exception",
                  At(1'700'000'000'100'000'000),
                  {{"exception.message", OwnedValue(AttributeValue("boom"))}}}};
  stub.links = {{SpanContext(TraceId::FromWords(1, 2), SpanId::FromWord(3), TraceFlags{1}, true),
                 {{"link.kind", OwnedValue(AttributeValue("follows"))}}}};
  stub.status = StatusCode::kError;
  stub.status_description = "upstream unavailable";
  stub.resource = Resource({{"service.name", OwnedValue(AttributeValue("stub-svc"))}});
  stub.scope = {"my.library", "1.2.3", ""};
  return stub;
}

TEST(SpanStub, BuildsTheSpanDataItDescribes) {
  EndedSpan e = RichStub().Build();
  ASSERT_TRUE(e);
  const SpanData& d = *e;
  EXPECT_EQ(d.name(), "GET /items/{id}");
  EXPECT_EQ(d.kind(), SpanKind::kServer);
  EXPECT_EQ(d.trace_id(), TraceId::FromWords(0x0102030405060708, 0x090a0b0c0d0e0f10));
  EXPECT_EQ(d.span_id(), SpanId::FromWord(0x1112131415161718));
  EXPECT_FALSE(d.parent_span_id().IsValid());
  EXPECT_TRUE(d.context().sampled());
  EXPECT_EQ(d.start_ns(), 1'700'000'000'000'000'000);
  EXPECT_EQ(d.end_ns(), 1'700'000'000'250'000'000);
  EXPECT_EQ(StrAttr(&d, "http.request.method"), "GET");
  EXPECT_EQ(IntAttr(&d, "http.response.status_code"), 503);
  EXPECT_EQ(ArrAttr(&d, "tags"), (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(d.event_count(), 1u);
  EXPECT_EQ(d.event_name(0), "exception");
  EXPECT_EQ(d.event_time_ns(0), 1'700'000'000'100'000'000);
  EXPECT_EQ(d.event_attribute(0, 0).as_string(), "boom");
  ASSERT_EQ(d.link_count(), 1u);
  EXPECT_EQ(d.link_context(0).span_id(), SpanId::FromWord(3));
  EXPECT_EQ(d.link_attribute(0, 0).key(), "link.kind");
  EXPECT_EQ(d.status(), StatusCode::kError);
  EXPECT_EQ(d.status_description(), "upstream unavailable");
  EXPECT_EQ(d.resource().service_name(), "stub-svc");
  EXPECT_EQ(d.scope().name, "my.library");
  EXPECT_EQ(d.scope().version, "1.2.3");
}

TEST(SpanStub, ParentSamplingTraceStateAndLimits) {
  SpanStub stub;
  stub.parent = SpanContext(TraceId::FromWords(7, 8), SpanId::FromWord(9), TraceFlags{1}, true);
  stub.trace_id = TraceId::FromWords(1, 1);  // ignored: the parent's trace
  stub.sampled = false;
  stub.trace_state = TraceState::FromHeader("vendor=x");
  stub.attributes = {{"a", OwnedValue(AttributeValue(1))}, {"b", OwnedValue(AttributeValue(2))}};
  stub.limits.attribute_count = 1;
  EndedSpan e = stub.Build();
  EXPECT_EQ(e->trace_id(), TraceId::FromWords(7, 8));
  EXPECT_EQ(e->parent_span_id(), SpanId::FromWord(9));
  EXPECT_TRUE(e->parent_is_remote());
  EXPECT_TRUE(e->span_id().IsValid());
  EXPECT_FALSE(e->context().sampled());
  EXPECT_EQ(e->context().trace_state().header(), "vendor=x");
  EXPECT_EQ(e->attribute_count(), 1u);
  EXPECT_EQ(e->dropped_attributes(), 1u);
  // Without IDs: random, valid and different each time.
  SpanStub plain;
  EndedSpan a = plain.Build(), b = plain.Build();
  EXPECT_TRUE(a->trace_id().IsValid());
  EXPECT_NE(a->trace_id(), b->trace_id());
  EXPECT_NE(a->span_id(), b->span_id());
}

// An exporter fed with stubs alone: the console exporter prints the stub's
// tree (parent above child) with its fields.
TEST(SpanStub, FeedsAnExporterWithoutAProvider) {
  SpanStub root = RichStub();
  SpanStub child;
  child.name = "SELECT items";
  child.kind = SpanKind::kClient;
  child.parent = SpanContext(root.trace_id, root.span_id, TraceFlags{1}, false);
  child.start_time = At(1'700'000'000'010'000'000);
  child.end_time = At(1'700'000'000'020'000'000);
  child.attributes = {{"db.system.name", OwnedValue(AttributeValue("sqlite"))}};

  char* buf = nullptr;
  size_t len = 0;
  FILE* out = open_memstream(&buf, &len);
  ASSERT_NE(out, nullptr);
  {
    ConsoleSpanExporter exporter({.out = out, .color = false});
    std::vector<EndedSpan> batch;
    batch.push_back(child.Build());
    batch.push_back(root.Build());
    EXPECT_EQ(exporter.Export(batch), ExportResult::kSuccess);
    EXPECT_EQ(exporter.Shutdown(std::chrono::seconds(1)), OperationResult::Ok());
  }
  std::fclose(out);
  std::string text(buf, len);
  std::free(buf);
  size_t r = text.find("GET /items/{id}");
  size_t c = text.find("SELECT items");
  ASSERT_NE(r, std::string::npos) << text;
  ASSERT_NE(c, std::string::npos) << text;
  EXPECT_LT(r, c) << "the child prints under its parent:\n" << text;
  EXPECT_NE(text.find("0102030405060708090a0b0c0d0e0f10"), std::string::npos) << text;
  EXPECT_NE(text.find("upstream unavailable"), std::string::npos) << text;
  EXPECT_NE(text.find("503"), std::string::npos) << text;
}

}  // namespace
}  // namespace otelweb::testing
