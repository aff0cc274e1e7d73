//===- Dataset.h - Image classification datasets in memory ------*- C++ -*-===//
//
// Every dataset the runtime reads (IDX, CIFAR-10, synthetic) becomes the
// same thing: 8-bit NHWC pixels and int32 labels. Pixels stay 8-bit in
// memory (a quarter of the float size); normalization to the model's input
// happens when a batch is assembled (see Batcher.h).
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_DATA_DATASET_H
#define DLC_RUNTIME_DATA_DATASET_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace dlc::runtime {

/// Images (uint8, NHWC) and their labels.
struct Dataset {
  /// Where the data came from, for messages ("fashion-mnist/t10k-images...").
  std::string source;
  /// Where the labels came from when that is another file (IDX).
  std::string labelSource;
  int64_t height = 0, width = 0, channels = 0;
  std::vector<uint8_t> pixels;
  std::vector<int32_t> labels;

  int64_t size() const { return static_cast<int64_t>(labels.size()); }
  int64_t imageSize() const { return height * width * channels; }
  const uint8_t *image(int64_t i) const {
    return pixels.data() + i * imageSize();
  }
};

/// A dataset's standard training and test splits.
struct DataSplits {
  /// What was loaded, e.g. "fashion-mnist (/usr/share/datasets/...)".
  std::string description;
  Dataset train, test;
};

/// What the model expects, used to fill in defaults (synthetic data) and
/// to check the data.
struct DataRequest {
  int64_t height = 0, width = 0, channels = 0;
  /// The number of classes of the model's logits (0 when unknown).
  int64_t numClasses = 0;
  /// The run's seed (the default seed of synthetic data).
  uint64_t seed = 0;
  /// The model's input is flat (height 1, channels 1): images of any shape
  /// with width values each fit it.
  bool flat = false;
};

/// Loads the data named by a --data spec:
///   fashion-mnist | mnist        the IDX files from a known location
///                                (DLC_DATASETS, /usr/share/datasets/NAME)
///   cifar10                      CIFAR-10 binary batches, likewise
///   synthetic[:key=value,...]    generated (see Synthetic.h)
///   DIR | idx:DIR | cifar10:DIR  a directory with IDX or CIFAR-10 files
/// and checks it against `request` (checkDataset).
llvm::Expected<DataSplits> loadDataset(llvm::StringRef spec,
                                       const DataRequest &request);

/// Checks that the images have the model's input shape and that every label
/// is a class of the model, with messages that say what to change.
llvm::Error checkDataset(const Dataset &data, const DataRequest &request);

} // namespace dlc::runtime

#endif // DLC_RUNTIME_DATA_DATASET_H
