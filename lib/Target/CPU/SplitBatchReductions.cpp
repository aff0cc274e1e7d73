//===- SplitBatchReductions.cpp - Reductions over the batch, per sample ---===//
//
// A reduction whose outermost dimension is the batch (batch-norm
// statistics, their gradients, bias gradients over many pixels) runs as
// one sequential loop nest: no thread may take a share of the batch
// without racing on the accumulators. Splitting it gives one partial
// result per sample, computed in parallel, then a small pass that combines
// the partials in sample order. Both steps do the same arithmetic in the
// same order whatever the number of threads, so results stay bit-identical
// across --threads (unlike atomics or per-thread partials).
//
//===----------------------------------------------------------------------===//

#include "dlc/Target/CPU/Passes.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_CPUSPLITBATCHREDUCTIONSPASS
#include "dlc/Target/CPU/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;
using namespace mlir::dlc;

namespace {

/// Set on the combining generic so that it is not split again.
constexpr llvm::StringLiteral kCombineAttr = "dlc.combine";

/// How an output accumulates: out = combiner(out, x), with x independent
/// of every output.
struct Accumulation {
  Operation *combiner;
  TypedAttr identity;
};

/// Whether `value` is computed without reading any of `outputs`.
bool independentOf(Value value, ArrayRef<BlockArgument> outputs, Block *body) {
  SmallVector<Value> work{value};
  llvm::DenseSet<Value> seen;
  while (!work.empty()) {
    Value v = work.pop_back_val();
    if (!seen.insert(v).second)
      continue;
    if (auto arg = dyn_cast<BlockArgument>(v)) {
      if (llvm::is_contained(outputs, arg))
        return false;
      continue;
    }
    Operation *def = v.getDefiningOp();
    if (def->getBlock() != body)
      continue;
    llvm::append_range(work, def->getOperands());
  }
  return true;
}

/// The accumulations of `generic`'s outputs, or nothing when one of them
/// is not an add/max/min of its own output and an independent value.
std::optional<SmallVector<Accumulation>>
getAccumulations(linalg::GenericOp generic) {
  Block *body = generic.getBody();
  auto yield = cast<linalg::YieldOp>(body->getTerminator());
  SmallVector<BlockArgument> outputs;
  for (OpOperand &init : generic.getDpsInitsMutable())
    outputs.push_back(generic.getMatchingBlockArgument(&init));
  SmallVector<Accumulation> result;
  for (auto [index, out] : llvm::enumerate(outputs)) {
    Operation *combiner = yield.getOperand(index).getDefiningOp();
    if (!combiner || combiner->getBlock() != body || !out.hasOneUse() ||
        *out.getUsers().begin() != combiner || combiner->getNumOperands() != 2)
      return std::nullopt;
    Value other = combiner->getOperand(0) == out ? combiner->getOperand(1)
                                                 : combiner->getOperand(0);
    if (!independentOf(other, outputs, body))
      return std::nullopt;
    Type type = out.getType();
    auto floatType = dyn_cast<FloatType>(type);
    TypedAttr identity;
    if (isa<arith::AddFOp>(combiner) && floatType)
      identity = FloatAttr::get(floatType, 0.0);
    else if (isa<arith::AddIOp>(combiner) && type.isInteger())
      identity = IntegerAttr::get(type, 0);
    else if (isa<arith::MaximumFOp>(combiner) && floatType)
      identity = FloatAttr::get(
          floatType, APFloat::getInf(floatType.getFloatSemantics(), true));
    else if (isa<arith::MinimumFOp>(combiner) && floatType)
      identity = FloatAttr::get(
          floatType, APFloat::getInf(floatType.getFloatSemantics(), false));
    else
      return std::nullopt;
    result.push_back({combiner, identity});
  }
  return result;
}

/// Splits `generic` (see the file comment) when it qualifies.
void splitBatchReduction(RewriterBase &rewriter, linalg::GenericOp generic,
                         int64_t minWork, int64_t maxPartialElements) {
  if (!generic.hasPureTensorSemantics() || generic->hasAttr(kCombineAttr) ||
      generic.getNumLoops() < 2 ||
      generic.getIteratorTypesArray().front() != utils::IteratorType::reduction)
    return;
  // With the batch as its only reduction, the per-sample partials would be
  // a copy of the input: nothing to gain.
  if (generic.getNumReductionLoops() < 2)
    return;
  SmallVector<int64_t> range = generic.getStaticLoopRanges();
  if (ShapedType::isDynamicShape(range) || range.front() < 2)
    return;
  int64_t work = 1;
  for (int64_t extent : range)
    work *= extent;
  if (work < minWork)
    return;
  std::optional<SmallVector<Accumulation>> accumulations =
      getAccumulations(generic);
  if (!accumulations)
    return;
  // One combining generic for all outputs: they must have one shape, as
  // reductions of one iteration space over the same dimensions do.
  int64_t batch = range.front();
  auto firstType =
      cast<RankedTensorType>(generic.getDpsInits().front().getType());
  for (OpOperand &init : generic.getDpsInitsMutable()) {
    auto type = cast<RankedTensorType>(init.get().getType());
    if (!type.hasStaticShape() || type.getShape() != firstType.getShape() ||
        !generic.getMatchingIndexingMap(&init).isProjectedPermutation() ||
        batch * type.getNumElements() > maxPartialElements)
      return;
  }

  MLIRContext *ctx = generic.getContext();
  Location loc = generic.getLoc();
  rewriter.setInsertionPoint(generic);
  AffineExpr batchDim = getAffineDimExpr(0, ctx);

  // 1. Per-sample partials: the batch dimension becomes parallel and a
  //    leading dimension of every output, which starts at the identity.
  SmallVector<Value> partialInits;
  SmallVector<AffineMap> maps;
  for (OpOperand *input : generic.getDpsInputOperands())
    maps.push_back(generic.getMatchingIndexingMap(input));
  for (auto [init, accumulation] :
       llvm::zip(generic.getDpsInitsMutable(), *accumulations)) {
    auto type = cast<RankedTensorType>(init.get().getType());
    SmallVector<int64_t> shape{batch};
    llvm::append_range(shape, type.getShape());
    Value empty =
        tensor::EmptyOp::create(rewriter, loc, shape, type.getElementType());
    Value identity =
        arith::ConstantOp::create(rewriter, loc, accumulation.identity);
    partialInits.push_back(
        linalg::FillOp::create(rewriter, loc, identity, empty).getResult(0));
    AffineMap map = generic.getMatchingIndexingMap(&init);
    SmallVector<AffineExpr> results{batchDim};
    llvm::append_range(results, map.getResults());
    maps.push_back(AffineMap::get(map.getNumDims(), 0, results, ctx));
  }
  SmallVector<utils::IteratorType> iterators = generic.getIteratorTypesArray();
  iterators.front() = utils::IteratorType::parallel;
  auto partial = linalg::GenericOp::create(
      rewriter, loc, ValueRange(partialInits).getTypes(),
      generic.getDpsInputs(), partialInits, maps, iterators);
  partial->setDiscardableAttrs(generic->getDiscardableAttrDictionary());
  rewriter.inlineRegionBefore(generic.getRegion(), partial.getRegion(),
                              partial.getRegion().begin());

  // 2. The partials combined into the original outputs, in sample order.
  SmallVector<AffineMap> combineMaps;
  SmallVector<utils::IteratorType> combineIterators;
  int64_t outRank = firstType.getRank();
  combineIterators.push_back(utils::IteratorType::reduction);
  combineIterators.append(outRank, utils::IteratorType::parallel);
  AffineMap partialMap = AffineMap::getMultiDimIdentityMap(outRank + 1, ctx);
  AffineMap outMap = AffineMap::get(
      outRank + 1, 0,
      llvm::map_to_vector(llvm::seq<unsigned>(1, outRank + 1),
                          [&](unsigned d) { return getAffineDimExpr(d, ctx); }),
      ctx);
  for (size_t i = 0, e = partialInits.size(); i < e; ++i)
    combineMaps.push_back(partialMap);
  for (size_t i = 0, e = partialInits.size(); i < e; ++i)
    combineMaps.push_back(outMap);
  SmallVector<Operation *> combiners = llvm::map_to_vector(
      *accumulations, [](const Accumulation &a) { return a.combiner; });
  auto combine = linalg::GenericOp::create(
      rewriter, loc, generic.getResultTypes(), partial.getResults(),
      generic.getDpsInits(), combineMaps, combineIterators,
      [&](OpBuilder &b, Location loc, ValueRange args) {
        SmallVector<Value> results;
        for (auto [index, combiner] : llvm::enumerate(combiners)) {
          Value in = args[index];
          Value out = args[combiners.size() + index];
          OperationState state(loc, combiner->getName());
          state.addOperands({out, in});
          state.addTypes(out.getType());
          state.addAttributes(combiner->getAttrs());
          results.push_back(b.create(state)->getResult(0));
        }
        linalg::YieldOp::create(b, loc, results);
      });
  combine->setAttr(kCombineAttr, rewriter.getUnitAttr());
  rewriter.replaceOp(generic, combine.getResults());
}

struct CPUSplitBatchReductionsPass
    : mlir::dlc::impl::CPUSplitBatchReductionsPassBase<
          CPUSplitBatchReductionsPass> {
  using Base::Base;

  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    SmallVector<linalg::GenericOp> generics;
    getOperation().walk(
        [&](linalg::GenericOp generic) { generics.push_back(generic); });
    for (linalg::GenericOp generic : generics)
      splitBatchReduction(rewriter, generic, minWork, maxPartialElements);
  }
};

} // namespace
