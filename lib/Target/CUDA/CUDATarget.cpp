//===- CUDATarget.cpp - The `cuda` Target of the compiler library ---------===//
//
// What the driver and the tests see of the CUDA code generator: its
// pipeline (dlc-lower-to-cuda), its `--emit` stages (the GPU dialect after
// mapping, the PTX, the host's LLVM IR and object), the object of an
// executable and the runtime it links with (the same static runtime as the
// CPU's: its CUDA device opens the driver at run time).
//
//===----------------------------------------------------------------------===//

#include "dlc/Target/CUDA/CUDATarget.h"
#include "dlc/Runtime/ModelABI.h"
#include "dlc/Target/CPU/CPUTarget.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::dlc;

std::string mlir::dlc::findPtxas() {
  for (const char *variable : {"CUDA_HOME", "CUDA_PATH", "CUDA_ROOT"}) {
    std::optional<std::string> root = llvm::sys::Process::GetEnv(variable);
    if (!root || root->empty())
      continue;
    SmallString<256> path(*root);
    llvm::sys::path::append(path, "bin", "ptxas");
    if (llvm::sys::fs::can_execute(path))
      return path.str().str();
  }
  if (llvm::sys::fs::can_execute("/usr/local/cuda/bin/ptxas"))
    return "/usr/local/cuda/bin/ptxas";
  if (llvm::ErrorOr<std::string> path = llvm::sys::findProgramByName("ptxas"))
    return *path;
  return {};
}

void mlir::dlc::registerCUDATargetInterfaces(DialectRegistry &registry) {
  NVVM::registerNVVMTargetInterfaceExternalModels(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerNVVMDialectTranslation(registry);
  registerGPUDialectTranslation(registry);
}

namespace {

/// The host code's CPU: any x86-64 (the executable is built on one machine
/// and run on the GPU's; it only launches kernels). LLVM's O1: the host
/// code runs twice per entry point and set of buffers (the direct call and
/// the capture), then the CUDA graph replays, so its speed hardly matters,
/// while O2 cost 0.1 s of cnn_bn's compile and 0.4 s of resnet_small's.
CPUPipelineOptions hostOptions() {
  CPUPipelineOptions options;
  options.cpu = "x86-64";
  options.features = "";
  options.llvmOptLevel = 1;
  return options;
}

class CUDATarget final : public Target {
public:
  explicit CUDATarget(const CUDAPipelineOptions &options) : options(options) {}

  StringRef getName() const override { return "cuda"; }
  int32_t getDevice() const override { return DLC_DEVICE_CUDA; }

  void buildLoweringPipeline(OpPassManager &pm) const override {
    buildLowerToCUDAPipeline(pm, options);
  }

  void buildLoweringPipelineFor(OpPassManager &pm,
                                StringRef stage) const override {
    CUDAPipelineOptions forStage = options;
    forStage.stopAfterOutlining = stage == "gpu";
    // One PTX file (ptxas and readers take one module).
    if (stage == "ptx")
      forStage.kernelModules = 1;
    buildLowerToCUDAPipeline(pm, forStage);
  }

  ArrayRef<EmitStage> getEmitStages() const override {
    static const EmitStage stages[] = {
        {"gpu",
         "the GPU dialect after mapping: host code with gpu.launch_func "
         "and gpu.module @dlc_kernels",
         false},
        {"ptx", "the kernels' PTX", false},
        {"llvm",
         "LLVM IR of the host code, with the embedded kernels and "
         "the model table",
         false},
        {"obj", "the host object file", true},
    };
    return stages;
  }

  llvm::Error emit(ModuleOp lowered, StringRef stage,
                   llvm::raw_pwrite_stream &os) const override {
    if (stage == "gpu") {
      lowered.print(os);
      return llvm::Error::success();
    }
    if (stage == "ptx") {
      auto ptx = lowered.lookupSymbol<LLVM::GlobalOp>("dlc_cuda_ptx");
      auto text = ptx ? dyn_cast_or_null<StringAttr>(ptx.getValueOrNull())
                      : StringAttr();
      if (!text)
        return llvm::createStringError("the lowered module has no PTX");
      os << text.getValue().rtrim('\0');
      return llvm::Error::success();
    }
    llvm::LLVMContext llvmContext;
    CPUPipelineOptions host = hostOptions();
    std::unique_ptr<llvm::Module> llvmModule =
        translateToLLVMIR(lowered, llvmContext, host);
    if (!llvmModule)
      return llvm::createStringError("translation to LLVM IR failed");
    if (stage == "llvm") {
      llvmModule->print(os, nullptr);
      return llvm::Error::success();
    }
    if (stage == "obj")
      return emitObjectFile(*llvmModule, os, host);
    return llvm::createStringError("the cuda target has no stage '" + stage +
                                   "'");
  }

  llvm::Expected<SmallVector<SmallString<0>>>
  emitObjects(ModuleOp lowered) const override {
    // One part, optimized whole: the kernel images and the function caches
    // are private globals that must exist once (two parts would each keep a
    // copy). Its code generation still runs in two pieces, which define the
    // globals once (resnet_small's host code: 1.9 s on one thread).
    return emitObjectFilesInParallel(lowered, hostOptions(), /*parts=*/1,
                                     /*completeFirst=*/{}, /*pieces=*/2);
  }

  llvm::Expected<SmallVector<std::string>>
  getRuntimeLinkArgs(StringRef libDirectory) const override {
    SmallString<256> rsp(libDirectory);
    llvm::sys::path::append(rsp, "dlc-runtime.rsp");
    if (!llvm::sys::fs::exists(rsp))
      return llvm::createStringError(
          "cannot find the runtime library's link line " + rsp +
          " (is dlc run from its build tree?)");
    return SmallVector<std::string>{"@" + rsp.str().str()};
  }

private:
  CUDAPipelineOptions options;
};
} // namespace

std::unique_ptr<Target>
mlir::dlc::createCUDATarget(const CUDAPipelineOptions &options) {
  return std::make_unique<CUDATarget>(options);
}
