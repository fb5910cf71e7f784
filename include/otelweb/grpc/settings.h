// Settings shared by the gRPC server and client instrumentation (library
// otelweb_grpc): providers, the method filter, the semantic-convention set,
// message events, the hooks' exception policy; and the view of one call that
// filters and hooks receive.
//
// Semantic conventions: by default the RPC attributes the official
// instrumentations of other languages emit today (semconv 1.26 .. 1.37 RPC
// spans: rpc.system, rpc.service, rpc.method, rpc.grpc.status_code,
// server.address/port, network.peer.address/port, error.type; metrics
// rpc.server.duration / rpc.client.duration in ms). OTEL_SEMCONV_STABILITY_OPT_IN
// containing "rpc" selects the release-candidate set of semconv 1.38
// (rpc.system.name, fully qualified rpc.method "pkg.Service/Method",
// rpc.response.status_code as the code's name; metrics rpc.server.call.duration
// / rpc.client.call.duration in s); "rpc/dup" emits both (rpc.method then
// carries the fully qualified name). See docs/grpc.md.
//
// Ownership: plain values; the instrumentation copies what it keeps.
// Thread-safety: value types. Hooks and filters are called concurrently from
// gRPC's threads and must be thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "otelweb/instrumentation.h"
#include "otelweb/metrics/meter_provider.h"
#include "otelweb/trace/tracer_provider.h"

namespace grpc {
class string_ref;
}  // namespace grpc

namespace otelweb::grpc {

// Which RPC semantic conventions are emitted.
enum class SemconvSet : uint8_t {
  kOld,        // the default: what other languages' instrumentations emit today
  kNew,        // OTEL_SEMCONV_STABILITY_OPT_IN=rpc: the release-candidate set
  kDuplicate,  // OTEL_SEMCONV_STABILITY_OPT_IN=rpc/dup: both
};
// The set named by OTEL_SEMCONV_STABILITY_OPT_IN (a comma-separated list; "rpc"
// or "rpc/dup" entries; anything else leaves kOld).
SemconvSet SemconvSetFromEnv() noexcept;

enum class CallType : uint8_t { kUnary, kClientStreaming, kServerStreaming, kBidiStreaming };

// gRPC metadata as grpc++ gives it on the receiving side.
using MetadataMap = std::multimap<::grpc::string_ref, ::grpc::string_ref>;

// One call, as filters and hooks see it. Views are valid for the call of the
// hook only.
struct CallView {
  // "/pkg.Service/Method" as gRPC names it on the wire.
  std::string_view full_method;
  std::string_view service;  // "pkg.Service"
  std::string_view method;   // "Method"
  CallType type = CallType::kUnary;
  // Server: the client's metadata (request hook and after). Client: null in
  // the request hook (metadata is being written), the server's initial
  // metadata in the response hook when it was received.
  const MetadataMap* metadata = nullptr;
  // Client: the metadata about to be sent (request hook only; a hook may add
  // entries). Null on the server.
  std::multimap<std::string, std::string>* outgoing_metadata = nullptr;
  // The grpc++ context (const ::grpc::ServerContextBase* on the server,
  // ::grpc::ClientContext* on the client).
  const void* native_context = nullptr;
};

// The final status of a call for the response hook.
struct CallStatus {
  int code = 0;  // grpc::StatusCode
  std::string_view message;
  bool cancelled = false;
};

using RequestHook = std::function<void(SpanRef, const CallView&)>;
using ResponseHook = std::function<void(SpanRef, const CallView&, const CallStatus&)>;

struct Settings {
  // Null: the global tracer provider, as it is when the call starts.
  std::shared_ptr<TracerProvider> tracer_provider{};
  // Null: the global meter provider (nothing is recorded with the no-op one).
  std::shared_ptr<metrics::MeterProvider> meter_provider{};
  // Methods that get no span, no metrics and (clients) no injected context:
  // each entry is a fully qualified method "pkg.Service/Method" or a whole
  // service "pkg.Service" (e.g. "grpc.health.v1.Health",
  // "grpc.reflection.v1alpha.ServerReflection").
  std::vector<std::string> excluded_methods{};
  // Decides per call; true excludes it (after excluded_methods). A throwing
  // filter counts as "not excluded" and is reported once.
  std::function<bool(const CallView&)> exclude{};
  // nullopt: OTEL_SEMCONV_STABILITY_OPT_IN (see SemconvSetFromEnv).
  std::optional<SemconvSet> semconv{};
  // One "message" event per message sent or received (rpc.message.type SENT /
  // RECEIVED, rpc.message.id from 1). Off by default: a long stream would
  // fill the span's event limit.
  bool message_events = false;
  RequestHook request_hook{};
  ResponseHook response_hook{};
  instrumentation::HookExceptionPolicy hook_exceptions = instrumentation::HookExceptionPolicy::kReportOnce;
};

// The name of a grpc::StatusCode ("OK", "DEADLINE_EXCEEDED"); "UNKNOWN" for a
// value outside 0..16.
std::string_view StatusCodeName(int code) noexcept;

}  // namespace otelweb::grpc
