//===- ExportParameters.h - @forward's weights for the exporters -*- C++ -*-=//
//
// What the Keras and PyTorch exporters share: the data of a parameter of
// @forward (from the checkpoint, else its dlc.initial_value) or of a
// constant, with the errors located at the op that needs it.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_LIB_EXPORT_EXPORTPARAMETERS_H
#define DLC_LIB_EXPORT_EXPORTPARAMETERS_H

#include "dlc/Export/OnnxExport.h"
#include "dlc/Export/WeightsPlan.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/SmallVector.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::dlc::exporting {

using Shape = SmallVector<int64_t, 4>;

inline Shape dimsOf(Value v) {
  auto type = cast<RankedTensorType>(v.getType());
  return Shape(type.getShape().begin(), type.getShape().end());
}

/// The dlc.name of @forward's argument `v`, or "" for other values.
std::string parameterName(func::FuncOp forward, Value v);

/// Plans parameter or constant `v` as `t`'s data: `t.source` (its
/// checkpoint name) or `t.constant`, its dlc shape as `t.shape`, `loc` (the
/// layer's place in the model file) as `t.loc`. Errors are located at `loc`;
/// `format` names the export in them ("Keras export").
LogicalResult planSource(func::FuncOp forward, Value v, Location loc,
                         StringRef format, ::dlc::exporting::PlannedTensor &t);

/// The file, line and column of `loc` (the first FileLineColLoc in it).
::dlc::exporting::SourceLocation sourceLocation(Location loc);

/// `weights` completed with the dlc.initial_value of each parameter of
/// @forward it lacks (an ONNX model's own weights).
WeightMap withInitialValues(ModuleOp module, WeightMap weights);

/// Runs `plan`; when it fails, its first error diagnostic, which is not
/// printed.
std::optional<::dlc::exporting::ExportError>
captureFirstError(MLIRContext *context, function_ref<LogicalResult()> plan);

/// Emits `error` (when there is one) at its place in the model file, else
/// at the module.
LogicalResult
reportExportError(ModuleOp module,
                  const std::optional<::dlc::exporting::ExportError> &error);

} // namespace mlir::dlc::exporting

#endif // DLC_LIB_EXPORT_EXPORTPARAMETERS_H
