//===- ModelAttributes.h - Names of dlc's model-level attributes -*- C++
//-*-===//
//
// The discardable attributes through which the importer, dlc-build-train-step,
// dlc-describe-model and the targets hand the model's description down the
// pipeline. One definition of each name, so that a misspelling is a compile
// error rather than an attribute silently not found.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_DIALECT_DLC_IR_MODELATTRIBUTES_H
#define DLC_DIALECT_DLC_IR_MODELATTRIBUTES_H

#include "llvm/ADT/StringRef.h"

namespace mlir::dlc::attr {

// On function arguments and results.
/// The tensor's name in checkpoints (`conv2d/kernel`).
constexpr llvm::StringLiteral kName = "dlc.name";
/// Its role in the model ABI (dlc_role_name: `param`, `input`, ...).
constexpr llvm::StringLiteral kRole = "dlc.role";
/// Its initializer (`he_normal`) and the initializer's parameters.
constexpr llvm::StringLiteral kInit = "dlc.init";
constexpr llvm::StringLiteral kInitConfig = "dlc.init_config";
/// Its initial value (a DenseElementsAttr in the argument's type): the
/// weights of an imported ONNX model. The runtime starts from it unless
/// `train --reinitialize` asks for the initializer.
constexpr llvm::StringLiteral kInitialValue = "dlc.initial_value";
/// `false` on a parameter that is not trained (it becomes state).
constexpr llvm::StringLiteral kTrainable = "dlc.trainable";
/// On an argument: result N of the function is written into this
/// argument's buffer (updated in place) and is not returned.
constexpr llvm::StringLiteral kResult = "dlc.result";

// On the module.
/// The model table of the runtime (dlc-describe-model); see
/// include/dlc/Runtime/ModelABI.h for what it becomes.
constexpr llvm::StringLiteral kModel = "dlc.model";
/// The layers for `summary` (the importer; dlc-summarize-layers adds their
/// costs).
constexpr llvm::StringLiteral kLayers = "dlc.layers";

} // namespace mlir::dlc::attr

#endif // DLC_DIALECT_DLC_IR_MODELATTRIBUTES_H
