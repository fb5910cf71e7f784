// The W3C Trace Context Level 2 "random" trace flag on spans we start: set on
// new traces (our trace ids are random), inherited from a parent, and left
// unset by id generators that do not promise random ids.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "otelweb/otelweb.h"

namespace otelweb {
namespace {

using Headers = std::map<std::string, std::string>;

std::unique_ptr<TracerProvider> Provider(std::shared_ptr<IdGenerator> ids = nullptr,
                                         std::shared_ptr<Sampler> sampler = AlwaysOnSampler()) {
  TracerProviderOptions o;
  o.sampler = std::move(sampler);
  o.id_generator = std::move(ids);
  o.resource = Resource::Create({});
  return std::make_unique<TracerProvider>(std::move(o));
}

Context Remote(const char* flags) {
  Headers h{{"traceparent", std::string("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-") + flags}};
  MapCarrier<Headers> c(h);
  return W3CTraceContextPropagator().Extract(c, Context());
}

TEST(RandomTraceFlag, SetOnNewTracesWithTheBuiltInGenerator) {
  auto p = Provider();
  Span root = p->GetTracer("t").StartSpan("root");
  EXPECT_TRUE(root.GetContext().flags().random());
  EXPECT_TRUE(root.GetContext().sampled());
  Scope s(root.AsContext());
  Span child = p->GetTracer("t").StartSpan("child");
  EXPECT_TRUE(child.GetContext().flags().random());
  // What goes downstream says so too: flags 03.
  Headers out;
  MapCarrier<Headers> c(out);
  W3CTraceContextPropagator().Inject(child.AsContext(), c);
  EXPECT_EQ(out["traceparent"].substr(53), "03");
}

TEST(RandomTraceFlag, InheritedFromARemoteParentEitherWay) {
  auto p = Provider();
  for (const char* f : {"00", "01", "02", "03"}) {
    Context remote = Remote(f);
    SpanOptions o;
    o.parent = &remote;
    Span s = p->GetTracer("t").StartSpan("server", o);
    EXPECT_EQ(s.GetContext().flags().random(), remote.span_context().flags().random()) << f;
    EXPECT_EQ(s.GetContext().trace_id(), remote.span_context().trace_id());
  }
}

TEST(RandomTraceFlag, KeptOnNonRecordingSpans) {
  auto p = Provider(nullptr, AlwaysOffSampler());
  Span root = p->GetTracer("t").StartSpan("root");
  EXPECT_FALSE(root.GetContext().sampled());
  EXPECT_TRUE(root.GetContext().flags().random());
  Context remote = Remote("02");
  SpanOptions o;
  o.parent = &remote;
  Span child = p->GetTracer("t").StartSpan("child", o);
  EXPECT_TRUE(child.GetContext().flags().random());
}

class CountingIds final : public IdGenerator {
 public:
  explicit CountingIds(bool random) : random_(random) {}
  TraceId NewTraceId() noexcept override {
    uint8_t b[16] = {};
    b[15] = static_cast<uint8_t>(++n_);
    return TraceId(b);
  }
  SpanId NewSpanId() noexcept override {
    uint8_t b[8] = {};
    b[7] = static_cast<uint8_t>(++n_);
    return SpanId(b);
  }
  bool TraceIdsAreRandom() const noexcept override { return random_; }

 private:
  bool random_;
  int n_ = 0;
};

TEST(RandomTraceFlag, NotClaimedForCustomGeneratorsUnlessTheySaySo) {
  auto plain = Provider(std::make_shared<CountingIds>(false));
  EXPECT_FALSE(plain->GetTracer("t").StartSpan("root").GetContext().flags().random());
  auto random = Provider(std::make_shared<CountingIds>(true));
  EXPECT_TRUE(random->GetTracer("t").StartSpan("root").GetContext().flags().random());
}

}  // namespace
}  // namespace otelweb
