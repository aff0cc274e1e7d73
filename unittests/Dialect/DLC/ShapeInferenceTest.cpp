//===- ShapeInferenceTest.cpp - dlc result-type inference -----------------===//
//
// Builds dlc ops without result types (the InferTypeOpInterface builders
// that the importer and the train-step builder use) and checks the inferred
// types, the TensorFlow `same` padding amounts, and that an invalid layer
// reports a located error instead of aborting.
//
//===----------------------------------------------------------------------===//

#include "dlc/Dialect/DLC/IR/DLCOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"

#include "gtest/gtest.h"

using namespace mlir;
using namespace mlir::dlc;

namespace {

using Pads = std::pair<int64_t, int64_t>;

class ShapeInferenceTest : public ::testing::Test {
protected:
  ShapeInferenceTest() : builder(&ctx) {
    ctx.loadDialect<DLCDialect, func::FuncDialect>();
    module = ModuleOp::create(builder.getUnknownLoc());
    builder.setInsertionPointToEnd(module->getBody());
  }

  /// A function argument of the given f32 tensor type to feed the ops.
  Value arg(ArrayRef<int64_t> shape, Type elementType = {}) {
    if (!elementType)
      elementType = builder.getF32Type();
    if (!block) {
      auto fn = func::FuncOp::create(builder, builder.getUnknownLoc(), "f",
                                     builder.getFunctionType({}, {}));
      block = fn.addEntryBlock();
      builder.setInsertionPointToEnd(block);
    }
    return block->addArgument(RankedTensorType::get(shape, elementType),
                              builder.getUnknownLoc());
  }

  static std::string str(Type t) {
    std::string s;
    llvm::raw_string_ostream os(s);
    os << t;
    return s;
  }

  MLIRContext ctx;
  OpBuilder builder;
  OwningOpRef<ModuleOp> module;
  Block *block = nullptr;
};

TEST_F(ShapeInferenceTest, SamePaddingMatchesTensorFlow) {
  // in 28, k 3, s 1 -> out 28, pad 2 split 1/1.
  EXPECT_EQ(computeSamePadding(28, 3, 1, 1), Pads(1, 1));
  // in 28, k 3, s 2 -> out 14, total (13 * 2 + 3 - 28) = 1: the odd pixel
  // goes to the bottom/right.
  EXPECT_EQ(computeSamePadding(28, 3, 2, 1), Pads(0, 1));
  // in 7, k 3, s 2 -> out 4, total (3 * 2 + 3 - 7) = 2.
  EXPECT_EQ(computeSamePadding(7, 3, 2, 1), Pads(1, 1));
  // Even kernel: k 4, s 1 -> total 3, split 1/2.
  EXPECT_EQ(computeSamePadding(10, 4, 1, 1), Pads(1, 2));
  // Dilation 2 widens k 3 to 5: total 4.
  EXPECT_EQ(computeSamePadding(9, 3, 1, 2), Pads(2, 2));
  // Stride larger than the kernel: no padding at all.
  EXPECT_EQ(computeSamePadding(8, 1, 2, 1), Pads(0, 0));
}

TEST_F(ShapeInferenceTest, WindowOutputSizes) {
  EXPECT_EQ(computeWindowOutputSize(28, 3, 1, 1, PaddingMode::valid), 26);
  EXPECT_EQ(computeWindowOutputSize(27, 3, 2, 1, PaddingMode::valid), 13);
  EXPECT_EQ(computeWindowOutputSize(27, 3, 2, 1, PaddingMode::same), 14);
  EXPECT_EQ(computeWindowOutputSize(9, 3, 2, 2, PaddingMode::valid), 3);
  EXPECT_EQ(computeWindowOutputSize(8, 3, 2, 1, PaddingMode::explicit_, 1, 2),
            5);
  EXPECT_LE(computeWindowOutputSize(2, 3, 1, 1, PaddingMode::valid), 0);
}

TEST_F(ShapeInferenceTest, ConvBuilderInfersResult) {
  Value x = arg({8, 28, 28, 1});
  Value w = arg({3, 3, 1, 32});
  auto conv = Conv2DOp::create(
      builder, builder.getUnknownLoc(), x, w, /*bias=*/Value(),
      builder.getDenseI64ArrayAttr({2, 2}),
      builder.getDenseI64ArrayAttr({1, 1}),
      PaddingModeAttr::get(&ctx, PaddingMode::same),
      builder.getDenseI64ArrayAttr({0, 0, 0, 0}), builder.getI64IntegerAttr(1));
  EXPECT_EQ(str(conv.getType()), "tensor<8x14x14x32xf32>");
  EXPECT_EQ(conv.getResolvedPads(), (SmallVector<int64_t, 4>{0, 1, 0, 1}));
  EXPECT_TRUE(succeeded(mlir::verify(conv)));
}

TEST_F(ShapeInferenceTest, ChainBuildsWithoutShapes) {
  Value x = arg({4, 12, 12, 8});
  Value pooled = MaxPool2DOp::create(
      builder, builder.getUnknownLoc(), x, builder.getDenseI64ArrayAttr({2, 2}),
      builder.getDenseI64ArrayAttr({2, 2}),
      PaddingModeAttr::get(&ctx, PaddingMode::valid));
  Value flat = FlattenOp::create(builder, builder.getUnknownLoc(), pooled);
  Value w = arg({288, 10});
  Value logits = DenseOp::create(builder, builder.getUnknownLoc(), flat, w,
                                 /*bias=*/Value());
  Value labels = arg({4}, builder.getI32Type());
  Value loss = SoftmaxCrossEntropyOp::create(builder, builder.getUnknownLoc(),
                                             logits, labels);
  Value correct =
      AccuracyOp::create(builder, builder.getUnknownLoc(), logits, labels);
  EXPECT_EQ(str(pooled.getType()), "tensor<4x6x6x8xf32>");
  EXPECT_EQ(str(flat.getType()), "tensor<4x288xf32>");
  EXPECT_EQ(str(logits.getType()), "tensor<4x10xf32>");
  EXPECT_EQ(str(loss.getType()), "tensor<f32>");
  EXPECT_EQ(str(correct.getType()), "tensor<i32>");
}

TEST_F(ShapeInferenceTest, BatchNormTrainInfersFiveResults) {
  Value x = arg({2, 5, 5, 3});
  Value v = arg({3});
  auto bn = BatchNormTrainOp::create(builder, builder.getUnknownLoc(), x, v, v,
                                     v, v, builder.getF32FloatAttr(1e-3f),
                                     builder.getF32FloatAttr(0.99f));
  ASSERT_EQ(bn->getNumResults(), 5u);
  EXPECT_EQ(str(bn.getOutput().getType()), "tensor<2x5x5x3xf32>");
  EXPECT_EQ(str(bn.getNewRunningVariance().getType()), "tensor<3xf32>");
}

/// The importer's path: probe an invalid layer through the interface with a
/// location and get the verifier's message there, with no abort.
TEST_F(ShapeInferenceTest, InvalidLayerReportsAtLocation) {
  Value x = arg({1, 4, 4, 3});
  Value w = arg({5, 5, 3, 8});
  std::string message;
  ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &d) {
    message = d.str();
    return success();
  });
  OperationState state(FileLineColLoc::get(&ctx, "model.yaml", 7, 5),
                       Conv2DOp::getOperationName());
  state.addOperands({x, w});
  state.addAttribute("padding", PaddingModeAttr::get(&ctx, PaddingMode::valid));
  FailureOr<Operation *> op = createWithInferredTypes(builder, state);
  EXPECT_TRUE(failed(op));
  EXPECT_EQ(
      message,
      "'dlc.conv2d' op dilated kernel (5x5) is larger than the input (4x4)");
}

TEST_F(ShapeInferenceTest, GenericCreationReadsInherentAttributes) {
  Value x = arg({1, 9, 9, 3});
  Value w = arg({3, 3, 3, 8});
  OperationState state(builder.getUnknownLoc(), Conv2DOp::getOperationName());
  state.addOperands({x, w});
  state.addAttribute("padding", PaddingModeAttr::get(&ctx, PaddingMode::same));
  state.addAttribute("strides", builder.getDenseI64ArrayAttr({2, 2}));
  FailureOr<Operation *> op = createWithInferredTypes(builder, state);
  ASSERT_TRUE(succeeded(op));
  EXPECT_EQ(str((*op)->getResult(0).getType()), "tensor<1x5x5x8xf32>");
  EXPECT_TRUE(succeeded(mlir::verify(*op)));
}

} // namespace
