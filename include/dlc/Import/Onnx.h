//===- Onnx.h - ONNX models to the dlc dialect ------------------*- C++ -*-===//
//
// Imports an ONNX ModelProto (read with the protobuf classes of Debian's
// libonnx-dev) into func.func @forward in the dlc dialect. ONNX computes in
// NCHW with OIHW filters, dlc in NHWC with HWCF filters: the importer
// converts once, at import (initializers are transposed on the host, a
// Flatten of an NCHW tensor keeps dlc's NHWC order and the Gemm or MatMul
// that reads it gets its weight rows permuted to match), so the compiled
// code pays nothing. docs/Import.md describes the subset and the errors.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_IMPORT_ONNX_H
#define DLC_IMPORT_ONNX_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace llvm {
class SourceMgr;
} // namespace llvm

namespace mlir::dlc {

/// Argument attribute of @forward: the initial value of a parameter or
/// state tensor (an ONNX initializer, in dlc's layout). The runtime starts
/// from it unless `train --reinitialize` asks for the `dlc.init`
/// initializer.
inline constexpr llvm::StringLiteral kInitialValueAttr = "dlc.initial_value";

struct OnnxImportOptions {
  /// The static batch dimension (default: the sidecar's batch_size, else the
  /// model's static batch dimension, else 32). Ignored in function mode.
  std::optional<int64_t> batchSize;
  /// Function mode (the conformance tests): every graph input that is not
  /// an initializer becomes an argument of @forward, in graph order, and
  /// every graph output a result; shapes are the model's; no training
  /// settings are attached. Otherwise the model must have one data input
  /// and one output, and initializers become trainable parameters.
  bool functionMode = false;
  /// Function mode: graph inputs given as constants (name -> serialized
  /// onnx::TensorProto), e.g. the shape input of a Reshape test. They are
  /// folded like initializers and are not arguments.
  std::map<std::string, std::string> constantInputs;
};

/// How a tensor of @forward relates to the ONNX tensor it stands for: the
/// dlc buffer (row-major) holds `transpose(reshape(onnx, base), perm)`,
/// i.e. dlc dimension i of the transposed tensor is base dimension perm[i].
/// Identity layouts have base = onnxShape and perm = 0, 1, ...
struct OnnxLayout {
  SmallVector<int64_t, 4> onnxShape, base, perm;
  /// The ONNX element type (onnx::TensorProto::DataType: 1 float, 7 int64);
  /// int64 labels are i32 in dlc.
  int32_t onnxType = 1;
  std::string name;
};

/// The layouts of @forward's arguments and results (function mode: all of
/// them; otherwise the input and the output).
struct OnnxSignature {
  SmallVector<OnnxLayout> args, results;
};

/// Whether `buffer` (named `filename`) is an ONNX model: the file name ends
/// in .onnx, or the content starts like a binary ModelProto.
bool isOnnxModel(StringRef filename, StringRef buffer);

/// Imports the ONNX model in the main buffer of `sourceMgr`. Training
/// settings come from a YAML sidecar `<model>.onnx.yaml` (or `<model>.yaml`)
/// when present, in the vocabulary of dlc YAML (loss, optimizer, metrics,
/// batch_size, epochs, input normalization). Every problem is an error
/// diagnostic naming the node (index, name, op type) and yields a null
/// module; this never aborts.
OwningOpRef<ModuleOp> importOnnxModel(llvm::SourceMgr &sourceMgr,
                                      MLIRContext *context,
                                      const OnnxImportOptions &options = {},
                                      OnnxSignature *signature = nullptr);

} // namespace mlir::dlc

#endif // DLC_IMPORT_ONNX_H
