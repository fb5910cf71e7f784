// Private: what the gRPC server and client instrumentation share: method
// names, the filter, semconv attributes, metadata carriers, the duration
// histograms (old and new names) resolved from the meter provider.
#pragma once

#include <grpcpp/support/interceptor.h>
#include <grpcpp/support/string_ref.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <string_view>

#include "otelweb/grpc/settings.h"
#include "otelweb/instrumentation.h"
#include "otelweb/metrics/meter_provider.h"
#include "otelweb/propagation.h"
#include "otelweb/trace/span.h"

namespace otelweb::grpc::internal {

// "/pkg.Service/Method" -> service "pkg.Service", method "Method"; the span
// name "pkg.Service/Method" (the full name without its leading '/').
// CallType of grpc++'s ClientRpcInfo::Type or ServerRpcInfo::Type (two enums
// with the same enumerators).
template <typename RpcType>
CallType ToCallType(RpcType t) noexcept {
  switch (t) {
    case RpcType::CLIENT_STREAMING:
      return CallType::kClientStreaming;
    case RpcType::SERVER_STREAMING:
      return CallType::kServerStreaming;
    case RpcType::BIDI_STREAMING:
      return CallType::kBidiStreaming;
    default:
      return CallType::kUnary;
  }
}

struct MethodName {
  std::string_view full;
  std::string_view service;
  std::string_view method;
  std::string_view span_name;
};
MethodName SplitMethod(std::string_view full) noexcept;

// Status codes whose server spans have status Error (RPC conventions).
bool IsServerError(int code) noexcept;

// network.peer.* / server.* from "ipv4:1.2.3.4:5", "ipv6:[::1]:5", "host:5",
// "dns:///host:5". Views into `text`.
struct HostPort {
  std::string_view host;
  int port = 0;
};
HostPort ParseAddress(std::string_view text) noexcept;
// The same after decoding %XX escapes in place (gRPC 1.51 writes a peer as a
// URI: "ipv6:%5B::1%5D:5", a zone as "%25eth0"); the views point into `data`.
HostPort ParseAddress(char* data, size_t size) noexcept;

// Semconv and filter, compiled once per factory.
class Compiled {
 public:
  Compiled(const Settings& s, std::string_view scope, bool server);
  bool Excluded(const CallView& v) const noexcept;
  bool old_set() const noexcept { return set_ != SemconvSet::kNew; }
  bool new_set() const noexcept { return set_ != SemconvSet::kOld; }
  const instrumentation::InstrumentationTracer& tracer() const noexcept { return tracer_; }
  const Settings& settings() const noexcept { return settings_; }
  void RunRequestHook(SpanRef span, const CallView& v) const noexcept;
  void RunResponseHook(SpanRef span, const CallView& v, const CallStatus& st) const noexcept;

  // Start attributes (rpc.system[.name], rpc.service, rpc.method) into `out`.
  template <size_t N>
  void StartAttributes(const MethodName& m, instrumentation::AttrList<N>& out) const noexcept {
    if (old_set()) {
      out.Add("rpc.system", "grpc");
      out.Add("rpc.service", m.service);
    }
    if (new_set()) {
      out.Add("rpc.system.name", "grpc");
      out.Add("rpc.method", m.span_name);
    } else {
      out.Add("rpc.method", m.method);
    }
  }
  // Status attributes and span status at the end; error.type returned (or empty).
  std::string_view EndAttributes(SpanRef span, int code, std::string_view message,
                                 bool server) const noexcept;

  // Duration histograms (null: nothing records).
  struct Metrics {
    metrics::Histogram<double> old_ms;  // rpc.{server,client}.duration (ms)
    metrics::Histogram<double> new_s;   // rpc.{server,client}.call.duration (s)
    bool enabled = false;
  };
  const Metrics* metrics() const noexcept;
  // Records the call's duration with the conventions' attributes, with
  // `span_context` (the call's) current so that the exemplar names the span;
  // nothing (not even the scope) when no histogram records.
  void RecordDuration(const MethodName& m, int code, HostPort server, double seconds,
                      const Context& span_context) const noexcept;

 private:
  Metrics Create(metrics::MeterProvider& p) const;
  Settings settings_;
  SemconvSet set_;
  bool server_;
  instrumentation::InstrumentationTracer tracer_;
  mutable std::atomic<bool> filter_warned_{false};
  mutable std::atomic<bool> request_hook_warned_{false};
  mutable std::atomic<bool> response_hook_warned_{false};
  struct Entry {
    uint64_t generation = 0;
    std::shared_ptr<metrics::MeterProvider> provider;
    Metrics m;
  };
  mutable instrumentation::Published<Entry> metrics_;
};

// A bounded free list of memory blocks for the per-call interceptor objects
// (ServerCall, ClientCall), so that starting and ending a call does not
// allocate once the list holds as many blocks as calls run at once. `Reserve`
// (at factory creation, off the call path) fills the list; a call that finds
// it empty allocates a block (counted in `misses`), and a block given back
// to a full list (more than kMaxCached) is freed. One list per block size, for
// the whole process (blocks outlive the servers and channels that used them).
class CallBlocks {
 public:
  static constexpr size_t kMaxCached = 4096;
  explicit CallBlocks(size_t block_size) noexcept : size_(block_size) {}
  void Reserve(size_t n) noexcept;
  void* Take() noexcept;
  void Give(void* p) noexcept;
  struct Stats {
    uint64_t taken = 0;   // blocks handed out
    uint64_t misses = 0;  // of which the list was empty: allocated on the call path
    size_t cached = 0;    // blocks in the list now
  };
  Stats stats() const noexcept;

 private:
  struct Node {
    Node* next;
  };
  const size_t size_;
  mutable std::mutex mu_;
  Node* head_ = nullptr;
  size_t cached_ = 0;
  uint64_t taken_ = 0;
  uint64_t misses_ = 0;
};

// Class-level operator new/delete of a per-call object on a CallBlocks list
// (grpc++ deletes interceptors with `delete`, which calls these).
template <typename T>
struct PooledCall {
  static CallBlocks& Blocks() noexcept {
    static CallBlocks* b = new CallBlocks(sizeof(T));  // never destroyed: calls may end during exit
    return *b;
  }
  static void* operator new(size_t n, const std::nothrow_t&) noexcept {
    (void)n;  // T is final: always sizeof(T)
    return Blocks().Take();
  }
  static void operator delete(void* p, const std::nothrow_t&) noexcept { Blocks().Give(p); }
  static void operator delete(void* p) noexcept { Blocks().Give(p); }
};

// What both interceptor factories share: the side's state (made once), the
// call objects' block list reserved at creation, and the per-call step: no
// object for a call without a method name or for an excluded method, else
// `Call(state, info, method)` from its block list (`native` is the grpc++
// context, for the filter's CallView).
template <typename Call, typename State>
class CallFactory {
 protected:
  static constexpr size_t kReservedCalls = 64;  // blocks made with the server or channel
  template <typename... A>
  explicit CallFactory(A&&... a) : state_(std::make_shared<const State>(std::forward<A>(a)...)) {
    Call::Blocks().Reserve(kReservedCalls);
  }
  template <typename Info, typename... Extra>
  ::grpc::experimental::Interceptor* NewCall(Info* info, const void* native, Extra&&... extra) const noexcept {
    const char* full = info->method();
    if (full == nullptr) return nullptr;
    MethodName m = SplitMethod(full);
    CallView view{m.full, m.service, m.method, ToCallType(info->type()), nullptr, nullptr, native};
    if (state_->compiled.Excluded(view)) return nullptr;
    return new (std::nothrow) Call(state_, info, m, std::forward<Extra>(extra)...);
  }
  std::shared_ptr<const State> state_;
};

// A call's span and what guards it, on both sides.
struct CallSpan {
  // One "message" event (rpc.message.type, rpc.message.id) when `enabled`.
  // Under the call's mutex: a write on the app's thread may race the end of
  // the call on gRPC's (cancellation), and Span::End() clears the span's
  // record pointer that IsRecording() reads.
  void MessageEvent(bool enabled, bool sent) noexcept {
    if (!enabled) return;
    const int64_t id = sent ? ++sent_ : ++received_;
    KeyValue kv[2] = {{"rpc.message.type", sent ? "SENT" : "RECEIVED"}, {"rpc.message.id", id}};
    std::lock_guard<std::mutex> lock(mu_);
    if (!ended_ && span_.IsRecording()) span_.AddEvent("message", Attributes(kv, 2));
  }
  std::mutex mu_;
  Span span_;
  bool ended_ = false;
  std::atomic<int64_t> sent_{0};
  std::atomic<int64_t> received_{0};
};

// The block lists of ServerCall and ClientCall (tests).
CallBlocks::Stats ServerCallBlockStats() noexcept;
CallBlocks::Stats ClientCallBlockStats() noexcept;

// Reads the lowercase keys of received gRPC metadata.
class MetadataGetter final : public TextMapGetter {
 public:
  explicit MetadataGetter(const MetadataMap* m) noexcept : m_(m) {}
  std::string_view Get(std::string_view key, std::string& scratch) const noexcept override;

 private:
  const MetadataMap* m_;
};

// Writes into the metadata a call is about to send (replacing a key already there).
class MetadataSetter final : public TextMapSetter {
 public:
  explicit MetadataSetter(std::multimap<std::string, std::string>* m) noexcept : m_(m) {}
  void Set(std::string_view key, std::string_view value) noexcept override;

 private:
  std::multimap<std::string, std::string>* m_;
};

}  // namespace otelweb::grpc::internal
