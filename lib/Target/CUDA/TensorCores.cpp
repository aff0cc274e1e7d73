//===- TensorCores.cpp - Tensor-core kernels of contractions --------------===//
//
// The implicit-GEMM kernel of TensorCores.h: shared-memory tiles of A and
// B, mma.sync.m16n8k8 tf32 per warp, f32 accumulators in registers,
// predicated boundary tiles, optional split-K into partials.
//
//===----------------------------------------------------------------------===//

#include "dlc/Target/CUDA/TensorCores.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"

using namespace mlir;
using namespace mlir::dlc;
using namespace mlir::dlc::tc;

std::pair<AffineExpr, AffineExpr> tc::fragmentA(AffineExpr lane, unsigned i) {
  // a0: (g, t), a1: (g + 8, t), a2: (g, t + 4), a3: (g + 8, t + 4) with
  // g = lane / 4 (groupID), t = lane % 4 (threadID_in_group).
  AffineExpr g = lane.floorDiv(4), t = lane % 4;
  return {g + 8 * (i % 2), t + 4 * (i / 2)};
}

std::pair<AffineExpr, AffineExpr> tc::fragmentB(AffineExpr lane, unsigned i) {
  // b0: (k = t, n = g), b1: (k = t + 4, n = g).
  AffineExpr g = lane.floorDiv(4), t = lane % 4;
  return {t + 4 * i, g};
}

std::pair<AffineExpr, AffineExpr> tc::fragmentC(AffineExpr lane, unsigned i) {
  // c0: (g, 2t), c1: (g, 2t + 1), c2: (g + 8, 2t), c3: (g + 8, 2t + 1).
  AffineExpr g = lane.floorDiv(4), t = lane % 4;
  return {g + 8 * (i / 2), t * 2 + (i % 2)};
}

AffineExpr tc::statisticsRowGroup(AffineExpr tid) {
  AffineExpr warp = tid.floorDiv(32), lane = tid % 32;
  return warp.floorDiv(kWarpsN) * 8 + lane.floorDiv(4);
}

AffineExpr tc::statisticsColumn(AffineExpr tid, unsigned ni, unsigned c) {
  AffineExpr warp = tid.floorDiv(32), lane = tid % 32;
  return (warp % kWarpsN) * kWarpN + ni * kMmaN + (lane % 4) * 2 + c;
}

std::pair<AffineExpr, AffineExpr> tc::tileElement(AffineExpr tid, int64_t i,
                                                  int64_t rows, int64_t cols,
                                                  bool colsFastest) {
  AffineExpr e = tid + i * kThreads;
  if (colsFastest)
    return {e.floorDiv(cols), e % cols};
  return {e % rows, e.floorDiv(rows)};
}

AffineMap ContractionPlan::loopsMap(MLIRContext *ctx) const {
  SmallVector<AffineExpr> results(ranges.size());
  auto delinearize = [&](ArrayRef<unsigned> dims, AffineExpr linear,
                         int64_t total) {
    int64_t stride = total;
    for (unsigned d : dims) {
      stride /= ranges[d];
      AffineExpr value = linear.floorDiv(stride);
      results[d] = stride * ranges[d] == total ? value : value % ranges[d];
    }
  };
  delinearize(mDims, getAffineDimExpr(0, ctx), m);
  delinearize(nDims, getAffineDimExpr(1, ctx), n);
  delinearize(kDims, getAffineDimExpr(2, ctx), k);
  delinearize(batchDims, getAffineDimExpr(3, ctx), batch);
  return AffineMap::get(4, 0, results, ctx);
}

AffineMap ContractionPlan::operandMap(linalg::LinalgOp op,
                                      OpOperand &operand) const {
  return simplifyAffineMap(
      op.getMatchingIndexingMap(&operand).compose(loopsMap(op.getContext())));
}

/// Whether `op`'s body is `yield out + in0 * in1` (either operand order).
static bool isMultiplyAccumulate(linalg::LinalgOp op) {
  Block &body = op->getRegion(0).front();
  if (body.getNumArguments() != 3 || body.getOperations().size() != 3)
    return false;
  auto yield = dyn_cast<linalg::YieldOp>(body.getTerminator());
  auto add =
      yield ? yield.getOperand(0).getDefiningOp<arith::AddFOp>() : nullptr;
  if (!add)
    return false;
  BlockArgument a = body.getArgument(0), b = body.getArgument(1),
                out = body.getArgument(2);
  Value product = add.getLhs() == out   ? add.getRhs()
                  : add.getRhs() == out ? add.getLhs()
                                        : Value();
  auto mul = product ? product.getDefiningOp<arith::MulFOp>() : nullptr;
  return mul && ((mul.getLhs() == a && mul.getRhs() == b) ||
                 (mul.getLhs() == b && mul.getRhs() == a));
}

FailureOr<ContractionPlan> tc::planContraction(linalg::LinalgOp op,
                                               int64_t splitBlocks) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1 || op->getNumRegions() != 1)
    return failure();
  for (Value v : op->getOperands()) {
    auto type = dyn_cast<MemRefType>(v.getType());
    if (!type || !type.getElementType().isF32() || !type.hasStaticShape())
      return failure();
  }
  if (!isMultiplyAccumulate(op))
    return failure();
  ContractionPlan plan;
  plan.ranges = op.getStaticLoopRanges();
  if (llvm::any_of(plan.ranges, ShapedType::isDynamic))
    return failure();
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  // One output element per point of the parallel dimensions.
  AffineMap outputMap = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  int64_t numParallel = llvm::count(iterators, utils::IteratorType::parallel);
  if (!outputMap.isProjectedPermutation() ||
      outputMap.getNumResults() != numParallel)
    return failure();
  AffineMap aMap = op.getMatchingIndexingMap(op.getDpsInputOperand(0));
  AffineMap bMap = op.getMatchingIndexingMap(op.getDpsInputOperand(1));
  for (unsigned d = 0; d < plan.ranges.size(); ++d) {
    bool inA = aMap.isFunctionOfDim(d), inB = bMap.isFunctionOfDim(d);
    if (iterators[d] == utils::IteratorType::reduction) {
      plan.kDims.push_back(d);
      plan.k *= plan.ranges[d];
    } else if (inA && !inB) {
      plan.mDims.push_back(d);
      plan.m *= plan.ranges[d];
    } else if (inB && !inA) {
      plan.nDims.push_back(d);
      plan.n *= plan.ranges[d];
    } else {
      plan.batchDims.push_back(d);
      plan.batch *= plan.ranges[d];
    }
  }
  // Too small for an m16n8k8 tile to pay off: the SIMT kernel.
  if (plan.m < kMmaM || plan.n < kMmaN || plan.k < kMmaK || plan.batch > 65535)
    return failure();
  auto kFastest = [&](AffineMap map) {
    AffineExpr last = map.getResults().back();
    return llvm::any_of(plan.kDims,
                        [&](unsigned d) { return last.isFunctionOfDim(d); });
  };
  plan.aKFastest = kFastest(aMap);
  plan.bKFastest = kFastest(bMap);

  // Split-K when the output tiles leave most of the GPU idle: chunks of at
  // least 256 reduction steps, a multiple of the K tile.
  plan.kChunk = plan.k;
  int64_t blocks = plan.tilesM() * plan.tilesN() * plan.batch;
  if (splitBlocks > 0 && blocks < splitBlocks) {
    int64_t wanted = std::min(splitBlocks / blocks, (plan.k + 255) / 256);
    if (wanted >= 2) {
      int64_t chunk = (plan.k + wanted - 1) / wanted;
      chunk = (chunk + kBlockK - 1) / kBlockK * kBlockK;
      int64_t count = (plan.k + chunk - 1) / chunk;
      if (count >= 2 && plan.batch * count <= 65535) {
        plan.splitK = count;
        plan.kChunk = chunk;
      }
    }
  }
  return plan;
}

namespace {
/// Builds the kernel body; all index math through affine.apply (lowered
/// after outlining), so that it reads as the expressions of the header.
struct KernelBuilder {
  OpBuilder &b;
  Location loc;

  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value apply(AffineExpr e, ValueRange dims) {
    return affine::AffineApplyOp::create(
        b, loc, AffineMap::get(dims.size(), 0, e, b.getContext()), dims);
  }
  SmallVector<Value> applyAll(AffineMap map, ValueRange dims) {
    SmallVector<Value> results;
    for (AffineExpr e : map.getResults())
      results.push_back(apply(e, dims));
    return results;
  }
  Value lessThan(Value v, int64_t bound) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, v,
                                 index(bound));
  }
};
} // namespace

LogicalResult tc::formTensorCoreKernel(RewriterBase &rewriter,
                                       linalg::LinalgOp op,
                                       const ContractionPlan &plan,
                                       StringRef name, Value partials,
                                       Value fill,
                                       const TileStatistics *statistics) {
  assert((!statistics || (!partials && plan.splitK == 1)) &&
         "statistics need the whole K in one block");
  MLIRContext *ctx = op.getContext();
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  KernelBuilder kb{rewriter, loc};
  auto workgroup =
      gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
  Type f32 = rewriter.getF32Type();
  auto aTileType =
      MemRefType::get({kBlockM, kBlockK + kPadA}, f32, nullptr, workgroup);
  auto bTileType =
      MemRefType::get({kBlockK, kBlockN + kPadB}, f32, nullptr, workgroup);
  SmallVector<Type> workgroupTypes = {aTileType, bTileType};
  // The statistics' per-thread sums, [result][row group][block column].
  int64_t numStats = statistics ? statistics->added.size() : 0;
  Type statType;
  if (statistics) {
    statType = statistics->added.front().getType();
    workgroupTypes.push_back(MemRefType::get({numStats, kRowGroups, kBlockN},
                                             statType, nullptr, workgroup));
  }
  Value one = kb.index(1);
  auto launch = gpu::LaunchOp::create(
      rewriter, loc, kb.index(plan.tilesM()), kb.index(plan.tilesN()),
      kb.index(plan.batch * plan.splitK), kb.index(kThreads), one, one,
      /*dynamicSharedMemorySize=*/nullptr, /*asyncTokenType=*/nullptr,
      /*asyncDependencies=*/{}, workgroupTypes,
      /*privateAttributions=*/{}, /*clusterSizeX=*/nullptr,
      /*clusterSizeY=*/nullptr, /*clusterSizeZ=*/nullptr,
      /*module=*/nullptr, FlatSymbolRefAttr::get(ctx, name));
  Value aTile = launch.getWorkgroupAttributions()[0];
  Value bTile = launch.getWorkgroupAttributions()[1];

  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPointToStart(&launch.getBody().front());
  gpu::TerminatorOp::create(rewriter, loc);
  rewriter.setInsertionPointToStart(&launch.getBody().front());

  AffineExpr d0 = getAffineDimExpr(0, ctx);
  Value tid = launch.getThreadIds().x;
  Value tileM = launch.getBlockIds().x, tileN = launch.getBlockIds().y;
  Value z = launch.getBlockIds().z;
  Value batch = kb.apply(d0.floorDiv(plan.splitK), z);
  Value chunk = kb.apply(d0 % plan.splitK, z);
  Value lane = kb.apply(d0 % 32, tid);
  Value warp = kb.apply(d0.floorDiv(32), tid);
  Value zeroIndex = kb.index(0);
  Value zero =
      arith::ConstantOp::create(rewriter, loc, rewriter.getF32FloatAttr(0));

  // The first row / column of the block's and the warp's tiles.
  Value rowBase = kb.apply(d0 * kBlockM, tileM);
  Value colBase = kb.apply(d0 * kBlockN, tileN);
  Value warpRow = kb.apply(d0.floorDiv(kWarpsN) * kWarpM, warp);
  Value warpCol = kb.apply((d0 % kWarpsN) * kWarpN, warp);

  Value a = op.getDpsInputs()[0], bOperand = op.getDpsInputs()[1];
  AffineMap aIndices = plan.operandMap(op, *op.getDpsInputOperand(0));
  AffineMap bIndices = plan.operandMap(op, *op.getDpsInputOperand(1));
  AffineMap outIndices = plan.operandMap(op, *op.getDpsInitOperand(0));

  constexpr int64_t tilesPerWarpM = kWarpM / kMmaM,
                    tilesPerWarpN = kWarpN / kMmaN;
  auto accType = VectorType::get({2, 2}, f32);
  Value accZero = arith::ConstantOp::create(
      rewriter, loc, DenseElementsAttr::get(accType, 0.0f));
  SmallVector<Value> inits(tilesPerWarpM * tilesPerWarpN, accZero);

  Value kBegin = kb.apply(d0 * plan.kChunk, chunk);
  Value kEnd = plan.splitK == 1
                   ? kb.index(plan.k)
                   : kb.apply(d0 * plan.kChunk + plan.kChunk, chunk);
  if (plan.splitK > 1 && plan.k % plan.kChunk != 0)
    kEnd = arith::MinUIOp::create(rewriter, loc, kEnd, kb.index(plan.k));
  auto loop =
      scf::ForOp::create(rewriter, loc, kBegin, kEnd, kb.index(kBlockK), inits);
  {
    OpBuilder::InsertionGuard inLoop(rewriter);
    rewriter.setInsertionPointToStart(loop.getBody());
    Value k0 = loop.getInductionVar();
    // Stage the A tile (kBlockM x kBlockK) and the B tile (kBlockK x
    // kBlockN): each thread gathers its elements through the operand's
    // indexing map at clamped indices and zeroes those out of range. A
    // loop over the thread's elements, not unrolled here: each element's
    // gather is a conv's whole index arithmetic, and NVVM conversion and
    // canonicalization would process 16 copies of it per kernel (LLVM's
    // O3 unrolls the 8 iterations again where that pays).
    auto stage = [&](Value operand, AffineMap indices, Value tile, int64_t rows,
                     int64_t cols, bool colsFastest, bool isA) {
      auto elements =
          scf::ForOp::create(rewriter, loc, zeroIndex,
                             kb.index(rows * cols / kThreads), kb.index(1));
      OpBuilder::InsertionGuard inElements(rewriter);
      rewriter.setInsertionPointToStart(elements.getBody());
      Value i = elements.getInductionVar();
      {
        // Element i of the thread: tileElement's tid + i * kThreads.
        AffineExpr d1 = getAffineDimExpr(1, ctx);
        auto [row, col] =
            tileElement(d0 + d1 * kThreads, 0, rows, cols, colsFastest);
        Value r = kb.apply(row, {tid, i}), c = kb.apply(col, {tid, i});
        Value mn = isA ? arith::AddIOp::create(rewriter, loc, rowBase, r)
                       : arith::AddIOp::create(rewriter, loc, colBase, c);
        Value kk = arith::AddIOp::create(rewriter, loc, k0, isA ? c : r);
        int64_t mnSize = isA ? plan.m : plan.n;
        Value inRange = arith::AndIOp::create(
            rewriter, loc, kb.lessThan(mn, mnSize), kb.lessThan(kk, plan.k));
        Value mnClamped =
            arith::MinUIOp::create(rewriter, loc, mn, kb.index(mnSize - 1));
        Value kClamped =
            arith::MinUIOp::create(rewriter, loc, kk, kb.index(plan.k - 1));
        SmallVector<Value> dims =
            isA ? SmallVector<Value>{mnClamped, zeroIndex, kClamped, batch}
                : SmallVector<Value>{zeroIndex, mnClamped, kClamped, batch};
        Value v = memref::LoadOp::create(rewriter, loc, operand,
                                         kb.applyAll(indices, dims));
        v = arith::SelectOp::create(rewriter, loc, inRange, v, zero);
        memref::StoreOp::create(rewriter, loc, v, tile, ValueRange{r, c});
      }
    };
    stage(a, aIndices, aTile, kBlockM, kBlockK, plan.aKFastest, true);
    stage(bOperand, bIndices, bTile, kBlockK, kBlockN, !plan.bKFastest, false);
    gpu::BarrierOp::create(rewriter, loc);

    SmallVector<Value> accs(loop.getRegionIterArgs());
    for (int64_t kStep = 0; kStep < kBlockK; kStep += kMmaK) {
      SmallVector<Value> aFragments, bFragments;
      for (int64_t mi = 0; mi < tilesPerWarpM; ++mi) {
        SmallVector<Value> elements;
        for (unsigned i = 0; i < 4; ++i) {
          auto [row, col] = fragmentA(d0, i);
          AffineExpr w = getAffineDimExpr(1, ctx);
          Value r = kb.apply(w + mi * kMmaM + row, {lane, warpRow});
          Value c = kb.apply(col + kStep, lane);
          elements.push_back(
              memref::LoadOp::create(rewriter, loc, aTile, ValueRange{r, c}));
        }
        aFragments.push_back(vector::FromElementsOp::create(
            rewriter, loc, VectorType::get({4, 1}, f32), elements));
      }
      for (int64_t ni = 0; ni < tilesPerWarpN; ++ni) {
        SmallVector<Value> elements;
        for (unsigned i = 0; i < 2; ++i) {
          auto [row, col] = fragmentB(d0, i);
          AffineExpr w = getAffineDimExpr(1, ctx);
          Value r = kb.apply(row + kStep, lane);
          Value c = kb.apply(w + ni * kMmaN + col, {lane, warpCol});
          elements.push_back(
              memref::LoadOp::create(rewriter, loc, bTile, ValueRange{r, c}));
        }
        bFragments.push_back(vector::FromElementsOp::create(
            rewriter, loc, VectorType::get({2, 1}, f32), elements));
      }
      for (int64_t mi = 0; mi < tilesPerWarpM; ++mi)
        for (int64_t ni = 0; ni < tilesPerWarpN; ++ni) {
          Value &acc = accs[mi * tilesPerWarpN + ni];
          acc = nvgpu::MmaSyncOp::create(
              rewriter, loc, aFragments[mi], bFragments[ni], acc,
              ArrayRef<int64_t>{kMmaM, kMmaN, kMmaK}, /*tf32Enabled=*/true);
        }
    }
    // The next iteration overwrites the tiles.
    gpu::BarrierOp::create(rewriter, loc);
    scf::YieldOp::create(rewriter, loc, accs);
  }

  // The epilogue: each accumulator element to its output element (or its
  // partial), when inside the output. With statistics, the values stored
  // are also summed per column: sums[(ni * 2 + c) * numStats + j], over
  // the thread's four rows of the column in order (mi, then fragmentC's
  // g and g + 8).
  Value out = op.getDpsInits()[0];
  SmallVector<Value> sums;
  Value statZero;
  if (statistics) {
    statZero = arith::ConstantOp::create(rewriter, loc,
                                         rewriter.getFloatAttr(statType, 0.0));
    sums.assign(tilesPerWarpN * 2 * numStats, statZero);
  }
  for (int64_t mi = 0; mi < tilesPerWarpM; ++mi) {
    for (int64_t ni = 0; ni < tilesPerWarpN; ++ni) {
      Value acc = loop.getResult(mi * tilesPerWarpN + ni);
      for (unsigned i = 0; i < 4; ++i) {
        auto [row, col] = fragmentC(d0, i);
        AffineExpr base = getAffineDimExpr(1, ctx);
        Value mIndex = kb.apply(base + mi * kMmaM + row, {lane, warpRow});
        mIndex = arith::AddIOp::create(rewriter, loc, rowBase, mIndex);
        Value nIndex = kb.apply(base + ni * kMmaN + col, {lane, warpCol});
        nIndex = arith::AddIOp::create(rewriter, loc, colBase, nIndex);
        Value inside =
            arith::AndIOp::create(rewriter, loc, kb.lessThan(mIndex, plan.m),
                                  kb.lessThan(nIndex, plan.n));
        SmallVector<Type> statTypes(numStats, statType);
        auto ifOp = scf::IfOp::create(rewriter, loc, statTypes, inside,
                                      /*withElseRegion=*/statistics);
        OpBuilder::InsertionGuard inIf(rewriter);
        if (statistics) {
          rewriter.setInsertionPointToStart(ifOp.elseBlock());
          scf::YieldOp::create(rewriter, loc,
                               SmallVector<Value>(numStats, statZero));
        }
        rewriter.setInsertionPointToStart(ifOp.thenBlock());
        Value v = vector::ExtractOp::create(rewriter, loc, acc,
                                            ArrayRef<int64_t>{i / 2, i % 2});
        SmallVector<Value> element = kb.applyAll(
            outIndices, ValueRange{mIndex, nIndex, zeroIndex, batch});
        if (partials) {
          element.insert(element.begin(), chunk);
          memref::StoreOp::create(rewriter, loc, v, partials, element);
          continue;
        }
        Value initial =
            fill ? fill : memref::LoadOp::create(rewriter, loc, out, element);
        v = arith::AddFOp::create(rewriter, loc, initial, v);
        memref::StoreOp::create(rewriter, loc, v, out, element);
        if (!statistics) {
          if (!ifOp.thenBlock()->mightHaveTerminator())
            scf::YieldOp::create(rewriter, loc);
          continue;
        }
        // What each result adds for this element: the reduction's body
        // with the stored value as its input.
        IRMapping mapping;
        mapping.map(statistics->input, v);
        for (Operation &bodyOp : statistics->body->without_terminator())
          if (llvm::all_of(bodyOp.getOperands(), [&](Value operand) {
                return mapping.contains(operand) ||
                       operand.getParentBlock() != statistics->body;
              }))
            rewriter.clone(bodyOp, mapping);
        SmallVector<Value> added;
        for (Value a : statistics->added)
          added.push_back(mapping.lookup(a));
        scf::YieldOp::create(rewriter, loc, added);
        rewriter.setInsertionPointAfter(ifOp);
        for (int64_t j = 0; j < numStats; ++j) {
          Value &sum = sums[(ni * 2 + i % 2) * numStats + j];
          sum = arith::AddFOp::create(rewriter, loc, sum, ifOp.getResult(j));
        }
      }
    }
  }
  if (statistics) {
    // The block's sums per column: the threads' sums through shared
    // memory, then one thread per (result, column) adds the 16 row groups
    // in order and writes the tile's partial, inside N.
    Value statTile = launch.getWorkgroupAttributions()[2];
    Value group = kb.apply(statisticsRowGroup(d0), tid);
    for (int64_t ni = 0; ni < tilesPerWarpN; ++ni)
      for (unsigned c = 0; c < 2; ++c) {
        Value column = kb.apply(statisticsColumn(d0, ni, c), tid);
        for (int64_t j = 0; j < numStats; ++j)
          memref::StoreOp::create(rewriter, loc,
                                  sums[(ni * 2 + c) * numStats + j], statTile,
                                  ValueRange{kb.index(j), group, column});
      }
    gpu::BarrierOp::create(rewriter, loc);
    // Result j on the threads of half j % 2 of the block.
    Value half = kb.apply(d0.floorDiv(kBlockN), tid);
    Value column = kb.apply(d0 % kBlockN, tid);
    Value n = arith::AddIOp::create(rewriter, loc, colBase, column);
    Value inN = kb.lessThan(n, plan.n);
    for (int64_t j = 0; j < numStats; ++j) {
      Value mine = arith::AndIOp::create(
          rewriter, loc,
          arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq, half,
                                kb.index(j % (kThreads / kBlockN))),
          inN);
      auto ifOp = scf::IfOp::create(rewriter, loc, mine,
                                    /*withElseRegion=*/false);
      OpBuilder::InsertionGuard inIf(rewriter);
      rewriter.setInsertionPointToStart(ifOp.thenBlock());
      auto groups =
          scf::ForOp::create(rewriter, loc, zeroIndex, kb.index(kRowGroups),
                             kb.index(1), ValueRange{statZero});
      {
        OpBuilder::InsertionGuard inLoop(rewriter);
        rewriter.setInsertionPointToStart(groups.getBody());
        Value partial = memref::LoadOp::create(
            rewriter, loc, statTile,
            ValueRange{kb.index(j), groups.getInductionVar(), column});
        scf::YieldOp::create(
            rewriter, loc,
            ValueRange{arith::AddFOp::create(
                rewriter, loc, groups.getRegionIterArgs()[0], partial)});
      }
      memref::StoreOp::create(rewriter, loc, groups.getResult(0),
                              statistics->partials[j], ValueRange{tileM, n});
    }
  }
  rewriter.eraseOp(op);
  return success();
}
