// UiAssets() when the web page (web/view) was not built: one index.html that
// says how to get the page. The JSON API works the same either way.
#include "view/ui_assets.h"

namespace otelweb::view {

namespace {
constexpr std::string_view kIndex = R"(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>otelweb-view</title></head>
<body style="font-family: sans-serif; margin: 2em">
<h1>otelweb-view</h1>
<p>The viewer's web page was not built: install npm and rebuild (see docs/view.md).</p>
<p>The server runs: its JSON API answers, e.g. <a href="/api/traces">/api/traces</a>,
<a href="/api/services">/api/services</a>, <a href="/api/stats">/api/stats</a>.</p>
</body></html>
)";
constexpr UiAsset kAssets[] = {{"/index.html", "text/html; charset=utf-8", kIndex}};
}  // namespace

std::span<const UiAsset> UiAssets() noexcept { return kAssets; }

}  // namespace otelweb::view
