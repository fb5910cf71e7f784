// gRPC server instrumentation (otelweb/grpc/server.h).
//
// Where grpc++ 1.51 runs the interception points of a call:
//   POST_RECV_INITIAL_METADATA (with POST_RECV_MESSAGE for unary and
//     server-streaming calls): sync server - on the sync server's thread, in
//     SyncRequest::Run; the handler then runs *inside* the last interceptor's
//     Proceed() (the continuation is called from there), so a Scope held
//     around our Proceed() is current in the whole synchronous handler and is
//     released on the same thread, in the same function. Callback server - the
//     method handler (the reactor's creation) runs inside Proceed() likewise;
//     later reactor callbacks do not. Async server - Proceed() re-queues the
//     request's tag; no application code runs inside it.
//   PRE_SEND_* (status, messages): where the handler sends them (sync: after
//     the handler returns, still inside the call above).
//   POST_RECV_CLOSE: when the call is over (status sent and closed, or
//     cancelled), on whichever thread completes it; this ends the span. A
//     cancellation may race with the handler's PRE_SEND_STATUS: a per-call
//     mutex orders them.
#include "otelweb/grpc/server.h"

#include <grpc/grpc.h>
#include <grpc/support/alloc.h>
#include <grpcpp/support/interceptor.h>

#include <array>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "core/config.h"
#include "grpc/common.h"
#include "otelweb/trace/span.h"

namespace otelweb::grpc {
namespace {

namespace inst = otelweb::instrumentation;
using internal::Compiled;
using internal::HostPort;
using internal::MethodName;
using internal::ToCallType;

struct ServerState {
  ServerState(const ServerOptions& o) : compiled(o, kServerScopeName, true), options(o) {
    if (o.public_endpoint.has_value()) {
      public_endpoint = *o.public_endpoint;
    } else if (auto v = config::GetBool(kEnvPublicEndpoint)) {
      public_endpoint = *v;
    } else if (auto h = config::GetBool("OTEL_CPP_HTTP_SERVER_PUBLIC_ENDPOINT")) {
      public_endpoint = *h;
    }
  }
  bool IsPublic(const CallView& v) const noexcept {
    if (!options.public_endpoint_fn) return public_endpoint;
    bool is_public = true;
    inst::RunGuarded(
        public_fn_warned, "otelweb::grpc ServerOptions::public_endpoint_fn (the call is treated as public)",
        [&] { is_public = options.public_endpoint_fn(v); }, options.hook_exceptions);
    return is_public;
  }
  Compiled compiled;
  ServerOptions options;
  bool public_endpoint = false;
  mutable std::atomic<bool> public_fn_warned{false};
};

class ServerCall;

constexpr int kUnimplemented = 12;
constexpr std::string_view kOther = "_OTHER";

// ServerContextBase* -> its instrumented call, for ServerCallContext(). Each
// shard keeps up to kSlots calls in place (no allocation); more calls at once
// in one shard go to an overflow map (allocates; rare: 64 x 16 calls).
class Registry {
 public:
  void Add(const void* key, ServerCall* call) noexcept {
    Shard& s = shard(key);
    std::lock_guard<std::mutex> lock(s.mu);
    if (s.n < kSlots) {
      s.slots[s.n++] = {key, call};
      return;
    }
    try {
      s.overflow[key] = call;
    } catch (...) {
    }
  }
  void Remove(const void* key, ServerCall* call) noexcept {
    Shard& s = shard(key);
    std::lock_guard<std::mutex> lock(s.mu);
    for (size_t i = 0; i < s.n; ++i) {
      if (s.slots[i].key == key && s.slots[i].call == call) {
        s.slots[i] = s.slots[--s.n];
        return;
      }
    }
    if (s.overflow.empty()) return;
    auto it = s.overflow.find(key);
    if (it != s.overflow.end() && it->second == call) s.overflow.erase(it);
  }
  template <typename F>
  void With(const void* key, F&& f) noexcept {
    Shard& s = shard(key);
    std::lock_guard<std::mutex> lock(s.mu);
    for (size_t i = 0; i < s.n; ++i) {
      if (s.slots[i].key == key) {
        f(*s.slots[i].call);
        return;
      }
    }
    if (s.overflow.empty()) return;
    auto it = s.overflow.find(key);
    if (it != s.overflow.end()) f(*it->second);
  }

 private:
  static constexpr size_t kSlots = 16;
  struct Slot {
    const void* key;
    ServerCall* call;
  };
  struct Shard {
    std::mutex mu;
    size_t n = 0;
    std::array<Slot, kSlots> slots{};
    std::unordered_map<const void*, ServerCall*> overflow;
  };
  Shard& shard(const void* key) noexcept {
    auto v = reinterpret_cast<uintptr_t>(key);
    return shards_[(v >> 4 ^ v >> 12) % shards_.size()];
  }
  std::array<Shard, 64> shards_;
};

Registry& TheRegistry() {
  static Registry* r = new Registry;  // never destroyed: calls may end during exit
  return *r;
}

// Authority and peer are parsed into fixed buffers (no std::string on the call
// path): the authority "host:port" (kept for the duration metric's
// server.address), the peer only for the span's start attributes.
constexpr size_t kAuthorityBytes = 264;  // a 253-byte DNS name, ':' and a port

class ServerCall final : public ::grpc::experimental::Interceptor, public internal::PooledCall<ServerCall>,
                         private internal::CallSpan {
 public:
  ServerCall(std::shared_ptr<const ServerState> state, ::grpc::experimental::ServerRpcInfo* info,
             MethodName m) noexcept
      : state_(std::move(state)), ctx_(info->server_context()), method_(m), type_(ToCallType(info->type())) {}

  ~ServerCall() override {
    if (started_) {
      TheRegistry().Remove(ctx_, this);
      std::lock_guard<std::mutex> lock(mu_);
      // The call ended without POST_RECV_CLOSE (server shut down): the
      // status sent, else CANCELLED.
      if (!ended_) EndLocked(status_set_ ? code_ : 1, status_set_ ? message_ : std::string(), !status_set_);
    }
  }

  void Intercept(::grpc::experimental::InterceptorBatchMethods* methods) override {
    using HP = ::grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(HP::POST_RECV_INITIAL_METADATA)) {
      Start(methods->GetRecvInitialMetadata());
      if (methods->QueryInterceptionHookPoint(HP::POST_RECV_MESSAGE)) Message(false);
      // A synchronous handler (and a callback method's handler) runs inside
      // this Proceed(): the call's span is current in it.
      Scope scope(context_);
      methods->Proceed();
      return;
    }
    if (methods->QueryInterceptionHookPoint(HP::POST_RECV_MESSAGE)) {
      // A failed read (end of stream) also passes here; count messages only.
      if (methods->GetRecvMessage() != nullptr) Message(false);
    }
    if (methods->QueryInterceptionHookPoint(HP::PRE_SEND_MESSAGE)) Message(true);
    if (methods->QueryInterceptionHookPoint(HP::PRE_SEND_STATUS)) {
      ::grpc::Status st = methods->GetSendStatus();
      std::lock_guard<std::mutex> lock(mu_);
      if (!status_set_) {
        status_set_ = true;
        code_ = static_cast<int>(st.error_code());
        try {
          message_ = st.error_message();
        } catch (...) {
        }
      }
    }
    if (methods->QueryInterceptionHookPoint(HP::POST_RECV_CLOSE)) {
      // (IsCancelled() must not be called here: in 1.51 it finalizes this
      // very completion op again.) Closed before a status was sent: cancelled.
      std::lock_guard<std::mutex> lock(mu_);
      if (started_ && !ended_) {
        if (!status_set_) {
          // What the server saw: its own copy of the deadline had passed
          // (gRPC ended the call: DEADLINE_EXCEEDED), else the client (or a
          // proxy) cancelled it: CANCELLED. A client whose deadline passes
          // cancels the call, and that cancellation usually reaches the server
          // before the server's copy (which started when the request
          // arrived) passes: such a call is CANCELLED here while the client
          // records DEADLINE_EXCEEDED, as Node's server instrumentation does.
          const bool late = ctx_->deadline() <= std::chrono::system_clock::now();
          EndLocked(late ? 4 : 1, std::string(), true);
        } else {
          EndLocked(code_, message_, false);
        }
      }
    }
    methods->Proceed();
  }

  Context context() const noexcept { return context_; }

 private:
  void Start(MetadataMap* metadata) noexcept {
    if (started_) return;
    const Compiled& c = state_->compiled;
    const inst::ResolvedTracer& r = c.tracer().Resolve();
    CallView view{method_.full, method_.service, method_.method, type_, metadata, nullptr, ctx_};
    inst::AttrList<8> attrs;
    c.StartAttributes(method_, attrs);
    {
      ::grpc::string_ref a = ctx_->ExperimentalGetAuthority();
      if (a.size() <= kAuthorityBytes) {  // else (not a host:port) no server.*
        std::memcpy(authority_, a.data(), a.size());
        server_ = internal::ParseAddress(authority_, a.size());  // views into authority_
      }
    }
    attrs.AddIfNotEmpty("server.address", server_.host);
    attrs.AddIfPositive("server.port", server_.port);
    // grpc_call_get_peer(): the C core's copy of the peer (one gpr_malloc of
    // its own; ServerContext::peer() would add a std::string), read only when
    // the span records and freed once the span holds its attributes.
    char* peer_text = r.live ? grpc_call_get_peer(ctx_->c_call()) : nullptr;
    HostPort peer = peer_text != nullptr ? internal::ParseAddress(peer_text, std::strlen(peer_text)) : HostPort();
    attrs.AddIfNotEmpty("network.peer.address", peer.host);
    attrs.AddIfPositive("network.peer.port", peer.port);

    SpanOptions so;
    so.kind = SpanKind::kServer;
    so.attributes = attrs.attributes();
    start_ = Now();
    so.start_time = start_;
    Context parent;
    Link link;
    const TextMapPropagator* prop = r.live ? r.propagator.get() : nullptr;
    internal::MetadataGetter getter(metadata);
    if (prop != nullptr) {
      if (state_->IsPublic(view)) {
        const SpanContext remote = prop->Extract(getter, Context()).span_context();
        if (remote.IsValid()) {
          link.context = remote;
          so.links = std::span<const Link>(&link, 1);
        }
        so.root = true;
      } else {
        parent = prop->Extract(getter, Context());
      }
    }
    so.parent = &parent;
    span_ = c.tracer().StartSpan(r, method_.span_name, so);
    if (peer_text != nullptr) gpr_free(peer_text);  // the span copied its attributes
    context_ = span_.AsContext(parent);
    started_ = true;
    c.RunRequestHook(span_.Ref(), view);
    TheRegistry().Add(ctx_, this);
  }

  void Message(bool sent) noexcept { MessageEvent(state_->compiled.settings().message_events, sent); }

  void EndLocked(int code, const std::string& message, bool cancelled) noexcept {
    ended_ = true;
    const Compiled& c = state_->compiled;
    MethodName recorded = method_;
    if (code == kUnimplemented && message.empty()) {
      // grpc++'s own answer for a method this server does not serve (sync:
      // method "unknown"; callback/async: the path the client sent, any
      // string). Span name and rpc.method become _OTHER (RPC conventions),
      // so a client cannot create unbounded span names and metric series; the
      // path stays on the span as rpc.method_original.
      recorded = internal::MethodName{method_.full, kOther, kOther, kOther};
      if (span_.IsRecording()) {
        span_.UpdateName(kOther);
        KeyValue kv[3];
        size_t n = 0;
        if (c.old_set()) kv[n++] = {"rpc.service", kOther};
        kv[n++] = {"rpc.method", kOther};
        kv[n++] = {"rpc.method_original", method_.span_name};
        inst::SetInstrumentationAttributes(span_.Ref(), Attributes(kv, n));
      }
    }
    c.EndAttributes(span_.Ref(), code, message, true);
    CallView view{method_.full, method_.service, method_.method, type_, nullptr, nullptr, ctx_};
    CallStatus st{code, message, cancelled};
    c.RunResponseHook(span_.Ref(), view, st);
    Timestamp end = Now();
    c.RecordDuration(recorded, code, server_, std::chrono::duration<double>(end - start_).count(), context_);
    span_.End(end);
  }

  std::shared_ptr<const ServerState> state_;
  ::grpc::ServerContextBase* ctx_;
  MethodName method_;
  CallType type_;
  Context context_;
  Timestamp start_{};
  char authority_[kAuthorityBytes];
  HostPort server_;  // views into authority_
  bool started_ = false;
  bool status_set_ = false;
  int code_ = 0;
  std::string message_;
};

class ServerFactory final : public ::grpc::experimental::ServerInterceptorFactoryInterface,
                            internal::CallFactory<ServerCall, ServerState> {
 public:
  explicit ServerFactory(const ServerOptions& o) : CallFactory(o) {}
  ::grpc::experimental::Interceptor* CreateServerInterceptor(
      ::grpc::experimental::ServerRpcInfo* info) override {
    return NewCall(info, info->server_context());
  }
};

}  // namespace

internal::CallBlocks::Stats internal::ServerCallBlockStats() noexcept { return ServerCall::Blocks().stats(); }

std::unique_ptr<::grpc::experimental::ServerInterceptorFactoryInterface> MakeServerInterceptorFactory(
    ServerOptions options) {
  return std::make_unique<ServerFactory>(std::move(options));
}

void InstrumentServer(
    ::grpc::ServerBuilder& builder, ServerOptions options,
    std::vector<std::unique_ptr<::grpc::experimental::ServerInterceptorFactoryInterface>> app_interceptors) {
  app_interceptors.push_back(MakeServerInterceptorFactory(std::move(options)));
  builder.experimental().SetInterceptorCreators(std::move(app_interceptors));
}

Context ServerCallContext(const ::grpc::ServerContextBase& ctx) noexcept {
  Context out;
  TheRegistry().With(&ctx, [&](ServerCall& call) { out = call.context(); });
  return out;
}

}  // namespace otelweb::grpc
