// SpanStub::Build: a stub's fields run through the SDK's own span path.
#include "otelweb/testing/span_stub.h"

#include <deque>
#include <memory>
#include <mutex>
#include <random>
#include <string_view>

#include "otelweb/context.h"
#include "otelweb/trace/id_generator.h"
#include "otelweb/trace/sampler.h"
#include "otelweb/trace/span_processor.h"
#include "otelweb/trace/tracer_provider.h"

namespace otelweb::testing {

namespace {

uint64_t RandomWord() {
  static std::mutex mu;
  static std::mt19937_64 rng{std::random_device{}()};
  std::lock_guard<std::mutex> lock(mu);
  uint64_t w = 0;
  while (w == 0) w = rng();
  return w;
}

class StubIds final : public IdGenerator {
 public:
  StubIds(TraceId t, SpanId s) : trace_(t), span_(s) {}
  TraceId NewTraceId() noexcept override {
    return trace_.IsValid() ? trace_ : TraceId::FromWords(RandomWord(), RandomWord());
  }
  SpanId NewSpanId() noexcept override {
    return span_.IsValid() ? span_ : SpanId::FromWord(RandomWord());
  }

 private:
  TraceId trace_;
  SpanId span_;
};

class StubSampler final : public Sampler {
 public:
  StubSampler(bool sampled, std::optional<TraceState> state)
      : sampled_(sampled), state_(std::move(state)) {}
  SamplingResult ShouldSample(const SamplingParams&) noexcept override {
    SamplingResult r;
    r.decision = sampled_ ? SamplingDecision::kRecordAndSample : SamplingDecision::kRecordOnly;
    r.trace_state = state_;
    return r;
  }
  std::string Description() const override { return "SpanStubSampler"; }

 private:
  bool sampled_;
  std::optional<TraceState> state_;
};

// Keeps the one span that ends.
class Catch final : public SpanProcessor {
 public:
  explicit Catch(EndedSpan* out) : out_(out) {}
  void OnEnd(EndedSpan span) noexcept override { *out_ = std::move(span); }
  OperationResult ForceFlush(std::chrono::milliseconds) noexcept override {
    return OperationResult::Ok();
  }
  OperationResult Shutdown(std::chrono::milliseconds) noexcept override {
    return OperationResult::Ok();
  }

 private:
  EndedSpan* out_;
};

// Borrowed KeyValue lists over owned values; the storage lives as long as
// this object (deque: element addresses stay put).
class Borrowed {
 public:
  std::vector<KeyValue> List(const std::vector<OwnedKeyValue>& owned) {
    std::vector<KeyValue> out;
    out.reserve(owned.size());
    for (const auto& kv : owned) out.push_back(KeyValue{kv.key, Value(kv.value)});
    return out;
  }

 private:
  AttributeValue Value(const OwnedValue& v) {
    switch (v.type) {
      case AttributeType::kBool:
        return AttributeValue(v.b);
      case AttributeType::kInt:
        return AttributeValue(v.i);
      case AttributeType::kDouble:
        return AttributeValue(v.d);
      case AttributeType::kString:
        return AttributeValue(std::string_view(v.s));
      case AttributeType::kBoolArray: {
        auto& b = bools_.emplace_back(std::make_unique<bool[]>(v.bools.size()));
        for (size_t i = 0; i < v.bools.size(); ++i) b[i] = v.bools[i];
        return AttributeValue(std::span<const bool>(b.get(), v.bools.size()));
      }
      case AttributeType::kIntArray:
        return AttributeValue(std::span<const int64_t>(v.ints));
      case AttributeType::kDoubleArray:
        return AttributeValue(std::span<const double>(v.doubles));
      case AttributeType::kStringArray: {
        auto& s = strings_.emplace_back(v.strings.begin(), v.strings.end());
        return AttributeValue(std::span<const std::string_view>(s));
      }
      case AttributeType::kNone:
        break;
    }
    return AttributeValue();
  }
  std::deque<std::unique_ptr<bool[]>> bools_;
  std::deque<std::vector<std::string_view>> strings_;
};

}  // namespace

EndedSpan SpanStub::Build() const {
  EndedSpan out;
  {
    TracerProviderOptions po;
    po.resource = resource;
    po.sampler = std::make_shared<StubSampler>(sampled, trace_state);
    po.id_generator = std::make_shared<StubIds>(trace_id, span_id);
    po.limits = limits;
    po.processors.push_back(std::make_unique<Catch>(&out));
    TracerProvider provider(std::move(po));
    Tracer tracer = provider.GetTracer(scope.name, scope.version, scope.schema_url);

    Borrowed b;
    std::vector<KeyValue> attrs = b.List(attributes);
    std::vector<std::vector<KeyValue>> link_attrs;
    link_attrs.reserve(links.size());
    std::vector<otelweb::Link> link_list;
    for (const auto& l : links) {
      link_attrs.push_back(b.List(l.attributes));
      link_list.push_back(otelweb::Link{l.context, link_attrs.back()});
    }
    Context parent_ctx = Context().WithSpanContext(parent);
    SpanOptions so;
    so.kind = kind;
    so.start_time = start_time;
    so.attributes = attrs;
    so.links = link_list;
    if (parent.IsValid()) {
      so.parent = &parent_ctx;
    } else {
      so.root = true;
    }
    Span span = tracer.StartSpan(name, so);
    for (const auto& e : events) {
      std::vector<KeyValue> ea = b.List(e.attributes);
      span.AddEvent(e.name, ea, e.time);
    }
    if (status != StatusCode::kUnset) span.SetStatus(status, status_description);
    span.End(end_time);
    provider.Shutdown();
  }
  return out;
}

}  // namespace otelweb::testing
