// Built-in samplers and OTEL_TRACES_SAMPLER.
#include <cmath>
#include <cstdio>
#include <string>

#include "core/config.h"
#include "otelweb/diagnostics.h"
#include "otelweb/trace/sampler.h"

namespace otelweb {

namespace {

class AlwaysOn final : public Sampler {
 public:
  AlwaysOn() { builtin_ = Builtin::kAlwaysOn; }
  SamplingResult ShouldSample(const SamplingParams&) noexcept override {
    return {SamplingDecision::kRecordAndSample, {}, std::nullopt};
  }
  std::string Description() const override { return "AlwaysOnSampler"; }
};

class AlwaysOff final : public Sampler {
 public:
  AlwaysOff() { builtin_ = Builtin::kAlwaysOff; }
  SamplingResult ShouldSample(const SamplingParams&) noexcept override {
    return {SamplingDecision::kDrop, {}, std::nullopt};
  }
  std::string Description() const override { return "AlwaysOffSampler"; }
};

// The OpenTelemetry trace SDK's TraceIdRatioBased algorithm (consistent
// probability sampling): the 56 least significant bits of the trace id are
// the randomness R; the rejection threshold is T = (1 - ratio) * 2^56; the
// span is sampled when R >= T. Every SDK that follows the specification makes
// the same decision for the same trace id.
class Ratio final : public Sampler {
 public:
  explicit Ratio(double ratio) : ratio_(ratio) {
    builtin_ = Builtin::kRatio;
    constexpr double k2_56 = 72057594037927936.0;
    if (ratio_ >= 1.0) {
      threshold_ = 0;
    } else if (ratio_ <= 0.0) {
      threshold_ = uint64_t{1} << 56;  // nothing reaches it
    } else {
      threshold_ = static_cast<uint64_t>(std::llround((1.0 - ratio_) * k2_56));
    }
  }
  SamplingResult ShouldSample(const SamplingParams& p) noexcept override {
    const uint64_t r = p.trace_id.Low64() & ((uint64_t{1} << 56) - 1);
    return {r >= threshold_ ? SamplingDecision::kRecordAndSample : SamplingDecision::kDrop, {}, std::nullopt};
  }
  std::string Description() const override {
    char buf[64];
    std::snprintf(buf, sizeof buf, "TraceIdRatioBased{%f}", ratio_);
    return buf;
  }

 private:
  double ratio_;
  uint64_t threshold_;
};

class ParentBased final : public Sampler {
 public:
  ParentBased(std::shared_ptr<Sampler> root, ParentBasedOptions o)
      : root_(root ? std::move(root) : AlwaysOnSampler()),
        remote_sampled_(o.remote_parent_sampled ? std::move(o.remote_parent_sampled) : AlwaysOnSampler()),
        remote_not_(o.remote_parent_not_sampled ? std::move(o.remote_parent_not_sampled) : AlwaysOffSampler()),
        local_sampled_(o.local_parent_sampled ? std::move(o.local_parent_sampled) : AlwaysOnSampler()),
        local_not_(o.local_parent_not_sampled ? std::move(o.local_parent_not_sampled) : AlwaysOffSampler()) {
    builtin_ = Builtin::kParentBased;
  }
  SamplingResult ShouldSample(const SamplingParams& p) noexcept override {
    const SpanContext& parent = p.parent.span_context();
    Sampler* s;
    if (!parent.IsValid()) s = root_.get();
    else if (parent.is_remote()) s = parent.sampled() ? remote_sampled_.get() : remote_not_.get();
    else s = parent.sampled() ? local_sampled_.get() : local_not_.get();
    return s->ShouldSample(p);
  }
  std::string Description() const override {
    return "ParentBased{root:" + root_->Description() + ",remoteParentSampled:" + remote_sampled_->Description() +
           ",remoteParentNotSampled:" + remote_not_->Description() +
           ",localParentSampled:" + local_sampled_->Description() +
           ",localParentNotSampled:" + local_not_->Description() + "}";
  }

 private:
  std::shared_ptr<Sampler> root_, remote_sampled_, remote_not_, local_sampled_, local_not_;
};

}  // namespace

std::shared_ptr<Sampler> AlwaysOnSampler() {
  static std::shared_ptr<Sampler> s = std::make_shared<AlwaysOn>();
  return s;
}

std::shared_ptr<Sampler> AlwaysOffSampler() {
  static std::shared_ptr<Sampler> s = std::make_shared<AlwaysOff>();
  return s;
}

std::shared_ptr<Sampler> TraceIdRatioSampler(double ratio) {
  if (std::isnan(ratio)) ratio = 0;
  if (ratio < 0) ratio = 0;
  if (ratio > 1) ratio = 1;
  return std::make_shared<Ratio>(ratio);
}

std::shared_ptr<Sampler> ParentBasedSampler(std::shared_ptr<Sampler> root, ParentBasedOptions options) {
  return std::make_shared<ParentBased>(std::move(root), std::move(options));
}

std::shared_ptr<Sampler> SamplerFromEnv() {
  std::string name = config::GetString("OTEL_TRACES_SAMPLER").value_or("parentbased_always_on");
  for (char& c : name) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  auto ratio = [] {
    auto arg = config::GetString("OTEL_TRACES_SAMPLER_ARG");
    double r;
    if (!arg) {
      Log(LogLevel::kWarning, "OTEL_TRACES_SAMPLER_ARG is not set for a ratio sampler; using 1.0");
      return 1.0;
    }
    if (!config::ParseDouble(*arg, &r) || r < 0 || r > 1) {
      config::WarnInvalid("OTEL_TRACES_SAMPLER_ARG", *arg, "a number from 0 to 1");
      return 1.0;
    }
    return r;
  };
  if (name == "always_on") return AlwaysOnSampler();
  if (name == "always_off") return AlwaysOffSampler();
  if (name == "traceidratio") return TraceIdRatioSampler(ratio());
  if (name == "parentbased_always_on") return ParentBasedSampler(AlwaysOnSampler());
  if (name == "parentbased_always_off") return ParentBasedSampler(AlwaysOffSampler());
  if (name == "parentbased_traceidratio") return ParentBasedSampler(TraceIdRatioSampler(ratio()));
  if (name == "jaeger_remote" || name == "parentbased_jaeger_remote" || name == "xray") {
    Log(LogLevel::kWarning, "OTEL_TRACES_SAMPLER=" + name + " is not supported; using parentbased_always_on");
  } else {
    config::WarnInvalid("OTEL_TRACES_SAMPLER", name,
                        "always_on, always_off, traceidratio, parentbased_always_on, "
                        "parentbased_always_off or parentbased_traceidratio");
  }
  return ParentBasedSampler(AlwaysOnSampler());
}

}  // namespace otelweb
