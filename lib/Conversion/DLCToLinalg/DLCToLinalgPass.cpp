//===- DLCToLinalgPass.cpp - The convert-dlc-to-linalg pass ---------------===//
//
// A thin pass: every lowering lives in the op-family files next to this one.
// The conversion is partial (only dlc ops must go), so functions and any
// upstream IR around them pass through untouched.
//
//===----------------------------------------------------------------------===//

#include "dlc/Conversion/DLCToLinalg/DLCToLinalg.h"
#include "dlc/Conversion/Passes.h"
#include "dlc/Dialect/DLC/IR/DLCDialect.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_CONVERTDLCTOLINALGPASS
#include "dlc/Conversion/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;
using namespace mlir::dlc;

void mlir::dlc::populateDLCToLinalgConversionPatterns(
    RewritePatternSet &patterns) {
  populateConvAndDenseToLinalgPatterns(patterns);
  populateElementwiseToLinalgPatterns(patterns);
  populatePoolingToLinalgPatterns(patterns);
  populateReshapeToLinalgPatterns(patterns);
  populateNormalizationToLinalgPatterns(patterns);
  populateLossAndMetricToLinalgPatterns(patterns);
  populateRandomToLinalgPatterns(patterns);
  populateConvAndDenseGradientToLinalgPatterns(patterns);
  populateElementwiseGradientToLinalgPatterns(patterns);
  populatePoolingGradientToLinalgPatterns(patterns);
  populateNormalizationGradientToLinalgPatterns(patterns);
  populateLossGradientToLinalgPatterns(patterns);
  populateOptimizerToLinalgPatterns(patterns);
  populateFusedToLinalgPatterns(patterns);
}

void mlir::dlc::configureDLCToLinalgTarget(ConversionTarget &target) {
  target.addIllegalDialect<DLCDialect>();
  target.addLegalDialect<arith::ArithDialect, linalg::LinalgDialect,
                         math::MathDialect, tensor::TensorDialect>();
  // Data-parallel lowerings (Collectives.cpp) call the runtime from inside
  // the patterns: synchronized batch norm packs its statistics into a
  // buffer, the random ops read the sample offset.
  target.addLegalDialect<bufferization::BufferizationDialect,
                         memref::MemRefDialect>();
  target.addLegalOp<func::CallOp>();
}

namespace {
struct ConvertDLCToLinalgPass
    : mlir::dlc::impl::ConvertDLCToLinalgPassBase<ConvertDLCToLinalgPass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    if (auto module = dyn_cast<ModuleOp>(getOperation()))
      lowerCollectives(module);
    ConversionTarget target(*ctx);
    configureDLCToLinalgTarget(target);
    RewritePatternSet patterns(ctx);
    populateDLCToLinalgConversionPatterns(patterns);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
