// MeterProvider and Meter: the metrics SDK's root object and the per-scope
// factory of instruments (OpenTelemetry specification, metrics API "Meter",
// SDK "MeterProvider"), plus the global provider.
//
// Ownership: a MeterProvider owns (shares) its readers and the state of every
// instrument; instruments and meters are handles that keep that state alive,
// so nothing dangles when the provider is destroyed first (recording then
// simply reaches no reader). Meter is a cheap value.
// Thread-safety: everything here is safe to call from any thread.
// Errors: an invalid instrument name (spec: at most 255 characters of
// [A-Za-z][A-Za-z0-9_./-]*) gives a disabled instrument and one warning that
// names the rule; a duplicate registration with the same identity returns the
// first instrument; a conflicting one (same name, other kind/unit/description)
// returns a working, separate instrument with one warning (both streams are
// reported, as the SDK spec says).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "otelweb/common.h"
#include "otelweb/metrics/instruments.h"
#include "otelweb/metrics/metric_reader.h"
#include "otelweb/resource.h"

namespace otelweb::metrics {

namespace internal {
struct ScopeState;
struct StreamConfig;
}

// OTEL_METRICS_EXEMPLAR_FILTER (spec default: trace_based).
enum class ExemplarFilter : uint8_t { kAlwaysOff, kAlwaysOn, kTraceBased };
// Parses always_on | always_off | trace_based; false otherwise.
bool ParseExemplarFilter(std::string_view text, ExemplarFilter* out) noexcept;

// The default cardinality limit per metric stream (spec).
inline constexpr size_t kDefaultCardinalityLimit = 2000;

// The advised buckets of http.server/client.request.duration (seconds).
inline constexpr double kHttpDurationBuckets[] = {0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25,
                                                  0.5,   0.75, 1,     2.5,  5,     7.5, 10};

// Advisory parameters given at instrument creation (spec: "Instrument
// advisory parameters"); a view overrides them.
struct InstrumentAdvice {
  // ExplicitBucketBoundaries for histograms (ascending, finite). Empty: the
  // SDK default 0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000,
  // 7500, 10000.
  std::vector<double> explicit_bucket_boundaries{};
};

// Spec: metrics SDK "View" — which instruments a view applies to. Every
// field left empty matches anything; a view with every field empty matches
// every instrument.
struct InstrumentSelector {
  // The instrument's name, case-insensitive, with the wildcards `*` (any run
  // of characters) and `?` (one character).
  std::string name{};
  std::optional<InstrumentKind> kind{};
  std::string unit{};  // exact
  std::string meter_name{};
  std::string meter_version{};
  std::string meter_schema_url{};
};

// The aggregation a view asks for (spec: "Aggregation").
enum class ViewAggregation : uint8_t {
  kDefault,  // the instrument kind's default (advisory boundaries honoured)
  kDrop,     // the stream is not recorded nor reported
  kSum,
  kLastValue,
  kExplicitBucketHistogram,
  // Spec: "Base2 Exponential Bucket Histogram Aggregation" (max_size,
  // max_scale and record_min_max of the View).
  kBase2ExponentialBucketHistogram,
};

// The aggregation of histogram instruments that no view configures
// (OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION =
// explicit_bucket_histogram | base2_exponential_bucket_histogram).
enum class HistogramAggregation : uint8_t { kExplicitBucket, kBase2Exponential };
// Parses the two values above; false otherwise.
bool ParseHistogramAggregation(std::string_view text, HistogramAggregation* out) noexcept;

// Spec: "View" — a selector and the configuration of the stream it makes.
// Each view that matches an instrument makes one stream of it; an instrument
// no view matches gets its default stream; an instrument every matching view
// drops is disabled (Enabled() is false).
// Errors (one warning each, at provider construction or instrument
// creation, and the view is ignored as the spec says): a `name` on a view
// whose selector has a wildcard or selects no instrument name (it would give
// several instruments one name); boundaries that are not strictly ascending
// finite numbers; an exponential histogram's max_size outside [2, 1024] or
// max_scale outside [-10, 20]; an aggregation the instrument kind cannot use
// (sum on a gauge; a histogram on an observable instrument).
struct View {
  InstrumentSelector selector{};
  std::string name{};         // the stream's name; empty: the instrument's
  std::string description{};  // empty: the instrument's
  // Attribute keys kept (allow-list); unset: every key. Then
  // excluded_attribute_keys are removed.
  std::optional<std::vector<std::string>> attribute_keys{};
  std::vector<std::string> excluded_attribute_keys{};
  ViewAggregation aggregation = ViewAggregation::kDefault;
  // kExplicitBucketHistogram: ascending finite boundaries (empty: the
  // default ones) and whether min and max are reported.
  std::vector<double> boundaries{};
  bool record_min_max = true;
  // kBase2ExponentialBucketHistogram: the most buckets in each of the
  // positive and negative ranges, and the scale the histogram starts at (it
  // only ever decreases, to fit the values in max_size buckets).
  size_t max_size = 160;
  int max_scale = 20;
  // Attribute sets admitted per collection; 0: the provider's limit.
  size_t cardinality_limit = 0;
};

struct MeterProviderOptions {
  // Default: Resource::Create(). otelweb::Install passes the tracer
  // provider's resource so that both signals describe the same process.
  std::optional<Resource> resource{};
  std::vector<std::shared_ptr<MetricReader>> readers{};
  // Default: OTEL_METRICS_EXEMPLAR_FILTER, else trace_based.
  std::optional<ExemplarFilter> exemplar_filter{};
  // Default: OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION, else
  // explicit buckets. Applies to every reader of the provider (one storage
  // serves all readers). With base-2 exponential buckets, advised explicit
  // boundaries are ignored (spec).
  std::optional<HistogramAggregation> default_histogram_aggregation{};
  // Attribute sets admitted per stream before the overflow series.
  size_t cardinality_limit = kDefaultCardinalityLimit;
  // Views (spec: "View"), applied to instruments created afterwards.
  std::vector<View> views{};
};

class Meter;

class MeterProvider {
 public:
  explicit MeterProvider(MeterProviderOptions options = {});
  ~MeterProvider();  // Shutdown() with the default deadline if not done
  MeterProvider(const MeterProvider&) = delete;
  MeterProvider& operator=(const MeterProvider&) = delete;

  // One Meter per (name, version, schema_url); repeated calls return meters
  // that share instruments.
  Meter GetMeter(std::string_view name, std::string_view version = {},
                 std::string_view schema_url = {});
  // Registers a reader (a reader belongs to one provider; a second
  // registration is refused with a warning and returns false).
  bool AddReader(std::shared_ptr<MetricReader> reader);

  // ForceFlush / Shutdown every reader within the deadline (shared).
  OperationResult ForceFlush(std::chrono::milliseconds timeout = kDefaultFlushTimeout) noexcept;
  OperationResult Shutdown(std::chrono::milliseconds timeout = kDefaultFlushTimeout) noexcept;
  bool IsShutDown() const noexcept;

  const Resource& resource() const noexcept;
  ExemplarFilter exemplar_filter() const noexcept;

  // A provider whose instruments are disabled (what the global is until one
  // is set).
  static std::shared_ptr<MeterProvider> NoOp();

 private:
  struct NoOpTag {};
  explicit MeterProvider(NoOpTag);
  std::shared_ptr<internal::ProviderState> s_;
};

// A factory of instruments for one instrumentation scope.
class Meter {
 public:
  Meter() = default;  // a no-op meter

  Counter<int64_t> CreateInt64Counter(std::string_view name, std::string_view unit = {},
                                      std::string_view description = {});
  Counter<double> CreateDoubleCounter(std::string_view name, std::string_view unit = {},
                                      std::string_view description = {});
  UpDownCounter<int64_t> CreateInt64UpDownCounter(std::string_view name, std::string_view unit = {},
                                                  std::string_view description = {});
  UpDownCounter<double> CreateDoubleUpDownCounter(std::string_view name, std::string_view unit = {},
                                                  std::string_view description = {});
  Histogram<int64_t> CreateInt64Histogram(std::string_view name, std::string_view unit = {},
                                          std::string_view description = {},
                                          InstrumentAdvice advice = {});
  Histogram<double> CreateDoubleHistogram(std::string_view name, std::string_view unit = {},
                                          std::string_view description = {},
                                          InstrumentAdvice advice = {});
  Gauge<int64_t> CreateInt64Gauge(std::string_view name, std::string_view unit = {},
                                  std::string_view description = {});
  Gauge<double> CreateDoubleGauge(std::string_view name, std::string_view unit = {},
                                  std::string_view description = {});

  // Observable instruments (instruments.h): `callback` (optional) is
  // registered at creation and stays for the instrument's life; AddCallback
  // adds removable ones.
  ObservableCounter<int64_t> CreateInt64ObservableCounter(
      std::string_view name, std::string_view unit = {}, std::string_view description = {},
      ObservableCallback<int64_t> callback = {});
  ObservableCounter<double> CreateDoubleObservableCounter(
      std::string_view name, std::string_view unit = {}, std::string_view description = {},
      ObservableCallback<double> callback = {});
  ObservableUpDownCounter<int64_t> CreateInt64ObservableUpDownCounter(
      std::string_view name, std::string_view unit = {}, std::string_view description = {},
      ObservableCallback<int64_t> callback = {});
  ObservableUpDownCounter<double> CreateDoubleObservableUpDownCounter(
      std::string_view name, std::string_view unit = {}, std::string_view description = {},
      ObservableCallback<double> callback = {});
  ObservableGauge<int64_t> CreateInt64ObservableGauge(std::string_view name,
                                                      std::string_view unit = {},
                                                      std::string_view description = {},
                                                      ObservableCallback<int64_t> callback = {});
  ObservableGauge<double> CreateDoubleObservableGauge(std::string_view name,
                                                      std::string_view unit = {},
                                                      std::string_view description = {},
                                                      ObservableCallback<double> callback = {});

  bool IsNoOp() const noexcept { return scope_ == nullptr; }

 private:
  friend class MeterProvider;
  Meter(std::shared_ptr<internal::ProviderState> p,
        std::shared_ptr<internal::ScopeState> scope) noexcept
      : p_(std::move(p)), scope_(std::move(scope)) {}
  std::shared_ptr<internal::InstrumentState> Create(InstrumentKind kind, InstrumentValueType vt,
                                                    std::string_view name, std::string_view unit,
                                                    std::string_view description,
                                                    InstrumentAdvice advice);
  std::vector<internal::StreamConfig> StreamsFor(const internal::StreamConfig& c,
                                                bool observable) const;
  std::shared_ptr<internal::ProviderState> p_;
  std::shared_ptr<internal::ScopeState> scope_;
};

// The global provider: a no-op provider until SetMeterProvider is called.
std::shared_ptr<MeterProvider> GetMeterProvider() noexcept;
void SetMeterProvider(std::shared_ptr<MeterProvider> provider) noexcept;
// Compare-and-reset: clears the global provider (back to the no-op one) only
// if it is still `expected`, in one step under the global's lock, and says
// whether it did. For owners that stop their provider: a check
// (GetMeterProvider() == mine) followed by SetMeterProvider(nullptr) would
// clear a provider that another thread installed between the two calls.
bool ResetMeterProviderIf(const MeterProvider* expected) noexcept;
// Changes whenever the global meter provider is replaced; never 0.
uint64_t MeterProviderGeneration() noexcept;

// Checks an instrument name against the spec's syntax.
bool IsValidInstrumentName(std::string_view name) noexcept;

}  // namespace otelweb::metrics
