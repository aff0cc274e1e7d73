//===- Import.h - Model files to the dlc dialect ----------------*- C++ -*-===//
//
// The front end of dlc: reads a network description (dlc's Keras-vocabulary
// YAML, the JSON written by Keras's `model.to_json()`, or an ONNX model) and
// builds a module holding `func.func @forward` in the dlc dialect plus the
// training settings.
// docs/Import.md describes the file formats and the IR conventions that the
// later stages (train-step builder, code generation, runtime) rely on.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_IMPORT_IMPORT_H
#define DLC_IMPORT_IMPORT_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <cstdint>
#include <optional>

namespace llvm {
class SourceMgr;
} // namespace llvm

namespace mlir::dlc {

/// Names of the attributes the importer attaches; later stages read them by
/// these names (see docs/Import.md for their contents).
namespace attrs {
/// Argument attributes of @forward (dlc.trainable also marks the
/// dlc.batch_norm of a frozen layer).
inline constexpr llvm::StringLiteral kName = "dlc.name";
inline constexpr llvm::StringLiteral kInit = "dlc.init";
inline constexpr llvm::StringLiteral kInitConfig = "dlc.init_config";
inline constexpr llvm::StringLiteral kTrainable = "dlc.trainable";
/// Module attributes: the training settings.
inline constexpr llvm::StringLiteral kLoss = "dlc.loss";
inline constexpr llvm::StringLiteral kOptimizer = "dlc.optimizer";
inline constexpr llvm::StringLiteral kMetrics = "dlc.metrics";
inline constexpr llvm::StringLiteral kBatchSize = "dlc.batch_size";
inline constexpr llvm::StringLiteral kEpochs = "dlc.epochs";
inline constexpr llvm::StringLiteral kInputNormalization =
    "dlc.input_normalization";
/// The layers as the model file lists them, for `summary`: an array of
/// {name, class, inputs, output_shape} (see docs/Import.md); the layer
/// costs (dlc-summarize-layers) are added to each entry later.
inline constexpr llvm::StringLiteral kLayers = "dlc.layers";
} // namespace attrs

/// The name of the function the importer creates.
inline constexpr llvm::StringLiteral kForwardFuncName = "forward";

struct ImportOptions {
  /// Overrides the model file's `batch_size` (the static batch dimension of
  /// @forward's input and of every activation).
  std::optional<int64_t> batchSize;
  /// The module will be linked with dlc's runtime into a training
  /// executable: refuse, located in the file, what that runtime cannot
  /// train yet (see docs/Import.md): a loss other than
  /// sparse_categorical_crossentropy.
  bool forRuntime = false;
};

/// Imports the model file in the main buffer of `sourceMgr`. The format
/// (dlc YAML, Keras JSON, or binary ONNX: see dlc/Import/Onnx.h) is
/// recognized from the content (ONNX also from a .onnx name). Every problem
/// is reported as an error diagnostic on `context` located at the file's
/// line:col (through the buffer's identifier), and yields a null module:
/// this never aborts, whatever the input.
OwningOpRef<ModuleOp> importModel(llvm::SourceMgr &sourceMgr,
                                  MLIRContext *context,
                                  const ImportOptions &options = {});

/// Registers the dialects the imported IR uses (dlc, func, arith).
void registerImportDialects(DialectRegistry &registry);

} // namespace mlir::dlc

#endif // DLC_IMPORT_IMPORT_H
