// Context, scopes and parent/child relations.
#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "otelweb/testing/diagnostics_capture.h"
#include "otelweb/testing/in_memory_exporter.h"
#include "otelweb/otelweb.h"

namespace otelweb {
namespace {

struct Fixture {
  std::shared_ptr<InMemorySpanStore> store = std::make_shared<InMemorySpanStore>();
  std::unique_ptr<TracerProvider> provider;
  Tracer tracer;
  Fixture() {
    TracerProviderOptions o;
    o.sampler = AlwaysOnSampler();
    o.processors.push_back(std::make_unique<SimpleSpanProcessor>(std::make_unique<InMemorySpanExporter>(store)));
    provider = std::make_unique<TracerProvider>(std::move(o));
    tracer = provider->GetTracer("ctx-test");
  }
};

TEST(Context, EmptyByDefault) {
  EXPECT_FALSE(Context::Current().span_context().IsValid());
  EXPECT_FALSE(GetCurrentSpan().IsRecording());
  GetCurrentSpan().SetAttribute("nothing", 1);  // harmless no-op
}

TEST(Context, NestedScopesGiveParentChildRelations) {
  Fixture f;
  {
    Span root = f.tracer.StartSpan("root");
    Scope s1(root.AsContext());
    EXPECT_EQ(GetCurrentSpan().GetContext().span_id(), root.GetContext().span_id());
    {
      Span child = f.tracer.StartSpan("child");
      Scope s2 = MakeCurrent(child);
      GetCurrentSpan().SetAttribute("via.current", true);
      Span grandchild = f.tracer.StartSpan("grandchild");
      grandchild.End();
    }
    EXPECT_EQ(GetCurrentSpan().GetContext().span_id(), root.GetContext().span_id());
  }
  EXPECT_FALSE(Context::Current().span_context().IsValid());
  auto root = f.store->FindByName("root");
  auto child = f.store->FindByName("child");
  auto grandchild = f.store->FindByName("grandchild");
  ASSERT_EQ(root.size(), 1u);
  ASSERT_EQ(child.size(), 1u);
  ASSERT_EQ(grandchild.size(), 1u);
  EXPECT_EQ(child[0]->parent_span_id(), root[0]->span_id());
  EXPECT_EQ(grandchild[0]->parent_span_id(), child[0]->span_id());
  EXPECT_EQ(grandchild[0]->trace_id(), root[0]->trace_id());
  EXPECT_FALSE(child[0]->parent_is_remote());
  AttributeView v;
  EXPECT_TRUE(child[0]->FindAttribute("via.current", &v));
}

TEST(Context, ExplicitParentAndRootOptions) {
  Fixture f;
  Span a = f.tracer.StartSpan("a");
  Context actx = a.AsContext();
  Span b = f.tracer.StartSpan("b");
  Scope sb(b.AsContext());
  SpanOptions o;
  o.parent = &actx;
  f.tracer.StartSpan("child-of-a", o).End();
  SpanOptions r;
  r.root = true;
  f.tracer.StartSpan("new-root", r).End();
  auto c = f.store->FindByName("child-of-a");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0]->parent_span_id(), a.GetContext().span_id());
  auto nr = f.store->FindByName("new-root");
  ASSERT_EQ(nr.size(), 1u);
  EXPECT_FALSE(nr[0]->parent_span_id().IsValid());
  EXPECT_FALSE(nr[0]->trace_id() == b.GetContext().trace_id());
}

TEST(Context, RemoteParentFromSpanContext) {
  Fixture f;
  auto tid = TraceId::FromHex("0af7651916cd43dd8448eb211c80319c");
  auto sid = SpanId::FromHex("b7ad6b7169203331");
  ASSERT_TRUE(tid && sid);
  Context remote = Context().WithSpanContext(SpanContext(*tid, *sid, TraceFlags{1}, true));
  SpanOptions o;
  o.parent = &remote;
  o.kind = SpanKind::kServer;
  f.tracer.StartSpan("server", o).End();
  auto s = f.store->FindByName("server");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0]->trace_id(), *tid);
  EXPECT_EQ(s[0]->parent_span_id(), *sid);
  EXPECT_TRUE(s[0]->parent_is_remote());
  EXPECT_FALSE(remote.span().IsRecording());  // a remote span cannot be annotated
}

// An unsampled span (parent-based sampler, remote parent with flags 00) made
// current: nothing is recorded, but its valid span context is readable
// wherever the current span is (log correlation depends on it).
TEST(Context, NonRecordingSpanKeepsItsSpanContextWhenCurrent) {
  TracerProviderOptions o;
  o.sampler = ParentBasedSampler(AlwaysOnSampler());
  auto store = std::make_shared<InMemorySpanStore>();
  o.processors.push_back(std::make_unique<SimpleSpanProcessor>(std::make_unique<InMemorySpanExporter>(store)));
  TracerProvider provider(std::move(o));
  Tracer tracer = provider.GetTracer("ctx-test");
  auto tid = TraceId::FromHex("0af7651916cd43dd8448eb211c80319c");
  auto sid = SpanId::FromHex("b7ad6b7169203331");
  ASSERT_TRUE(tid && sid);
  Context remote = Context().WithSpanContext(SpanContext(*tid, *sid, TraceFlags{0}, true));
  // The remote parent itself, read as a span.
  EXPECT_EQ(remote.span().GetContext().span_id(), *sid);
  EXPECT_TRUE(remote.span().GetContext().is_remote());
  SpanOptions so;
  so.parent = &remote;
  so.kind = SpanKind::kServer;
  Span server = tracer.StartSpan("server", so);
  ASSERT_FALSE(server.IsRecording());
  ASSERT_TRUE(server.GetContext().IsValid());
  {
    Scope scope(server.AsContext(remote));
    SpanRef cur = GetCurrentSpan();
    EXPECT_FALSE(cur.IsRecording());
    EXPECT_EQ(cur.GetContext().trace_id(), *tid);
    EXPECT_EQ(cur.GetContext().span_id(), server.GetContext().span_id());
    EXPECT_NE(cur.GetContext().span_id(), *sid);
    EXPECT_FALSE(cur.GetContext().sampled());
    EXPECT_FALSE(cur.GetContext().is_remote());
    EXPECT_EQ(Context::Current().span().GetContext().span_id(), server.GetContext().span_id());
    cur.SetAttribute("k", 1);  // a no-op, never a crash
    // A child of the unsampled span: same trace, parent = the unsampled span.
    Span child = tracer.StartSpan("child");
    EXPECT_EQ(child.GetContext().trace_id(), *tid);
    EXPECT_FALSE(child.IsRecording());
  }
  server.End();
  EXPECT_EQ(store->size(), 0u);
  // No span at all: all-zero ids.
  EXPECT_FALSE(GetCurrentSpan().GetContext().IsValid());
}

TEST(Context, OutOfOrderDetachIsReportedAndRepaired) {
  Fixture f;
  testing::DiagnosticsCapture diag;
  Span a = f.tracer.StartSpan("a");
  Span b = f.tracer.StartSpan("b");
  auto* sa = new Scope(a.AsContext());
  auto* sb = new Scope(b.AsContext());
  delete sa;  // out of order: b stays current
  EXPECT_EQ(GetCurrentSpan().GetContext().span_id(), b.GetContext().span_id());
  EXPECT_EQ(diag.Count("out of order"), 1u);
  delete sb;  // pops b and the detached a
  EXPECT_FALSE(Context::Current().span_context().IsValid());
}

TEST(Context, ScopeDestroyedOnAnotherThreadIsIgnored) {
  Fixture f;
  testing::DiagnosticsCapture diag;
  Span a = f.tracer.StartSpan("a");
  bool still_current = false;
  // On a thread of its own so the scope left on its stack dies with it.
  std::thread owner([&] {
    auto* s = new Scope(a.AsContext());
    std::thread([s] { delete s; }).join();
    // The owner's stack still has the scope: it stays current, not corrupted.
    still_current = GetCurrentSpan().GetContext().span_id() == a.GetContext().span_id();
  });
  owner.join();
  EXPECT_EQ(diag.Count("other than the one"), 1u);
  EXPECT_TRUE(still_current);
  EXPECT_FALSE(Context::Current().span_context().IsValid());
}

TEST(Context, HandOffToAnotherThread) {
  Fixture f;
  // The previous test may have left a scope on this thread; use an explicit root.
  SpanOptions r;
  r.root = true;
  Span parent = f.tracer.StartSpan("parent", r);
  Context captured = parent.AsContext();
  std::thread worker([&] {
    Scope s(captured);
    Span child = f.tracer.StartSpan("async-child");
    GetCurrentSpan().SetAttribute("parent.via.ref", 1);  // the parent, through the context
  });
  worker.join();
  parent.End();
  auto c = f.store->FindByName("async-child");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0]->parent_span_id(), parent.GetContext().span_id());
  auto p = f.store->FindByName("parent");
  ASSERT_EQ(p.size(), 1u);
  AttributeView v;
  EXPECT_TRUE(p[0]->FindAttribute("parent.via.ref", &v));
}

TEST(Context, BaggageAndSuppressionTravel) {
  Context c = Context().WithBaggage(Baggage().Set("user", "alice")).WithInstrumentationSuppressed();
  {
    Scope s(c);
    EXPECT_EQ(Context::Current().baggage().Get("user"), "alice");
    EXPECT_TRUE(Context::Current().instrumentation_suppressed());
  }
  EXPECT_TRUE(Context::Current().baggage().empty());
}

}  // namespace
}  // namespace otelweb
