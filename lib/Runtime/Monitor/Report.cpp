//===- Report.cpp - Self-contained HTML training report -------------------===//
//
// Charts are plain SVG polylines in a fixed 600x320 viewBox that scales with
// the page; axis ticks use 1-2-5 steps. Images are PNG data URIs scaled by
// the browser without smoothing (image-rendering: pixelated).
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Monitor/Report.h"
#include "dlc/Runtime/Support.h"

#include "llvm/Support/Base64.h"
#include "llvm/Support/FormatVariadic.h"

#include <zlib.h>

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
  double dataMin = yMin;
  if (yMax - yMin < 1e-9) {
    yMin -= 0.5 * std::max(std::fabs(yMin), 0.01);
    yMax += 0.5 * std::max(std::fabs(yMax), 0.01);
  }
  // Losses, accuracies and learning rates are never negative: a flat
  // series padded around its value must not draw an axis below zero.
  if (dataMin >= 0)
    yMin = std::max(yMin, 0.0);
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

//===----------------------------------------------------------------------===//
// Images
//===----------------------------------------------------------------------===//

ReportImage dlc::runtime::imageFromValues(llvm::ArrayRef<float> values,
                                          int64_t height, int64_t width,
                                          int64_t channels) {
  ReportImage image{height, width, channels, {}};
  float lo = INFINITY, hi = -INFINITY;
  for (float v : values)
    if (std::isfinite(v)) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  image.pixels.reserve(values.size());
  for (float v : values) {
    double t = hi > lo && std::isfinite(v) ? (v - lo) / (hi - lo) : 0.5;
    image.pixels.push_back(uint8_t(std::lround(255 * t)));
  }
  return image;
}

static void appendBigEndian(std::vector<uint8_t> &out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(uint8_t(v >> shift));
}

static void appendChunk(std::vector<uint8_t> &out, const char type[4],
                        llvm::ArrayRef<uint8_t> data) {
  appendBigEndian(out, uint32_t(data.size()));
  size_t start = out.size();
  out.insert(out.end(), type, type + 4);
  out.insert(out.end(), data.begin(), data.end());
  uLong crc = crc32(0, out.data() + start, uInt(out.size() - start));
  appendBigEndian(out, uint32_t(crc));
}

std::vector<uint8_t> dlc::runtime::encodePng(const ReportImage &image) {
  static const uint8_t signature[] = {0x89, 'P',  'N',  'G',
                                      '\r', '\n', 0x1a, '\n'};
  std::vector<uint8_t> png(signature, signature + 8);
  std::vector<uint8_t> header;
  appendBigEndian(header, uint32_t(image.width));
  appendBigEndian(header, uint32_t(image.height));
  // Bit depth 8; colour type 0 (grey) or 2 (RGB); deflate; no filter; no
  // interlace.
  header.insert(header.end(),
                {8, uint8_t(image.channels == 3 ? 2 : 0), 0, 0, 0});
  appendChunk(png, "IHDR", header);
  // Each row starts with its filter type (0: none).
  size_t row = size_t(image.width * image.channels);
  std::vector<uint8_t> raw;
  raw.reserve((row + 1) * image.height);
  for (int64_t y = 0; y < image.height; ++y) {
    raw.push_back(0);
    raw.insert(raw.end(), image.pixels.begin() + y * row,
               image.pixels.begin() + (y + 1) * row);
  }
  uLongf size = compressBound(uLong(raw.size()));
  std::vector<uint8_t> compressed(size);
  if (compress2(compressed.data(), &size, raw.data(), uLong(raw.size()), 9) !=
      Z_OK)
    size = 0; // Cannot happen with compressBound's size; an empty IDAT.
  compressed.resize(size);
  appendChunk(png, "IDAT", compressed);
  appendChunk(png, "IEND", {});
  return png;
}

/// An <img> of `image` shown `scale` times its size.
static std::string imageTag(const ReportImage &image, double scale,
                            llvm::StringRef title, llvm::StringRef cls) {
  std::vector<uint8_t> png = encodePng(image);
  return llvm::formatv("<img class=\"{0}\" width=\"{1}\" height=\"{2}\" "
                       "title=\"{3}\" alt=\"{3}\" "
                       "src=\"data:image/png;base64,{4}\">",
                       cls, std::lround(image.width * scale),
                       std::lround(image.height * scale), escape(title),
                       llvm::encodeBase64(png))
      .str();
}

/// A scale that shows an image about `target` pixels wide.
static double scaleFor(const ReportImage &image, double target) {
  return std::max(1.0, std::round(target / std::max<int64_t>(1, image.width)));
}

//===----------------------------------------------------------------------===//
// Predictions and what the convolutions learned
//===----------------------------------------------------------------------===//

static std::string renderConfusion(const ReportAnalysis &a) {
  size_t n = a.classNames.size();
  std::string html = "<table class=\"confusion\"><tr><th>true \\ "
                     "predicted</th>";
  for (const std::string &name : a.classNames)
    html += "<th class=\"rot\"><span>" + escape(name) + "</span></th>";
  html += "<th>total</th></tr>\n";
  for (size_t t = 0; t < n; ++t) {
    int64_t total = 0;
    for (size_t p = 0; p < n; ++p)
      total += a.confusion[t * n + p];
    html += "<tr><th>" + escape(a.classNames[t]) + "</th>";
    for (size_t p = 0; p < n; ++p) {
      int64_t count = a.confusion[t * n + p];
      double share = total ? double(count) / total : 0;
      // Blue for right answers, red for confusions, by row share.
      const char *rgb = t == p ? "31,119,180" : "214,39,40";
      double alpha = t == p ? share : std::min(1.0, 3 * share);
      html += llvm::formatv("<td style=\"background:rgba({0},{1:F2})\"{2} "
                            "title=\"{3} as {4}: {5} ({6:F1}%)\">{5}</td>",
                            rgb, alpha, share > 0.6 ? " class=\"dark\"" : "",
                            escape(a.classNames[t]), escape(a.classNames[p]),
                            count, 100 * share)
                  .str();
    }
    html += "<td>" + std::to_string(total) + "</td></tr>\n";
  }
  return html + "</table>\n";
}

static std::string renderPerClassAccuracy(const ReportAnalysis &a) {
  size_t n = a.classNames.size();
  const double rowHeight = 22, left = 130, width = 600, top = 30;
  double height = top + rowHeight * n + 10;
  std::string svg = llvm::formatv(
      "<svg class=\"bars\" viewBox=\"0 0 {0} {1:F0}\" role=\"img\" "
      "aria-label=\"Per-class accuracy\">\n<text x=\"10\" y=\"18\" "
      "class=\"title\">Per-class accuracy ({2})</text>\n",
      width, height, a.split);
  for (size_t t = 0; t < n; ++t) {
    int64_t total = 0;
    for (size_t p = 0; p < n; ++p)
      total += a.confusion[t * n + p];
    double accuracy = total ? double(a.confusion[t * n + t]) / total : 0;
    double y = top + rowHeight * t;
    double barWidth = accuracy * (width - left - 70);
    svg += llvm::formatv(
        "<text x=\"{0}\" y=\"{1:F1}\" class=\"ylabel\">{2}</text>"
        "<rect x=\"{3}\" y=\"{4:F1}\" width=\"{5:F1}\" height=\"{6}\" "
        "fill=\"#1f77b4\"><title>{2}: {7:F2}% of {8}</title></rect>"
        "<text x=\"{9:F1}\" y=\"{1:F1}\">{7:F1}%</text>\n",
        left - 8, y + 15, escape(a.classNames[t]), left, y + 3, barWidth,
        rowHeight - 6, 100 * accuracy, total, left + barWidth + 6);
  }
  return svg + "</svg>\n";
}

static std::string renderAnalysis(const ReportAnalysis &a) {
  std::string html;
  size_t n = a.classNames.size();
  if (n && a.confusion.size() == n * n) {
    html += "<h2>Confusion matrix (" + escape(a.split) +
            ")</h2>\n"
            "<p class=\"note\">Rows are the true classes, columns the "
            "predicted ones.</p>\n<div class=\"charts\">\n" +
            renderConfusion(a) + renderPerClassAccuracy(a) + "</div>\n";
  }
  if (!a.samples.empty()) {
    size_t mistakes = llvm::count_if(
        a.samples, [](const auto &s) { return s.label != s.predicted; });
    html += llvm::formatv("<h2>{0} images: predicted / true</h2>\n<p "
                          "class=\"note\">{1} mistakes first (most "
                          "confident first), then correct predictions.</p>\n"
                          "<div class=\"grid\">\n",
                          a.split == "test" ? "Test" : "Validation", mistakes)
                .str();
    for (const ReportAnalysis::Sample &s : a.samples) {
      auto name = [&](int32_t c) {
        return c >= 0 && size_t(c) < n ? a.classNames[c]
                                       : "class " + std::to_string(c);
      };
      bool wrong = s.label != s.predicted;
      html +=
          llvm::formatv(
              "<figure class=\"{0}\">{1}<figcaption><b>{2}</b> "
              "{3:F1}%<br>{4}</figcaption></figure>\n",
              wrong ? "sample wrong" : "sample right",
              imageTag(s.image, scaleFor(s.image, 84),
                       "predicted " + name(s.predicted) + ", true " +
                           name(s.label),
                       "px"),
              escape(name(s.predicted)),
              std::floor(1000 * s.confidence) / 10, // Never 100% unless it is.
              wrong ? "true: " + escape(name(s.label)) : std::string("correct"))
              .str();
    }
    html += "</div>\n";
  }
  if (!a.filters.empty()) {
    html += "<h2>First convolution's filters</h2>\n<p class=\"note\">" +
            escape(a.filterTitle) +
            "; each filter scaled to its own range (dark: negative, light: "
            "positive weights).</p>\n<div class=\"filters\">";
    for (auto [i, f] : llvm::enumerate(a.filters))
      html += imageTag(f, scaleFor(f, 48), "filter " + std::to_string(i), "px");
    html += "</div>\n";
  }
  if (!a.featureMaps.empty()) {
    html += "<h2>Feature maps</h2>\n<div class=\"featurein\">" +
            imageTag(a.featureInput, scaleFor(a.featureInput, 112),
                     a.featureInputCaption, "px") +
            "<p class=\"note\">" + escape(a.featureInputCaption) +
            ": each convolution's output for it, one image per channel, "
            "each scaled to its own range.</p></div>\n";
    for (const ReportAnalysis::FeatureMaps &m : a.featureMaps) {
      html +=
          llvm::formatv(
              "<h3>{0}: {1}x{2}, {3} channels{4}</h3>\n"
              "<div class=\"maps\">",
              escape(m.name), m.height, m.width, m.channels,
              m.images.size() < size_t(m.channels)
                  ? llvm::formatv(" (first {0} shown)", m.images.size()).str()
                  : "")
              .str();
      for (auto [c, image] : llvm::enumerate(m.images))
        html += imageTag(image, scaleFor(image, 64),
                         m.name + " channel " + std::to_string(c), "px");
      html += "</div>\n";
    }
  }
  return html;
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
.note{color:#555;margin:.2em 0 .6em} img.px{image-rendering:pixelated;border:1px solid #ccc}
table.confusion{margin:0;align-self:flex-start} table.confusion td{text-align:center;min-width:2.6em;border:1px solid #fff}
table.confusion td.dark{color:#fff} table.confusion th.rot{vertical-align:bottom;height:7em;padding:0 .3em}
table.confusion th.rot span{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap}
svg.bars{flex:1 1 420px;max-width:560px;border:1px solid #ddd;border-radius:4px}
.grid{display:flex;flex-wrap:wrap;gap:.5em} figure.sample{margin:0;padding:3px;border:2px solid #2ca02c;border-radius:4px;text-align:center;font-size:12px;width:96px}
figure.wrong{border-color:#d62728;background:#fff4f4} figure.sample figcaption{overflow-wrap:anywhere}
.filters,.maps{display:flex;flex-wrap:wrap;gap:4px} .featurein{display:flex;gap:1em;align-items:center}
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
  if (info.analysis)
    html += renderAnalysis(*info.analysis);
  if (!info.modelSummary.empty())
    html += "<h2>Model</h2>\n<pre class=\"summary\">" +
            escape(info.modelSummary) + "</pre>\n";
  html += "<p style=\"color:#888\">Written by the dlc runtime. Also in this "
          "directory: metrics.csv, TensorBoard event files "
          "(<code>tensorboard --logdir .</code>), last.safetensors and "
          "best.safetensors.</p>\n</body></html>\n";
  return html;
}
