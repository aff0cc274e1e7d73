//===- PlanWorkspace.cpp - Temporaries in one static workspace -----------===//
//
// Bufferization leaves every temporary of a compiled step as a memref.alloc
// in the entry block, and buffer deallocation frees them all at the end of
// the function. At run time that is ~100 malloc/free pairs per training
// step, each large one fresh pages from the kernel, and every temporary
// alive until the step returns. Here the live range of each temporary is
// computed from its uses, the temporaries are packed into one byte array by
// greedy placement, and each allocation becomes a view of a static global:
// no allocation per step, and dead temporaries' memory is reused.
//
//===----------------------------------------------------------------------===//

#include "dlc/Target/CPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/CallInterfaces.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/Support/MathExtras.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_CPUPLANWORKSPACEPASS
#include "dlc/Target/CPU/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;
using namespace mlir::dlc;

namespace {

/// A temporary placed in the workspace, live from `begin` to `end`
/// (inclusive, positions in the entry block).
struct Buffer {
  memref::AllocOp alloc;
  int64_t bytes = 0;
  int64_t alignment = 1;
  unsigned begin = 0, end = 0;
  int64_t offset = 0;
};

/// Bytes of a statically shaped memref of int, float or index elements.
std::optional<int64_t> getStaticBytes(MemRefType type) {
  if (!type.hasStaticShape() || !type.getLayout().isIdentity() ||
      type.getMemorySpace())
    return std::nullopt;
  Type element = type.getElementType();
  int64_t bits = element.isIndex() ? 64 : element.getIntOrFloatBitWidth();
  if (!element.isIntOrIndexOrFloat() || bits % 8 != 0)
    return std::nullopt;
  return type.getNumElements() * (bits / 8);
}

/// The last position in `entry` at which `alloc` or a memref derived from
/// it is used; `last` when an operation may keep it past its own execution
/// (a call, a raw pointer). Fails for a buffer that leaves the function or
/// is freed through another value, which is then left to the allocator.
FailureOr<unsigned> findLastUse(memref::AllocOp alloc, Block &entry,
                                const DenseMap<Operation *, unsigned> &order,
                                unsigned last) {
  unsigned end = order.lookup(alloc);
  SmallVector<Value> worklist{alloc.getResult()};
  DenseSet<Value> seen{alloc.getResult()};
  auto addAlias = [&](Value value) {
    if (isa<BaseMemRefType>(value.getType()) && seen.insert(value).second)
      worklist.push_back(value);
  };
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    for (OpOperand &use : value.getUses()) {
      Operation *user = use.getOwner();
      if (isa<memref::DeallocOp>(user)) {
        if (value != alloc.getResult())
          return failure(); // Freed through an alias: ownership not plain.
        continue;
      }
      if (isa<func::ReturnOp>(user) ||
          user->getName().getStringRef() == "bufferization.dealloc")
        return failure();
      Operation *ancestor = entry.findAncestorOpInBlock(*user);
      if (!ancestor)
        return failure();
      end = std::max(end, order.lookup(ancestor));
      if (isa<CallOpInterface, memref::ExtractAlignedPointerAsIndexOp>(user))
        end = last;
      // Whatever the user returns, yields or passes into its regions may
      // alias the buffer: follow every memref it produces.
      for (Value result : user->getResults())
        addAlias(result);
      for (Region &region : user->getRegions())
        for (Block &block : region)
          for (BlockArgument argument : block.getArguments())
            addAlias(argument);
      if (user->hasTrait<OpTrait::IsTerminator>()) {
        Operation *parent = user->getParentOp();
        if (parent == entry.getParentOp())
          return failure();
        for (Value result : parent->getResults())
          addAlias(result);
      }
    }
  }
  return end;
}

/// Offsets for `buffers`, largest first at the lowest offset that overlaps
/// no buffer placed before it and live at the same time. Returns the size.
int64_t placeBuffers(MutableArrayRef<Buffer> buffers) {
  SmallVector<Buffer *> bySize;
  for (Buffer &buffer : buffers)
    bySize.push_back(&buffer);
  llvm::stable_sort(bySize, [](const Buffer *a, const Buffer *b) {
    return a->bytes > b->bytes;
  });
  SmallVector<Buffer *> placed;
  int64_t size = 0;
  for (Buffer *buffer : bySize) {
    SmallVector<Buffer *> live;
    for (Buffer *other : placed)
      if (other->begin <= buffer->end && buffer->begin <= other->end)
        live.push_back(other);
    llvm::sort(live, [](const Buffer *a, const Buffer *b) {
      return a->offset < b->offset;
    });
    int64_t offset = 0;
    for (Buffer *other : live) {
      if (offset + buffer->bytes <= other->offset)
        break;
      offset = std::max(offset,
                        static_cast<int64_t>(llvm::alignTo(
                            other->offset + other->bytes, buffer->alignment)));
    }
    buffer->offset = offset;
    size = std::max(size, offset + buffer->bytes);
    placed.push_back(buffer);
  }
  return size;
}

/// The planned temporaries of one function.
struct FunctionPlan {
  func::FuncOp func;
  SmallVector<Buffer> buffers;
  int64_t size = 0;
  int64_t alignment = 1;
};

struct CPUPlanWorkspacePass
    : mlir::dlc::impl::CPUPlanWorkspacePassBase<CPUPlanWorkspacePass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<FunctionPlan> plans;
    for (auto func : module.getOps<func::FuncOp>())
      if (!func.isExternal())
        if (FunctionPlan plan = planFunction(func); !plan.buffers.empty())
          plans.push_back(std::move(plan));
    if (plans.empty())
      return;

    // The runtime calls one compiled function at a time, so they can all
    // share one workspace, as large as the largest plan; unless one calls
    // another, whose temporaries must then not overwrite the caller's.
    bool callsDefinedFunction = false;
    module.walk([&](CallOpInterface call) {
      auto callee = dyn_cast_if_present<func::FuncOp>(call.resolveCallable());
      if (callee && !callee.isExternal())
        callsDefinedFunction = true;
    });
    SymbolTable symbols(module);
    if (!callsDefinedFunction) {
      int64_t size = 0, globalAlignment = 1;
      for (const FunctionPlan &plan : plans) {
        size = std::max(size, plan.size);
        globalAlignment = std::max(globalAlignment, plan.alignment);
      }
      memref::GlobalOp global = createWorkspace(
          module, symbols, "__dlc_workspace", size, globalAlignment);
      for (FunctionPlan &plan : plans)
        rewrite(plan, global);
      return;
    }
    for (FunctionPlan &plan : plans)
      rewrite(plan,
              createWorkspace(module, symbols,
                              ("__dlc_workspace_" + plan.func.getName()).str(),
                              plan.size, plan.alignment));
  }

  /// The static temporaries of `func` with their live ranges and offsets.
  FunctionPlan planFunction(func::FuncOp func) {
    FunctionPlan plan;
    plan.func = func;
    plan.alignment = alignment;
    Block &entry = func.getBody().front();
    DenseMap<Operation *, unsigned> order;
    unsigned position = 0;
    for (Operation &op : entry)
      order[&op] = position++;
    unsigned last = position - 1;
    for (auto alloc : entry.getOps<memref::AllocOp>()) {
      std::optional<int64_t> bytes = getStaticBytes(alloc.getType());
      if (!bytes || *bytes == 0)
        continue;
      FailureOr<unsigned> end = findLastUse(alloc, entry, order, last);
      if (failed(end))
        continue;
      Buffer buffer;
      buffer.alloc = alloc;
      buffer.bytes = *bytes;
      buffer.alignment =
          std::max<int64_t>(alignment, alloc.getAlignment().value_or(1));
      buffer.begin = order.lookup(alloc);
      buffer.end = *end;
      plan.alignment = std::max(plan.alignment, buffer.alignment);
      plan.buffers.push_back(buffer);
    }
    plan.size = placeBuffers(plan.buffers);
    return plan;
  }

  /// An uninitialized byte array: .bss, no bytes in the object file.
  memref::GlobalOp createWorkspace(ModuleOp module, SymbolTable &symbols,
                                   StringRef name, int64_t size,
                                   int64_t globalAlignment) {
    OpBuilder builder = OpBuilder::atBlockBegin(module.getBody());
    auto global = memref::GlobalOp::create(
        builder, module.getLoc(), name, builder.getStringAttr("private"),
        MemRefType::get({size}, builder.getI8Type()),
        /*initial_value=*/builder.getUnitAttr(), /*constant=*/false,
        builder.getI64IntegerAttr(globalAlignment));
    symbols.insert(global);
    return global;
  }

  /// Each planned allocation of `plan` becomes a view of `global`.
  void rewrite(FunctionPlan &plan, memref::GlobalOp global) {
    Block &entry = plan.func.getBody().front();
    OpBuilder builder = OpBuilder::atBlockBegin(&entry);
    Location loc = plan.func.getLoc();
    Value workspace = memref::GetGlobalOp::create(
        builder, loc, global.getType(), global.getSymName());
    // One constant per offset, next to the workspace.
    DenseMap<int64_t, Value> offsets;
    for (Buffer &buffer : plan.buffers)
      if (!offsets.count(buffer.offset))
        offsets[buffer.offset] =
            arith::ConstantIndexOp::create(builder, loc, buffer.offset);
    for (Buffer &buffer : plan.buffers) {
      memref::AllocOp alloc = buffer.alloc;
      builder.setInsertionPoint(alloc);
      Value view = memref::ViewOp::create(builder, alloc.getLoc(),
                                          alloc.getType(), workspace,
                                          offsets[buffer.offset], ValueRange{});
      for (Operation *user : llvm::to_vector(alloc->getUsers()))
        if (isa<memref::DeallocOp>(user))
          user->erase();
      alloc.replaceAllUsesWith(view);
      alloc.erase();
    }
  }
};

} // namespace
