//===- Target.h - What a dlc code generator provides ------------*- C++ -*-===//
//
// A Target takes the target-independent result of the compiler library
// (linalg on tensors, with the model description as the `dlc.model` module
// attribute) to what the runtime links or loads: its lowering pipeline, the
// `--emit` stages it adds, the objects of an executable and the runtime
// link line. The CPU target (include/dlc/Target/CPU/CPUTarget.h) is the
// first implementation; a CUDA target implements the same interface.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_COMPILER_TARGET_H
#define DLC_COMPILER_TARGET_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/Error.h"

#include <string>

namespace llvm {
class raw_pwrite_stream;
} // namespace llvm

namespace mlir {
class OpPassManager;

namespace dlc {

/// One stage `dlc compile --emit=<name>` can print after `linalg`.
struct EmitStage {
  const char *name;
  const char *description;
  /// Binary output (never written to a terminal by default).
  bool binary;
};

class Target {
public:
  virtual ~Target();

  /// The name `--target` selects, e.g. "cpu".
  virtual StringRef getName() const = 0;

  /// The device field of the model table (dlc_device in ModelABI.h).
  virtual int32_t getDevice() const = 0;

  /// Adds the lowering from linalg on tensors to the form emit() and
  /// emitObjects() read, ending with the model table (dlc-emit-model-table).
  virtual void buildLoweringPipeline(OpPassManager &pm) const = 0;

  /// The lowering that `stage` (one of getEmitStages()) is printed from.
  /// By default the whole of buildLoweringPipeline; a stage that shows the
  /// IR in the middle of the pipeline (the CUDA target's `gpu`) stops there.
  virtual void buildLoweringPipelineFor(OpPassManager &pm,
                                        StringRef stage) const {
    buildLoweringPipeline(pm);
  }

  /// The `--emit` stages this target adds after "linalg", in pipeline order.
  virtual ArrayRef<EmitStage> getEmitStages() const = 0;

  /// Writes `stage` (one of getEmitStages()) of a module lowered by
  /// buildLoweringPipeline to `os`.
  virtual llvm::Error emit(ModuleOp lowered, StringRef stage,
                           llvm::raw_pwrite_stream &os) const = 0;

  /// The object files of an executable, to be linked with the runtime.
  virtual llvm::Expected<SmallVector<SmallString<0>>>
  emitObjects(ModuleOp lowered) const = 0;

  /// The C++ linker driver's arguments, after the objects, that add the
  /// runtime this target's code needs. `libDirectory` is where the build
  /// put dlc's libraries.
  virtual llvm::Expected<SmallVector<std::string>>
  getRuntimeLinkArgs(StringRef libDirectory) const = 0;
};

} // namespace dlc
} // namespace mlir

#endif // DLC_COMPILER_TARGET_H
