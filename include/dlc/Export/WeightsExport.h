//===- WeightsExport.h - Trained weights for Keras and PyTorch --*- C++ -*-===//
//
// `dlc export --format keras|torch`: the trained weights of a model in the
// files a Keras or PyTorch user loads them from, in their names and
// layouts, so that the same model predicts the same outputs there.
//
// - Keras 3: a `.weights.h5` (HDF5, written with the HDF5 C library) in the
//   layout of keras.src.saving.saving_lib's H5IOStore, which
//   `model.load_weights()` reads for the Keras model built from the same
//   layer list (dlc.layers).
// - PyTorch: a weights-only safetensors file with PyTorch's parameter names
//   and layouts, and a generated `model.py` with the nn.Module it loads
//   into (from @forward's ops).
//
// Both take the input as @forward does: the normalized image (see
// docs/Runtime.md, "Weights for Keras and PyTorch").
//
//===----------------------------------------------------------------------===//

#ifndef DLC_EXPORT_WEIGHTSEXPORT_H
#define DLC_EXPORT_WEIGHTSEXPORT_H

#include "dlc/Export/OnnxExport.h"
#include "dlc/Export/WeightsPlan.h"

namespace mlir::dlc {

/// The plans the writers of WeightsPlan.h follow (see there); what the
/// format cannot express is an error diagnostic located at the layer.
/// `sourceName` is the model file, named in model.py's docstring.
FailureOr<::dlc::exporting::KerasPlan> planKerasWeights(ModuleOp module);
FailureOr<::dlc::exporting::TorchPlan> planTorch(ModuleOp module,
                                                 StringRef sourceName);

/// The module attributes `dlc.export_keras` and `dlc.export_torch`: each
/// plan as JSON text, or the error that says why there is none. They go
/// into the executable's settings for `EXE export`; the weights come from
/// the checkpoint given then.
void attachExportPlans(ModuleOp module, StringRef sourceName);

/// Writes the Keras 3 `.weights.h5` of `module` to `path` (the plan's
/// writer, with `weights` completed by the parameters' initial values). Errors
/// (a layer with weights Keras does not know, a missing weight, an unwritable
/// file) are diagnostics; a failed export leaves no file.
LogicalResult exportKerasWeights(ModuleOp module, const WeightMap &weights,
                                 StringRef path);

/// Writes `<stem>.safetensors` and `model.py` into `directory` (which must
/// exist). `sourceName` is the model file, named in model.py's docstring.
LogicalResult exportTorch(ModuleOp module, const WeightMap &weights,
                          StringRef directory, StringRef safetensorsName,
                          StringRef sourceName);

} // namespace mlir::dlc

#endif // DLC_EXPORT_WEIGHTSEXPORT_H
