//===- WeightsPlan.h - Keras and PyTorch weights without MLIR ---*- C++ -*-===//
//
// `dlc export --format keras|torch` and `EXE export` write the same files
// from the same plan. The plan is what the exporters (KerasExport.cpp,
// TorchExport.cpp) read off @forward: for each output tensor where it goes
// (an HDF5 dataset or a state_dict key), which checkpoint tensor it comes
// from (or its constant data), and how dlc's layout becomes the target's
// (`transposed(data viewed as viewShape, permutation)`, which also covers
// the flatten permutation of a Dense layer after an image); for PyTorch
// also the generated model.py. `dlc compile` embeds the plans as JSON in
// the executable's settings (`export_keras`, `export_torch`), so the
// writers here need nothing but a checkpoint: no MLIR. They are compiled
// into the dlc driver and the runtime alike, so they use only LLVM's
// Support library (and Debian's HDF5 for .h5).
//
//===----------------------------------------------------------------------===//

#ifndef DLC_EXPORT_WEIGHTSPLAN_H
#define DLC_EXPORT_WEIGHTSPLAN_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace dlc::exporting {

/// Weights by tensor name (dlc.name), f32, row major in dlc's layout (as in
/// a checkpoint).
using WeightData = std::map<std::string, std::vector<float>>;

/// A place in the model file, for errors ("" file: none).
struct SourceLocation {
  std::string file;
  unsigned line = 0, column = 0;
};

/// An error of an export, at the layer it concerns when there is one:
/// printed as "FILE:LINE:COL: error: MESSAGE".
struct ExportError {
  SourceLocation loc;
  std::string message;
  /// The one-line form (without "error: " when there is no location).
  std::string format() const;
};

/// One tensor of the output.
struct PlannedTensor {
  /// The HDF5 dataset name inside its group, or the state_dict key.
  std::string destination;
  /// The checkpoint tensor it is read from; empty: `constant`.
  std::string source;
  std::vector<float> constant;
  /// The data viewed as `viewShape` (dlc's shape or a reshape of it) is
  /// transposed by `permutation` (none when empty) ...
  std::vector<int64_t> viewShape, permutation;
  /// ... and written with this shape.
  std::vector<int64_t> shape;
  /// PyTorch's num_batches_tracked: an int64 scalar 0, no data.
  bool zeroCount = false;
  /// The layer it belongs to, for errors.
  SourceLocation loc;
};

/// Keras 3's .weights.h5: groups created in order (parents first), each
/// with an optional string attribute `name` and its datasets.
struct KerasGroup {
  std::string path;
  std::optional<std::string> nameAttribute;
  std::vector<PlannedTensor> datasets;
};
struct KerasPlan {
  std::vector<KerasGroup> groups;
};

/// PyTorch: the safetensors tensors in order, and what model.py says.
struct TorchPlan {
  std::vector<PlannedTensor> tensors;
  /// The module's name and the model file it came from (model.py's
  /// docstring), the input's shape in words ("N x 1 x 28 x 28 (NCHW)"),
  /// whether it is an image, the normalization constants as Python lists,
  /// and the lines of __init__ and forward.
  std::string modelName, sourceName, inputDoc;
  bool imageInput = false;
  std::string inputScale, inputOffset, initLines, forwardLines;
};

/// A plan, or why the model has none (a layer the format cannot express).
template <typename Plan> using PlanOrError = std::variant<Plan, ExportError>;

llvm::json::Value toJson(const PlanOrError<KerasPlan> &plan);
llvm::json::Value toJson(const PlanOrError<TorchPlan> &plan);
/// Reads what toJson wrote; `what` names the plan in errors.
llvm::Expected<PlanOrError<KerasPlan>> kerasPlanFromJson(llvm::StringRef json);
llvm::Expected<PlanOrError<TorchPlan>> torchPlanFromJson(llvm::StringRef json);

/// `transpose(data viewed as shape, perm)`, row major.
std::vector<float> transposed(llvm::ArrayRef<float> data,
                              llvm::ArrayRef<int64_t> shape,
                              llvm::ArrayRef<int64_t> perm);

/// The data of `tensor` in the output's layout. `format` ("Keras export")
/// starts the messages: a source missing from `weights` or of another
/// size is an error at the tensor's layer.
std::optional<ExportError> tensorData(const PlannedTensor &tensor,
                                      const WeightData &weights,
                                      llvm::StringRef format,
                                      std::vector<float> &data);

/// Writes the .weights.h5 of `plan` to `path` atomically (a temporary file
/// renamed over it): on an error no file is left.
std::optional<ExportError> writeKerasWeights(const KerasPlan &plan,
                                             const WeightData &weights,
                                             llvm::StringRef path);

/// The text of the generated model.py; its docstring names the weights
/// file `safetensorsName`.
std::string torchModelPy(const TorchPlan &plan,
                         llvm::StringRef safetensorsName);

/// Writes `safetensorsName` and model.py into `directory`, made (with its
/// parents) only once the data is complete; each file is written
/// atomically, and on an error neither file nor a new directory is left.
std::optional<ExportError> writeTorchWeights(const TorchPlan &plan,
                                             const WeightData &weights,
                                             llvm::StringRef directory,
                                             llvm::StringRef safetensorsName);

} // namespace dlc::exporting

#endif // DLC_EXPORT_WEIGHTSPLAN_H
