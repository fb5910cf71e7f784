// gRPC client instrumentation (otelweb/grpc/client.h).
//
// The span starts when grpc++ creates the call's interceptors, on the thread
// that starts the call (so its parent is the context current there), its
// context is injected at PRE_SEND_INITIAL_METADATA, and it ends at
// POST_RECV_STATUS (on the thread that receives the status: the caller's for
// blocking calls, gRPC's for callback calls), or when the call's context is
// destroyed without a status. server.address/port come from the channel's
// target, network.peer.address/port from the call's peer at its end.
#include "otelweb/grpc/client.h"

#include <grpc/grpc.h>
#include <grpc/support/alloc.h>
#include <grpcpp/client_context.h>
#include <grpcpp/support/interceptor.h>

#include <cstring>
#include <mutex>

#include "grpc/common.h"
#include "otelweb/trace/span.h"

namespace otelweb::grpc {
namespace {

namespace inst = otelweb::instrumentation;
using internal::Compiled;
using internal::HostPort;
using internal::MethodName;
using internal::ToCallType;

struct ClientState {
  ClientState(std::string_view t, const ClientOptions& o)
      : compiled(o, kClientScopeName, false), target(t), server(internal::ParseAddress(target.data(), target.size())) {}
  Compiled compiled;
  std::string target;  // %XX escapes decoded in place
  HostPort server;     // views into target
};

class ClientCall final : public ::grpc::experimental::Interceptor, public internal::PooledCall<ClientCall>,
                         private internal::CallSpan {
 public:
  // `parent`: the context current on the thread starting the call.
  ClientCall(std::shared_ptr<const ClientState> state, ::grpc::experimental::ClientRpcInfo* info,
             MethodName m, Context parent) noexcept
      : state_(std::move(state)), ctx_(info->client_context()), method_(m), type_(ToCallType(info->type())) {
    const Compiled& c = state_->compiled;
    const inst::ResolvedTracer& r = c.tracer().Resolve();
    inst::AttrList<8> attrs;
    c.StartAttributes(method_, attrs);
    attrs.AddIfNotEmpty("server.address", state_->server.host);
    attrs.AddIfPositive("server.port", state_->server.port);
    SpanOptions so;
    so.kind = SpanKind::kClient;
    so.attributes = attrs.attributes();
    start_ = Now();
    so.start_time = start_;
    so.parent = &parent;
    span_ = c.tracer().StartSpan(r, method_.span_name, so);
    context_ = span_.AsContext(parent);
    propagator_ = r.propagator.get();
  }

  ~ClientCall() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!ended_) End(1, "the call ended without a status", nullptr);  // CANCELLED
  }

  void Intercept(::grpc::experimental::InterceptorBatchMethods* methods) override {
    using HP = ::grpc::experimental::InterceptionHookPoints;
    const Compiled& c = state_->compiled;
    if (methods->QueryInterceptionHookPoint(HP::PRE_SEND_INITIAL_METADATA)) {
      std::multimap<std::string, std::string>* md = methods->GetSendInitialMetadata();
      if (propagator_ != nullptr && md != nullptr) {
        internal::MetadataSetter setter(md);
        propagator_->Inject(context_, setter);
      }
      CallView view{method_.full, method_.service, method_.method, type_, nullptr, md, ctx_};
      c.RunRequestHook(span_.Ref(), view);
    }
    if (methods->QueryInterceptionHookPoint(HP::PRE_SEND_MESSAGE)) Message(true);
    if (methods->QueryInterceptionHookPoint(HP::POST_RECV_MESSAGE)) {
      if (methods->GetRecvMessage() != nullptr) Message(false);
    }
    if (methods->QueryInterceptionHookPoint(HP::PRE_SEND_CANCEL)) {
      cancelled_.store(true, std::memory_order_relaxed);
    }
    if (methods->QueryInterceptionHookPoint(HP::POST_RECV_STATUS)) {
      ::grpc::Status* st = methods->GetRecvStatus();
      const MetadataMap* trailing = methods->GetRecvTrailingMetadata();
      std::lock_guard<std::mutex> lock(mu_);
      if (!ended_) {
        PeerAttributes();
        if (st != nullptr) {
          End(static_cast<int>(st->error_code()), st->error_message(), trailing);
        } else {
          End(2, "", trailing);
        }
      }
    }
    methods->Proceed();
  }

 private:
  void Message(bool sent) noexcept { MessageEvent(state_->compiled.settings().message_events, sent); }

  // network.peer.address/port: the address the call went to, from the C
  // core's copy of the peer (one gpr_malloc of its own; ClientContext::peer()
  // would add a std::string). Only while the call is alive (POST_RECV_STATUS:
  // in ~ClientContext the call is already released) and only when the span
  // records; "unknown" (never connected) and other forms without a port are
  // left out.
  void PeerAttributes() noexcept {
    if (!span_.IsRecording() || ctx_ == nullptr || ctx_->c_call() == nullptr) return;
    char* text = grpc_call_get_peer(ctx_->c_call());
    if (text == nullptr) return;
    HostPort peer = internal::ParseAddress(text, std::strlen(text));
    if (!peer.host.empty() && peer.port > 0) {
      KeyValue kv[2] = {{"network.peer.address", peer.host}, {"network.peer.port", int64_t{peer.port}}};
      inst::SetInstrumentationAttributes(span_.Ref(), Attributes(kv, 2));
    }
    gpr_free(text);
  }

  void End(int code, std::string_view message, const MetadataMap* trailing) noexcept {
    ended_ = true;
    const Compiled& c = state_->compiled;
    if (cancelled_.load(std::memory_order_relaxed) && span_.IsRecording()) {
      span_.AddEvent("cancelled");
    }
    c.EndAttributes(span_.Ref(), code, message, false);
    CallView view{method_.full, method_.service, method_.method, type_, trailing, nullptr, ctx_};
    CallStatus st{code, message, cancelled_.load(std::memory_order_relaxed)};
    c.RunResponseHook(span_.Ref(), view, st);
    Timestamp end = Now();
    c.RecordDuration(method_, code, state_->server, std::chrono::duration<double>(end - start_).count(), context_);
    span_.End(end);
  }

  std::shared_ptr<const ClientState> state_;
  ::grpc::ClientContext* ctx_;
  MethodName method_;
  CallType type_;
  Context context_;
  const TextMapPropagator* propagator_ = nullptr;
  Timestamp start_{};
  std::atomic<bool> cancelled_{false};
};

class ClientFactory final : public ::grpc::experimental::ClientInterceptorFactoryInterface,
                            internal::CallFactory<ClientCall, ClientState> {
 public:
  ClientFactory(std::string_view target, const ClientOptions& o) : CallFactory(target, o) {}
  ::grpc::experimental::Interceptor* CreateClientInterceptor(
      ::grpc::experimental::ClientRpcInfo* info) override {
    Context current = Context::Current();  // read once: the filter below, then the span's parent
    if (current.instrumentation_suppressed()) return nullptr;
    return NewCall(info, info->client_context(), std::move(current));
  }
};

}  // namespace

internal::CallBlocks::Stats internal::ClientCallBlockStats() noexcept { return ClientCall::Blocks().stats(); }

std::unique_ptr<::grpc::experimental::ClientInterceptorFactoryInterface> MakeClientInterceptorFactory(
    std::string_view target, ClientOptions options) {
  return std::make_unique<ClientFactory>(target, std::move(options));
}

std::shared_ptr<::grpc::Channel> CreateInstrumentedChannel(
    const std::string& target, const std::shared_ptr<::grpc::ChannelCredentials>& credentials,
    const ::grpc::ChannelArguments& args, ClientOptions options,
    std::vector<std::unique_ptr<::grpc::experimental::ClientInterceptorFactoryInterface>> app_interceptors) {
  std::vector<std::unique_ptr<::grpc::experimental::ClientInterceptorFactoryInterface>> all;
  all.reserve(app_interceptors.size() + 1);
  all.push_back(MakeClientInterceptorFactory(target, std::move(options)));
  for (auto& a : app_interceptors) all.push_back(std::move(a));
  return ::grpc::experimental::CreateCustomChannelWithInterceptors(target, credentials, args,
                                                                   std::move(all));
}

}  // namespace otelweb::grpc
