//===- ExpandStridedCopies.cpp - Keep copies out of the runtime library ---===//
//
// finalize-memref-to-llvm lowers a memref.copy between non-contiguous
// memrefs into a call to `memrefCopy` in libmlir_c_runner_utils. Compiled dlc
// objects are linked into standalone executables without that library, so
// such copies become linalg.copy (plain loops after convert-linalg-to-loops).
//
//===----------------------------------------------------------------------===//

#include "dlc/Target/CPU/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_CPUEXPANDSTRIDEDCOPIESPASS
#include "dlc/Target/CPU/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;
using namespace mlir::dlc;

namespace {

/// Whether finalize-memref-to-llvm lowers a copy of `type` to llvm.memcpy.
bool isContiguous(Type type) {
  auto memref = dyn_cast<MemRefType>(type);
  return memref && memref.getLayout().isIdentity();
}

struct CPUExpandStridedCopiesPass
    : mlir::dlc::impl::CPUExpandStridedCopiesPassBase<
          CPUExpandStridedCopiesPass> {
  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    getOperation().walk([&](memref::CopyOp copy) {
      if (isContiguous(copy.getSource().getType()) &&
          isContiguous(copy.getTarget().getType()))
        return;
      rewriter.setInsertionPoint(copy);
      rewriter.replaceOpWithNewOp<linalg::CopyOp>(copy, copy.getSource(),
                                                  copy.getTarget());
    });
  }
};

} // namespace
