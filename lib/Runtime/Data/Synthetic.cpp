//===- Synthetic.cpp - Generated datasets for tests, benchmarks -----------===//
//
// Prototype of class k, channel c: the mean of three plane waves whose
// frequencies and phases come from (seed, k, c). Low frequencies keep the
// prototypes spatially smooth so convolutions have structure to find.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Data/Synthetic.h"
#include "dlc/Runtime/Random.h"
#include "dlc/Runtime/Support.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>

using namespace dlc::runtime;

static llvm::Error badOption(llvm::StringRef item, llvm::StringRef why) {
  return llvm::createStringError(
      "bad synthetic data option '%s': %s (options: train=N, test=N, "
      "shape=HxWxC, classes=N, noise=X, seed=N)",
      item.str().c_str(), why.str().c_str());
}

llvm::Expected<SyntheticOptions>
dlc::runtime::parseSyntheticOptions(llvm::StringRef spec,
                                    SyntheticOptions options) {
  llvm::SmallVector<llvm::StringRef> items;
  spec.split(items, ',', -1, /*KeepEmpty=*/false);
  for (llvm::StringRef item : items) {
    auto [key, value] = item.split('=');
    key = key.trim();
    value = value.trim();
    int64_t n = 0;
    if (key == "train" || key == "test" || key == "classes" || key == "seed") {
      if (value.getAsInteger(10, n) || n < 0 || (key == "classes" && n < 2))
        return badOption(item,
                         "expected a non-negative integer" +
                             std::string(key == "classes" ? " >= 2" : ""));
      if (key == "train")
        options.trainSize = n;
      else if (key == "test")
        options.testSize = n;
      else if (key == "classes")
        options.numClasses = n;
      else
        options.seed = static_cast<uint64_t>(n);
    } else if (key == "noise") {
      double x;
      if (value.getAsDouble(x) || x < 0)
        return badOption(item, "expected a non-negative number");
      options.noise = x;
    } else if (key == "shape") {
      llvm::SmallVector<llvm::StringRef> dims;
      value.split(dims, 'x');
      int64_t d[3];
      if (dims.size() != 3 || dims[0].getAsInteger(10, d[0]) ||
          dims[1].getAsInteger(10, d[1]) || dims[2].getAsInteger(10, d[2]) ||
          d[0] <= 0 || d[1] <= 0 || d[2] <= 0)
        return badOption(item, "expected HxWxC, e.g. 28x28x1");
      options.height = d[0];
      options.width = d[1];
      options.channels = d[2];
    } else {
      return badOption(item, "unknown key");
    }
  }
  if (options.trainSize == 0)
    return badOption("train=0", "the training split cannot be empty");
  return options;
}

namespace {
struct Wave {
  double fy, fx, phase;
};
} // namespace

/// One split: prototypes are shared (keyed by the seed only), samples are
/// keyed by (seed, split, index).
static Dataset generateSplit(const SyntheticOptions &o, int64_t size,
                             llvm::StringRef split) {
  Dataset data;
  data.source = ("synthetic " + split).str();
  data.height = o.height;
  data.width = o.width;
  data.channels = o.channels;
  int64_t plane = o.height * o.width * o.channels;

  // Prototypes in [0, 255].
  std::vector<float> prototypes(o.numClasses * plane);
  for (int64_t k = 0; k < o.numClasses; ++k) {
    for (int64_t c = 0; c < o.channels; ++c) {
      Rng rng(
          deriveKey(deriveKey(deriveKey(o.seed, "synthetic/prototype"), k), c));
      Wave waves[3];
      for (Wave &w : waves)
        w = {(rng.uniform() * 2 - 1) * 3 * M_PI,
             (rng.uniform() * 2 - 1) * 3 * M_PI, rng.uniform() * 2 * M_PI};
      for (int64_t y = 0; y < o.height; ++y)
        for (int64_t x = 0; x < o.width; ++x) {
          double v = 0;
          for (const Wave &w : waves)
            v += std::sin(w.fy * y / o.height + w.fx * x / o.width + w.phase);
          prototypes[k * plane + (y * o.width + x) * o.channels + c] =
              static_cast<float>(127.5 + 127.5 * v / 3.0);
        }
    }
  }

  data.pixels.resize(size * plane);
  data.labels.resize(size);
  uint64_t splitKey = deriveKey(deriveKey(o.seed, "synthetic/sample"), split);
  for (int64_t i = 0; i < size; ++i) {
    Rng rng(deriveKey(splitKey, i));
    int32_t label = static_cast<int32_t>(rng.below(o.numClasses));
    double gain = 0.6 + 0.4 * rng.uniform();
    double bias = (rng.uniform() - 0.5) * 64;
    const float *proto = prototypes.data() + label * plane;
    uint8_t *out = data.pixels.data() + i * plane;
    for (int64_t p = 0; p < plane; ++p) {
      double v =
          127.5 + gain * (proto[p] - 127.5) + bias + o.noise * rng.normal();
      out[p] = static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L));
    }
    data.labels[i] = label;
  }
  return data;
}

DataSplits dlc::runtime::generateSynthetic(const SyntheticOptions &o) {
  DataSplits splits;
  splits.train = generateSplit(o, o.trainSize, "train");
  splits.test = generateSplit(o, o.testSize, "test");
  splits.description = llvm::formatv(
      "synthetic ({0} train / {1} test, {2}x{3}x{4}, {5} classes, noise {6}, "
      "seed {7})",
      o.trainSize, o.testSize, o.height, o.width, o.channels, o.numClasses,
      formatNumber(o.noise), o.seed);
  return splits;
}
