//===- Summary.h - Keras-style model summary table --------------*- C++ -*-===//
//
// The table of `dlc summary MODEL` and `EXE summary`, like Keras's
// model.summary(): each layer with its type, output shape and parameters
// (and what it is connected to, for a graph), the trainable and
// non-trainable totals, plus what Keras does not show: the forward FLOPs of
// one sample and the bytes the training step keeps for its backward pass.
//
// It reads the `layers` key of the model's settings JSON (the importer's
// `dlc.layers` with dlc-summarize-layers' counts). The file is compiled
// into both the runtime and the dlc driver (which cannot share a library:
// one links LLVM statically, the other dynamically), so it uses nothing but
// LLVM's Support library.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_SUMMARY_H
#define DLC_RUNTIME_SUMMARY_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace dlc::runtime {

struct LayerSummary {
  std::string name, className;
  std::vector<std::string> inputs;
  std::vector<int64_t> outputShape;
  int64_t params = 0, trainableParams = 0, flops = 0, keptBytes = 0;
  /// Whether the counts were recorded (false for an older model table).
  bool hasCounts = false, hasKept = false;
};

struct ModelSummary {
  std::string modelName;
  int64_t batchSize = 0;
  std::vector<int64_t> inputShape;
  std::vector<LayerSummary> layers;
};

/// Reads the `layers` key of a settings JSON object; an error when it is
/// absent or malformed. `inputShape` is the model input's, batch first.
llvm::Expected<ModelSummary>
parseModelSummary(llvm::StringRef settingsJson, llvm::StringRef modelName,
                  llvm::ArrayRef<int64_t> inputShape);

/// The table, at most 79 columns wide.
std::string formatModelSummary(const ModelSummary &summary);

/// "1,199,882".
std::string formatThousands(int64_t value);

} // namespace dlc::runtime

#endif // DLC_RUNTIME_SUMMARY_H
