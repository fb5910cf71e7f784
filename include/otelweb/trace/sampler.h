// Samplers decide, at span start, whether a span is recorded and exported.
//
// Ownership: samplers are shared (std::shared_ptr); the provider keeps the one
// it was given for its lifetime.
// Thread-safety: ShouldSample is called concurrently from every thread that
// starts spans; implementations must be thread-safe and should not block.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "otelweb/attribute.h"
#include "otelweb/context.h"
#include "otelweb/trace/span.h"

namespace otelweb {

enum class SamplingDecision : uint8_t {
  kDrop,             // not recorded, not sampled
  kRecordOnly,       // recorded (processors see it) but not sampled (not exported)
  kRecordAndSample,  // recorded and sampled
};

struct SamplingParams {
  const Context& parent;  // parent context (its span context may be invalid)
  const TraceId& trace_id;
  std::string_view name;
  SpanKind kind;
  Attributes attributes;
  std::span<const Link> links;
};

struct SamplingResult {
  SamplingDecision decision = SamplingDecision::kDrop;
  // Extra attributes to add to the span; must stay valid until ShouldSample's
  // caller has copied them (i.e. storage owned by the sampler or static).
  Attributes attributes{};
  // When set, the new span's trace state; otherwise the parent's is kept.
  std::optional<TraceState> trace_state{};
};

class Sampler {
 public:
  virtual ~Sampler() = default;
  virtual SamplingResult ShouldSample(const SamplingParams& params) noexcept = 0;
  // E.g. "ParentBased{root:AlwaysOnSampler,...}", as in the other SDKs.
  virtual std::string Description() const = 0;

  // Built-in samplers identify themselves so the SDK can decide without a
  // virtual call; user samplers leave this at kCustom.
  enum class Builtin : uint8_t { kCustom, kAlwaysOn, kAlwaysOff, kRatio, kParentBased };
  Builtin builtin() const noexcept { return builtin_; }

 protected:
  Builtin builtin_ = Builtin::kCustom;
};

std::shared_ptr<Sampler> AlwaysOnSampler();
std::shared_ptr<Sampler> AlwaysOffSampler();
// Samples a fixed fraction of traces, decided from the trace id alone so every
// service makes the same choice for the same trace. ratio is clamped to [0,1]
// (NaN counts as 0).
std::shared_ptr<Sampler> TraceIdRatioSampler(double ratio);

struct ParentBasedOptions {
  std::shared_ptr<Sampler> remote_parent_sampled{};    // default AlwaysOn
  std::shared_ptr<Sampler> remote_parent_not_sampled{};  // default AlwaysOff
  std::shared_ptr<Sampler> local_parent_sampled{};     // default AlwaysOn
  std::shared_ptr<Sampler> local_parent_not_sampled{};   // default AlwaysOff
};
// Follows the parent's sampled flag; `root` decides for spans with no parent.
std::shared_ptr<Sampler> ParentBasedSampler(std::shared_ptr<Sampler> root,
                                            ParentBasedOptions options = {});

std::shared_ptr<Sampler> SamplerFromEnv();

}  // namespace otelweb
