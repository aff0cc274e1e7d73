//===- FormKernels.cpp - One gpu.launch per linalg op ---------------------===//
//
// dlc-cuda-form-kernels: the simple, correct mapping of a bufferized step
// function onto the GPU. Every linalg op becomes one kernel: its parallel
// dimensions (moved first) are linearized over blocks x threads, innermost
// fastest, and each thread runs the op's reduction loops for its output
// element on its own, in order (deterministic, no atomics). Scalar
// computations the kernels use are cloned into them, so that the host code
// only allocates, takes views and launches.
//
//===----------------------------------------------------------------------===//

#include "dlc/Target/CUDA/Passes.h"
#include "dlc/Target/CUDA/TensorCores.h"

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Linalg/Utils/Utils.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "mlir/Transforms/CSE.h"
#include "mlir/Transforms/LoopInvariantCodeMotionUtils.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_CUDAFORMKERNELSPASS
#include "dlc/Target/CUDA/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;
using namespace mlir::dlc;

namespace {

/// Rewrites `op` so that its parallel dimensions come first (generic ops are
/// interchanged, named ops generalized first when needed). Returns the op
/// to lower and the number of leading parallel dimensions.
FailureOr<std::pair<linalg::LinalgOp, unsigned>>
parallelDimsFirst(RewriterBase &rewriter, linalg::LinalgOp op) {
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  SmallVector<unsigned> parallel, reduction;
  for (auto [i, it] : llvm::enumerate(iterators))
    (it == utils::IteratorType::parallel ? parallel : reduction).push_back(i);
  unsigned numParallel = parallel.size();
  bool prefix = llvm::all_of(llvm::seq<unsigned>(0, numParallel), [&](auto i) {
    return iterators[i] == utils::IteratorType::parallel;
  });
  if (prefix)
    return std::make_pair(op, numParallel);
  auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
  if (!generic) {
    rewriter.setInsertionPoint(op);
    FailureOr<linalg::GenericOp> generalized =
        linalg::generalizeNamedOp(rewriter, op);
    if (failed(generalized))
      return op->emitOpError("cannot be generalized for the GPU mapping");
    generic = *generalized;
  }
  SmallVector<unsigned> permutation(parallel);
  permutation.append(reduction);
  FailureOr<linalg::GenericOp> interchanged =
      linalg::interchangeGenericOp(rewriter, generic, permutation);
  if (failed(interchanged))
    return generic->emitOpError("cannot be interchanged for the GPU mapping");
  return std::make_pair(cast<linalg::LinalgOp>(interchanged->getOperation()),
                        numParallel);
}

/// Keeps the accumulators of a thread's reduction loops in registers: the
/// loops from linalgOpToLoops load and store the output element in global
/// memory on every iteration (a long dependent chain, and LLVM cannot
/// prove that nothing else writes it). Each output accessed only at the
/// thread's own, loop-invariant element is read once into a private
/// scalar before the loops and written back after them.
void accumulateInRegisters(RewriterBase &rewriter, scf::IfOp guard,
                           ValueRange outputs) {
  scf::ForOp root;
  for (Operation &op : *guard.thenBlock()) {
    if (auto loop = dyn_cast<scf::ForOp>(op)) {
      if (root)
        return; // Not one loop nest.
      root = loop;
    }
  }
  if (!root)
    return;
  // The element's indices are computed in the innermost loop; hoisted and
  // merged, they are visibly the same values outside the nest.
  root->walk([](scf::ForOp loop) { moveLoopInvariantCode(loop); });
  DominanceInfo dominance;
  eliminateCommonSubExpressions(rewriter, dominance, guard);
  Location loc = root.getLoc();
  for (Value output : outputs) {
    SmallVector<memref::LoadOp> loads;
    SmallVector<memref::StoreOp> stores;
    std::optional<SmallVector<Value>> indices;
    bool promotable = true;
    auto sameIndices = [&](ValueRange these) {
      if (!indices)
        indices.emplace(these.begin(), these.end());
      return llvm::equal(*indices, these);
    };
    for (OpOperand &use : output.getUses()) {
      Operation *user = use.getOwner();
      if (!root->isAncestor(user))
        continue;
      if (auto load = dyn_cast<memref::LoadOp>(user)) {
        promotable &= sameIndices(load.getIndices());
        loads.push_back(load);
      } else if (auto store = dyn_cast<memref::StoreOp>(user);
                 store && store.getMemRef() == output) {
        promotable &= sameIndices(store.getIndices());
        stores.push_back(store);
      } else {
        promotable = false;
      }
    }
    if (!promotable || stores.empty() || llvm::any_of(*indices, [&](Value v) {
          return root->isAncestor(v.getParentBlock()->getParentOp());
        }))
      continue;
    auto type = cast<MemRefType>(output.getType());
    rewriter.setInsertionPoint(root);
    Value accumulator = memref::AllocaOp::create(
        rewriter, loc, MemRefType::get({}, type.getElementType()));
    Value initial = memref::LoadOp::create(rewriter, loc, output, *indices);
    memref::StoreOp::create(rewriter, loc, initial, accumulator);
    // replaceOpWithNewOp builds at the rewriter's insertion point.
    for (memref::LoadOp load : loads) {
      rewriter.setInsertionPoint(load);
      rewriter.replaceOpWithNewOp<memref::LoadOp>(load, accumulator,
                                                  ValueRange{});
    }
    for (memref::StoreOp store : stores) {
      rewriter.setInsertionPoint(store);
      rewriter.replaceOpWithNewOp<memref::StoreOp>(
          store, store.getValueToStore(), accumulator, ValueRange{});
    }
    rewriter.setInsertionPointAfter(root);
    Value final = memref::LoadOp::create(rewriter, loc, accumulator);
    memref::StoreOp::create(rewriter, loc, final, output, *indices);
  }
}

/// A split reduction: an op with few outputs and a long reduction (batch-
/// norm statistics, a filter gradient, a bias gradient) would run in as
/// many threads as it has outputs, each looping over the whole batch. Its
/// leading reduction loops are cut into chunks instead: one thread per
/// (chunk, output) writes a partial result into a temporary, and a second
/// kernel combines the partials of each output in order, starting from
/// the output's initial value. Each partial is one thread's sequential
/// loop and the combine order is fixed: deterministic, no atomics.
/// An elementwise consumer run by the threads of the kernel before it:
/// loop d of `op` is the point's dimension `pointDims[d]`.
struct Epilogue {
  linalg::LinalgOp op;
  SmallVector<unsigned> pointDims;
};

struct SplitPlan {
  /// The split reduction loops (positions among the op's loops) with their
  /// number of chunks and chunk length, outermost first.
  SmallVector<unsigned> loops;
  SmallVector<int64_t> counts, chunks;
  /// The number of partials per output, the product of `counts`.
  int64_t partials = 1;
  /// Per output, the combining op of the body and the value it adds to the
  /// output (matchReduction), and the combiner's neutral element.
  SmallVector<Operation *> combiners;
  SmallVector<Value> reduced;
  SmallVector<TypedAttr> neutral;
};

/// Whether and how to split `op` (parallel dimensions first): when its
/// outputs would fill fewer than half of `targetThreads` threads and every
/// output is a plain reduction (out = out (+) f(inputs), with a neutral
/// element) indexed by all the parallel dimensions. Chunks keep at least
/// `minIterations` iterations per thread.
std::optional<SplitPlan> planSplit(linalg::LinalgOp op, unsigned numParallel,
                                   int64_t targetThreads,
                                   int64_t minIterations) {
  if (targetThreads <= 0 || numParallel == op.getNumLoops())
    return std::nullopt;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (llvm::any_of(ranges, ShapedType::isDynamic))
    return std::nullopt;
  int64_t outputs = 1, iterations = 1;
  for (auto [d, range] : llvm::enumerate(ranges))
    (d < numParallel ? outputs : iterations) *= range;
  if (2 * outputs > targetThreads || op->getNumRegions() != 1)
    return std::nullopt;

  SplitPlan plan;
  Block &body = op->getRegion(0).front();
  SmallVector<BlockArgument> carried(
      body.getArguments().take_back(op.getNumDpsInits()));
  AffineMap outputMap;
  for (OpOperand &init : op.getDpsInitsMutable()) {
    AffineMap map = op.getMatchingIndexingMap(&init);
    // Indexed by exactly the parallel dimensions (one output element per
    // point), all outputs alike (one combine kernel), not also an input.
    if (map.getNumResults() != numParallel || !map.isProjectedPermutation() ||
        llvm::any_of(map.getResults(),
                     [&](AffineExpr e) {
                       return cast<AffineDimExpr>(e).getPosition() >=
                              numParallel;
                     }) ||
        (outputMap && map != outputMap) ||
        llvm::is_contained(op.getDpsInputs(), init.get()))
      return std::nullopt;
    outputMap = map;
    SmallVector<Operation *> combiners;
    Value reduced = matchReduction(
        carried, init.getOperandNumber() - op.getNumDpsInputs(), combiners);
    if (!reduced || combiners.size() != 1 ||
        combiners.front()->getNumOperands() != 2)
      return std::nullopt;
    std::optional<TypedAttr> neutral =
        arith::getNeutralElement(combiners.front());
    if (!neutral)
      return std::nullopt;
    plan.combiners.push_back(combiners.front());
    plan.reduced.push_back(reduced);
    plan.neutral.push_back(*neutral);
  }

  // Outer loops first, rounded down so that neither the thread count nor
  // the per-thread work overshoots.
  int64_t wanted = std::min(targetThreads / outputs,
                            iterations / std::max<int64_t>(1, minIterations));
  for (unsigned d = numParallel; d < ranges.size(); ++d) {
    int64_t count = std::min(ranges[d], wanted / plan.partials);
    if (count < 2)
      break;
    int64_t chunk = (ranges[d] + count - 1) / count;
    count = (ranges[d] + chunk - 1) / chunk;
    plan.loops.push_back(d);
    plan.counts.push_back(count);
    plan.chunks.push_back(chunk);
    plan.partials *= count;
    if (count < ranges[d])
      break; // Inner loops split only under a whole outer one.
  }
  if (plan.partials < 2)
    return std::nullopt;
  return plan;
}

/// The kernel that combines the partials `partials[i]` (one more, leading
/// dimension) into `op`'s outputs, in order, with `plan`'s combiners; built
/// after `op` as a linalg.generic (its own kernel, no split).
linalg::GenericOp buildCombine(RewriterBase &rewriter, linalg::LinalgOp op,
                               const SplitPlan &plan, ValueRange partials) {
  MLIRContext *ctx = op.getContext();
  SmallVector<Value> outputs(op.getDpsInits());
  unsigned rank = cast<MemRefType>(outputs.front().getType()).getRank();
  SmallVector<AffineExpr> partialResults = {getAffineDimExpr(rank, ctx)};
  for (unsigned d = 0; d < rank; ++d)
    partialResults.push_back(getAffineDimExpr(d, ctx));
  AffineMap partialMap = AffineMap::get(rank + 1, 0, partialResults, ctx);
  AffineMap outputMap =
      AffineMap::get(rank + 1, 0, ArrayRef(partialResults).drop_front(), ctx);
  SmallVector<AffineMap> maps(partials.size(), partialMap);
  maps.append(outputs.size(), outputMap);
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  iterators.push_back(utils::IteratorType::reduction);
  Block &body = op->getRegion(0).front();
  unsigned firstOutput = body.getNumArguments() - outputs.size();
  rewriter.setInsertionPointAfter(op);
  return linalg::GenericOp::create(
      rewriter, op.getLoc(), TypeRange{}, partials, outputs, maps, iterators,
      [&](OpBuilder &b, Location loc, ValueRange args) {
        SmallVector<Value> results;
        for (auto [i, combiner] : llvm::enumerate(plan.combiners)) {
          IRMapping mapping;
          mapping.map(body.getArgument(firstOutput + i),
                      args[partials.size() + i]);
          mapping.map(plan.reduced[i], args[i]);
          results.push_back(b.clone(*combiner, mapping)->getResult(0));
        }
        linalg::YieldOp::create(b, loc, results);
      });
}

/// Replaces `op` by a gpu.launch whose threads each run the op's loops for
/// one point of its first `numParallel` dimensions.
///
/// With a `split`, the threads are (partial, point) pairs, the point
/// fastest: the split loops run over the thread's chunk only, and the
/// outputs are the thread's slices of `partials` (filled with the neutral
/// element first). `suffix` goes to the kernel's name.
LogicalResult formKernel(RewriterBase &rewriter, linalg::LinalgOp op,
                         unsigned numParallel, int64_t blockSize,
                         const SplitPlan *split = nullptr,
                         ValueRange partials = {}, StringRef suffix = "",
                         ArrayRef<std::pair<Value, Value>> fills = {},
                         const Epilogue *epilogue = nullptr) {
  Location loc = op.getLoc();
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  int64_t points = 1;
  for (unsigned d = 0; d < numParallel; ++d) {
    if (ShapedType::isDynamic(ranges[d]))
      return op->emitOpError("has a dynamic loop range; the CUDA target "
                             "needs static shapes");
    points *= ranges[d];
  }
  int64_t total = points * (split ? split->partials : 1);
  int64_t threads = std::min(total, blockSize);
  int64_t blocks = (total + threads - 1) / threads;

  rewriter.setInsertionPoint(op);
  auto constant = [&](OpBuilder &b, int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  Value one = constant(rewriter, 1);
  // The kernel is named after its function and op (train_step_conv_2d_...)
  // for profiles and --emit=gpu; outlining makes the names unique.
  auto func = op->getParentOfType<func::FuncOp>();
  std::string name =
      (func.getSymName() + "_" + op->getName().stripDialect() + suffix).str();
  std::replace(name.begin(), name.end(), '.', '_');
  auto launch = gpu::LaunchOp::create(
      rewriter, loc, constant(rewriter, blocks), one, one,
      constant(rewriter, threads), one, one,
      /*dynamicSharedMemorySize=*/nullptr, /*asyncTokenType=*/nullptr,
      /*asyncDependencies=*/{}, /*workgroupAttributions=*/{},
      /*privateAttributions=*/{}, /*clusterSizeX=*/nullptr,
      /*clusterSizeY=*/nullptr, /*clusterSizeZ=*/nullptr,
      /*module=*/nullptr, FlatSymbolRefAttr::get(rewriter.getContext(), name));
  Block &body = launch.getBody().front();
  OpBuilder b = OpBuilder::atBlockBegin(&body);
  // id = blockIdx.x * blockDim.x + threadIdx.x, guarded by id < total.
  Value id = arith::AddIOp::create(b, loc,
                                   arith::MulIOp::create(b, loc,
                                                         launch.getBlockIds().x,
                                                         constant(b, threads)),
                                   launch.getThreadIds().x);
  Value inBounds = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, id,
                                         constant(b, total));
  auto guard = scf::IfOp::create(b, loc, inBounds, /*withElseRegion=*/false);
  gpu::TerminatorOp::create(b, loc);

  // The point of the parallel dimensions, innermost fastest.
  b.setInsertionPointToStart(guard.thenBlock());
  SmallVector<Value> point(numParallel);
  Value rest = id;
  for (int d = int(numParallel) - 1; d >= 0; --d) {
    Value size = constant(b, ranges[d]);
    bool last = d == 0 && !split;
    point[d] = last ? rest : arith::RemUIOp::create(b, loc, rest, size);
    if (!last)
      rest = arith::DivUIOp::create(b, loc, rest, size);
  }

  // Fused fills: the thread's output element gets the fill value first
  // (the accumulator then starts from it; LLVM forwards the store).
  for (auto [buffer, value] : fills) {
    for (OpOperand &init : op.getDpsInitsMutable()) {
      if (init.get() != buffer)
        continue;
      SmallVector<Value> element;
      for (AffineExpr e : op.getMatchingIndexingMap(&init).getResults())
        element.push_back(point[cast<AffineDimExpr>(e).getPosition()]);
      memref::StoreOp::create(b, loc, value, buffer, element);
    }
  }

  // A split: the thread's partial (`rest` now) and the bounds of its
  // chunks; its outputs are its slices of the partials, neutral first.
  SmallVector<std::pair<Value, Value>> bounds;
  SmallVector<Value> views;
  if (split) {
    Value partial = rest;
    SmallVector<Value> chunk(split->loops.size());
    for (int i = int(split->loops.size()) - 1; i >= 0; --i) {
      Value count = constant(b, split->counts[i]);
      chunk[i] = i == 0 ? rest : arith::RemUIOp::create(b, loc, rest, count);
      if (i > 0)
        rest = arith::DivUIOp::create(b, loc, rest, count);
    }
    for (auto [i, loop] : llvm::enumerate(split->loops)) {
      int64_t length = split->chunks[i];
      Value lower =
          arith::MulIOp::create(b, loc, chunk[i], constant(b, length));
      Value upper = arith::AddIOp::create(b, loc, lower, constant(b, length));
      if (ranges[loop] % length != 0)
        upper =
            arith::MinUIOp::create(b, loc, upper, constant(b, ranges[loop]));
      bounds.emplace_back(lower, upper);
    }
    AffineMap outputMap = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
    SmallVector<Value> element;
    for (AffineExpr e : outputMap.getResults())
      element.push_back(point[cast<AffineDimExpr>(e).getPosition()]);
    for (auto [i, init] : llvm::enumerate(op.getDpsInitsMutable())) {
      auto type = cast<MemRefType>(partials[i].getType());
      unsigned rank = type.getRank();
      SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0));
      offsets[0] = partial;
      SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1)};
      for (int64_t size : type.getShape().drop_front())
        sizes.push_back(b.getIndexAttr(size));
      SmallVector<OpFoldResult> strides(rank, b.getIndexAttr(1));
      MemRefType viewType = memref::SubViewOp::inferRankReducedResultType(
          type.getShape().drop_front(), type, offsets, sizes, strides);
      Value view = memref::SubViewOp::create(b, loc, viewType, partials[i],
                                             offsets, sizes, strides);
      Value neutral = arith::ConstantOp::create(b, loc, split->neutral[i]);
      memref::StoreOp::create(b, loc, neutral, view, element);
      init.assign(view);
      views.push_back(view);
    }
  }

  // The op's own loops, inside the guard; the outer numParallel loops are
  // replaced by the thread's point.
  rewriter.moveOpBefore(op, guard.thenBlock()->getTerminator());
  rewriter.setInsertionPoint(op);
  SmallVector<Value> outputs(op.getDpsInits());
  FailureOr<linalg::LinalgLoops> loops = linalg::linalgOpToLoops(rewriter, op);
  if (failed(loops))
    return op->emitOpError("cannot be lowered to loops for the GPU");
  rewriter.eraseOp(op);
  for (auto [i, loop] :
       llvm::enumerate(split ? split->loops : ArrayRef<unsigned>{})) {
    auto forOp = cast<scf::ForOp>((*loops)[loop]);
    forOp.setLowerBound(bounds[i].first);
    forOp.setUpperBound(bounds[i].second);
  }
  for (unsigned d = 0; d < numParallel; ++d) {
    auto loop = cast<scf::ForOp>((*loops)[d]);
    rewriter.eraseOp(loop.getBody()->getTerminator());
    rewriter.inlineBlockBefore(loop.getBody(), loop, {point[d]});
    rewriter.eraseOp(loop);
  }
  accumulateInRegisters(rewriter, guard, outputs);

  // The epilogue's loops, all parallel, at the thread's point: it reads the
  // element the thread has just written.
  if (epilogue) {
    linalg::LinalgOp consumer = epilogue->op;
    rewriter.moveOpBefore(consumer, guard.thenBlock()->getTerminator());
    rewriter.setInsertionPoint(consumer);
    FailureOr<linalg::LinalgLoops> consumerLoops =
        linalg::linalgOpToLoops(rewriter, consumer);
    if (failed(consumerLoops))
      return consumer->emitOpError("cannot be lowered to loops for the GPU");
    rewriter.eraseOp(consumer);
    for (auto [d, loopOp] : llvm::enumerate(*consumerLoops)) {
      auto loop = cast<scf::ForOp>(loopOp);
      rewriter.eraseOp(loop.getBody()->getTerminator());
      rewriter.inlineBlockBefore(loop.getBody(), loop,
                                 {point[epilogue->pointDims[d]]});
      rewriter.eraseOp(loop);
    }
  }
  return success();
}

/// The buffer `v` is a view of (through subviews, casts, reshapes).
Value baseBuffer(Value v) {
  while (auto view = v.getDefiningOp<ViewLikeOpInterface>())
    v = view.getViewSource();
  return v;
}

/// Whether `consumer`, the next kernel after `producer` (parallel
/// dimensions first, not split), can run in `producer`'s threads: it is
/// elementwise over the same points, reads `producer`'s output at the
/// point's own element only, and writes nothing `producer` reads or
/// writes. Fills the map from the consumer's loops to the points'
/// dimensions; the allocations and constants the consumer needs are moved
/// above `producer`.
std::optional<Epilogue> matchEpilogue(linalg::LinalgOp producer,
                                      unsigned numParallel,
                                      linalg::LinalgOp consumer) {
  auto generic = dyn_cast<linalg::GenericOp>(consumer.getOperation());
  if (!generic || !generic.hasPureBufferSemantics() ||
      generic.getNumLoops() != numParallel ||
      generic.getNumReductionLoops() != 0 || producer.getNumDpsInits() != 1)
    return std::nullopt;
  Value output = producer.getDpsInits().front();
  AffineMap outputMap =
      producer.getMatchingIndexingMap(producer.getDpsInitOperand(0));
  if (outputMap.getNumResults() != numParallel ||
      !outputMap.isProjectedPermutation())
    return std::nullopt;
  SmallVector<int64_t> ranges = producer.getStaticLoopRanges();
  SmallVector<int64_t> consumerRanges = generic.getStaticLoopRanges();
  Epilogue epilogue{consumer, SmallVector<unsigned>(numParallel, ~0u)};
  bool readsOutput = false;
  for (OpOperand *input : generic.getDpsInputOperands()) {
    if (baseBuffer(input->get()) != baseBuffer(output))
      continue;
    AffineMap map = generic.getMatchingIndexingMap(input);
    if (input->get() != output || !map.isPermutation())
      return std::nullopt;
    for (auto [k, e] : llvm::enumerate(map.getResults())) {
      unsigned consumerDim = cast<AffineDimExpr>(e).getPosition();
      unsigned pointDim =
          cast<AffineDimExpr>(outputMap.getResult(k)).getPosition();
      if (epilogue.pointDims[consumerDim] != ~0u &&
          epilogue.pointDims[consumerDim] != pointDim)
        return std::nullopt;
      epilogue.pointDims[consumerDim] = pointDim;
    }
    readsOutput = true;
  }
  if (!readsOutput)
    return std::nullopt;
  for (auto [d, pointDim] : llvm::enumerate(epilogue.pointDims))
    if (pointDim >= numParallel || consumerRanges[d] != ranges[pointDim])
      return std::nullopt;
  // Other threads still read the producer's inputs: the consumer writes
  // none of them, nor the producer's output.
  for (Value written : generic.getDpsInits())
    for (Value read :
         llvm::concat<Value>(producer.getDpsInputs(), producer.getDpsInits()))
      if (baseBuffer(written) == baseBuffer(read))
        return std::nullopt;
  // What the consumer uses must exist at the producer's position.
  llvm::SetVector<Value> used(consumer->getOperands().begin(),
                              consumer->getOperands().end());
  getUsedValuesDefinedAbove(consumer->getRegion(0), used);
  SmallVector<Operation *> toMove;
  for (Value v : used) {
    Operation *def = v.getDefiningOp();
    if (!def || def->getBlock() != producer->getBlock() ||
        def->isBeforeInBlock(producer))
      continue;
    bool movable = (isa<memref::AllocOp>(def) && def->getNumOperands() == 0) ||
                   isa<arith::ConstantOp>(def);
    if (!movable || def == producer)
      return std::nullopt;
    toMove.push_back(def);
  }
  for (Operation *def : toMove)
    def->moveBefore(producer);
  return epilogue;
}

/// Whether each point of `op`'s parallel dimensions owns one element of
/// its output `buffer` (the output map picks exactly the parallel
/// dimensions) and `op` reads `buffer` through that output only.
bool ownsOneElementPerPoint(linalg::LinalgOp op, Value buffer) {
  if (!op.hasPureBufferSemantics() ||
      llvm::is_contained(op.getDpsInputs(), buffer) ||
      llvm::count(op.getDpsInits(), buffer) != 1)
    return false;
  OpOperand *init = llvm::find_if(
      op.getDpsInitsMutable(), [&](OpOperand &o) { return o.get() == buffer; });
  AffineMap map = op.getMatchingIndexingMap(init);
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  return map.isProjectedPermutation() &&
         map.getNumResults() ==
             llvm::count(iterators, utils::IteratorType::parallel) &&
         llvm::all_of(map.getResults(), [&](AffineExpr e) {
           return iterators[cast<AffineDimExpr>(e).getPosition()] ==
                  utils::IteratorType::parallel;
         });
}

/// Whether `op` can be recomputed inside every kernel that uses its result:
/// a pure scalar op, or a load of a rank-0 argument of `func` (the scalars
/// of dlc-cuda-device-scalars, which nothing writes during a step).
bool isRematerializable(Operation *op, func::FuncOp func) {
  if (op->getNumRegions() != 0 || op->getNumResults() != 1 ||
      isa<MemRefType>(op->getResult(0).getType()))
    return false;
  if (auto load = dyn_cast<memref::LoadOp>(op)) {
    auto arg = dyn_cast<BlockArgument>(load.getMemRef());
    return arg && arg.getOwner() == &func.getBody().front() &&
           load.getMemRefType().getRank() == 0;
  }
  return isPure(op);
}

/// Clones the scalar computations `launch` uses from the host into it.
LogicalResult sinkScalars(gpu::LaunchOp launch, func::FuncOp func) {
  llvm::SetVector<Value> captured;
  getUsedValuesDefinedAbove(launch.getBody(), captured);
  llvm::SetVector<Operation *> toClone;
  SmallVector<Value> worklist(captured.begin(), captured.end());
  while (!worklist.empty()) {
    Value v = worklist.pop_back_val();
    Operation *def = v.getDefiningOp();
    if (!def || isa<MemRefType>(v.getType()) || toClone.contains(def))
      continue;
    if (!isRematerializable(def, func))
      return def->emitOpError("computes a value a GPU kernel needs on the "
                              "host; the CUDA target cannot run it there");
    toClone.insert(def);
    for (Value operand : def->getOperands())
      worklist.push_back(operand);
  }
  SmallVector<Operation *> ordered(toClone.begin(), toClone.end());
  llvm::sort(ordered,
             [](Operation *a, Operation *b) { return a->isBeforeInBlock(b); });
  OpBuilder b = OpBuilder::atBlockBegin(&launch.getBody().front());
  IRMapping mapping;
  for (Operation *op : ordered)
    b.clone(*op, mapping);
  for (Operation *op : ordered) {
    Value original = op->getResult(0);
    Value clone = mapping.lookup(original);
    original.replaceUsesWithIf(clone, [&](OpOperand &use) {
      return launch->isProperAncestor(use.getOwner());
    });
  }
  return success();
}

/// Whether `op` reads or writes buffer contents (rather than allocating,
/// taking views or launching).
bool touchesMemory(Operation *op) {
  WalkResult result = op->walk([](Operation *inner) {
    if (isa<memref::LoadOp, memref::StoreOp, linalg::LinalgOp, memref::CopyOp>(
            inner))
      return WalkResult::interrupt();
    return WalkResult::advance();
  });
  return result.wasInterrupted();
}

/// A reduction of a contraction's output computed in the contraction's
/// epilogue (conv + batch-norm statistics): `consumer`, the next kernel.
struct StatisticsEpilogue {
  linalg::GenericOp consumer;
  SplitPlan combine;
};

/// Whether `consumer` sums an elementwise function of `op`'s whole output
/// per N index of its plan (batch-norm's sum and sum of squares per
/// channel of a conv or dense output): one input, `op`'s output buffer,
/// read at every element; its reduction dimensions the output's M
/// dimensions and its one parallel dimension the output's N dimension;
/// each result `out_j += f_j(input)` with f_j of the input only. The
/// contraction must keep all of K in a block (no split K), and the sums
/// fit the block's shared memory beside the tiles.
std::optional<StatisticsEpilogue>
matchStatistics(linalg::LinalgOp op, const tc::ContractionPlan &plan,
                linalg::LinalgOp next) {
  auto consumer = dyn_cast<linalg::GenericOp>(next.getOperation());
  if (!consumer || plan.splitK != 1 || plan.batch != 1 ||
      plan.nDims.size() != 1 || !consumer.hasPureBufferSemantics() ||
      consumer.getNumDpsInputs() != 1 ||
      consumer.getDpsInputs()[0] != op.getDpsInits()[0])
    return std::nullopt;
  AffineMap outputMap = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  AffineMap inputMap =
      consumer.getMatchingIndexingMap(consumer.getDpsInputOperand(0));
  if (!inputMap.isIdentity() ||
      inputMap.getNumDims() != outputMap.getNumResults())
    return std::nullopt;
  SmallVector<utils::IteratorType> iterators = consumer.getIteratorTypesArray();
  unsigned channel = 0;
  for (unsigned p = 0; p < outputMap.getNumResults(); ++p) {
    unsigned d = outputMap.getDimPosition(p);
    bool isN = d == plan.nDims.front();
    if (!isN && !llvm::is_contained(plan.mDims, d))
      return std::nullopt;
    if ((iterators[p] == utils::IteratorType::parallel) != isN)
      return std::nullopt;
    if (isN)
      channel = p;
  }
  MLIRContext *ctx = op.getContext();
  AffineMap perChannel =
      AffineMap::get(inputMap.getNumDims(), 0, getAffineDimExpr(channel, ctx));
  Block &body = consumer.getRegion().front();
  SmallVector<BlockArgument> carried(
      body.getArguments().take_back(consumer.getNumDpsInits()));
  StatisticsEpilogue stats{consumer, {}};
  Type elementType;
  for (OpOperand &init : consumer.getDpsInitsMutable()) {
    auto type = cast<MemRefType>(init.get().getType());
    if (consumer.getMatchingIndexingMap(&init) != perChannel ||
        type.getRank() != 1 ||
        (elementType && type.getElementType() != elementType) ||
        init.get() == op.getDpsInits()[0])
      return std::nullopt;
    elementType = type.getElementType();
    SmallVector<Operation *> combiners;
    Value added = matchReduction(
        carried, init.getOperandNumber() - consumer.getNumDpsInputs(),
        combiners);
    if (!added || combiners.size() != 1 ||
        !isa<arith::AddFOp>(combiners.front()))
      return std::nullopt;
    stats.combine.combiners.push_back(combiners.front());
    stats.combine.reduced.push_back(added);
    stats.combine.neutral.push_back(FloatAttr::get(type.getElementType(), 0.0));
  }
  if (!elementType || !elementType.isIntOrFloat() ||
      tc::statisticsSharedBytes(consumer.getNumDpsInits(),
                                elementType.getIntOrFloatBitWidth() / 8) +
              4 * (tc::kBlockM * (tc::kBlockK + tc::kPadA) +
                   tc::kBlockK * (tc::kBlockN + tc::kPadB)) >
          48 * 1024)
    return std::nullopt;
  // The added values depend on the input only (not on the sums).
  for (Operation &bodyOp : body.without_terminator()) {
    if (llvm::is_contained(stats.combine.combiners, &bodyOp))
      continue;
    for (Value operand : bodyOp.getOperands())
      if (llvm::is_contained(carried, operand))
        return std::nullopt;
  }
  stats.combine.partials = plan.tilesM();
  return stats;
}

/// Copies out of a buffer that holds a fill's value become fills of their
/// targets. Bufferization copies a filled tensor that two ops write from
/// one filled buffer (a conv's zero-initialized output whose buffer a
/// gradient accumulates into later, batch norm's two sums): as kernels a
/// fill, then a read and a write of the whole buffer, where one fill of the
/// target is enough. The source goes when nothing else uses it.
void fillInsteadOfCopies(RewriterBase &rewriter, func::FuncOp func) {
  SmallVector<memref::CopyOp> copies(func.getOps<memref::CopyOp>());
  for (memref::CopyOp copy : copies) {
    auto alloc = copy.getSource().getDefiningOp<memref::AllocOp>();
    Block *block = copy->getBlock();
    if (!alloc || alloc->getBlock() != block)
      continue;
    // The last op before the copy that writes the buffer must be a fill of
    // all of it: users are top-level ops of the block, and the ones between
    // that fill and the copy only copy out of the buffer.
    linalg::FillOp fill;
    bool filled = true;
    for (Operation *user : alloc->getUsers()) {
      // Views would hide their own users.
      if (user->getBlock() != block || isa<ViewLikeOpInterface>(user)) {
        filled = false;
        break;
      }
      if (!user->isBeforeInBlock(copy))
        continue;
      auto f = dyn_cast<linalg::FillOp>(user);
      if (f && f.hasPureBufferSemantics() &&
          f.getOutputs().front() == alloc.getResult()) {
        if (!fill || fill->isBeforeInBlock(f))
          fill = f;
        continue;
      }
      auto c = dyn_cast<memref::CopyOp>(user);
      if (c && c.getSource() == alloc.getResult())
        continue;
      filled = false; // another writer or reader before the copy
    }
    if (!filled || !fill)
      continue;
    rewriter.setInsertionPoint(copy);
    linalg::FillOp::create(rewriter, copy.getLoc(), fill.getInputs(),
                           ValueRange{copy.getTarget()});
    rewriter.eraseOp(copy);
    // The fill now has no reader before the next op that uses the buffer
    // (a gradient accumulating into it): it moves there, to be fused into
    // that op's kernel.
    Operation *nextUser = nullptr;
    for (Operation *user : alloc->getUsers())
      if (user != fill.getOperation() && fill->isBeforeInBlock(user) &&
          (!nextUser || user->isBeforeInBlock(nextUser)))
        nextUser = user;
    if (nextUser && !isa<memref::DeallocOp>(nextUser))
      fill->moveBefore(nextUser);
    if (llvm::all_of(alloc->getUsers(), [&](Operation *user) {
          return user == fill || isa<memref::DeallocOp>(user);
        })) {
      for (Operation *user : llvm::make_early_inc_range(alloc->getUsers()))
        rewriter.eraseOp(user);
      rewriter.eraseOp(alloc);
    }
  }
}

/// Replaces the contraction `op` by its tensor-core kernel (plus, for a
/// split K, the ordered combine of its partials as a SIMT kernel, which
/// also takes the fused fills: the partial kernel writes every partial).
/// With `statistics`, the kernel also reduces its output for that
/// consumer, whose own kernel becomes the ordered combine of the tiles'
/// partials (with the consumer's fused fills, `statisticsFills`).
LogicalResult
formTensorCoreKernel(RewriterBase &rewriter, linalg::LinalgOp op,
                     const tc::ContractionPlan &plan,
                     ArrayRef<std::pair<Value, Value>> fills, int64_t blockSize,
                     const StatisticsEpilogue *statistics = nullptr,
                     ArrayRef<std::pair<Value, Value>> statisticsFills = {}) {
  auto func = op->getParentOfType<func::FuncOp>();
  std::string name =
      (func.getSymName() + "_" + op->getName().stripDialect() + "_mma").str();
  std::replace(name.begin(), name.end(), '.', '_');
  Value output = op.getDpsInits().front();
  Value fill;
  for (auto [buffer, value] : fills)
    if (buffer == output)
      fill = value;
  if (plan.splitK == 1 && statistics) {
    linalg::GenericOp consumer = statistics->consumer;
    Location loc = consumer.getLoc();
    rewriter.setInsertionPoint(op);
    tc::TileStatistics tile;
    tile.body = &consumer.getRegion().front();
    tile.input = tile.body->getArgument(0);
    tile.added = statistics->combine.reduced;
    for (Value init : consumer.getDpsInits()) {
      auto type = cast<MemRefType>(init.getType());
      tile.partials.push_back(memref::AllocOp::create(
          rewriter, loc,
          MemRefType::get({plan.tilesM(), type.getDimSize(0)},
                          type.getElementType())));
    }
    linalg::GenericOp combine =
        buildCombine(rewriter, consumer, statistics->combine, tile.partials);
    rewriter.setInsertionPointAfter(combine);
    for (Value partial : tile.partials)
      memref::DeallocOp::create(rewriter, loc, partial);
    if (failed(tc::formTensorCoreKernel(rewriter, op, plan, name, Value(), fill,
                                        &tile)))
      return failure();
    rewriter.eraseOp(consumer);
    return formKernel(rewriter, combine, combine.getNumLoops() - 1, blockSize,
                      nullptr, {}, "_statistics_combine", statisticsFills);
  }
  if (plan.splitK == 1)
    return tc::formTensorCoreKernel(rewriter, op, plan, name, Value(), fill);

  // The combine of the partials, as planSplit's: out = out + sum_p, in
  // order of p, with the body's own addition.
  Block &body = op->getRegion(0).front();
  auto add = cast<linalg::YieldOp>(body.getTerminator())
                 .getOperand(0)
                 .getDefiningOp<arith::AddFOp>();
  SplitPlan split;
  split.partials = plan.splitK;
  split.combiners.push_back(add);
  split.reduced.push_back(add.getLhs() == body.getArgument(2) ? add.getRhs()
                                                              : add.getLhs());
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  auto type = cast<MemRefType>(output.getType());
  SmallVector<int64_t> shape = {plan.splitK};
  llvm::append_range(shape, type.getShape());
  Value partials = memref::AllocOp::create(
      rewriter, loc, MemRefType::get(shape, type.getElementType()));
  linalg::GenericOp combine = buildCombine(rewriter, op, split, partials);
  rewriter.setInsertionPointAfter(combine);
  memref::DeallocOp::create(rewriter, loc, partials);
  if (failed(tc::formTensorCoreKernel(rewriter, op, plan, name + "_partials",
                                      partials, Value())))
    return failure();
  return formKernel(rewriter, combine, combine.getNumLoops() - 1, blockSize,
                    nullptr, {}, "_mma_combine", fills);
}

struct FormKernelsPass
    : public dlc::impl::CUDAFormKernelsPassBase<FormKernelsPass> {
  using CUDAFormKernelsPassBase::CUDAFormKernelsPassBase;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    if (!func.getBody().hasOneBlock()) {
      func.emitOpError("has more than one block; dlc-cuda-form-kernels "
                       "expects the straight-line code of a step function");
      return signalPassFailure();
    }
    IRRewriter rewriter(&getContext());

    fillInsteadOfCopies(rewriter, func);
    // Copies are linalg ops like the others (a kernel each).
    SmallVector<memref::CopyOp> copies;
    func.walk([&](memref::CopyOp copy) { copies.push_back(copy); });
    for (memref::CopyOp copy : copies) {
      rewriter.setInsertionPoint(copy);
      linalg::makeMemRefCopyOp(rewriter, copy.getLoc(), copy.getSource(),
                               copy.getTarget());
      rewriter.eraseOp(copy);
    }

    SmallVector<linalg::LinalgOp> ops;
    for (Operation &op : func.getBody().front())
      if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op))
        ops.push_back(linalgOp);
    // A fill followed by the op that writes its buffer (a reduction's
    // initial value; other fills may come in between, of batch norm's two
    // sums) is no kernel of its own: the op's threads store the value into
    // their element first.
    DenseMap<Operation *, SmallVector<std::pair<Value, Value>>> fusedFills;
    SmallVector<linalg::LinalgOp> kernels;
    for (auto [i, op] : llvm::enumerate(ops)) {
      auto fill = dyn_cast<linalg::FillOp>(op.getOperation());
      size_t next = i + 1;
      while (fill && next < ops.size() && isa<linalg::FillOp>(*ops[next]))
        ++next;
      if (fill && next < ops.size() && fill.hasPureBufferSemantics() &&
          ownsOneElementPerPoint(ops[next], fill.getOutputs().front())) {
        fusedFills[ops[next]].emplace_back(fill.getOutputs().front(),
                                           fill.getInputs().front());
        rewriter.eraseOp(fill);
        continue;
      }
      kernels.push_back(op);
    }
    DenseSet<Operation *> fusedEpilogues;
    for (auto [i, op] : llvm::enumerate(kernels)) {
      if (fusedEpilogues.contains(op))
        continue;
      SmallVector<std::pair<Value, Value>> fills = fusedFills.lookup(op);
      if (!op.hasPureBufferSemantics()) {
        op->emitOpError("is not bufferized; dlc-cuda-form-kernels runs on "
                        "buffers");
        return signalPassFailure();
      }
      if (tensorCores) {
        FailureOr<tc::ContractionPlan> plan =
            tc::planContraction(op, tensorCoreSplitBlocks);
        if (succeeded(plan)) {
          // Batch-norm statistics of the output in the same kernel.
          std::optional<StatisticsEpilogue> statistics;
          if (fuseEpilogues && i + 1 < kernels.size())
            statistics = matchStatistics(op, *plan, kernels[i + 1]);
          SmallVector<std::pair<Value, Value>> statisticsFills;
          if (statistics) {
            fusedEpilogues.insert(kernels[i + 1]);
            statisticsFills = fusedFills.lookup(kernels[i + 1]);
          }
          if (failed(formTensorCoreKernel(rewriter, op, *plan, fills, blockSize,
                                          statistics ? &*statistics : nullptr,
                                          statisticsFills)))
            return signalPassFailure();
          continue;
        }
      }
      auto prepared = parallelDimsFirst(rewriter, op);
      if (failed(prepared))
        return signalPassFailure();
      auto [kernelOp, numParallel] = *prepared;
      std::optional<SplitPlan> split =
          planSplit(kernelOp, numParallel, splitThreads, splitMinIterations);
      if (!split) {
        // An elementwise consumer (bias, activation, a gradient mask) in
        // the same threads: one kernel, the output read back from cache.
        std::optional<Epilogue> epilogue;
        if (fuseEpilogues && i + 1 < kernels.size() &&
            !fusedFills.count(kernels[i + 1]))
          epilogue = matchEpilogue(kernelOp, numParallel, kernels[i + 1]);
        if (epilogue)
          fusedEpilogues.insert(kernels[i + 1]);
        if (failed(formKernel(rewriter, kernelOp, numParallel, blockSize,
                              nullptr, {}, "", fills,
                              epilogue ? &*epilogue : nullptr)))
          return signalPassFailure();
        continue;
      }
      // The partials live from the partial kernel to the combine kernel.
      Location loc = kernelOp.getLoc();
      SmallVector<Value> partials;
      rewriter.setInsertionPoint(kernelOp);
      for (Value init : kernelOp.getDpsInits()) {
        auto type = cast<MemRefType>(init.getType());
        SmallVector<int64_t> shape = {split->partials};
        llvm::append_range(shape, type.getShape());
        partials.push_back(memref::AllocOp::create(
            rewriter, loc, MemRefType::get(shape, type.getElementType())));
      }
      linalg::GenericOp combine =
          buildCombine(rewriter, kernelOp, *split, partials);
      rewriter.setInsertionPointAfter(combine);
      for (Value partial : partials)
        memref::DeallocOp::create(rewriter, loc, partial);
      if (failed(formKernel(rewriter, kernelOp, numParallel, blockSize, &*split,
                            partials, "_partials")) ||
          failed(formKernel(rewriter, combine, combine.getNumLoops() - 1,
                            blockSize, nullptr, {}, "_combine", fills)))
        return signalPassFailure();
    }

    for (auto launch : func.getOps<gpu::LaunchOp>())
      if (failed(sinkScalars(launch, func)))
        return signalPassFailure();
    // The host copies of what was sunk are dead now.
    for (Operation &op :
         llvm::make_early_inc_range(llvm::reverse(func.getBody().front())))
      if (isOpTriviallyDead(&op))
        rewriter.eraseOp(&op);

    for (Operation &op : func.getBody().front()) {
      if (isa<gpu::LaunchOp>(op) || !touchesMemory(&op))
        continue;
      op.emitOpError("reads or writes device memory on the host; the CUDA "
                     "target maps only linalg ops and copies to kernels");
      return signalPassFailure();
    }
  }
};

} // namespace
