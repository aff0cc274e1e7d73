//===- PrepareABI.cpp - The calling convention of compiled functions ------===//
//
// Fixes, before bufferization, what the compiled code may assume about its
// caller: public functions get a C entry point (llvm.emit_c_interface), and
// tensor arguments are read-only unless the caller donated them with
// `bufferization.writable = true`. Without the second rule one-shot
// bufferization would consider every argument writable and could clobber a
// caller's input buffer (e.g. compute relu(x) in place in x).
//
//===----------------------------------------------------------------------===//

#include "dlc/Target/CPU/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_CPUPREPAREABIPASS
#include "dlc/Target/CPU/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;
using namespace mlir::dlc;

namespace {

struct CPUPrepareABIPass
    : mlir::dlc::impl::CPUPrepareABIPassBase<CPUPrepareABIPass> {
  void runOnOperation() override {
    OpBuilder b(&getContext());
    StringRef writable = bufferization::BufferizationDialect::kWritableAttrName;
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (func.isExternal() || !func.isPublic())
        continue;
      func->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                    b.getUnitAttr());
      for (auto [i, type] : llvm::enumerate(func.getArgumentTypes()))
        if (isa<TensorType>(type) && !func.getArgAttr(i, writable))
          func.setArgAttr(i, writable, b.getBoolAttr(false));
    }
  }
};

} // namespace
