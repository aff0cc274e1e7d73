//===- Synthetic.h - Generated datasets for tests, benchmarks ---*- C++ -*-===//
//
// `--data synthetic` generates a classification problem with the model's
// input shape and number of classes, so any model can train without
// downloads. Each class has a smooth prototype image (a sum of plane waves
// with class-specific frequencies); a sample is its class's prototype with
// a random gain and brightness plus per-pixel Gaussian noise. The structure
// is learnable (accuracy climbs well above chance within an epoch) but not
// trivial when the noise is high. Sample i depends only on (seed, split, i).
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_DATA_SYNTHETIC_H
#define DLC_RUNTIME_DATA_SYNTHETIC_H

#include "dlc/Runtime/Data/Dataset.h"

namespace dlc::runtime {

struct SyntheticOptions {
  int64_t trainSize = 8192, testSize = 1024;
  int64_t height = 28, width = 28, channels = 1;
  int64_t numClasses = 10;
  /// Standard deviation of the pixel noise, in pixel units (0..255).
  double noise = 64;
  uint64_t seed = 0;
};

/// Parses "key=value,..." (keys: train, test, shape=HxWxC, classes, noise,
/// seed) over `defaults`.
llvm::Expected<SyntheticOptions>
parseSyntheticOptions(llvm::StringRef spec, SyntheticOptions defaults);

/// Generates both splits.
DataSplits generateSynthetic(const SyntheticOptions &options);

} // namespace dlc::runtime

#endif // DLC_RUNTIME_DATA_SYNTHETIC_H
