//===- Parallelize.cpp - The loops that run on every core -----------------===//
//
// Decides which loops of the bufferized code become OpenMP worksharing
// loops (see the pass description in Passes.td). The rule is deliberately
// simple: one parallel region per loop nest, at its outermost parallel
// loop, and only loops whose iterations are independent by construction
// (tiles of one output, parallel iterators of a linalg op). Nothing that
// stays parallel reduces across iterations, which is what makes results
// independent of the thread count.
//
//===----------------------------------------------------------------------===//

#include "StaticTrips.h"
#include "dlc/Target/CPU/Passes.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_CPUPARALLELIZEPASS
#include "dlc/Target/CPU/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;
using namespace mlir::dlc;

namespace {

/// Set by the CPU schedule (TileAndVectorize.cpp) on tile loops whose
/// iterations write disjoint parts of the output.
constexpr llvm::StringLiteral kParallelAttr = "dlc.parallel";

/// The element operations that the nest rooted at `root` executes: each
/// operation counts once per iteration of the loops around it, a vector
/// operation once per lane (an unrolled register tile is as much work as
/// the loop it replaced).
int64_t workOf(Operation *root) {
  int64_t body = 0;
  for (Region &region : root->getRegions())
    for (Block &block : region)
      for (Operation &op : block) {
        if (op.getNumRegions() > 0) {
          body += workOf(&op);
          continue;
        }
        int64_t lanes = 1;
        for (Type type : op.getResultTypes())
          if (auto vector = dyn_cast<VectorType>(type))
            lanes = std::max(lanes, vector.getNumElements());
        for (Value operand : op.getOperands())
          if (auto vector = dyn_cast<VectorType>(operand.getType()))
            lanes = std::max(lanes, vector.getNumElements());
        body += lanes;
      }
  if (isa<scf::ForOp, scf::ParallelOp>(root))
    return staticTripCount(root) * body;
  return body;
}

/// Replaces a marked scf.for without iter_args by a 1-D scf.parallel.
scf::ParallelOp forToParallel(RewriterBase &rewriter, scf::ForOp forOp) {
  rewriter.setInsertionPoint(forOp);
  auto parallel = scf::ParallelOp::create(
      rewriter, forOp.getLoc(), ValueRange{forOp.getLowerBound()},
      ValueRange{forOp.getUpperBound()}, ValueRange{forOp.getStep()});
  Block *body = parallel.getBody();
  // The new body holds only its scf.reduce terminator; the loop's
  // operations (without their scf.yield) go in front of it.
  rewriter.eraseOp(forOp.getBody()->getTerminator());
  rewriter.inlineBlockBefore(forOp.getBody(), body->getTerminator(),
                             ValueRange{parallel.getInductionVars()[0]});
  rewriter.eraseOp(forOp);
  return parallel;
}

/// Keeps the leading `keep` dimensions of `parallel` parallel and turns the
/// others into a nest of scf.for inside it.
void keepLeadingDims(RewriterBase &rewriter, scf::ParallelOp parallel,
                     unsigned keep) {
  unsigned rank = parallel.getNumLoops();
  if (keep >= rank)
    return;
  Location loc = parallel.getLoc();
  rewriter.setInsertionPoint(parallel);
  auto outer = scf::ParallelOp::create(
      rewriter, loc, parallel.getLowerBound().take_front(keep),
      parallel.getUpperBound().take_front(keep),
      parallel.getStep().take_front(keep));
  SmallVector<Value> ivs(outer.getInductionVars());
  rewriter.setInsertionPoint(outer.getBody()->getTerminator());
  for (unsigned dim = keep; dim < rank; ++dim) {
    auto forOp = scf::ForOp::create(
        rewriter, loc, parallel.getLowerBound()[dim],
        parallel.getUpperBound()[dim], parallel.getStep()[dim]);
    ivs.push_back(forOp.getInductionVar());
    rewriter.setInsertionPoint(forOp.getBody()->getTerminator());
  }
  Operation *yieldPoint = &*rewriter.getInsertionPoint();
  rewriter.eraseOp(parallel.getBody()->getTerminator());
  rewriter.inlineBlockBefore(parallel.getBody(), yieldPoint, ivs);
  rewriter.eraseOp(parallel);
}

/// How many leading dimensions of a kept parallel loop to share among
/// threads: enough for 64 iterations, never the innermost of several. An
/// OpenMP loop over several dimensions is collapsed into one, whose body
/// recomputes every index by division, and the LLVM loop vectorizer then
/// leaves the innermost dimension scalar; the dimensions left out stay
/// ordinary loops.
unsigned leadingDimsToShare(scf::ParallelOp parallel) {
  unsigned rank = parallel.getNumLoops();
  int64_t trips = 1;
  for (unsigned dim = 0; dim + 1 < rank; ++dim) {
    trips *=
        staticTripCount(parallel.getLowerBound()[dim],
                        parallel.getUpperBound()[dim], parallel.getStep()[dim]);
    if (trips >= 64)
      return dim + 1;
  }
  return std::max(rank - 1, 1u);
}

/// Replaces an scf.parallel without reductions by a nest of scf.for.
void parallelToFor(RewriterBase &rewriter, scf::ParallelOp parallel) {
  rewriter.setInsertionPoint(parallel);
  SmallVector<Value> ivs;
  Location loc = parallel.getLoc();
  for (auto [lb, ub, step] :
       llvm::zip(parallel.getLowerBound(), parallel.getUpperBound(),
                 parallel.getStep())) {
    auto forOp = scf::ForOp::create(rewriter, loc, lb, ub, step);
    ivs.push_back(forOp.getInductionVar());
    rewriter.setInsertionPoint(forOp.getBody()->getTerminator());
  }
  Operation *yieldPoint = &*rewriter.getInsertionPoint();
  rewriter.eraseOp(parallel.getBody()->getTerminator());
  rewriter.inlineBlockBefore(parallel.getBody(), yieldPoint, ivs);
  rewriter.eraseOp(parallel);
}

/// The product of the trip counts of the loops around `op` (below
/// `limit`), or nullopt when one of them stays parallel.
std::optional<int64_t>
enclosingTrips(Operation *op, Operation *limit,
               const llvm::DenseSet<Operation *> &keptParallel) {
  int64_t trips = 1;
  for (Operation *parent = op->getParentOp(); parent && parent != limit;
       parent = parent->getParentOp()) {
    if (keptParallel.contains(parent))
      return std::nullopt;
    if (isa<scf::ForOp, scf::ParallelOp>(parent))
      trips *= staticTripCount(parent);
    else if (isa<LoopLikeOpInterface>(parent))
      return std::nullopt;
  }
  return trips;
}

struct CPUParallelizePass
    : mlir::dlc::impl::CPUParallelizePassBase<CPUParallelizePass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    IRRewriter rewriter(&getContext());

    // 1. The schedule's tile loops. (Post-order: a marked loop inside
    //    another marked loop is rewritten first.)
    SmallVector<scf::ForOp> marked;
    func.walk([&](scf::ForOp forOp) {
      if (!forOp->hasAttr(kParallelAttr))
        return;
      forOp->removeAttr(kParallelAttr);
      if (forOp.getNumRegionIterArgs() == 0)
        marked.push_back(forOp);
    });
    llvm::DenseSet<Operation *> tiles;
    for (scf::ForOp forOp : marked)
      tiles.insert(forToParallel(rewriter, forOp));

    // 2. One parallel region per nest, where there is enough work.
    SmallVector<scf::ParallelOp> sequential;
    llvm::DenseSet<Operation *> kept;
    WalkResult walk =
        func.walk<WalkOrder::PreOrder>([&](scf::ParallelOp parallel) {
          // A reduction across iterations would make the result depend on how
          // the iterations are split among threads.
          if (parallel.getNumReductions() != 0) {
            parallel.emitOpError("reduces across its iterations: dlc runs only "
                                 "independent iterations in parallel");
            return WalkResult::interrupt();
          }
          // Loops of independent tiles may sit inside a few sequential loops
          // (the reduction blocks of a matmul or filter gradient): a parallel
          // region per block still pays. Anything else runs in parallel only
          // at the top of its nest.
          // Beyond `maxRegionsPerNest` blocks, a block must itself be ample
          // work (a filter gradient over a large batch and tall output
          // gradient: 32 rows x 16 batch blocks in resnet_small's first
          // stage, 30 us of work per block, would otherwise run on one
          // core).
          std::optional<int64_t> around = enclosingTrips(parallel, func, kept);
          bool placed =
              around &&
              (*around == 1 ||
               (tiles.contains(parallel) &&
                (*around <= maxRegionsPerNest ||
                 (minRegionWork > 0 && workOf(parallel) >= minRegionWork))));
          if (placed && staticTripCount(parallel) >= 2 &&
              workOf(parallel) >= minWork)
            kept.insert(parallel);
          else
            sequential.push_back(parallel);
          return WalkResult::advance();
        });
    if (walk.wasInterrupted())
      return signalPassFailure();
    for (scf::ParallelOp parallel : sequential)
      parallelToFor(rewriter, parallel);
    for (Operation *op : kept) {
      auto parallel = cast<scf::ParallelOp>(op);
      keepLeadingDims(rewriter, parallel, leadingDimsToShare(parallel));
    }
  }
};

} // namespace
