// libcurl instrumentation: Easy (traced perform) and Multi (span per transfer,
// ended on CURLMSG_DONE). Injected headers go on a copy of the user's list.
#include "otelweb/curl/curl.h"

#include <atomic>
#include <charconv>
#include <cstring>
#include <mutex>
#include <set>
#include <string>

#include "core/config.h"
#include "otelweb/diagnostics.h"
#include "otelweb/semconv.h"

namespace otelweb::curl {

namespace {

constexpr size_t kMaxWarnedHosts = 256;

struct State {
  Options options;
  http::ClientInstrumenter inst;
  long default_timeout_ms = 0;
  mutable std::mutex warn_mu;
  mutable std::set<std::string, std::less<>> warned_hosts;

  explicit State(Options o) : options(std::move(o)), inst(options, "CURL", kScopeName) {
    if (options.default_timeout) {
      default_timeout_ms =
          static_cast<long>(std::max<int64_t>(0, options.default_timeout->count()));
    } else if (auto v = config::GetMillis("OTEL_CPP_CURL_DEFAULT_TIMEOUT_MS")) {
      default_timeout_ms = static_cast<long>(std::min<int64_t>(v->count(), INT32_MAX));
    }
  }

  // One warning per host (the first kMaxWarnedHosts hosts).
  void WarnNoTimeout(std::string_view host) const noexcept {
    try {
      {
        std::lock_guard<std::mutex> lock(warn_mu);
        if (warned_hosts.size() >= kMaxWarnedHosts || warned_hosts.count(host) != 0) return;
        warned_hosts.emplace(host);
      }
      Log(LogLevel::kWarning,
          "otelweb: a libcurl request to host '" + std::string(host) +
              "' has no timeout (libcurl's default is to wait forever); set CURLOPT_TIMEOUT_MS, "
              "or otelweb::curl::Options::default_timeout / OTEL_CPP_CURL_DEFAULT_TIMEOUT_MS "
              "(reported once per host)");
    } catch (...) {
    }
  }
};

std::mutex g_mu;
std::shared_ptr<const State> g_state;  // guarded by g_mu; null until first use
std::atomic<bool> g_enabled{true};

std::shared_ptr<const State> CurrentState() noexcept {
  try {
    std::lock_guard<std::mutex> lock(g_mu);
    if (!g_state) g_state = std::make_shared<const State>(Options{});
    return g_state;
  } catch (...) {
    return nullptr;
  }
}

bool NameMatches(const char* entry, std::string_view key) noexcept {
  // "Name: value", "Name;" (empty value) or "Name:" (remove the header).
  size_t n = key.size();
  if (std::strlen(entry) < n + 1) return false;
  if (entry[n] != ':' && entry[n] != ';') return false;
  for (size_t i = 0; i < n; ++i) {
    char a = entry[i];
    char b = key[i];
    if (a >= 'A' && a <= 'Z') a = char(a - 'A' + 'a');
    if (b >= 'A' && b <= 'Z') b = char(b - 'A' + 'a');
    if (a != b) return false;
  }
  return true;
}

bool ListHas(const curl_slist* list, std::string_view key) noexcept {
  for (const curl_slist* p = list; p != nullptr; p = p->next) {
    if (p->data != nullptr && NameMatches(p->data, key)) return true;
  }
  return false;
}

bool SkipUserField(void* ctx, std::string_view key) {
  auto* list = static_cast<const curl_slist*>(ctx);
  if (ListHas(list, key)) return true;
  return key == "tracestate" && ListHas(list, "traceparent");
}

class SlistReader final : public http::HeaderReader {
 public:
  explicit SlistReader(const curl_slist* list) noexcept : list_(list) {}
  void ForEach(Visitor visit, void* ctx) const noexcept override {
    for (const curl_slist* p = list_; p != nullptr; p = p->next) {
      if (p->data == nullptr) continue;
      std::string_view line(p->data);
      size_t colon = line.find_first_of(":;");
      if (colon == std::string_view::npos || colon == 0) continue;
      std::string_view name = line.substr(0, colon);
      std::string_view value = line[colon] == ';' ? std::string_view() : line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
        value.remove_prefix(1);
      if (line[colon] == ':' && value.empty()) continue;  // "Name:" removes a header
      if (!visit(ctx, name, value)) return;
    }
  }

 private:
  const curl_slist* list_;
};

// Response headers of the last request, through curl_easy_nextheader.
class ResponseHeaderReader final : public http::HeaderReader {
 public:
  explicit ResponseHeaderReader(CURL* h) noexcept : h_(h) {}
  void ForEach(Visitor visit, void* ctx) const noexcept override {
    curl_header* prev = nullptr;
    while (curl_header* hd = curl_easy_nextheader(h_, CURLH_HEADER, -1, prev)) {
      // curl 7.88 gives an empty value as "\r" (the line end it did not cut
      // off): what was sent is "". Whitespace at the end is not part of a value.
      std::string_view value = hd->value != nullptr ? std::string_view(hd->value) : "";
      while (!value.empty() && (value.back() == '\r' || value.back() == '\n' ||
                                value.back() == ' ' || value.back() == '\t')) {
        value.remove_suffix(1);
      }
      if (!visit(ctx, hd->name, value)) return;
      prev = hd;
    }
  }

 private:
  CURL* h_;
};

class SlistSetter final : public TextMapSetter {
 public:
  explicit SlistSetter(curl_slist** list) noexcept : list_(list) {}
  void Set(std::string_view key, std::string_view value) noexcept override {
    try {
      std::string line;
      line.reserve(key.size() + 2 + value.size());
      line.append(key).append(": ").append(value);
      if (curl_slist* l = curl_slist_append(*list_, line.c_str())) *list_ = l;
    } catch (...) {
    }
  }

 private:
  curl_slist** list_;
};

std::string_view ProtocolVersion(long v) noexcept {
  switch (v) {
    case CURL_HTTP_VERSION_1_0:
      return "1.0";
    case CURL_HTTP_VERSION_1_1:
      return "1.1";
    case CURL_HTTP_VERSION_2_0:
      return "2";
    case CURL_HTTP_VERSION_3:
      return "3";
    default:
      return {};
  }
}

}  // namespace

namespace detail {
struct Transfer {
  std::shared_ptr<const State> state;
  http::ClientSpan span;
  curl_slist* injected = nullptr;  // our copy of the user's list plus our fields
  bool swapped_headers = false;
  bool applied_timeout = false;
  ~Transfer() {
    if (injected != nullptr) curl_slist_free_all(injected);
  }
};
}  // namespace detail

void Instrument(Options options) {
  auto st = std::make_shared<const State>(std::move(options));
  {
    std::lock_guard<std::mutex> lock(g_mu);
    g_state = std::move(st);
  }
  g_enabled.store(true, std::memory_order_relaxed);
}

void Uninstrument() noexcept { g_enabled.store(false, std::memory_order_relaxed); }
bool IsInstrumented() noexcept { return g_enabled.load(std::memory_order_relaxed); }

std::string_view CodeName(CURLcode code) noexcept {
  switch (code) {
#define OTELWEB_CURLE(name) \
  case name:                \
    return #name;
    OTELWEB_CURLE(CURLE_OK)
    OTELWEB_CURLE(CURLE_UNSUPPORTED_PROTOCOL)
    OTELWEB_CURLE(CURLE_FAILED_INIT)
    OTELWEB_CURLE(CURLE_URL_MALFORMAT)
    OTELWEB_CURLE(CURLE_NOT_BUILT_IN)
    OTELWEB_CURLE(CURLE_COULDNT_RESOLVE_PROXY)
    OTELWEB_CURLE(CURLE_COULDNT_RESOLVE_HOST)
    OTELWEB_CURLE(CURLE_COULDNT_CONNECT)
    OTELWEB_CURLE(CURLE_WEIRD_SERVER_REPLY)
    OTELWEB_CURLE(CURLE_REMOTE_ACCESS_DENIED)
    OTELWEB_CURLE(CURLE_HTTP2)
    OTELWEB_CURLE(CURLE_PARTIAL_FILE)
    OTELWEB_CURLE(CURLE_QUOTE_ERROR)
    OTELWEB_CURLE(CURLE_HTTP_RETURNED_ERROR)
    OTELWEB_CURLE(CURLE_WRITE_ERROR)
    OTELWEB_CURLE(CURLE_UPLOAD_FAILED)
    OTELWEB_CURLE(CURLE_READ_ERROR)
    OTELWEB_CURLE(CURLE_OUT_OF_MEMORY)
    OTELWEB_CURLE(CURLE_OPERATION_TIMEDOUT)
    OTELWEB_CURLE(CURLE_RANGE_ERROR)
    OTELWEB_CURLE(CURLE_HTTP_POST_ERROR)
    OTELWEB_CURLE(CURLE_SSL_CONNECT_ERROR)
    OTELWEB_CURLE(CURLE_BAD_DOWNLOAD_RESUME)
    OTELWEB_CURLE(CURLE_FILE_COULDNT_READ_FILE)
    OTELWEB_CURLE(CURLE_FUNCTION_NOT_FOUND)
    OTELWEB_CURLE(CURLE_ABORTED_BY_CALLBACK)
    OTELWEB_CURLE(CURLE_BAD_FUNCTION_ARGUMENT)
    OTELWEB_CURLE(CURLE_INTERFACE_FAILED)
    OTELWEB_CURLE(CURLE_TOO_MANY_REDIRECTS)
    OTELWEB_CURLE(CURLE_UNKNOWN_OPTION)
    OTELWEB_CURLE(CURLE_SETOPT_OPTION_SYNTAX)
    OTELWEB_CURLE(CURLE_GOT_NOTHING)
    OTELWEB_CURLE(CURLE_SSL_ENGINE_NOTFOUND)
    OTELWEB_CURLE(CURLE_SSL_ENGINE_SETFAILED)
    OTELWEB_CURLE(CURLE_SEND_ERROR)
    OTELWEB_CURLE(CURLE_RECV_ERROR)
    OTELWEB_CURLE(CURLE_SSL_CERTPROBLEM)
    OTELWEB_CURLE(CURLE_SSL_CIPHER)
    OTELWEB_CURLE(CURLE_PEER_FAILED_VERIFICATION)
    OTELWEB_CURLE(CURLE_BAD_CONTENT_ENCODING)
    OTELWEB_CURLE(CURLE_FILESIZE_EXCEEDED)
    OTELWEB_CURLE(CURLE_USE_SSL_FAILED)
    OTELWEB_CURLE(CURLE_SEND_FAIL_REWIND)
    OTELWEB_CURLE(CURLE_SSL_ENGINE_INITFAILED)
    OTELWEB_CURLE(CURLE_LOGIN_DENIED)
    OTELWEB_CURLE(CURLE_REMOTE_DISK_FULL)
    OTELWEB_CURLE(CURLE_REMOTE_FILE_EXISTS)
    OTELWEB_CURLE(CURLE_SSL_CACERT_BADFILE)
    OTELWEB_CURLE(CURLE_REMOTE_FILE_NOT_FOUND)
    OTELWEB_CURLE(CURLE_SSH)
    OTELWEB_CURLE(CURLE_SSL_SHUTDOWN_FAILED)
    OTELWEB_CURLE(CURLE_AGAIN)
    OTELWEB_CURLE(CURLE_SSL_CRL_BADFILE)
    OTELWEB_CURLE(CURLE_SSL_ISSUER_ERROR)
    OTELWEB_CURLE(CURLE_CHUNK_FAILED)
    OTELWEB_CURLE(CURLE_NO_CONNECTION_AVAILABLE)
    OTELWEB_CURLE(CURLE_SSL_PINNEDPUBKEYNOTMATCH)
    OTELWEB_CURLE(CURLE_SSL_INVALIDCERTSTATUS)
    OTELWEB_CURLE(CURLE_HTTP2_STREAM)
    OTELWEB_CURLE(CURLE_RECURSIVE_API_CALL)
    OTELWEB_CURLE(CURLE_AUTH_ERROR)
    OTELWEB_CURLE(CURLE_HTTP3)
    OTELWEB_CURLE(CURLE_QUIC_CONNECT_ERROR)
    OTELWEB_CURLE(CURLE_PROXY)
    OTELWEB_CURLE(CURLE_SSL_CLIENTCERT)
    OTELWEB_CURLE(CURLE_UNRECOVERABLE_POLL)
#undef OTELWEB_CURLE
    default:
      break;
  }
  thread_local char buf[32];
  std::memcpy(buf, "CURLE_", 6);
  auto r = std::to_chars(buf + 6, buf + sizeof(buf), static_cast<int>(code));
  return {buf, size_t(r.ptr - buf)};
}

// ---------------------------------------------------------------------------
// Transfer lifecycle

namespace {

std::string_view MethodOf(const Easy& e, const std::string& custom, bool nobody, bool post,
                          bool upload) noexcept {
  (void)e;
  if (!custom.empty()) return custom;
  if (nobody) return "HEAD";
  if (upload) return "PUT";
  if (post) return "POST";
  return "GET";
}

void AddPhase(SpanRef span, Timestamp start, std::string_view event, std::string_view attr,
              curl_off_t us, bool event_when_zero) noexcept {
  if (us < 0) return;
  span.SetAttribute(attr, static_cast<int64_t>(us));
  if (us == 0 && !event_when_zero) return;
  span.AddEvent(event, {}, start + std::chrono::microseconds(us));
}

}  // namespace

// Starts the span and prepares the handle (headers, timeout). Null: untraced.
static std::unique_ptr<detail::Transfer> BeginTransfer(CURL* h, const std::string& url_set,
                                                       std::string_view method,
                                                       const curl_slist* user_headers,
                                                       long timeout_ms, bool headers_known,
                                                       bool timeout_known, const Context* parent,
                                                       bool make_current) noexcept {
  if (h == nullptr || !g_enabled.load(std::memory_order_relaxed)) return nullptr;
  try {
    auto t = std::make_unique<detail::Transfer>();
    t->state = CurrentState();
    if (!t->state) return nullptr;
    const State& st = *t->state;
    std::string_view url = url_set;
    if (url.empty()) {
      char* eff = nullptr;
      if (curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &eff) == CURLE_OK && eff != nullptr) {
        url = eff;
      }
    }
    SlistReader reader(user_headers);
    http::ClientRequestView view;
    view.method = method;
    view.url = url;
    view.headers = &reader;
    view.native = h;
    if (!t->span.Start(st.inst, view, parent, make_current)) return nullptr;
    SpanRef span = t->span.span();

    // Headers: a copy of the user's list plus our fields (not for an adopted
    // handle whose list is unknown: setting ours would lose it).
    if (!headers_known) {
      static std::atomic<bool> warned{false};
      LogOnce(warned, LogLevel::kWarning,
              "otelweb: a libcurl handle traced without its header list (adopted by "
              "otelweb::curl::Easy, or given to otelweb::curl::Perform(h)): no trace context is "
              "injected into its requests. Set CURLOPT_HTTPHEADER through Easy::setopt, or call "
              "otelweb::curl::Perform(h, headers) with the list you set (nullptr if none) (reported "
              "once)");
    }
    curl_slist* copy = nullptr;
    for (const curl_slist* p = user_headers; p != nullptr; p = p->next) {
      curl_slist* l = curl_slist_append(copy, p->data);
      if (l == nullptr) {
        if (copy != nullptr) curl_slist_free_all(copy);
        copy = nullptr;
        break;
      }
      copy = l;
    }
    curl_slist* before = copy;
    size_t before_count = 0;
    for (const curl_slist* p = copy; p != nullptr; p = p->next) ++before_count;
    SlistSetter setter(&copy);
    t->span.Inject(setter, &SkipUserField, const_cast<curl_slist*>(user_headers));
    size_t after_count = 0;
    for (const curl_slist* p = copy; p != nullptr; p = p->next) ++after_count;
    (void)before;
    t->injected = copy;
    if (headers_known && after_count != before_count) {
      if ((curl_easy_setopt)(h, CURLOPT_HTTPHEADER, copy) == CURLE_OK) t->swapped_headers = true;
    }

    // The timeout trap.
    if (timeout_known && timeout_ms <= 0) {
      std::string_view scheme, host;
      int port = 0;
      if (!http::ParseUrlAuthority(url, &scheme, &host, &port)) host = "(unparsed URL)";
      if (st.default_timeout_ms > 0) {
        if ((curl_easy_setopt)(h, CURLOPT_TIMEOUT_MS, st.default_timeout_ms) == CURLE_OK) {
          t->applied_timeout = true;
          span.SetAttribute("otelweb.curl.default_timeout_ms",
                            static_cast<int64_t>(st.default_timeout_ms));
        }
      } else if (st.options.flag_missing_timeout) {
        span.SetAttribute("otelweb.curl.timeout_missing", true);
        st.WarnNoTimeout(host);
      }
    }
    // The hook runs last, so options it sets (a timeout, headers) win.
    if (st.options.request_hook) st.inst.RunHook([&] { st.options.request_hook(span, h); });
    return t;
  } catch (...) {
    return nullptr;
  }
}

// Reads the outcome, restores the handle and ends the span. `cancelled`: the
// transfer was removed before completion (rc is then ignored).
static void EndTransfer(CURL* h, detail::Transfer& t, const curl_slist* user_headers, CURLcode rc,
                        bool cancelled) noexcept {
  if (t.swapped_headers) {
    (curl_easy_setopt)(h, CURLOPT_HTTPHEADER, user_headers);
    t.swapped_headers = false;
  }
  if (t.injected != nullptr) {
    curl_slist_free_all(t.injected);
    t.injected = nullptr;
  }
  if (!t.span.active()) return;
  const State& st = *t.state;
  SpanRef span = t.span.span();
  http::ClientResponseView res;
  long code = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  res.status_code = static_cast<int>(code);
  long version = 0;
  curl_easy_getinfo(h, CURLINFO_HTTP_VERSION, &version);
  res.protocol_version = ProtocolVersion(version);
  char* ip = nullptr;
  if (curl_easy_getinfo(h, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip != nullptr) {
    res.peer_address = ip;
  }
  long peer_port = 0;
  curl_easy_getinfo(h, CURLINFO_PRIMARY_PORT, &peer_port);
  res.peer_port = static_cast<int>(peer_port);
  res.native = h;
  ResponseHeaderReader headers(h);
  if (code > 0) {
    res.headers = &headers;
    // Body bytes as libcurl counted them, headers excluded.
    curl_off_t up = -1, down = -1;
    if (curl_easy_getinfo(h, CURLINFO_SIZE_UPLOAD_T, &up) == CURLE_OK) res.request_body_size = up;
    if (curl_easy_getinfo(h, CURLINFO_SIZE_DOWNLOAD_T, &down) == CURLE_OK) res.body_size = down;
  }
  if (span.IsRecording()) {
    char* method = nullptr;
    if (curl_easy_getinfo(h, CURLINFO_EFFECTIVE_METHOD, &method) == CURLE_OK && method != nullptr) {
      t.span.SetMethod(method);
    }
    long redirects = 0;
    if (curl_easy_getinfo(h, CURLINFO_REDIRECT_COUNT, &redirects) == CURLE_OK && redirects > 0) {
      instrumentation::SetInstrumentationAttribute(span, semconv::kHttpRequestResendCount,
                                                   static_cast<int64_t>(redirects));
    }
    if (st.options.record_phases) {
      Timestamp start = t.span.start_time();
      curl_off_t dns = -1, connect = -1, tls = -1, pre = -1, first = -1, total = -1, redirect = -1;
      curl_easy_getinfo(h, CURLINFO_NAMELOOKUP_TIME_T, &dns);
      curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &connect);
      curl_easy_getinfo(h, CURLINFO_APPCONNECT_TIME_T, &tls);
      curl_easy_getinfo(h, CURLINFO_PRETRANSFER_TIME_T, &pre);
      curl_easy_getinfo(h, CURLINFO_STARTTRANSFER_TIME_T, &first);
      curl_easy_getinfo(h, CURLINFO_TOTAL_TIME_T, &total);
      curl_easy_getinfo(h, CURLINFO_REDIRECT_TIME_T, &redirect);
      AddPhase(span, start, "curl.dns", "curl.time.dns_us", dns, true);
      AddPhase(span, start, "curl.connect", "curl.time.connect_us", connect, false);
      AddPhase(span, start, "curl.tls", "curl.time.tls_us", tls, false);
      AddPhase(span, start, "curl.request_sent", "curl.time.request_sent_us", pre, false);
      AddPhase(span, start, "curl.first_byte", "curl.time.first_byte_us", first, false);
      if (total >= 0) span.SetAttribute("curl.time.total_us", static_cast<int64_t>(total));
      if (redirect > 0) span.SetAttribute("curl.time.redirect_us", static_cast<int64_t>(redirect));
    }
  }
  if (cancelled) {
    if (code <= 0) {
      res.error_type = "cancelled";
      res.error_message = "transfer removed before it completed";
    }
  } else if (rc != CURLE_OK) {
    res.error_type = CodeName(rc);
    res.error_message = curl_easy_strerror(rc);
  }
  if (st.options.response_hook) {
    st.inst.RunHook([&] { st.options.response_hook(span, h, cancelled ? CURLE_OK : rc); });
  }
  t.span.End(res);
  if (t.applied_timeout) {
    (curl_easy_setopt)(h, CURLOPT_TIMEOUT_MS, 0L);
    t.applied_timeout = false;
  }
}

// ---------------------------------------------------------------------------
// Easy

Easy::Easy() noexcept : h_(curl_easy_init()) {}
Easy::Easy(CURL* adopt) noexcept : h_(adopt), headers_known_(false), timeout_known_(false) {}

Easy::~Easy() {
  if (multi_ != nullptr) multi_->remove(*this);
  if (h_ != nullptr) curl_easy_cleanup(h_);
}

Easy::Easy(Easy&& o) noexcept
    : h_(o.h_),
      url_(std::move(o.url_)),
      custom_method_(std::move(o.custom_method_)),
      headers_(o.headers_),
      timeout_ms_(o.timeout_ms_),
      headers_known_(o.headers_known_),
      timeout_known_(o.timeout_known_),
      nobody_(o.nobody_),
      post_(o.post_),
      upload_(o.upload_),
      multi_(o.multi_),
      transfer_(std::move(o.transfer_)) {
  o.h_ = nullptr;
  o.multi_ = nullptr;
  if (multi_ != nullptr) multi_->easies_[h_] = this;
}

Easy& Easy::operator=(Easy&& o) noexcept {
  if (this == &o) return *this;
  if (multi_ != nullptr) multi_->remove(*this);
  if (h_ != nullptr) curl_easy_cleanup(h_);
  h_ = o.h_;
  url_ = std::move(o.url_);
  custom_method_ = std::move(o.custom_method_);
  headers_ = o.headers_;
  timeout_ms_ = o.timeout_ms_;
  headers_known_ = o.headers_known_;
  timeout_known_ = o.timeout_known_;
  nobody_ = o.nobody_;
  post_ = o.post_;
  upload_ = o.upload_;
  multi_ = o.multi_;
  transfer_ = std::move(o.transfer_);
  o.h_ = nullptr;
  o.multi_ = nullptr;
  if (multi_ != nullptr) multi_->easies_[h_] = this;
  return *this;
}

CURL* Easy::release() noexcept {
  if (multi_ != nullptr) multi_->remove(*this);
  CURL* h = h_;
  h_ = nullptr;
  return h;
}

void Easy::reset() noexcept {
  if (h_ != nullptr) curl_easy_reset(h_);
  url_.clear();
  custom_method_.clear();
  headers_ = nullptr;
  timeout_ms_ = 0;
  headers_known_ = timeout_known_ = true;
  nobody_ = post_ = upload_ = false;
}

void Easy::Record(CURLoption option, long n, const char* s, const curl_slist* list) noexcept {
  try {
    switch (option) {
      case CURLOPT_URL:
        url_ = s != nullptr ? s : "";
        break;
      case CURLOPT_CUSTOMREQUEST:
        custom_method_ = s != nullptr ? s : "";
        break;
      case CURLOPT_HTTPHEADER:
        headers_ = list;
        headers_known_ = true;
        break;
      case CURLOPT_TIMEOUT:
        timeout_ms_ = n > 0 ? n * 1000 : 0;
        timeout_known_ = true;
        break;
      case CURLOPT_TIMEOUT_MS:
        timeout_ms_ = n > 0 ? n : 0;
        timeout_known_ = true;
        break;
      case CURLOPT_NOBODY:
        nobody_ = n != 0;
        if (nobody_) {
          post_ = upload_ = false;
        }
        break;
      case CURLOPT_POST:
        post_ = n != 0;
        if (post_) {
          nobody_ = upload_ = false;
        }
        break;
      case CURLOPT_POSTFIELDS:
      case CURLOPT_COPYPOSTFIELDS:
        post_ = true;
        nobody_ = upload_ = false;
        break;
      case CURLOPT_UPLOAD:
        upload_ = n != 0;
        if (upload_) {
          nobody_ = post_ = false;
        }
        break;
      case CURLOPT_HTTPGET:
        if (n != 0) {
          nobody_ = post_ = upload_ = false;
        }
        break;
      default:
        break;
    }
  } catch (...) {
  }
}

CURLcode Easy::perform() noexcept {
  if (h_ == nullptr) return CURLE_FAILED_INIT;
  if (multi_ != nullptr) return curl_easy_perform(h_);  // libcurl refuses; no span
  std::unique_ptr<detail::Transfer> t =
      BeginTransfer(h_, url_, MethodOf(*this, custom_method_, nobody_, post_, upload_), headers_,
                    timeout_ms_, headers_known_, timeout_known_, nullptr, /*make_current=*/true);
  CURLcode rc = curl_easy_perform(h_);
  if (t) EndTransfer(h_, *t, headers_, rc, false);
  return rc;
}

CURLcode Perform(CURL* handle) noexcept {
  Easy e(handle);  // borrowed: released below, never cleaned up here
  const CURLcode rc = e.perform();
  (void)e.release();
  return rc;
}

CURLcode Perform(CURL* handle, const curl_slist* headers) noexcept {
  Easy e(handle);
  // The same list again (libcurl keeps the pointer): now it is known, and
  // the span's fields go on a copy of it.
  CURLcode rc = e.setopt(CURLOPT_HTTPHEADER, headers);
  if (rc == CURLE_OK) rc = e.perform();
  (void)e.release();
  return rc;
}

// ---------------------------------------------------------------------------
// Multi

Multi::Multi() noexcept : m_(curl_multi_init()) {}

Multi::Multi(CURLM* borrowed, Borrow) noexcept : m_(borrowed), owned_(false) {}

Multi::~Multi() {
  while (!easies_.empty()) remove(*easies_.begin()->second);
  if (owned_ && m_ != nullptr) curl_multi_cleanup(m_);
}

CURLMcode Multi::add(Easy& e, const Context* parent) noexcept {
  if (m_ == nullptr || e.h_ == nullptr) return CURLM_BAD_HANDLE;
  if (e.multi_ != nullptr) return CURLM_ADDED_ALREADY;
  try {
    easies_[e.h_] = &e;
  } catch (...) {
    return CURLM_OUT_OF_MEMORY;
  }
  e.transfer_ =
      BeginTransfer(e.h_, e.url_, MethodOf(e, e.custom_method_, e.nobody_, e.post_, e.upload_),
                    e.headers_, e.timeout_ms_, e.headers_known_, e.timeout_known_, parent,
                    /*make_current=*/false);
  CURLMcode rc = curl_multi_add_handle(m_, e.h_);
  if (rc != CURLM_OK) {
    if (e.transfer_) {
      EndTransfer(e.h_, *e.transfer_, e.headers_, CURLE_FAILED_INIT, false);
      e.transfer_.reset();
    }
    easies_.erase(e.h_);
    return rc;
  }
  e.multi_ = this;
  return rc;
}

CURLMcode Multi::remove(Easy& e) noexcept {
  if (e.multi_ != this) return CURLM_BAD_EASY_HANDLE;
  // Detach first: ending the span restores the user's header list and
  // timeout, which must not happen to a handle still attached mid-transfer.
  CURLMcode rc = curl_multi_remove_handle(m_, e.h_);
  if (e.transfer_) {
    EndTransfer(e.h_, *e.transfer_, e.headers_, CURLE_OK, /*cancelled=*/true);
    e.transfer_.reset();
  }
  easies_.erase(e.h_);
  e.multi_ = nullptr;
  return rc;
}

CURLMcode Multi::perform(int* running) noexcept {
  if (m_ == nullptr) return CURLM_BAD_HANDLE;
  return curl_multi_perform(m_, running);
}

CURLMcode Multi::poll(int timeout_ms, int* numfds) noexcept {
  if (m_ == nullptr) return CURLM_BAD_HANDLE;
  return curl_multi_poll(m_, nullptr, 0, timeout_ms, numfds);
}

CURLMcode Multi::wait(int timeout_ms, int* numfds) noexcept {
  if (m_ == nullptr) return CURLM_BAD_HANDLE;
  return curl_multi_wait(m_, nullptr, 0, timeout_ms, numfds);
}

CURLMsg* Multi::info_read(int* msgs_in_queue) noexcept {
  if (m_ == nullptr) return nullptr;
  CURLMsg* msg = curl_multi_info_read(m_, msgs_in_queue);
  if (msg != nullptr && msg->msg == CURLMSG_DONE) {
    auto it = easies_.find(msg->easy_handle);
    if (it != easies_.end() && it->second->transfer_) {
      Easy& e = *it->second;
      EndTransfer(e.h_, *e.transfer_, e.headers_, msg->data.result, false);
      e.transfer_.reset();
    }
  }
  return msg;
}

Easy* Multi::find(CURL* handle) const noexcept {
  auto it = easies_.find(handle);
  return it == easies_.end() ? nullptr : it->second;
}

// ---------------------------------------------------------------------------
// MultiAdd / MultiInfoRead / MultiRemove / MultiCleanup: a borrowed Multi per
// CURLM* and a borrowed Easy per added CURL*, kept in one registry.

namespace detail {

struct BorrowedMulti {
  explicit BorrowedMulti(CURLM* m) : multi(m, Multi::Borrow{}) {}
  Multi multi;
  std::map<CURL*, std::unique_ptr<Easy>> easies;
};

}  // namespace detail

namespace {

struct MultiRegistry {
  std::mutex mu;
  std::map<CURLM*, std::unique_ptr<detail::BorrowedMulti>> multis;
};
MultiRegistry& Multis() {
  static MultiRegistry* r = new MultiRegistry;  // never destroyed: used during exit
  return *r;
}

CURLMcode AddBorrowed(CURLM* m, CURL* h, const curl_slist* const* headers) noexcept {
  if (m == nullptr || h == nullptr) return CURLM_BAD_HANDLE;
  MultiRegistry& r = Multis();
  std::lock_guard<std::mutex> lock(r.mu);
  try {
    std::unique_ptr<detail::BorrowedMulti>& bm = r.multis[m];
    if (!bm) bm = std::make_unique<detail::BorrowedMulti>(m);
    if (bm->easies.count(h) != 0) return CURLM_ADDED_ALREADY;
    auto e = std::make_unique<Easy>(h);
    // The same list again (libcurl keeps the pointer): now it is known.
    if (headers != nullptr && e->setopt(CURLOPT_HTTPHEADER, *headers) != CURLE_OK) {
      (void)e->release();
      return CURLM_INTERNAL_ERROR;
    }
    const CURLMcode rc = bm->multi.add(*e);
    if (rc != CURLM_OK) {
      (void)e->release();
      if (bm->easies.empty()) r.multis.erase(m);
      return rc;
    }
    bm->easies.emplace(h, std::move(e));
    return rc;
  } catch (...) {
    return CURLM_OUT_OF_MEMORY;
  }
}

}  // namespace

CURLMcode MultiAdd(CURLM* multi, CURL* handle) noexcept { return AddBorrowed(multi, handle, nullptr); }

CURLMcode MultiAdd(CURLM* multi, CURL* handle, const curl_slist* headers) noexcept {
  return AddBorrowed(multi, handle, &headers);
}

CURLMsg* MultiInfoRead(CURLM* multi, int* msgs_in_queue) noexcept {
  MultiRegistry& r = Multis();
  std::lock_guard<std::mutex> lock(r.mu);
  auto it = r.multis.find(multi);
  if (it == r.multis.end()) return curl_multi_info_read(multi, msgs_in_queue);
  return it->second->multi.info_read(msgs_in_queue);
}

CURLMcode MultiRemove(CURLM* multi, CURL* handle) noexcept {
  MultiRegistry& r = Multis();
  std::lock_guard<std::mutex> lock(r.mu);
  auto it = r.multis.find(multi);
  if (it == r.multis.end()) return curl_multi_remove_handle(multi, handle);
  detail::BorrowedMulti& bm = *it->second;
  auto e = bm.easies.find(handle);
  if (e == bm.easies.end()) return curl_multi_remove_handle(multi, handle);
  const CURLMcode rc = bm.multi.remove(*e->second);
  (void)e->second->release();
  bm.easies.erase(e);
  if (bm.easies.empty()) r.multis.erase(it);
  return rc;
}

CURLMcode MultiCleanup(CURLM* multi) noexcept {
  {
    MultiRegistry& r = Multis();
    std::lock_guard<std::mutex> lock(r.mu);
    auto it = r.multis.find(multi);
    if (it != r.multis.end()) {
      detail::BorrowedMulti& bm = *it->second;
      for (auto& [h, e] : bm.easies) {
        (void)bm.multi.remove(*e);
        (void)e->release();
      }
      r.multis.erase(it);
    }
  }
  return curl_multi_cleanup(multi);
}

}  // namespace otelweb::curl
