//===- LoweringUtils.cpp - Builders shared by the dlc lowerings -----------===//
//
// Everything here builds value-semantics IR (tensor, linalg, arith) for
// statically shaped tensors; the callers have verified shapes already.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <limits>

using namespace mlir;
using namespace mlir::dlc;
using namespace mlir::dlc::lowering;

Value lowering::f32Constant(OpBuilder &b, Location loc, double value) {
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(value));
}

Value lowering::indexConstant(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

Value lowering::createEmpty(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                            Type elementType) {
  return tensor::EmptyOp::create(b, loc, shape, elementType);
}

Value lowering::createFilled(OpBuilder &b, Location loc,
                             ArrayRef<int64_t> shape, Value value) {
  Value empty = createEmpty(b, loc, shape, value.getType());
  return linalg::FillOp::create(b, loc, ValueRange{value}, ValueRange{empty})
      .getResult(0);
}

Value lowering::createFilledF32(OpBuilder &b, Location loc,
                                ArrayRef<int64_t> shape, double value) {
  return createFilled(b, loc, shape, f32Constant(b, loc, value));
}

Value lowering::broadcastChannels(OpBuilder &b, Location loc, Value bias,
                                  ArrayRef<int64_t> shape) {
  Value empty = createEmpty(
      b, loc, shape, cast<RankedTensorType>(bias.getType()).getElementType());
  SmallVector<int64_t> added =
      llvm::to_vector(llvm::seq<int64_t>(0, shape.size() - 1));
  return linalg::BroadcastOp::create(b, loc, bias, empty, added)->getResult(0);
}

Value lowering::padSpatial(OpBuilder &b, Location loc, Value input,
                           ArrayRef<int64_t> pads, double padValue) {
  if (llvm::all_of(pads, [](int64_t p) { return p == 0; }))
    return input;
  auto type = cast<RankedTensorType>(input.getType());
  SmallVector<int64_t> shape(type.getShape());
  shape[1] += pads[0] + pads[1];
  shape[2] += pads[2] + pads[3];
  SmallVector<OpFoldResult> low = {b.getIndexAttr(0), b.getIndexAttr(pads[0]),
                                   b.getIndexAttr(pads[2]), b.getIndexAttr(0)};
  SmallVector<OpFoldResult> high = {b.getIndexAttr(0), b.getIndexAttr(pads[1]),
                                    b.getIndexAttr(pads[3]), b.getIndexAttr(0)};
  return tensor::PadOp::create(
      b, loc, RankedTensorType::get(shape, type.getElementType()), input, low,
      high, f32Constant(b, loc, padValue));
}

Value lowering::reshapeTo(OpBuilder &b, Location loc, Value value,
                          ArrayRef<int64_t> shape,
                          ArrayRef<ReassociationIndices> reassociation) {
  auto type = cast<RankedTensorType>(value.getType());
  auto resultType = RankedTensorType::get(shape, type.getElementType());
  if (resultType.getRank() > type.getRank())
    return tensor::ExpandShapeOp::create(b, loc, resultType, value,
                                         reassociation);
  return tensor::CollapseShapeOp::create(b, loc, resultType, value,
                                         reassociation);
}

Value lowering::windowValidCount(OpBuilder &b, Location loc, Value outIndex,
                                 int64_t stride, int64_t padBefore,
                                 int64_t kernel, int64_t size) {
  Value start = arith::SubIOp::create(
      b, loc,
      arith::MulIOp::create(b, loc, outIndex, indexConstant(b, loc, stride)),
      indexConstant(b, loc, padBefore));
  Value end = arith::MinSIOp::create(
      b, loc,
      arith::AddIOp::create(b, loc, start, indexConstant(b, loc, kernel)),
      indexConstant(b, loc, size));
  Value clippedStart =
      arith::MaxSIOp::create(b, loc, start, indexConstant(b, loc, 0));
  return arith::SubIOp::create(b, loc, end, clippedStart);
}

SmallVector<Value>
lowering::buildGeneric(OpBuilder &b, Location loc, ValueRange inputs,
                       ValueRange outputs, ArrayRef<AffineMap> maps,
                       ArrayRef<utils::IteratorType> iterators,
                       GenericBodyFn body) {
  auto generic = linalg::GenericOp::create(
      b, loc, outputs.getTypes(), inputs, outputs, maps, iterators,
      [&](OpBuilder &nested, Location nestedLoc, ValueRange args) {
        linalg::YieldOp::create(nested, nestedLoc,
                                body(nested, nestedLoc, args));
      });
  return SmallVector<Value>(generic.getResults());
}

Value lowering::buildElementwise(OpBuilder &b, Location loc,
                                 ArrayRef<int64_t> resultShape,
                                 Type resultElementType, ValueRange inputs,
                                 GenericBodyFn body) {
  MLIRContext *ctx = b.getContext();
  unsigned rank = resultShape.size();
  SmallVector<AffineMap> maps;
  for (Value input : inputs) {
    int64_t inputRank = cast<RankedTensorType>(input.getType()).getRank();
    if (inputRank == rank)
      maps.push_back(b.getMultiDimIdentityMap(rank));
    else if (inputRank == 1)
      maps.push_back(AffineMap::get(rank, 0, getAffineDimExpr(rank - 1, ctx)));
    else
      maps.push_back(AffineMap::get(rank, 0, ctx));
  }
  maps.push_back(b.getMultiDimIdentityMap(rank));
  Value init = createEmpty(b, loc, resultShape, resultElementType);
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  return buildGeneric(b, loc, inputs, init, maps, iterators,
                      [&](OpBuilder &nb, Location nl, ValueRange args) {
                        return body(nb, nl, args.drop_back());
                      })
      .front();
}

Value lowering::buildReduction(OpBuilder &b, Location loc, Value input,
                               ArrayRef<bool> reduced, Value init,
                               GenericBodyFn body) {
  MLIRContext *ctx = b.getContext();
  auto type = cast<RankedTensorType>(input.getType());
  unsigned rank = type.getRank();
  SmallVector<int64_t> keptShape;
  SmallVector<AffineExpr> keptExprs;
  SmallVector<utils::IteratorType> iterators;
  for (unsigned d = 0; d < rank; ++d) {
    iterators.push_back(reduced[d] ? utils::IteratorType::reduction
                                   : utils::IteratorType::parallel);
    if (reduced[d])
      continue;
    keptShape.push_back(type.getDimSize(d));
    keptExprs.push_back(getAffineDimExpr(d, ctx));
  }
  Value acc = createFilled(b, loc, keptShape, init);
  AffineMap maps[] = {b.getMultiDimIdentityMap(rank),
                      AffineMap::get(rank, 0, keptExprs, ctx)};
  return buildGeneric(b, loc, input, acc, maps, iterators, body).front();
}

SmallVector<Value> lowering::buildChannelReduction(OpBuilder &b, Location loc,
                                                   ValueRange inputs,
                                                   ValueRange outputs,
                                                   GenericBodyFn body) {
  MLIRContext *ctx = b.getContext();
  int64_t rank = cast<RankedTensorType>(inputs.front().getType()).getRank();
  AffineMap full = b.getMultiDimIdentityMap(rank);
  AffineMap channel = AffineMap::get(rank, 0, getAffineDimExpr(rank - 1, ctx));
  SmallVector<AffineMap> maps;
  for (Value input : inputs)
    maps.push_back(cast<RankedTensorType>(input.getType()).getRank() == rank
                       ? full
                       : channel);
  maps.append(outputs.size(), channel);
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::reduction);
  iterators.back() = utils::IteratorType::parallel;
  return buildGeneric(b, loc, inputs, outputs, maps, iterators, body);
}

SmallVector<Value> lowering::buildChannelMap(OpBuilder &b, Location loc,
                                             ValueRange inputs,
                                             int64_t channels,
                                             ArrayRef<Type> outputTypes,
                                             GenericBodyFn body) {
  SmallVector<Value> outputs;
  for (Type type : outputTypes)
    outputs.push_back(createEmpty(b, loc, {channels}, type));
  SmallVector<AffineMap> maps(inputs.size() + outputs.size(),
                              b.getMultiDimIdentityMap(1));
  return buildGeneric(b, loc, inputs, outputs, maps,
                      {utils::IteratorType::parallel}, body);
}

Value lowering::f64Constant(OpBuilder &b, Location loc, double value) {
  return arith::ConstantOp::create(b, loc, b.getF64FloatAttr(value));
}

Value lowering::sumPerChannel(OpBuilder &b, Location loc, Value input) {
  int64_t rank = cast<RankedTensorType>(input.getType()).getRank();
  SmallVector<bool> reduced(rank, true);
  reduced.back() = false;
  return buildReduction(
      b, loc, input, reduced, f32Constant(b, loc, 0.0),
      [](OpBuilder &nb, Location nl, ValueRange args) -> SmallVector<Value> {
        return {arith::AddFOp::create(nb, nl, args[0], args[1])};
      });
}

Value lowering::sumAll(OpBuilder &b, Location loc, Value input) {
  int64_t rank = cast<RankedTensorType>(input.getType()).getRank();
  SmallVector<bool> reduced(rank, true);
  Type elementType = cast<RankedTensorType>(input.getType()).getElementType();
  Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(elementType));
  return buildReduction(
      b, loc, input, reduced, zero,
      [&](OpBuilder &nb, Location nl, ValueRange args) -> SmallVector<Value> {
        if (isa<FloatType>(elementType))
          return {arith::AddFOp::create(nb, nl, args[0], args[1])};
        return {arith::AddIOp::create(nb, nl, args[0], args[1])};
      });
}

Value lowering::buildScalarMap(OpBuilder &b, Location loc,
                               Type resultElementType, ValueRange inputs,
                               GenericBodyFn body) {
  return buildElementwise(b, loc, {}, resultElementType, inputs, body);
}

Value mlir::dlc::lowering::maxOver(OpBuilder &b, Location loc, Value input,
                                   ArrayRef<bool> reduced) {
  return buildReduction(
      b, loc, input, reduced,
      f32Constant(b, loc, -std::numeric_limits<double>::infinity()),
      [](OpBuilder &nb, Location l, ValueRange args) -> SmallVector<Value> {
        return {arith::MaximumFOp::create(nb, l, args[0], args[1])};
      });
}

Value mlir::dlc::lowering::divideScalar(OpBuilder &b, Location loc,
                                        Value scalar, double count) {
  return buildScalarMap(
      b, loc, b.getF32Type(), scalar,
      [&](OpBuilder &nb, Location l, ValueRange args) -> SmallVector<Value> {
        return {
            arith::DivFOp::create(nb, l, args[0], f32Constant(nb, l, count))};
      });
}

//===----------------------------------------------------------------------===//
// Philox4x32-10
//===----------------------------------------------------------------------===//

std::array<Value, 4> lowering::buildPhilox4x32(OpBuilder &b, Location loc,
                                               std::array<Value, 4> counter,
                                               std::array<Value, 2> key) {
  // Constants of the Random123 reference implementation.
  auto i32 = [&](uint32_t v) -> Value {
    return arith::ConstantOp::create(
        b, loc, b.getI32IntegerAttr(static_cast<int32_t>(v)));
  };
  Value m0 = i32(0xD2511F53), m1 = i32(0xCD9E8D57);
  Value w0 = i32(0x9E3779B9), w1 = i32(0xBB67AE85);
  std::array<Value, 4> c = counter;
  std::array<Value, 2> k = key;
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      // The key schedule: a Weyl sequence, bumped between rounds.
      k[0] = arith::AddIOp::create(b, loc, k[0], w0);
      k[1] = arith::AddIOp::create(b, loc, k[1], w1);
    }
    auto p0 = arith::MulUIExtendedOp::create(b, loc, m0, c[0]);
    auto p1 = arith::MulUIExtendedOp::create(b, loc, m1, c[2]);
    Value x0 = arith::XOrIOp::create(
        b, loc, arith::XOrIOp::create(b, loc, p1.getHigh(), c[1]), k[0]);
    Value x2 = arith::XOrIOp::create(
        b, loc, arith::XOrIOp::create(b, loc, p0.getHigh(), c[3]), k[1]);
    c = {x0, p1.getLow(), x2, p0.getLow()};
  }
  return c;
}

/// Splits an i64 into its (low, high) i32 halves.
static std::array<Value, 2> splitI64(OpBuilder &b, Location loc, Value v) {
  Type i32 = b.getI32Type();
  Value shift = arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(32));
  Value high = arith::ShRUIOp::create(b, loc, v, shift);
  return {arith::TruncIOp::create(b, loc, i32, v),
          arith::TruncIOp::create(b, loc, i32, high)};
}

std::array<Value, 4> lowering::buildDraw(OpBuilder &b, Location loc, Value key,
                                         int64_t stream, Value index) {
  Value index64 = arith::IndexCastUIOp::create(b, loc, b.getI64Type(), index);
  std::array<Value, 2> idx = splitI64(b, loc, index64);
  std::array<Value, 2> str = splitI64(
      b, loc, arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(stream)));
  return buildPhilox4x32(b, loc, {idx[0], idx[1], str[0], str[1]},
                         splitI64(b, loc, key));
}

Value lowering::buildUniform(OpBuilder &b, Location loc, Value word) {
  // 24 random bits convert exactly to f32, so u < 1 always holds.
  Value eight = arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(8));
  Value bits = arith::ShRUIOp::create(b, loc, word, eight);
  Value asFloat = arith::UIToFPOp::create(b, loc, b.getF32Type(), bits);
  return arith::MulFOp::create(b, loc, asFloat,
                               f32Constant(b, loc, 1.0 / (1 << 24)));
}

int64_t lowering::getReductionChunk(Operation *op) {
  auto fn = op->getParentOfType<func::FuncOp>();
  if (!fn)
    return 0;
  auto chunk = fn->getAttrOfType<IntegerAttr>("dlc.reduction_chunk");
  return chunk ? chunk.getInt() : 0;
}

Value lowering::sliceBatch(OpBuilder &b, Location loc, Value value,
                           int64_t offset, int64_t size) {
  auto type = cast<RankedTensorType>(value.getType());
  if (offset == 0 && size == type.getDimSize(0))
    return value;
  SmallVector<OpFoldResult> offsets(type.getRank(), b.getIndexAttr(0));
  SmallVector<OpFoldResult> sizes, strides(type.getRank(), b.getIndexAttr(1));
  offsets[0] = b.getIndexAttr(offset);
  for (int64_t d = 0, e = type.getRank(); d < e; ++d)
    sizes.push_back(b.getIndexAttr(d == 0 ? size : type.getDimSize(d)));
  return tensor::ExtractSliceOp::create(b, loc, value, offsets, sizes, strides);
}

SmallVector<SmallVector<Value>> lowering::mapBatchChunks(
    OpBuilder &b, Location loc, ValueRange batched, int64_t chunk,
    llvm::function_ref<SmallVector<Value>(ValueRange)> partial) {
  int64_t batch =
      cast<RankedTensorType>(batched.front().getType()).getDimSize(0);
  if (chunk <= 0)
    chunk = batch;
  SmallVector<SmallVector<Value>> results;
  for (int64_t offset = 0; offset < batch; offset += chunk) {
    int64_t size = std::min(chunk, batch - offset);
    SmallVector<Value> slices;
    for (Value value : batched)
      slices.push_back(sliceBatch(b, loc, value, offset, size));
    results.push_back(partial(slices));
  }
  return results;
}

Value lowering::treeSum(OpBuilder &b, Location loc, ArrayRef<Value> parts) {
  auto add = [&](Value lhs, Value rhs) {
    auto type = cast<RankedTensorType>(lhs.getType());
    return buildElementwise(
        b, loc, type.getShape(), type.getElementType(), ValueRange{lhs, rhs},
        [](OpBuilder &nb, Location l, ValueRange args) -> SmallVector<Value> {
          return {arith::AddFOp::create(nb, l, args[0], args[1])};
        });
  };
  if (parts.size() % 2 == 0 && !parts.empty()) {
    size_t half = parts.size() / 2;
    if (half == 1)
      return add(parts[0], parts[1]);
    return add(treeSum(b, loc, parts.take_front(half)),
               treeSum(b, loc, parts.drop_front(half)));
  }
  Value sum = parts.front();
  for (Value part : parts.drop_front())
    sum = add(sum, part);
  return sum;
}

SmallVector<Value>
lowering::treeSumChunks(OpBuilder &b, Location loc,
                        ArrayRef<SmallVector<Value>> chunks) {
  SmallVector<Value> sums;
  for (size_t i = 0, e = chunks.front().size(); i < e; ++i)
    sums.push_back(treeSum(
        b, loc,
        llvm::map_to_vector(chunks, [&](const SmallVector<Value> &results) {
          return results[i];
        })));
  return sums;
}
