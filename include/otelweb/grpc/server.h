// gRPC server instrumentation for grpc++ 1.51 (library otelweb_grpc): one
// call on the ServerBuilder gives every service a SERVER span per RPC named
// "pkg.Service/Method", continuing the trace the client's metadata carries
// (W3C traceparent/tracestate/baggage through the global propagators), for
// unary and the three streaming kinds, with the RPC semantic-convention
// attributes (otelweb/grpc/settings.h) and call-duration metrics.
//
//   ::grpc::ServerBuilder builder;
//   builder.AddListeningPort("127.0.0.1:50051", ::grpc::InsecureServerCredentials());
//   builder.RegisterService(&service);
//   otelweb::grpc::InstrumentServer(builder);     // after the app's own
//                                                  // SetInterceptorCreators, or
//                                                  // pass them here
//   auto server = builder.BuildAndStart();
//
// Synchronous services: the span is current in the handler (spans the
// handler starts, client calls it makes, log records it writes are its
// children). The scope is pushed on the sync server's own thread just before
// the handler runs and popped on that thread when the handler's status is
// sent. Callback and async (completion-queue) services, whose threads
// interleave many calls, get no scope pushed: read the call's context with
// ServerCallContext(ctx) and make it current around the work of that call:
//
//   otelweb::grpc::ServerCallScope scope(*server_context);   // in a reactor
//   ... spans started here are children of the call's span ...
//
// The span ends when the call finishes (its status was sent and the call
// closed, or it was cancelled), not when the handler returns; its status is
// Error only for the codes the conventions list for servers (UNKNOWN,
// DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS).
//
// Ownership: the builder (then the server) owns the interceptor factories;
// they share the compiled options, which live as long as the last call.
// Thread-safety: every function may be called from any thread; hooks are
// called on gRPC's threads concurrently.
#pragma once

#include <grpcpp/server_builder.h>
#include <grpcpp/server_context.h>
#include <grpcpp/support/server_interceptor.h>

#include <memory>
#include <optional>
#include <vector>

#include "otelweb/context.h"
#include "otelweb/grpc/settings.h"

namespace otelweb::grpc {

inline constexpr std::string_view kServerScopeName = "otelweb.grpc.server";
// "true": servers not given ServerOptions::public_endpoint in code treat the
// inbound context as untrusted (falls back to OTEL_CPP_HTTP_SERVER_PUBLIC_ENDPOINT).
inline constexpr const char* kEnvPublicEndpoint = "OTEL_CPP_GRPC_SERVER_PUBLIC_ENDPOINT";

struct ServerOptions : Settings {
  // Public endpoint (as http::ServerSettings::public_endpoint): the inbound
  // trace context comes from clients we do not trust; the call's span starts
  // a new trace with a link to the client's span context, and neither its
  // baggage nor its tracestate enters the call's context. nullopt:
  // OTEL_CPP_GRPC_SERVER_PUBLIC_ENDPOINT, else
  // OTEL_CPP_HTTP_SERVER_PUBLIC_ENDPOINT, else false.
  std::optional<bool> public_endpoint{};
  // Decides per call, overriding public_endpoint (a throwing function counts
  // as public and is reported once).
  std::function<bool(const CallView&)> public_endpoint_fn{};
};

// The interceptor factory; normally installed by InstrumentServer.
std::unique_ptr<::grpc::experimental::ServerInterceptorFactoryInterface> MakeServerInterceptorFactory(
    ServerOptions options = {});

// Installs the instrumentation on `builder`: SetInterceptorCreators with
// `app_interceptors` first (in their order) and ours last, so that the app's
// interceptors run inside the span. grpc++'s SetInterceptorCreators replaces
// the whole list: call this after the application's own call, or give its
// creators here.
void InstrumentServer(
    ::grpc::ServerBuilder& builder, ServerOptions options = {},
    std::vector<std::unique_ptr<::grpc::experimental::ServerInterceptorFactoryInterface>> app_interceptors = {});

// The context of the instrumented call that `ctx` belongs to (its span,
// and the client's baggage unless the endpoint is public); the empty context
// when the call is not instrumented or not started yet. Valid from the
// handler's first callback until the call ends (afterwards the span records
// nothing more). Takes a short lock.
Context ServerCallContext(const ::grpc::ServerContextBase& ctx) noexcept;

// Makes ServerCallContext(ctx) current on this thread for its lifetime
// (callback reactors, completion-queue handlers). Destroy it on the same
// thread, before the thread goes on with other calls.
class ServerCallScope {
 public:
  explicit ServerCallScope(const ::grpc::ServerContextBase& ctx) noexcept
      : scope_(ServerCallContext(ctx)) {}
  ServerCallScope(const ServerCallScope&) = delete;
  ServerCallScope& operator=(const ServerCallScope&) = delete;

 private:
  Scope scope_;
};

}  // namespace otelweb::grpc
