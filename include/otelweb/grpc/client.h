// gRPC client instrumentation for grpc++ 1.51 (library otelweb_grpc). grpc++
// 1.51 attaches interceptors only when a channel is created, so the channel
// is created here: every call on a stub over it gets a CLIENT span named
// "pkg.Service/Method", a child of the context current when the call starts,
// and that span's context is injected into the call's metadata (W3C
// traceparent/tracestate/baggage through the global propagators). Unary and
// streaming calls, every API style (blocking, callback, async); deadlines and
// cancellation end the span with their status (Error for any code but OK).
//
//   auto channel = otelweb::grpc::CreateInstrumentedChannel("127.0.0.1:50051",
//                                               ::grpc::InsecureChannelCredentials());
//   auto stub = interop::v1::Echo::NewStub(channel);
//
// No span is made while instrumentation is suppressed (Context::
// WithInstrumentationSuppressed), and the OTLP exporter's own channel is never
// one of these: the export calls are never traced.
//
// Ownership: the channel owns the interceptor factories; they share the
// compiled options, which live as long as the last call.
// Thread-safety: every function may be called from any thread; hooks are
// called concurrently (callback calls end on gRPC's threads).
#pragma once

#include <grpcpp/channel.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>
#include <grpcpp/support/client_interceptor.h>

#include <memory>
#include <string>
#include <vector>

#include "otelweb/grpc/settings.h"

namespace otelweb::grpc {

inline constexpr std::string_view kClientScopeName = "otelweb.grpc.client";

struct ClientOptions : Settings {};

// The interceptor factory for a channel to `target` ("host:port", "dns:///host:port",
// "ipv4:..."; server.address and server.port are parsed from it).
std::unique_ptr<::grpc::experimental::ClientInterceptorFactoryInterface> MakeClientInterceptorFactory(
    std::string_view target, ClientOptions options = {});

// CreateCustomChannelWithInterceptors with ours first, then `app_interceptors`
// in their order.
std::shared_ptr<::grpc::Channel> CreateInstrumentedChannel(
    const std::string& target, const std::shared_ptr<::grpc::ChannelCredentials>& credentials,
    const ::grpc::ChannelArguments& args = {}, ClientOptions options = {},
    std::vector<std::unique_ptr<::grpc::experimental::ClientInterceptorFactoryInterface>> app_interceptors = {});

}  // namespace otelweb::grpc
