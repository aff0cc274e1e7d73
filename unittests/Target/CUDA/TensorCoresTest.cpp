//===- TensorCoresTest.cpp - Index math of the tensor-core kernels --------===//
//
// No GPU needed: (1) the mma.sync.m16n8k8 tf32 fragment maps against the
// PTX ISA's tables and as bijections onto the tiles; (2) the staging of
// the shared-memory tiles covers each tile once, coalesced; (3) the whole
// kernel emulated on the CPU with the very affine maps the pass builds
// (planContraction's operand maps, tileElement, the fragments, the
// boundary predicates, split-K and the ordered combine), for convolutions,
// a matmul, a batch matmul and a filter gradient of shapes that are no
// multiple of the tiles, against the linalg op's own semantics.
//
//===----------------------------------------------------------------------===//

#include "dlc/Target/CUDA/TensorCores.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <map>
#include <set>

using namespace mlir;
using namespace mlir::dlc;

namespace {

int64_t eval(AffineExpr e, ArrayRef<int64_t> dims) {
  return AffineMap::get(dims.size(), 0, e).compose(dims).front();
}

std::pair<int64_t, int64_t> eval(std::pair<AffineExpr, AffineExpr> rc,
                                 ArrayRef<int64_t> dims) {
  return {eval(rc.first, dims), eval(rc.second, dims)};
}

class TensorCoresTest : public ::testing::Test {
protected:
  TensorCoresTest() {
    ctx.loadDialect<func::FuncDialect, linalg::LinalgDialect,
                    memref::MemRefDialect, arith::ArithDialect>();
    lane = getAffineDimExpr(0, &ctx);
  }
  MLIRContext ctx;
  AffineExpr lane;
};

// PTX ISA 9.7.14.5.x, mma.m16n8k8 with .tf32: groupID = laneid >> 2,
// threadID_in_group = laneid % 4;
//   a0: (groupID, tig)   a1: (groupID + 8, tig)
//   a2: (groupID, tig+4) a3: (groupID + 8, tig + 4)
//   b0: (k = tig, n = groupID)  b1: (k = tig + 4, n = groupID)
//   c0,c1: (groupID, 2 tig + {0,1})  c2,c3: (groupID + 8, 2 tig + {0,1})
TEST_F(TensorCoresTest, FragmentsMatchThePtxTables) {
  for (int64_t l = 0; l < 32; ++l) {
    int64_t g = l >> 2, t = l % 4;
    using P = std::pair<int64_t, int64_t>;
    EXPECT_EQ(eval(tc::fragmentA(lane, 0), l), P(g, t));
    EXPECT_EQ(eval(tc::fragmentA(lane, 1), l), P(g + 8, t));
    EXPECT_EQ(eval(tc::fragmentA(lane, 2), l), P(g, t + 4));
    EXPECT_EQ(eval(tc::fragmentA(lane, 3), l), P(g + 8, t + 4));
    EXPECT_EQ(eval(tc::fragmentB(lane, 0), l), P(t, g));
    EXPECT_EQ(eval(tc::fragmentB(lane, 1), l), P(t + 4, g));
    EXPECT_EQ(eval(tc::fragmentC(lane, 0), l), P(g, 2 * t));
    EXPECT_EQ(eval(tc::fragmentC(lane, 1), l), P(g, 2 * t + 1));
    EXPECT_EQ(eval(tc::fragmentC(lane, 2), l), P(g + 8, 2 * t));
    EXPECT_EQ(eval(tc::fragmentC(lane, 3), l), P(g + 8, 2 * t + 1));
  }
}

TEST_F(TensorCoresTest, FragmentsCoverTheirTilesOnce) {
  auto cover = [&](auto fragment, unsigned registers, int64_t rows,
                   int64_t cols) {
    std::set<std::pair<int64_t, int64_t>> seen;
    for (int64_t l = 0; l < 32; ++l)
      for (unsigned i = 0; i < registers; ++i) {
        auto [r, c] = eval(fragment(lane, i), l);
        EXPECT_LT(r, rows);
        EXPECT_LT(c, cols);
        EXPECT_TRUE(seen.insert({r, c}).second) << "lane " << l << " reg " << i;
      }
    EXPECT_EQ(int64_t(seen.size()), rows * cols);
  };
  cover(tc::fragmentA, 4, 16, 8);
  cover(tc::fragmentB, 2, 8, 8);
  cover(tc::fragmentC, 4, 16, 8);
}

TEST_F(TensorCoresTest, StagingCoversTilesOnceAndCoalesces) {
  for (bool colsFastest : {false, true}) {
    for (auto [rows, cols] :
         {std::pair<int64_t, int64_t>{tc::kBlockM, tc::kBlockK},
          {tc::kBlockK, tc::kBlockN}}) {
      std::set<std::pair<int64_t, int64_t>> seen;
      for (int64_t i = 0; i < rows * cols / tc::kThreads; ++i) {
        auto element = tc::tileElement(lane, i, rows, cols, colsFastest);
        for (int64_t t = 0; t < tc::kThreads; ++t) {
          auto [r, c] = eval(element, t);
          EXPECT_TRUE(seen.insert({r, c}).second);
          // Neighbouring threads, neighbouring elements of the fast
          // dimension (within a row or column of the tile).
          if (t % 8 != 0) {
            auto [pr, pc] = eval(element, t - 1);
            if (colsFastest && c != 0)
              EXPECT_EQ(std::make_pair(pr, pc + 1), std::make_pair(r, c));
            if (!colsFastest && r != 0)
              EXPECT_EQ(std::make_pair(pr + 1, pc), std::make_pair(r, c));
          }
        }
      }
      EXPECT_EQ(int64_t(seen.size()), rows * cols);
    }
  }
}

/// A static memref as a flat array.
struct Buffer {
  SmallVector<int64_t> shape;
  std::vector<double> data;
  explicit Buffer(MemRefType type) : shape(type.getShape()) {
    data.assign(type.getNumElements(), 0.0);
  }
  double &at(ArrayRef<int64_t> indices) {
    int64_t offset = 0;
    for (auto [i, size] : llvm::zip_equal(indices, shape)) {
      EXPECT_GE(i, 0);
      EXPECT_LT(i, size);
      offset = offset * size + i;
    }
    return data[offset];
  }
};

/// The kernel of formTensorCoreKernel, thread by thread, on the CPU. With
/// `statistics` (no split K), also its TileStatistics epilogue for the sum
/// and the sum of squares of the stored values per N index: each thread's
/// column sums, the shared [row group][column] slots (each written once),
/// the ordered sum of the groups into the tile's partial, then the ordered
/// combine of the tiles; [n][0] is the sum, [n][1] the sum of squares.
std::vector<double>
emulate(linalg::LinalgOp op, const tc::ContractionPlan &p, Buffer a, Buffer b,
        Buffer out, std::vector<std::array<double, 2>> *statistics = nullptr) {
  using namespace tc;
  AffineMap aMap = p.operandMap(op, *op.getDpsInputOperand(0));
  AffineMap bMap = p.operandMap(op, *op.getDpsInputOperand(1));
  AffineMap outMap = p.operandMap(op, *op.getDpsInitOperand(0));
  MLIRContext *ctx = op.getContext();
  AffineExpr d0 = getAffineDimExpr(0, ctx);
  std::map<std::vector<int64_t>, std::vector<double>> partials;
  std::vector<double> initial = out.data;
  // [tileM][n][result]: the statistics' partials.
  std::vector<std::array<double, 2>> statPartials(
      statistics ? p.tilesM() * p.n : 0, {std::nan(""), std::nan("")});
  for (int64_t tm = 0; tm < p.tilesM(); ++tm)
    for (int64_t tn = 0; tn < p.tilesN(); ++tn)
      for (int64_t z = 0; z < p.batch * p.splitK; ++z) {
        int64_t batch = z / p.splitK, chunk = z % p.splitK;
        // acc[warp][lane][tile][register]
        std::vector<double> acc(kThreads * 8 * 4, 0.0);
        auto accAt = [&](int64_t tid, int64_t tile, unsigned i) -> double & {
          return acc[(tid * 8 + tile) * 4 + i];
        };
        int64_t kEnd = std::min(chunk * p.kChunk + p.kChunk, p.k);
        for (int64_t k0 = chunk * p.kChunk; k0 < kEnd; k0 += kBlockK) {
          std::vector<double> aTile(kBlockM * (kBlockK + kPadA), -1e30);
          std::vector<double> bTile(kBlockK * (kBlockN + kPadB), -1e30);
          for (int64_t tid = 0; tid < kThreads; ++tid) {
            for (int64_t i = 0; i < kBlockM * kBlockK / kThreads; ++i) {
              auto [r, c] =
                  eval(tileElement(d0, i, kBlockM, kBlockK, p.aKFastest), tid);
              int64_t m = tm * kBlockM + r, k = k0 + c;
              SmallVector<int64_t> idx = aMap.compose(
                  {std::min(m, p.m - 1), 0, std::min(k, p.k - 1), batch});
              aTile[r * (kBlockK + kPadA) + c] =
                  m < p.m && k < p.k ? a.at(idx) : 0.0;
            }
            for (int64_t i = 0; i < kBlockK * kBlockN / kThreads; ++i) {
              auto [r, c] =
                  eval(tileElement(d0, i, kBlockK, kBlockN, !p.bKFastest), tid);
              int64_t n = tn * kBlockN + c, k = k0 + r;
              SmallVector<int64_t> idx = bMap.compose(
                  {0, std::min(n, p.n - 1), std::min(k, p.k - 1), batch});
              bTile[r * (kBlockN + kPadB) + c] =
                  n < p.n && k < p.k ? b.at(idx) : 0.0;
            }
          }
          for (int64_t warp = 0; warp < kThreads / 32; ++warp) {
            int64_t warpRow = warp / kWarpsN * kWarpM;
            int64_t warpCol = warp % kWarpsN * kWarpN;
            for (int64_t kStep = 0; kStep < kBlockK; kStep += kMmaK)
              for (int64_t mi = 0; mi < 2; ++mi)
                for (int64_t ni = 0; ni < 4; ++ni) {
                  // The hardware's view: the warp's registers as matrices.
                  double am[16][8], bm[8][8];
                  for (int64_t l = 0; l < 32; ++l) {
                    for (unsigned i = 0; i < 4; ++i) {
                      auto [r, c] = eval(fragmentA(d0, i), l);
                      am[r][c] =
                          aTile[(warpRow + mi * 16 + r) * (kBlockK + kPadA) +
                                kStep + c];
                    }
                    for (unsigned i = 0; i < 2; ++i) {
                      auto [r, c] = eval(fragmentB(d0, i), l);
                      bm[r][c] = bTile[(kStep + r) * (kBlockN + kPadB) +
                                       warpCol + ni * 8 + c];
                    }
                  }
                  for (int64_t l = 0; l < 32; ++l)
                    for (unsigned i = 0; i < 4; ++i) {
                      auto [r, c] = eval(fragmentC(d0, i), l);
                      double sum = 0;
                      for (int64_t k = 0; k < 8; ++k)
                        sum += am[r][k] * bm[k][c];
                      accAt(warp * 32 + l, mi * 4 + ni, i) += sum;
                    }
                }
          }
        }
        // shared[result][group][column], NaN until written.
        std::vector<double> shared(2 * kRowGroups * kBlockN, std::nan(""));
        for (int64_t tid = 0; tid < kThreads; ++tid) {
          int64_t warp = tid / 32, l = tid % 32;
          // sums[(ni * 2 + c) * 2 + result], the kernel's order.
          std::vector<double> sums(4 * 2 * 2, 0.0);
          for (int64_t mi = 0; mi < 2; ++mi)
            for (int64_t ni = 0; ni < 4; ++ni)
              for (unsigned i = 0; i < 4; ++i) {
                auto [r, c] = eval(fragmentC(d0, i), l);
                int64_t m =
                    tm * kBlockM + warp / kWarpsN * kWarpM + mi * 16 + r;
                int64_t n = tn * kBlockN + warp % kWarpsN * kWarpN + ni * 8 + c;
                // The statistics slot of this element is its column.
                EXPECT_EQ(tn * kBlockN +
                              eval(statisticsColumn(d0, ni, i % 2), tid),
                          n);
                if (m >= p.m || n >= p.n)
                  continue;
                SmallVector<int64_t> idx = outMap.compose({m, n, 0, batch});
                double v = accAt(tid, mi * 4 + ni, i);
                if (p.splitK == 1) {
                  out.at(idx) += v;
                  double stored = out.at(idx);
                  sums[(ni * 2 + i % 2) * 2 + 0] += stored;
                  sums[(ni * 2 + i % 2) * 2 + 1] += stored * stored;
                  continue;
                }
                std::vector<int64_t> key(idx.begin(), idx.end());
                auto &slot = partials[key];
                slot.resize(p.splitK, std::nan(""));
                EXPECT_TRUE(std::isnan(slot[chunk])) << "partial written twice";
                slot[chunk] = v;
              }
          if (!statistics)
            continue;
          int64_t group = eval(statisticsRowGroup(d0), tid);
          EXPECT_LT(group, kRowGroups);
          for (int64_t ni = 0; ni < 4; ++ni)
            for (int64_t c = 0; c < 2; ++c)
              for (int64_t j = 0; j < 2; ++j) {
                int64_t col = eval(statisticsColumn(d0, ni, c), tid);
                double &slot = shared[(j * kRowGroups + group) * kBlockN + col];
                EXPECT_TRUE(std::isnan(slot)) << "slot written twice";
                slot = sums[(ni * 2 + c) * 2 + j];
              }
        }
        if (!statistics)
          continue;
        // After the barrier: thread t of half j % 2 sums column t % 64.
        for (int64_t j = 0; j < 2; ++j)
          for (int64_t col = 0; col < kBlockN; ++col) {
            int64_t n = tn * kBlockN + col;
            double sum = 0;
            for (int64_t g = 0; g < kRowGroups; ++g) {
              double slot = shared[(j * kRowGroups + g) * kBlockN + col];
              EXPECT_FALSE(std::isnan(slot)) << "slot never written";
              sum += slot;
            }
            if (n < p.n)
              statPartials[tm * p.n + n][j] = sum;
          }
      }
  if (statistics) {
    statistics->assign(p.n, {0.0, 0.0});
    for (int64_t tm = 0; tm < p.tilesM(); ++tm)
      for (int64_t n = 0; n < p.n; ++n)
        for (int64_t j = 0; j < 2; ++j) {
          EXPECT_FALSE(std::isnan(statPartials[tm * p.n + n][j]));
          (*statistics)[n][j] += statPartials[tm * p.n + n][j];
        }
  }
  if (p.splitK > 1) {
    EXPECT_EQ(int64_t(partials.size()), int64_t(out.data.size()));
    for (auto &[key, slot] : partials)
      for (double v : slot) // The ordered combine.
        out.at(key) += v;
  }
  return out.data;
}

/// out += a * b by the op's own loops and maps.
std::vector<double> reference(linalg::LinalgOp op, Buffer a, Buffer b,
                              Buffer out) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  AffineMap aMap = op.getMatchingIndexingMap(op.getDpsInputOperand(0));
  AffineMap bMap = op.getMatchingIndexingMap(op.getDpsInputOperand(1));
  AffineMap outMap = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  SmallVector<int64_t> point(ranges.size(), 0);
  while (true) {
    out.at(outMap.compose(point)) +=
        a.at(aMap.compose(point)) * b.at(bMap.compose(point));
    unsigned d = ranges.size();
    while (d > 0 && ++point[d - 1] == ranges[d - 1])
      point[--d] = 0;
    if (d == 0)
      break;
  }
  return out.data;
}

/// The buffer of `v`'s type filled with small integers in [-8, 8]
/// (sums of their products are exact in doubles).
Buffer smallIntegers(Value v, int seed) {
  Buffer buf(cast<MemRefType>(v.getType()));
  for (size_t i = 0; i < buf.data.size(); ++i)
    buf.data[i] = double(int64_t((i * 7919 + seed * 104729) % 17) - 8);
  return buf;
}

/// The one linalg op of `source` (a func.func on memrefs), parsed into
/// `module`; null on a parse error.
linalg::LinalgOp parseContraction(MLIRContext &ctx, StringRef source,
                                  OwningOpRef<ModuleOp> &module) {
  module = parseSourceString<ModuleOp>(source, &ctx);
  EXPECT_TRUE(module);
  linalg::LinalgOp op;
  if (module)
    module->walk([&](linalg::LinalgOp o) { op = o; });
  return op;
}

/// Parses `body` (a func.func on memrefs holding one linalg op), plans it,
/// and compares the emulated kernel with the reference. Returns the plan.
tc::ContractionPlan check(MLIRContext &ctx, StringRef source,
                          int64_t splitBlocks = 264) {
  OwningOpRef<ModuleOp> module;
  linalg::LinalgOp op = parseContraction(ctx, source, module);
  if (!op)
    return {};
  FailureOr<tc::ContractionPlan> plan = tc::planContraction(op, splitBlocks);
  EXPECT_TRUE(succeeded(plan));
  if (failed(plan))
    return {};
  Buffer a = smallIntegers(op.getDpsInputs()[0], 1);
  Buffer b = smallIntegers(op.getDpsInputs()[1], 2);
  Buffer out = smallIntegers(op.getDpsInits()[0], 3);
  // Small integers: every sum is exact, so the orders must agree exactly.
  EXPECT_EQ(emulate(op, *plan, a, b, out), reference(op, a, b, out));
  return *plan;
}

TEST_F(TensorCoresTest, ConvForwardBoundaryTiles) {
  tc::ContractionPlan plan = check(ctx, R"mlir(
    func.func @f(%i: memref<2x9x9x3xf32>, %w: memref<3x3x3x10xf32>,
                 %o: memref<2x7x7x10xf32>) {
      linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>,
                                strides = dense<1> : tensor<2xi64>}
        ins(%i, %w : memref<2x9x9x3xf32>, memref<3x3x3x10xf32>)
        outs(%o : memref<2x7x7x10xf32>)
      return
    })mlir");
  EXPECT_EQ(plan.m, 2 * 7 * 7);
  EXPECT_EQ(plan.n, 10);
  EXPECT_EQ(plan.k, 27);
  EXPECT_TRUE(plan.aKFastest);  // NHWC input: c innermost.
  EXPECT_FALSE(plan.bKFastest); // HWCF filter: f innermost.
}

// The conv + batch-norm statistics epilogue (TileStatistics): every output
// element reaches the sums of its channel exactly once, through the
// threads' column slots, the shared row groups and the tiles' partials, on
// boundary tiles in M and N (two tiles of channels). Small integers: the
// sums are exact, so the kernel's order must give the reference exactly.
TEST_F(TensorCoresTest, ConvStatisticsEpilogue) {
  OwningOpRef<ModuleOp> module;
  linalg::LinalgOp op = parseContraction(ctx, R"mlir(
    func.func @f(%i: memref<2x9x9x3xf32>, %w: memref<3x3x3x70xf32>,
                 %o: memref<2x7x7x70xf32>) {
      linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>,
                                strides = dense<1> : tensor<2xi64>}
        ins(%i, %w : memref<2x9x9x3xf32>, memref<3x3x3x70xf32>)
        outs(%o : memref<2x7x7x70xf32>)
      return
    })mlir",
                                         module);
  ASSERT_TRUE(op);
  FailureOr<tc::ContractionPlan> plan = tc::planContraction(op, 0);
  ASSERT_TRUE(succeeded(plan));
  ASSERT_EQ(plan->splitK, 1);
  ASSERT_EQ(plan->tilesN(), 2);
  std::vector<std::array<double, 2>> statistics;
  std::vector<double> result =
      emulate(op, *plan, smallIntegers(op.getDpsInputs()[0], 1),
              smallIntegers(op.getDpsInputs()[1], 2),
              smallIntegers(op.getDpsInits()[0], 3), &statistics);
  ASSERT_EQ(int64_t(statistics.size()), plan->n);
  for (int64_t n = 0; n < plan->n; ++n) {
    double sum = 0, squares = 0;
    for (size_t e = n; e < result.size(); e += plan->n) {
      sum += result[e];
      squares += result[e] * result[e];
    }
    EXPECT_EQ(statistics[n][0], sum) << "channel " << n;
    EXPECT_EQ(statistics[n][1], squares) << "channel " << n;
  }
}

TEST_F(TensorCoresTest, ConvForwardStrided) {
  check(ctx, R"mlir(
    func.func @f(%i: memref<3x9x9x5xf32>, %w: memref<3x3x5x17xf32>,
                 %o: memref<3x4x4x17xf32>) {
      linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>,
                                strides = dense<2> : tensor<2xi64>}
        ins(%i, %w : memref<3x9x9x5xf32>, memref<3x3x5x17xf32>)
        outs(%o : memref<3x4x4x17xf32>)
      return
    })mlir");
}

TEST_F(TensorCoresTest, MatmulAndBatchMatmul) {
  check(ctx, R"mlir(
    func.func @f(%a: memref<70x21xf32>, %b: memref<21x75xf32>,
                 %c: memref<70x75xf32>) {
      linalg.matmul ins(%a, %b : memref<70x21xf32>, memref<21x75xf32>)
                    outs(%c : memref<70x75xf32>)
      return
    })mlir");
  tc::ContractionPlan plan = check(ctx, R"mlir(
    func.func @f(%a: memref<3x20x17xf32>, %b: memref<3x17x9xf32>,
                 %c: memref<3x20x9xf32>) {
      linalg.batch_matmul ins(%a, %b : memref<3x20x17xf32>, memref<3x17x9xf32>)
                          outs(%c : memref<3x20x9xf32>)
      return
    })mlir");
  EXPECT_EQ(plan.batch, 3);
}

// The filter gradient (as the autodiff writes it: a generic over the
// output's dims and the batch's), split into 2 chunks of K.
TEST_F(TensorCoresTest, FilterGradientSplitK) {
  tc::ContractionPlan plan = check(ctx, R"mlir(
    #i = affine_map<(kh, kw, c, f, n, oh, ow) -> (n, oh + kh, ow + kw, c)>
    #g = affine_map<(kh, kw, c, f, n, oh, ow) -> (n, oh, ow, f)>
    #w = affine_map<(kh, kw, c, f, n, oh, ow) -> (kh, kw, c, f)>
    func.func @f(%i: memref<8x10x10x3xf32>, %g: memref<8x8x8x8xf32>,
                 %w: memref<3x3x3x8xf32>) {
      linalg.generic {indexing_maps = [#i, #g, #w],
                      iterator_types = ["parallel", "parallel", "parallel",
                                        "parallel", "reduction", "reduction",
                                        "reduction"]}
          ins(%i, %g : memref<8x10x10x3xf32>, memref<8x8x8x8xf32>)
          outs(%w : memref<3x3x3x8xf32>) {
      ^bb0(%x: f32, %y: f32, %acc: f32):
        %p = arith.mulf %x, %y : f32
        %s = arith.addf %acc, %p : f32
        linalg.yield %s : f32
      }
      return
    })mlir",
                                   /*splitBlocks=*/8);
  EXPECT_EQ(plan.k, 512);
  EXPECT_EQ(plan.splitK, 2);
  EXPECT_EQ(plan.kChunk, 256);
  EXPECT_FALSE(plan.aKFastest); // c, an M dimension, is innermost.
}

TEST_F(TensorCoresTest, NotAContractionIsLeftToSIMT) {
  OwningOpRef<ModuleOp> module;
  linalg::LinalgOp op = parseContraction(ctx, R"mlir(
    #m = affine_map<(d0, d1) -> (d0, d1)>
    func.func @f(%a: memref<64x64xf32>, %b: memref<64x64xf32>,
                 %c: memref<64x64xf32>) {
      linalg.generic {indexing_maps = [#m, #m, #m],
                      iterator_types = ["parallel", "parallel"]}
          ins(%a, %b : memref<64x64xf32>, memref<64x64xf32>)
          outs(%c : memref<64x64xf32>) {
      ^bb0(%x: f32, %y: f32, %acc: f32):
        %p = arith.mulf %x, %y : f32
        %s = arith.addf %acc, %p : f32
        linalg.yield %s : f32
      }
      return
    })mlir",
                                         module);
  ASSERT_TRUE(op);
  // Elementwise (no reduction, no N dimension): not a GEMM.
  EXPECT_TRUE(failed(tc::planContraction(op, 264)));
}

} // namespace
