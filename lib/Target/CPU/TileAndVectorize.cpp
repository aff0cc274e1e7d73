//===- TileAndVectorize.cpp - Register tiling for x86 SIMD ----------------===//
//
// The CPU schedule of the compute-heavy linalg ops, written with the C++
// tiling and vectorization APIs (the same building blocks as the transform
// dialect's tile_using_for / decompose / vectorize_children_and_apply_patterns)
// so that tile sizes can be computed from each op's static shape.
//
// The target is one x86 core: with AVX2, 16 ymm registers of 8 floats (with
// AVX-512, 32 zmm of 16; the pass options carry the numbers). A tile keeps
// W x F outputs in registers (F a multiple of the lanes when the shape allows
// it) and streams the reduction (filter rows and input channels) through
// them, so that each broadcast input value feeds F / lanes FMAs and each
// filter vector W of them.
// Every tile size divides its loop range: partial tiles would be dynamic and
// the vectorizer would leave them scalar.
//
//===----------------------------------------------------------------------===//

#include "dlc/Target/CPU/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/IR/Dominance.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/TypeSwitch.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_CPUTILEANDVECTORIZEPASS
#include "dlc/Target/CPU/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;
using namespace mlir::dlc;

namespace {

/// Set by the lowering of fused ops (see lib/Conversion/DLCToLinalg/Fused.cpp)
/// on a reduction that belongs in its producer's epilogue.
constexpr llvm::StringLiteral kEpilogueAttr = "dlc.epilogue";
/// Marks the consumers fused into tile loops, to be vectorized with them.
constexpr llvm::StringLiteral kVectorizeAttr = "dlc.vectorize";
/// Marks tile loops whose iterations write disjoint tiles and reduce
/// nothing across tiles; dlc-cpu-parallelize may run them on every core.
constexpr llvm::StringLiteral kParallelAttr = "dlc.parallel";

/// The largest divisor of `extent` that is at most `cap` (at least 1).
int64_t largestDivisorAtMost(int64_t extent, int64_t cap) {
  for (int64_t d = std::min(extent, std::max<int64_t>(cap, 1)); d > 1; --d)
    if (extent % d == 0)
      return d;
  return 1;
}

/// The tile of a dimension that becomes the vector lanes: the largest
/// multiple of the register width that divides `extent` and is at most
/// `cap`, or else the largest divisor at most `cap`.
int64_t laneTile(int64_t extent, int64_t cap, int64_t lanes) {
  for (int64_t d = cap - cap % lanes; d >= lanes; d -= lanes)
    if (extent % d == 0)
      return d;
  return largestDivisorAtMost(extent, cap);
}

/// Registers that a vector of `elements` floats occupies.
int64_t registersOf(int64_t elements, int64_t lanes) {
  return (elements + lanes - 1) / lanes;
}

/// The reduction block of a matmul's schedule (see chooseTileSizes).
constexpr int64_t kMatmulReductionBlock = 512;

/// Whether `matmul` is the default (row-major, untransposed) form, the
/// only one the schedule tiles.
bool isDefaultMatmul(linalg::MatmulOp matmul) {
  return matmul.getIndexingMaps().empty() ||
         matmul.getIndexingMapsArray() ==
             matmul.getDefaultIndexingMaps(matmul->getContext());
}

/// One level of tiling: its tile sizes (0 leaves a loop untiled), and
/// whether the producer of the accumulator's initial value (the zero fill
/// or bias broadcast) is computed per tile rather than in a separate pass
/// over the whole output.
struct TileSizes {
  TileSizes(std::initializer_list<int64_t> sizes, bool fuseInit = false)
      : sizes(sizes), fuseInit(fuseInit) {}
  explicit TileSizes(ArrayRef<int64_t> sizes, bool fuseInit = false)
      : sizes(sizes), fuseInit(fuseInit) {}
  SmallVector<int64_t> sizes;
  bool fuseInit;
  /// The loops' order, outermost first, as dimensions of the op (empty:
  /// the dimensions' order).
  SmallVector<int64_t> interchange;

  /// The dimensions that get a loop, outermost first.
  SmallVector<int64_t> loopDims() const {
    SmallVector<int64_t> order = interchange;
    if (order.empty())
      order = llvm::to_vector(llvm::seq<int64_t>(0, sizes.size()));
    return llvm::filter_to_vector(order,
                                  [&](int64_t dim) { return sizes[dim] != 0; });
  }
};

/// Which loop dimensions of `op` are parallel iterators.
SmallVector<bool> parallelDims(linalg::LinalgOp op) {
  return llvm::map_to_vector(op.getIteratorTypesArray(),
                             [](utils::IteratorType type) {
                               return type == utils::IteratorType::parallel;
                             });
}

/// Whether every user of `transpose` is a convolution that reads it as an
/// input: once the convolution's tiles are vectorized, their reads fold
/// into reads of the transpose's input (FoldTransposeIntoTransferRead), and
/// the transpose is never materialized. The filter gradient's operands are
/// such transposes (NHWC -> CHWN of the padded input, -> HWNF of the output
/// gradient). A tile step reads one sample ("input channel") of each, so the
/// original layout costs no more lines per step than the transposed one,
/// and the copies themselves were ~15% of resnet_small's step (~10 GB/s).
bool isReadInPlace(linalg::TransposeOp transpose) {
  Value result = transpose->getResult(0);
  return !result.use_empty() &&
         llvm::all_of(result.getUses(), [](OpOperand &use) {
           auto conv = dyn_cast<linalg::Conv2DNhwcHwcfOp>(use.getOwner());
           return conv && conv.isDpsInput(&use);
         });
}

/// vector.transfer_read of a transpose's result as a read of its input:
/// result index r_i is input index s_{p[i]}, so the indices move to their
/// input dimensions and the permutation map composes with s -> (s_{p[i]}).
struct FoldTransposeIntoTransferRead
    : OpRewritePattern<vector::TransferReadOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(vector::TransferReadOp read,
                                PatternRewriter &rewriter) const override {
    auto transpose = read.getBase().getDefiningOp<linalg::TransposeOp>();
    if (!transpose || !transpose.hasPureTensorSemantics() || read.getMask())
      return failure();
    ArrayRef<int64_t> permutation = transpose.getPermutation();
    SmallVector<Value> indices(permutation.size());
    SmallVector<AffineExpr> resultDims;
    for (auto [dim, inputDim] : llvm::enumerate(permutation)) {
      indices[inputDim] = read.getIndices()[dim];
      resultDims.push_back(rewriter.getAffineDimExpr(inputDim));
    }
    AffineMap toResult = AffineMap::get(permutation.size(), 0, resultDims,
                                        rewriter.getContext());
    rewriter.replaceOpWithNewOp<vector::TransferReadOp>(
        read, read.getVectorType(), transpose.getInput(), indices,
        AffineMapAttr::get(read.getPermutationMap().compose(toResult)),
        read.getPadding(), /*mask=*/Value(), read.getInBoundsAttr());
    return success();
  }
};

/// The tiling levels of `op`, outermost first (the last one is the register
/// tile, vectorized whole), or nothing when the op is not scheduled here.
std::optional<SmallVector<TileSizes>>
chooseTileSizes(linalg::LinalgOp op, int64_t lanes, int64_t accumulators) {
  SmallVector<int64_t> range = op.getStaticLoopRanges();
  if (ShapedType::isDynamicShape(range))
    return std::nullopt;
  // A strip of output pixels times a lane tile of channels, at most
  // `accumulators` registers.
  auto stripOf = [&](int64_t pixels, int64_t channelTile) {
    return largestDivisorAtMost(pixels,
                                accumulators / registersOf(channelTile, lanes));
  };
  using Sizes = std::optional<SmallVector<TileSizes>>;
  return llvm::TypeSwitch<Operation *, Sizes>(op)
      .Case([&](linalg::Conv2DNhwcHwcfOp) -> Sizes {
        // (n, oh, ow, f, kh, kw, c)
        int64_t f = laneTile(range[3], 4 * lanes, lanes);
        // The output tile (with its initial value) first, then the
        // reduction over filter rows and input channels, one channel per
        // step. A step reads its filter slice (kw x c x f) as one vector
        // before its FMAs, and LLVM keeps the loads where they are: with 8
        // channels that was 96 zmm beside 24 accumulators, about one spill
        // or reload per FMA (cnn_bn's conv2d_1 forward: 8.8 -> 6.4 ms,
        // 155 -> 213 GFLOP/s on 2 cores; its input gradient 9.3 -> 8.5
        // ms). One channel is 3 x f, and the loop over the channels costs
        // three instructions per 3 x w x f / lanes FMAs.
        int64_t w = stripOf(range[2], f);
        // A filter gradient computed as a convolution (conv2d_grad_filter)
        // has a "filter" (the output gradient) far larger than its output
        // and than the L2 cache: streaming that filter once per output tile
        // would read it from memory hundreds of times. There the reduction
        // goes outermost, so that each slice of the filter updates every
        // output tile while it is in cache.
        int64_t filterSize = range[3] * range[4] * range[5] * range[6];
        int64_t outputSize = range[0] * range[1] * range[2] * range[3];
        constexpr int64_t kCacheFloats = int64_t(1) << 18; // 1 MiB
        // Within an output tile, the filter row (kw: the output
        // gradient's width, tens of positions) goes 3 positions and one
        // sample at a time, for the same reason as above: a whole row at
        // once is one vector op per position and channel, far more values
        // than registers, which LLVM then spills; 3 x 8 was still 96 zmm
        // of output gradient per step (cnn_bn's conv2d_1 filter gradient,
        // with the accumulators kept in registers by
        // dlc-cpu-lower-vectors: 9.1 -> 7.0 ms, 150 -> 194 GFLOP/s).
        //
        // Its output row is short (the filter width, 3), so with few
        // output channels (16: two registers) a strip of one row fills
        // half the accumulators and each FMA needs almost one load;
        // several rows of the "batch" dimension (the layer's input
        // channels) fill the rest, each broadcast input value then
        // feeding as many FMAs and each output-gradient vector as many
        // rows.
        int64_t rows = largestDivisorAtMost(
            range[0], accumulators / (w * registersOf(f, lanes)));
        //
        // Each block of the reduction is one parallel region (its output
        // tiles shared among the threads): blocks of 32 samples rather
        // than 8 enter a quarter as many regions (resnet_small's first
        // stage: 128 of ~80 us instead of 512 of ~20 us), the block's
        // output-gradient slice (one row x 32 samples x the channels)
        // still well inside L2.
        int64_t block = largestDivisorAtMost(range[6], 32);
        if (filterSize > outputSize && filterSize > kCacheFloats) {
          TileSizes step{0, 0, 0, 0, 0, largestDivisorAtMost(range[5], 3), 1};
          step.interchange = {0, 1, 2, 3, 4, 6, 5};
          return SmallVector<TileSizes>{
              {{0, 0, 0, 0, 1, 0, block}}, {{rows, 1, w, f, 0, 0, 0}}, step};
        }
        return SmallVector<TileSizes>{
            {{1, 1, w, f, 0, 0, 0}, /*fuseInit=*/true},
            {{0, 0, 0, 0, 1, 0, 1}}};
      })
      .Case<linalg::DepthwiseConv2DNhwcHwcOp, linalg::PoolingNhwcMaxOp,
            linalg::PoolingNhwcSumOp>([&](auto) -> Sizes {
        // (n, oh, ow, c, kh, kw)
        int64_t c = laneTile(range[3], 4 * lanes, lanes);
        int64_t w = stripOf(range[2], c);
        return SmallVector<TileSizes>{{{1, 1, w, c, 0, 0}, /*fuseInit=*/true},
                                      {{0, 0, 0, 0, 1, 0}}};
      })
      .Case([&](linalg::MatmulOp matmul) -> Sizes {
        // Only the default (row-major, untransposed) matmul.
        if (!isDefaultMatmul(matmul))
          return std::nullopt;
        // (m, n, k). First a block of the reduction, so that the rows of A
        // and the panel of B it touches stay in L2 while every register tile
        // of the output passes over them (without it, B is streamed from
        // memory once per row strip); then the register tile.
        int64_t n = laneTile(range[1], 2 * lanes, lanes);
        int64_t kBlock = largestDivisorAtMost(range[2], kMatmulReductionBlock);
        int64_t k = largestDivisorAtMost(kBlock, 8);
        SmallVector<TileSizes> levels;
        if (kBlock < range[2])
          levels.push_back({0, 0, kBlock});
        levels.push_back({{stripOf(range[0], n), n, 0}, /*fuseInit=*/true});
        levels.push_back({0, 0, k});
        return levels;
      })
      .Case([&](linalg::TransposeOp transpose) -> Sizes {
        // A transpose that moves the innermost dimension reads or writes
        // with a stride on every element; in blocks of 16 x 16 (the two
        // innermost dimensions of the input and the output) both sides
        // stay within a few cache lines and pages. Each block is then one
        // vector transpose (16 row loads, register shuffles, 16 row
        // stores): as scalar loops, a block moved about one float per
        // nanosecond (resnet_small's filter-gradient transposes: 25 ms of
        // a 200 ms step).
        if (isReadInPlace(transpose))
          return std::nullopt;
        ArrayRef<int64_t> permutation = transpose.getPermutation();
        int64_t rank = permutation.size();
        int64_t fromInner = llvm::find(permutation, rank - 1) -
                            permutation.begin(); // output dim of input's last
        if (fromInner == rank - 1)
          return std::nullopt;
        SmallVector<int64_t> sizes(rank, 1);
        sizes[fromInner] = largestDivisorAtMost(range[fromInner], 16);
        sizes[rank - 1] = largestDivisorAtMost(range[rank - 1], 16);
        // The blocks' loops outermost, then the other dimensions in order:
        // consecutive blocks are then neighbours on both sides (the next
        // pixel of the same 16 rows), within the pages and prefetch streams
        // of the block before. With the blocks' loop innermost, each block
        // read 16 rows and wrote 16 rows on 32 pages the previous block had
        // not touched (an NHWC -> CHWN transpose of a filter gradient ran
        // at 4-5 GB/s).
        TileSizes level{ArrayRef<int64_t>(sizes)};
        level.interchange = {fromInner, rank - 1};
        for (int64_t d = 0; d < rank; ++d)
          if (d != fromInner && d != rank - 1)
            level.interchange.push_back(d);
        return SmallVector<TileSizes>{level};
      })
      .Default([](Operation *) -> Sizes { return std::nullopt; });
}

/// Whether `generic`'s body is float arithmetic only, which vectorizes to
/// n-D vector ops that the LLVM conversion unrolls. (Integer ops such as
/// dropout's counter-based generator, or linalg.index, keep a generic its
/// own pass.)
bool hasFloatBody(linalg::GenericOp generic) {
  return llvm::all_of(
      generic.getBody()->without_terminator(), [](Operation &op) {
        return isa<arith::AddFOp, arith::SubFOp, arith::MulFOp, arith::DivFOp,
                   arith::NegFOp, arith::MaximumFOp, arith::MinimumFOp,
                   arith::CmpFOp, arith::SelectOp, arith::ExtFOp,
                   arith::TruncFOp, arith::ConstantOp>(op) ||
               isa<math::MathDialect>(op.getDialect());
      });
}

/// A matmul whose reduction is blocked (K > 512) completes an output tile
/// only in the last block, too late for an epilogue inside the tile loops.
/// When an elementwise op reads it (dense + bias + activation), it becomes
/// two matmuls along K: the leading blocks, then the last block, which
/// accumulates onto the first's result and whose tile loops then hold the
/// activation.
void splitLastReductionBlock(RewriterBase &rewriter, linalg::MatmulOp matmul) {
  SmallVector<int64_t> range = matmul.getStaticLoopRanges();
  if (ShapedType::isDynamicShape(range) || !isDefaultMatmul(matmul) ||
      matmul.getNumResults() != 1 ||
      !llvm::any_of(matmul->getUsers(), [](Operation *user) {
        auto generic = dyn_cast<linalg::GenericOp>(user);
        return generic && generic.getNumReductionLoops() == 0 &&
               hasFloatBody(generic);
      }))
    return;
  int64_t m = range[0], n = range[1], k = range[2];
  int64_t block = largestDivisorAtMost(k, kMatmulReductionBlock);
  if (block == k)
    return;
  Location loc = matmul.getLoc();
  Value a = matmul.getDpsInputs()[0], b = matmul.getDpsInputs()[1];
  rewriter.setInsertionPoint(matmul);
  auto slice = [&](Value source, int64_t row, int64_t col, int64_t rows,
                   int64_t cols) -> Value {
    return tensor::ExtractSliceOp::create(
        rewriter, loc, source,
        getAsIndexOpFoldResult(rewriter.getContext(), {row, col}),
        getAsIndexOpFoldResult(rewriter.getContext(), {rows, cols}),
        getAsIndexOpFoldResult(rewriter.getContext(), {1, 1}));
  };
  int64_t lead = k - block;
  Value partial = linalg::MatmulOp::create(rewriter, loc,
                                           ValueRange{slice(a, 0, 0, m, lead),
                                                      slice(b, 0, 0, lead, n)},
                                           ValueRange{matmul.getDpsInits()[0]})
                      .getResult(0);
  auto last = linalg::MatmulOp::create(
      rewriter, loc,
      ValueRange{slice(a, 0, lead, m, block), slice(b, lead, 0, block, n)},
      ValueRange{partial});
  rewriter.replaceOp(matmul, last->getResults());
}

/// One tiled level: the tiled op and the loops around it, outermost first.
struct TiledLevel {
  Operation *op;
  SmallVector<LoopLikeOpInterface> loops;
};

/// Tiles `op` by `level` and returns the tiled op (inside the new loops).
FailureOr<TiledLevel> tileLevel(RewriterBase &rewriter, Operation *op,
                                const TileSizes &level) {
  MLIRContext *ctx = op->getContext();
  rewriter.setInsertionPoint(op);
  scf::SCFTilingOptions options;
  options.setTileSizes(getAsIndexOpFoldResult(ctx, level.sizes));
  if (!level.interchange.empty())
    options.setInterchange(level.interchange);
  if (!level.fuseInit) {
    FailureOr<scf::SCFTilingResult> tiled =
        scf::tileUsingSCF(rewriter, cast<TilingInterface>(op), options);
    if (failed(tiled) || tiled->tiledOps.size() != 1)
      return failure();
    rewriter.replaceOp(op, tiled->replacements);
    return TiledLevel{tiled->tiledOps.front(), tiled->loops};
  }

  // Fuse only the fill/broadcast that initializes the accumulator: it then
  // writes one register tile at a time, right before the tile is reduced.
  scf::SCFTileAndFuseOptions fuse;
  fuse.setTilingOptions(options);
  fuse.setFusionControlFn(
      [](tensor::ExtractSliceOp, OpResult producer, bool isDestination)
          -> std::optional<scf::SCFTileAndFuseOptions::ControlFnResult> {
        if (isDestination &&
            isa<linalg::FillOp, linalg::BroadcastOp>(producer.getOwner()))
          return scf::SCFTileAndFuseOptions::ControlFnResult{};
        return std::nullopt;
      });
  FailureOr<scf::SCFTileAndFuseResult> tiled =
      scf::tileConsumerAndFuseProducersUsingSCF(
          rewriter, cast<TilingInterface>(op), fuse);
  if (failed(tiled))
    return failure();
  Operation *tiledOp = nullptr;
  for (Operation *candidate : tiled->tiledAndFusedOps)
    if (candidate->getName() == op->getName())
      tiledOp = candidate;
  if (!tiledOp)
    return failure();
  for (OpResult result : op->getResults())
    rewriter.replaceAllUsesWith(result, tiled->replacements.lookup(result));
  rewriter.eraseOp(op);
  return TiledLevel{tiledOp, tiled->loops};
}

/// Whether `value` is available before `op`, or is made of ops that can be
/// moved there: the empty tensors, constants and fills that initialize a
/// consumer's outputs are usually created right before it.
bool canHoistAbove(Value value, Operation *op, DominanceInfo &dominance) {
  if (dominance.properlyDominates(value, op))
    return true;
  Operation *def = value.getDefiningOp();
  if (!isa_and_nonnull<tensor::EmptyOp, arith::ConstantOp, linalg::FillOp>(def))
    return false;
  return llvm::all_of(def->getOperands(), [&](Value operand) {
    return canHoistAbove(operand, op, dominance);
  });
}

/// Moves what canHoistAbove accepted before `op`.
void hoistAbove(Value value, Operation *op, DominanceInfo &dominance) {
  if (dominance.properlyDominates(value, op))
    return;
  Operation *def = value.getDefiningOp();
  for (Value operand : def->getOperands())
    hoistAbove(operand, op, dominance);
  def->moveBefore(op);
}

/// Whether `consumer`, a user of `result` (the value computed by the tile
/// loops whose outermost loop is `outermost`), can run in the loops'
/// epilogue: on each output tile right after it is complete, while it is
/// in cache, instead of in another pass over the whole tensor. It must be a
/// linalg.generic that reads `result` elementwise (identity map, so its
/// iteration space is the output's) and whose other operands exist before
/// the loops. Elementwise consumers (bias, activation) always qualify;
/// reductions (batch-norm statistics) only where the lowering of a fused
/// op asked for it with the `dlc.epilogue` attribute: their accumulators
/// then follow the tiles' order. An elementwise consumer that streams
/// other tensors of the output's size through memory (an optimizer update:
/// the parameter and its moments in, three results out) stays a pass of
/// its own: in the tiles it reads and writes six arrays a few rows at a
/// time, and cnn_bn's dense weight gradient took 3.7 ms fused against 1.0
/// ms plus 0.8 ms for the update as its own contiguous pass.
bool isEpilogue(Operation *user, Value result, Operation *outermost,
                DominanceInfo &dominance) {
  auto consumer = dyn_cast<linalg::GenericOp>(user);
  if (!consumer || !consumer.hasPureTensorSemantics())
    return false;
  if (consumer.getNumReductionLoops() > 0 && !consumer->hasAttr(kEpilogueAttr))
    return false;
  if (!hasFloatBody(consumer))
    return false;
  if (consumer.getNumReductionLoops() == 0) {
    auto resultType = cast<ShapedType>(result.getType());
    int64_t fullSizeOthers = 0;
    for (Value input : consumer.getDpsInputs()) {
      auto type = dyn_cast<ShapedType>(input.getType());
      fullSizeOthers += input != result && type &&
                        type.getNumElements() == resultType.getNumElements();
    }
    if (consumer->getNumResults() > 1 || fullSizeOthers > 1)
      return false;
  }
  bool readsResult = false;
  for (OpOperand &operand : consumer->getOpOperands()) {
    if (operand.get() == result) {
      if (consumer.isDpsInit(&operand) ||
          !consumer.getMatchingIndexingMap(&operand).isIdentity())
        return false;
      readsResult = true;
      continue;
    }
    if (!canHoistAbove(operand.get(), outermost, dominance))
      return false;
  }
  return readsResult;
}

/// Fuses the epilogue consumers (isEpilogue) of the results of `tiled`'s
/// loops into them; returns the tiled consumers.
SmallVector<Operation *> fuseEpilogues(RewriterBase &rewriter,
                                       TiledLevel &tiled) {
  SmallVector<Operation *> fused;
  if (tiled.loops.empty())
    return fused;
  Operation *outermost = tiled.loops.front();
  DominanceInfo dominance(outermost->getParentOp());
  SmallVector<Operation *> candidates;
  for (Value result : outermost->getResults())
    for (Operation *user : result.getUsers())
      if (isEpilogue(user, result, outermost, dominance) &&
          !llvm::is_contained(candidates, user))
        candidates.push_back(user);
  for (Operation *consumer : candidates) {
    for (Value operand : consumer->getOperands())
      if (!llvm::is_contained(outermost->getResults(), operand))
        hoistAbove(operand, outermost, dominance);
    FailureOr<scf::SCFFuseConsumerOfSliceResult> result =
        scf::tileAndFuseConsumer(rewriter, consumer, tiled.loops);
    // A consumer that cannot be fused runs as its own pass: slower, still
    // correct.
    if (failed(result))
      continue;
    llvm::append_range(fused, result->tiledOps);
    // Its results now come out of the loops; the original is dead.
    if (consumer->use_empty())
      rewriter.eraseOp(consumer);
  }
  return fused;
}

/// When the only fused epilogue of `tiled` is one elementwise op and
/// nothing else reads the tiled op's own result, the output tile becomes a
/// temporary inside the consumer's output: the tiled op accumulates
/// directly in the consumer's tile, which the consumer then overwrites in
/// place. The intermediate tensor (a convolution's output before its
/// activation) is then never stored; the canonicalizer drops the loops'
/// now pass-through iter_args.
void reuseConsumerTile(RewriterBase &rewriter, TiledLevel &tiled,
                       ArrayRef<Operation *> consumers) {
  if (consumers.size() != 1 || tiled.loops.empty())
    return;
  auto consumer = dyn_cast<linalg::GenericOp>(consumers.front());
  auto producer = dyn_cast<DestinationStyleOpInterface>(tiled.op);
  auto innermost = dyn_cast<scf::ForOp>(tiled.loops.back().getOperation());
  if (!consumer || !producer || !innermost ||
      consumer.getNumReductionLoops() != 0 || consumer.getNumDpsInits() != 1 ||
      producer.getNumDpsInits() != 1 || tiled.op->getNumResults() != 1)
    return;
  // The consumer's payload must not read its output (elementwise maps).
  OpOperand *consumerInit = consumer.getDpsInitOperand(0);
  if (consumer.payloadUsesValueFromOperand(consumerInit) ||
      !consumer.getMatchingIndexingMap(consumerInit).isIdentity())
    return;
  Value tile = tiled.op->getResult(0);
  if (consumerInit->get().getType() != tile.getType() ||
      !llvm::is_contained(consumer->getOperands(), tile))
    return;
  // The producer's result must be yielded only to the loops' result that
  // nobody reads, through an insert_slice into its own iter_arg. (Consumer
  // fusion may leave a dead copy of that insert_slice behind.)
  for (Operation &op : llvm::make_early_inc_range(
           llvm::reverse(innermost.getBody()->getOperations())))
    if (isOpTriviallyDead(&op))
      rewriter.eraseOp(&op);
  auto yield = cast<scf::YieldOp>(innermost.getBody()->getTerminator());
  int64_t index = -1;
  for (OpOperand &operand : yield->getOpOperands()) {
    auto insert = operand.get().getDefiningOp<tensor::InsertSliceOp>();
    if (insert && insert.getSource() == tile)
      index = operand.getOperandNumber();
  }
  if (index < 0 || !tiled.loops.front()->getResult(index).use_empty() ||
      !tile.hasNUses(2))
    return;
  // The producer's destination: a slice of that iter_arg, which the fused
  // fill or broadcast of its initial value overwrites. (A producer that
  // accumulates onto what the iter_arg holds, such as the last block of a
  // split matmul, needs those values: it keeps its own output.)
  Value dest = producer.getDpsInitOperand(0)->get();
  Operation *destOwner = dest.getDefiningOp();
  if (!isa_and_nonnull<linalg::FillOp, linalg::BroadcastOp>(destOwner))
    return;
  dest =
      cast<DestinationStyleOpInterface>(destOwner).getDpsInitOperand(0)->get();
  Value iterArg = innermost.getRegionIterArgs()[index];
  auto slice = dest.getDefiningOp<tensor::ExtractSliceOp>();
  auto consumerSlice =
      consumerInit->get().getDefiningOp<tensor::ExtractSliceOp>();
  if (!slice || slice.getSource() != iterArg || !consumerSlice ||
      consumerSlice.getMixedOffsets() != slice.getMixedOffsets() ||
      !dest.hasOneUse())
    return;

  // The same slice of the consumer's output, where the producer's was.
  rewriter.setInsertionPoint(slice);
  Value target = tensor::ExtractSliceOp::create(
      rewriter, slice.getLoc(), slice.getType(), consumerSlice.getSource(),
      slice.getMixedOffsets(), slice.getMixedSizes(), slice.getMixedStrides());
  rewriter.modifyOpInPlace(destOwner, [&] {
    cast<DestinationStyleOpInterface>(destOwner).getDpsInitOperand(0)->set(
        target);
  });
  rewriter.modifyOpInPlace(consumer, [&] { consumerInit->set(tile); });
  rewriter.modifyOpInPlace(yield, [&] { yield->setOperand(index, iterArg); });
}

/// The ops the schedule produces and vectorizes: 1-D windows after the
/// decomposition, the matmul tiles, and the fused initial values.
bool isScheduledTile(Operation *op) {
  if (op->hasAttr(kVectorizeAttr))
    return true;
  return isa<linalg::Conv1DNwcWcfOp, linalg::DepthwiseConv1DNwcWcOp,
             linalg::PoolingNwcMaxOp, linalg::PoolingNwcSumOp, linalg::MatmulOp,
             linalg::FillOp, linalg::BroadcastOp, linalg::TransposeOp>(op) &&
         op->getParentOfType<scf::ForOp>();
}

struct CPUTileAndVectorizePass
    : mlir::dlc::impl::CPUTileAndVectorizePassBase<CPUTileAndVectorizePass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    MLIRContext *ctx = &getContext();
    IRRewriter rewriter(ctx);

    // 0. Matmuls with an epilogue and a blocked reduction: the last block
    //    apart (splitLastReductionBlock).
    if (fuseEpilogue) {
      SmallVector<linalg::MatmulOp> matmuls;
      func.walk([&](linalg::MatmulOp op) {
        if (op.hasPureTensorSemantics())
          matmuls.push_back(op);
      });
      for (linalg::MatmulOp op : matmuls)
        splitLastReductionBlock(rewriter, op);
    }

    // 1. Tile every scheduled op with loops (n, oh, ow, f | kh, c) around a
    //    register-sized tile.
    SmallVector<std::pair<linalg::LinalgOp, SmallVector<TileSizes>>> work;
    func.walk([&](linalg::LinalgOp op) {
      if (!op.hasPureTensorSemantics())
        return;
      if (auto levels = chooseTileSizes(op, vectorLanes, accumulatorRegisters))
        work.emplace_back(op, std::move(*levels));
    });
    for (auto &[op, levels] : work) {
      Operation *current = op;
      for (const TileSizes &level : levels) {
        // The tiled dimensions, one loop each, outermost first (a tile as
        // large as its dimension too); a loop may run its
        // iterations on every core when its dimension is parallel in the
        // op and in every reduction fused into its epilogue.
        auto linalgOp = cast<linalg::LinalgOp>(current);
        SmallVector<int64_t> loopDims = level.loopDims();
        SmallVector<bool> parallel = parallelDims(linalgOp);
        FailureOr<TiledLevel> tiled = tileLevel(rewriter, current, level);
        // An op that cannot be tiled stays as it is: slower, still correct.
        if (failed(tiled))
          break;
        current = tiled->op;
        // The output-tile level (the one that owns the accumulator's
        // initial value) is where a tile is complete: its epilogue.
        if (level.fuseInit && fuseEpilogue) {
          SmallVector<Operation *> consumers = fuseEpilogues(rewriter, *tiled);
          for (Operation *consumer : consumers) {
            consumer->setAttr(kVectorizeAttr, rewriter.getUnitAttr());
            // A fused reduction (batch-norm statistics) accumulates across
            // the tiles of its reduction dimensions in their order.
            SmallVector<bool> consumerParallel =
                parallelDims(cast<linalg::LinalgOp>(consumer));
            for (auto [dim, isParallel] : llvm::enumerate(parallel))
              isParallel = isParallel && dim < consumerParallel.size() &&
                           consumerParallel[dim];
          }
          reuseConsumerTile(rewriter, *tiled, consumers);
        }
        if (tiled->loops.size() == loopDims.size())
          for (auto [loop, dim] : llvm::zip(tiled->loops, loopDims))
            if (parallel[dim])
              loop->setAttr(kParallelAttr, rewriter.getUnitAttr());
      }
    }

    // 2. Windows of one row are 1-D windows: conv_2d -> conv_1d, etc.
    {
      RewritePatternSet patterns(ctx);
      linalg::populateDecomposeConvolutionPatterns(patterns);
      if (failed(applyPatternsGreedily(func, std::move(patterns))))
        return signalPassFailure();
    }

    // 3. Vectorize the tiles (static shapes by construction).
    SmallVector<Operation *> tiles;
    func.walk([&](Operation *op) {
      if (isScheduledTile(op))
        tiles.push_back(op);
    });
    for (Operation *op : tiles) {
      op->removeAttr(kVectorizeAttr);
      rewriter.setInsertionPoint(op);
      FailureOr<linalg::VectorizationResult> vectorized =
          linalg::vectorize(rewriter, op);
      if (failed(vectorized))
        continue;
      rewriter.replaceOp(op, vectorized->replacements);
    }

    // 4. Fold the slices into the transfers and simplify, as
    //    transform.structured.vectorize_children_and_apply_patterns does.
    RewritePatternSet patterns(ctx);
    vector::populateVectorTransferPermutationMapLoweringPatterns(patterns);
    vector::populateVectorReductionToContractPatterns(patterns);
    vector::populateSinkVectorOpsPatterns(patterns);
    vector::TransferReadOp::getCanonicalizationPatterns(patterns, ctx);
    vector::TransferWriteOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::populateFoldTensorSubsetIntoVectorTransferPatterns(patterns);
    patterns.add<FoldTransposeIntoTransferRead>(ctx);
    if (failed(applyPatternsGreedily(func, std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
