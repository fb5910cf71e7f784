// The recording thread's last lookup per stream (storage.cc): a hit only for
// an equal attribute set in the same order, never a stale series after the
// set's content changed in place or the series was forgotten; sets that keep
// changing are each counted once.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <random>
#include <cstdio>
#include <cstring>

#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "metrics/storage.h"
#include "otelweb/context.h"
#include "otelweb/metrics/meter_provider.h"
#include "otelweb/testing/memory_tracing.h"
#include "otelweb/trace/span.h"

namespace {

using namespace otelweb;
using namespace otelweb::metrics;

struct LookupSetup {
  explicit LookupSetup(TemporalityPreference pref = TemporalityPreference::kCumulative) {
    reader = std::make_shared<ManualReader>(pref);
    MeterProviderOptions o;
    o.readers.push_back(reader);
    provider = std::make_unique<MeterProvider>(std::move(o));
    meter = provider->GetMeter("lookup");
  }
  // Collects into `rm` and returns the metric `name` (null when it is
  // missing; the failure is reported).
  const MetricData* CollectMetric(ResourceMetrics* rm, std::string_view name) {
    EXPECT_TRUE(reader->Collect(rm));
    const MetricData* m = rm->Find(name);
    EXPECT_NE(m, nullptr) << name;
    return m;
  }
  // Value of the series whose attribute `key` has the string `value`.
  static int64_t ValueOf(const ResourceMetrics& rm, std::string_view name, std::string_view key,
                         std::string_view value) {
    const MetricData* m = rm.Find(name);
    if (m == nullptr) return -1;
    for (const auto& p : m->number_points)
      for (const auto& kv : p.attributes)
        if (kv.key == key && kv.value.s == value) return p.as_int;
    return -1;
  }
  std::shared_ptr<ManualReader> reader;
  std::unique_ptr<MeterProvider> provider;
  Meter meter;
};

TEST(MetricLookup, NewContentAtTheSameAddressIsAnotherSeries) {
  LookupSetup s;
  auto c = s.meter.CreateInt64Counter("requests");
  std::string route = "/a";
  KeyValue kv[] = {{"http.route", std::string_view(route)}, {"http.response.status_code", 200}};
  c.Add(1, kv);
  c.Add(1, kv);  // the last lookup's hit
  route[1] = 'b';  // same address, same length, other content
  c.Add(5, kv);
  kv[1] = {"http.response.status_code", 404};
  c.Add(7, kv);
  ResourceMetrics rm;
  const MetricData* m = s.CollectMetric(&rm, "requests");
  ASSERT_TRUE(m != nullptr && m->number_points.size() == 3u);
  int64_t a = 0, b200 = 0, b404 = 0;
  for (const auto& p : m->number_points) {
    std::string r;
    int64_t code = 0;
    for (const auto& kv2 : p.attributes) {
      if (kv2.key == "http.route") r = kv2.value.s;
      if (kv2.key == "http.response.status_code") code = kv2.value.i;
    }
    if (r == "/a" && code == 200) a = p.as_int;
    if (r == "/b" && code == 200) b200 = p.as_int;
    if (r == "/b" && code == 404) b404 = p.as_int;
  }
  EXPECT_EQ(a, 2);
  EXPECT_EQ(b200, 5);
  EXPECT_EQ(b404, 7);
}

// Writable program data: a buffer the program may rewrite in place.
char g_writable_key[] = "tenant.id";
char g_writable_value[] = "acme";

TEST(MetricLookup, OnlyReadOnlyProgramBytesCountAsImmutable) {
  using metrics::internal::InReadOnlyImage;
  static const char kLiteral[] = "http.request.method";
  EXPECT_TRUE(InReadOnlyImage(kLiteral, sizeof kLiteral));
  std::string_view semconv_like = "http.route";
  EXPECT_TRUE(InReadOnlyImage(semconv_like.data(), semconv_like.size()));
  EXPECT_FALSE(InReadOnlyImage(g_writable_key, sizeof g_writable_key));  // .data
  std::string heap(40, 'x');
  EXPECT_FALSE(InReadOnlyImage(heap.data(), heap.size()));
  char stack[16] = "abc";
  EXPECT_FALSE(InReadOnlyImage(stack, 3));
  EXPECT_FALSE(InReadOnlyImage(nullptr, 0));
  // A literal's address with a length that runs past the end of every
  // read-only segment is not vouched for.
  EXPECT_FALSE(InReadOnlyImage(kLiteral, ~size_t{0} / 2));
}

// A series created from string literals remembers their addresses (the
// comparison then skips their bytes); created from writable memory, it
// does not, and the bytes are compared every time.
TEST(MetricLookup, ASeriesRemembersOnlyReadOnlyAddresses) {
  metrics::internal::StreamConfig cfg;
  cfg.name = "requests";
  metrics::internal::Stream stream(cfg);
  constexpr std::string_view kKey = "http.route", kValue = "/users/:id";
  KeyValue literal[] = {{kKey, kValue}, {"http.response.status_code", 200}};
  metrics::internal::Series* a = stream.Resolve(literal);
  ASSERT_EQ(a->flat.size(), 2u);
  EXPECT_EQ(a->flat[0].key_ro, kKey.data());
  EXPECT_EQ(a->flat[0].str_ro, kValue.data());
  EXPECT_NE(a->flat[1].key_ro, nullptr);
  EXPECT_EQ(a->flat[1].str_ro, nullptr);  // an int value has no bytes
  KeyValue writable[] = {{g_writable_key, std::string_view(g_writable_value)}};
  metrics::internal::Series* b = stream.Resolve(writable);
  ASSERT_EQ(b->flat.size(), 1u);
  EXPECT_EQ(b->flat[0].key_ro, nullptr);
  EXPECT_EQ(b->flat[0].str_ro, nullptr);
}

// The same bytes at another address are the same set (a copy of a literal
// matches the series the literal created, and the reverse); other bytes at
// the address a writable buffer had are another set.
TEST(MetricLookup, ALiteralAndACopyOfItAreOneSeriesAndARewrittenBufferIsAnother) {
  LookupSetup s;
  auto c = s.meter.CreateInt64Counter("requests");
  KeyValue literal[] = {{"http.route", "/a"}, {"tenant.id", "acme"}};
  std::string key1 = "http.route", val1 = "/a", key2 = "tenant.id", val2 = "acme";
  KeyValue copy[] = {{key1, std::string_view(val1)}, {key2, std::string_view(val2)}};
  c.Add(1, literal);
  c.Add(2, copy);
  c.Add(4, literal);
  c.Add(8, copy);
  KeyValue writable[] = {{"http.route", "/a"},
                         {std::string_view(g_writable_key), std::string_view(g_writable_value)}};
  c.Add(16, writable);  // "tenant.id" = "acme": the same set again
  g_writable_value[0] = 'b';  // "bcme", same address and length
  c.Add(32, writable);
  c.Add(64, writable);
  g_writable_value[0] = 'a';
  // A series created from the writable buffer, then the buffer rewritten.
  auto jobs = s.meter.CreateInt64Counter("jobs");
  KeyValue own[] = {{std::string_view(g_writable_key), std::string_view(g_writable_value)}};
  jobs.Add(1, own);
  jobs.Add(2, own);
  g_writable_value[0] = 'b';
  jobs.Add(4, own);
  jobs.Add(8, own);
  g_writable_value[0] = 'a';
  ResourceMetrics rm;
  ASSERT_TRUE(s.reader->Collect(&rm));
  EXPECT_EQ(s.ValueOf(rm, "requests", "tenant.id", "acme"), 31);
  EXPECT_EQ(s.ValueOf(rm, "requests", "tenant.id", "bcme"), 96);
  EXPECT_EQ(rm.Find("requests")->number_points.size(), 2u);
  EXPECT_EQ(s.ValueOf(rm, "jobs", "tenant.id", "acme"), 3);
  EXPECT_EQ(s.ValueOf(rm, "jobs", "tenant.id", "bcme"), 12);
}

TEST(MetricLookup, AnotherOrderIsTheSameSeries) {
  LookupSetup s;
  auto c = s.meter.CreateInt64Counter("requests");
  KeyValue ab[] = {{"a", "1"}, {"b", "2"}};
  KeyValue ba[] = {{"b", "2"}, {"a", "1"}};
  for (int i = 0; i < 3; ++i) {
    c.Add(1, ab);
    c.Add(10, ba);
  }
  ResourceMetrics rm;
  ASSERT_TRUE(s.reader->Collect(&rm));
  ASSERT_EQ(rm.Find("requests")->number_points.size(), 1u);
  EXPECT_EQ(rm.Find("requests")->number_points[0].as_int, 33);
}

TEST(MetricLookup, SetsThatKeepChangingAreEachCountedOnce) {
  // Enough alternation to go through the "stop comparing for a while" state
  // several times, with two instruments interleaved on one thread.
  LookupSetup s;
  auto c = s.meter.CreateInt64Counter("requests");
  auto h = s.meter.CreateInt64Histogram("sizes", "By");
  const std::string routes[3] = {"/x", "/y", "/z"};
  for (int i = 0; i < 300; ++i) {
    KeyValue kv[] = {{"http.route", std::string_view(routes[i % 3])}};
    c.Add(1 + i % 3, kv);
    h.Record(i, kv);
  }
  ResourceMetrics rm;
  ASSERT_TRUE(s.reader->Collect(&rm));
  EXPECT_EQ(s.ValueOf(rm, "requests", "http.route", "/x"), 100);
  EXPECT_EQ(s.ValueOf(rm, "requests", "http.route", "/y"), 200);
  EXPECT_EQ(s.ValueOf(rm, "requests", "http.route", "/z"), 300);
  uint64_t count = 0;
  for (const auto& p : rm.Find("sizes")->histogram_points) count += p.count;
  EXPECT_EQ(count, 300u);
}

TEST(MetricLookup, AForgottenSeriesIsNotFoundThroughTheLastLookup) {
  LookupSetup s(TemporalityPreference::kDelta);
  auto c = s.meter.CreateInt64Counter("jobs");
  KeyValue kv[] = {{"job", "a"}};
  c.Add(3, kv);
  ResourceMetrics first, idle, again;
  ASSERT_TRUE(s.reader->Collect(&first));
  EXPECT_EQ(s.ValueOf(first, "jobs", "job", "a"), 3);
  s.reader->Collect(&idle);  // no recording since: forgotten
  EXPECT_EQ(idle.Find("jobs"), nullptr);
  c.Add(4, kv);  // the thread's last lookup named the forgotten series
  ASSERT_TRUE(s.reader->Collect(&again));
  EXPECT_EQ(s.ValueOf(again, "jobs", "job", "a"), 4);  // a new series, reported now
}

// The table's comparison (any order) of a given set with a stored one of 70
// attributes: a given set of the same size with a repeated key lacks one of
// the stored keys, so it is another set, wherever the repeat is (the stored
// positions past the 64th were not tracked: such a set matched).
TEST(MetricLookup, ARepeatedKeyInALargeSetIsAnotherSet) {
  constexpr size_t kN = 70;
  metrics::internal::StreamConfig cfg;
  cfg.name = "wide";
  metrics::internal::Stream stream(cfg);
  std::vector<std::string> keys;
  for (size_t i = 0; i < kN; ++i) keys.push_back("attr." + std::to_string(i));
  std::vector<KeyValue> stored;
  for (size_t i = 0; i < kN; ++i) stored.push_back({keys[i], static_cast<int64_t>(i)});
  metrics::internal::Series* series = stream.Resolve(stored);
  ASSERT_FALSE(series->overflow);
  ASSERT_EQ(series->attrs.size(), kN);

  EXPECT_TRUE(metrics::internal::SameAttributeSet(stored, *series));
  std::vector<KeyValue> reversed(stored.rbegin(), stored.rend());
  EXPECT_TRUE(metrics::internal::SameAttributeSet(reversed, *series));
  std::vector<KeyValue> rotated = stored;  // first mismatch at 0, keys past 64 early
  std::rotate(rotated.begin(), rotated.begin() + 66, rotated.end());
  EXPECT_TRUE(metrics::internal::SameAttributeSet(rotated, *series));

  // (position of the repeat, the stored attribute it repeats)
  const std::pair<size_t, size_t> repeats[] = {{69, 65}, {68, 66}, {69, 3}, {10, 66},
                                               {66, 65}, {65, 69}, {0, 67}};
  for (auto [at, of] : repeats) {
    std::vector<KeyValue> given = stored;
    given[at] = stored[of];
    EXPECT_FALSE(metrics::internal::SameAttributeSet(given, *series)) << at << " repeats " << of;
    std::vector<KeyValue> given_reversed(given.rbegin(), given.rend());
    EXPECT_FALSE(metrics::internal::SameAttributeSet(given_reversed, *series))
        << at << " repeats " << of << ", reversed";
    std::rotate(given.begin(), given.begin() + 66, given.end());
    EXPECT_FALSE(metrics::internal::SameAttributeSet(given, *series))
        << at << " repeats " << of << ", rotated";
  }

  // Through the instrument: the set with the repeat is the 69 distinct
  // attributes (the last value wins), another series than the 70.
  LookupSetup s;
  auto c = s.meter.CreateInt64Counter("wide");
  std::vector<KeyValue> repeat = stored;
  repeat[69] = stored[65];
  c.Add(1, stored);
  c.Add(10, repeat);
  c.Add(100, reversed);
  ResourceMetrics rm;
  const MetricData* m = s.CollectMetric(&rm, "wide");
  ASSERT_TRUE(m != nullptr);
  EXPECT_EQ(m->number_points.size(), 2u);
  for (const auto& p : m->number_points)
    EXPECT_EQ(p.as_int, p.attributes.size() == kN ? 101 : 10) << p.attributes.size();
}

// Values a client could choose against the hash's published constants
// (kM1, kM3 in storage.cc): before the per-process secret, each family below
// hashed to one value (a zero product), so an attacker sending such
// server.address values made every set land on one probe chain. Now each
// value hashes apart (a chance collision among these 64: about 2^-53).
TEST(MetricLookup, ChosenValuesDoNotShareAHash) {
  constexpr uint64_t kM1 = 0xa0761d6478bd642fULL;
  constexpr uint64_t kM3 = 0x8ebc6af09c88c6e3ULL;
  auto bytes = [](uint64_t w) {
    std::string b(8, '\0');
    std::memcpy(b.data(), &w, 8);
    return b;
  };
  auto distinct_hashes = [](const std::vector<std::string>& values, std::string_view key) {
    std::set<uint64_t> hashes;
    for (const std::string& v : values)
      hashes.insert(metrics::internal::HashAttribute({key, std::string_view(v)}));
    return hashes.size();
  };
  std::vector<std::string> short_values, long_values;
  for (uint64_t i = 0; i < 64; ++i) {
    // 16 bytes: the first 8 cancel the constant, the last 8 vary.
    short_values.push_back(bytes(kM1 ^ 16) + bytes(i * 0x9e3779b97f4a7c15ULL));
    // 32 bytes: the first block's first 8 bytes cancel the constant, its
    // second 8 vary, the last 16 are fixed.
    long_values.push_back(bytes(kM3) + bytes(i * 0x9e3779b97f4a7c15ULL) + std::string(16, 'x'));
  }
  EXPECT_EQ(distinct_hashes(short_values, "server.address"), 64u);
  EXPECT_EQ(distinct_hashes(long_values, "server.address"), 64u);
  // An int array whose first element cancels the constant: the key no
  // longer mattered.
  const int64_t ints[] = {static_cast<int64_t>(kM3), 7};
  std::set<uint64_t> by_key;
  for (std::string_view key : {"a", "b", "c", "d"})
    by_key.insert(metrics::internal::HashAttribute({key, std::span<const int64_t>(ints)}));
  EXPECT_EQ(by_key.size(), 4u);
  // The secret is drawn once: the same attribute hashes alike every time.
  EXPECT_EQ(metrics::internal::HashSecret(), metrics::internal::HashSecret());
  EXPECT_EQ(metrics::internal::HashAttribute({"server.address", "example.com"}),
            metrics::internal::HashAttribute({"server.address", "example.com"}));
}

// trace_based exemplars on the bound path: the inline check of the flag that
// Scope keeps (a sampled span current, an unsampled one nested inside it, the
// scopes ending) offers an exemplar exactly while a sampled span is current.
// The flag is asserted directly at each step: Stream::Offer re-checks the
// current span, so the exemplar checks alone would pass with a flag stuck
// true (they would only cost a call).
TEST(MetricLookup, BoundAddOffersAnExemplarOnlyWhileASampledSpanIsCurrent) {
  using ::otelweb::detail::t_sampled_span_current;
  otelweb::testing::MemoryTracing tracing;
  auto exemplar_trace = [](const ResourceMetrics& rm) {
    const MetricData* m = rm.Find("jobs");
    if (m == nullptr || m->number_points.empty() || m->number_points[0].exemplars.empty())
      return std::string();
    return m->number_points[0].exemplars[0].trace_id.ToHex();
  };
  auto tid = TraceId::FromHex("0af7651916cd43dd8448eb211c80319c");
  auto sid = SpanId::FromHex("b7ad6b7169203331");
  ASSERT_TRUE(tid && sid);
  const SpanContext unsampled_sc(*tid, *sid, TraceFlags{0}, /*remote=*/true);
  LookupSetup s(TemporalityPreference::kDelta);
  auto bound = s.meter.CreateInt64Counter("jobs").Bind({{"job", "a"}});
  EXPECT_FALSE(t_sampled_span_current);
  bound.Add(1);  // no span
  ResourceMetrics none;
  ASSERT_TRUE(s.reader->Collect(&none));
  EXPECT_EQ(exemplar_trace(none), "");

  Span span = tracing.tracer().StartSpan("work");
  ASSERT_TRUE(span.GetContext().sampled());
  const std::string id = span.GetContext().trace_id().ToHex();
  EXPECT_FALSE(t_sampled_span_current);  // started, not current
  {
    Scope sampled = MakeCurrent(span);
    EXPECT_TRUE(t_sampled_span_current);
    {
      Scope unsampled(Context::Current().WithSpanContext(unsampled_sc));
      EXPECT_FALSE(t_sampled_span_current);
      {
        Scope again = MakeCurrent(span);  // sampled inside unsampled
        EXPECT_TRUE(t_sampled_span_current);
      }
      EXPECT_FALSE(t_sampled_span_current);
      {
        Scope no_span{Context()};  // the empty context
        EXPECT_FALSE(t_sampled_span_current);
      }
      EXPECT_FALSE(t_sampled_span_current);
      bound.Add(2);  // unsampled span current: no exemplar
    }
    EXPECT_TRUE(t_sampled_span_current);
    ResourceMetrics inner;
    ASSERT_TRUE(s.reader->Collect(&inner));
    EXPECT_EQ(exemplar_trace(inner), "");
    bound.Add(3);  // the sampled span is current again
  }
  EXPECT_FALSE(t_sampled_span_current);
  ResourceMetrics with;
  ASSERT_TRUE(s.reader->Collect(&with));
  EXPECT_EQ(exemplar_trace(with), id);
  bound.Add(4);  // the scope ended: no exemplar
  ResourceMetrics after;
  ASSERT_TRUE(s.reader->Collect(&after));
  EXPECT_EQ(exemplar_trace(after), "");

  // Scopes destroyed out of order: the newer one stays current until it
  // ends, so the flag follows it, then the stack below both.
  {
    auto outer = std::make_unique<Scope>(span.AsContext());
    auto inner = std::make_unique<Scope>(Context::Current().WithSpanContext(unsampled_sc));
    EXPECT_FALSE(t_sampled_span_current);
    outer.reset();  // out of order: inner stays current
    EXPECT_FALSE(t_sampled_span_current);
    inner.reset();  // both gone: no span
    EXPECT_FALSE(t_sampled_span_current);
  }
  {
    auto outer = std::make_unique<Scope>(Context::Current().WithSpanContext(unsampled_sc));
    auto inner = std::make_unique<Scope>(span.AsContext());
    EXPECT_TRUE(t_sampled_span_current);
    outer.reset();  // out of order: the sampled inner scope stays current
    EXPECT_TRUE(t_sampled_span_current);
    bound.Add(5);
    inner.reset();
    EXPECT_FALSE(t_sampled_span_current);
    bound.Add(6);
  }
  ResourceMetrics out_of_order;
  ASSERT_TRUE(s.reader->Collect(&out_of_order));
  EXPECT_EQ(exemplar_trace(out_of_order), id);
  EXPECT_EQ(out_of_order.Find("jobs")->number_points[0].as_int, 11);
  {
    Scope sampled = MakeCurrent(span);
    std::unique_ptr<Scope> below = std::make_unique<Scope>(Context());
    Scope top = MakeCurrent(span);
    EXPECT_TRUE(t_sampled_span_current);
    below.reset();  // a detached scope in the middle: the top still decides
    EXPECT_TRUE(t_sampled_span_current);
  }
  EXPECT_FALSE(t_sampled_span_current);

  // Another thread starts with no sampled span current, whatever this one has.
  {
    Scope sampled = MakeCurrent(span);
    bool other = true;
    std::thread([&] { other = t_sampled_span_current; }).join();
    EXPECT_FALSE(other);
    EXPECT_TRUE(t_sampled_span_current);
  }
  span.End();
}

// A plugin built with -fvisibility=hidden (testdata/visibility_probe.cc)
// reads the thread-locals that the library writes and the headers read
// inline: they are exported from the headers, so the plugin sees the
// program's one definition (hidden, it read its own copies: the flag
// always false, the stripe always 0).
TEST(MetricLookup, AHiddenVisibilityPluginReadsTheLibrarysThreadLocals) {
  void* plugin = dlopen(OTELWEB_VISIBILITY_PROBE, RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(plugin, nullptr) << dlerror();
  auto sampled = reinterpret_cast<bool (*)()>(dlsym(plugin, "otelweb_probe_sampled_span_current"));
  auto stripe = reinterpret_cast<uint32_t (*)()>(dlsym(plugin, "otelweb_probe_stripe"));
  ASSERT_NE(sampled, nullptr);
  ASSERT_NE(stripe, nullptr);
  otelweb::testing::MemoryTracing tracing;
  Span span = tracing.tracer().StartSpan("work");
  ASSERT_TRUE(span.GetContext().sampled());
  EXPECT_FALSE(sampled());
  {
    Scope scope = MakeCurrent(span);
    EXPECT_TRUE(sampled());
  }
  EXPECT_FALSE(sampled());
  const uint32_t mine = metrics::detail::ThreadStripe();  // assigned by the library
  EXPECT_NE(mine, 0u);
  EXPECT_EQ(stripe(), mine);
  span.End();
  dlclose(plugin);
}

// The canonical form of an attribute set, as the data model defines its
// identity: keys deduplicated (the last value wins), empty values dropped,
// sorted by key; each value with its type and exact bytes (a double by its
// bits, as the storage compares it).
std::string CanonicalValue(AttributeType type, std::string_view s, int64_t i, double d, bool b) {
  std::string out(1, static_cast<char>('0' + static_cast<int>(type)));
  switch (type) {
    case AttributeType::kString:
      out += s;
      break;
    case AttributeType::kInt:
      out += std::to_string(i);
      break;
    case AttributeType::kDouble:
      out += std::to_string(std::bit_cast<uint64_t>(d));
      break;
    case AttributeType::kBool:
      out += b ? "t" : "f";
      break;
    default:
      break;
  }
  return out;
}
std::string CanonicalGiven(Attributes attrs) {
  std::map<std::string, std::string> m;
  for (const KeyValue& kv : attrs) {
    const AttributeValue& v = kv.value;
    if (v.type() == AttributeType::kNone) continue;
    m[std::string(kv.key)] = CanonicalValue(
        v.type(), v.type() == AttributeType::kString ? v.as_string() : std::string_view(),
        v.type() == AttributeType::kInt ? v.as_int() : 0,
        v.type() == AttributeType::kDouble ? v.as_double() : 0,
        v.type() == AttributeType::kBool && v.as_bool());
  }
  std::string out;
  for (const auto& [k, v] : m) {
    out += std::to_string(k.size()) + ":" + k + "=" + std::to_string(v.size()) + ":" + v + ";";
  }
  return out;
}
std::string CanonicalStored(const std::vector<OwnedKeyValue>& attrs) {
  std::map<std::string, std::string> m;
  for (const OwnedKeyValue& kv : attrs)
    m[kv.key] = CanonicalValue(kv.value.type, kv.value.s, kv.value.i, kv.value.d, kv.value.b);
  std::string out;
  for (const auto& [k, v] : m) {
    out += std::to_string(k.size()) + ":" + k + "=" + std::to_string(v.size()) + ":" + v + ";";
  }
  // A stored set has unique keys: a duplicate would collapse in the map.
  if (m.size() != attrs.size()) out += "<duplicate key>";
  return out;
}

// Sets drawn at random from keys and values that the pointer comparison of
// read-only strings could confuse: literals and their prefixes (same
// address, other length), heap copies of literals (same bytes, other
// address), empty strings, embedded NULs, long strings that differ in one
// middle byte, a stack buffer rewritten in place between calls, int 1 /
// double 1.0 / bool true, 0.0 / -0.0; sets in shuffled order, with repeated
// keys and empty values, and sets of more than 64 attributes. Every sum
// (plain recording and RecordSameSet's three instruments) must be the sum
// of the values recorded with a set of the same canonical form.
TEST(MetricLookup, RandomSetsOfLookalikeStringsAreCountedByTheirContent) {
  auto reader = std::make_shared<ManualReader>();
  MeterProviderOptions o;
  o.readers.push_back(reader);
  o.cardinality_limit = 100000;  // no overflow series: every set is its own
  MeterProvider provider(std::move(o));
  Meter meter = provider.GetMeter("lookup");
  auto plain = meter.CreateInt64Counter("plain");
  auto lead = meter.CreateInt64Counter("lead");
  auto follow1 = meter.CreateInt64Counter("follow1");
  auto follow2 = meter.CreateInt64Counter("follow2");

  static constexpr char kLong[] = "0123456789abcdefghijklmnopqrstuvwxyz0123456789ABCDEF";
  struct Want {
    std::map<std::string, int64_t> plain, lead, follow1, follow2;
  };
  auto run = [&](uint64_t seed, Want* want) {
    std::mt19937_64 rng(seed);
    auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
    // Heap copies (other addresses, same bytes) and a writable stack buffer.
    const std::vector<std::string> heap = {"GET", "GE", "", "k1", "k", "", std::string("G\0T", 3),
                                           std::string(kLong, 40), std::string(kLong, 17)};
    char stack[48];
    std::memcpy(stack, kLong, sizeof stack);
    auto key = [&]() -> std::string_view {
      switch (pick(8)) {
        case 0:
          return "k1";
        case 1:
          return std::string_view("k1x", 2);  // "k1", another literal's address
        case 2:
          return std::string_view("k1", 1);   // a prefix of a literal
        case 3:
          return heap[3];
        case 4:
          return heap[4];
        case 5:
          return "";
        case 6:
          return std::string_view(stack, 3);
        default:
          return "k2";
      }
    };
    auto value = [&]() -> AttributeValue {
      switch (pick(20)) {
        case 0:
          return std::string_view("GET");
        case 1:
          return std::string_view("GET", 2);
        case 2:
          return std::string_view(heap[0]);
        case 3:
          return std::string_view(heap[1]);
        case 4:
          return std::string_view("");
        case 5:
          return std::string_view(heap[2]);
        case 6:
          return std::string_view("G\0T", 3);
        case 7:
          return std::string_view("G\0T", 1);
        case 8:
          return std::string_view(heap[6]);
        case 9:
          return std::string_view(kLong, 40);
        case 10:
          return std::string_view(heap[7]);
        case 11:
          return std::string_view(stack, 17 + pick(24));  // rewritten below
        case 12:
          return int64_t{1};
        case 13:
          return 1.0;
        case 14:
          return true;
        case 15:
          return 0.0;
        case 16:
          return -0.0;
        case 17:
          return AttributeValue();  // empty: dropped
        case 18:
          return std::string_view(kLong + 1, 17);
        default:
          return std::string_view(heap[8]);
      }
    };
    std::vector<KeyValue> kv;
    for (int i = 0; i < 4000; ++i) {
      // The stack buffer's bytes change in place now and then (one middle
      // byte: the first and last 8 of a long string stay the same).
      if (pick(4) == 0) stack[8 + pick(24)] = "xyz"[pick(3)];
      kv.clear();
      const size_t n = pick(50) == 0 ? 65 + pick(10) : pick(6);
      for (size_t j = 0; j < n; ++j) {
        if (n > 64) {
          // Many attributes (more than the 64 positions the any-order
          // comparison tracks in its bitmask): distinct keys, one or two
          // bytes of one literal, with random values; shuffled below.
          static constexpr char kKeys[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&*+-./<>?@^_~";
          kv.push_back({std::string_view(kKeys + j, 1 + (pick(3) == 0)), value()});
        } else {
          kv.push_back({key(), value()});
        }
      }
      if (pick(3) == 0) std::shuffle(kv.begin(), kv.end(), rng);
      const Attributes attrs(kv.data(), kv.size());
      const std::string set = CanonicalGiven(attrs);
      const int64_t v = 1 + static_cast<int64_t>(pick(1000));
      plain.Add(v, attrs);
      want->plain[set] += v;
      metrics::detail::SameSetValue same[3] = {{metrics::detail::InstrumentAccess::State(lead), false, v, 0},
                              {metrics::detail::InstrumentAccess::State(follow1), false, 2 * v, 0},
                              {metrics::detail::InstrumentAccess::State(follow2), false, 3 * v, 0}};
      const size_t m = 1 + pick(3);
      metrics::detail::RecordSameSet(same, m, attrs);
      want->lead[set] += v;
      if (m > 1) want->follow1[set] += 2 * v;
      if (m > 2) want->follow2[set] += 3 * v;
    }
  };
  Want a, b;
  std::thread other([&] { run(2, &b); });
  run(1, &a);
  other.join();
  for (const auto& [set, v] : b.plain) a.plain[set] += v;
  for (const auto& [set, v] : b.lead) a.lead[set] += v;
  for (const auto& [set, v] : b.follow1) a.follow1[set] += v;
  for (const auto& [set, v] : b.follow2) a.follow2[set] += v;

  ResourceMetrics rm;
  ASSERT_TRUE(reader->Collect(&rm));
  auto got = [&](std::string_view name) {
    std::map<std::string, int64_t> out;
    const MetricData* m = rm.Find(name);
    if (m == nullptr) return out;
    for (const auto& p : m->number_points) {
      auto [it, fresh] = out.emplace(CanonicalStored(p.attributes), p.as_int);
      EXPECT_TRUE(fresh) << name << ": two series of the set " << it->first;
    }
    return out;
  };
  EXPECT_EQ(got("plain"), a.plain);
  EXPECT_EQ(got("lead"), a.lead);
  EXPECT_EQ(got("follow1"), a.follow1);
  EXPECT_EQ(got("follow2"), a.follow2);
}

// Literals of a plugin that is unloaded, and another plugin loaded (most
// likely at the same addresses) with other bytes there: only the program's
// and otelweb's own read-only images are trusted by address, so the second
// plugin's literals are compared byte by byte and make their own series.
TEST(MetricLookup, AnUnloadedPluginsLiteralsAreComparedByContent) {
  LookupSetup s;
  auto c = s.meter.CreateInt64Counter("plugin.requests");
  using Probe = const char* (*)(size_t*);
  struct Loaded {
    std::string_view key, value;
  };
  auto load_and_add = [&](const char* path, int64_t v, int times) {
    void* plugin = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    EXPECT_NE(plugin, nullptr) << dlerror();
    if (plugin == nullptr) return Loaded{};
    auto key = reinterpret_cast<Probe>(dlsym(plugin, "otelweb_probe_key"));
    auto value = reinterpret_cast<Probe>(dlsym(plugin, "otelweb_probe_value"));
    EXPECT_TRUE(key != nullptr && value != nullptr);
    size_t kn = 0, vn = 0;
    const char* k = key(&kn);
    const char* val = value(&vn);
    EXPECT_FALSE(metrics::internal::InReadOnlyImage(val, vn));
    KeyValue kv[] = {{std::string_view(k, kn), std::string_view(val, vn)}};
    for (int i = 0; i < times; ++i) c.Add(v, kv);  // the second: the last lookup's hit
    dlclose(plugin);
    return Loaded{std::string_view(k, kn), std::string_view(val, vn)};
  };
  const Loaded a = load_and_add(OTELWEB_LITERAL_PROBE_A, 1, 2);
  const Loaded b = load_and_add(OTELWEB_LITERAL_PROBE_B, 10, 2);
  if (a.value.data() != b.value.data())
    std::printf("note: the second plugin's literal is at another address\n");
  ResourceMetrics rm;
  const MetricData* m = s.CollectMetric(&rm, "plugin.requests");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->number_points.size(), 2u);
  EXPECT_EQ(LookupSetup::ValueOf(rm, "plugin.requests", "plugin.route", "/route/aaa"), 2);
  EXPECT_EQ(LookupSetup::ValueOf(rm, "plugin.requests", "plugin.route", "/route/bbb"), 20);
}

// A set with a repeated key or an empty value is the set without them (the
// last value wins; empty values are dropped): the same series whether or not
// the stream has reached its cardinality limit. At the limit, such a set whose
// plain form was admitted is counted in that series, not in the overflow one.
TEST(MetricLookup, ARepeatedKeyOrAnEmptyValueAtTheLimitFindsTheAdmittedSeries) {
  auto reader = std::make_shared<ManualReader>();
  MeterProviderOptions o;
  o.readers.push_back(reader);
  o.cardinality_limit = 2;
  MeterProvider provider(std::move(o));
  Meter meter = provider.GetMeter("lookup");
  auto c = meter.CreateInt64Counter("limited");
  const KeyValue a[] = {{"job", "a"}, {"code", 200}};
  const KeyValue b[] = {{"job", "b"}, {"code", 200}};
  c.Add(1, a);
  c.Add(1, b);  // the limit: two sets admitted
  const KeyValue a_repeated[] = {{"job", "x"}, {"code", 200}, {"job", "a"}};
  const KeyValue a_empty[] = {{"job", "a"}, {"note", AttributeValue()}, {"code", 200}};
  for (int i = 0; i < 3; ++i) {  // again: the thread's last lookup
    c.Add(10, a_repeated);
    c.Add(100, a_empty);
  }
  const KeyValue c_set[] = {{"job", "c"}, {"code", 200}};
  c.Add(1000, c_set);  // a third set: the overflow series
  ResourceMetrics rm;
  ASSERT_TRUE(reader->Collect(&rm));
  EXPECT_EQ(LookupSetup::ValueOf(rm, "limited", "job", "a"), 331);
  EXPECT_EQ(LookupSetup::ValueOf(rm, "limited", "job", "b"), 1);
  const MetricData* m = rm.Find("limited");
  ASSERT_NE(m, nullptr);
  int64_t overflow = -1;
  for (const auto& p : m->number_points)
    for (const auto& kv : p.attributes)
      if (kv.key == "otel.metric.overflow") overflow = p.as_int;
  EXPECT_EQ(overflow, 1000);
}

}  // namespace

// detail::RecordSameSet (an instrumentation's several instruments with one
// attribute set, compared once) against the same values recorded one by
// one: sets that change between calls (including in place, in a writable
// buffer), calls with fewer instruments, a follower that forgot its series,
// and the overflow series on either side.
namespace samesets {

using metrics::detail::InstrumentAccess;
using metrics::detail::RecordSameSet;
using metrics::detail::SameSetValue;
constexpr auto Sum = &LookupSetup::ValueOf;

int64_t OverflowSum(const ResourceMetrics& rm, std::string_view name) {
  const MetricData* m = rm.Find(name);
  if (m == nullptr) return -1;
  for (const auto& p : m->number_points)
    for (const auto& kv : p.attributes)
      if (kv.key == "otel.metric.overflow") return p.as_int;
  return -1;
}

TEST(MetricLookup, RecordSameSetCountsWhatRecordingEachOneCounts) {
  LookupSetup s;
  auto lead = s.meter.CreateInt64Counter("lead");
  auto one = s.meter.CreateInt64Counter("one");
  auto two = s.meter.CreateDoubleHistogram("two", "s");
  std::string route = "/x";  // rewritten in place: same address, other sets
  std::map<std::string, int64_t> want_lead, want_one;
  std::map<std::string, uint64_t> want_two;
  for (int i = 0; i < 90; ++i) {
    route[1] = "xyz"[(i / 2) % 3];
    KeyValue kv[] = {{"http.route", std::string_view(route)}, {"code", 200 + i % 5 / 4}};
    const std::string set = route + "/" + std::to_string(200 + i % 5 / 4);
    SameSetValue v[3] = {{metrics::detail::InstrumentAccess::State(lead), false, 1, 0},
                         {InstrumentAccess::State(one), false, i, 0},
                         {InstrumentAccess::State(two), true, 0, 0.5}};
    const size_t n = 1 + (i % 7) % 3;  // 1, 2 or 3 instruments
    RecordSameSet(v, n, kv);
    want_lead[set] += 1;
    if (n > 1) want_one[set] += i;
    if (n > 2) want_two[set] += 1;
  }
  ResourceMetrics rm;
  ASSERT_TRUE(s.reader->Collect(&rm));
  // route/code of a point's attributes -> its sum or its count.
  auto set_of = [](const std::vector<OwnedKeyValue>& attrs) {
    std::string r, c;
    for (const auto& kv : attrs) {
      if (kv.key == "http.route") r = kv.value.s;
      if (kv.key == "code") c = std::to_string(kv.value.i);
    }
    return r + "/" + c;
  };
  auto got = [&](const MetricData* m) {
    std::map<std::string, int64_t> out;
    if (m == nullptr) return out;
    for (const auto& p : m->number_points) out[set_of(p.attributes)] = p.as_int;
    for (const auto& p : m->histogram_points)
      out[set_of(p.attributes)] = static_cast<int64_t>(p.count);
    return out;
  };
  EXPECT_EQ(got(rm.Find("lead")), want_lead);
  EXPECT_EQ(got(rm.Find("one")), want_one);
  std::map<std::string, int64_t> want_two_i(want_two.begin(), want_two.end());
  EXPECT_EQ(got(rm.Find("two")), want_two_i);
}

TEST(MetricLookup, RecordSameSetDoesNotReuseAFollowersForgottenSeries) {
  LookupSetup s(TemporalityPreference::kDelta);
  auto lead = s.meter.CreateInt64Counter("lead");
  auto follow = s.meter.CreateInt64Counter("follow");
  KeyValue kv[] = {{"job", "a"}};
  SameSetValue v[2] = {{metrics::detail::InstrumentAccess::State(lead), false, 1, 0},
                       {InstrumentAccess::State(follow), false, 10, 0}};
  RecordSameSet(v, 2, kv);  // the thread remembers both series
  ResourceMetrics first, second, third;
  ASSERT_TRUE(s.reader->Collect(&first));
  EXPECT_EQ(Sum(first, "follow", "job", "a"), 10);
  lead.Add(1, kv);  // the lead's series stays; the follower's is idle
  ASSERT_TRUE(s.reader->Collect(&second));
  EXPECT_EQ(second.Find("follow"), nullptr);  // forgotten
  v[1].i = 20;
  RecordSameSet(v, 2, kv);
  ASSERT_TRUE(s.reader->Collect(&third));
  EXPECT_EQ(Sum(third, "lead", "job", "a"), 1);
  EXPECT_EQ(Sum(third, "follow", "job", "a"), 20);  // a new series, reported now
}

TEST(MetricLookup, RecordSameSetKeepsEachInstrumentsOverflowSeriesApart) {
  for (const char* limited : {"lead", "follow"}) {
    SCOPED_TRACE(limited);
    auto reader = std::make_shared<ManualReader>();
    MeterProviderOptions o;
    o.readers.push_back(reader);
    View v1;
    v1.selector.name = limited;
    v1.cardinality_limit = 1;
    o.views.push_back(v1);
    MeterProvider provider(std::move(o));
    Meter meter = provider.GetMeter("lookup");
    auto lead = meter.CreateInt64Counter("lead");
    auto follow = meter.CreateInt64Counter("follow");
    // Only "a" is admitted where the limit is 1; "b" and "c" share the
    // overflow series there, and come one after the other.
    const KeyValue sets[3][1] = {{{"job", "a"}}, {{"job", "b"}}, {{"job", "c"}}};
    const int order[] = {0, 1, 2, 1, 0, 2, 2, 1, 0};
    int64_t sum[3] = {0, 0, 0};
    for (int i = 0; i < 9; ++i) {
      const int64_t value = int64_t{1} << i;
      SameSetValue v[2] = {{metrics::detail::InstrumentAccess::State(lead), false, value, 0},
                           {InstrumentAccess::State(follow), false, value, 0}};
      RecordSameSet(v, 2, sets[order[i]]);
      sum[order[i]] += value;
    }
    ResourceMetrics rm;
    ASSERT_TRUE(reader->Collect(&rm));
    const std::string other = std::string_view(limited) == "lead" ? "follow" : "lead";
    EXPECT_EQ(Sum(rm, limited, "job", "a"), sum[0]);
    EXPECT_EQ(Sum(rm, limited, "job", "b"), -1);
    EXPECT_EQ(OverflowSum(rm, limited), sum[1] + sum[2]);
    EXPECT_EQ(Sum(rm, other, "job", "a"), sum[0]);
    EXPECT_EQ(Sum(rm, other, "job", "b"), sum[1]);
    EXPECT_EQ(Sum(rm, other, "job", "c"), sum[2]);
    EXPECT_EQ(OverflowSum(rm, other), -1);
  }
}

}  // namespace samesets
