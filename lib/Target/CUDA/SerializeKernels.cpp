//===- SerializeKernels.cpp - gpu.modules to PTX, in parallel -------------===//
//
// dlc-cuda-serialize-kernels: gpu-module-to-binary{format=isa} over all
// gpu.modules at once. Translating a kernel module to LLVM IR, LLVM's O3 and
// the NVPTX backend are the longest step of a CUDA compile (0.8 s of
// cnn_bn's 2.4 s lowering on one core); upstream's pass runs the modules
// one after the other. Each serialization reads only its own module and
// builds its LLVM module in an LLVMContext of its own, so the modules of
// dlc-cuda-merge-kernel-modules{modules=N} go through it side by side.
//
//===----------------------------------------------------------------------===//

#include "dlc/Target/CUDA/Passes.h"

#include "mlir/Dialect/GPU/IR/CompilationInterfaces.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Threading.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_CUDASERIALIZEKERNELSPASS
#include "dlc/Target/CUDA/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;
using namespace mlir::dlc;

namespace {

struct SerializeKernelsPass
    : public dlc::impl::CUDASerializeKernelsPassBase<SerializeKernelsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<gpu::GPUModuleOp> kernels(module.getOps<gpu::GPUModuleOp>());
    if (kernels.empty())
      return;
    for (gpu::GPUModuleOp kernel : kernels)
      if (!kernel.getTargetsAttr() || kernel.getTargetsAttr().empty()) {
        kernel.emitError("the module has no target attributes (run "
                         "nvvm-attach-target first)");
        return signalPassFailure();
      }
    // Built before the threads start, and only read by them.
    SymbolTable table(module);
    auto getTable = [&]() -> SymbolTable * { return &table; };
    gpu::TargetOptions options({}, {}, {}, {}, gpu::CompilationTarget::Assembly,
                               getTable);
    // One entry per module and target, filled by the module's thread.
    SmallVector<SmallVector<Attribute>> objects(kernels.size());
    LogicalResult serialized = failableParallelForEachN(
        &getContext(), 0, kernels.size(), [&](size_t i) -> LogicalResult {
          gpu::GPUModuleOp kernel = kernels[i];
          for (Attribute targetAttr : kernel.getTargetsAttr()) {
            auto target = dyn_cast<gpu::TargetAttrInterface>(targetAttr);
            if (!target)
              return kernel.emitError("target ")
                     << targetAttr << " cannot serialize a module";
            std::optional<SmallVector<char, 0>> object =
                target.serializeToObject(kernel, options);
            if (!object)
              return kernel.emitError(
                  "an error happened while serializing the module");
            Attribute attr = target.createObject(kernel, *object, options);
            if (!attr)
              return kernel.emitError(
                  "an error happened while creating the object");
            objects[i].push_back(attr);
          }
          return success();
        });
    if (failed(serialized))
      return signalPassFailure();
    OpBuilder b(&getContext());
    for (auto [kernel, objs] : llvm::zip(kernels, objects)) {
      b.setInsertionPointAfter(kernel);
      gpu::BinaryOp::create(b, kernel.getLoc(), kernel.getName(),
                            /*offloadingHandler=*/Attribute(),
                            b.getArrayAttr(objs));
      kernel.erase();
    }
  }
};

} // namespace
