// Peer for tests/js/clients_interop.mjs: calls a Node.js server (instrumented
// with the official OpenTelemetry packages) with otelweb's cpp-httplib client,
// libcurl Easy and libcurl Multi, each inside its own parent span, through the
// global tracer provider (default client options). Prints one line per client
// span:
//   CLIENT <label> <trace id> <span id> <status code>
// Usage: otelweb_clients_interop_client <port>. Every request has a timeout.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "otelweb/curl/curl.h"
#include "otelweb/testing/in_memory_exporter.h"
#include "otelweb/httplib/server.h"
#include "otelweb/httplib/client.h"
#include "otelweb/trace/simple_span_processor.h"
#include "otelweb/trace/batch_span_processor.h"
#include "otelweb/trace/sampler.h"

namespace {

size_t Discard(char*, size_t size, size_t n, void*) { return size * n; }

void Print(const otelweb::InMemorySpanStore& store, const std::string& label,
           const otelweb::SpanId& parent) {
  for (const otelweb::SpanData* s : store.spans()) {
    if (s->kind() != otelweb::SpanKind::kClient || s->parent_span_id() != parent) continue;
    otelweb::AttributeView status;
    long code = s->FindAttribute("http.response.status_code", &status) ? long(status.as_int()) : 0;
    std::printf("CLIENT %s %s %s %ld\n", label.c_str(), s->trace_id().ToHex().c_str(),
                s->span_id().ToHex().c_str(), code);
  }
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <port>\n", argv[0]);
    return 2;
  }
  int port = std::atoi(argv[1]);
  std::string base = "http://127.0.0.1:" + std::to_string(port);
  auto store = std::make_shared<otelweb::InMemorySpanStore>();
  otelweb::TracerProviderOptions po;
  po.sampler = otelweb::AlwaysOnSampler();
  po.processors.push_back(std::make_unique<otelweb::SimpleSpanProcessor>(
      std::make_unique<otelweb::InMemorySpanExporter>(store)));
  auto provider = std::make_shared<otelweb::TracerProvider>(std::move(po));
  otelweb::SetTracerProvider(provider);
  otelweb::Tracer tracer = provider->GetTracer("interop");
  int failures = 0;

  {  // cpp-httplib
    otelweb::Span parent = tracer.StartSpan("interop.httplib");
    otelweb::SpanId parent_id = parent.GetContext().span_id();
    {
      otelweb::Scope scope = otelweb::MakeCurrent(parent);
      otelweb::httplib::TracedClient cli("127.0.0.1", port);
      cli.set_connection_timeout(2);
      cli.set_read_timeout(5);
      auto r = cli.Get("/hello", {{"X-Client", "httplib"}});
      if (!r || r->status != 200) ++failures;
    }
    parent.End();
    Print(*store, "httplib", parent_id);
  }
  {  // libcurl easy
    otelweb::Span parent = tracer.StartSpan("interop.curl-easy");
    otelweb::SpanId parent_id = parent.GetContext().span_id();
    {
      otelweb::Scope scope = otelweb::MakeCurrent(parent);
      curl_slist* headers = curl_slist_append(nullptr, "X-Client: curl-easy");
      otelweb::curl::Easy e;
      e.setopt(CURLOPT_URL, base + "/hello");
      e.setopt(CURLOPT_HTTPHEADER, headers);
      e.setopt(CURLOPT_TIMEOUT_MS, 5000L);
      e.setopt(CURLOPT_NOSIGNAL, 1L);
      e.setopt(CURLOPT_WRITEFUNCTION, &Discard);
      if (e.perform() != CURLE_OK) ++failures;
      curl_slist_free_all(headers);
    }
    parent.End();
    Print(*store, "curl-easy", parent_id);
  }
  {  // libcurl multi
    otelweb::Span parent = tracer.StartSpan("interop.curl-multi");
    otelweb::SpanId parent_id = parent.GetContext().span_id();
    curl_slist* headers = curl_slist_append(nullptr, "X-Client: curl-multi");
    otelweb::curl::Easy e;
    e.setopt(CURLOPT_URL, base + "/hello");
    e.setopt(CURLOPT_HTTPHEADER, headers);
    e.setopt(CURLOPT_TIMEOUT_MS, 5000L);
    e.setopt(CURLOPT_NOSIGNAL, 1L);
    e.setopt(CURLOPT_WRITEFUNCTION, &Discard);
    otelweb::curl::Multi multi;
    {
      otelweb::Scope scope = otelweb::MakeCurrent(parent);
      multi.add(e);
    }
    bool done = false;
    for (int i = 0; i < 200 && !done; ++i) {  // at most ~10 s
      int running = 0;
      multi.perform(&running);
      int left = 0;
      while (CURLMsg* m = multi.info_read(&left)) {
        if (m->msg == CURLMSG_DONE) {
          done = true;
          if (m->data.result != CURLE_OK) ++failures;
        }
      }
      if (!done) multi.poll(50);
    }
    if (!done) ++failures;
    multi.remove(e);
    curl_slist_free_all(headers);
    parent.End();
    Print(*store, "curl-multi", parent_id);
  }
  std::printf("DONE %d\n", failures);
  std::fflush(stdout);
  provider->Shutdown();
  return failures == 0 ? 0 : 1;
}
