// InstrumenterBase: the settings both HTTP instrumenters compile alike.
#include "otelweb/http/instrumenter_base.h"

#include <string>
#include <vector>

#include "core/config.h"
#include "http/capture_setup.h"
#include "otelweb/common.h"

namespace otelweb::http {

namespace {

// The code's extra secret parameters, then those of OTEL_CPP_HTTP_SECRET_QUERY_PARAMS
// (the environment extends the list; it never shortens it).
std::vector<std::string> SecretParams(const Settings& settings) {
  std::vector<std::string> all = settings.secret_query_params;
  if (std::optional<std::string> env = config::GetString(kEnvSecretQueryParams)) {
    for (std::string& p : config::SplitList(*env)) all.push_back(std::move(p));
  }
  return all;
}

}  // namespace

InstrumenterBase::InstrumenterBase(const Settings& settings, std::string_view excluded_urls_name,
                                   const char* request_env, const char* response_env,
                                   std::string_view scope_name)
    : redactor_(SecretParams(settings)),
      excluder_(UrlExcluder::FromConfig(settings.excluded_urls, excluded_urls_name)),
      tracer_(scope_name, kVersion, settings.tracer_provider) {
  internal::SetUpHeaderCapture(settings, request_env, response_env, &request_capture_,
                               &response_capture_);
}

}  // namespace otelweb::http
