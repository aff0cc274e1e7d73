//===- Optimizers.cpp - Lower dlc optimizer updates to linalg -------------===//
//
// Each update is one all-parallel linalg.generic with one output per updated
// tensor (parameter and slots), so a parameter and its state are read and
// written in a single pass. The scalar operands (learning rate, step) are
// used in the body directly, and so are the scalars computed once before
// the generic: SGD's damping factor, Adam's bias corrections (in f32), with
// which the parameter step follows PyTorch's arrangement of the formula,
//   param' - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps),
// or, with `epsilon_hat`, the paper's efficient form (Keras's, ONNX's),
//   param' - (lr * sqrt(1 - beta2^t) / (1 - beta1^t)) * m / (sqrt(v) + eps).
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "dlc/Conversion/DLCToLinalg/DLCToLinalg.h"
#include "dlc/Dialect/DLC/IR/DLCOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace mlir::dlc;
using namespace mlir::dlc::lowering;

namespace {

/// An all-parallel generic over same-shaped `inputs` with `numResults`
/// results of the type of `like`.
SmallVector<Value> buildUpdate(OpBuilder &b, Location loc, Value like,
                               ValueRange inputs, unsigned numResults,
                               GenericBodyFn body) {
  auto type = cast<RankedTensorType>(like.getType());
  int64_t rank = type.getRank();
  SmallVector<Value> inits;
  for (unsigned i = 0; i < numResults; ++i)
    inits.push_back(
        createEmpty(b, loc, type.getShape(), type.getElementType()));
  SmallVector<AffineMap> maps(inputs.size() + numResults,
                              b.getMultiDimIdentityMap(rank));
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  return buildGeneric(b, loc, inputs, inits, maps, iterators,
                      [&](OpBuilder &nb, Location l, ValueRange args) {
                        return body(nb, l, args.take_front(inputs.size()));
                      });
}

/// g + weight_decay * param, or g when weight_decay is 0.
Value withWeightDecay(OpBuilder &b, Location loc, Value g, Value param,
                      double weightDecay) {
  if (weightDecay == 0.0)
    return g;
  return arith::AddFOp::create(
      b, loc, g,
      arith::MulFOp::create(b, loc, f32Constant(b, loc, weightDecay), param));
}

struct SgdUpdateLowering : OpConversionPattern<SgdUpdateOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SgdUpdateOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    double momentum = op.getMomentum().convertToDouble();
    double weightDecay = op.getWeightDecay().convertToDouble();
    bool nesterov = op.getNesterov();
    Value lr = adaptor.getLearningRate();
    Value param = adaptor.getParam();

    if (momentum == 0.0) {
      // The velocity is unused and returned unchanged.
      Value newParam =
          buildUpdate(
              rewriter, loc, param, ValueRange{param, adaptor.getGrad()}, 1,
              [&](OpBuilder &b, Location l,
                  ValueRange args) -> SmallVector<Value> {
                Value g = withWeightDecay(b, l, args[1], args[0], weightDecay);
                return {arith::SubFOp::create(
                    b, l, args[0], arith::MulFOp::create(b, l, lr, g))};
              })
              .front();
      rewriter.replaceOp(op, {newParam, adaptor.getVelocity()});
      return success();
    }

    // The gradient's factor in the velocity: 1 - dampening, but 1 on the
    // first step (the buffer starts from the undamped gradient).
    double dampening = op.getDampening().convertToDouble();
    Value damped;
    if (dampening != 0.0) {
      Value first = arith::CmpIOp::create(
          rewriter, loc, arith::CmpIPredicate::sle, adaptor.getStep(),
          arith::ConstantOp::create(rewriter, loc,
                                    rewriter.getI64IntegerAttr(1)));
      damped = arith::SelectOp::create(
          rewriter, loc, first, f32Constant(rewriter, loc, 1.0),
          f32Constant(rewriter, loc, 1.0 - dampening));
    }

    SmallVector<Value> results = buildUpdate(
        rewriter, loc, param,
        ValueRange{param, adaptor.getGrad(), adaptor.getVelocity()}, 2,
        [&](OpBuilder &b, Location l, ValueRange args) -> SmallVector<Value> {
          Value mu = f32Constant(b, l, momentum);
          Value g = withWeightDecay(b, l, args[1], args[0], weightDecay);
          Value v = arith::AddFOp::create(
              b, l, arith::MulFOp::create(b, l, mu, args[2]),
              damped ? arith::MulFOp::create(b, l, damped, g).getResult() : g);
          Value direction =
              nesterov ? arith::AddFOp::create(
                             b, l, g, arith::MulFOp::create(b, l, mu, v))
                             .getResult()
                       : v;
          Value p = arith::SubFOp::create(
              b, l, args[0], arith::MulFOp::create(b, l, lr, direction));
          return {p, v};
        });
    rewriter.replaceOp(op, results);
    return success();
  }
};

struct AdamUpdateLowering : OpConversionPattern<AdamUpdateOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(AdamUpdateOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    double beta1 = op.getBeta1().convertToDouble();
    double beta2 = op.getBeta2().convertToDouble();
    double epsilon = op.getEpsilon().convertToDouble();
    double weightDecay = op.getWeightDecay().convertToDouble();
    bool decoupled = op.getDecoupledWeightDecay();
    Value lr = adaptor.getLearningRate();

    // Scalars: the bias corrections 1 - beta^t (1 for a step below 1),
    // step_size = lr / (1 - beta1^t), root = sqrt(1 - beta2^t); with
    // epsilon_hat the root moves into the step size.
    bool epsilonHat = op.getEpsilonHat();
    Value t = arith::SIToFPOp::create(rewriter, loc, rewriter.getF32Type(),
                                      adaptor.getStep());
    Value one = f32Constant(rewriter, loc, 1.0);
    Value uncorrected = arith::CmpIOp::create(
        rewriter, loc, arith::CmpIPredicate::slt, adaptor.getStep(),
        arith::ConstantOp::create(rewriter, loc,
                                  rewriter.getI64IntegerAttr(1)));
    auto correction = [&](double beta) -> Value {
      Value power = math::PowFOp::create(rewriter, loc,
                                         f32Constant(rewriter, loc, beta), t);
      Value c = arith::SubFOp::create(rewriter, loc, one, power);
      return arith::SelectOp::create(rewriter, loc, uncorrected, one, c);
    };
    Value stepSize =
        arith::DivFOp::create(rewriter, loc, lr, correction(beta1));
    Value root = math::SqrtOp::create(rewriter, loc, correction(beta2));
    if (epsilonHat)
      stepSize = arith::MulFOp::create(rewriter, loc, stepSize, root);
    double postDecay = op.getPostDecay().convertToDouble();
    // AdamW: param * (1 - lr * weight_decay).
    Value decay = decoupled && weightDecay != 0.0
                      ? arith::SubFOp::create(
                            rewriter, loc, one,
                            arith::MulFOp::create(
                                rewriter, loc, lr,
                                f32Constant(rewriter, loc, weightDecay)))
                            .getResult()
                      : Value();

    Value param = adaptor.getParam();
    SmallVector<Value> results = buildUpdate(
        rewriter, loc, param,
        ValueRange{param, adaptor.getGrad(), adaptor.getM(), adaptor.getV()}, 3,
        [&](OpBuilder &b, Location l, ValueRange args) -> SmallVector<Value> {
          Value p = args[0];
          Value g = decoupled ? args[1]
                              : withWeightDecay(b, l, args[1], p, weightDecay);
          Value b1 = f32Constant(b, l, beta1), b2 = f32Constant(b, l, beta2);
          Value m = arith::AddFOp::create(
              b, l, arith::MulFOp::create(b, l, b1, args[2]),
              arith::MulFOp::create(b, l, f32Constant(b, l, 1.0 - beta1), g));
          Value v = arith::AddFOp::create(
              b, l, arith::MulFOp::create(b, l, b2, args[3]),
              arith::MulFOp::create(b, l, f32Constant(b, l, 1.0 - beta2),
                                    arith::MulFOp::create(b, l, g, g)));
          Value sqrtV = math::SqrtOp::create(b, l, v);
          Value denominator = arith::AddFOp::create(
              b, l,
              epsilonHat ? sqrtV
                         : arith::DivFOp::create(b, l, sqrtV, root).getResult(),
              f32Constant(b, l, epsilon));
          if (decay)
            p = arith::MulFOp::create(b, l, p, decay);
          Value update = arith::DivFOp::create(
              b, l, arith::MulFOp::create(b, l, stepSize, m), denominator);
          Value newP = arith::SubFOp::create(b, l, p, update);
          if (postDecay != 0.0)
            newP = arith::MulFOp::create(
                b, l, f32Constant(b, l, 1.0 - postDecay), newP);
          return {newP, m, v};
        });
    rewriter.replaceOp(op, results);
    return success();
  }
};

} // namespace

void mlir::dlc::populateOptimizerToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<AdamUpdateLowering, SgdUpdateLowering>(patterns.getContext());
}
