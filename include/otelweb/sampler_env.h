// The sampler named by OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG.
//
// Values: always_on, always_off, traceidratio, parentbased_always_on (the
// default), parentbased_always_off, parentbased_traceidratio. An unknown or
// unsupported name (jaeger_remote, parentbased_jaeger_remote, xray) is one
// warning and the default. The ratio argument must be a number in [0, 1];
// missing or invalid: one warning and 1.0.
// Thread-safety: reads the environment; call at set-up.
#pragma once

#include <memory>

#include "otelweb/sampler.h"

namespace otelweb {

std::shared_ptr<Sampler> SamplerFromEnv();

}  // namespace otelweb
