//===- InstrumentKernels.cpp - Time every kernel of the compiled steps ----===//
//
// The profile mode (`dlc compile --profile`, `EXE train --profile`): every
// top-level loop nest or copy of a compiled function, a "kernel", gets a
// call to dlc_profile_enter(id) before it and dlc_profile_exit(id) after
// it (the runtime accumulates wall-clock time per id, parallel regions
// included, since the calls sit outside them). The kernels' description
// goes in the object as one JSON string, @dlc_profile_kernels: for each
// id, its function, the layers its location names, the shape of its loop
// nest and its static work (float operations, bytes loaded and stored,
// vector operations counted per lane and FMAs as two), from which the
// runtime prints GFLOP/s and GB/s.
//
//===----------------------------------------------------------------------===//

#include "StaticTrips.h"
#include "dlc/Target/CPU/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/JSON.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_CPUINSTRUMENTKERNELSPASS
#include "dlc/Target/CPU/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;
using namespace mlir::dlc;

namespace {

constexpr llvm::StringLiteral kEnter = "dlc_profile_enter";
constexpr llvm::StringLiteral kExit = "dlc_profile_exit";
constexpr llvm::StringLiteral kTable = "dlc_profile_kernels";

/// Static work of a loop nest (see the file comment).
struct Work {
  double flops = 0;
  double bytes = 0;
};

int64_t elementsOf(Type type) {
  if (auto vector = dyn_cast<VectorType>(type))
    return vector.getNumElements();
  return 1;
}

int64_t bytesOf(Type type) {
  Type element = getElementTypeOrSelf(type);
  int64_t bits = element.isIntOrFloat() ? element.getIntOrFloatBitWidth() : 64;
  return elementsOf(type) * std::max<int64_t>(bits / 8, 1);
}

Work workOf(Operation *root) {
  Work body;
  for (Region &region : root->getRegions())
    for (Block &block : region)
      for (Operation &op : block) {
        if (op.getNumRegions() > 0) {
          Work inner = workOf(&op);
          body.flops += inner.flops;
          body.bytes += inner.bytes;
          continue;
        }
        if (isa<vector::FMAOp, math::FmaOp, vector::OuterProductOp>(op)) {
          body.flops += 2.0 * elementsOf(op.getResult(0).getType());
        } else if (op.getDialect() &&
                   (isa<math::MathDialect>(op.getDialect()) ||
                    (isa<arith::ArithDialect>(op.getDialect()) &&
                     op.getNumResults() == 1 &&
                     isa<FloatType>(
                         getElementTypeOrSelf(op.getResult(0).getType())) &&
                     !isa<arith::ConstantOp>(op)))) {
          body.flops += elementsOf(op.getResult(0).getType());
        } else if (isa<memref::LoadOp, vector::LoadOp, vector::TransferReadOp,
                       vector::MaskedLoadOp>(op)) {
          body.bytes += bytesOf(op.getResult(0).getType());
        } else if (isa<memref::StoreOp, vector::StoreOp,
                       vector::TransferWriteOp, vector::MaskedStoreOp>(op)) {
          body.bytes += bytesOf(op.getOperand(0).getType());
        } else if (auto copy = dyn_cast<memref::CopyOp>(op)) {
          auto type = cast<MemRefType>(copy.getSource().getType());
          if (type.hasStaticShape())
            body.bytes +=
                2.0 * type.getNumElements() * bytesOf(type.getElementType());
        }
      }
  double trips = staticTripCount(root);
  if (auto copy = dyn_cast<memref::CopyOp>(root)) {
    auto type = cast<MemRefType>(copy.getSource().getType());
    if (type.hasStaticShape())
      body.bytes +=
          2.0 * type.getNumElements() * bytesOf(type.getElementType());
  }
  return {body.flops * trips, body.bytes * trips};
}

/// The layer names in `loc` (NameLocs, through fused locations), in order.
void collectNames(Location loc, llvm::SetVector<StringRef> &names) {
  if (auto name = dyn_cast<NameLoc>(loc)) {
    names.insert(name.getName().getValue());
    return;
  }
  if (auto fused = dyn_cast<FusedLoc>(loc))
    for (Location inner : fused.getLocations())
      collectNames(inner, names);
  if (auto callSite = dyn_cast<CallSiteLoc>(loc))
    collectNames(callSite.getCallee(), names);
}

/// The layers a nest computes for: the names of its ops' locations, most
/// frequent first (at most three).
std::string layersOf(Operation *root) {
  llvm::MapVector<StringRef, int64_t> counts;
  root->walk([&](Operation *op) {
    llvm::SetVector<StringRef> names;
    collectNames(op->getLoc(), names);
    for (StringRef name : names)
      ++counts[name];
  });
  SmallVector<std::pair<StringRef, int64_t>> sorted(counts.begin(),
                                                    counts.end());
  llvm::stable_sort(sorted,
                    [](auto &a, auto &b) { return a.second > b.second; });
  std::string result;
  for (auto [index, entry] : llvm::enumerate(sorted)) {
    if (index == 3)
      break;
    if (index)
      result += "+";
    result += entry.first.str();
  }
  return result.empty() ? "-" : result;
}

/// The nest's outer loops, e.g. "par 64x24x24 > for 3": where its time goes.
std::string shapeOf(Operation *root) {
  std::string shape;
  Operation *op = root;
  for (int depth = 0; op && depth < 3; ++depth) {
    std::string level;
    if (auto parallel = dyn_cast<scf::ParallelOp>(op)) {
      level = "par ";
      for (auto [index, bounds] : llvm::enumerate(
               llvm::zip(parallel.getLowerBound(), parallel.getUpperBound(),
                         parallel.getStep())))
        level +=
            (index ? "x" : "") +
            std::to_string(staticTripCount(
                std::get<0>(bounds), std::get<1>(bounds), std::get<2>(bounds)));
    } else if (auto forOp = dyn_cast<scf::ForOp>(op)) {
      level = "for " + std::to_string(staticTripCount(forOp));
    } else {
      level = op->getName().getStringRef().str();
    }
    shape += (shape.empty() ? "" : " > ") + level;
    // The first nested loop, if any.
    Operation *next = nullptr;
    for (Region &region : op->getRegions())
      for (Operation &inner : region.getOps())
        if (!next && isa<scf::ForOp, scf::ParallelOp>(inner))
          next = &inner;
    op = next;
  }
  return shape;
}

bool isKernel(Operation &op) {
  return isa<scf::ForOp, scf::ParallelOp, memref::CopyOp>(op);
}

struct CPUInstrumentKernelsPass
    : mlir::dlc::impl::CPUInstrumentKernelsPassBase<CPUInstrumentKernelsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    OpBuilder builder(ctx);
    builder.setInsertionPointToEnd(module.getBody());
    auto hookType = builder.getFunctionType({builder.getI32Type()}, {});
    SmallVector<func::FuncOp> funcs;
    for (auto func : module.getOps<func::FuncOp>())
      if (!func.isExternal())
        funcs.push_back(func);
    if (funcs.empty())
      return;
    for (StringRef hook : {kEnter, kExit})
      if (!module.lookupSymbol(hook))
        func::FuncOp::create(builder, module.getLoc(), hook, hookType)
            .setPrivate();

    llvm::json::Array kernels;
    int32_t id = 0;
    for (func::FuncOp func : funcs) {
      SmallVector<Operation *> nests;
      for (Block &block : func.getBody())
        for (Operation &op : block)
          if (isKernel(op))
            nests.push_back(&op);
      for (Operation *nest : nests) {
        Work work = workOf(nest);
        kernels.push_back(llvm::json::Object{
            {"function", func.getSymName()},
            {"layers", layersOf(nest)},
            {"loops", shapeOf(nest)},
            {"flops", work.flops},
            {"bytes", work.bytes},
        });
        Location loc = nest->getLoc();
        builder.setInsertionPoint(nest);
        Value value = arith::ConstantIntOp::create(builder, loc, id, 32);
        func::CallOp::create(builder, loc, kEnter, TypeRange{},
                             ValueRange{value});
        builder.setInsertionPointAfter(nest);
        func::CallOp::create(builder, loc, kExit, TypeRange{},
                             ValueRange{value});
        ++id;
      }
    }

    // The description, a NUL-terminated string the runtime reads by name.
    std::string json;
    llvm::raw_string_ostream os(json);
    os << llvm::json::Value(std::move(kernels));
    json.push_back('\0');
    builder.setInsertionPointToEnd(module.getBody());
    auto type = LLVM::LLVMArrayType::get(builder.getI8Type(), json.size());
    LLVM::GlobalOp::create(builder, module.getLoc(), type, /*isConstant=*/true,
                           LLVM::Linkage::External, kTable,
                           builder.getStringAttr(json));
  }
};

} // namespace
