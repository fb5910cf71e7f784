// gRPC instrumentation on real servers and channels on 127.0.0.1: the
// interop.v1.Echo service (sync, callback and async APIs), our client channel;
// trace linkage client -> server -> handler span, the four call kinds,
// statuses (error statuses of every kind on both sides), deadlines,
// cancellation, tracestate and baggage, filters (incl. gRPC's own health and
// reflection services), hooks with metadata, public endpoints, the semconv
// sets, message events, concurrent calls, IPv6 loopback and address forms.
#include <gtest/gtest.h>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "grpc/common.h"
#include "grpc_echo_service.h"
#include "otelweb/grpc/client.h"
#include "otelweb/grpc/server.h"
#include "otelweb/testing/diagnostics_capture.h"
#include "otelweb/testing/memory_tracing.h"
#include "otelweb/testing/scoped_env.h"
#include "otelweb/testing/span_readers.h"
#include "otelweb/trace/tracer_provider.h"

namespace otelweb::grpc {
namespace {

using interop::v1::EchoReply;
using interop::v1::EchoRequest;
using otelweb::testing::IntAttr;
using otelweb::testing::MemoryTracing;
using otelweb::testing::StrAttr;

// A running server with the sync echo service (handler spans named
// "handler <Method>" started on the handler's thread, no explicit parent).
struct EchoServer {
  explicit EchoServer(ServerOptions options = {},
                      std::vector<std::unique_ptr<::grpc::experimental::ServerInterceptorFactoryInterface>> app = {},
                      ::grpc::Service* other = nullptr) {
    service.on_call = [](const char* method) {
      Span s = GetTracerProvider()->GetTracer("handler").StartSpan(std::string("handler ") + method);
      s.End();
    };
    ::grpc::ServerBuilder b;
    b.AddListeningPort("127.0.0.1:0", ::grpc::InsecureServerCredentials(), &port);
    b.RegisterService(other != nullptr ? other : &service);
    InstrumentServer(b, std::move(options), std::move(app));
    server = b.BuildAndStart();
  }
  ~EchoServer() { server->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(200)); }
  std::string target() const { return "127.0.0.1:" + std::to_string(port); }
  echo_example::EchoService service;
  int port = 0;
  std::unique_ptr<::grpc::Server> server;
};

std::unique_ptr<interop::v1::Echo::Stub> Stub(const EchoServer& s, ClientOptions o = {}) {
  return interop::v1::Echo::NewStub(CreateInstrumentedChannel(s.target(), ::grpc::InsecureChannelCredentials(), {}, std::move(o)));
}

EchoRequest Req(std::string msg, int count = 0, int delay_ms = 0, int status = 0) {
  EchoRequest r;
  r.set_message(std::move(msg));
  r.set_count(count);
  r.set_delay_ms(delay_ms);
  r.set_status_code(status);
  return r;
}

const SpanData* Named(const std::vector<const SpanData*>& spans, std::string_view name, SpanKind kind) {
  for (const SpanData* s : spans)
    if (s->name() == name && s->kind() == kind) return s;
  return nullptr;
}
const SpanData* Named(const std::vector<const SpanData*>& spans, std::string_view name) {
  for (const SpanData* s : spans)
    if (s->name() == name) return s;
  return nullptr;
}

// One blocking Unary call inside a span "root", current while the call runs.
::grpc::Status UnaryUnderRoot(MemoryTracing& t, interop::v1::Echo::Stub& stub, const EchoRequest& req,
                              EchoReply* reply = nullptr) {
  Span root = t.tracer().StartSpan("root");
  Scope scope(root.AsContext());
  ::grpc::ClientContext ctx;
  EchoReply ignored;
  ::grpc::Status st = stub.Unary(&ctx, req, reply != nullptr ? reply : &ignored);
  root.End();
  return st;
}

// root -> CLIENT -> SERVER -> handler, all in one trace.
void ExpectChain(const std::vector<const SpanData*>& spans, std::string_view method) {
  std::string name = "interop.v1.Echo/" + std::string(method);
  const SpanData* root = Named(spans, "root");
  const SpanData* client = Named(spans, name, SpanKind::kClient);
  const SpanData* server = Named(spans, name, SpanKind::kServer);
  const SpanData* handler = Named(spans, "handler " + std::string(method));
  ASSERT_NE(root, nullptr);
  ASSERT_NE(client, nullptr) << method;
  ASSERT_NE(server, nullptr) << method;
  ASSERT_NE(handler, nullptr) << method;
  EXPECT_EQ(client->trace_id(), root->trace_id());
  EXPECT_EQ(client->parent_span_id(), root->span_id());
  EXPECT_EQ(server->trace_id(), root->trace_id());
  EXPECT_EQ(server->parent_span_id(), client->span_id());
  EXPECT_TRUE(server->parent_is_remote());
  EXPECT_EQ(handler->parent_span_id(), server->span_id()) << "the call's span is current in the sync handler";
  for (const SpanData* s : {client, server}) {
    EXPECT_EQ(StrAttr(s, "rpc.system"), "grpc");
    EXPECT_EQ(StrAttr(s, "rpc.service"), "interop.v1.Echo");
    EXPECT_EQ(StrAttr(s, "rpc.method"), method);
    EXPECT_EQ(IntAttr(s, "rpc.grpc.status_code"), 0);
    EXPECT_EQ(StrAttr(s, "server.address"), "127.0.0.1");
    EXPECT_EQ(s->status(), StatusCode::kUnset);
  }
  EXPECT_EQ(StrAttr(server, "network.peer.address"), "127.0.0.1");
  EXPECT_GT(IntAttr(server, "network.peer.port"), 0);
  // The client's peer is the server's socket: the target's address and port.
  EXPECT_EQ(StrAttr(client, "network.peer.address"), "127.0.0.1");
  EXPECT_EQ(IntAttr(client, "network.peer.port"), IntAttr(client, "server.port"));
  EXPECT_GT(IntAttr(client, "server.port"), 0);
}

TEST(GrpcServer, SyncUnaryContinuesTheClientTraceAndIsCurrentInTheHandler) {
  MemoryTracing t;
  EchoServer s;
  auto stub = Stub(s);
  {
    EchoReply reply;
    ASSERT_TRUE(UnaryUnderRoot(t, *stub, Req("hello"), &reply).ok());
    EXPECT_EQ(reply.message(), "hello");
  }
  auto spans = t.Exactly(4);
  ExpectChain(spans, "Unary");
  const SpanData* server = Named(spans, "interop.v1.Echo/Unary", SpanKind::kServer);
  EXPECT_EQ(IntAttr(server, "server.port"), s.port);
}

// The per-call objects come from the block lists reserved when the server and
// channel were made: sequential calls allocate none on the call path, and
// each call gives its block back (more calls than blocks reserved).
TEST(GrpcServer, CallObjectsComeFromTheReservedBlocks) {
  MemoryTracing t;
  EchoServer s;
  auto stub = Stub(s);
  const internal::CallBlocks::Stats s0 = internal::ServerCallBlockStats();
  const internal::CallBlocks::Stats c0 = internal::ClientCallBlockStats();
  constexpr int kCalls = 150;  // > 64 reserved: fails if blocks are not given back
  for (int i = 0; i < kCalls; ++i) {
    ::grpc::ClientContext ctx;
    EchoReply reply;
    ASSERT_TRUE(stub->Unary(&ctx, Req("x"), &reply).ok());
  }
  const internal::CallBlocks::Stats s1 = internal::ServerCallBlockStats();
  const internal::CallBlocks::Stats c1 = internal::ClientCallBlockStats();
  EXPECT_EQ(s1.taken - s0.taken, uint64_t{kCalls});
  EXPECT_EQ(c1.taken - c0.taken, uint64_t{kCalls});
  EXPECT_EQ(s1.misses, s0.misses) << "a server call allocated its object";
  EXPECT_EQ(c1.misses, c0.misses) << "a client call allocated its object";
  EXPECT_GT(s1.cached, 0u);  // (the last call's server object may still be in use)
  EXPECT_TRUE(t.WaitFor(2 * kCalls));
}

TEST(GrpcServer, StreamingKindsAreTracedAndLinked) {
  MemoryTracing t;
  EchoServer s;
  auto stub = Stub(s);
  Span root = t.tracer().StartSpan("root");
  {
    Scope scope(root.AsContext());
    {
      ::grpc::ClientContext ctx;
      auto reader = stub->ServerStream(&ctx, Req("s", 3));
      EchoReply r;
      int n = 0;
      while (reader->Read(&r)) EXPECT_EQ(r.index(), n++);
      EXPECT_EQ(n, 3);
      EXPECT_TRUE(reader->Finish().ok());
    }
    {
      ::grpc::ClientContext ctx;
      EchoReply r;
      auto writer = stub->ClientStream(&ctx, &r);
      for (const char* m : {"a", "b", "c"}) writer->Write(Req(m));
      writer->WritesDone();
      EXPECT_TRUE(writer->Finish().ok());
      EXPECT_EQ(r.message(), "a,b,c");
      EXPECT_EQ(r.received_messages(), 3);
    }
    {
      ::grpc::ClientContext ctx;
      auto stream = stub->Bidi(&ctx);
      for (const char* m : {"x", "y", "z"}) {
        stream->Write(Req(m));
        EchoReply r;
        ASSERT_TRUE(stream->Read(&r));
        EXPECT_EQ(r.message(), m);
      }
      stream->WritesDone();
      EXPECT_TRUE(stream->Finish().ok());
    }
  }
  root.End();
  auto spans = t.Exactly(10);
  for (const char* m : {"ServerStream", "ClientStream", "Bidi"}) ExpectChain(spans, m);
}

TEST(GrpcServer, StatusCodesClientErrorForAnyServerOnlyForListedCodes) {
  MemoryTracing t;
  EchoServer s;
  auto stub = Stub(s);
  for (int code : {5, 13}) {  // NOT_FOUND: client error only; INTERNAL: both
    ::grpc::ClientContext ctx;
    EchoReply r;
    EXPECT_EQ(int(stub->Unary(&ctx, Req("e", 0, 0, code), &r).error_code()), code);
  }
  {
    ::grpc::ClientContext ctx;  // a code outside 1..16: INVALID_ARGUMENT
    EchoReply r;
    EXPECT_EQ(stub->Unary(&ctx, Req("e", 0, 0, 99), &r).error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  }
  auto spans = t.Exactly(9);
  std::vector<const SpanData*> clients, servers;
  for (const SpanData* sp : spans) {
    if (sp->kind() == SpanKind::kClient) clients.push_back(sp);
    if (sp->kind() == SpanKind::kServer) servers.push_back(sp);
  }
  ASSERT_EQ(clients.size(), 3u);
  ASSERT_EQ(servers.size(), 3u);
  EXPECT_EQ(IntAttr(clients[0], "rpc.grpc.status_code"), 5);
  EXPECT_EQ(clients[0]->status(), StatusCode::kError);
  EXPECT_EQ(StrAttr(clients[0], "error.type"), "NOT_FOUND");
  EXPECT_NE(clients[0]->status_description().find("status_code 5"), std::string_view::npos);
  EXPECT_EQ(IntAttr(servers[0], "rpc.grpc.status_code"), 5);
  EXPECT_EQ(servers[0]->status(), StatusCode::kUnset);
  EXPECT_FALSE(otelweb::testing::HasAttr(servers[0], "error.type"));
  EXPECT_EQ(IntAttr(clients[1], "rpc.grpc.status_code"), 13);
  EXPECT_EQ(clients[1]->status(), StatusCode::kError);
  EXPECT_EQ(servers[1]->status(), StatusCode::kError);
  EXPECT_EQ(StrAttr(servers[1], "error.type"), "INTERNAL");
  EXPECT_EQ(IntAttr(servers[2], "rpc.grpc.status_code"), 3);
}

// The server records what it saw: DEADLINE_EXCEEDED only when its own copy of
// the deadline had passed when the call closed, else CANCELLED (the client's
// cancellation at its deadline usually arrives first). Which one happens is a
// race; the rule is checked against the server's deadline at the response hook
// (after the decision: a passed deadline stays passed).
TEST(GrpcServer, DeadlineExceededAndCancellationAreRecordedOnBothSides) {
  MemoryTracing t;
  ServerOptions so;
  std::atomic<int> hook_code{-1};
  std::atomic<bool> hook_deadline_passed{false};
  so.response_hook = [&](SpanRef, const CallView& v, const CallStatus& st) {
    if (v.method != "Unary") return;
    auto* ctx = static_cast<const ::grpc::ServerContextBase*>(v.native_context);
    hook_deadline_passed = ctx->deadline() <= std::chrono::system_clock::now();
    hook_code = st.code;
  };
  EchoServer s(so);
  auto stub = Stub(s);
  {
    ::grpc::ClientContext ctx;
    // The deadline leaves the server time to receive the request and start
    // the handler (on a loaded machine a 60 ms deadline could pass first: the
    // server then answers INTERNAL "No payload" without running it); the
    // handler's delay is ten times longer, and it stops when cancelled.
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(1000));
    EchoReply r;
    EXPECT_EQ(stub->Unary(&ctx, Req("slow", 0, 10000), &r).error_code(), ::grpc::StatusCode::DEADLINE_EXCEEDED);
  }
  ASSERT_TRUE(t.WaitFor(3));
  {
    ::grpc::ClientContext ctx;
    auto reader = stub->ServerStream(&ctx, Req("c", 50, 20));
    EchoReply r;
    ASSERT_TRUE(reader->Read(&r));
    ctx.TryCancel();
    while (reader->Read(&r)) {
    }
    EXPECT_EQ(reader->Finish().error_code(), ::grpc::StatusCode::CANCELLED);
  }
  auto spans = t.Exactly(6, std::chrono::milliseconds(100));
  const SpanData* dc = Named(spans, "interop.v1.Echo/Unary", SpanKind::kClient);
  const SpanData* ds = Named(spans, "interop.v1.Echo/Unary", SpanKind::kServer);
  ASSERT_TRUE(dc && ds);
  EXPECT_EQ(IntAttr(dc, "rpc.grpc.status_code"), 4);
  EXPECT_EQ(dc->status(), StatusCode::kError);
  const int64_t server_code = IntAttr(ds, "rpc.grpc.status_code");
  EXPECT_EQ(server_code, hook_code.load());
  if (server_code == 4) {
    EXPECT_TRUE(hook_deadline_passed.load()) << "DEADLINE_EXCEEDED only once the server's deadline passed";
    EXPECT_EQ(ds->status(), StatusCode::kError);
    EXPECT_EQ(StrAttr(ds, "error.type"), "DEADLINE_EXCEEDED");
  } else {
    EXPECT_EQ(server_code, 1) << "the client's cancellation arrived first: CANCELLED";
    EXPECT_EQ(ds->status(), StatusCode::kUnset);
  }
  EXPECT_LT(ds->end_time() - ds->start_time(), std::chrono::milliseconds(5000)) << "ends when the call does";
  const SpanData* cc = Named(spans, "interop.v1.Echo/ServerStream", SpanKind::kClient);
  const SpanData* cs = Named(spans, "interop.v1.Echo/ServerStream", SpanKind::kServer);
  ASSERT_TRUE(cc && cs);
  EXPECT_EQ(IntAttr(cc, "rpc.grpc.status_code"), 1);
  EXPECT_EQ(cc->status(), StatusCode::kError);
  size_t idx = 0;
  EXPECT_NE(otelweb::testing::EventNamed(cc, "cancelled", &idx), nullptr);
  EXPECT_EQ(IntAttr(cs, "rpc.grpc.status_code"), 1);
  EXPECT_EQ(cs->status(), StatusCode::kUnset);
}

// Callback API: the accessor and the documented scope make the call's span
// the parent of work done in a reactor.
class CallbackEcho final : public interop::v1::Echo::CallbackService {
 public:
  ::grpc::ServerUnaryReactor* Unary(::grpc::CallbackServerContext* ctx, const EchoRequest* req,
                                    EchoReply* reply) override {
    auto* reactor = ctx->DefaultReactor();
    std::thread([ctx, req, reply, reactor] {  // another thread, as an app's worker pool
      {
        ServerCallScope scope(*ctx);
        Span s = GetTracerProvider()->GetTracer("handler").StartSpan("handler Unary");
        s.End();
      }
      reply->set_message(req->message());
      reactor->Finish(::grpc::Status::OK);
    }).detach();
    return reactor;
  }
};

TEST(GrpcServer, CallbackServiceGetsTheCallContextThroughTheAccessor) {
  MemoryTracing t;
  CallbackEcho cb;
  EchoServer s({}, {}, &cb);
  auto stub = Stub(s);
  ASSERT_TRUE(UnaryUnderRoot(t, *stub, Req("cb")).ok());
  ExpectChain(t.Exactly(4), "Unary");
}

// A callback bidi reactor: each OnReadDone runs on a gRPC thread with no scope;
// ServerCallScope makes the call's span current there.
class CallbackBidi final : public interop::v1::Echo::CallbackService {
 public:
  ::grpc::ServerBidiReactor<EchoRequest, EchoReply>* Bidi(::grpc::CallbackServerContext* ctx) override {
    class Reactor final : public ::grpc::ServerBidiReactor<EchoRequest, EchoReply> {
     public:
      explicit Reactor(::grpc::CallbackServerContext* c) : ctx_(c) { StartRead(&req_); }
      void OnReadDone(bool ok) override {
        if (!ok) {
          Finish(::grpc::Status::OK);
          return;
        }
        EXPECT_FALSE(Context::Current().span_context().IsValid()) << "nothing current on gRPC's thread";
        {
          ServerCallScope scope(*ctx_);
          Span s = GetTracerProvider()->GetTracer("handler").StartSpan("handler Bidi");
          s.End();
        }
        reply_.set_message(req_.message());
        StartWrite(&reply_);
      }
      void OnWriteDone(bool ok) override {
        if (ok) {
          StartRead(&req_);
        } else {
          Finish(::grpc::Status::CANCELLED);
        }
      }
      void OnDone() override { delete this; }

     private:
      ::grpc::CallbackServerContext* ctx_;
      EchoRequest req_;
      EchoReply reply_;
    };
    return new Reactor(ctx);
  }
};

TEST(GrpcServer, CallbackBidiReactorMakesTheCallCurrentWithServerCallScope) {
  MemoryTracing t;
  CallbackBidi cb;
  EchoServer s({}, {}, &cb);
  auto stub = Stub(s);
  ::grpc::ClientContext ctx;
  auto stream = stub->Bidi(&ctx);
  for (const char* m : {"1", "2"}) {
    ASSERT_TRUE(stream->Write(Req(m)));
    EchoReply r;
    ASSERT_TRUE(stream->Read(&r));
    EXPECT_EQ(r.message(), m);
  }
  stream->WritesDone();
  ASSERT_TRUE(stream->Finish().ok());
  auto spans = t.Exactly(4);
  const SpanData* server = Named(spans, "interop.v1.Echo/Bidi", SpanKind::kServer);
  const SpanData* client = Named(spans, "interop.v1.Echo/Bidi", SpanKind::kClient);
  ASSERT_TRUE(server && client);
  EXPECT_EQ(server->parent_span_id(), client->span_id());
  EXPECT_EQ(IntAttr(server, "rpc.grpc.status_code"), 0);
  int handlers = 0;
  for (const SpanData* sp : spans) {
    if (sp->name() != "handler Bidi") continue;
    ++handlers;
    EXPECT_EQ(sp->parent_span_id(), server->span_id());
    EXPECT_LE(sp->end_time(), server->end_time()) << "the call's span ends after the reactor's work";
  }
  EXPECT_EQ(handlers, 2);
}

// An instrumented server with the async (completion-queue) echo service and
// one queue, and an instrumented channel to it.
struct AsyncEchoServer {
  AsyncEchoServer() {
    ::grpc::ServerBuilder b;
    b.AddListeningPort("127.0.0.1:0", ::grpc::InsecureServerCredentials(), &port);
    b.RegisterService(&async);
    cq = b.AddCompletionQueue();
    InstrumentServer(b);
    server = b.BuildAndStart();
    stub = interop::v1::Echo::NewStub(
        CreateInstrumentedChannel("127.0.0.1:" + std::to_string(port), ::grpc::InsecureChannelCredentials()));
  }
  // Shuts the server and queue down and drains the queue (on the queue's thread).
  void Stop() {
    server->Shutdown(std::chrono::system_clock::now());
    cq->Shutdown();
    void* tag;
    bool ok;
    while (cq->Next(&tag, &ok)) {
    }
  }
  interop::v1::Echo::AsyncService async;
  int port = 0;
  std::unique_ptr<::grpc::ServerCompletionQueue> cq;
  std::unique_ptr<::grpc::Server> server;
  std::unique_ptr<interop::v1::Echo::Stub> stub;
};

void* Tag(intptr_t n) { return reinterpret_cast<void*>(n); }

TEST(GrpcServer, AsyncServiceUsesTheAccessorAndNoScopeLeaksOntoTheQueueThread) {
  MemoryTracing t;
  AsyncEchoServer a;
  auto& async = a.async;
  auto& cq = a.cq;
  std::thread worker([&] {
    ::grpc::ServerContext ctx;
    EchoRequest req;
    ::grpc::ServerAsyncResponseWriter<EchoReply> responder(&ctx);
    async.RequestUnary(&ctx, &req, &responder, cq.get(), cq.get(), reinterpret_cast<void*>(1));
    void* tag;
    bool ok;
    ASSERT_TRUE(cq->Next(&tag, &ok));
    EXPECT_FALSE(Context::Current().span_context().IsValid()) << "no scope pushed on the queue's thread";
    {
      ServerCallScope scope(ctx);
      Span s = GetTracerProvider()->GetTracer("handler").StartSpan("handler Unary");
      s.End();
    }
    EchoReply reply;
    reply.set_message(req.message());
    responder.Finish(reply, ::grpc::Status::OK, reinterpret_cast<void*>(2));
    ASSERT_TRUE(cq->Next(&tag, &ok));
    a.Stop();
  });
  ASSERT_TRUE(UnaryUnderRoot(t, *a.stub, Req("async")).ok());
  worker.join();
  ExpectChain(t.Exactly(4), "Unary");
}

// Async server-streaming and bidi calls in flight at once, served by one
// queue thread that interleaves their steps: each step makes its own call's
// span current with ServerCallScope, so the work of each step is a child of
// the right call; nothing stays current on the queue's thread between steps;
// each SERVER span ends when its call is over, after its steps.
TEST(GrpcServer, AsyncStreamingCallsInterleavedOnOneQueueThreadEachGetTheirOwnParent) {
  MemoryTracing t;
  AsyncEchoServer a;
  auto step = [](const ::grpc::ServerContextBase& ctx, const std::string& name) {
    ServerCallScope scope(ctx);
    GetTracerProvider()->GetTracer("handler").StartSpan(name).End();
  };
  std::thread worker([&] {
    ::grpc::ServerContext ss_ctx, bidi_ctx;
    EchoRequest ss_req, bidi_req;
    ::grpc::ServerAsyncWriter<EchoReply> ss(&ss_ctx);
    ::grpc::ServerAsyncReaderWriter<EchoReply, EchoRequest> bidi(&bidi_ctx);
    a.async.RequestServerStream(&ss_ctx, &ss_req, &ss, a.cq.get(), a.cq.get(), Tag(10));
    a.async.RequestBidi(&bidi_ctx, &bidi, a.cq.get(), a.cq.get(), Tag(20));
    int ss_sent = 0, bidi_index = 0, done = 0;
    EchoReply reply;
    void* tag;
    bool ok;
    while (done < 2 && a.cq->Next(&tag, &ok)) {
      EXPECT_FALSE(Context::Current().span_context().IsValid()) << "nothing current on the queue's thread";
      switch (reinterpret_cast<intptr_t>(tag)) {
        case 10:  // server streaming: started
        case 11:  // a reply written
          if (ss_sent < std::max(ss_req.count(), 1)) {
            step(ss_ctx, "handler ServerStream " + std::to_string(ss_sent));
            reply.set_message(ss_req.message());
            reply.set_index(ss_sent++);
            ss.Write(reply, Tag(11));
          } else {
            ss.Finish(::grpc::Status::OK, Tag(12));
          }
          break;
        case 20:  // bidi: started
        case 22:  // a reply written
          bidi.Read(&bidi_req, Tag(21));
          break;
        case 21:  // bidi: a request, or the end of the requests
          if (ok) {
            step(bidi_ctx, "handler Bidi " + bidi_req.message());
            reply.set_message(bidi_req.message());
            reply.set_index(bidi_index++);
            bidi.Write(reply, Tag(22));
          } else {
            bidi.Finish(::grpc::Status::OK, Tag(23));
          }
          break;
        case 12:
        case 23:
          ++done;
          break;
        default:
          ADD_FAILURE() << "unexpected tag";
      }
    }
    a.Stop();
  });
  Span root = t.tracer().StartSpan("root");
  const Context root_ctx = root.AsContext();
  const SpanContext root_sc = root_ctx.span_context();
  std::thread ss_client([&] {
    Scope scope(root_ctx);
    ::grpc::ClientContext ctx;
    auto reader = a.stub->ServerStream(&ctx, Req("s", 3));
    EchoReply r;
    int n = 0;
    while (reader->Read(&r)) ++n;
    EXPECT_TRUE(reader->Finish().ok());
    EXPECT_EQ(n, 3);
  });
  {
    Scope scope(root_ctx);
    ::grpc::ClientContext ctx;
    auto stream = a.stub->Bidi(&ctx);
    EchoReply r;
    for (const char* m : {"a", "b"}) {
      ASSERT_TRUE(stream->Write(Req(m)));
      ASSERT_TRUE(stream->Read(&r));
      EXPECT_EQ(r.message(), m);
    }
    stream->WritesDone();
    EXPECT_TRUE(stream->Finish().ok());
  }
  ss_client.join();
  root.End();
  worker.join();
  auto spans = t.Exactly(1 + 2 + 2 + 3 + 2);
  for (const char* method : {"ServerStream", "Bidi"}) {
    const std::string name = std::string("interop.v1.Echo/") + method;
    const SpanData* client = Named(spans, name, SpanKind::kClient);
    const SpanData* server = Named(spans, name, SpanKind::kServer);
    ASSERT_TRUE(client && server) << method;
    EXPECT_EQ(client->parent_span_id(), root_sc.span_id());
    EXPECT_EQ(server->parent_span_id(), client->span_id());
    EXPECT_EQ(server->trace_id(), root_sc.trace_id());
    EXPECT_EQ(IntAttr(server, "rpc.grpc.status_code"), 0);
    EXPECT_EQ(StrAttr(server, "rpc.method"), method);
    int steps = 0;
    for (const SpanData* s : spans) {
      if (!s->name().starts_with(std::string("handler ") + method)) continue;
      ++steps;
      EXPECT_EQ(s->parent_span_id(), server->span_id()) << s->name() << " under its own call";
      EXPECT_GE(server->end_time(), s->end_time()) << "the call's span ends when the call does";
    }
    EXPECT_EQ(steps, std::string(method) == "Bidi" ? 2 : 3) << method;
  }
}

TEST(GrpcServer, ExcludedMethodsGetNoSpanAndNoInjectedContext) {
  MemoryTracing t;
  ServerOptions so;
  std::atomic<bool> saw_traceparent{false};
  so.excluded_methods = {"interop.v1.Echo/ServerStream"};
  EchoServer s(so);
  ClientOptions co;
  co.excluded_methods = {"interop.v1.Echo/Unary"};
  auto stub = Stub(s, co);
  s.service.on_call = [&](const char*) {};
  {
    ::grpc::ClientContext ctx;  // excluded on the client: nothing injected
    EchoReply r;
    ASSERT_TRUE(stub->Unary(&ctx, Req("x"), &r).ok());
  }
  {
    ::grpc::ClientContext ctx;  // excluded on the server only
    auto reader = stub->ServerStream(&ctx, Req("y"));
    EchoReply r;
    while (reader->Read(&r)) {
    }
    ASSERT_TRUE(reader->Finish().ok());
  }
  (void)saw_traceparent;
  auto spans = t.Exactly(2);
  const SpanData* unary_server = Named(spans, "interop.v1.Echo/Unary", SpanKind::kServer);
  ASSERT_NE(unary_server, nullptr);
  EXPECT_FALSE(unary_server->parent_span_id().IsValid()) << "no traceparent was sent";
  EXPECT_NE(Named(spans, "interop.v1.Echo/ServerStream", SpanKind::kClient), nullptr);
  EXPECT_EQ(Named(spans, "interop.v1.Echo/ServerStream", SpanKind::kServer), nullptr);
}

// Public endpoint by option, by OTEL_CPP_GRPC_SERVER_PUBLIC_ENDPOINT, and by
// the HTTP variable when the gRPC one is not set; the gRPC variable wins.
TEST(GrpcServer, PublicEndpointStartsANewTraceLinkedToTheClient) {
  auto check = [](ServerOptions so, bool want_public) {
    MemoryTracing t;
    EchoServer s(std::move(so));
    auto stub = Stub(s);
    ASSERT_TRUE(UnaryUnderRoot(t, *stub, Req("p")).ok());
    auto spans = t.Exactly(4);
    const SpanData* client = Named(spans, "interop.v1.Echo/Unary", SpanKind::kClient);
    const SpanData* server = Named(spans, "interop.v1.Echo/Unary", SpanKind::kServer);
    ASSERT_TRUE(client && server);
    EXPECT_EQ(Named(spans, "handler Unary")->parent_span_id(), server->span_id());
    if (!want_public) {
      EXPECT_EQ(server->parent_span_id(), client->span_id());
      return;
    }
    EXPECT_NE(server->trace_id(), client->trace_id());
    EXPECT_FALSE(server->parent_span_id().IsValid());
    ASSERT_EQ(server->link_count(), 1u);
    EXPECT_EQ(server->link_context(0).span_id(), client->span_id());
  };
  ServerOptions by_option;
  by_option.public_endpoint = true;
  check(by_option, true);
  {
    otelweb::testing::ScopedEnv env("OTEL_CPP_GRPC_SERVER_PUBLIC_ENDPOINT", "true");
    check({}, true);
  }
  {
    otelweb::testing::ScopedEnv env("OTEL_CPP_HTTP_SERVER_PUBLIC_ENDPOINT", "true");
    check({}, true);
  }
  {
    otelweb::testing::ScopedEnv env{{"OTEL_CPP_HTTP_SERVER_PUBLIC_ENDPOINT", "true"},
                                    {"OTEL_CPP_GRPC_SERVER_PUBLIC_ENDPOINT", "false"}};
    check({}, false);
  }
}

// Baggage around a client call reaches the handler through the metadata, by
// the configured (global) propagators; with baggage not among them, nothing.
TEST(GrpcServer, BaggageTravelsThroughTheConfiguredPropagators) {
  MemoryTracing t;
  const std::shared_ptr<TextMapPropagator> previous = GetTextMapPropagator();
  EchoServer s;
  std::string seen = "unset";
  s.service.on_call = [&](const char*) { seen = std::string(Context::Current().baggage().Get("tenant")); };
  auto stub = Stub(s);
  auto call = [&] {
    Scope scope(Context::Current().WithBaggage(Baggage().Set("tenant", "acme")));
    ::grpc::ClientContext ctx;
    EchoReply r;
    return stub->Unary(&ctx, Req("b"), &r).ok();
  };
  SetTextMapPropagator(MakePropagators("tracecontext,baggage"));
  EXPECT_TRUE(call());
  EXPECT_EQ(seen, "acme");
  SetTextMapPropagator(MakePropagators("tracecontext"));
  EXPECT_TRUE(call());
  EXPECT_EQ(seen, "");
  SetTextMapPropagator(previous);
}

// Explicit tracer providers (ServerOptions/ClientOptions::tracer_provider):
// each side's spans go to its own provider, none to the global one.
TEST(GrpcServer, ExplicitTracerProvidersTakeTheSpans) {
  MemoryTracing global;
  MemoryTracing server_side({.set_global = false}), client_side({.set_global = false});
  ServerOptions so;
  so.tracer_provider = server_side.provider;
  EchoServer s(so);
  s.service.on_call = [](const char*) {};
  ClientOptions co;
  co.tracer_provider = client_side.provider;
  auto stub = Stub(s, co);
  ::grpc::ClientContext ctx;
  EchoReply r;
  ASSERT_TRUE(stub->Unary(&ctx, Req("p"), &r).ok());
  auto server_spans = server_side.Exactly(1);
  auto client_spans = client_side.Exactly(1);
  EXPECT_EQ(server_spans[0]->kind(), SpanKind::kServer);
  EXPECT_EQ(client_spans[0]->kind(), SpanKind::kClient);
  EXPECT_EQ(server_spans[0]->parent_span_id(), client_spans[0]->span_id());
  EXPECT_TRUE(global.spans().empty());
}

// The app's own interceptors keep working next to ours: a server interceptor
// factory given to InstrumentServer sees every call; a client one given to
// CreateInstrumentedChannel adds metadata the server receives; the trace
// chain is intact.
class AppServerInterceptor final : public ::grpc::experimental::Interceptor {
 public:
  explicit AppServerInterceptor(std::atomic<int>* seen) : seen_(seen) {}
  void Intercept(::grpc::experimental::InterceptorBatchMethods* m) override {
    if (m->QueryInterceptionHookPoint(::grpc::experimental::InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      auto* md = m->GetRecvInitialMetadata();
      if (md != nullptr && md->count("x-app") == 1) ++*seen_;
    }
    m->Proceed();
  }

 private:
  std::atomic<int>* seen_;
};
class AppServerFactory final : public ::grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit AppServerFactory(std::atomic<int>* seen) : seen_(seen) {}
  ::grpc::experimental::Interceptor* CreateServerInterceptor(::grpc::experimental::ServerRpcInfo*) override {
    return new AppServerInterceptor(seen_);
  }

 private:
  std::atomic<int>* seen_;
};
class AppClientInterceptor final : public ::grpc::experimental::Interceptor {
 public:
  void Intercept(::grpc::experimental::InterceptorBatchMethods* m) override {
    if (m->QueryInterceptionHookPoint(::grpc::experimental::InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      m->GetSendInitialMetadata()->emplace("x-app", "1");
    }
    m->Proceed();
  }
};
class AppClientFactory final : public ::grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  ::grpc::experimental::Interceptor* CreateClientInterceptor(::grpc::experimental::ClientRpcInfo*) override {
    return new AppClientInterceptor;
  }
};

TEST(GrpcServer, AppInterceptorsComposeWithOursOnBothSides) {
  MemoryTracing t;
  std::atomic<int> seen{0};
  std::vector<std::unique_ptr<::grpc::experimental::ServerInterceptorFactoryInterface>> server_app;
  server_app.push_back(std::make_unique<AppServerFactory>(&seen));
  EchoServer s({}, std::move(server_app));
  std::vector<std::unique_ptr<::grpc::experimental::ClientInterceptorFactoryInterface>> client_app;
  client_app.push_back(std::make_unique<AppClientFactory>());
  auto stub = interop::v1::Echo::NewStub(CreateInstrumentedChannel(
      s.target(), ::grpc::InsecureChannelCredentials(), {}, ClientOptions{}, std::move(client_app)));
  ASSERT_TRUE(UnaryUnderRoot(t, *stub, Req("app")).ok());
  EXPECT_EQ(seen.load(), 1) << "the app's server interceptor ran and saw the app's client metadata";
  ExpectChain(t.Exactly(4), "Unary");
}

// The same from the environment, with nothing in code (issue 11: every
// documented variable takes effect).
TEST(GrpcServer, PublicEndpointFromTheEnvironment) {
  otelweb::testing::ScopedEnv env("OTEL_CPP_GRPC_SERVER_PUBLIC_ENDPOINT", "true");
  MemoryTracing t;
  EchoServer s(ServerOptions{});
  auto stub = Stub(s);
  {
    Span root = t.tracer().StartSpan("root");
    Scope scope(root.AsContext());
    ::grpc::ClientContext ctx;
    EchoReply r;
    ASSERT_TRUE(stub->Unary(&ctx, Req("p"), &r).ok());
    root.End();
  }
  auto spans = t.Exactly(4);
  const SpanData* client = Named(spans, "interop.v1.Echo/Unary", SpanKind::kClient);
  const SpanData* server = Named(spans, "interop.v1.Echo/Unary", SpanKind::kServer);
  ASSERT_TRUE(client && server);
  EXPECT_NE(server->trace_id(), client->trace_id());
  ASSERT_EQ(server->link_count(), 1u);
  EXPECT_EQ(server->link_context(0).span_id(), client->span_id());
}

TEST(GrpcServer, HooksSeeMetadataAndThrowingHooksAreCaught) {
  MemoryTracing t;
  otelweb::testing::DiagnosticsCapture warnings(LogLevel::kWarning);
  ServerOptions so;
  so.request_hook = [](SpanRef span, const CallView& v) {
    ASSERT_NE(v.metadata, nullptr);
    auto it = v.metadata->find("x-tenant");
    if (it != v.metadata->end()) span.SetAttribute("tenant", std::string(it->second.data(), it->second.size()));
    throw std::runtime_error("hook failure");
  };
  so.response_hook = [](SpanRef span, const CallView&, const CallStatus& st) {
    span.SetAttribute("hook.code", int64_t{st.code});
  };
  EchoServer s(so);
  ClientOptions co;
  co.request_hook = [](SpanRef, const CallView& v) {
    ASSERT_NE(v.outgoing_metadata, nullptr);
    EXPECT_EQ(v.outgoing_metadata->count("traceparent"), 1u);
    v.outgoing_metadata->emplace("x-tenant", "acme");
  };
  auto stub = Stub(s, co);
  for (int i = 0; i < 2; ++i) {
    ::grpc::ClientContext ctx;
    EchoReply r;
    ASSERT_TRUE(stub->Unary(&ctx, Req("h", 0, 0, i == 0 ? 0 : 5), &r).ok() == (i == 0));
  }
  auto spans = t.Exactly(6);
  int servers = 0;
  for (const SpanData* sp : spans) {
    if (sp->kind() != SpanKind::kServer) continue;
    EXPECT_EQ(StrAttr(sp, "tenant"), "acme");
    EXPECT_EQ(IntAttr(sp, "hook.code"), servers++ == 0 ? 0 : 5);
  }
  EXPECT_EQ(servers, 2);
  EXPECT_EQ(warnings.size(), 1u) << "reported once";
}

TEST(GrpcServer, ReleaseCandidateSemconvUnderOptIn) {
  MemoryTracing t;
  for (const char* optin : {"rpc", "http,rpc/dup"}) {
    t.store->Reset();
    otelweb::testing::ScopedEnv env("OTEL_SEMCONV_STABILITY_OPT_IN", optin);
    EchoServer s;
    auto stub = Stub(s);
    ::grpc::ClientContext ctx;
    EchoReply r;
    stub->Unary(&ctx, Req("n", 0, 0, 14), &r);
    auto spans = t.Exactly(3);
    const bool dup = std::string_view(optin) != "rpc";
    for (SpanKind k : {SpanKind::kClient, SpanKind::kServer}) {
      const SpanData* sp = Named(spans, "interop.v1.Echo/Unary", k);
      ASSERT_NE(sp, nullptr);
      EXPECT_EQ(StrAttr(sp, "rpc.system.name"), "grpc");
      EXPECT_EQ(StrAttr(sp, "rpc.method"), "interop.v1.Echo/Unary");
      EXPECT_EQ(StrAttr(sp, "rpc.response.status_code"), "UNAVAILABLE");
      EXPECT_EQ(StrAttr(sp, "error.type"), "UNAVAILABLE");
      EXPECT_EQ(otelweb::testing::HasAttr(sp, "rpc.system"), dup) << optin;
      EXPECT_EQ(otelweb::testing::HasAttr(sp, "rpc.grpc.status_code"), dup) << optin;
    }
  }
}

TEST(GrpcServer, MessageEventsWhenEnabled) {
  MemoryTracing t;
  ServerOptions so;
  so.message_events = true;
  EchoServer s(so);
  ClientOptions co;
  co.message_events = true;
  auto stub = Stub(s, co);
  ::grpc::ClientContext ctx;
  auto stream = stub->Bidi(&ctx);
  for (const char* m : {"1", "2"}) {
    stream->Write(Req(m));
    EchoReply r;
    ASSERT_TRUE(stream->Read(&r));
  }
  stream->WritesDone();
  ASSERT_TRUE(stream->Finish().ok());
  auto spans = t.Exactly(3);
  for (SpanKind k : {SpanKind::kClient, SpanKind::kServer}) {
    const SpanData* sp = Named(spans, "interop.v1.Echo/Bidi", k);
    ASSERT_NE(sp, nullptr);
    size_t messages = 0;
    for (size_t i = 0; i < sp->event_count(); ++i) messages += sp->event_name(i) == "message";
    EXPECT_EQ(messages, 4u);
  }
}

TEST(GrpcServer, ConcurrentCallsKeepTheirOwnParents) {
  MemoryTracing t;
  EchoServer s;
  s.service.on_call = [](const char*) {};
  auto stub = Stub(s);
  constexpr int kThreads = 4, kCalls = 10;
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < kCalls; ++j) {
        ::grpc::ClientContext ctx;
        EchoReply r;
        EXPECT_TRUE(stub->Unary(&ctx, Req("c", 0, 1), &r).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  auto spans = t.Exactly(2 * kThreads * kCalls);
  std::map<std::string, const SpanData*> clients;
  for (const SpanData* sp : spans)
    if (sp->kind() == SpanKind::kClient) clients[std::string(reinterpret_cast<const char*>(&sp->span_id()), 8)] = sp;
  int linked = 0;
  for (const SpanData* sp : spans) {
    if (sp->kind() != SpanKind::kServer) continue;
    auto it = clients.find(std::string(reinterpret_cast<const char*>(&sp->parent_span_id()), 8));
    ASSERT_NE(it, clients.end());
    EXPECT_EQ(it->second->trace_id(), sp->trace_id());
    ++linked;
  }
  EXPECT_EQ(linked, kThreads * kCalls);
}

TEST(GrpcClient, SuppressedContextMakesNoSpan) {
  MemoryTracing t;
  EchoServer s;
  s.service.on_call = [](const char*) {};
  auto stub = Stub(s);
  {
    Scope quiet(Context::Current().WithInstrumentationSuppressed());
    ::grpc::ClientContext ctx;
    EchoReply r;
    ASSERT_TRUE(stub->Unary(&ctx, Req("q"), &r).ok());
  }
  auto spans = t.Exactly(1);
  EXPECT_EQ(spans[0]->kind(), SpanKind::kServer);
}

TEST(GrpcClient, CallbackAndAsyncStubsGetSpansParentedWhereTheCallStarts) {
  MemoryTracing t;
  EchoServer s;
  s.service.on_call = [](const char*) {};
  auto stub = Stub(s);
  Span root = t.tracer().StartSpan("root");
  {
    Scope scope(root.AsContext());
    // Callback API: the span ends on a gRPC thread.
    ::grpc::ClientContext ctx;
    EchoReply reply;
    std::promise<::grpc::Status> done;
    const EchoRequest req = Req("cb");
    stub->async()->Unary(&ctx, &req, &reply,
                         [&](::grpc::Status st) { done.set_value(st); });
    EXPECT_TRUE(done.get_future().get().ok());
  }
  {
    Scope scope(root.AsContext());
    // Completion-queue API.
    ::grpc::CompletionQueue cq;
    ::grpc::ClientContext ctx;
    EchoReply reply;
    ::grpc::Status st;
    auto rpc = stub->AsyncUnary(&ctx, Req("cq", 0, 0, 9), &cq);
    rpc->Finish(&reply, &st, reinterpret_cast<void*>(7));
    void* tag;
    bool ok;
    ASSERT_TRUE(cq.Next(&tag, &ok));
    EXPECT_EQ(st.error_code(), ::grpc::StatusCode::FAILED_PRECONDITION);
  }
  root.End();
  auto spans = t.Exactly(5);
  const SpanData* r = Named(spans, "root");
  int clients = 0;
  for (const SpanData* sp : spans) {
    if (sp->kind() != SpanKind::kClient) continue;
    ++clients;
    EXPECT_EQ(sp->parent_span_id(), r->span_id());
    const SpanData* server = nullptr;
    for (const SpanData* x : spans)
      if (x->kind() == SpanKind::kServer && x->parent_span_id() == sp->span_id()) server = x;
    ASSERT_NE(server, nullptr);
    EXPECT_EQ(IntAttr(sp, "rpc.grpc.status_code"), IntAttr(server, "rpc.grpc.status_code"));
  }
  EXPECT_EQ(clients, 2);
}

}  // namespace
}  // namespace otelweb::grpc

namespace otelweb::grpc {
namespace {

// A call to a method the server does not serve (any client can send any
// path): grpc++ still runs the interceptors, with "unknown" (sync server) or
// the client's path (callback server) as the method, and answers UNIMPLEMENTED.
// Span name, rpc.method and the duration metric's attributes must not take the
// client-chosen path (unbounded span names and metric series): _OTHER, with
// the path kept on the span as rpc.method_original.
TEST(GrpcServer, UnimplementedMethodIsRecordedAsOtherNotAsTheClientsPath) {
  CallbackEcho cb;
  for (bool callback : {false, true}) {
    MemoryTracing t;
    EchoServer s({}, {}, callback ? static_cast<::grpc::Service*>(&cb) : nullptr);
    auto channel = ::grpc::CreateChannel(s.target(), ::grpc::InsecureChannelCredentials());
    ::grpc::GenericStub generic(channel);
    for (const char* path : {"/interop.v1.Echo/NoSuchMethod", "/evil.Svc/random-1234"}) {
      ::grpc::ClientContext ctx;
      ::grpc::Slice payload("x");
      ::grpc::ByteBuffer req(&payload, 1), resp;
      std::promise<::grpc::Status> done;
      generic.UnaryCall(&ctx, path, ::grpc::StubOptions(), &req, &resp,
                        [&](::grpc::Status st) { done.set_value(st); });
      EXPECT_EQ(done.get_future().get().error_code(), ::grpc::StatusCode::UNIMPLEMENTED);
    }
    auto spans = t.Exactly(2);
    for (const SpanData* sp : spans) {
      EXPECT_EQ(sp->name(), "_OTHER") << (callback ? "callback" : "sync");
      EXPECT_EQ(StrAttr(sp, "rpc.method"), "_OTHER");
      EXPECT_EQ(StrAttr(sp, "rpc.service"), "_OTHER");
      EXPECT_EQ(IntAttr(sp, "rpc.grpc.status_code"), 12);
      EXPECT_EQ(sp->status(), StatusCode::kError);
      if (callback) {
        const std::string original = StrAttr(sp, "rpc.method_original");
        EXPECT_TRUE(original == "interop.v1.Echo/NoSuchMethod" || original == "evil.Svc/random-1234") << original;
      }
    }
  }
}

}  // namespace
}  // namespace otelweb::grpc

namespace otelweb::grpc {
namespace {

// ---- W3C tracestate and baggage through the metadata, every call kind -----

// The handler sees the client's tracestate on the call's span context and the
// client's baggage; the SERVER span carries the same tracestate.
TEST(GrpcServer, TracestateAndBaggageTravelForEveryCallKind) {
  MemoryTracing t;
  const std::shared_ptr<TextMapPropagator> previous = GetTextMapPropagator();
  SetTextMapPropagator(MakePropagators("tracecontext,baggage"));
  EchoServer s;
  std::mutex mu;
  std::map<std::string, std::pair<std::string, std::string>> seen;  // method -> (tracestate, tenant)
  s.service.on_call = [&](const char* method) {
    const Context c = Context::Current();
    std::lock_guard<std::mutex> lock(mu);
    seen[method] = {std::string(c.span_context().trace_state().header()),
                    std::string(c.baggage().Get("tenant"))};
  };
  auto stub = Stub(s);
  // A remote parent with a tracestate (as if extracted upstream): our root
  // span inherits it, and so do the CLIENT spans.
  const SpanContext upstream(*TraceId::FromHex("4bf92f3577b34da6a3ce929d0e0e4736"),
                             *SpanId::FromHex("00f067aa0ba902b7"), TraceFlags{1}, true,
                             TraceState::FromHeader("vendor=abc,other=1"));
  const Context parent = Context().WithSpanContext(upstream);
  SpanOptions ro;
  ro.parent = &parent;
  Span root = t.tracer().StartSpan("root", ro);
  {
    Scope scope(root.AsContext().WithBaggage(Baggage().Set("tenant", "acme")));
    {
      ::grpc::ClientContext ctx;
      EchoReply r;
      ASSERT_TRUE(stub->Unary(&ctx, Req("u"), &r).ok());
    }
    {
      ::grpc::ClientContext ctx;
      auto reader = stub->ServerStream(&ctx, Req("s", 2));
      EchoReply r;
      while (reader->Read(&r)) {
      }
      ASSERT_TRUE(reader->Finish().ok());
    }
    {
      ::grpc::ClientContext ctx;
      EchoReply r;
      auto writer = stub->ClientStream(&ctx, &r);
      writer->Write(Req("a"));
      writer->WritesDone();
      ASSERT_TRUE(writer->Finish().ok());
    }
    {
      ::grpc::ClientContext ctx;
      auto stream = stub->Bidi(&ctx);
      stream->Write(Req("b"));
      EchoReply r;
      ASSERT_TRUE(stream->Read(&r));
      stream->WritesDone();
      ASSERT_TRUE(stream->Finish().ok());
    }
  }
  root.End();
  auto spans = t.Exactly(9);
  SetTextMapPropagator(previous);
  for (const char* m : {"Unary", "ServerStream", "ClientStream", "Bidi"}) {
    const std::string name = std::string("interop.v1.Echo/") + m;
    const SpanData* client = Named(spans, name, SpanKind::kClient);
    const SpanData* server = Named(spans, name, SpanKind::kServer);
    ASSERT_TRUE(client && server) << m;
    EXPECT_EQ(server->parent_span_id(), client->span_id()) << m;
    EXPECT_EQ(client->context().trace_state().header(), "vendor=abc,other=1") << m;
    EXPECT_EQ(server->context().trace_state().header(), "vendor=abc,other=1") << m;
    std::lock_guard<std::mutex> lock(mu);
    ASSERT_EQ(seen.count(m), 1u) << m;
    EXPECT_EQ(seen[m].first, "vendor=abc,other=1") << m;
    EXPECT_EQ(seen[m].second, "acme") << m;
  }
}

// ---- error statuses for the four call kinds, both sides --------------------

struct KindCall {
  const char* method;
  ::grpc::Status status;
  int replies = 0;
};

// Calls the four kinds, each ending with `code` (the server sends it instead
// of the one reply for Unary/ClientStream, after the replies for
// ServerStream/Bidi).
std::vector<KindCall> CallEveryKindEndingWith(interop::v1::Echo::Stub& stub, int code) {
  std::vector<KindCall> out;
  EchoReply r;
  {
    ::grpc::ClientContext ctx;
    out.push_back({"Unary", stub.Unary(&ctx, Req("u", 0, 0, code), &r), 0});
  }
  {
    ::grpc::ClientContext ctx;
    auto reader = stub.ServerStream(&ctx, Req("s", 2, 0, code));
    int n = 0;
    while (reader->Read(&r)) ++n;
    out.push_back({"ServerStream", reader->Finish(), n});
  }
  {
    ::grpc::ClientContext ctx;
    auto writer = stub.ClientStream(&ctx, &r);
    writer->Write(Req("a"));
    writer->Write(Req("b", 0, 0, code));  // the last request's values count
    writer->WritesDone();
    out.push_back({"ClientStream", writer->Finish(), 0});
  }
  {
    ::grpc::ClientContext ctx;
    auto stream = stub.Bidi(&ctx);
    int n = 0;
    for (int i = 0; i < 2; ++i) {
      stream->Write(Req("b", 0, 0, i == 1 ? code : 0));
      if (stream->Read(&r)) ++n;
    }
    stream->WritesDone();
    while (stream->Read(&r)) ++n;
    out.push_back({"Bidi", stream->Finish(), n});
  }
  return out;
}

// INTERNAL: Error on both sides; NOT_FOUND: Error on the client only (the
// server list is UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL,
// UNAVAILABLE, DATA_LOSS). Both semconv sets at once (rpc/dup).
TEST(GrpcServer, ErrorStatusesForEveryCallKindOnBothSides) {
  for (int code : {13, 5}) {
    MemoryTracing t;
    ServerOptions so;
    so.semconv = SemconvSet::kDuplicate;
    EchoServer s(so);
    s.service.on_call = [](const char*) {};
    ClientOptions co;
    co.semconv = SemconvSet::kDuplicate;
    auto stub = Stub(s, co);
    const std::vector<KindCall> calls = CallEveryKindEndingWith(*stub, code);
    auto spans = t.Exactly(8);
    const std::string name = std::string(StatusCodeName(code));
    for (const KindCall& k : calls) {
      SCOPED_TRACE(std::string(k.method) + " " + name);
      EXPECT_EQ(int(k.status.error_code()), code);
      if (std::string_view(k.method) == "ServerStream") {
        EXPECT_EQ(k.replies, 2) << "the replies come first";
      }
      if (std::string_view(k.method) == "Bidi") {
        EXPECT_EQ(k.replies, 2) << "one reply per request, then the status";
      }
      const std::string full = std::string("interop.v1.Echo/") + k.method;
      const SpanData* client = Named(spans, full, SpanKind::kClient);
      const SpanData* server = Named(spans, full, SpanKind::kServer);
      ASSERT_TRUE(client && server);
      EXPECT_EQ(server->parent_span_id(), client->span_id());
      for (const SpanData* sp : {client, server}) {
        EXPECT_EQ(IntAttr(sp, "rpc.grpc.status_code"), code);
        EXPECT_EQ(StrAttr(sp, "rpc.response.status_code"), name);
        EXPECT_EQ(StrAttr(sp, "rpc.method"), full) << "rpc/dup: the fully qualified method";
        EXPECT_EQ(StrAttr(sp, "rpc.service"), "interop.v1.Echo");
      }
      EXPECT_EQ(client->status(), StatusCode::kError);
      EXPECT_EQ(StrAttr(client, "error.type"), name);
      EXPECT_EQ(client->status_description(), k.status.error_message());
      if (code == 13) {
        EXPECT_EQ(server->status(), StatusCode::kError);
        EXPECT_EQ(StrAttr(server, "error.type"), name);
        EXPECT_EQ(server->status_description(), k.status.error_message());
      } else {
        EXPECT_EQ(server->status(), StatusCode::kUnset);
        EXPECT_FALSE(otelweb::testing::HasAttr(server, "error.type"));
      }
    }
  }
}

// ---- the method filter: health checks and reflection -----------------------

// libgrpc++_reflection adds its service to every server of the process from
// a static initializer once it is loaded (calling its Init function again
// would register it twice); this reference keeps the library linked.
[[maybe_unused]] void (*volatile keep_reflection_linked)() = &::grpc::reflection::InitProtoReflectionServerBuilderPlugin;

// The echo service with gRPC's own health service and reflection, instrumented.
struct SystemServicesServer {
  explicit SystemServicesServer(ServerOptions options) {
    ::grpc::EnableDefaultHealthCheckService(true);
    ::grpc::ServerBuilder b;
    b.AddListeningPort("127.0.0.1:0", ::grpc::InsecureServerCredentials(), &port);
    b.RegisterService(&service);
    InstrumentServer(b, std::move(options));
    server = b.BuildAndStart();
    ::grpc::EnableDefaultHealthCheckService(false);
  }
  ~SystemServicesServer() { server->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(200)); }
  std::string target() const { return "127.0.0.1:" + std::to_string(port); }
  echo_example::EchoService service;
  int port = 0;
  std::unique_ptr<::grpc::Server> server;
};

// grpc.health.v1.Health/Check with an empty request: the serialized
// HealthCheckResponse (status SERVING = 1 is the bytes 08 01).
std::string HealthCheck(const std::shared_ptr<::grpc::Channel>& channel) {
  ::grpc::GenericStub generic(channel);
  ::grpc::ClientContext ctx;
  ::grpc::ByteBuffer req(nullptr, 0), resp;
  std::promise<::grpc::Status> done;
  generic.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", ::grpc::StubOptions(), &req, &resp,
                    [&](::grpc::Status st) { done.set_value(st); });
  ::grpc::Status st = done.get_future().get();
  if (!st.ok()) return "status " + std::to_string(int(st.error_code()));
  std::vector<::grpc::Slice> slices;
  if (!resp.Dump(&slices).ok()) return "unreadable";
  std::string out;
  for (const auto& sl : slices) out.append(reinterpret_cast<const char*>(sl.begin()), sl.size());
  return out;
}

// One ServerReflectionInfo exchange (bidi) asking for the service list
// (ServerReflectionRequest.list_services = "": field 7, empty: bytes 3a 00);
// returns the reply's size, or -1.
int ReflectionListServices(const std::shared_ptr<::grpc::Channel>& channel) {
  ::grpc::GenericStub generic(channel);
  ::grpc::CompletionQueue cq;
  ::grpc::ClientContext ctx;
  auto call = generic.PrepareCall(&ctx, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  auto step = [&cq](intptr_t want) {
    void* tag = nullptr;
    bool ok = false;
    return cq.Next(&tag, &ok) && reinterpret_cast<intptr_t>(tag) == want && ok;
  };
  call->StartCall(reinterpret_cast<void*>(1));
  int size = -1;
  if (step(1)) {
    const char bytes[] = {0x3a, 0x00};
    ::grpc::Slice s(bytes, sizeof bytes);
    ::grpc::ByteBuffer req(&s, 1), resp;
    call->Write(req, reinterpret_cast<void*>(2));
    if (step(2)) {
      call->Read(&resp, reinterpret_cast<void*>(3));
      if (step(3)) size = static_cast<int>(resp.Length());
    }
  }
  call->WritesDone(reinterpret_cast<void*>(4));
  step(4);
  ::grpc::Status st;
  call->Finish(&st, reinterpret_cast<void*>(5));
  step(5);
  cq.Shutdown();
  void* tag;
  bool ok;
  while (cq.Next(&tag, &ok)) {
  }
  return st.ok() ? size : -1;
}

// Health checks and reflection excluded by whole service name on both
// sides: no span, nothing injected (the server would otherwise continue the
// trace); on one side only: the other side's span alone, an excluded client
// sends no traceparent (the server span is a root). A leading '/' in a
// filter entry is accepted; the `exclude` function sees the call's names.
TEST(GrpcServer, HealthAndReflectionExcludedOnClientAndServer) {
  const std::vector<std::string> system = {"grpc.health.v1.Health", "/grpc.reflection.v1alpha.ServerReflection"};
  struct Case {
    bool client_excludes, server_excludes;
  };
  for (Case c : {Case{true, true}, Case{false, true}, Case{true, false}}) {
    SCOPED_TRACE(std::string("client excludes ") + (c.client_excludes ? "yes" : "no") + ", server excludes " +
                 (c.server_excludes ? "yes" : "no"));
    MemoryTracing t;
    ServerOptions so;
    if (c.server_excludes) so.excluded_methods = system;
    SystemServicesServer s(so);
    s.service.on_call = [](const char*) {};
    ClientOptions co;
    std::atomic<int> function_saw_reflection{0};
    if (c.client_excludes) {
      co.excluded_methods = {"/grpc.health.v1.Health/Check"};
      co.exclude = [&](const CallView& v) {
        if (v.service != "grpc.reflection.v1alpha.ServerReflection") return false;
        EXPECT_EQ(v.method, "ServerReflectionInfo");
        EXPECT_EQ(v.type, CallType::kBidiStreaming);
        ++function_saw_reflection;
        return true;
      };
    }
    auto channel = CreateInstrumentedChannel(s.target(), ::grpc::InsecureChannelCredentials(), {}, co);
    Span root = t.tracer().StartSpan("root");
    {
      Scope scope(root.AsContext());
      EXPECT_EQ(HealthCheck(channel), std::string("\x08\x01", 2)) << "SERVING";
      EXPECT_GT(ReflectionListServices(channel), 0);
      ::grpc::ClientContext ctx;
      EchoReply r;
      ASSERT_TRUE(interop::v1::Echo::NewStub(channel)->Unary(&ctx, Req("x"), &r).ok());
    }
    root.End();
    const size_t system_spans = (c.client_excludes ? 0 : 2) + (c.server_excludes ? 0 : 2);
    auto spans = t.Exactly(3 + system_spans);
    EXPECT_NE(Named(spans, "interop.v1.Echo/Unary", SpanKind::kClient), nullptr) << "other methods are traced";
    EXPECT_NE(Named(spans, "interop.v1.Echo/Unary", SpanKind::kServer), nullptr);
    if (c.client_excludes) {
      EXPECT_EQ(function_saw_reflection.load(), 1);
    }
    for (const char* m : {"grpc.health.v1.Health/Check", "grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"}) {
      const SpanData* client = Named(spans, m, SpanKind::kClient);
      const SpanData* server = Named(spans, m, SpanKind::kServer);
      EXPECT_EQ(client != nullptr, !c.client_excludes) << m;
      EXPECT_EQ(server != nullptr, !c.server_excludes) << m;
      if (server != nullptr) {
        EXPECT_FALSE(server->parent_span_id().IsValid()) << m << ": an excluded client injects nothing";
      }
      if (client != nullptr) {
        EXPECT_EQ(IntAttr(client, "rpc.grpc.status_code"), 0) << m;
      }
    }
  }
}

// ---- IPv6 loopback ----------------------------------------------------------

// A server on [::1]: server.address is the bare address (no brackets) and
// server.port the port on both sides, network.peer.address ::1 on both sides,
// whatever the form of the target ("[::1]:p", "ipv6:[::1]:p", "dns:///[::1]:p").
TEST(GrpcServer, Ipv6LoopbackPeersAndServerAddressesParse) {
  MemoryTracing t;
  echo_example::EchoService service;
  int port = 0;
  ::grpc::ServerBuilder b;
  b.AddListeningPort("[::1]:0", ::grpc::InsecureServerCredentials(), &port);
  b.RegisterService(&service);
  InstrumentServer(b);
  auto server = b.BuildAndStart();
  ASSERT_TRUE(server != nullptr && port > 0) << "no IPv6 loopback on this host";
  const std::string p = std::to_string(port);
  const std::vector<std::string> targets = {"[::1]:" + p, "ipv6:[::1]:" + p, "dns:///[::1]:" + p};
  for (const std::string& target : targets) {
    auto stub = interop::v1::Echo::NewStub(CreateInstrumentedChannel(target, ::grpc::InsecureChannelCredentials()));
    ::grpc::ClientContext ctx;
    EchoReply r;
    ASSERT_TRUE(stub->Unary(&ctx, Req(target), &r).ok()) << target;
  }
  auto spans = t.Exactly(2 * targets.size());
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
  for (const SpanData* sp : spans) {
    SCOPED_TRACE(sp->kind() == SpanKind::kClient ? "client" : "server");
    EXPECT_EQ(StrAttr(sp, "server.address"), "::1");
    EXPECT_EQ(IntAttr(sp, "server.port"), port);
    EXPECT_EQ(StrAttr(sp, "network.peer.address"), "::1");
    EXPECT_GT(IntAttr(sp, "network.peer.port"), 0);
    if (sp->kind() == SpanKind::kClient) {
      EXPECT_EQ(IntAttr(sp, "network.peer.port"), port);
    }
  }
}

// The address forms gRPC and users give: URIs with schemes, brackets, ports,
// percent-encoded brackets and zones (decoded), bare IPv6 without a port;
// what is not a port gives port 0 (not set), an unclosed bracket no host.
TEST(GrpcAddress, ParsesHostAndPortOfEveryForm) {
  struct Case {
    std::string_view in, host;
    int port;
  };
  const Case cases[] = {
      {"127.0.0.1:50051", "127.0.0.1", 50051},
      {"ipv4:10.0.0.1:443", "10.0.0.1", 443},
      {"[::1]:8080", "::1", 8080},
      {"ipv6:[::1]:8080", "::1", 8080},
      {"ipv6:%5B::1%5D:8080", "::1", 8080},
      {"ipv6:%5b2001:db8::1%5d:9", "2001:db8::1", 9},
      {"ipv6:[fe80::1%25eth0]:7", "fe80::1%eth0", 7},
      {"[fe80::1%eth0]:7", "fe80::1%eth0", 7},
      {"dns:///[::1]:5", "::1", 5},
      {"dns:[::1]:5", "::1", 5},
      {"dns://8.8.8.8/example.com:443", "example.com", 443},
      {"dns:///example.com", "example.com", 0},
      {"[::1]", "::1", 0},
      {"::1", "::1", 0},
      {"2001:db8::1", "2001:db8::1", 0},
      {"localhost:70000", "localhost", 0},
      {"localhost:", "localhost", 0},
      {"[::1]x", "::1", 0},
      {"[::1", "", 0},
      {"ipv4:1.2.3.4:5,1.2.3.5:6", "1.2.3.4", 5},
      {"unix:/tmp/sock", "/tmp/sock", 0},
      {"", "", 0},
  };
  for (const Case& c : cases) {
    std::string buf(c.in);  // decoded in place
    internal::HostPort hp = internal::ParseAddress(buf.data(), buf.size());
    EXPECT_EQ(hp.host, c.host) << c.in;
    EXPECT_EQ(hp.port, c.port) << c.in;
  }
}

// The carrier the client injects with: into an empty map (the usual call)
// one entry; an entry the application set under the same key (even twice) is
// replaced, so one traceparent is sent; other keys stay.
TEST(GrpcMetadata, SetterAddsOneEntryAndReplacesTheSameKey) {
  std::multimap<std::string, std::string> empty;
  internal::MetadataSetter(&empty).Set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  ASSERT_EQ(empty.size(), 1u);
  EXPECT_EQ(empty.begin()->first, "traceparent");
  EXPECT_EQ(empty.begin()->second, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");

  std::multimap<std::string, std::string> md{{"traceparent", "old-1"}, {"traceparent", "old-2"}, {"x-app", "kept"}};
  internal::MetadataSetter(&md).Set("traceparent", "new");
  ASSERT_EQ(md.size(), 2u);
  EXPECT_EQ(md.count("traceparent"), 1u);
  EXPECT_EQ(md.find("traceparent")->second, "new");
  EXPECT_EQ(md.find("x-app")->second, "kept");

  internal::MetadataSetter(nullptr).Set("traceparent", "ignored");  // no map: nothing, no crash
}

}  // namespace
}  // namespace otelweb::grpc
