// The recording path and the collection of one metric stream (storage.h).
#include "metrics/storage.h"

#include "metrics/exp_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <new>
#include <string>
#include <thread>
#include <type_traits>

#include <link.h>
#include <sys/random.h>
#include <unistd.h>

#include "otelweb/context.h"
#include "otelweb/diagnostics.h"

namespace otelweb::internal {
const Context& CurrentContextRef() noexcept;  // core (thread_state.cc)
}

namespace otelweb::metrics {

namespace detail {
uint32_t AssignStripe() noexcept {
  static std::atomic<uint32_t> next{0};
  // Never 0, so that 0 means "not assigned yet"; consecutive threads get
  // consecutive stripes.
  uint32_t s = next.fetch_add(1, std::memory_order_relaxed) | 0x80000000u;
  t_stripe = s;
  return s;
}
}  // namespace detail

namespace internal {

uint32_t StripeCount() noexcept {
  static const uint32_t n = [] {
    unsigned hw = std::thread::hardware_concurrency();
    uint32_t s = std::bit_ceil(std::max(1u, hw));
    return std::clamp<uint32_t>(s, 4, 16);
  }();
  return n;
}

namespace {

constexpr uint64_t kM1 = 0xa0761d6478bd642fULL;
constexpr uint64_t kM2 = 0xe7037ed1a0b428dbULL;
constexpr uint64_t kM3 = 0x8ebc6af09c88c6e3ULL;
constexpr uint64_t kM4 = 0x589965cc75374cc3ULL;

__extension__ typedef unsigned __int128 U128;

// Multiply-fold: the 128-bit product of two words, its halves xor-ed. One
// multiplication mixes 16 input bytes.
[[gnu::always_inline]] inline uint64_t Fold(uint64_t a, uint64_t b) noexcept {
  U128 r = static_cast<U128>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

inline uint64_t Load8(const char* p) noexcept {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}
inline uint64_t Load4(const char* p) noexcept {
  uint32_t w;
  std::memcpy(&w, p, 4);
  return w;
}

// The hash functions below take the process's secret `k` (HashSecret()): it
// is mixed into both operands of every multiplication (directly into one, via
// the seed into the other), so that no input can zero a product without
// knowing it. With fixed constants alone, a client that chooses attribute
// values (server.address from a Host header, a route) could make many sets
// hash alike (e.g. any 16-byte string whose first 8 bytes are kM1 ^ 16) and
// turn the table's probes into long scans.

// A string hash over 16 bytes per multiplication (the last 16 bytes, which
// may overlap the previous block, close it; up to 16 bytes take one fold):
// cheap, and good enough for a table whose hits are confirmed by comparison.
[[gnu::always_inline]] inline uint64_t HashBytes(const char* p, size_t n, uint64_t seed,
                                                 uint64_t k) noexcept {
  uint64_t a, b;
  if (n <= 16) {
    if (n >= 8) {
      a = Load8(p);
      b = Load8(p + n - 8);
    } else if (n >= 4) {
      a = Load4(p);
      b = Load4(p + n - 4);
    } else if (n != 0) {
      a = (static_cast<uint64_t>(static_cast<uint8_t>(p[0])) << 16) |
          (static_cast<uint64_t>(static_cast<uint8_t>(p[n / 2])) << 8) |
          static_cast<uint8_t>(p[n - 1]);
      b = 0;
    } else {
      a = b = 0;
    }
  } else {
    for (size_t i = 0; i + 16 < n; i += 16)
      seed = Fold(Load8(p + i) ^ kM3 ^ k, Load8(p + i + 8) ^ seed);
    a = Load8(p + n - 16);
    b = Load8(p + n - 8);
  }
  return Fold(a ^ kM1 ^ k ^ n, b ^ kM2 ^ seed);
}

[[gnu::always_inline]] inline uint64_t Step(uint64_t h, uint64_t w, uint64_t k) noexcept {
  return Fold(w ^ kM3 ^ k, h ^ kM4);
}

// Equality of two short byte ranges of the same length without a call.
[[gnu::always_inline]] inline bool SameBytes(const char* a, const char* b, size_t n) noexcept {
  if (n <= 16) {
    if (n >= 8) return (Load8(a) == Load8(b)) & (Load8(a + n - 8) == Load8(b + n - 8));
    if (n >= 4) return (Load4(a) == Load4(b)) & (Load4(a + n - 4) == Load4(b + n - 4));
    if (n == 0) return true;
    return (a[0] == b[0]) & (a[n / 2] == b[n / 2]) & (a[n - 1] == b[n - 1]);
  }
  if (n <= 32) {
    return (Load8(a) == Load8(b)) & (Load8(a + 8) == Load8(b + 8)) &
           (Load8(a + n - 16) == Load8(b + n - 16)) & (Load8(a + n - 8) == Load8(b + n - 8));
  }
  return std::memcmp(a, b, n) == 0;
}

[[gnu::always_inline]] inline uint64_t HashValue(const AttributeValue& v, uint64_t t,
                                                 uint64_t k) noexcept {
  t ^= static_cast<uint64_t>(v.type()) << 56;
  switch (v.type()) {
    case AttributeType::kBool:
      return Step(t, v.as_bool() ? 1 : 0, k);
    case AttributeType::kInt:
      return Step(t, static_cast<uint64_t>(v.as_int()), k);
    case AttributeType::kDouble:
      return Step(t, std::bit_cast<uint64_t>(v.as_double()), k);
    case AttributeType::kString: {
      auto s = v.as_string();
      return HashBytes(s.data(), s.size(), t, k);
    }
    case AttributeType::kBoolArray: {
      uint64_t h = t;
      for (bool b : v.as_bool_array()) h = Step(h, b ? 1 : 0, k);
      return h;
    }
    case AttributeType::kIntArray: {
      uint64_t h = t;
      for (int64_t x : v.as_int_array()) h = Step(h, static_cast<uint64_t>(x), k);
      return h;
    }
    case AttributeType::kDoubleArray: {
      uint64_t h = t;
      for (double x : v.as_double_array()) h = Step(h, std::bit_cast<uint64_t>(x), k);
      return h;
    }
    case AttributeType::kStringArray: {
      uint64_t h = t;
      for (auto s : v.as_string_array()) h = HashBytes(s.data(), s.size(), h, k);
      return h;
    }
    case AttributeType::kNone:
      break;
  }
  return t;
}

// The hash of one attribute: its key's hash seeds its value's. A set's hash
// is the sum of its attributes' (order-independent).
[[gnu::always_inline]] inline uint64_t AttrHash(const KeyValue& kv, uint64_t k) noexcept {
  return HashValue(kv.value, HashBytes(kv.key.data(), kv.key.size(), kM4 ^ k, k), k);
}

inline uint64_t SetHash(const KeyValue* kv, size_t n, uint64_t k) noexcept {
  uint64_t h = n;
  for (size_t i = 0; i < n; ++i) h += AttrHash(kv[i], k);
  return h;
}

uint64_t DrawHashSecret() noexcept {
  uint64_t r = 0;
  if (getrandom(&r, sizeof(r), GRND_NONBLOCK) == static_cast<ssize_t>(sizeof(r))) return r;
  // No entropy yet (early boot) or no getrandom: the clock, the process id
  // and an address (ASLR), mixed; still different per process.
  uint64_t x = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
               (static_cast<uint64_t>(getpid()) << 32) ^ reinterpret_cast<uintptr_t>(&r);
  return Fold(x ^ kM1, kM2 ^ r);
}

// The attribute `kv` equals the stored one `f` (key and value).
[[gnu::always_inline]] inline bool SameFlat(const KeyValue& kv, const FlatAttr& f,
                                            const OwnedKeyValue& o) noexcept {
  if (f.type != kv.value.type()) return false;
  switch (f.type) {
    case AttributeType::kString: {
      auto sv = kv.value.as_string();
      return sv.size() == f.str_len &&
             (sv.data() == f.str_ro || SameBytes(sv.data(), f.str, sv.size()));
    }
    case AttributeType::kInt:
      return static_cast<uint64_t>(kv.value.as_int()) == f.scalar;
    case AttributeType::kBool:
      return static_cast<uint64_t>(kv.value.as_bool()) == f.scalar;
    case AttributeType::kDouble:
      return std::bit_cast<uint64_t>(kv.value.as_double()) == f.scalar;
    default:
      return SameValue(kv.value, o.value);
  }
}

// A key or string value at the address the series' creator passed from
// read-only memory (FlatAttr::key_ro, str_ro) has the same bytes: no byte
// comparison. (A null address of length 0 is the empty string either way.)
[[gnu::always_inline]] inline bool SameKey(std::string_view k, const FlatAttr& f) noexcept {
  return k.size() == f.key_len && (k.data() == f.key_ro || SameBytes(k.data(), f.key, k.size()));
}

// The rest of SameSet's comparison in any order, from given position `j` (the
// positions before it matched in place): each given key must match a stored
// key with an equal value, and no two given keys the same stored one (stored
// keys are unique, and both sets have n attributes). The first 64 stored
// positions are tracked in a bitmask; a match at a later position is checked
// against the given keys before it instead (n > 64 only; no allocation).
[[gnu::noinline]] bool SameSetAnyOrder(const KeyValue* kv, size_t n, const Series& s,
                                       size_t j) noexcept {
  const FlatAttr* f = s.flat.data();
  uint64_t used = j >= 64 ? ~uint64_t{0} : (uint64_t{1} << j) - 1;
  for (; j < n; ++j) {
    size_t k = 0;
    while (k < n && !SameKey(kv[j].key, f[k])) ++k;
    if (k == n || !SameFlat(kv[j], f[k], s.attrs[k])) return false;
    if (k < 64) {
      if ((used >> k) & 1) return false;
      used |= uint64_t{1} << k;
    } else {
      for (size_t i = 0; i < j; ++i)
        if (kv[i].key == kv[j].key) return false;
    }
  }
  return true;
}

// The one comparison of a given attribute set with a stored series: equal
// sets (keys and values). The usual case, the same order as when the series
// was created, is one pass. With `any_order`, another order matches each
// given key to a distinct stored key (stored keys are unique, so a given set
// with a repeated key never matches a larger stored one); without it, a set
// in another order is not equal (the thread's last lookup then misses).
[[gnu::always_inline]] inline bool SameSet(const KeyValue* kv, size_t n, const Series& s,
                                           bool any_order) noexcept {
  if (s.flat.size() != n) return false;
  const FlatAttr* f = s.flat.data();
  size_t j = 0;
  for (; j < n; ++j) {
    if (!SameKey(kv[j].key, f[j])) break;
    if (!SameFlat(kv[j], f[j], s.attrs[j])) return false;
  }
  if (j == n) [[likely]]
    return true;
  if (!any_order) return false;
  return SameSetAnyOrder(kv, n, s, j);
}

inline void AddDouble(std::atomic<uint64_t>& a, double v) noexcept {
  uint64_t cur = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(cur, std::bit_cast<uint64_t>(std::bit_cast<double>(cur) + v),
                                  std::memory_order_relaxed)) {
  }
}
inline void MinDouble(std::atomic<uint64_t>& a, double v) noexcept {
  uint64_t cur = a.load(std::memory_order_relaxed);
  while (v < std::bit_cast<double>(cur) &&
         !a.compare_exchange_weak(cur, std::bit_cast<uint64_t>(v), std::memory_order_relaxed)) {
  }
}
inline void MaxDouble(std::atomic<uint64_t>& a, double v) noexcept {
  uint64_t cur = a.load(std::memory_order_relaxed);
  while (v > std::bit_cast<double>(cur) &&
         !a.compare_exchange_weak(cur, std::bit_cast<uint64_t>(v), std::memory_order_relaxed)) {
  }
}

constexpr uint64_t kPosInf = std::bit_cast<uint64_t>(std::numeric_limits<double>::infinity());
constexpr uint64_t kNegInf = std::bit_cast<uint64_t>(-std::numeric_limits<double>::infinity());

}  // namespace

uint64_t HashSecret() noexcept {
  static const uint64_t secret = DrawHashSecret();
  return secret;
}

namespace {
// The read-only loaded segments (PT_LOAD without PF_W: code, .rodata) of the
// main program and of the object holding this code, found once. Relocated
// read-only data (RELRO) is writable at load time and not included.
struct ReadOnlyRanges {
  static constexpr size_t kMax = 16;
  uintptr_t lo[kMax] = {};
  uintptr_t hi[kMax] = {};
  size_t n = 0;
};

int AddReadOnlySegments(dl_phdr_info* info, size_t, void* data) noexcept {
  auto* out = static_cast<std::pair<ReadOnlyRanges*, int>*>(data);
  const bool main_program = out->second++ == 0;  // glibc lists the program first
  const auto self = reinterpret_cast<uintptr_t>(&AddReadOnlySegments);
  bool holds_self = false;
  for (size_t i = 0; i < info->dlpi_phnum; ++i) {
    const auto& ph = info->dlpi_phdr[i];
    uintptr_t lo = info->dlpi_addr + ph.p_vaddr;
    if (ph.p_type == PT_LOAD && self >= lo && self - lo < ph.p_memsz) holds_self = true;
  }
  if (!main_program && !holds_self) return 0;
  ReadOnlyRanges& r = *out->first;
  for (size_t i = 0; i < info->dlpi_phnum && r.n < ReadOnlyRanges::kMax; ++i) {
    const auto& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD || (ph.p_flags & PF_W) != 0) continue;
    r.lo[r.n] = info->dlpi_addr + ph.p_vaddr;
    r.hi[r.n] = r.lo[r.n] + ph.p_memsz;
    ++r.n;
  }
  return 0;
}

const ReadOnlyRanges& ReadOnlyImage() noexcept {
  static const ReadOnlyRanges ranges = [] {
    ReadOnlyRanges r;
    std::pair<ReadOnlyRanges*, int> ctx{&r, 0};
    dl_iterate_phdr(&AddReadOnlySegments, &ctx);
    return r;
  }();
  return ranges;
}
}  // namespace

bool InReadOnlyImage(const char* p, size_t n) noexcept {
  if (p == nullptr) return false;
  const ReadOnlyRanges& r = ReadOnlyImage();
  const auto a = reinterpret_cast<uintptr_t>(p);
  for (size_t i = 0; i < r.n; ++i)
    if (a >= r.lo[i] && a < r.hi[i] && n <= r.hi[i] - a) return true;
  return false;
}

uint64_t HashAttribute(const KeyValue& kv) noexcept { return AttrHash(kv, HashSecret()); }

bool SameAttributeSet(Attributes given, const Series& s) noexcept {
  return SameSet(given.data(), given.size(), s, true);
}

bool SameValue(const AttributeValue& a, const OwnedValue& b) noexcept {
  if (a.type() != b.type) return false;
  switch (a.type()) {
    case AttributeType::kBool:
      return a.as_bool() == b.b;
    case AttributeType::kInt:
      return a.as_int() == b.i;
    case AttributeType::kDouble:
      return std::bit_cast<uint64_t>(a.as_double()) == std::bit_cast<uint64_t>(b.d);
    case AttributeType::kString:
      return a.as_string() == std::string_view(b.s);
    case AttributeType::kBoolArray: {
      auto x = a.as_bool_array();
      if (x.size() != b.bools.size()) return false;
      for (size_t i = 0; i < x.size(); ++i)
        if (x[i] != b.bools[i]) return false;
      return true;
    }
    case AttributeType::kIntArray: {
      auto x = a.as_int_array();
      return std::equal(x.begin(), x.end(), b.ints.begin(), b.ints.end());
    }
    case AttributeType::kDoubleArray: {
      auto x = a.as_double_array();
      if (x.size() != b.doubles.size()) return false;
      for (size_t i = 0; i < x.size(); ++i)
        if (std::bit_cast<uint64_t>(x[i]) != std::bit_cast<uint64_t>(b.doubles[i])) return false;
      return true;
    }
    case AttributeType::kStringArray: {
      auto x = a.as_string_array();
      if (x.size() != b.strings.size()) return false;
      for (size_t i = 0; i < x.size(); ++i)
        if (x[i] != std::string_view(b.strings[i])) return false;
      return true;
    }
    case AttributeType::kNone:
      return true;
  }
  return false;
}

namespace {
// The calling thread's last lookup per stream (direct-mapped by stream id):
// a thread that records the same attribute set again (a loop, a hot route,
// the instruments of one request) compares it with that series and skips
// the hash and the table. An entry is valid while the stream's retire epoch
// is the one read before the lookup that filled it: a forgotten series
// bumps the epoch before it can be freed (after its grace period).
struct LastLookup {
  uint64_t stream = 0;
  uint64_t epoch = 0;
  Series* series = nullptr;
  // A thread whose sets keep changing (consecutive requests of different
  // routes) stops comparing for a while: after kMissesBeforeSkip misses in a
  // row, the next kSkipped lookups go straight to the table.
  uint32_t misses = 0;
  uint32_t skip = 0;
};
constexpr uint32_t kMissesBeforeSkip = 4;
constexpr uint32_t kSkipped = 16;
constexpr size_t kLastLookups = 8;
constinit thread_local LastLookup t_last_lookup[kLastLookups];
std::atomic<uint64_t> g_next_stream_id{1};
}  // namespace

Series::~Series() {
  ::operator delete[](words, std::align_val_t{64});
  delete[] slots;
}

Stream::Stream(StreamConfig cfg)
    : cfg_(std::move(cfg)),
      id_(g_next_stream_id.fetch_add(1, std::memory_order_relaxed)),
      secret_(HashSecret()) {
  uint32_t stripes = StripeCount();
  switch (cfg_.aggregation) {
    case Aggregation::kSum:
      words_ = 1;
      break;
    case Aggregation::kLastValue:
      words_ = 2;
      stripes = 1;
      break;
    case Aggregation::kExplicitHistogram:
      words_ = static_cast<uint32_t>(cfg_.boundaries.size()) + 4;
      break;
    case Aggregation::kExponentialHistogram:
      words_ = static_cast<uint32_t>(exph::Words(cfg_.exp_max_size));
      stripes = std::min<uint32_t>(stripes, 4);
      break;
    case Aggregation::kDrop:
      words_ = 1;
      stripes = 1;
      break;
  }
  stride_ = (words_ + 7) / 8 * 8;
  mask_ = stripes - 1;
  size_t cap = std::bit_ceil(std::max<size_t>(16, 2 * (cfg_.cardinality_limit + 1)));
  table_mask_ = cap - 1;
  table_owner_.reset(new std::atomic<Series*>[cap]);
  for (size_t i = 0; i < cap; ++i) table_owner_[i].store(nullptr, std::memory_order_relaxed);
  table_.store(table_owner_.get(), std::memory_order_release);
  overflow_ = NewSeries(0, true);
  overflow_->attrs.push_back(
      OwnedKeyValue{"otel.metric.overflow", OwnedValue(AttributeValue(true))});
}

Stream::~Stream() {
  Series* s = head_.load(std::memory_order_acquire);
  while (s != nullptr) {
    Series* n = s->next;
    delete s;
    s = n;
  }
  for (auto& r : retired_) delete r.series;
  delete overflow_;
}

namespace {
// Marks a forgotten series' slot in the table: lookups probe past it,
// inserts may reuse it.
Series g_tombstone;
}  // namespace

Series* Stream::NewSeries(uint64_t hash, bool overflow) {
  auto s = std::make_unique<Series>();
  s->hash = hash;
  s->overflow = overflow;
  s->created = Now();
  size_t n = static_cast<size_t>(mask_ + 1) * stride_;
  void* mem = ::operator new[](n * sizeof(std::atomic<uint64_t>), std::align_val_t{64});
  auto* w = static_cast<std::atomic<uint64_t>*>(mem);
  for (size_t i = 0; i < n; ++i) new (&w[i]) std::atomic<uint64_t>(0);
  s->words = w;
  if (cfg_.aggregation == Aggregation::kExplicitHistogram) {
    size_t nb = cfg_.boundaries.size();
    for (uint32_t st = 0; st <= mask_; ++st) {
      w[st * stride_ + nb + 2].store(kPosInf, std::memory_order_relaxed);
      w[st * stride_ + nb + 3].store(kNegInf, std::memory_order_relaxed);
    }
  }
  if (cfg_.aggregation == Aggregation::kExponentialHistogram) {
    for (uint32_t st = 0; st <= mask_; ++st)
      exph::Init(exph::AtomicWords{w + st * stride_}, cfg_.exp_max_scale, cfg_.exp_max_size);
  }
  if (offers_exemplars()) {
    s->n_slots =
        cfg_.aggregation == Aggregation::kExplicitHistogram ? cfg_.boundaries.size() + 1 : 1;
    s->slots = new ExemplarSlot[s->n_slots];
  }
  return s.release();
}

Series* Stream::Find(const KeyValue* kv, size_t n, uint64_t hash) const noexcept {
  size_t i = hash & table_mask_;
  std::atomic<Series*>* table = table_.load(std::memory_order_acquire);
  for (;;) {
    Series* s = table[i].load(std::memory_order_acquire);
    if (s == nullptr) return nullptr;
    if (s->hash == hash && s != &g_tombstone && SameSet(kv, n, *s, true)) return s;
    i = (i + 1) & table_mask_;
  }
}

bool StreamConfig::Keeps(std::string_view key) const noexcept {
  if (has_allow && std::find(allow.begin(), allow.end(), key) == allow.end()) return false;
  return std::find(exclude.begin(), exclude.end(), key) == exclude.end();
}

Series* Stream::ResolveFiltered(Attributes attrs) noexcept {
  constexpr size_t kStack = 16;
  KeyValue stack[kStack];
  std::vector<KeyValue> heap;
  size_t n = 0;
  if (attrs.size() > kStack) {
    try {
      heap.reserve(attrs.size());
    } catch (...) {
      overflow_->touched.store(true, std::memory_order_relaxed);
      return overflow_;
    }
  }
  for (const KeyValue& a : attrs) {
    if (!cfg_.Keeps(a.key)) continue;
    if (attrs.size() > kStack) {
      heap.push_back(a);
    } else {
      stack[n] = a;
    }
    ++n;
  }
  const KeyValue* kv = attrs.size() > kStack ? heap.data() : stack;
  uint64_t h = SetHash(kv, n, secret_);
  Series* s = Find(kv, n, h);
  return s != nullptr ? s : Insert(Attributes(kv, n), h);
}

[[gnu::always_inline]] inline Series* Stream::ResolveInline(Attributes attrs) noexcept {
  if (cfg_.filter_attrs) [[unlikely]]
    return ResolveFiltered(attrs);
  const KeyValue* kv = attrs.data();
  const size_t n = attrs.size();
  LastLookup& last = t_last_lookup[id_ & (kLastLookups - 1)];
  const uint64_t epoch = retire_epoch_.load(std::memory_order_acquire);
  if (last.stream == id_ && last.epoch == epoch) [[likely]] {
    if (last.skip != 0) {
      --last.skip;
    } else if (SameSet(kv, n, *last.series, false)) [[likely]] {
      last.misses = 0;
      return last.series;
    } else if (++last.misses >= kMissesBeforeSkip) {
      last.misses = 0;
      last.skip = kSkipped;
    }
  }
  return ResolveSlow(attrs, epoch);
}

Series* Stream::ResolveSlow(Attributes attrs, uint64_t epoch) noexcept {
  const KeyValue* kv = attrs.data();
  const size_t n = attrs.size();
  LastLookup& last = t_last_lookup[id_ & (kLastLookups - 1)];
  uint64_t h = SetHash(kv, n, secret_);
  Series* s = Find(kv, n, h);
  if (s == nullptr) s = Insert(attrs, h);
  // The overflow series stands for any set: never a hit.
  if (!s->overflow) {
    if (last.stream != id_) last = LastLookup{};  // another stream's entry: start afresh
    last.stream = id_;
    last.epoch = epoch;
    last.series = s;
  }
  return s;
}

Series* Stream::Resolve(Attributes attrs) noexcept { return ResolveInline(attrs); }

namespace {
// Whether `attrs` has an empty value or a repeated key: a set that Insert
// stores without them (so the lookup, which compares the set as given, does
// not find its series). Without allocation; quadratic in the set's size,
// which is small (a longer set is assumed to have one).
bool NeedsNormalizing(Attributes attrs) noexcept {
  const size_t n = attrs.size();
  if (n > 64) return true;
  for (size_t i = 0; i < n; ++i) {
    if (attrs[i].value.type() == AttributeType::kNone) return true;
    for (size_t j = 0; j < i; ++j)
      if (attrs[j].key == attrs[i].key) return true;
  }
  return false;
}
}  // namespace

Series* Stream::Insert(Attributes attrs, uint64_t hash) noexcept {
  // At the limit, a set the lookup did not find goes to the overflow series
  // without the lock or an allocation (what an attribute flood hits). A set
  // admitted by another thread between that lookup and this load may see
  // this one measurement counted in the overflow series: still counted once.
  // A set with a repeated key or an empty value is first looked up in its
  // stored form (below): it may be an admitted set, given another way.
  auto overflow_at_limit = [this]() noexcept {
    if (!overflow_->touched.load(std::memory_order_relaxed))
      overflow_->touched.store(true, std::memory_order_relaxed);
    if (!warned_overflow_.load(std::memory_order_relaxed))
      LogOnce(
          warned_overflow_, LogLevel::kWarning,
          "otelweb metrics: instrument '" + cfg_.name + "' reached its cardinality limit of " +
              std::to_string(cfg_.cardinality_limit) +
              " attribute sets; further sets are counted in the series otel.metric.overflow=true. "
              "Remove high-cardinality attributes (a view's attribute_keys) or raise the limit.");
    return overflow_;
  };
  const bool at_limit = admitted_.load(std::memory_order_acquire) >= cfg_.cardinality_limit;
  if (at_limit && !NeedsNormalizing(attrs)) return overflow_at_limit();
  try {
    // De-duplicate keys (the last value wins) and drop empty values.
    std::vector<KeyValue> kv;
    kv.reserve(attrs.size());
    for (const KeyValue& a : attrs) {
      if (a.value.type() == AttributeType::kNone) continue;
      auto it =
          std::find_if(kv.begin(), kv.end(), [&](const KeyValue& x) { return x.key == a.key; });
      if (it != kv.end()) {
        it->value = a.value;
      } else {
        kv.push_back(a);
      }
    }
    if (kv.size() != attrs.size()) hash = SetHash(kv.data(), kv.size(), secret_);
    if (at_limit) {
      // The lookup of the stored form, as ResolveSlow's (no lock); not
      // found: the overflow series.
      if (Series* s = Find(kv.data(), kv.size(), hash)) return s;
      return overflow_at_limit();
    }
    std::lock_guard<std::mutex> lock(insert_mu_);
    if (Series* s = Find(kv.data(), kv.size(), hash)) return s;
    if (admitted_.load(std::memory_order_relaxed) >= cfg_.cardinality_limit) {
      if (!warned_overflow_.load(std::memory_order_relaxed))
        LogOnce(
            warned_overflow_, LogLevel::kWarning,
            "otelweb metrics: instrument '" + cfg_.name + "' reached its cardinality limit of " +
                std::to_string(cfg_.cardinality_limit) +
                " attribute sets; further sets are counted in the series "
                "otel.metric.overflow=true. "
                "Remove high-cardinality attributes (a view's attribute_keys) or raise the limit.");
      overflow_->touched.store(true, std::memory_order_relaxed);
      return overflow_;
    }
    Series* s = NewSeries(hash, false);
    s->attrs.reserve(kv.size());
    for (const KeyValue& a : kv)
      s->attrs.push_back(OwnedKeyValue{std::string(a.key), OwnedValue(a.value)});
    s->flat.reserve(s->attrs.size());
    for (size_t i = 0; i < s->attrs.size(); ++i) {
      const OwnedKeyValue& o = s->attrs[i];
      FlatAttr f;
      if (InReadOnlyImage(kv[i].key.data(), kv[i].key.size())) f.key_ro = kv[i].key.data();
      if (o.value.type == AttributeType::kString) {
        std::string_view v = kv[i].value.as_string();
        if (InReadOnlyImage(v.data(), v.size())) f.str_ro = v.data();
      }
      f.key = o.key.data();
      f.key_len = static_cast<uint32_t>(o.key.size());
      f.type = o.value.type;
      f.str = o.value.s.data();
      f.str_len = static_cast<uint32_t>(o.value.s.size());
      f.scalar = o.value.type == AttributeType::kDouble ? std::bit_cast<uint64_t>(o.value.d)
                 : o.value.type == AttributeType::kBool ? static_cast<uint64_t>(o.value.b)
                                                        : static_cast<uint64_t>(o.value.i);
      s->flat.push_back(f);
    }
    s->next = head_.load(std::memory_order_relaxed);
    head_.store(s, std::memory_order_release);
    PlaceLocked(s);
    admitted_.fetch_add(1, std::memory_order_release);
    return s;
  } catch (...) {
    overflow_->touched.store(true, std::memory_order_relaxed);
    return overflow_;
  }
}

size_t Stream::IdleWords() const noexcept {
  switch (cfg_.aggregation) {
    case Aggregation::kExplicitHistogram:
      return cfg_.boundaries.size() + 2;
    case Aggregation::kExponentialHistogram:
      return exph::kCount + 1;
    default:
      return 1;
  }
}

void Stream::PlaceLocked(Series* s) {
  if ((used_slots_ + 1) * 4 > (table_mask_ + 1) * 3) RebuildTableLocked();
  std::atomic<Series*>* table = table_.load(std::memory_order_relaxed);
  size_t i = s->hash & table_mask_;
  for (;;) {
    Series* x = table[i].load(std::memory_order_relaxed);
    if (x == nullptr) {
      ++used_slots_;
      break;
    }
    if (x == &g_tombstone) break;
    i = (i + 1) & table_mask_;
  }
  table[i].store(s, std::memory_order_release);
}

void Stream::RebuildTableLocked() {
  // A fresh table with the linked series only (no tombstones); lookups still
  // probing the old one finish there (it is freed after a grace period).
  size_t cap = table_mask_ + 1;
  std::unique_ptr<std::atomic<Series*>[]> t(new std::atomic<Series*>[cap]);
  for (size_t i = 0; i < cap; ++i) t[i].store(nullptr, std::memory_order_relaxed);
  size_t used = 0;
  for (Series* s = head_.load(std::memory_order_relaxed); s != nullptr; s = s->next) {
    size_t i = s->hash & table_mask_;
    while (t[i].load(std::memory_order_relaxed) != nullptr) i = (i + 1) & table_mask_;
    t[i].store(s, std::memory_order_relaxed);
    ++used;
  }
  table_.store(t.get(), std::memory_order_release);
  old_tables_.emplace_back(std::move(table_owner_), std::chrono::steady_clock::now());
  table_owner_ = std::move(t);
  used_slots_ = used;
}

Series* Stream::ResolvePinned(Attributes attrs) noexcept {
  for (int attempt = 0; attempt < 4; ++attempt) {
    Series* s = Resolve(attrs);
    if (s->overflow) return s;
    std::lock_guard<std::mutex> lock(insert_mu_);
    if (!s->retired) {
      s->pinned.store(true, std::memory_order_relaxed);
      return s;
    }
  }
  overflow_->touched.store(true, std::memory_order_relaxed);
  return overflow_;
}

void Stream::Retire(Series* s, std::vector<uint64_t> snapshot) {
  std::atomic<Series*>* table = table_.load(std::memory_order_relaxed);
  size_t i = s->hash & table_mask_;
  while (table[i].load(std::memory_order_relaxed) != s) i = (i + 1) & table_mask_;
  table[i].store(&g_tombstone, std::memory_order_release);
  // Invalidates the threads' last lookups (which may name `s`) before `s`
  // can be freed.
  retire_epoch_.fetch_add(1, std::memory_order_acq_rel);
  s->retired = true;
  retired_.push_back(RetiredSeries{s, std::move(snapshot), std::chrono::steady_clock::now()});
  admitted_.fetch_sub(1, std::memory_order_release);
}

void Stream::Reclaim(bool all) {
  auto now = std::chrono::steady_clock::now();
  constexpr auto kGrace = std::chrono::seconds(1);
  std::vector<uint64_t> tot(words_);
  const size_t nb = cfg_.boundaries.size();
  const bool is_int = cfg_.value_type == InstrumentValueType::kInt64;
  size_t kept = 0;
  for (size_t r = 0; r < retired_.size(); ++r) {
    RetiredSeries& rs = retired_[r];
    if (!all && now - rs.at < kGrace) {
      if (kept != r) retired_[kept] = std::move(rs);
      ++kept;
      continue;
    }
    // A recording that found the series just before it was forgotten: move
    // it to the live series of the same attributes.
    Totals(rs.series, &tot);
    bool late = false;
    const size_t n = IdleWords();
    for (size_t k = 0; k < n; ++k) late |= tot[k] != rs.snapshot[k];
    if (late) {
      std::vector<KeyValue> kv;
      bool scalar = true;
      for (const OwnedKeyValue& o : rs.series->attrs) {
        switch (o.value.type) {
          case AttributeType::kString:
            kv.push_back({o.key, AttributeValue(std::string_view(o.value.s))});
            break;
          case AttributeType::kInt:
            kv.push_back({o.key, AttributeValue(o.value.i)});
            break;
          case AttributeType::kDouble:
            kv.push_back({o.key, AttributeValue(o.value.d)});
            break;
          case AttributeType::kBool:
            kv.push_back({o.key, AttributeValue(o.value.b)});
            break;
          default:
            scalar = false;
        }
      }
      Series* live = scalar ? Resolve(Attributes(kv.data(), kv.size())) : overflow_;
      if (live->overflow) live->touched.store(true, std::memory_order_relaxed);
      std::atomic<uint64_t>* w = live->words;
      if (cfg_.aggregation == Aggregation::kExponentialHistogram) {
        // What came after the snapshot, merged into the live series' first
        // stripe under its lock (min and max: the forgotten series' own, as
        // for the explicit histogram).
        const size_t m = cfg_.exp_max_size;
        exph::Subtract(tot.data(), rs.snapshot.data(), m);
        uint64_t copy[exph::kHeader + 2 * exph::kMaxMaxSize];
        copy[exph::kLock] = 0;
        LockStripe(w);
        for (size_t i = 1; i < words_; ++i) copy[i] = w[i].load(std::memory_order_relaxed);
        exph::Merge(copy, tot.data(), m);
        for (size_t i = 1; i < words_; ++i) w[i].store(copy[i], std::memory_order_relaxed);
        w[exph::kLock].store(0, std::memory_order_release);
      } else if (cfg_.aggregation == Aggregation::kExplicitHistogram) {
        for (size_t b = 0; b <= nb; ++b)
          w[b].fetch_add(tot[b] - rs.snapshot[b], std::memory_order_relaxed);
        AddDouble(w[nb + 1],
                  std::bit_cast<double>(tot[nb + 1]) - std::bit_cast<double>(rs.snapshot[nb + 1]));
        MinDouble(w[nb + 2], std::bit_cast<double>(tot[nb + 2]));
        MaxDouble(w[nb + 3], std::bit_cast<double>(tot[nb + 3]));
      } else if (is_int) {
        w[0].fetch_add(tot[0] - rs.snapshot[0], std::memory_order_relaxed);
      } else {
        AddDouble(w[0], std::bit_cast<double>(tot[0]) - std::bit_cast<double>(rs.snapshot[0]));
      }
    }
    delete rs.series;
  }
  retired_.resize(kept);
  std::lock_guard<std::mutex> lock(insert_mu_);
  std::erase_if(old_tables_, [&](const auto& t) { return all || now - t.second >= kGrace; });
}

void Stream::ForgetIdle(size_t slot, size_t readers, const std::vector<Series*>& idle,
                        size_t compared) {
  // Every registered reader must have collected this stream and reported
  // everything recorded into the series (its memory equals this reader's).
  size_t states = 0;
  for (const auto& r : readers_) states += r != nullptr;
  if (states != readers) return;
  std::vector<Series*> gone;
  {
    std::lock_guard<std::mutex> lock(insert_mu_);
    for (Series* s : idle) {
      if (s->pinned.load(std::memory_order_relaxed)) continue;
      const std::vector<uint64_t>& mine = readers_[slot]->seen.at(s).totals;
      bool all = true;
      for (size_t k = 0; k < readers_.size() && all; ++k) {
        if (k == slot) continue;
        auto it = readers_[k]->seen.find(s);
        all = it != readers_[k]->seen.end() &&
              std::equal(mine.begin(), mine.begin() + static_cast<ptrdiff_t>(compared),
                         it->second.totals.begin());
      }
      if (!all) continue;
      Retire(s, mine);
      gone.push_back(s);
    }
    if (gone.empty()) return;
    // Unlink the forgotten series from the list (collectors, the only
    // readers of `next`, are excluded by collect_mu_, held by the caller).
    Series* head = nullptr;
    Series** tail = &head;
    for (Series* s = head_.load(std::memory_order_relaxed); s != nullptr; s = s->next) {
      if (s->retired) continue;
      *tail = s;
      tail = &s->next;
    }
    *tail = nullptr;
    head_.store(head, std::memory_order_release);
  }
  for (auto& r : readers_)
    if (r)
      for (Series* s : gone) r->seen.erase(s);
}

void Stream::Totals(const Series* s, std::vector<uint64_t>* out) const noexcept {
  std::vector<uint64_t>& tot = *out;
  const size_t nb = cfg_.boundaries.size();
  const bool is_int = cfg_.value_type == InstrumentValueType::kInt64;
  std::fill(tot.begin(), tot.end(), 0);
  if (cfg_.aggregation == Aggregation::kExponentialHistogram) {
    // Each stripe is copied under its lock, then the copies are merged.
    const size_t m = cfg_.exp_max_size;
    exph::PlainWords acc{tot.data()};
    exph::Init(acc, cfg_.exp_max_scale, m);
    uint64_t copy[exph::kHeader + 2 * exph::kMaxMaxSize];
    for (uint32_t k = 0; k <= mask_; ++k) {
      std::atomic<uint64_t>* w = s->words + k * stride_;
      LockStripe(w);
      for (size_t i = 1; i < words_; ++i) copy[i] = w[i].load(std::memory_order_relaxed);
      w[exph::kLock].store(0, std::memory_order_release);
      exph::Merge(tot.data(), copy, m);
    }
    return;
  }
  if (cfg_.aggregation == Aggregation::kExplicitHistogram) {
    double sum = 0, mn = std::numeric_limits<double>::infinity(), mx = -mn;
    for (uint32_t k = 0; k <= mask_; ++k) {
      const std::atomic<uint64_t>* w = s->words + k * stride_;
      // A stripe whose min is still +inf was never recorded into (or its
      // first recording is under way: it has not stored its min yet, so
      // this collection leaves that recording to the next one, as for any
      // recording split across two collections; once stored, the min stays
      // finite). Skipping it spares most reads of a series that few threads
      // record into (in a one-thread process, all stripes but one).
      if (w[nb + 2].load(std::memory_order_relaxed) == kPosInf) continue;
      // The buckets, then an acquire fence, then the sum, min and max (a
      // recording adds its bucket last, with release): every counted value's
      // sum, min and max are read too, so the sum is never behind the count.
      // It can be ahead by the values recorded into the stripe while it is
      // read (sum added, bucket not yet, or after the bucket was read); their
      // buckets are counted by the next collection (Collect). One fence
      // rather than acquire loads: the loop keeps its registers.
      for (size_t b = 0; b <= nb; ++b) tot[b] += w[b].load(std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_acquire);
      sum += std::bit_cast<double>(w[nb + 1].load(std::memory_order_relaxed));
      mn = std::min(mn, std::bit_cast<double>(w[nb + 2].load(std::memory_order_relaxed)));
      mx = std::max(mx, std::bit_cast<double>(w[nb + 3].load(std::memory_order_relaxed)));
    }
    tot[nb + 1] = std::bit_cast<uint64_t>(sum);
    tot[nb + 2] = std::bit_cast<uint64_t>(mn);
    tot[nb + 3] = std::bit_cast<uint64_t>(mx);
  } else if (cfg_.aggregation == Aggregation::kLastValue) {
    tot[1] = s->words[1].load(std::memory_order_acquire);
    tot[0] = s->words[0].load(std::memory_order_relaxed);
  } else if (is_int) {
    for (uint32_t k = 0; k <= mask_; ++k)
      tot[0] += s->words[k * stride_].load(std::memory_order_relaxed);
  } else {
    double sum = 0;
    for (uint32_t k = 0; k <= mask_; ++k)
      sum += std::bit_cast<double>(s->words[k * stride_].load(std::memory_order_relaxed));
    tot[0] = std::bit_cast<uint64_t>(sum);
  }
}

void Stream::LockStripe(std::atomic<uint64_t>* w) noexcept {
  uint64_t expected = 0;
  while (!w[exph::kLock].compare_exchange_weak(expected, 1, std::memory_order_acquire,
                                                std::memory_order_relaxed)) {
    expected = 0;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
}

void Stream::AddExponential(Series* s, double v) noexcept {
  std::atomic<uint64_t>* w = s->words + (detail::ThreadStripe() & mask_) * stride_;
  LockStripe(w);
  exph::Record(exph::AtomicWords{w}, v, cfg_.exp_max_size);
  w[exph::kLock].store(0, std::memory_order_release);
}

size_t Stream::BucketOf(double v) const noexcept {
  const auto& b = cfg_.boundaries;
  return static_cast<size_t>(std::lower_bound(b.begin(), b.end(), v) - b.begin());
}

void Stream::AddHistogram(std::atomic<uint64_t>* w, double v, size_t bucket) noexcept {
  size_t nb = cfg_.boundaries.size();
  std::atomic<uint64_t>* count = w + bucket;
  // Sum, min and max first, the bucket last with release: a collector that
  // reads the bucket (acquire) sees the value's sum, min and max too (Totals).
  // On x86 a release RMW is the same instruction as a relaxed one.
  AddDouble(w[nb + 1], v);
  MinDouble(w[nb + 2], v);
  MaxDouble(w[nb + 3], v);
  count->fetch_add(1, std::memory_order_release);
}

void Stream::Offer(Series* s, size_t slot, uint64_t bits) noexcept {
  const SpanContext& sc = otelweb::internal::CurrentContextRef().span_context();
  if (cfg_.exemplar_filter == ExemplarFilter::kTraceBased && !sc.sampled()) return;
  ExemplarSlot& e = s->slots[slot < s->n_slots ? slot : 0];
  uint32_t q = e.seq.load(std::memory_order_relaxed);
  if ((q & 1) != 0 || !e.seq.compare_exchange_strong(q, q + 1, std::memory_order_acquire)) return;
  uint64_t hi, lo, sp;
  std::memcpy(&hi, sc.trace_id().bytes().data(), 8);
  std::memcpy(&lo, sc.trace_id().bytes().data() + 8, 8);
  std::memcpy(&sp, sc.span_id().bytes().data(), 8);
  e.value.store(bits, std::memory_order_relaxed);
  e.time_ns.store(Now().time_since_epoch().count(), std::memory_order_relaxed);
  e.trace_hi.store(hi, std::memory_order_relaxed);
  e.trace_lo.store(lo, std::memory_order_relaxed);
  e.span.store(sp, std::memory_order_relaxed);
  e.seq.store(q + 2, std::memory_order_release);
}

[[gnu::always_inline]] inline void Stream::RecordIntInline(Series* s, int64_t v) noexcept {
  switch (cfg_.aggregation) {
    case Aggregation::kSum: {
      if (cfg_.monotonic && v < 0) [[unlikely]] {
        WarnNegative();
        return;
      }
      std::atomic<uint64_t>* w = s->words + (detail::ThreadStripe() & mask_) * stride_;
      w->fetch_add(static_cast<uint64_t>(v), std::memory_order_relaxed);
      if (WantsExemplar(s)) Offer(s, 0, static_cast<uint64_t>(v));
      break;
    }
    case Aggregation::kLastValue:
      s->words[0].store(static_cast<uint64_t>(v), std::memory_order_relaxed);
      s->words[1].fetch_add(1, std::memory_order_release);
      if (WantsExemplar(s)) Offer(s, 0, static_cast<uint64_t>(v));
      break;
    case Aggregation::kExplicitHistogram: {
      double d = static_cast<double>(v);
      size_t b = BucketOf(d);
      AddHistogram(s->words + (detail::ThreadStripe() & mask_) * stride_, d, b);
      if (WantsExemplar(s)) Offer(s, b, static_cast<uint64_t>(v));
      break;
    }
    case Aggregation::kExponentialHistogram:
      AddExponential(s, static_cast<double>(v));
      if (WantsExemplar(s)) Offer(s, 0, static_cast<uint64_t>(v));
      break;
    case Aggregation::kDrop:
      break;
  }
}

namespace {
// One warning per instrument and kind: "otelweb metrics: <kind> '<name>' <what>".
void WarnOnceAbout(std::atomic<bool>& flag, const std::string& name, const char* kind,
                   const char* what) noexcept {
  if (!flag.load(std::memory_order_relaxed))
    LogOnce(flag, LogLevel::kWarning,
            std::string("otelweb metrics: ") + kind + " '" + name + "' " + what);
}
}  // namespace

void Stream::WarnNegative() noexcept {
  WarnOnceAbout(warned_negative_, cfg_.name, "counter",
                "was given a negative value, which was discarded; use an UpDownCounter for values "
                "that go down.");
}

void Stream::WarnDiscarded() noexcept {
  WarnOnceAbout(warned_nan_, cfg_.name, "instrument",
                "was given a value that is not finite (or negative for a counter); it was "
                "discarded. Check the value's computation.");
}

[[gnu::always_inline]] inline void Stream::RecordDoubleInline(Series* s, double v) noexcept {
  if (!std::isfinite(v) || (cfg_.monotonic && v < 0)) [[unlikely]] {
    WarnDiscarded();
    return;
  }
  uint64_t bits = std::bit_cast<uint64_t>(v);
  switch (cfg_.aggregation) {
    case Aggregation::kSum:
      AddDouble(s->words[(detail::ThreadStripe() & mask_) * stride_], v);
      if (WantsExemplar(s)) Offer(s, 0, bits);
      break;
    case Aggregation::kLastValue:
      s->words[0].store(bits, std::memory_order_relaxed);
      s->words[1].fetch_add(1, std::memory_order_release);
      if (WantsExemplar(s)) Offer(s, 0, bits);
      break;
    case Aggregation::kExplicitHistogram: {
      size_t b = BucketOf(v);
      AddHistogram(s->words + (detail::ThreadStripe() & mask_) * stride_, v, b);
      if (WantsExemplar(s)) Offer(s, b, bits);
      break;
    }
    case Aggregation::kExponentialHistogram:
      AddExponential(s, v);
      if (WantsExemplar(s)) Offer(s, 0, bits);
      break;
    case Aggregation::kDrop:
      break;
  }
}

void Stream::RecordInt(Series* s, int64_t v) noexcept { RecordIntInline(s, v); }
void Stream::RecordDouble(Series* s, double v) noexcept { RecordDoubleInline(s, v); }

ReaderStreamState& Stream::ReaderState(size_t slot) {
  if (readers_.size() <= slot) readers_.resize(slot + 1);
  if (!readers_[slot]) readers_[slot] = std::make_unique<ReaderStreamState>();
  return *readers_[slot];
}

void Stream::Describe(AggregationTemporality temporality, MetricData* out) const {
  out->name = cfg_.name;
  out->description = cfg_.description;
  out->unit = cfg_.unit;
  out->instrument_kind = cfg_.kind;
  out->monotonic = cfg_.monotonic;
  out->temporality = temporality;
  out->point_kind =
      cfg_.aggregation == Aggregation::kExplicitHistogram      ? MetricPointKind::kHistogram
      : cfg_.aggregation == Aggregation::kExponentialHistogram ? MetricPointKind::kExponentialHistogram
      : cfg_.aggregation == Aggregation::kLastValue            ? MetricPointKind::kGauge
                                                               : MetricPointKind::kSum;
}

namespace {
// The collection writes its points into the storage of the previous
// collection's (the caller passes the same MetricData again: the periodic
// reader does): point n of this collection reuses point n of the previous
// one, so its vectors and strings keep their capacity and nothing is
// allocated when the shape is unchanged. Every field of a reused point is
// written (or reset) by the code that fills it.
template <typename P>
P& PointSlot(std::vector<P>& points, size_t n) {
  if (n < points.size()) return points[n];
  return points.emplace_back();
}

// Drops the points after the first `n` (the previous collection had more);
// the vector's own capacity is given back when most of it is unused, so a
// collection after a burst of series does not keep the burst's size.
template <typename P>
void KeepPoints(std::vector<P>& points, size_t n) {
  points.erase(points.begin() + static_cast<ptrdiff_t>(n), points.end());
  if (points.capacity() > 64 && n * 4 < points.capacity()) points.shrink_to_fit();
}

// A string copied into a reused one: its buffer is kept when the length is
// the same (and nothing is written when the bytes are too: the usual case,
// the same series at the same position as in the previous collection).
[[gnu::always_inline]] inline void AssignString(std::string& d, const std::string& s) {
  if (d.size() != s.size() || !SameBytes(d.data(), s.data(), s.size())) d = s;
}

// A series' attributes copied into a point: element by element, so that a
// reused point keeps its key and string-value buffers (no allocation when it
// held attributes of the same shape), and without the general copy of the
// (empty) array members. `src` is a series' list, built by
// OwnedValue(AttributeValue): a bool, int, double or string value has empty
// array members. Array values take the general copy.
void AssignAttributes(std::vector<OwnedKeyValue>& dst, const std::vector<OwnedKeyValue>& src) {
  if (dst.size() != src.size()) {
    dst.clear();
    dst.reserve(src.size());
    dst.resize(src.size());
  }
  for (size_t i = 0; i < src.size(); ++i) {
    AssignString(dst[i].key, src[i].key);
    const OwnedValue& v = src[i].value;
    OwnedValue& w = dst[i].value;
    if (v.type == AttributeType::kBoolArray || v.type == AttributeType::kIntArray ||
        v.type == AttributeType::kDoubleArray || v.type == AttributeType::kStringArray) {
      w = v;
      continue;
    }
    w.type = v.type;
    w.b = v.b;
    w.i = v.i;
    w.d = v.d;
    AssignString(w.s, v.s);
    w.bools.clear();
    w.ints.clear();
    w.doubles.clear();
    w.strings.clear();
  }
}
}  // namespace

bool Stream::CollectObserved(size_t slot, AggregationTemporality temporality, Timestamp now,
                             const std::vector<Observation>& obs, MetricData* out) {
  std::lock_guard<std::mutex> lock(collect_mu_);
  ReaderStreamState& st = ReaderState(slot);
  const bool delta = temporality == AggregationTemporality::kDelta;
  const bool is_int = cfg_.value_type == InstrumentValueType::kInt64;
  Describe(temporality, out);
  out->number_points.clear();
  out->histogram_points.clear();
  if (cfg_.aggregation != Aggregation::kSum && cfg_.aggregation != Aggregation::kLastValue) {
    st.last_collect = now;
    st.collected_once = true;
    return false;
  }
  const bool sum = cfg_.aggregation == Aggregation::kSum;
  // One value per series, in first-observed order: the last observation of a
  // set wins; the overflow series adds up the sets it stands for (sums) or
  // keeps the last (gauges).
  std::vector<Observation> merged;
  std::unordered_map<const Series*, size_t> index;
  merged.reserve(obs.size());
  for (const Observation& o : obs) {
    auto [it, inserted] = index.try_emplace(o.series, merged.size());
    if (inserted) {
      merged.push_back(o);
      continue;
    }
    Observation& m = merged[it->second];
    if (o.series->overflow && sum) {
      m.bits = is_int ? m.bits + o.bits
                      : std::bit_cast<uint64_t>(std::bit_cast<double>(m.bits) +
                                                std::bit_cast<double>(o.bits));
    } else {
      m.bits = o.bits;
    }
  }
  for (const Observation& o : merged) {
    Series* s = o.series;
    NumberPoint p;
    p.is_int = is_int;
    p.attributes = s->attrs;
    p.time = now;
    // A series first observed by this collection's callbacks was created
    // after `now` was read: its start becomes `now` for good (never after the
    // point's time, and the same in every later cumulative point).
    ClampCreated(s, now);
    p.start_time = s->created;
    uint64_t bits = o.bits;
    if (delta && sum) {
      auto [it, fresh] = st.seen.try_emplace(s);
      if (fresh) it->second.totals.assign(1, is_int ? 0 : std::bit_cast<uint64_t>(0.0));
      uint64_t prev = it->second.totals[0];
      it->second.totals[0] = o.bits;
      bits = is_int ? o.bits - prev
                    : std::bit_cast<uint64_t>(std::bit_cast<double>(o.bits) -
                                              std::bit_cast<double>(prev));
      if (!fresh && st.collected_once && st.last_collect > p.start_time)
        p.start_time = st.last_collect;
    }
    if (is_int) {
      p.as_int = static_cast<int64_t>(bits);
    } else {
      p.as_double = std::bit_cast<double>(bits);
    }
    out->number_points.push_back(std::move(p));
  }
  st.last_collect = now;
  st.collected_once = true;
  return !out->number_points.empty();
}

bool Stream::Collect(size_t slot, AggregationTemporality temporality, Timestamp now,
                     MetricData* out, size_t forget_readers) {
  std::lock_guard<std::mutex> lock(collect_mu_);
  if (!retired_.empty() || !old_tables_.empty()) Reclaim(false);
  ReaderStreamState& st = ReaderState(slot);
  const bool delta = temporality == AggregationTemporality::kDelta;
  const bool is_int = cfg_.value_type == InstrumentValueType::kInt64;
  const size_t nb = cfg_.boundaries.size();
  const int64_t window_ns = st.collected_once ? st.last_collect.time_since_epoch().count() : 0;

  Describe(temporality, out);
  const bool histogram = cfg_.aggregation == Aggregation::kExplicitHistogram ||
                         cfg_.aggregation == Aggregation::kExponentialHistogram;
  // Points written so far into out's (reused) point storage.
  size_t n_points = 0;
  if (histogram) {
    out->number_points.clear();
    if (out->histogram_points.empty()) out->histogram_points.reserve(admitted() + 1);
  } else {
    out->histogram_points.clear();
    if (out->number_points.empty()) out->number_points.reserve(admitted() + 1);
  }
  if (cfg_.aggregation == Aggregation::kDrop) {
    out->number_points.clear();
    return false;
  }

  std::vector<uint64_t> tot(words_);
  auto read_exemplars = [&](const Series* s, std::vector<Exemplar>* ex) {
    for (size_t i = 0; i < s->n_slots; ++i) {
      const ExemplarSlot& e = s->slots[i];
      uint32_t q1 = e.seq.load(std::memory_order_acquire);
      if (q1 == 0 || (q1 & 1) != 0) continue;
      Exemplar x;
      uint64_t bits = e.value.load(std::memory_order_relaxed);
      int64_t t = e.time_ns.load(std::memory_order_relaxed);
      uint64_t hi = e.trace_hi.load(std::memory_order_relaxed);
      uint64_t lo = e.trace_lo.load(std::memory_order_relaxed);
      uint64_t sp = e.span.load(std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_acquire);
      if (e.seq.load(std::memory_order_relaxed) != q1 || t <= window_ns) continue;
      x.time = Timestamp(std::chrono::nanoseconds(t));
      x.is_int = is_int;
      if (is_int) {
        x.as_int = static_cast<int64_t>(bits);
      } else {
        x.as_double = std::bit_cast<double>(bits);
      }
      uint8_t tb[16], sb[8];
      std::memcpy(tb, &hi, 8);
      std::memcpy(tb + 8, &lo, 8);
      std::memcpy(sb, &sp, 8);
      x.trace_id = TraceId(tb);
      x.span_id = SpanId(sb);
      ex->push_back(std::move(x));
    }
  };

  const bool may_forget =
      forget_readers != 0 && delta && cfg_.aggregation != Aggregation::kLastValue;
  const size_t compared = IdleWords();
  std::vector<Series*> idle;
  auto visit = [&](Series* s) {
    Totals(s, &tot);

    SeriesMemory* prev = nullptr;
    bool fresh = false;
    if (delta || cfg_.aggregation == Aggregation::kLastValue) {
      auto [it, inserted] = st.seen.try_emplace(s);
      prev = &it->second;
      fresh = inserted;
      if (inserted) prev->totals.assign(words_, 0);
    }
    // A series created after `now` was read (a recording during this
    // collection) starts at `now`, for good.
    ClampCreated(s, now);
    Timestamp start = s->created;
    if (delta && st.collected_once && st.last_collect > start) start = st.last_collect;
    // No recording since this reader's previous collection: a candidate to
    // forget.
    if (may_forget && !fresh && !s->overflow && !s->pinned.load(std::memory_order_relaxed) &&
        std::equal(tot.begin(), tot.begin() + static_cast<ptrdiff_t>(compared),
                   prev->totals.begin()))
      idle.push_back(s);

    // A number point written in place (every field set).
    auto put_number = [&](bool as_int, int64_t i, double d) {
      NumberPoint& p = PointSlot(out->number_points, n_points++);
      AssignAttributes(p.attributes, s->attrs);
      p.start_time = start;
      p.time = now;
      p.is_int = as_int;
      p.as_int = as_int ? i : 0;
      p.as_double = as_int ? 0 : d;
      p.exemplars.clear();
      read_exemplars(s, &p.exemplars);
    };
    if (cfg_.aggregation == Aggregation::kLastValue) {
      uint64_t seq = tot[1];
      bool changed = seq != 0 && (fresh || seq != prev->gauge_seq);
      prev->gauge_seq = seq;
      if (seq == 0 || (delta && !changed)) return;
      put_number(is_int, static_cast<int64_t>(tot[0]), std::bit_cast<double>(tot[0]));
      return;
    }
    if (cfg_.aggregation == Aggregation::kSum) {
      if (is_int) {
        int64_t v = static_cast<int64_t>(tot[0]);
        if (delta) {
          int64_t d = v - static_cast<int64_t>(prev->totals[0]);
          prev->totals[0] = tot[0];
          if (d == 0 && !fresh) return;
          if (d == 0 && fresh && v == 0) return;
          v = d;
        }
        put_number(true, v, 0);
      } else {
        double v = std::bit_cast<double>(tot[0]);
        if (delta) {
          double d = v - std::bit_cast<double>(prev->totals[0]);
          prev->totals[0] = tot[0];
          if (d == 0) return;
          v = d;
        }
        put_number(false, 0, v);
      }
      return;
    }
    if (cfg_.aggregation == Aggregation::kExponentialHistogram) {
      if (VisitExponential(s, tot, delta, fresh, prev, start, now, out, n_points)) {
        read_exemplars(s, &out->histogram_points[n_points].exemplars);
        ++n_points;
      }
      return;
    }
    // Explicit-bucket histogram, written in place into the next slot (which
    // is only kept, ++n_points, when the point has a count).
    HistogramPoint& p = PointSlot(out->histogram_points, n_points);
    p.bucket_counts.resize(nb + 1);
    uint64_t count = 0, all = 0;
    for (size_t b = 0; b <= nb; ++b) {
      uint64_t c = tot[b];
      all += c;
      if (delta) c -= prev->totals[b];
      p.bucket_counts[b] = c;
      count += c;
    }
    // No count, no point (OTLP: a point of count 0 has a sum of 0). The
    // sum may be ahead of the count by values in flight (Totals); in delta,
    // such a sum without a count is neither reported nor taken into the
    // reader's memory: it joins the next point, which counts its values.
    if (count == 0) return;
    double sum = std::bit_cast<double>(tot[nb + 1]);
    if (delta) {
      sum -= std::bit_cast<double>(prev->totals[nb + 1]);
      std::copy(tot.begin(), tot.begin() + static_cast<ptrdiff_t>(nb + 2), prev->totals.begin());
    }
    ++n_points;
    p.count = count;
    p.sum = sum;
    // Min and max are kept since the series started: exact for cumulative;
    // for delta they are reported only when the interval holds every value.
    double mn = std::bit_cast<double>(tot[nb + 2]), mx = std::bit_cast<double>(tot[nb + 3]);
    p.has_min_max = cfg_.record_min_max && std::isfinite(mn) && std::isfinite(mx) &&
                    (!delta || all == count);
    p.min = p.has_min_max ? mn : 0;
    p.max = p.has_min_max ? mx : 0;
    p.boundaries = cfg_.boundaries;
    AssignAttributes(p.attributes, s->attrs);
    p.start_time = start;
    p.time = now;
    // The exponential fields of a slot that held an exponential point.
    p.scale = 0;
    p.zero_count = 0;
    p.zero_threshold = 0;
    p.positive.offset = 0;
    p.positive.bucket_counts.clear();
    p.negative.offset = 0;
    p.negative.bucket_counts.clear();
    p.exemplars.clear();
    read_exemplars(s, &p.exemplars);
  };

  for (Series* s = head_.load(std::memory_order_acquire); s != nullptr; s = s->next) visit(s);
  if (overflow_->touched.load(std::memory_order_relaxed)) visit(overflow_);
  if (histogram) {
    KeepPoints(out->histogram_points, n_points);
  } else {
    KeepPoints(out->number_points, n_points);
  }
  st.last_collect = now;
  st.collected_once = true;
  if (!idle.empty()) ForgetIdle(slot, forget_readers, idle, compared);
  return n_points != 0;
}

}  // namespace internal
}  // namespace otelweb::metrics

namespace otelweb::metrics::internal {

bool Stream::VisitExponential(const Series* s, std::vector<uint64_t>& tot, bool delta,
                              bool fresh, SeriesMemory* prev, Timestamp start, Timestamp now,
                              MetricData* out, size_t at) {
  namespace x = exph;
  const size_t m = cfg_.exp_max_size;
  const uint64_t all = tot[x::kCount];
  std::vector<uint64_t> cur = tot;
  if (delta) {
    if (!fresh) x::Subtract(cur.data(), prev->totals.data(), m);
    prev->totals = tot;
  }
  if (cur[x::kCount] == 0) return false;
  HistogramPoint p;
  p.count = cur[x::kCount];
  p.sum = std::bit_cast<double>(cur[x::kSum]);
  p.zero_count = cur[x::kZero];
  p.scale = static_cast<int32_t>(static_cast<int64_t>(cur[x::kScale]));
  const double mn = std::bit_cast<double>(tot[x::kMin]), mx = std::bit_cast<double>(tot[x::kMax]);
  if (cfg_.record_min_max && std::isfinite(mn) && std::isfinite(mx) && (!delta || all == p.count)) {
    p.has_min_max = true;
    p.min = mn;
    p.max = mx;
  }
  for (bool negative : {false, true}) {
    const size_t lo_word = negative ? x::kNegLo : x::kPosLo;
    const size_t base = negative ? x::kHeader + m : x::kHeader;
    int64_t lo = static_cast<int64_t>(cur[lo_word]), hi = static_cast<int64_t>(cur[lo_word + 1]);
    // A delta may leave empty buckets at either end.
    while (lo <= hi && cur[base + x::Ring(lo, m)] == 0) ++lo;
    while (lo <= hi && cur[base + x::Ring(hi, m)] == 0) --hi;
    ExponentialBuckets& b = negative ? p.negative : p.positive;
    if (lo > hi) continue;
    b.offset = static_cast<int32_t>(lo);
    b.bucket_counts.reserve(static_cast<size_t>(hi - lo + 1));
    for (int64_t i = lo; i <= hi; ++i) b.bucket_counts.push_back(cur[base + x::Ring(i, m)]);
  }
  p.attributes = s->attrs;
  p.start_time = start;
  p.time = now;
  // Replaces the point a previous collection left at `at` (if any).
  PointSlot(out->histogram_points, at) = std::move(p);
  return true;
}

}  // namespace otelweb::metrics::internal

namespace otelweb::metrics::detail {

namespace {
// The unbound recording path: the thread's last lookup, the add and the
// exemplar check inline (one call from the instrument).
template <typename T>
[[gnu::always_inline]] inline void RecordUnbound(internal::InstrumentState* state, T v,
                                                 Attributes attrs) noexcept {
  if (state == nullptr) return;
  internal::Stream* st = state->stream.get();
  if (st == nullptr) return;
  internal::Series* s = st->ResolveInline(attrs);
  if constexpr (std::is_same_v<T, int64_t>) {
    st->RecordIntInline(s, v);
    if (!state->extra.empty()) [[unlikely]]
      state->RecordExtraInt(v, attrs);
  } else {
    st->RecordDoubleInline(s, v);
    if (!state->extra.empty()) [[unlikely]]
      state->RecordExtraDouble(v, attrs);
  }
}
}  // namespace

void RecordInt(internal::InstrumentState* state, int64_t v, Attributes attrs) noexcept {
  RecordUnbound(state, v, attrs);
}

void RecordDouble(internal::InstrumentState* state, double v, Attributes attrs) noexcept {
  RecordUnbound(state, v, attrs);
}

namespace {
// The calling thread's memory of its last RecordSameSet per leading stream
// (two, direct-mapped by the leading stream's id): the series the lead's
// lookup returned and, for each following instrument, the series it found
// for the same set, with the stream's retire epoch read before that lookup.
// Every entry was filled in a call whose lead resolved to `lead_series` (so
// with an equal set); the overflow series, which stands for any set, is
// never remembered.
struct SameSetMemo {
  static constexpr size_t kMax = 4;  // following instruments
  struct Entry {
    uint64_t stream = 0;
    uint64_t epoch = 0;
    internal::Series* series = nullptr;
  };
  uint64_t lead = 0;
  uint64_t lead_epoch = 0;
  internal::Series* lead_series = nullptr;
  Entry others[kMax];
};
constinit thread_local SameSetMemo t_same_set[2];
constinit thread_local bool t_in_same_set = false;  // a warning handler recording again

// Plain: one stream, no view attribute filter (what the memo covers).
inline bool PlainInstrument(const internal::InstrumentState* s) noexcept {
  return s != nullptr && s->stream != nullptr && s->extra.empty() &&
         !s->stream->config().filter_attrs;
}

[[gnu::always_inline]] inline void RecordInto(internal::Stream* st, internal::Series* s,
                                              const SameSetValue& v) noexcept {
  if (v.is_double) {
    st->RecordDoubleInline(s, v.d);
  } else {
    st->RecordIntInline(s, v.i);
  }
}
}  // namespace

void RecordSameSet(const SameSetValue* values, size_t n, Attributes attrs) noexcept {
  bool plain = n != 0 && n <= SameSetMemo::kMax + 1 && !t_in_same_set;
  for (size_t i = 0; plain && i < n; ++i) plain = PlainInstrument(values[i].state);
  if (!plain) {
    for (size_t i = 0; i < n; ++i) {
      if (values[i].is_double) {
        RecordDouble(values[i].state, values[i].d, attrs);
      } else {
        RecordInt(values[i].state, values[i].i, attrs);
      }
    }
    return;
  }
  t_in_same_set = true;
  internal::Stream* lead = values[0].state->stream.get();
  const uint64_t lead_epoch = lead->retire_epoch();
  internal::Series* ls = lead->ResolveInline(attrs);
  RecordInto(lead, ls, values[0]);
  SameSetMemo& m = t_same_set[lead->id() & 1];
  const bool reuse = !ls->overflow && m.lead == lead->id() && m.lead_series == ls &&
                     m.lead_epoch == lead_epoch;
  if (!reuse) {
    m.lead = ls->overflow ? 0 : lead->id();
    m.lead_epoch = lead_epoch;
    m.lead_series = ls;
    for (auto& e : m.others) e = {};
  }
  for (size_t i = 1; i < n; ++i) {
    internal::Stream* st = values[i].state->stream.get();
    const uint64_t epoch = st->retire_epoch();
    SameSetMemo::Entry& e = m.others[i - 1];
    internal::Series* s;
    if (reuse && e.stream == st->id() && e.epoch == epoch) {
      s = e.series;
    } else {
      s = st->ResolveInline(attrs);
      e = s->overflow ? SameSetMemo::Entry{} : SameSetMemo::Entry{st->id(), epoch, s};
    }
    RecordInto(st, s, values[i]);
  }
  t_in_same_set = false;
}

}  // namespace otelweb::metrics::detail
