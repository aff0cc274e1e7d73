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

/// The values of parameter or constant `v` in dlc's layout, row major.
/// Errors are located at `loc` (the layer's place in the model file);
/// `format` names the export in them ("Keras export").
FailureOr<std::vector<float>> parameterData(func::FuncOp forward, Value v,
                                            const WeightMap &weights,
                                            Location loc, StringRef format);

/// `transpose(data viewed as shape, perm)`, row major.
std::vector<float> transposed(ArrayRef<float> data, ArrayRef<int64_t> shape,
                              ArrayRef<int64_t> perm);

} // namespace mlir::dlc::exporting

#endif // DLC_LIB_EXPORT_EXPORTPARAMETERS_H
