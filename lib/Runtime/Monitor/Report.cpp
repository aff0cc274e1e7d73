//===- Report.cpp - Self-contained HTML training report -------------------===//
//
// Charts are plain SVG polylines in a fixed 600x320 viewBox that scales with
// the page; axis ticks use 1-2-5 steps.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Monitor/Report.h"
#include "dlc/Runtime/Support.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>

using namespace dlc::runtime;

static std::string escape(llvm::StringRef s) {
  std::string out;
  for (char c : s) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

namespace {
struct Series {
  std::string name, color;
  bool dashed;
  std::vector<std::pair<double, double>> points;
};
} // namespace

/// A "nice" tick step (1, 2 or 5 times a power of ten) for `range`.
static double tickStep(double range, int targetTicks) {
  double raw = range / std::max(1, targetTicks);
  double power = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * power >= raw)
      return m * power;
  return 10 * power;
}

static std::string renderChart(const std::string &title,
                               const std::vector<Series> &series,
                               bool percent) {
  const double width = 600, height = 320, left = 60, right = 20, top = 30,
               bottom = 45;
  double xMin = 1, xMax = 1, yMin = INFINITY, yMax = -INFINITY;
  for (const Series &s : series)
    for (auto [x, y] : s.points) {
      if (!std::isfinite(y))
        continue;
      xMax = std::max(xMax, x);
      yMin = std::min(yMin, y);
      yMax = std::max(yMax, y);
    }
  if (!std::isfinite(yMin)) {
    yMin = 0;
    yMax = 1;
  }
  if (yMax - yMin < 1e-9) {
    yMin -= 0.5 * std::max(std::fabs(yMin), 0.01);
    yMax += 0.5 * std::max(std::fabs(yMax), 0.01);
  }
  double step = tickStep(yMax - yMin, 5);
  yMin = std::floor(yMin / step) * step;
  yMax = std::ceil(yMax / step) * step;
  if (xMax == xMin)
    xMax = xMin + 1;
  auto px = [&](double x) {
    return left + (x - xMin) / (xMax - xMin) * (width - left - right);
  };
  auto py = [&](double y) {
    return top + (yMax - y) / (yMax - yMin) * (height - top - bottom);
  };

  std::string svg = llvm::formatv(
      "<svg viewBox=\"0 0 {0} {1}\" role=\"img\" aria-label=\"{2}\">\n"
      "<text x=\"{3}\" y=\"18\" class=\"title\">{2}</text>\n",
      width, height, escape(title), left);
  // Horizontal grid and y labels.
  for (double y = yMin; y <= yMax + step / 2; y += step) {
    char label[32];
    if (percent)
      std::snprintf(label, sizeof(label), "%ld%%", std::lround(100 * y));
    else
      std::snprintf(label, sizeof(label), "%.*f",
                    std::max(0, int(-std::floor(std::log10(step)))), y);
    svg +=
        llvm::formatv("<line x1=\"{0}\" x2=\"{1}\" y1=\"{2:F1}\" "
                      "y2=\"{2:F1}\" class=\"grid\"/><text x=\"{3}\" "
                      "y=\"{4:F1}\" class=\"ylabel\">{5}</text>\n",
                      left, width - right, py(y), left - 6, py(y) + 4, label);
  }
  // Epoch ticks.
  double xStep = tickStep(xMax - xMin, 10);
  xStep = std::max(1.0, xStep);
  for (double x = xMin; x <= xMax + 1e-9; x += xStep)
    svg += llvm::formatv("<text x=\"{0:F1}\" y=\"{1}\" class=\"xlabel\">{2}"
                         "</text>\n",
                         px(x), height - bottom + 18, formatNumber(x));
  svg += llvm::formatv("<text x=\"{0:F1}\" y=\"{1}\" class=\"xlabel\">epoch"
                       "</text>\n",
                       (left + width - right) / 2, height - 6);
  svg += llvm::formatv("<rect x=\"{0}\" y=\"{1}\" width=\"{2}\" height=\"{3}\" "
                       "class=\"frame\"/>\n",
                       left, top, width - left - right, height - top - bottom);
  // Series, then the legend.
  double legendX = left + 10;
  for (const Series &s : series) {
    if (s.points.empty())
      continue;
    std::string points;
    for (auto [x, y] : s.points)
      if (std::isfinite(y))
        points += llvm::formatv("{0:F1},{1:F1} ", px(x), py(y)).str();
    const char *dash = s.dashed ? " stroke-dasharray=\"6 4\"" : "";
    svg += llvm::formatv("<polyline points=\"{0}\" stroke=\"{1}\"{2} "
                         "class=\"line\"/>\n",
                         points, s.color, dash);
    for (auto [x, y] : s.points)
      if (std::isfinite(y))
        svg += llvm::formatv("<circle cx=\"{0:F1}\" cy=\"{1:F1}\" r=\"3\" "
                             "fill=\"{2}\"><title>{3} epoch {4}: {5}</title>"
                             "</circle>\n",
                             px(x), py(y), s.color, escape(s.name),
                             formatNumber(x),
                             percent ? llvm::formatv("{0:F2}%", 100 * y).str()
                                     : llvm::formatv("{0:F4}", y).str());
    svg += llvm::formatv("<line x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\" "
                         "stroke=\"{3}\"{4} class=\"line\"/><text x=\"{5}\" "
                         "y=\"{6}\" class=\"legend\">{7}</text>\n",
                         legendX, legendX + 20, top + 14, s.color, dash,
                         legendX + 25, top + 18, escape(s.name));
    legendX += 40 + 8 * s.name.size();
  }
  return svg + "</svg>\n";
}

std::string
dlc::runtime::renderHtmlReport(const ReportInfo &info,
                               llvm::ArrayRef<EpochRecord> history) {
  auto collect =
      [&](std::function<std::optional<double>(const EpochRecord &)> value) {
        std::vector<std::pair<double, double>> points;
        for (const EpochRecord &r : history)
          if (std::optional<double> v = value(r))
            points.push_back({double(r.epoch), *v});
        return points;
      };
  auto metricSeries = [&](bool accuracy) {
    auto pick =
        [accuracy](const std::optional<Metric> &m) -> std::optional<double> {
      if (!m)
        return std::nullopt;
      return accuracy ? m->accuracy : m->loss;
    };
    return std::vector<Series>{
        {"train", "#1f77b4", false, collect([&](const EpochRecord &r) {
           return std::optional<double>(accuracy ? r.train.accuracy
                                                 : r.train.loss);
         })},
        {"validation", "#ff7f0e", false,
         collect([&](const EpochRecord &r) { return pick(r.validation); })},
        {"test", "#2ca02c", true,
         collect([&](const EpochRecord &r) { return pick(r.test); })}};
  };

  std::string html =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, "
      "initial-scale=1\">\n<title>" +
      escape(info.modelName) + " - dlc training report</title>\n" +
      R"(<style>
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1280px;color:#222;padding:0 1em}
h1{font-size:1.5em;margin-bottom:.2em} .status{color:#555;margin-top:0}
.charts{display:flex;flex-wrap:wrap;gap:1em} .charts svg{flex:1 1 520px;max-width:640px;border:1px solid #ddd;border-radius:4px}
svg text{font-size:12px;fill:#333} svg .title{font-size:14px;font-weight:600}
svg .ylabel{text-anchor:end} svg .xlabel{text-anchor:middle}
svg .grid{stroke:#eee} svg .frame{fill:none;stroke:#999} svg .line{fill:none;stroke-width:2}
table{border-collapse:collapse;margin-top:1em;font-variant-numeric:tabular-nums}
td,th{padding:.25em .8em;border-bottom:1px solid #eee;text-align:right} th{background:#f6f6f6}
dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em} dt{color:#666} dd{margin:0}
</style></head><body>
)";
  html += "<h1>" + escape(info.modelName) + "</h1>\n<p class=\"status\">" +
          escape(info.status) + "</p>\n<dl>\n";
  for (const auto &[label, value] : info.details)
    html += "<dt>" + escape(label) + "</dt><dd>" + escape(value) + "</dd>\n";
  html += "</dl>\n<div class=\"charts\">\n";
  html += renderChart("Loss", metricSeries(false), false);
  html += renderChart("Accuracy", metricSeries(true), true);
  html += renderChart(
      "Learning rate (last step of each epoch)",
      {{"learning rate", "#9467bd", false, collect([](const EpochRecord &r) {
          return std::optional<double>(r.learningRate);
        })}},
      false);
  html += "</div>\n";

  if (history.empty()) {
    html += "<p>No epoch has finished yet.</p>\n";
  } else {
    html += "<table><tr><th>epoch</th><th>step</th><th>loss</th><th>accuracy"
            "</th><th>val_loss</th><th>val_accuracy</th><th>test_loss</th>"
            "<th>test_accuracy</th><th>learning rate</th><th>images/s</th>"
            "<th>time</th></tr>\n";
    auto cell = [](const std::optional<Metric> &m, bool accuracy) {
      if (!m)
        return std::string("<td>-</td>");
      return accuracy
                 ? llvm::formatv("<td>{0:F2}%</td>", 100 * m->accuracy).str()
                 : llvm::formatv("<td>{0:F4}</td>", m->loss).str();
    };
    for (const EpochRecord &r : history)
      html += llvm::formatv("<tr><td>{0}</td><td>{1}</td>{2}{3}{4}{5}{6}{7}"
                            "<td>{8}</td><td>{9:F0}</td><td>{10:F1} s</td>"
                            "</tr>\n",
                            r.epoch, r.step, cell(r.train, false),
                            cell(r.train, true), cell(r.validation, false),
                            cell(r.validation, true), cell(r.test, false),
                            cell(r.test, true), formatNumber(r.learningRate, 4),
                            r.imagesPerSecond, r.seconds)
                  .str();
    html += "</table>\n";
  }
  if (!info.modelSummary.empty())
    html += "<h2>Model</h2>\n<pre class=\"summary\">" +
            escape(info.modelSummary) + "</pre>\n";
  html += "<p style=\"color:#888\">Written by the dlc runtime. Also in this "
          "directory: metrics.csv, TensorBoard event files "
          "(<code>tensorboard --logdir .</code>), last.safetensors and "
          "best.safetensors.</p>\n</body></html>\n";
  return html;
}
