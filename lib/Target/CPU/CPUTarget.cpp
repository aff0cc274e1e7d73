//===- CPUTarget.cpp - The `cpu` Target of the compiler library -----------===//
//
// What the driver, the benchmarks and the tests see of the CPU code
// generator: its pipeline (dlc-lower-to-cpu), its `--emit` stages (LLVM IR
// and an object), the objects of an executable (compiled on two threads)
// and the static runtime library they link with.
//
//===----------------------------------------------------------------------===//

#include "dlc/Target/CPU/CPUTarget.h"
#include "dlc/Runtime/ModelABI.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::dlc;

namespace {
class CPUTarget final : public Target {
public:
  explicit CPUTarget(const CPUPipelineOptions &options) : options(options) {}

  StringRef getName() const override { return "cpu"; }
  int32_t getDevice() const override { return DLC_DEVICE_CPU; }

  void buildLoweringPipeline(OpPassManager &pm) const override {
    buildLowerToCPUPipeline(pm, options);
  }

  ArrayRef<EmitStage> getEmitStages() const override {
    static const EmitStage stages[] = {
        {"llvm", "LLVM IR for the target, with the model table", false},
        {"obj", "an object file", true},
    };
    return stages;
  }

  llvm::Error emit(ModuleOp lowered, StringRef stage,
                   llvm::raw_pwrite_stream &os) const override {
    llvm::LLVMContext llvmContext;
    std::unique_ptr<llvm::Module> llvmModule =
        translateToLLVMIR(lowered, llvmContext, options);
    if (!llvmModule)
      return llvm::createStringError("translation to LLVM IR failed");
    if (stage == "llvm") {
      llvmModule->print(os, nullptr);
      return llvm::Error::success();
    }
    if (stage == "obj")
      return emitObjectFile(*llvmModule, os, options);
    return llvm::createStringError("the cpu target has no stage '" + stage +
                                   "'");
  }

  llvm::Expected<SmallVector<SmallString<0>>>
  emitObjects(ModuleOp lowered) const override {
    // train_step in one object, eval_step and predict in the other (by
    // size): LLVM's optimization and code generation on both cores.
    return emitObjectFilesInParallel(lowered, options, /*parts=*/2);
  }

  llvm::Expected<SmallVector<std::string>>
  getRuntimeLinkArgs(StringRef libDirectory) const override {
    // The build writes the static runtime's link line (its archives and
    // their LLVM Support dependency) next to the libraries.
    SmallString<256> rsp(libDirectory);
    llvm::sys::path::append(rsp, "dlc-runtime.rsp");
    if (!llvm::sys::fs::exists(rsp))
      return llvm::createStringError(
          "cannot find the runtime library's link line " + rsp +
          " (is dlc run from its build tree?)");
    return SmallVector<std::string>{"@" + rsp.str().str()};
  }

private:
  CPUPipelineOptions options;
};
} // namespace

std::unique_ptr<Target>
mlir::dlc::createCPUTarget(const CPUPipelineOptions &options) {
  return std::make_unique<CPUTarget>(options);
}
