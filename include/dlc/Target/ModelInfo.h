//===- ModelInfo.h - The compiled model's table for the runtime -*- C++ -*-===//
//
// A compiled model exports one C symbol, `dlc_model` (see
// include/dlc/Runtime/ModelABI.h): its name, its training settings as JSON,
// and for each step function a packed entry point `void (void **args)` plus
// the name, role, initializer, element type and shape of every argument and
// result. The runtime binds buffers by these names and never needs to know
// the model's structure.
//
// The description is read from the dlc-level module (after
// dlc-build-train-step, before lowering erases the attributes); the table
// and the packed wrappers are then added to the translated LLVM module.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_TARGET_MODELINFO_H
#define DLC_TARGET_MODELINFO_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

#include <string>
#include <vector>

namespace llvm {
class Module;
} // namespace llvm

namespace mlir::dlc {

/// One argument or result of a step function, as the runtime sees it.
struct TensorDescription {
  std::string name;
  std::string role;
  std::string init;
  /// 0 = f32, 1 = i32, 2 = i64 (ModelABI.h's dtype codes).
  int32_t dtype = 0;
  /// -1 for a scalar passed by value, else the tensor's rank.
  int32_t rank = -1;
  SmallVector<int64_t, 4> shape;
};

struct FunctionDescription {
  std::string name;
  std::vector<TensorDescription> args, results;
};

struct ModelDescription {
  std::string name;
  /// Module attributes `dlc.<key>` as a JSON object keyed by `<key>`.
  std::string settingsJson;
  std::vector<FunctionDescription> functions;
};

/// The step functions of `module` that exist among train_step, eval_step and
/// predict. Fails with a diagnostic on a type the runtime cannot hold.
FailureOr<ModelDescription> describeModel(ModuleOp module);

/// Adds `dlc_packed_<f>` wrappers around each `_mlir_ciface_<f>` and the
/// `dlc_model` table to `llvmModule`. Fails if an entry point is missing.
LogicalResult emitModelInfo(const ModelDescription &model,
                            llvm::Module &llvmModule, Location loc);

} // namespace mlir::dlc

#endif // DLC_TARGET_MODELINFO_H
