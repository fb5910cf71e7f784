// The C++ side of tests/js/grpc_interop.mjs (issue 17): otelweb_grpc against
// @grpc/grpc-js with @opentelemetry/instrumentation-grpc.
//
//   otelweb_grpc_interop_peer server     serves interop.v1.Echo (sync, instrumented;
//                                        each handler starts a span "handler <Method>"
//                                        with the tracestate and the baggage entry
//                                        "tenant" it sees as test.tracestate and
//                                        test.tenant), prints "listening on PORT"; on
//                                        SIGTERM or stdin EOF stops and prints its spans
//   otelweb_grpc_interop_peer client T   inside a root span "cpp-root" (child of a remote
//                                        parent with tracestate "cpp=t1", baggage
//                                        tenant=cpp-tenant current) calls T: Unary
//                                        "hello", ServerStream count 2, ClientStream and
//                                        Bidi with three messages, Unary with status_code
//                                        5 and 13, Unary with delay 1.5 s under a 1 s
//                                        deadline, ServerStream (2 replies) ending with 13,
//                                        Bidi (2 messages) ending with 5, ClientStream
//                                        ending with 13; prints the codes and its spans
//
// Spans are printed one JSON object a line: {"span":{kind,traceId,spanId,
// parentSpanId,name,status,tracestate,attrs}}.
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>

#include "grpc_echo_service.h"
#include "otelweb/grpc/client.h"
#include "otelweb/grpc/server.h"
#include "otelweb/testing/memory_tracing.h"
#include "otelweb/testing/span_readers.h"

namespace {

using otelweb::SpanData;
using otelweb::SpanKind;

const char* Kind(SpanKind k) {
  switch (k) {
    case SpanKind::kServer:
      return "SERVER";
    case SpanKind::kClient:
      return "CLIENT";
    default:
      return "INTERNAL";
  }
}

std::string Hex(const otelweb::SpanId& id) {
  char buf[16];
  id.ToHex(buf);
  return std::string(buf, 16);
}

void Print(const otelweb::testing::MemoryTracing& t) {
  for (const SpanData* s : t.spans()) {
    std::string attrs;
    for (const char* k : {"rpc.system", "rpc.service", "rpc.method", "error.type", "server.address",
                          "test.tracestate", "test.tenant"}) {
      if (!otelweb::testing::HasAttr(s, k)) continue;
      attrs += std::string(attrs.empty() ? "" : ",") + "\"" + k + "\":\"" + otelweb::testing::StrAttr(s, k) + "\"";
    }
    if (otelweb::testing::HasAttr(s, "rpc.grpc.status_code")) {
      attrs += std::string(attrs.empty() ? "" : ",") + "\"rpc.grpc.status_code\":" +
               std::to_string(otelweb::testing::IntAttr(s, "rpc.grpc.status_code"));
    }
    std::printf(
        "{\"span\":{\"kind\":\"%s\",\"traceId\":\"%s\",\"spanId\":\"%s\",\"parentSpanId\":\"%s\",\"name\":\"%s\","
        "\"status\":%d,\"tracestate\":\"%s\",\"attrs\":{%s}}}\n",
        Kind(s->kind()), s->trace_id().ToHex().c_str(), Hex(s->span_id()).c_str(),
        s->parent_span_id().IsValid() ? Hex(s->parent_span_id()).c_str() : "", std::string(s->name()).c_str(),
        static_cast<int>(s->status()), std::string(s->context().trace_state().header()).c_str(), attrs.c_str());
  }
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  otelweb::testing::MemoryTracing t;  // the global provider, always_on
  if (mode == "server") {
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);
    echo_example::EchoService service;
    service.on_call = [](const char* method) {
      const otelweb::Context c = otelweb::Context::Current();
      const std::string state(c.span_context().trace_state().header());
      const std::string tenant(c.baggage().Get("tenant"));
      otelweb::Span s = otelweb::GetTracerProvider()->GetTracer("handler").StartSpan(std::string("handler ") + method);
      s.SetAttribute("test.tracestate", state);
      s.SetAttribute("test.tenant", tenant);
      s.End();
    };
    ::grpc::ServerBuilder b;
    int port = 0;
    b.AddListeningPort("127.0.0.1:0", ::grpc::InsecureServerCredentials(), &port);
    b.RegisterService(&service);
    otelweb::grpc::InstrumentServer(b);
    auto server = b.BuildAndStart();
    std::printf("listening on %d\n", port);
    std::fflush(stdout);
    std::thread eof([] {
      char c;
      while (read(0, &c, 1) > 0) {
      }
      kill(getpid(), SIGTERM);
    });
    eof.detach();
    int sig = 0;
    sigwait(&stop, &sig);
    server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
    t.WaitFor(1);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    Print(t);
    return 0;
  }
  if (mode != "client" || argc < 3) {
    std::fprintf(stderr, "usage: %s server | client host:port\n", argv[0]);
    return 2;
  }
  auto stub = interop::v1::Echo::NewStub(
      otelweb::grpc::CreateInstrumentedChannel(argv[2], ::grpc::InsecureChannelCredentials()));
  auto req = [](const char* m, int count = 0, int delay = 0, int code = 0) {
    interop::v1::EchoRequest r;
    r.set_message(m);
    r.set_count(count);
    r.set_delay_ms(delay);
    r.set_status_code(code);
    return r;
  };
  std::string codes;
  auto note = [&](const char* what, const ::grpc::Status& st) {
    codes += std::string(codes.empty() ? "" : ",") + "\"" + what + "\":" + std::to_string(int(st.error_code()));
  };
  // A remote parent with a tracestate: cpp-root and its CLIENT spans inherit it.
  const otelweb::Context upstream = otelweb::Context().WithSpanContext(otelweb::SpanContext(
      *otelweb::TraceId::FromHex("0af7651916cd43dd8448eb211c80319c"), *otelweb::SpanId::FromHex("b7ad6b7169203331"),
      otelweb::TraceFlags{1}, true, otelweb::TraceState::FromHeader("cpp=t1")));
  otelweb::SpanOptions ro;
  ro.parent = &upstream;
  otelweb::Span root = t.tracer().StartSpan("cpp-root", ro);
  {
    otelweb::Scope scope(root.AsContext().WithBaggage(otelweb::Baggage().Set("tenant", "cpp-tenant")));
    interop::v1::EchoReply reply;
    {
      ::grpc::ClientContext ctx;
      note("Unary", stub->Unary(&ctx, req("hello"), &reply));
    }
    {
      ::grpc::ClientContext ctx;
      auto r = stub->ServerStream(&ctx, req("hello", 2));
      while (r->Read(&reply)) {
      }
      note("ServerStream", r->Finish());
    }
    {
      ::grpc::ClientContext ctx;
      auto w = stub->ClientStream(&ctx, &reply);
      for (const char* m : {"a", "b", "c"}) w->Write(req(m));
      w->WritesDone();
      note("ClientStream", w->Finish());
    }
    {
      ::grpc::ClientContext ctx;
      auto s = stub->Bidi(&ctx);
      for (const char* m : {"a", "b", "c"}) {
        s->Write(req(m));
        s->Read(&reply);
      }
      s->WritesDone();
      note("Bidi", s->Finish());
    }
    for (int code : {5, 13}) {
      ::grpc::ClientContext ctx;
      note(code == 5 ? "NotFound" : "Internal", stub->Unary(&ctx, req("e", 0, 0, code), &reply));
    }
    {
      ::grpc::ClientContext ctx;
      // A deadline long enough for the server to receive the request and start
      // its handler on a loaded machine (100 ms could pass first: no handler,
      // no server span); the handler's 1.5 s delay still outlasts it.
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(1000));
      note("Deadline", stub->Unary(&ctx, req("slow", 0, 1500), &reply));
    }
    // Streaming calls ending with an error status.
    {
      ::grpc::ClientContext ctx;
      auto r = stub->ServerStream(&ctx, req("e", 2, 0, 13));
      while (r->Read(&reply)) {
      }
      note("ServerStreamInternal", r->Finish());
    }
    {
      ::grpc::ClientContext ctx;
      auto s = stub->Bidi(&ctx);
      s->Write(req("a"));
      s->Read(&reply);
      s->Write(req("b", 0, 0, 5));
      s->Read(&reply);
      s->WritesDone();
      while (s->Read(&reply)) {
      }
      note("BidiNotFound", s->Finish());
    }
    {
      ::grpc::ClientContext ctx;
      auto w = stub->ClientStream(&ctx, &reply);
      w->Write(req("a"));
      w->Write(req("b", 0, 0, 13));
      w->WritesDone();
      note("ClientStreamInternal", w->Finish());
    }
  }
  root.End();
  std::printf("{\"codes\":{%s}}\n", codes.c_str());
  t.WaitFor(11);
  Print(t);
  return 0;
}
