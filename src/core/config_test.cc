// Environment configuration: parsers, precedence, invalid values, resource,
// samplers and limits.
#include <gtest/gtest.h>

#include <cstdlib>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "core/config.h"
#include "otelweb/diagnostics.h"
#include "otelweb/resource.h"
#include "otelweb/testing/diagnostics_capture.h"
#include "otelweb/testing/scoped_env.h"
#include "otelweb/trace/batch_span_processor.h"
#include "otelweb/trace/span_limits.h"
#include "otelweb/trace/sampler.h"

namespace otelweb {
namespace {

// Sets variables for one test and restores them; captures the SDK's messages.
class Env : public testing::ScopedEnv {
 public:
  size_t WarningsMentioning(std::string_view s) { return diag_.Count(s); }

 private:
  testing::DiagnosticsCapture diag_;
};

TEST(ConfigParsers, Basics) {
  bool b;
  EXPECT_TRUE(config::ParseBool(" TRUE ", &b) && b);
  EXPECT_TRUE(config::ParseBool("false", &b) && !b);
  EXPECT_FALSE(config::ParseBool("1", &b));
  int64_t i;
  EXPECT_TRUE(config::ParseInt("42", &i) && i == 42);
  EXPECT_FALSE(config::ParseInt("42ms", &i));
  EXPECT_FALSE(config::ParseInt("", &i));
  double d;
  EXPECT_TRUE(config::ParseDouble("0.25", &d) && d == 0.25);
  EXPECT_FALSE(config::ParseDouble("nan", &d));
  std::string s;
  EXPECT_TRUE(config::PercentDecode("a%20b%2C", &s));
  EXPECT_EQ(s, "a b,");
  EXPECT_FALSE(config::PercentDecode("bad%2", &s));
  EXPECT_FALSE(config::PercentDecode("bad%zz", &s));
  EXPECT_EQ(config::SplitList(" a, ,b ,,c,"), (std::vector<std::string>{"a", "b", "c"}));
}

TEST(ConfigGetters, InvalidValuesWarnOnceAndFallBack) {
  Env env;
  env.Set("OTELWEB_TEST_INT", "abc");
  env.Set("OTELWEB_TEST_BOOL", "yes");
  env.Set("OTELWEB_TEST_BLANK", "   ");
  EXPECT_FALSE(config::GetInt("OTELWEB_TEST_INT", 0, 10));
  EXPECT_FALSE(config::GetBool("OTELWEB_TEST_BOOL"));
  EXPECT_FALSE(config::GetString("OTELWEB_TEST_BLANK"));
  EXPECT_EQ(env.WarningsMentioning("OTELWEB_TEST_INT"), 1u);
  EXPECT_EQ(env.WarningsMentioning("OTELWEB_TEST_BOOL"), 1u);
  EXPECT_EQ(env.WarningsMentioning("OTELWEB_TEST_BLANK"), 0u);  // blank is "not set", not invalid
}

TEST(KeyValueList, SplitsTrimsAndPercentDecodesKeysAndValues) {
  std::vector<std::string> errors;
  auto kv = config::ParseKeyValueList(" a = 1 ,,b%2Ec=x%3Dy%2Cz, sp%20ace=%20v ,e=", &errors);
  ASSERT_EQ(kv.size(), 4u);
  EXPECT_EQ(kv[0].key, "a");
  EXPECT_EQ(kv[0].value, "1");
  EXPECT_EQ(kv[1].key, "b.c");  // keys are decoded like values
  EXPECT_EQ(kv[1].value, "x=y,z");
  EXPECT_EQ(kv[2].key, "sp ace");
  EXPECT_EQ(kv[2].value, " v");  // trimmed before decoding
  EXPECT_EQ(kv[3].key, "e");
  EXPECT_EQ(kv[3].value, "");
  EXPECT_TRUE(errors.empty());
  // Only the first '=' splits.
  kv = config::ParseKeyValueList("k=a=b");
  ASSERT_EQ(kv.size(), 1u);
  EXPECT_EQ(kv[0].value, "a=b");
}

TEST(KeyValueList, BadEntriesAreSkippedAndDescribedWithoutTheirValues) {
  std::vector<std::string> errors;
  auto kv = config::ParseKeyValueList(
      "Authorization: Bearer secret1,token=secret2%zz,=secret3,bad%4=secret4,ok=v,k\x01ey%=secret5", &errors);
  ASSERT_EQ(kv.size(), 1u);
  EXPECT_EQ(kv[0].key, "ok");
  ASSERT_EQ(errors.size(), 5u);
  for (const auto& e : errors) EXPECT_EQ(e.find("secret"), std::string::npos) << e;
  EXPECT_EQ(errors[0], "entry 1 has no '='");
  EXPECT_NE(errors[1].find("entry 2 ('token')"), std::string::npos) << errors[1];
  EXPECT_EQ(errors[2], "entry 3 has an empty key");
  EXPECT_NE(errors[3].find("('bad%4')"), std::string::npos) << errors[3];
  EXPECT_NE(errors[4].find("entry 6"), std::string::npos) << errors[4];
  EXPECT_TRUE(config::ParseKeyValueList("").empty());
  EXPECT_TRUE(config::ParseKeyValueList(" , ,").empty());
}

TEST(KeyValueList, ResourceAttributesUseIt) {
  std::vector<std::string> errors;
  auto attrs = ParseResourceAttributes("team%2Eid=a%2Cb,=x,novalue", &errors);
  ASSERT_EQ(attrs.size(), 1u);
  EXPECT_EQ(attrs[0].key, "team.id");
  EXPECT_EQ(attrs[0].value.s, "a,b");
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0], "entry 2 has an empty key");
  EXPECT_EQ(errors[1], "entry 3 has no '='");
}

TEST(ResourceEnv, PrecedenceAndDecoding) {
  Env env;
  env.Set("OTEL_RESOURCE_ATTRIBUTES",
          "service.name=from-attrs, deployment.environment=prod%20eu,broken,=novalue,team=a%2Cb");
  Resource r = Resource::Create();
  EXPECT_EQ(r.service_name(), "from-attrs");
  EXPECT_EQ(r.Find("deployment.environment")->s, "prod eu");
  EXPECT_EQ(r.Find("team")->s, "a,b");
  EXPECT_EQ(env.WarningsMentioning("OTEL_RESOURCE_ATTRIBUTES"), 2u);
  env.Set("OTEL_SERVICE_NAME", "from-service-name");
  EXPECT_EQ(Resource::Create().service_name(), "from-service-name");
  std::vector<OwnedKeyValue> code{{"service.name", OwnedValue(AttributeValue("from-code"))}};
  EXPECT_EQ(Resource::Create(code).service_name(), "from-code");
}

TEST(ResourceEnv, DefaultsDescribeTheProcess) {
  Resource r = Resource::Default();
  EXPECT_EQ(r.Find("telemetry.sdk.name")->s, "otelweb");
  EXPECT_EQ(r.Find("telemetry.sdk.language")->s, "cpp");
  EXPECT_EQ(r.Find("process.pid")->i, static_cast<int64_t>(getpid()));
  ASSERT_NE(r.Find("process.executable.name"), nullptr);
  EXPECT_EQ(r.service_name(), "unknown_service:" + r.Find("process.executable.name")->s);
  EXPECT_NE(r.Find("host.name"), nullptr);
}

TEST(SamplerEnv, EveryValue) {
  Env env;
  EXPECT_EQ(SamplerFromEnv()->Description().rfind("ParentBased{root:AlwaysOnSampler", 0), 0u);
  env.Set("OTEL_TRACES_SAMPLER", "always_off");
  EXPECT_EQ(SamplerFromEnv()->Description(), "AlwaysOffSampler");
  env.Set("OTEL_TRACES_SAMPLER", "ALWAYS_ON");
  EXPECT_EQ(SamplerFromEnv()->Description(), "AlwaysOnSampler");
  env.Set("OTEL_TRACES_SAMPLER", "traceidratio");
  env.Set("OTEL_TRACES_SAMPLER_ARG", "0.25");
  EXPECT_EQ(SamplerFromEnv()->Description(), "TraceIdRatioBased{0.250000}");
  env.Set("OTEL_TRACES_SAMPLER", "parentbased_traceidratio");
  EXPECT_EQ(SamplerFromEnv()->Description().rfind("ParentBased{root:TraceIdRatioBased{0.250000}", 0), 0u);
  env.Set("OTEL_TRACES_SAMPLER", "parentbased_always_off");
  EXPECT_EQ(SamplerFromEnv()->Description().rfind("ParentBased{root:AlwaysOffSampler", 0), 0u);
  env.Set("OTEL_TRACES_SAMPLER_ARG", "1.5");
  env.Set("OTEL_TRACES_SAMPLER", "traceidratio");
  EXPECT_EQ(SamplerFromEnv()->Description(), "TraceIdRatioBased{1.000000}");
  EXPECT_EQ(env.WarningsMentioning("OTEL_TRACES_SAMPLER_ARG"), 1u);
  env.Set("OTEL_TRACES_SAMPLER", "nonsense");
  EXPECT_EQ(SamplerFromEnv()->Description().rfind("ParentBased{root:AlwaysOnSampler", 0), 0u);
  EXPECT_EQ(env.WarningsMentioning("OTEL_TRACES_SAMPLER"), 2u);  // the ARG warning + this one
}

SamplingDecision Decide(Sampler& s, const Context& parent, TraceId tid) {
  return s.ShouldSample(SamplingParams{parent, tid, "x", SpanKind::kInternal, {}, {}}).decision;
}

TEST(Samplers, RatioIsDeterministicAndProportional) {
  auto s = TraceIdRatioSampler(0.25);
  std::mt19937_64 rng(12345);
  int sampled = 0;
  const int n = 100000;
  for (int i = 0; i < n; ++i) {
    TraceId t = TraceId::FromWords(rng(), rng());
    SamplingDecision d = Decide(*s, Context(), t);
    EXPECT_EQ(d, Decide(*s, Context(), t));
    sampled += d == SamplingDecision::kRecordAndSample;
  }
  EXPECT_NEAR(sampled / double(n), 0.25, 0.01);
  // The decision reads the low 56 bits: randomness at or above (1 - ratio) * 2^56 is sampled.
  EXPECT_EQ(Decide(*s, Context(), TraceId::FromWords(0, 0x00C0000000000000ull)), SamplingDecision::kRecordAndSample);
  EXPECT_EQ(Decide(*s, Context(), TraceId::FromWords(0, 0x00BFFFFFFFFFFFFFull)), SamplingDecision::kDrop);
  EXPECT_EQ(Decide(*TraceIdRatioSampler(0), Context(), TraceId::FromWords(~0ull, ~0ull)), SamplingDecision::kDrop);
  EXPECT_EQ(Decide(*TraceIdRatioSampler(1), Context(), TraceId::FromWords(0, 1)),
            SamplingDecision::kRecordAndSample);
}

TEST(Samplers, ParentBasedFollowsTheParent) {
  auto s = ParentBasedSampler(AlwaysOffSampler());
  TraceId t = TraceId::FromWords(1, 2);
  SpanId sid = SpanId::FromWord(3);
  auto ctx = [&](bool remote, bool sampled) {
    return Context().WithSpanContext(SpanContext(t, sid, TraceFlags{uint8_t(sampled ? 1 : 0)}, remote));
  };
  EXPECT_EQ(Decide(*s, Context(), t), SamplingDecision::kDrop);  // root: AlwaysOff
  EXPECT_EQ(Decide(*s, ctx(true, true), t), SamplingDecision::kRecordAndSample);
  EXPECT_EQ(Decide(*s, ctx(true, false), t), SamplingDecision::kDrop);
  EXPECT_EQ(Decide(*s, ctx(false, true), t), SamplingDecision::kRecordAndSample);
  EXPECT_EQ(Decide(*s, ctx(false, false), t), SamplingDecision::kDrop);
  ParentBasedOptions o;
  o.remote_parent_not_sampled = AlwaysOnSampler();
  auto custom = ParentBasedSampler(AlwaysOnSampler(), o);
  EXPECT_EQ(Decide(*custom, ctx(true, false), t), SamplingDecision::kRecordAndSample);
}

TEST(Limits, EnvironmentAndCodePrecedence) {
  Env env;
  env.Set("OTEL_ATTRIBUTE_COUNT_LIMIT", "10");
  env.Set("OTEL_SPAN_EVENT_COUNT_LIMIT", "5");
  env.Set("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "64");
  env.Set("OTEL_SPAN_LINK_COUNT_LIMIT", "-1");
  SpanLimitsOptions code;
  code.event_count = 7;
  SpanLimits l = ResolveSpanLimits(code);
  EXPECT_EQ(l.attribute_count, 10u);
  EXPECT_EQ(l.attribute_value_length, 64u);
  EXPECT_EQ(l.event_count, 7u);
  EXPECT_EQ(l.link_count, 128u);  // invalid: warned, default
  EXPECT_EQ(env.WarningsMentioning("OTEL_SPAN_LINK_COUNT_LIMIT"), 1u);
  env.Set("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "3");
  EXPECT_EQ(ResolveSpanLimits({}).attribute_count, 3u);  // the span-specific variable wins
}

// Issue 11 §3: a timeout or interval that looks like seconds gets a hint
// naming the unit, for every millisecond variable read through GetMillis
// (the batch processors', the metric reader's, the drop summary's, curl's
// default timeout); OTLP's timeout has its own (OtlpOptions tests). A short
// schedule delay and sensible values stay silent.
TEST(DurationHints, ValuesThatLookLikeSecondsGetAHintNamingTheUnit) {
  for (const char* name : {"OTEL_BSP_EXPORT_TIMEOUT", "OTEL_BLRP_EXPORT_TIMEOUT", "OTEL_METRIC_EXPORT_INTERVAL",
                           "OTEL_METRIC_EXPORT_TIMEOUT", "OTEL_CPP_DROP_SUMMARY_INTERVAL",
                           "OTEL_CPP_CURL_DEFAULT_TIMEOUT_MS"}) {
    Env env;
    env.Set(name, "30");
    EXPECT_EQ(config::GetMillis(name)->count(), 30);  // taken as written
    EXPECT_EQ(env.WarningsMentioning(std::string(name) + "=30 is 30 milliseconds"), 1u) << name;
    EXPECT_EQ(env.WarningsMentioning("30000 for 30 s"), 1u) << name;
    env.Set(name, "1500");
    (void)config::GetMillis(name);
    env.Set(name, "0");
    (void)config::GetMillis(name);
    EXPECT_EQ(env.WarningsMentioning(name), 1u) << name;
  }
  Env env;
  env.Set("OTEL_BSP_SCHEDULE_DELAY", "20");
  EXPECT_EQ(config::GetMillis("OTEL_BSP_SCHEDULE_DELAY")->count(), 20);
  EXPECT_EQ(env.WarningsMentioning("OTEL_BSP_SCHEDULE_DELAY"), 0u);
}

TEST(BatchOptionsEnv, InvalidAndInconsistentValues) {
  Env env;
  env.Set("OTEL_BSP_SCHEDULE_DELAY", "-1");
  env.Set("OTEL_BSP_MAX_QUEUE_SIZE", "100");
  env.Set("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "500");
  ResolvedBatchOptions r = ResolveBatchOptions({});
  EXPECT_EQ(r.schedule_delay.count(), 5000);
  EXPECT_EQ(r.max_queue_size, 100u);
  EXPECT_EQ(r.max_export_batch_size, 100u);  // capped at the queue size
  EXPECT_EQ(env.WarningsMentioning("OTEL_BSP_SCHEDULE_DELAY"), 1u);
}

// Zero is a valid duration for both (the docs say >= 0): no delay, no limit.
TEST(BatchOptionsEnv, ZeroDelayAndZeroTimeoutAreValid) {
  Env env;
  env.Set("OTEL_BSP_SCHEDULE_DELAY", "0");
  env.Set("OTEL_BSP_EXPORT_TIMEOUT", "0");
  ResolvedBatchOptions r = ResolveBatchOptions({});
  EXPECT_EQ(r.schedule_delay.count(), 0);
  EXPECT_EQ(r.export_timeout.count(), 0);
  EXPECT_EQ(env.WarningsMentioning("OTEL_BSP"), 0u);
  EXPECT_EQ(EffectiveShutdownTimeout(r.export_timeout), kShutdownCeiling);
  EXPECT_EQ(EffectiveShutdownTimeout(std::chrono::milliseconds(250)).count(), 250);
  EXPECT_EQ(EffectiveShutdownTimeout(std::chrono::hours(1)), kShutdownCeiling);
  BatchSpanProcessorOptions code;
  code.schedule_delay = std::chrono::milliseconds(0);
  code.export_timeout = std::chrono::milliseconds(0);
  env.Set("OTEL_BSP_SCHEDULE_DELAY", "700");
  r = ResolveBatchOptions(code);
  EXPECT_EQ(r.schedule_delay.count(), 0);  // code beats environment, zero included
  EXPECT_EQ(r.export_timeout.count(), 0);
}

// One resolution for every signal's batch processor, over its prefix: the
// log records' variables behave as the spans' do (zero valid, invalid warned
// by name, batch capped at the queue, code first).
TEST(BatchOptionsEnv, OneResolutionOverEachSignalsPrefix) {
  Env env;
  env.Set("OTEL_BLRP_SCHEDULE_DELAY", "0");
  env.Set("OTEL_BLRP_EXPORT_TIMEOUT", "0");
  env.Set("OTEL_BLRP_MAX_QUEUE_SIZE", "64");
  env.Set("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "nope");
  env.Set("OTEL_BSP_MAX_QUEUE_SIZE", "128");
  config::BatchSettings defaults{2048, std::chrono::milliseconds(1000), 512, std::chrono::milliseconds(30000)};
  config::BatchSettings r = config::ResolveBatchSettings("OTEL_BLRP_", {}, defaults, 1 << 24);
  EXPECT_EQ(r.schedule_delay.count(), 0);
  EXPECT_EQ(r.export_timeout.count(), 0);
  EXPECT_EQ(r.max_queue_size, 64u);          // not the OTEL_BSP_ value
  EXPECT_EQ(r.max_export_batch_size, 64u);   // default 512, capped at the queue
  EXPECT_EQ(env.WarningsMentioning("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE"), 2u);  // invalid, then capped
  EXPECT_EQ(env.WarningsMentioning("OTEL_BSP"), 0u);
  config::BatchSettingsInCode code;
  code.max_queue_size = 10;
  code.schedule_delay = std::chrono::milliseconds(7);
  r = config::ResolveBatchSettings("OTEL_BLRP_", code, defaults, 1 << 24);
  EXPECT_EQ(r.max_queue_size, 10u);
  EXPECT_EQ(r.schedule_delay.count(), 7);
  env.Set("OTEL_BLRP_MAX_QUEUE_SIZE", "99999999");  // above this signal's bound
  env.Set("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "");
  const size_t before = env.WarningsMentioning("99999999");
  r = config::ResolveBatchSettings("OTEL_BLRP_", {}, defaults, 1 << 24);
  EXPECT_EQ(r.max_queue_size, 2048u);
  EXPECT_EQ(env.WarningsMentioning("99999999"), before + 1);
}

TEST(LogLevel, Parsing) {
  LogLevel l;
  EXPECT_TRUE(ParseLogLevel("WARN", &l));
  EXPECT_EQ(l, LogLevel::kWarning);
  EXPECT_TRUE(ParseLogLevel("none", &l));
  EXPECT_EQ(l, LogLevel::kNone);
  EXPECT_FALSE(ParseLogLevel("loud", &l));
}

}  // namespace
}  // namespace otelweb
