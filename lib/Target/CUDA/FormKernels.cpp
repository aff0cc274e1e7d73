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

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Linalg/Utils/Utils.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
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

/// Replaces `op` by a gpu.launch whose threads each run the op's loops for
/// one point of its first `numParallel` dimensions.
LogicalResult formKernel(RewriterBase &rewriter, linalg::LinalgOp op,
                         unsigned numParallel, int64_t blockSize) {
  Location loc = op.getLoc();
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  int64_t total = 1;
  for (unsigned d = 0; d < numParallel; ++d) {
    if (ShapedType::isDynamic(ranges[d]))
      return op->emitOpError("has a dynamic loop range; the CUDA target "
                             "needs static shapes");
    total *= ranges[d];
  }
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
      (func.getSymName() + "_" + op->getName().stripDialect()).str();
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
    point[d] = d == 0 ? rest : arith::RemUIOp::create(b, loc, rest, size);
    if (d > 0)
      rest = arith::DivUIOp::create(b, loc, rest, size);
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
  for (unsigned d = 0; d < numParallel; ++d) {
    auto loop = cast<scf::ForOp>((*loops)[d]);
    rewriter.eraseOp(loop.getBody()->getTerminator());
    rewriter.inlineBlockBefore(loop.getBody(), loop, {point[d]});
    rewriter.eraseOp(loop);
  }
  accumulateInRegisters(rewriter, guard, outputs);
  return success();
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
    for (linalg::LinalgOp op : ops) {
      if (!op.hasPureBufferSemantics()) {
        op->emitOpError("is not bufferized; dlc-cuda-form-kernels runs on "
                        "buffers");
        return signalPassFailure();
      }
      auto prepared = parallelDimsFirst(rewriter, op);
      if (failed(prepared) || failed(formKernel(rewriter, prepared->first,
                                                prepared->second, blockSize)))
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
