// TracerProvider, Tracer and the span start path.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>

#include "core/internal.h"
#include "core/owned_attributes.h"
#include "otelweb/diagnostics.h"
#include "otelweb/trace/sampler.h"
#include "otelweb/trace/tracer_provider.h"

namespace otelweb {

using internal::ProcessorList;
using internal::ProviderCore;
using internal::SpanRecord;
using internal::TracerCore;

namespace {

// Every provider core ever made; reachable, so leak checkers stay quiet
// about the cores kept alive on purpose (see tracer.h).
struct CoreRegistry {
  std::mutex mu;
  std::vector<ProviderCore*> cores;
};
CoreRegistry& Cores() {
  static CoreRegistry* r = new CoreRegistry;
  return *r;
}

// Publishes a new processor list; old lists stay alive (a span may be
// reading one).
void PublishProcessors(ProviderCore* c) {
  auto list = std::make_unique<ProcessorList>();
  for (auto& p : c->owned_processors) {
    list->all.push_back(p.get());
    if (p->WantsOnStart()) list->on_start.push_back(p.get());
  }
  c->processors.store(list.get(), std::memory_order_release);
  c->lists.push_back(std::move(list));
}

TraceId NewTraceId(ProviderCore* p, internal::ThreadState& ts) noexcept {
  if (p->id_generator) return p->id_generator->NewTraceId();
  uint64_t hi = internal::NextRandom64(ts);
  return TraceId::FromWords(hi, internal::NextRandom64(ts));
}

constinit const TraceState kNoTraceState;

// The parent of a span started with SpanOptions::root (out of the hot path:
// no guard check on every start).
[[gnu::noinline]] const Context& EmptyContext() noexcept {
  static const Context* empty = new Context();
  return *empty;
}

SpanId NewSpanId(ProviderCore* p, internal::ThreadState& ts) noexcept {
  if (p->id_generator) return p->id_generator->NewSpanId();
  return SpanId::FromWord(internal::NextRandom64(ts));
}

}  // namespace

struct TracerProvider::State {
  ProviderCore* core = nullptr;
};

TracerProvider::TracerProvider(TracerProviderOptions options) : s_(new State) {
  auto* c = new ProviderCore;
  {
    std::lock_guard<std::mutex> lock(Cores().mu);
    Cores().cores.push_back(c);
  }
  s_->core = c;
  c->resource = options.resource ? std::move(*options.resource) : Resource::Create();
  c->limits = ResolveSpanLimits(options.limits);
  c->sampler = options.sampler ? std::move(options.sampler) : SamplerFromEnv();
  if (!c->sampler) c->sampler = ParentBasedSampler(AlwaysOnSampler());
  c->sampler_kind = c->sampler->builtin();
  c->id_generator = std::move(options.id_generator);
  c->random_trace_ids = (!c->id_generator || c->id_generator->TraceIdsAreRandom()) ? TraceFlags::kRandom : 0;
  std::lock_guard<std::mutex> lock(c->mu);
  for (auto& p : options.processors) {
    if (p) c->owned_processors.push_back(std::move(p));
  }
  PublishProcessors(c);
}

TracerProvider::TracerProvider(NoOpTag) : s_(new State) {
  auto* c = new ProviderCore;
  {
    std::lock_guard<std::mutex> lock(Cores().mu);
    Cores().cores.push_back(c);
  }
  c->active.store(false);
  c->shut_down = true;
  c->sampler = AlwaysOffSampler();
  c->sampler_kind = Sampler::Builtin::kAlwaysOff;
  s_->core = c;
}

TracerProvider::~TracerProvider() {
  bool need;
  {
    std::lock_guard<std::mutex> lock(s_->core->mu);
    need = !s_->core->shut_down;
  }
  if (need) Shutdown();
  delete s_;
}

std::shared_ptr<TracerProvider> TracerProvider::NoOp() {
  static std::shared_ptr<TracerProvider> noop(new TracerProvider(NoOpTag{}));
  return noop;
}

Tracer TracerProvider::GetTracer(std::string_view name, std::string_view version,
                                 std::string_view schema_url) {
  return Tracer(CoreFor(name, version, schema_url));
}

TracerCore* TracerProvider::CoreFor(std::string_view name, std::string_view version,
                                    std::string_view schema_url) {
  ProviderCore* c = s_->core;
  std::lock_guard<std::mutex> lock(c->mu);
  for (auto& t : c->tracers) {
    if (t->scope.name == name && t->scope.version == version && t->scope.schema_url == schema_url) {
      return t.get();
    }
  }
  if (name.empty()) {
    Log(LogLevel::kWarning, "GetTracer called with an empty instrumentation scope name");
  }
  auto t = std::make_unique<TracerCore>();
  t->provider = c;
  t->scope = {std::string(name), std::string(version), std::string(schema_url)};
  c->tracers.push_back(std::move(t));
  return c->tracers.back().get();
}

void TracerProvider::AddProcessor(std::unique_ptr<SpanProcessor> processor) {
  if (!processor) return;
  ProviderCore* c = s_->core;
  std::lock_guard<std::mutex> lock(c->mu);
  if (c->shut_down) {
    Log(LogLevel::kWarning, "AddProcessor after Shutdown: the processor is shut down and not used");
    processor->Shutdown(std::chrono::milliseconds(0));
    c->owned_processors.push_back(std::move(processor));  // kept alive like the others
    return;
  }
  c->owned_processors.push_back(std::move(processor));
  PublishProcessors(c);
}

namespace {
std::vector<SpanProcessor*> ProcessorsOf(ProviderCore* c) {
  std::lock_guard<std::mutex> lock(c->mu);
  std::vector<SpanProcessor*> v;
  for (auto& p : c->owned_processors) v.push_back(p.get());
  return v;
}
}  // namespace

OperationResult TracerProvider::ForceFlush(std::chrono::milliseconds timeout) noexcept {
  ProviderCore* c = s_->core;
  {
    std::lock_guard<std::mutex> lock(c->mu);
    if (c->shut_down) return OperationResult::AlreadyShutDown();
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  OperationResult result;
  for (SpanProcessor* p : ProcessorsOf(c)) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() < 0) left = std::chrono::milliseconds(0);
    result = result.Merge(p->ForceFlush(left));
  }
  return result;
}

OperationResult TracerProvider::Shutdown(std::chrono::milliseconds timeout) noexcept {
  ProviderCore* c = s_->core;
  {
    std::lock_guard<std::mutex> lock(c->mu);
    if (c->shut_down) return OperationResult::AlreadyShutDown();
    c->shut_down = true;
  }
  c->active.store(false, std::memory_order_release);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  OperationResult result;
  for (SpanProcessor* p : ProcessorsOf(c)) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() < 0) left = std::chrono::milliseconds(0);
    OperationResult r = p->Shutdown(left);
    if (r.code() != OperationResult::Code::kAlreadyShutDown) result = result.Merge(r);
  }
  return result;
}

bool TracerProvider::IsShutDown() const noexcept {
  return !s_->core->active.load(std::memory_order_acquire);
}
const Resource& TracerProvider::resource() const noexcept { return s_->core->resource; }
const SpanLimits& TracerProvider::limits() const noexcept { return s_->core->limits; }
const Sampler& TracerProvider::sampler() const noexcept { return *s_->core->sampler; }

// ---------------------------------------------------------------------------
// Tracer

bool Tracer::Enabled() const noexcept {
  return core_ != nullptr && core_->provider->active.load(std::memory_order_relaxed);
}

const InstrumentationScope& Tracer::scope() const noexcept {
  static const InstrumentationScope* empty = new InstrumentationScope;
  return core_ ? core_->scope : *empty;
}

Span Tracer::StartSpan(std::string_view name, const SpanOptions& options) noexcept {
  TracerCore* t = core_;
  if (t == nullptr) return Span();
  ProviderCore* p = t->provider;
  if (!p->active.load(std::memory_order_relaxed)) return Span();

  internal::ThreadState& ts = internal::State();
  const Context& parent = options.root ? EmptyContext()
                          : options.parent ? *options.parent
                                           : ts.stack.back().ctx;
  const SpanContext& psc = parent.span_context();
  const bool has_parent = psc.IsValid();
  TraceId trace_id;
  SpanId span_id;
  if (p->id_generator) {
    trace_id = has_parent ? psc.trace_id() : NewTraceId(p, ts);
    span_id = NewSpanId(p, ts);
  } else {
    // Built-in ids: one generator step for a child, two for a root.
    uint64_t w[3];
    if (has_parent) {
      internal::NextIds(ts, w, false);
      trace_id = psc.trace_id();
      span_id = SpanId::FromWord(w[0]);
    } else {
      internal::NextIds(ts, w, true);
      trace_id = TraceId::FromWords(w[0], w[1]);
      span_id = SpanId::FromWord(w[2]);
    }
  }
  // W3C Level 2 "random" flag: inherited with the trace id from a parent; set
  // on the traces we start when the id generator makes random ids.
  const uint8_t random = has_parent ? (psc.flags().value & TraceFlags::kRandom) : p->random_trace_ids;

  // A root span does not inherit the trace state of an invalid parent context.
  const TraceState& parent_state = has_parent ? psc.trace_state() : kNoTraceState;

  if (p->sampler_kind == Sampler::Builtin::kAlwaysOff) {
    // The common "tracing off" configuration: no sampler call, no result; the
    // handle's span context is built in place.
    ts.counters->Bump(ts.counters->non_recording);
    if (has_parent) return Span(nullptr, 0, trace_id, span_id, TraceFlags{random}, psc.trace_state());
    return Span(nullptr, 0, trace_id, span_id, TraceFlags{random}, TraceState());
  }
  SamplingResult sr;
  switch (p->sampler_kind) {
    case Sampler::Builtin::kAlwaysOn:
      sr.decision = SamplingDecision::kRecordAndSample;
      break;
    case Sampler::Builtin::kAlwaysOff:
      sr.decision = SamplingDecision::kDrop;
      break;
    default:
      sr = p->sampler->ShouldSample(
          SamplingParams{parent, trace_id, name, options.kind, options.attributes, options.links});
      break;
  }

  const TraceFlags flags{static_cast<uint8_t>(
      (sr.decision == SamplingDecision::kRecordAndSample ? TraceFlags::kSampled : 0) | random)};
  if (sr.decision == SamplingDecision::kDrop) {
    ts.counters->Bump(ts.counters->non_recording);
    return Span(nullptr, 0, trace_id, span_id, flags, sr.trace_state ? *sr.trace_state : parent_state);
  }

  SpanRecord* r = ts.pool->Acquire();
  if (r == nullptr) return Span();  // out of memory: a no-op span, never a crash
  r->context_ = SpanContext(trace_id, span_id, flags, false,
                            sr.trace_state ? std::move(*sr.trace_state) : parent_state);
  if (has_parent) {
    r->parent_span_id_ = psc.span_id();
    r->parent_remote_ = psc.is_remote();
  } else {
    r->parent_span_id_ = SpanId();
  }
  r->kind_ = options.kind;
  r->tracer_ = t;
  r->limits = &p->limits;
  r->name_off_ = r->arena_.Append(nullptr, name.size());
  r->name_len_ = static_cast<uint32_t>(name.size());
  if (r->name_off_ == UINT32_MAX) {
    r->name_off_ = r->name_len_ = 0;
  } else {
    internal::CopyBytes(r->arena_.At(r->name_off_), name.data(), name.size());
  }
  if (options.start_time.time_since_epoch().count() != 0) {
    r->start_ns_ = options.start_time.time_since_epoch().count();
    r->start_tsc = 0;
  } else {
    r->start_ns_ = internal::SpanStartNs(&r->start_tsc);
  }
  r->end_ns_ = 0;
  // Start attributes (the instrumentation's semconv ones, the sampler's) are
  // marked owned: instrumentation attributes set later never displace them.
  if (!options.attributes.empty()) internal::StoreOwnedSpanAttributes(r, options.attributes);
  if (!sr.attributes.empty()) internal::StoreOwnedSpanAttributes(r, sr.attributes);
  for (const Link& l : options.links) {
    internal::AddLinkTo(r, l.context, l.attributes);
  }
  const uint32_t gen = r->gen.load(std::memory_order_relaxed);
  ts.counters->Bump(ts.counters->started);
  ProcessorList* pl = p->processors.load(std::memory_order_acquire);
  if (pl != nullptr && !pl->on_start.empty()) {
    for (SpanProcessor* proc : pl->on_start) proc->OnStart(*r, parent);
  }
  return Span(r, gen, r->context_);
}

// ---------------------------------------------------------------------------
// Global provider

namespace {
struct GlobalSlot {
  std::mutex mu;
  std::shared_ptr<TracerProvider> provider;
  // The last real provider that was replaced by nothing (or the no-op one);
  // see internal::GlobalProviderDroppedAndShutDown.
  std::weak_ptr<TracerProvider> dropped;
  bool has_dropped = false;
};
GlobalSlot& Global() {
  static GlobalSlot* g = new GlobalSlot;
  return *g;
}

std::atomic<uint64_t> g_globals_generation{1};
}  // namespace

namespace internal {
void BumpGlobalsGeneration() noexcept {
  g_globals_generation.fetch_add(1, std::memory_order_acq_rel);
}
}  // namespace internal

uint64_t GlobalsGeneration() noexcept {
  return g_globals_generation.load(std::memory_order_acquire);
}

std::shared_ptr<TracerProvider> GetTracerProvider() noexcept {
  GlobalSlot& g = Global();
  std::lock_guard<std::mutex> lock(g.mu);
  if (!g.provider) return TracerProvider::NoOp();
  return g.provider;
}

namespace {
// Replaces the global provider; g.mu held. The replaced one is released by
// the caller, outside the lock (its destructor may flush).
std::shared_ptr<TracerProvider> ReplaceLocked(GlobalSlot& g, std::shared_ptr<TracerProvider> provider) {
  std::shared_ptr<TracerProvider> old = std::exchange(g.provider, std::move(provider));
  const bool now_real = g.provider && g.provider != TracerProvider::NoOp();
  if (now_real) {
    g.dropped.reset();
    g.has_dropped = false;
  } else if (old && old != TracerProvider::NoOp()) {
    g.dropped = old;
    g.has_dropped = true;
  }
  internal::BumpGlobalsGeneration();
  return old;
}
}  // namespace

void SetTracerProvider(std::shared_ptr<TracerProvider> provider) noexcept {
  GlobalSlot& g = Global();
  std::shared_ptr<TracerProvider> old;
  {
    std::lock_guard<std::mutex> lock(g.mu);
    old = ReplaceLocked(g, std::move(provider));
  }
}

namespace internal {
bool ClearGlobalTracerProviderIf(const TracerProvider* expected) noexcept {
  GlobalSlot& g = Global();
  std::shared_ptr<TracerProvider> old;
  {
    std::lock_guard<std::mutex> lock(g.mu);
    if (g.provider.get() != expected) return false;
    old = ReplaceLocked(g, nullptr);
  }
  return true;
}
}  // namespace internal

namespace internal {
bool GlobalProviderDroppedAndShutDown() noexcept {
  GlobalSlot& g = Global();
  std::lock_guard<std::mutex> lock(g.mu);
  if (g.provider && g.provider != TracerProvider::NoOp()) return false;
  if (!g.has_dropped) return false;
  std::shared_ptr<TracerProvider> p = g.dropped.lock();
  return !p || p->IsShutDown();
}
}  // namespace internal

Tracer GetTracer(std::string_view name, std::string_view version) {
  return GetTracerProvider()->GetTracer(name, version);
}

}  // namespace otelweb
