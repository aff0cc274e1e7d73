//===- OnnxExport.h - The inference graph as an ONNX model ------*- C++ -*-===//
//
// Writes @forward of an imported model (dlc dialect, inference semantics)
// as an ONNX ModelProto (opset 17) with trained weights, in ONNX's NCHW
// layout with OIHW convolution weights, so that it is what a PyTorch or
// onnxruntime user expects. `dlc export` (tools/dlc) is its driver;
// docs/Import.md ("ONNX export") describes the graph it writes.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_EXPORT_ONNXEXPORT_H
#define DLC_EXPORT_ONNXEXPORT_H

#include "mlir/IR/BuiltinOps.h"

#include <map>
#include <string>
#include <vector>

namespace llvm {
class raw_ostream;
} // namespace llvm

namespace mlir::dlc {

struct OnnxExportOptions {
  /// Fold each inference batch norm that follows a convolution into the
  /// convolution's weights and bias.
  bool foldBatchNorm = false;
  /// The batch dimension is dynamic ("batch") unless this is set.
  bool staticBatch = false;
};

/// Weights by tensor name (dlc.name), f32, row major in dlc's layout (as in
/// a checkpoint).
using WeightMap = std::map<std::string, std::vector<float>>;

/// Reads the f32 tensors of a safetensors file (a dlc checkpoint). Errors
/// are emitted at `loc`.
FailureOr<WeightMap> readSafetensorsWeights(StringRef path, Location loc);

/// Writes @forward of `module` as a binary ONNX ModelProto to `os`, taking
/// every parameter from `weights` (or, when absent there, from its
/// dlc.initial_value). An op the exporter does not know, or a missing
/// weight, is an error diagnostic located at the op.
LogicalResult exportOnnx(ModuleOp module, const WeightMap &weights,
                         const OnnxExportOptions &options,
                         llvm::raw_ostream &os);

} // namespace mlir::dlc

#endif // DLC_EXPORT_ONNXEXPORT_H
