// MeterProvider, Meter, the recording entry points of the instrument handles,
// and the global provider.
#include "otelweb/metrics/meter_provider.h"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cctype>
#include <cmath>
#include <mutex>
#include <string>
#include <utility>

#include "core/config.h"
#include "metrics/exp_histogram.h"
#include "metrics/provider_state.h"
#include "metrics/storage.h"
#include "otelweb/diagnostics.h"

namespace otelweb::metrics {

std::string_view InstrumentKindName(InstrumentKind k) noexcept {
  switch (k) {
    case InstrumentKind::kCounter:
      return "counter";
    case InstrumentKind::kUpDownCounter:
      return "updowncounter";
    case InstrumentKind::kHistogram:
      return "histogram";
    case InstrumentKind::kGauge:
      return "gauge";
    case InstrumentKind::kObservableCounter:
      return "observable_counter";
    case InstrumentKind::kObservableUpDownCounter:
      return "observable_updowncounter";
    case InstrumentKind::kObservableGauge:
      return "observable_gauge";
  }
  return "unknown";
}

bool ParseHistogramAggregation(std::string_view text, HistogramAggregation* out) noexcept {
  std::string t(config::Trim(text));
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
  if (t == "explicit_bucket_histogram") {
    *out = HistogramAggregation::kExplicitBucket;
    return true;
  }
  if (t == "base2_exponential_bucket_histogram") {
    *out = HistogramAggregation::kBase2Exponential;
    return true;
  }
  return false;
}

std::string_view TemporalityName(AggregationTemporality t) noexcept {
  switch (t) {
    case AggregationTemporality::kDelta:
      return "delta";
    case AggregationTemporality::kCumulative:
      return "cumulative";
    case AggregationTemporality::kUnspecified:
      break;
  }
  return "unspecified";
}

AggregationTemporality TemporalityFor(TemporalityPreference p, InstrumentKind k) noexcept {
  using K = InstrumentKind;
  switch (p) {
    case TemporalityPreference::kCumulative:
      return AggregationTemporality::kCumulative;
    case TemporalityPreference::kDelta:
      return (k == K::kCounter || k == K::kHistogram || k == K::kObservableCounter)
                 ? AggregationTemporality::kDelta
                 : AggregationTemporality::kCumulative;
    case TemporalityPreference::kLowMemory:
      return (k == K::kCounter || k == K::kHistogram) ? AggregationTemporality::kDelta
                                                      : AggregationTemporality::kCumulative;
  }
  return AggregationTemporality::kCumulative;
}

bool ParseExemplarFilter(std::string_view text, ExemplarFilter* out) noexcept {
  std::string t(config::Trim(text));
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
  if (t == "always_on") {
    *out = ExemplarFilter::kAlwaysOn;
  } else if (t == "always_off") {
    *out = ExemplarFilter::kAlwaysOff;
  } else if (t == "trace_based") {
    *out = ExemplarFilter::kTraceBased;
  } else {
    return false;
  }
  return true;
}

bool IsValidInstrumentName(std::string_view name) noexcept {
  if (name.empty() || name.size() > 255 || !std::isalpha(static_cast<unsigned char>(name[0])))
    return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '/' &&
        c != '-')
      return false;
  }
  return true;
}

size_t ResourceMetrics::PointCount() const noexcept {
  size_t n = 0;
  for (const auto& sm : scope_metrics)
    for (const auto& m : sm.metrics) n += m.number_points.size() + m.histogram_points.size();
  return n;
}

const MetricData* ResourceMetrics::Find(std::string_view name) const noexcept {
  for (const auto& sm : scope_metrics)
    for (const auto& m : sm.metrics)
      if (m.name == name) return &m;
  return nullptr;
}

namespace {
bool ValidBoundaries(const std::vector<double>& b) {
  return std::is_sorted(b.begin(), b.end()) && std::adjacent_find(b.begin(), b.end()) == b.end() &&
         std::all_of(b.begin(), b.end(), [](double x) { return std::isfinite(x); });
}
}  // namespace

// ---------------------------------------------------------------------------
// Recording entry points

namespace detail {

// RecordInt and RecordDouble (the unbound path) are in storage.cc, next to
// the lookup and the add they inline.

void RecordBoundInt(const BoundCell& c, int64_t v) noexcept {
  if (c.state == nullptr || !c.state->stream) return;
  c.state->stream->RecordInt(c.series, v);
  if (c.fanout != nullptr)
    for (auto [st, se] : static_cast<const internal::Fanout*>(c.fanout)->series) st->RecordInt(se, v);
}

void RecordBoundDouble(const BoundCell& c, double v) noexcept {
  if (c.state == nullptr || !c.state->stream) return;
  c.state->stream->RecordDouble(c.series, v);
  if (c.fanout != nullptr)
    for (auto [st, se] : static_cast<const internal::Fanout*>(c.fanout)->series)
      st->RecordDouble(se, v);
}

void OfferExemplar(const BoundCell& c, uint64_t value_bits) noexcept {
  if (c.state == nullptr || !c.state->stream) return;
  internal::Stream* st = c.state->stream.get();
  if (st->config().aggregation != internal::Aggregation::kSum) {
    st->RecordInt(c.series, static_cast<int64_t>(value_bits));  // the inline add went to scratch
  } else if (st->offers_exemplars()) {
    st->OfferSum(c.series, value_bits);
  }
  if (c.fanout != nullptr)
    for (auto [st, se] : static_cast<const internal::Fanout*>(c.fanout)->series)
      st->RecordInt(se, static_cast<int64_t>(value_bits));
}

BoundCell Bind(const std::shared_ptr<internal::InstrumentState>& state, Attributes attrs) noexcept {
  BoundCell c;
  if (!state || !state->stream) return c;
  internal::Stream* st = state->stream.get();
  c.series = st->ResolvePinned(attrs);
  c.words = c.series->words;
  c.stride = st->stride();
  c.mask = internal::StripeCount() - 1;
  c.exemplars = !st->offers_exemplars() ? 0
                 : st->config().exemplar_filter == ExemplarFilter::kTraceBased ? 1
                                                                                : 2;
  c.state = state.get();
  if (st->config().aggregation != internal::Aggregation::kSum) {
    std::lock_guard<std::mutex> lock(state->fanout_mu);
    if (!state->scratch) {
      size_t n = size_t{internal::StripeCount()} * st->stride();
      state->scratch.reset(new (std::nothrow) std::atomic<uint64_t>[n]);
    }
    if (!state->scratch) return BoundCell{};
    c.words = state->scratch.get();
    c.exemplars = 2;
  }
  if (!state->extra.empty()) {
    try {
      auto f = std::make_unique<internal::Fanout>();
      for (const auto& x : state->extra) f->series.emplace_back(x.get(), x->ResolvePinned(attrs));
      c.fanout = f.get();
      c.exemplars = 2;  // the inline add then reaches OfferExemplar, which adds to the others
      std::lock_guard<std::mutex> lock(state->fanout_mu);
      state->fanouts.push_back(std::move(f));
    } catch (...) {
      c.fanout = nullptr;
      c.words = nullptr;  // a handle that records nothing rather than a partial one
    }
  }
  return c;
}

void ObserveInt(internal::ObservationSink* sink, int64_t v, Attributes attrs) noexcept {
  if (sink == nullptr || sink->n == 0) return;
  if (sink->streams[0]->config().monotonic && v < 0) {
    sink->streams[0]->WarnDiscarded();
    return;
  }
  try {
    for (size_t i = 0; i < sink->n; ++i)
      sink->out[i].push_back({sink->streams[i]->Resolve(attrs), static_cast<uint64_t>(v)});
  } catch (...) {
  }
}

void ObserveDouble(internal::ObservationSink* sink, double v, Attributes attrs) noexcept {
  if (sink == nullptr || sink->n == 0) return;
  if (!std::isfinite(v) || (sink->streams[0]->config().monotonic && v < 0)) {
    sink->streams[0]->WarnDiscarded();
    return;
  }
  try {
    for (size_t i = 0; i < sink->n; ++i)
      sink->out[i].push_back({sink->streams[i]->Resolve(attrs), std::bit_cast<uint64_t>(v)});
  } catch (...) {
  }
}

CallbackRegistration AddCallback(internal::InstrumentState* state,
                                 ObservableCallback<int64_t> int_cb,
                                 ObservableCallback<double> double_cb) noexcept {
  if (state == nullptr || !state->observable || (!int_cb && !double_cb))
    return CallbackRegistration();
  try {
    auto e = std::make_shared<internal::CallbackEntry>();
    e->int_cb = std::move(int_cb);
    e->double_cb = std::move(double_cb);
    e->instrument = state->desc.name;
    std::lock_guard<std::mutex> lock(state->callbacks_mu);
    state->callbacks.push_back(e);
    return CallbackRegistration(std::move(e));
  } catch (...) {
    Log(LogLevel::kError, "otelweb metrics: a callback could not be registered (out of memory).");
    return CallbackRegistration();
  }
}

bool Enabled(const internal::InstrumentState* state) noexcept {
  return state != nullptr && state->stream != nullptr &&
         state->stream->config().aggregation != internal::Aggregation::kDrop;
}

}  // namespace detail

bool CallbackRegistration::Unregister() noexcept {
  return e_ != nullptr && e_->registered.exchange(false, std::memory_order_acq_rel);
}

bool CallbackRegistration::Registered() const noexcept {
  return e_ != nullptr && e_->registered.load(std::memory_order_acquire);
}

// ---------------------------------------------------------------------------
// Provider state

namespace internal {

namespace {
// A callback running longer than this is skipped by other collections.
constexpr int64_t kStuckCallbackNs = 1'000'000'000;

int64_t SteadyNs() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

void InstrumentState::RecordExtraInt(int64_t v, Attributes attrs) noexcept {
  for (const auto& x : extra) x->RecordInt(x->Resolve(attrs), v);
}

void InstrumentState::RecordExtraDouble(double v, Attributes attrs) noexcept {
  for (const auto& x : extra) x->RecordDouble(x->Resolve(attrs), v);
}

void InstrumentState::Observe(std::vector<std::vector<Observation>>* outs) {
  std::vector<std::shared_ptr<CallbackEntry>> cbs;
  {
    std::lock_guard<std::mutex> lock(callbacks_mu);
    std::erase_if(callbacks, [](const std::shared_ptr<CallbackEntry>& e) {
      return !e->registered.load(std::memory_order_acquire);
    });
    cbs = callbacks;
  }
  outs->resize(all.size());
  ObservationSink sink{all.data(), outs->data(), all.size()};
  std::vector<size_t> marks(all.size());
  for (const auto& e : cbs) {
    if (!e->registered.load(std::memory_order_acquire)) continue;
    int64_t since = e->running_since_ns.load(std::memory_order_acquire);
    if (since != 0 && SteadyNs() - since > kStuckCallbackNs) {
      LogOnce(e->warned_stuck, LogLevel::kWarning,
              "otelweb metrics: a callback of observable instrument '" + e->instrument +
                  "' has been running for more than a second; collections skip it until it "
                  "returns. Make the callback return quickly (read a cached value).");
      continue;
    }
    if (e->in_flight.fetch_add(1, std::memory_order_acq_rel) == 0)
      e->running_since_ns.store(SteadyNs(), std::memory_order_release);
    for (size_t i = 0; i < all.size(); ++i) marks[i] = (*outs)[i].size();
    try {
      if (e->int_cb) {
        ObserverResult<int64_t> r(&sink);
        e->int_cb(r);
      } else if (e->double_cb) {
        ObserverResult<double> r(&sink);
        e->double_cb(r);
      }
    } catch (...) {
      // That callback's observations of this collection are discarded.
      for (size_t i = 0; i < all.size(); ++i) (*outs)[i].resize(marks[i]);
      LogOnce(e->warned_throw, LogLevel::kWarning,
              "otelweb metrics: a callback of observable instrument '" + e->instrument +
                  "' threw an exception; its observations of that collection were discarded. "
                  "Catch errors inside the callback.");
    }
    if (e->in_flight.fetch_sub(1, std::memory_order_acq_rel) == 1)
      e->running_since_ns.store(0, std::memory_order_release);
  }
}

bool ProviderState::CollectFor(
    size_t slot, const std::function<AggregationTemporality(InstrumentKind)>& temporality,
    ResourceMetrics* out) {
  std::vector<std::shared_ptr<ScopeState>> scopes;
  std::vector<std::shared_ptr<MetricReader>> all_readers;
  {
    std::lock_guard<std::mutex> lock(mu);
    scopes = this->scopes;
    all_readers = readers;
  }
  // Delta series that stopped reporting are forgotten only when every
  // reader is delta for the instrument's kind (a cumulative reader needs
  // them).
  auto forget_readers = [&](InstrumentKind k) -> size_t {
    for (const auto& r : all_readers)
      if (r->TemporalityFor(k) != AggregationTemporality::kDelta) return 0;
    return all_readers.size();
  };
  // `out` is rewritten in place: the scope and metric entries (and, inside
  // the streams' Collect, the points) of the previous collection into the
  // same ResourceMetrics are reused, so a reader that keeps its
  // ResourceMetrics (the periodic reader) allocates nothing per point once
  // the set of series is stable. Entry n of this collection takes entry n's
  // storage whatever it held; what is left over is dropped at the end.
  out->resource = resource;
  Timestamp now = Now();
  size_t n_scopes = 0;
  for (const auto& sc : scopes) {
    std::vector<std::shared_ptr<InstrumentState>> instruments;
    {
      std::lock_guard<std::mutex> lock(sc->mu);
      instruments = sc->instruments;
    }
    if (n_scopes == out->scope_metrics.size()) out->scope_metrics.emplace_back();
    ScopeMetrics& sm = out->scope_metrics[n_scopes];
    size_t n_metrics = 0;
    auto next_metric = [&]() -> MetricData& {
      if (n_metrics == sm.metrics.size()) sm.metrics.emplace_back();
      return sm.metrics[n_metrics];
    };
    for (const auto& inst : instruments) {
      if (!inst->stream) continue;
      const AggregationTemporality t = temporality(inst->desc.kind);
      if (inst->observable) {
        std::vector<std::vector<Observation>> obs;
        inst->Observe(&obs);
        for (size_t i = 0; i < inst->all.size(); ++i)
          if (inst->all[i]->CollectObserved(slot, t, now, obs[i], &next_metric())) ++n_metrics;
      } else {
        for (internal::Stream* st : inst->all)
          if (st->Collect(slot, t, now, &next_metric(), forget_readers(inst->desc.kind)))
            ++n_metrics;
      }
    }
    sm.metrics.erase(sm.metrics.begin() + static_cast<ptrdiff_t>(n_metrics), sm.metrics.end());
    if (n_metrics != 0) {
      sm.scope = sc->scope;
      ++n_scopes;
    }
  }
  out->scope_metrics.erase(out->scope_metrics.begin() + static_cast<ptrdiff_t>(n_scopes),
                           out->scope_metrics.end());
  return true;
}

}  // namespace internal

// ---------------------------------------------------------------------------
// MeterProvider

MeterProvider::MeterProvider(MeterProviderOptions options)
    : s_(std::make_shared<internal::ProviderState>()) {
  s_->resource = options.resource ? std::move(*options.resource) : Resource::Create();
  s_->cardinality_limit =
      options.cardinality_limit == 0 ? kDefaultCardinalityLimit : options.cardinality_limit;
  if (options.exemplar_filter) {
    s_->exemplar_filter = *options.exemplar_filter;
  } else if (auto v = config::GetString("OTEL_METRICS_EXEMPLAR_FILTER")) {
    ExemplarFilter f;
    if (ParseExemplarFilter(*v, &f)) {
      s_->exemplar_filter = f;
    } else {
      config::WarnInvalid("OTEL_METRICS_EXEMPLAR_FILTER", *v,
                          "always_on, always_off or trace_based");
    }
  }
  if (options.default_histogram_aggregation) {
    s_->histogram_aggregation = *options.default_histogram_aggregation;
  } else if (auto v = config::GetString("OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION")) {
    HistogramAggregation h;
    if (ParseHistogramAggregation(*v, &h)) {
      s_->histogram_aggregation = h;
    } else {
      config::WarnInvalid("OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION", *v,
                          "explicit_bucket_histogram or base2_exponential_bucket_histogram");
    }
  }
  for (auto& v : options.views) {
    bool wildcard = v.selector.name.empty() ||
                    v.selector.name.find_first_of("*?") != std::string::npos;
    if (!v.name.empty() && wildcard) {
      Log(LogLevel::kWarning,
          "otelweb metrics: a view renames streams to '" + v.name + "' but its selector ('" +
              v.selector.name +
              "') can match several instruments; the view is ignored. Select one instrument by "
              "its exact name, or drop the view's name.");
      continue;
    }
    if (!v.name.empty() && !IsValidInstrumentName(v.name)) {
      Log(LogLevel::kWarning, "otelweb metrics: a view's stream name '" + v.name +
                                  "' is not a valid instrument name; the view is ignored. Rename "
                                  "it ([A-Za-z][A-Za-z0-9_./-]*, at most 255).");
      continue;
    }
    if (!ValidBoundaries(v.boundaries)) {
      Log(LogLevel::kWarning, "otelweb metrics: the boundaries of the view selecting '" +
                                  v.selector.name +
                                  "' are not strictly ascending finite numbers; the view is "
                                  "ignored. Fix the boundaries.");
      continue;
    }
    if (v.aggregation == ViewAggregation::kBase2ExponentialBucketHistogram &&
        (v.max_size < 2 || v.max_size > internal::exph::kMaxMaxSize ||
         v.max_scale < internal::exph::kMinScale ||
         v.max_scale > internal::exph::kDefaultMaxScale)) {
      Log(LogLevel::kWarning,
          "otelweb metrics: the exponential histogram of the view selecting '" + v.selector.name +
              "' has max_size " + std::to_string(v.max_size) + " and max_scale " +
              std::to_string(v.max_scale) +
              "; the view is ignored. Use a max_size in [2, 1024] and a max_scale in [-10, 20].");
      continue;
    }
    s_->views.push_back(std::move(v));
  }
  for (auto& r : options.readers) AddReader(std::move(r));
}

MeterProvider::MeterProvider(NoOpTag) : s_(nullptr) {}

MeterProvider::~MeterProvider() {
  if (s_ && !IsShutDown()) Shutdown();
}

std::shared_ptr<MeterProvider> MeterProvider::NoOp() {
  static std::shared_ptr<MeterProvider> p(new MeterProvider(NoOpTag{}));
  return p;
}

const Resource& MeterProvider::resource() const noexcept {
  static const Resource empty;
  return s_ ? s_->resource : empty;
}

ExemplarFilter MeterProvider::exemplar_filter() const noexcept {
  return s_ ? s_->exemplar_filter : ExemplarFilter::kAlwaysOff;
}

bool MeterProvider::AddReader(std::shared_ptr<MetricReader> reader) {
  if (!s_ || !reader) return false;
  {
    std::lock_guard<std::mutex> rl(reader->mu_);
    if (reader->provider_) {
      Log(LogLevel::kWarning,
          "otelweb metrics: a MetricReader was registered with a second MeterProvider and was "
          "refused; "
          "create one reader per provider.");
      return false;
    }
    std::lock_guard<std::mutex> lock(s_->mu);
    reader->provider_ = s_;
    reader->slot_ = s_->next_slot++;
    s_->readers.push_back(reader);
  }
  reader->OnRegistered();
  return true;
}

Meter MeterProvider::GetMeter(std::string_view name, std::string_view version,
                              std::string_view schema_url) {
  if (!s_) return Meter();
  if (name.empty()) {
    static std::atomic<bool> warned{false};
    LogOnce(warned, LogLevel::kWarning,
            "otelweb metrics: GetMeter was called with an empty name; pass the instrumentation "
            "library's name.");
  }
  std::lock_guard<std::mutex> lock(s_->mu);
  for (const auto& sc : s_->scopes) {
    if (sc->scope.name == name && sc->scope.version == version &&
        sc->scope.schema_url == schema_url) {
      return Meter(s_, sc);
    }
  }
  auto sc = std::make_shared<internal::ScopeState>();
  sc->scope.name = std::string(name);
  sc->scope.version = std::string(version);
  sc->scope.schema_url = std::string(schema_url);
  s_->scopes.push_back(sc);
  return Meter(s_, sc);
}

OperationResult MeterProvider::ForceFlush(std::chrono::milliseconds timeout) noexcept {
  if (!s_) return OperationResult::Ok();
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<std::shared_ptr<MetricReader>> readers;
  {
    std::lock_guard<std::mutex> lock(s_->mu);
    if (s_->shut_down) return OperationResult::AlreadyShutDown();
    readers = s_->readers;
  }
  OperationResult r;
  for (auto& rd : readers) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    r = r.Merge(rd->ForceFlush(std::max(left, std::chrono::milliseconds(0))));
  }
  return r;
}

OperationResult MeterProvider::Shutdown(std::chrono::milliseconds timeout) noexcept {
  if (!s_) return OperationResult::Ok();
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<std::shared_ptr<MetricReader>> readers;
  {
    std::lock_guard<std::mutex> lock(s_->mu);
    if (s_->shut_down) return OperationResult::AlreadyShutDown();
    s_->shut_down = true;
    readers = s_->readers;
  }
  OperationResult r;
  for (auto& rd : readers) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    r = r.Merge(rd->Shutdown(std::max(left, std::chrono::milliseconds(0))));
  }
  std::lock_guard<std::mutex> lock(s_->mu);
  s_->readers.clear();  // readers keep the state; the state no longer keeps them
  return r;
}

bool MeterProvider::IsShutDown() const noexcept {
  if (!s_) return false;
  std::lock_guard<std::mutex> lock(s_->mu);
  return s_->shut_down;
}

// ---------------------------------------------------------------------------
// Meter

namespace {

// Case-insensitive glob match with * and ?.
bool GlobMatch(std::string_view pat, std::string_view s) {
  size_t p = 0, i = 0, star = std::string_view::npos, mark = 0;
  auto eq = [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
  };
  while (i < s.size()) {
    if (p < pat.size() && (pat[p] == '?' || (pat[p] != '*' && eq(pat[p], s[i])))) {
      ++p;
      ++i;
    } else if (p < pat.size() && pat[p] == '*') {
      star = p++;
      mark = i;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      i = ++mark;
    } else {
      return false;
    }
  }
  while (p < pat.size() && pat[p] == '*') ++p;
  return p == pat.size();
}

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

const std::vector<double>& DefaultBoundaries() {
  static const std::vector<double> b = {0,   5,   10,   25,   50,   75,   100,  250,
                                        500, 750, 1000, 2500, 5000, 7500, 10000};
  return b;
}

}  // namespace

std::vector<internal::StreamConfig> Meter::StreamsFor(const internal::StreamConfig& c,
                                                      bool observable) const {
  std::vector<internal::StreamConfig> out;
  bool matched = false;
  for (const View& v : p_->views) {
    const InstrumentSelector& sel = v.selector;
    if (!sel.name.empty() && !GlobMatch(sel.name, c.name)) continue;
    if (sel.kind && *sel.kind != c.kind) continue;
    if (!sel.unit.empty() && sel.unit != c.unit) continue;
    if (!sel.meter_name.empty() && sel.meter_name != scope_->scope.name) continue;
    if (!sel.meter_version.empty() && sel.meter_version != scope_->scope.version) continue;
    if (!sel.meter_schema_url.empty() && sel.meter_schema_url != scope_->scope.schema_url)
      continue;
    internal::StreamConfig sc = c;
    bool compatible = true;
    switch (v.aggregation) {
      case ViewAggregation::kDefault:
        break;
      case ViewAggregation::kDrop:
        sc.aggregation = internal::Aggregation::kDrop;
        break;
      case ViewAggregation::kSum:
        compatible = c.kind != InstrumentKind::kGauge && c.kind != InstrumentKind::kObservableGauge;
        sc.aggregation = internal::Aggregation::kSum;
        sc.monotonic = c.kind == InstrumentKind::kCounter || c.kind == InstrumentKind::kHistogram ||
                       c.kind == InstrumentKind::kObservableCounter;
        break;
      case ViewAggregation::kLastValue:
        sc.aggregation = internal::Aggregation::kLastValue;
        sc.monotonic = false;
        break;
      case ViewAggregation::kExplicitBucketHistogram:
        compatible = !observable;
        sc.aggregation = internal::Aggregation::kExplicitHistogram;
        sc.monotonic = false;
        sc.boundaries = v.boundaries.empty() ? DefaultBoundaries() : v.boundaries;
        sc.record_min_max = v.record_min_max;
        break;
      case ViewAggregation::kBase2ExponentialBucketHistogram:
        compatible = !observable;
        sc.aggregation = internal::Aggregation::kExponentialHistogram;
        sc.monotonic = false;
        sc.boundaries.clear();
        sc.exp_max_size = v.max_size;
        sc.exp_max_scale = v.max_scale;
        sc.record_min_max = v.record_min_max;
        break;
    }
    if (!compatible) {
      Log(LogLevel::kWarning,
          "otelweb metrics: a view asks for an aggregation that instrument '" + c.name + "' (" +
              std::string(InstrumentKindName(c.kind)) +
              ") cannot use; the view is ignored for it. Select other instruments or change the "
              "view's aggregation.");
      continue;
    }
    matched = true;
    if (sc.aggregation == internal::Aggregation::kDrop) continue;
    if (!v.name.empty()) sc.name = v.name;
    if (!v.description.empty()) sc.description = v.description;
    if (v.cardinality_limit != 0) sc.cardinality_limit = v.cardinality_limit;
    if (v.attribute_keys || !v.excluded_attribute_keys.empty()) {
      sc.filter_attrs = true;
      sc.has_allow = v.attribute_keys.has_value();
      if (v.attribute_keys) sc.allow = *v.attribute_keys;
      sc.exclude = v.excluded_attribute_keys;
    }
    out.push_back(std::move(sc));
  }
  if (!matched) out.push_back(c);
  return out;
}

std::shared_ptr<internal::InstrumentState> Meter::Create(
    InstrumentKind kind, InstrumentValueType vt, std::string_view name, std::string_view unit,
    std::string_view description, InstrumentAdvice advice) {
  if (!p_ || !scope_) return nullptr;
  if (!IsValidInstrumentName(name)) {
    Log(LogLevel::kWarning,
        "otelweb metrics: instrument name '" + std::string(name) +
            "' is invalid (at most 255 characters of [A-Za-z][A-Za-z0-9_./-]*, starting with "
            "a letter); the instrument records nothing. Rename it.");
    return nullptr;
  }
  internal::StreamConfig c;
  c.name = std::string(name);
  c.unit = std::string(unit);
  c.description = std::string(description);
  c.kind = kind;
  c.value_type = vt;
  c.cardinality_limit = p_->cardinality_limit;
  c.exemplar_filter = p_->exemplar_filter;
  switch (kind) {
    case InstrumentKind::kCounter:
    case InstrumentKind::kObservableCounter:
      c.aggregation = internal::Aggregation::kSum;
      c.monotonic = true;
      break;
    case InstrumentKind::kUpDownCounter:
    case InstrumentKind::kObservableUpDownCounter:
      c.aggregation = internal::Aggregation::kSum;
      break;
    case InstrumentKind::kGauge:
    case InstrumentKind::kObservableGauge:
      c.aggregation = internal::Aggregation::kLastValue;
      break;
    case InstrumentKind::kHistogram: {
      if (p_->histogram_aggregation == HistogramAggregation::kBase2Exponential) {
        c.aggregation = internal::Aggregation::kExponentialHistogram;
        break;
      }
      c.aggregation = internal::Aggregation::kExplicitHistogram;
      auto& b = advice.explicit_bucket_boundaries;
      bool ok = ValidBoundaries(b);
      if (!ok) {
        Log(LogLevel::kWarning,
            "otelweb metrics: the advised bucket boundaries of '" + c.name +
                "' are not strictly ascending finite numbers; the default boundaries are "
                "used. Fix the advice.");
      }
      c.boundaries = (ok && !b.empty()) ? b : DefaultBoundaries();
      break;
    }
  }
  std::lock_guard<std::mutex> lock(scope_->mu);
  for (const auto& inst : scope_->instruments) {
    const auto& d = inst->desc;
    if (!IEquals(d.name, name)) continue;
    if (d.kind == kind && d.value_type == vt && d.unit == unit && d.description == description) {
      return inst;  // identical: the same instrument
    }
    Log(LogLevel::kWarning,
        "otelweb metrics: instrument '" + c.name + "' of meter '" + scope_->scope.name +
            "' was registered twice with a different kind, unit or description; both "
            "streams are reported under the same name. Give one of them another name (or "
            "a view that renames it).");
    break;
  }
  auto st = std::make_shared<internal::InstrumentState>();
  st->observable = kind == InstrumentKind::kObservableCounter ||
                   kind == InstrumentKind::kObservableUpDownCounter ||
                   kind == InstrumentKind::kObservableGauge;
  st->desc = c;
  std::vector<internal::StreamConfig> streams = StreamsFor(c, st->observable);
  // Duplicate streams (spec: "Duplicate instrument registration", views
  // included): a stream whose name another stream of this meter already has,
  // with another identity, is still reported, with one warning.
  for (const auto& sc : streams) {
    for (const auto& inst : scope_->instruments) {
      for (const internal::Stream* other : inst->all) {
        const auto& o = other->config();
        if (!IEquals(o.name, sc.name) || inst->desc.name == c.name) continue;
        if (o.kind == sc.kind && o.unit == sc.unit && o.description == sc.description &&
            o.aggregation == sc.aggregation && o.value_type == sc.value_type)
          continue;
        Log(LogLevel::kWarning,
            "otelweb metrics: instrument '" + c.name + "' makes a stream named '" + sc.name +
                "', which instrument '" + inst->desc.name + "' of meter '" + scope_->scope.name +
                "' already reports with another kind, unit, description or aggregation; both "
                "streams are reported. Change the view's name (or the instruments' names).");
      }
    }
  }
  for (auto& sc : streams) {
    if (!st->stream) {
      st->stream = std::make_unique<internal::Stream>(std::move(sc));
    } else {
      st->extra.push_back(std::make_unique<internal::Stream>(std::move(sc)));
    }
  }
  if (st->stream) st->all.push_back(st->stream.get());
  for (const auto& x : st->extra) st->all.push_back(x.get());
  scope_->instruments.push_back(st);
  return st;
}

Counter<int64_t> Meter::CreateInt64Counter(std::string_view n, std::string_view u,
                                           std::string_view d) {
  return Counter<int64_t>(
      Create(InstrumentKind::kCounter, InstrumentValueType::kInt64, n, u, d, {}));
}
Counter<double> Meter::CreateDoubleCounter(std::string_view n, std::string_view u,
                                           std::string_view d) {
  return Counter<double>(
      Create(InstrumentKind::kCounter, InstrumentValueType::kDouble, n, u, d, {}));
}
UpDownCounter<int64_t> Meter::CreateInt64UpDownCounter(std::string_view n, std::string_view u,
                                                       std::string_view d) {
  return UpDownCounter<int64_t>(
      Create(InstrumentKind::kUpDownCounter, InstrumentValueType::kInt64, n, u, d, {}));
}
UpDownCounter<double> Meter::CreateDoubleUpDownCounter(std::string_view n, std::string_view u,
                                                       std::string_view d) {
  return UpDownCounter<double>(
      Create(InstrumentKind::kUpDownCounter, InstrumentValueType::kDouble, n, u, d, {}));
}
Histogram<int64_t> Meter::CreateInt64Histogram(std::string_view n, std::string_view u,
                                               std::string_view d, InstrumentAdvice a) {
  return Histogram<int64_t>(
      Create(InstrumentKind::kHistogram, InstrumentValueType::kInt64, n, u, d, std::move(a)));
}
Histogram<double> Meter::CreateDoubleHistogram(std::string_view n, std::string_view u,
                                               std::string_view d, InstrumentAdvice a) {
  return Histogram<double>(
      Create(InstrumentKind::kHistogram, InstrumentValueType::kDouble, n, u, d, std::move(a)));
}
Gauge<int64_t> Meter::CreateInt64Gauge(std::string_view n, std::string_view u, std::string_view d) {
  return Gauge<int64_t>(Create(InstrumentKind::kGauge, InstrumentValueType::kInt64, n, u, d, {}));
}
Gauge<double> Meter::CreateDoubleGauge(std::string_view n, std::string_view u, std::string_view d) {
  return Gauge<double>(Create(InstrumentKind::kGauge, InstrumentValueType::kDouble, n, u, d, {}));
}

namespace {
template <typename I, typename T>
I MakeObservable(std::shared_ptr<internal::InstrumentState> st, ObservableCallback<T> cb) {
  if (st && cb) {
    if constexpr (std::is_same_v<T, int64_t>) {
      detail::AddCallback(st.get(), std::move(cb), {});
    } else {
      detail::AddCallback(st.get(), {}, std::move(cb));
    }
  }
  return I(std::move(st));
}
}  // namespace

ObservableCounter<int64_t> Meter::CreateInt64ObservableCounter(std::string_view n,
                                                               std::string_view u,
                                                               std::string_view d,
                                                               ObservableCallback<int64_t> cb) {
  return MakeObservable<ObservableCounter<int64_t>>(
      Create(InstrumentKind::kObservableCounter, InstrumentValueType::kInt64, n, u, d, {}),
      std::move(cb));
}
ObservableCounter<double> Meter::CreateDoubleObservableCounter(std::string_view n,
                                                               std::string_view u,
                                                               std::string_view d,
                                                               ObservableCallback<double> cb) {
  return MakeObservable<ObservableCounter<double>>(
      Create(InstrumentKind::kObservableCounter, InstrumentValueType::kDouble, n, u, d, {}),
      std::move(cb));
}
ObservableUpDownCounter<int64_t> Meter::CreateInt64ObservableUpDownCounter(
    std::string_view n, std::string_view u, std::string_view d, ObservableCallback<int64_t> cb) {
  return MakeObservable<ObservableUpDownCounter<int64_t>>(
      Create(InstrumentKind::kObservableUpDownCounter, InstrumentValueType::kInt64, n, u, d, {}),
      std::move(cb));
}
ObservableUpDownCounter<double> Meter::CreateDoubleObservableUpDownCounter(
    std::string_view n, std::string_view u, std::string_view d, ObservableCallback<double> cb) {
  return MakeObservable<ObservableUpDownCounter<double>>(
      Create(InstrumentKind::kObservableUpDownCounter, InstrumentValueType::kDouble, n, u, d, {}),
      std::move(cb));
}
ObservableGauge<int64_t> Meter::CreateInt64ObservableGauge(std::string_view n, std::string_view u,
                                                           std::string_view d,
                                                           ObservableCallback<int64_t> cb) {
  return MakeObservable<ObservableGauge<int64_t>>(
      Create(InstrumentKind::kObservableGauge, InstrumentValueType::kInt64, n, u, d, {}),
      std::move(cb));
}
ObservableGauge<double> Meter::CreateDoubleObservableGauge(std::string_view n, std::string_view u,
                                                           std::string_view d,
                                                           ObservableCallback<double> cb) {
  return MakeObservable<ObservableGauge<double>>(
      Create(InstrumentKind::kObservableGauge, InstrumentValueType::kDouble, n, u, d, {}),
      std::move(cb));
}

// ---------------------------------------------------------------------------
// Global provider

namespace {
std::mutex g_mu;
std::shared_ptr<MeterProvider>& GlobalSlot() {
  static auto* p = new std::shared_ptr<MeterProvider>();
  return *p;
}
std::atomic<uint64_t> g_generation{1};
}  // namespace

std::shared_ptr<MeterProvider> GetMeterProvider() noexcept {
  std::lock_guard<std::mutex> lock(g_mu);
  auto& p = GlobalSlot();
  return p ? p : MeterProvider::NoOp();
}

void SetMeterProvider(std::shared_ptr<MeterProvider> provider) noexcept {
  std::shared_ptr<MeterProvider> old;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    old = std::exchange(GlobalSlot(), std::move(provider));
    g_generation.fetch_add(1, std::memory_order_release);
  }
}

bool ResetMeterProviderIf(const MeterProvider* expected) noexcept {
  std::shared_ptr<MeterProvider> old;  // released after the lock
  {
    std::lock_guard<std::mutex> lock(g_mu);
    if (expected == nullptr || GlobalSlot().get() != expected) return false;
    old = std::exchange(GlobalSlot(), nullptr);
    g_generation.fetch_add(1, std::memory_order_release);
  }
  return true;
}

uint64_t MeterProviderGeneration() noexcept { return g_generation.load(std::memory_order_acquire); }

}  // namespace otelweb::metrics
