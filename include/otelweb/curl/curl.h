// libcurl client instrumentation (library otelweb_curl): a CLIENT span per
// transfer, for the easy interface (a traced perform) and the multi interface
// (the span ends when the transfer completes).
//
//   otelweb::curl::Easy easy;                          // owns a CURL*
//   easy.setopt(CURLOPT_URL, "http://127.0.0.1:5001/delay/1");
//   easy.setopt(CURLOPT_TIMEOUT_MS, 2000L);            // see "the timeout trap"
//   easy.setopt(CURLOPT_HTTPHEADER, my_headers);       // kept as is; ours go on a copy
//   CURLcode rc = easy.perform();                      // traced curl_easy_perform
//
//   otelweb::curl::Multi multi;                        // owns a CURLM*
//   multi.add(easy);                                   // span starts, headers injected
//   while (running) { multi.perform(&running); multi.poll(100); }
//   while (CURLMsg* m = multi.info_read(&left)) ...    // span ends on CURLMSG_DONE
//   multi.remove(easy);
//
// Per transfer: a CLIENT span named "{method}" (child of the current span, or
// of the context current when Multi::add was called), traceparent /
// tracestate / baggage from the global propagator added to a copy of the
// user's CURLOPT_HTTPHEADER list (names the user set win; the user's list is
// put back and never modified), then from curl_easy_getinfo:
// http.response.status_code, network.protocol.version, network.peer.address
// and .port (the IP actually used), http.request.resend_count (redirects
// followed), the final method, and the phase timings (curl.dns, curl.connect,
// curl.tls, curl.request_sent, curl.first_byte events at their times, and
// curl.time.*_us attributes). A CURLcode other than CURLE_OK makes the span
// Error with error.type = the code's name ("CURLE_COULDNT_CONNECT",
// "CURLE_OPERATION_TIMEDOUT", "CURLE_SSL_CONNECT_ERROR", ...); a response >=
// 400 makes it Error with error.type = the code.
//
// The timeout trap: libcurl's default is no overall timeout, so a request to
// a stalled server waits forever. A traced request whose CURLOPT_TIMEOUT /
// CURLOPT_TIMEOUT_MS is unset (or 0) gets the attribute
// otelweb.curl.timeout_missing = true and one warning per URL host naming
// it. Options::default_timeout (or OTEL_CPP_CURL_DEFAULT_TIMEOUT_MS) gives such
// requests a timeout instead (attribute otelweb.curl.default_timeout_ms); the
// handle's setting is put back to "none" after the transfer.
//
// Only options set through Easy::setopt are seen (libcurl has no getters):
// set the URL, headers, method and timeout options there, not with
// curl_easy_setopt(easy.get(), ...).
//
// Ownership: Easy owns its CURL* (curl_easy_cleanup on destruction) unless
// released; it borrows the curl_slist given as CURLOPT_HTTPHEADER, which must
// outlive the transfer as libcurl requires. Multi owns its CURLM* and borrows
// the Easy objects added to it: an Easy must stay at the same address and
// alive until removed (Multi's destructor removes what is left, ending those
// spans as cancelled).
// Thread-safety: as libcurl's: an Easy or a Multi is used by one thread at a
// time. Instrument/Uninstrument may be called from any thread at any time;
// transfers already started keep the options they started with.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

#include "otelweb/http/server.h"

#include "otelweb/http/client.h"
#include "otelweb/trace/span.h"

namespace otelweb::curl {

// Instrumentation scope name of the CLIENT spans.
inline constexpr std::string_view kScopeName = "otelweb.curl";

struct Options : http::ClientSettings {
  // After the span started (even when not recording) and before the transfer
  // starts; it may set options on the handle. Throwing is caught and reported
  // once.
  std::function<void(SpanRef, CURL*)> request_hook;
  // After the transfer, before the span ends.
  std::function<void(SpanRef, CURL*, CURLcode)> response_hook;
  // Given (as CURLOPT_TIMEOUT_MS) to traced requests that have no timeout.
  // nullopt: OTEL_CPP_CURL_DEFAULT_TIMEOUT_MS when set, else none (such
  // requests are only flagged). Zero: none.
  std::optional<std::chrono::milliseconds> default_timeout{};
  // Flag requests without a timeout (attribute and one warning per host).
  bool flag_missing_timeout = true;
  // Phase timings as events and attributes.
  bool record_phases = true;
};

// Sets the process-wide options of every traced transfer (the most recent
// call wins; the default is Options{} with environment settings) and turns
// tracing on. Uninstrument: Easy::perform and Multi become plain libcurl.
void Instrument(Options options = {});
void Uninstrument() noexcept;
bool IsInstrumented() noexcept;

// The name of a CURLcode ("CURLE_OPERATION_TIMEDOUT"); "CURLE_<n>" for codes
// this libcurl version does not name.
std::string_view CodeName(CURLcode code) noexcept;

namespace detail {
struct Transfer;
struct BorrowedMulti;
}

class Multi;

// An owned easy handle with a traced perform.
class Easy {
 public:
  // curl_easy_init(); get() is null if that failed (perform then returns
  // CURLE_FAILED_INIT).
  Easy() noexcept;
  // Takes ownership of an existing handle. Options set on it before are not
  // known to the instrumentation, so until CURLOPT_HTTPHEADER is set through
  // setopt no headers are injected (a header list set before would be lost),
  // and until a timeout is set through setopt the timeout trap is not checked
  // (one set before would be overridden). Set them again through setopt.
  explicit Easy(CURL* adopt) noexcept;
  ~Easy();
  Easy(Easy&& other) noexcept;
  Easy& operator=(Easy&& other) noexcept;
  Easy(const Easy&) = delete;
  Easy& operator=(const Easy&) = delete;

  CURL* get() const noexcept { return h_; }
  // Gives up ownership (no cleanup on destruction).
  CURL* release() noexcept;

  // curl_easy_setopt, recording what the instrumentation needs: URL,
  // HTTPHEADER, the method (CUSTOMREQUEST, POST, POSTFIELDS, NOBODY, UPLOAD,
  // HTTPGET), TIMEOUT / TIMEOUT_MS.
  template <typename T>
  CURLcode setopt(CURLoption option, T value) noexcept {
    if (h_ == nullptr) return CURLE_FAILED_INIT;
    if constexpr (std::is_integral_v<T> || std::is_enum_v<T>) {
      if (option >= CURLOPTTYPE_OFF_T && option < CURLOPTTYPE_BLOB) {  // *_LARGE options
        return (curl_easy_setopt)(h_, option, static_cast<curl_off_t>(value));
      }
      CURLcode rc = (curl_easy_setopt)(h_, option, static_cast<long>(value));
      if (rc == CURLE_OK) Record(option, static_cast<long>(value), nullptr, nullptr);
      return rc;
    } else if constexpr (std::is_same_v<std::decay_t<T>, std::string>) {
      if (option == CURLOPT_POSTFIELDS) {
        // libcurl keeps the pointer it is given for POSTFIELDS, and `value` is
        // this function's copy: hand libcurl its own copy instead.
        CURLcode rc = (curl_easy_setopt)(h_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(value.size()));
        if (rc == CURLE_OK) rc = (curl_easy_setopt)(h_, CURLOPT_COPYPOSTFIELDS, value.c_str());
        if (rc == CURLE_OK) Record(CURLOPT_POSTFIELDS, 0, nullptr, nullptr);
        return rc;
      }
      return setopt(option, value.c_str());
    } else if constexpr (std::is_same_v<std::decay_t<T>, curl_slist*> ||
                         std::is_same_v<std::decay_t<T>, const curl_slist*>) {
      CURLcode rc = (curl_easy_setopt)(h_, option, value);
      if (rc == CURLE_OK) Record(option, 0, nullptr, value);
      return rc;
    } else if constexpr (std::is_convertible_v<T, const char*>) {
      CURLcode rc = (curl_easy_setopt)(h_, option, value);
      if (rc == CURLE_OK) Record(option, 0, static_cast<const char*>(value), nullptr);
      return rc;
    } else {
      return (curl_easy_setopt)(h_, option, value);
    }
  }
  // curl_easy_reset; forgets the recorded options.
  void reset() noexcept;

  // A traced curl_easy_perform. The span is current on this thread during
  // the transfer (callbacks see it).
  CURLcode perform() noexcept;

  // True while the handle is in a Multi.
  bool in_multi() const noexcept { return multi_ != nullptr; }

 private:
  friend class Multi;
  void Record(CURLoption option, long n, const char* s, const curl_slist* list) noexcept;

  CURL* h_ = nullptr;
  std::string url_;
  std::string custom_method_;
  const curl_slist* headers_ = nullptr;
  long timeout_ms_ = 0;        // 0: none set
  bool headers_known_ = true;  // false for an adopted handle until HTTPHEADER is set
  bool timeout_known_ = true;  // false for an adopted handle until a timeout is set
  bool nobody_ = false;
  bool post_ = false;
  bool upload_ = false;
  Multi* multi_ = nullptr;
  std::unique_ptr<detail::Transfer> transfer_;
};

// The one-line change per call site for code that keeps its own CURL*
// handles and sets them up with curl_easy_setopt:
//
//   CURLcode rc = otelweb::curl::Perform(h);            // was curl_easy_perform(h)
//   CURLcode rc = otelweb::curl::Perform(h, headers);   // and trace context is injected
//
// A traced curl_easy_perform: a CLIENT span as Easy::perform makes (URL,
// method, status, peer, timings and errors read from libcurl after the
// transfer). libcurl cannot give back a header list set with
// curl_easy_setopt, so Perform(h) injects no trace context (one warning says
// so, once); Perform(h, headers) takes the list the handle has as
// CURLOPT_HTTPHEADER (nullptr when none was set): ours go on a copy for the
// transfer and the handle gets `headers` back afterwards. The timeout trap
// check needs Easy::setopt too, so it is skipped for these handles.
// Ownership: the handle stays the caller's (never cleaned up); `headers` is
// borrowed and must outlive the transfer.
// Thread-safety: as curl_easy_perform's (one thread per handle at a time).
CURLcode Perform(CURL* handle) noexcept;
CURLcode Perform(CURL* handle, const curl_slist* headers) noexcept;

// The same one-line change per call site for code that keeps its own CURLM*
// loop (handles set up with curl_easy_setopt):
//
//   otelweb::curl::MultiAdd(m, h, headers);    // was curl_multi_add_handle(m, h)
//   curl_multi_perform(m, &running);           // unchanged (and poll/wait/fdset)
//   otelweb::curl::MultiInfoRead(m, &left);    // was curl_multi_info_read(m, &left)
//   otelweb::curl::MultiRemove(m, h);          // was curl_multi_remove_handle(m, h)
//   otelweb::curl::MultiCleanup(m);            // was curl_multi_cleanup(m)
//
// MultiAdd starts the CLIENT span (a child of the calling thread's current
// span) and, with `headers` (the handle's CURLOPT_HTTPHEADER list, nullptr
// when none was set), injects the trace context on a copy of that list, as
// Perform(h, headers) does; MultiAdd(m, h) injects nothing (one warning, once).
// MultiInfoRead ends a transfer's span on its CURLMSG_DONE message, before it
// returns it; MultiRemove ends a transfer not reported done as cancelled and
// gives the handle its own header list back; MultiCleanup does that for
// every handle still added, then calls curl_multi_cleanup. Handles added with
// plain curl_multi_add_handle to the same CURLM* pass through untouched.
// Ownership: the CURLM* and CURL* stay the caller's; `headers` is borrowed
// and must outlive the transfer. otelweb keeps a small record per added
// handle until MultiRemove/MultiCleanup (a handle freed without them leaves
// that record and an open span behind).
// Thread-safety: as libcurl's (one thread per multi handle at a time); the
// records are guarded by one process-wide lock.
CURLMcode MultiAdd(CURLM* multi, CURL* handle) noexcept;
CURLMcode MultiAdd(CURLM* multi, CURL* handle, const curl_slist* headers) noexcept;
CURLMsg* MultiInfoRead(CURLM* multi, int* msgs_in_queue) noexcept;
CURLMcode MultiRemove(CURLM* multi, CURL* handle) noexcept;
CURLMcode MultiCleanup(CURLM* multi) noexcept;

// An owned multi handle whose transfers are traced.
class Multi {
 public:
  Multi() noexcept;
  ~Multi();
  Multi(const Multi&) = delete;
  Multi& operator=(const Multi&) = delete;

  CURLM* get() const noexcept { return m_; }

  // curl_multi_add_handle; the span starts now, as a child of the calling
  // thread's current span (or of `parent`).
  CURLMcode add(Easy& easy, const Context* parent = nullptr) noexcept;
  // curl_multi_remove_handle; a transfer not reported done yet ends as
  // cancelled (error.type "cancelled") unless a response arrived.
  CURLMcode remove(Easy& easy) noexcept;
  CURLMcode perform(int* running_handles) noexcept;
  CURLMcode poll(int timeout_ms, int* numfds = nullptr) noexcept;
  CURLMcode wait(int timeout_ms, int* numfds = nullptr) noexcept;
  // curl_multi_info_read; a CURLMSG_DONE message ends its transfer's span
  // before it is returned. msg->easy_handle is the Easy's get().
  CURLMsg* info_read(int* msgs_in_queue) noexcept;
  // The Easy added with this handle (null if none).
  Easy* find(CURL* handle) const noexcept;

 private:
  friend class Easy;
  friend struct detail::BorrowedMulti;
  struct Borrow {};
  Multi(CURLM* borrowed, Borrow) noexcept;  // for MultiAdd: never cleaned up here
  CURLM* m_ = nullptr;
  bool owned_ = true;
  std::map<CURL*, Easy*> easies_;
};

}  // namespace otelweb::curl
