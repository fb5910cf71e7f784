// OTLP/HTTP transport on libcurl.
//
// Why libcurl: it is in Debian, does TLS and mutual TLS from PEM files (the
// OTEL_EXPORTER_OTLP_CERTIFICATE / CLIENT_* variables map to CAINFO, SSLKEY,
// SSLCERT directly), keeps the connection alive between batches, and its
// multi interface lets Shutdown interrupt a request at once
// (curl_multi_wakeup) instead of waiting for a timeout. The cpp-httplib client
// would also work but is tied to the CPPHTTPLIB_* ABI macros of Debian's
// build and has no way to interrupt a blocked request from another thread.
#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>

#include "otelweb/common.h"
#include "otlp/transport.h"

namespace otelweb::otlp::internal {

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  std::ostringstream ss;
  ss << f.rdbuf();
  *out = ss.str();
  return !f.bad();
}

namespace {

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = char(x + 32);
    if (y >= 'A' && y <= 'Z') y = char(y + 32);
    if (x != y) return false;
  }
  return true;
}

class HttpTransport final : public Transport {
 public:
  HttpTransport(const ResolvedOtlpOptions& o) : o_(o) {
    GlobalInit();
    easy_ = curl_easy_init();
    multi_ = curl_multi_init();
    std::string ct = o.protocol == Protocol::kHttpJson ? "Content-Type: application/json"
                                                       : "Content-Type: application/x-protobuf";
    base_headers_ = curl_slist_append(base_headers_, ct.c_str());
    for (const auto& [k, v] : o.headers) {
      std::string h = k + ": " + v;
      base_headers_ = curl_slist_append(base_headers_, h.c_str());
    }
    // No "Expect: 100-continue" round trip for large bodies.
    base_headers_ = curl_slist_append(base_headers_, "Expect:");
    gzip_headers_ = nullptr;
    for (curl_slist* s = base_headers_; s; s = s->next)
      gzip_headers_ = curl_slist_append(gzip_headers_, s->data);
    gzip_headers_ = curl_slist_append(gzip_headers_, "Content-Encoding: gzip");
  }
  ~HttpTransport() override {
    Close();
    curl_slist_free_all(base_headers_);
    curl_slist_free_all(gzip_headers_);
  }
  void Close() noexcept override {
    if (easy_) curl_easy_cleanup(easy_);
    if (multi_) curl_multi_cleanup(multi_);
    easy_ = nullptr;
    multi_ = nullptr;
  }
  bool ok() const { return easy_ && multi_ && base_headers_ && gzip_headers_; }

  SendResult Send(std::string_view body, bool gzip, Clock::time_point deadline) noexcept override {
    SendResult r;
    if (cancelled_.load() || !easy_) {
      r.error = "exporter shut down";
      return r;
    }
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      r.kind = SendResult::Kind::kRetryable;
      r.error = "export timeout reached";
      return r;
    }
    response_.clear();
    retry_after_.reset();
    CURL* e = easy_;
    curl_easy_setopt(e, CURLOPT_URL, o_.url.c_str());
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, gzip ? gzip_headers_ : base_headers_);
    curl_easy_setopt(e, CURLOPT_USERAGENT, user_agent_.c_str());
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(left));
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &HttpTransport::OnBody);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, this);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &HttpTransport::OnHeader);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, this);
    if (!o_.certificate_file.empty())
      curl_easy_setopt(e, CURLOPT_CAINFO, o_.certificate_file.c_str());
    if (!o_.client_certificate_file.empty()) {
      curl_easy_setopt(e, CURLOPT_SSLCERT, o_.client_certificate_file.c_str());
    }
    if (!o_.client_key_file.empty())
      curl_easy_setopt(e, CURLOPT_SSLKEY, o_.client_key_file.c_str());

    curl_multi_add_handle(multi_, e);
    CURLcode code = CURLE_OK;
    bool done = false;
    while (!done) {
      int running = 0;
      CURLMcode mc = curl_multi_perform(multi_, &running);
      if (mc != CURLM_OK) {
        code = CURLE_FAILED_INIT;
        break;
      }
      int queued;
      while (CURLMsg* m = curl_multi_info_read(multi_, &queued)) {
        if (m->msg == CURLMSG_DONE) {
          code = m->data.result;
          done = true;
        }
      }
      if (done || running == 0) break;
      if (cancelled_.load()) {
        code = CURLE_ABORTED_BY_CALLBACK;
        break;
      }
      curl_multi_poll(multi_, nullptr, 0, 200, nullptr);
    }
    curl_multi_remove_handle(multi_, e);
    if (cancelled_.load() && !done) {
      r.error = "interrupted by shutdown";
      return r;
    }
    if (code != CURLE_OK) {
      // Connection refused, reset, DNS, TLS handshake, timeout: transient.
      // Configuration and certificate problems do not heal by retrying.
      switch (code) {
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CIPHER:
        case CURLE_URL_MALFORMAT:
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_COULDNT_RESOLVE_PROXY:
          r.kind = SendResult::Kind::kFatal;
          break;
        default:
          r.kind = SendResult::Kind::kRetryable;
      }
      r.error = "HTTP request to " + UrlForLog(o_.url) + " failed: " + curl_easy_strerror(code);
      return r;
    }
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    r.response = std::move(response_);
    if (status >= 200 && status < 300) {
      r.kind = SendResult::Kind::kOk;
      return r;
    }
    r.kind = (status == 429 || status == 502 || status == 503 || status == 504)
                 ? SendResult::Kind::kRetryable
                 : SendResult::Kind::kFatal;
    r.retry_after = retry_after_;
    r.error = "HTTP " + std::to_string(status) + " from " + UrlForLog(o_.url);
    if (!r.response.empty() && o_.protocol == Protocol::kHttpJson) {
      r.error += ": " + r.response.substr(0, 200);
    }
    return r;
  }

  void Cancel() noexcept override {
    cancelled_.store(true);
    curl_multi_wakeup(multi_);
  }

 private:
  static size_t OnBody(char* p, size_t size, size_t n, void* self) {
    auto* t = static_cast<HttpTransport*>(self);
    size_t len = size * n;
    if (t->response_.size() < 65536)
      t->response_.append(p, std::min(len, 65536 - t->response_.size()));
    return len;
  }
  static size_t OnHeader(char* p, size_t size, size_t n, void* self) {
    auto* t = static_cast<HttpTransport*>(self);
    size_t len = size * n;
    std::string_view h(p, len);
    size_t colon = h.find(':');
    if (colon != std::string_view::npos && IEquals(h.substr(0, colon), "retry-after")) {
      std::string v(h.substr(colon + 1));
      while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) v.pop_back();
      size_t b = v.find_first_not_of(' ');
      v = b == std::string::npos ? "" : v.substr(b);
      if (!v.empty() &&
          std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        if (v.size() < 9) t->retry_after_ = std::chrono::seconds(std::stol(v));
      } else if (!v.empty()) {
        time_t when = curl_getdate(v.c_str(), nullptr);  // an HTTP date
        if (when > 0) {
          auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
          t->retry_after_ = std::chrono::seconds(std::max<time_t>(0, when - now));
        }
      }
    }
    return len;
  }

  ResolvedOtlpOptions o_;
  CURL* easy_ = nullptr;
  CURLM* multi_ = nullptr;
  curl_slist* base_headers_ = nullptr;
  curl_slist* gzip_headers_ = nullptr;
  std::string user_agent_ = "OTel-OTLP-Exporter-Cpp-otelweb/" + std::string(kVersion);
  std::string response_;
  std::optional<std::chrono::milliseconds> retry_after_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace

std::unique_ptr<Transport> MakeHttpTransport(const ResolvedOtlpOptions& o, std::string* error) {
  for (const std::string* f :
       {&o.certificate_file, &o.client_certificate_file, &o.client_key_file}) {
    std::string tmp;
    if (!f->empty() && !ReadFile(*f, &tmp)) {
      *error = "cannot read TLS file " + *f;
      return nullptr;
    }
  }
  auto t = std::make_unique<HttpTransport>(o);
  if (!t->ok()) {
    *error = "libcurl initialisation failed";
    return nullptr;
  }
  return t;
}

}  // namespace otelweb::otlp::internal
