//===- Summary.cpp - Keras-style model summary table ----------------------===//
//
// See Summary.h. Column widths keep every line within 79 columns; a name
// and type too long for the first column go on two lines, as Keras wraps
// them.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Summary.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

using namespace dlc::runtime;

std::string dlc::runtime::formatThousands(int64_t value) {
  std::string digits = std::to_string(value < 0 ? -value : value), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0)
      out += ',';
    out += digits[i];
  }
  return value < 0 ? "-" + out : out;
}

llvm::Expected<ModelSummary>
dlc::runtime::parseModelSummary(llvm::StringRef settingsJson,
                                llvm::StringRef modelName,
                                llvm::ArrayRef<int64_t> inputShape) {
  llvm::Expected<llvm::json::Value> parsed = llvm::json::parse(settingsJson);
  if (!parsed)
    return llvm::createStringError("the model's settings are not JSON: " +
                                   llvm::toString(parsed.takeError()));
  const llvm::json::Object *settings = parsed->getAsObject();
  const llvm::json::Array *layers =
      settings ? settings->getArray("layers") : nullptr;
  if (!layers)
    return llvm::createStringError(
        "model '" + modelName +
        "' records no layer table (it was not compiled from a model file by "
        "this dlc)");
  ModelSummary summary;
  summary.modelName = modelName.str();
  if (!inputShape.empty()) {
    summary.batchSize = inputShape.front();
    summary.inputShape.assign(inputShape.begin() + 1, inputShape.end());
  }
  for (const llvm::json::Value &v : *layers) {
    const llvm::json::Object *o = v.getAsObject();
    std::optional<llvm::StringRef> name =
        o ? o->getString("name") : std::nullopt;
    if (!name)
      return llvm::createStringError("the model's layer table has an entry "
                                     "without a name");
    LayerSummary layer;
    layer.name = name->str();
    layer.className = o->getString("class").value_or("?").str();
    if (const llvm::json::Array *inputs = o->getArray("inputs"))
      for (const llvm::json::Value &i : *inputs)
        if (std::optional<llvm::StringRef> s = i.getAsString())
          layer.inputs.push_back(s->str());
    if (const llvm::json::Array *shape = o->getArray("output_shape"))
      for (const llvm::json::Value &d : *shape)
        layer.outputShape.push_back(d.getAsInteger().value_or(0));
    if (std::optional<int64_t> p = o->getInteger("params")) {
      layer.hasCounts = true;
      layer.params = *p;
      layer.trainableParams = o->getInteger("trainable_params").value_or(*p);
      layer.flops = o->getInteger("flops").value_or(0);
    }
    if (std::optional<int64_t> k = o->getInteger("kept_bytes")) {
      layer.hasKept = true;
      layer.keptBytes = *k;
    }
    summary.layers.push_back(std::move(layer));
  }
  return summary;
}

/// 1234 -> "1.2K", 22500000 -> "22.5M" (powers of 1000, for FLOPs).
static std::string metric(double value) {
  const char *units[] = {"", "K", "M", "G", "T"};
  int unit = 0;
  while (value >= 999.95 && unit < 4) {
    value /= 1000;
    ++unit;
  }
  return unit == 0 ? llvm::formatv("{0:F0}", value).str()
                   : llvm::formatv("{0:F1}{1}", value, units[unit]).str();
}

/// Bytes in powers of 1024, as Keras prints parameter sizes ("4.58 MB").
static std::string bytes(double value, bool shortForm) {
  const char *units[] = {"B", "KB", "MB", "GB", "TB"};
  int unit = 0;
  while (value >= 1023.995 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  if (shortForm)
    return unit == 0 ? llvm::formatv("{0:F0}B", value).str()
                     : llvm::formatv("{0:F1}{1}", value, units[unit]).str();
  return llvm::formatv("{0:F2} {1}", value, units[unit]).str();
}

static std::string shapeText(llvm::ArrayRef<int64_t> shape) {
  std::string s = "(None";
  for (int64_t d : shape)
    s += ", " + std::to_string(d);
  return s + ")";
}

std::string dlc::runtime::formatModelSummary(const ModelSummary &summary) {
  // name (type) | output shape | params | FLOPs | kept: 28+20+10+9+8 and
  // four separating spaces = 79 columns.
  constexpr unsigned kName = 28, kShape = 20, kParams = 10, kFlops = 9,
                     kKept = 8;
  constexpr unsigned kWidth = kName + kShape + kParams + kFlops + kKept + 4;
  std::string out;
  auto pad = [](llvm::StringRef text, unsigned width, bool right) {
    std::string fill(text.size() < width ? width - text.size() : 0, ' ');
    return right ? fill + text.str() : text.str() + fill;
  };
  auto row = [&](llvm::StringRef name, llvm::StringRef shape,
                 llvm::StringRef params, llvm::StringRef flops,
                 llvm::StringRef kept) {
    out += pad(name, kName, false) + " " + pad(shape, kShape, false) + " " +
           pad(params, kParams, true) + " " + pad(flops, kFlops, true) + " " +
           pad(kept, kKept, true);
    while (!out.empty() && out.back() == ' ')
      out.pop_back();
    out += "\n";
  };
  std::string rule(kWidth, '-'), doubleRule(kWidth, '=');

  // A graph shows what each layer reads; a chain (each layer reads the one
  // before it) does not need to.
  bool graph = false;
  std::string previous;
  for (const LayerSummary &l : summary.layers) {
    if (!previous.empty() &&
        (l.inputs.size() != 1 || l.inputs.front() != previous))
      graph = true;
    previous = l.name;
  }
  bool counts =
      llvm::any_of(summary.layers, [](auto &l) { return l.hasCounts; });
  bool kept = llvm::any_of(summary.layers, [](auto &l) { return l.hasKept; });

  out += "Model: \"" + summary.modelName + "\"";
  if (summary.batchSize)
    out += llvm::formatv(" (compiled for batch {0})", summary.batchSize).str();
  out += "\n" + rule + "\n";
  row("Layer (type)", "Output Shape", "Param #", counts ? "FLOPs" : "",
      kept ? "Kept" : "");
  out += doubleRule + "\n";
  int64_t total = 0, trainable = 0, flops = 0, keptTotal = 0;
  if (!summary.layers.empty() && graph) {
    std::string input = summary.layers.front().inputs.empty()
                            ? "input"
                            : summary.layers.front().inputs.front();
    row(input + " (InputLayer)", shapeText(summary.inputShape), "0", "", "");
  }
  for (const LayerSummary &l : summary.layers) {
    std::string label = l.name + " (" + l.className + ")";
    std::string first = label.size() <= kName ? label : l.name;
    row(first, shapeText(l.outputShape), formatThousands(l.params),
        l.hasCounts ? metric(double(l.flops)) : "",
        l.hasKept ? bytes(double(l.keptBytes), true) : "");
    if (label.size() > kName)
      row("(" + l.className + ")", "", "", "", "");
    if (graph && !l.inputs.empty()) {
      std::string from = "  <- ";
      for (size_t i = 0; i < l.inputs.size(); ++i)
        from += (i ? ", " : "") + l.inputs[i];
      out += from + "\n";
    }
    total += l.params;
    trainable += l.trainableParams;
    flops += l.flops;
    keptTotal += l.keptBytes;
  }
  out += doubleRule + "\n";
  auto paramLine = [&](llvm::StringRef what, int64_t n) {
    out += llvm::formatv("{0} params: {1} ({2})\n", what, formatThousands(n),
                         bytes(4.0 * n, false))
               .str();
  };
  paramLine("Total", total);
  paramLine("Trainable", trainable);
  paramLine("Non-trainable", total - trainable);
  if (counts)
    out += llvm::formatv(
               "Forward FLOPs per sample: {0} ({1} per batch of "
               "{2})\n",
               metric(double(flops)),
               metric(double(flops) * std::max<int64_t>(1, summary.batchSize)),
               summary.batchSize)
               .str();
  if (kept)
    out += llvm::formatv("Kept for the backward pass per training step: {0}\n",
                         bytes(double(keptTotal), false))
               .str();
  if (counts)
    out += "(FLOPs: one sample's forward pass, a multiply-add counts 2)\n";
  if (kept)
    out += "(Kept: the activations the training step saves for its "
           "gradients)\n";
  return out;
}
