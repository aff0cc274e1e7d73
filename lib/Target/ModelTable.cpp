//===- ModelTable.cpp - dlc-emit-model-table: the runtime's table --------===//
//
// Builds `dlc_model` (include/dlc/Runtime/ModelABI.h) and the packed entry
// points in the LLVM dialect from the `dlc.model` module attribute that
// dlc-describe-model recorded before lowering. The LLVM struct types below
// mirror the C structs field by field; LLVM lays them out by the C rules of
// the target's data layout, so the runtime reads them as declared.
//
//===----------------------------------------------------------------------===//

#include "dlc/Dialect/DLC/IR/ModelAttributes.h"
#include "dlc/Runtime/ModelABI.h"
#include "dlc/Target/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSwitch.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_DLCEMITMODELTABLE
#include "dlc/Target/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;
using namespace mlir::dlc;

namespace {

/// One argument or result entry of the description, decoded.
struct TensorEntry {
  std::string name, role, init;
  int32_t dtype = -1, rank = DLC_RANK_SCALAR;
  uint32_t flags = 0;
  SmallVector<int64_t, DLC_MAX_RANK> shape;
};

FailureOr<TensorEntry> decode(DictionaryAttr entry, Location loc) {
  TensorEntry t;
  auto fail = [&](const Twine &message) {
    return emitError(loc, "dlc.model: ") << message << " in " << entry;
  };
  if (auto name = entry.getAs<StringAttr>("name"))
    t.name = name.str();
  if (auto init = entry.getAs<StringAttr>("init"))
    t.init = init.str();
  if (entry.get("in_place"))
    t.flags |= DLC_TENSOR_IN_PLACE;
  if (entry.get("device_scalar"))
    t.flags |= DLC_TENSOR_DEVICE_SCALAR;
  static const char *const roles[] = DLC_ROLES;
  auto role = entry.getAs<StringAttr>("role");
  if (!role || !llvm::is_contained(roles, role.getValue()))
    return fail("no known role");
  t.role = role.str();
  auto typeAttr = entry.getAs<TypeAttr>("type");
  if (!typeAttr)
    return fail("no type");
  Type element = typeAttr.getValue();
  if (auto tensor = dyn_cast<RankedTensorType>(element)) {
    if (!tensor.hasStaticShape() || tensor.getRank() > DLC_MAX_RANK)
      return fail("a tensor the runtime cannot hold");
    t.rank = tensor.getRank();
    t.shape.assign(tensor.getShape().begin(), tensor.getShape().end());
    element = tensor.getElementType();
  }
  if (element.isF32())
    t.dtype = DLC_DTYPE_F32;
  else if (element.isInteger(32))
    t.dtype = DLC_DTYPE_I32;
  else if (element.isInteger(64))
    t.dtype = DLC_DTYPE_I64;
  else
    return fail("an element type the runtime cannot hold");
  return t;
}

class TableBuilder {
public:
  TableBuilder(ModuleOp module, int32_t device)
      : module(module), ctx(module.getContext()), device(device),
        b(OpBuilder::atBlockEnd(module.getBody())), loc(module.getLoc()),
        ptr(LLVM::LLVMPointerType::get(ctx)), i32(b.getI32Type()),
        i64(b.getI64Type()) {
    auto shapeType = LLVM::LLVMArrayType::get(i64, DLC_MAX_RANK);
    tensorInfo = structType("dlc_tensor_info",
                            {ptr, ptr, ptr, i32, i32, shapeType, i32});
    functionInfo =
        structType("dlc_function_info", {ptr, ptr, i32, i32, ptr, ptr});
    modelInfo = structType("dlc_model_info", {i32, i32, ptr, ptr, i32, ptr});
  }

  LogicalResult build(DictionaryAttr model) {
    auto functions = model.getAs<ArrayAttr>("functions");
    if (!functions)
      return emitError(loc, "dlc.model has no functions");
    SmallVector<std::function<Value(OpBuilder &)>> entries;
    for (Attribute f : functions) {
      auto fn = dyn_cast<DictionaryAttr>(f);
      auto name = fn ? fn.getAs<StringAttr>("name") : StringAttr();
      auto args = fn ? fn.getAs<ArrayAttr>("args") : ArrayAttr();
      auto results = fn ? fn.getAs<ArrayAttr>("results") : ArrayAttr();
      if (!name || !args || !results)
        return emitError(loc, "dlc.model: malformed function ") << f;
      FailureOr<LLVM::LLVMFuncOp> packed =
          packedWrapper(name.getValue(), args.size() + results.size());
      FailureOr<LLVM::GlobalOp> argTable =
          tensorTable(args, ("dlc_args_" + name.getValue()).str());
      FailureOr<LLVM::GlobalOp> resultTable =
          tensorTable(results, ("dlc_results_" + name.getValue()).str());
      if (failed(packed) || failed(argTable) || failed(resultTable))
        return failure();
      LLVM::GlobalOp nameString = string(name.getValue());
      int32_t numArgs = args.size(), numResults = results.size();
      entries.push_back([=, this](OpBuilder &r) {
        return structValue(r, functionInfo,
                           {address(r, nameString), address(r, *packed),
                            constant(r, i32, numArgs),
                            constant(r, i32, numResults), address(r, *argTable),
                            address(r, *resultTable)});
      });
    }
    LLVM::GlobalOp functionTable =
        arrayGlobal("dlc_functions", functionInfo, entries);

    auto name = model.getAs<StringAttr>("name");
    auto settings = model.getAs<StringAttr>("settings");
    LLVM::GlobalOp nameString = string(name ? name.getValue() : "model");
    LLVM::GlobalOp settingsString =
        string(settings ? settings.getValue() : "{}");
    int32_t numFunctions = entries.size();
    // External, so that the runtime linked with the object finds it.
    global("dlc_model", modelInfo, LLVM::Linkage::External, [&](OpBuilder &r) {
      return structValue(
          r, modelInfo,
          {constant(r, i32, DLC_MODEL_ABI_VERSION), constant(r, i32, device),
           address(r, nameString), address(r, settingsString),
           constant(r, i32, numFunctions), address(r, functionTable)});
    });
    return success();
  }

private:
  LLVM::LLVMStructType structType(StringRef name, ArrayRef<Type> body) {
    auto type = LLVM::LLVMStructType::getIdentified(ctx, name);
    if (!type.isInitialized())
      (void)type.setBody(body, /*isPacked=*/false);
    return type;
  }

  /// A constant global initialized by the value `init` builds.
  LLVM::GlobalOp global(StringRef name, Type type, LLVM::Linkage linkage,
                        llvm::function_ref<Value(OpBuilder &)> init) {
    OpBuilder::InsertionGuard guard(b);
    auto op = LLVM::GlobalOp::create(b, loc, type, /*isConstant=*/true, linkage,
                                     name, Attribute());
    OpBuilder r = OpBuilder::atBlockBegin(b.createBlock(&op.getRegion()));
    LLVM::ReturnOp::create(r, loc, init(r));
    return op;
  }

  LLVM::GlobalOp
  arrayGlobal(StringRef name, Type element,
              ArrayRef<std::function<Value(OpBuilder &)>> entries) {
    auto type = LLVM::LLVMArrayType::get(element, entries.size());
    return global(
        uniqueName(name), type, LLVM::Linkage::Private, [&](OpBuilder &r) {
          Value array = LLVM::UndefOp::create(r, loc, type);
          for (auto [i, entry] : llvm::enumerate(entries))
            array = LLVM::InsertValueOp::create(r, loc, array, entry(r),
                                                ArrayRef<int64_t>{int64_t(i)});
          return array;
        });
  }

  /// A NUL-terminated string constant, one per distinct text.
  LLVM::GlobalOp string(StringRef text) {
    LLVM::GlobalOp &op = strings[text];
    if (op)
      return op;
    OpBuilder::InsertionGuard guard(b);
    std::string value = text.str();
    value.push_back('\0');
    auto type = LLVM::LLVMArrayType::get(b.getI8Type(), value.size());
    op = LLVM::GlobalOp::create(b, loc, type, /*isConstant=*/true,
                                LLVM::Linkage::Private, uniqueName("dlc_str"),
                                b.getStringAttr(value));
    op.setUnnamedAddr(LLVM::UnnamedAddr::Global);
    return op;
  }

  FailureOr<LLVM::GlobalOp> tensorTable(ArrayAttr list, StringRef name) {
    SmallVector<std::function<Value(OpBuilder &)>> entries;
    for (Attribute a : list) {
      auto dict = dyn_cast<DictionaryAttr>(a);
      if (!dict)
        return emitError(loc, "dlc.model: malformed entry ") << a;
      FailureOr<TensorEntry> t = decode(dict, loc);
      if (failed(t))
        return failure();
      LLVM::GlobalOp nameString = string(t->name), roleString = string(t->role),
                     initString = string(t->init);
      entries.push_back([=, this](OpBuilder &r) {
        auto shapeType = LLVM::LLVMArrayType::get(i64, DLC_MAX_RANK);
        Value shape = LLVM::UndefOp::create(r, loc, shapeType);
        for (int64_t d = 0; d < DLC_MAX_RANK; ++d)
          shape = LLVM::InsertValueOp::create(
              r, loc, shape,
              constant(r, i64, d < int64_t(t->shape.size()) ? t->shape[d] : 0),
              ArrayRef<int64_t>{d});
        return structValue(r, tensorInfo,
                           {address(r, nameString), address(r, roleString),
                            address(r, initString), constant(r, i32, t->dtype),
                            constant(r, i32, t->rank), shape,
                            constant(r, i32, int32_t(t->flags))});
      });
    }
    return arrayGlobal(name, tensorInfo, entries);
  }

  /// void dlc_packed_<f>(void **args): args[i] points to the i-th parameter
  /// of _mlir_ciface_<f> (a descriptor pointer or a scalar).
  FailureOr<LLVM::LLVMFuncOp> packedWrapper(StringRef name,
                                            unsigned numParams) {
    auto entry =
        module.lookupSymbol<LLVM::LLVMFuncOp>(("_mlir_ciface_" + name).str());
    if (!entry || entry.isExternal())
      return emitError(loc, "no C entry point _mlir_ciface_")
             << name << " for the model table";
    LLVM::LLVMFunctionType type = entry.getFunctionType();
    if (type.getNumParams() != numParams)
      return emitError(loc, "_mlir_ciface_")
             << name << " has " << type.getNumParams()
             << " parameters but the model table describes " << numParams;
    OpBuilder::InsertionGuard guard(b);
    auto wrapper = LLVM::LLVMFuncOp::create(
        b, loc, ("dlc_packed_" + name).str(),
        LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx), {ptr}));
    Block *body = wrapper.addEntryBlock(b);
    OpBuilder r = OpBuilder::atBlockBegin(body);
    SmallVector<Value> operands;
    for (auto [i, paramType] : llvm::enumerate(type.getParams())) {
      Value slot = LLVM::GEPOp::create(r, loc, ptr, ptr, body->getArgument(0),
                                       ArrayRef<LLVM::GEPArg>{int32_t(i)});
      Value address = LLVM::LoadOp::create(r, loc, ptr, slot);
      operands.push_back(LLVM::LoadOp::create(r, loc, paramType, address));
    }
    LLVM::CallOp::create(r, loc, entry, operands);
    LLVM::ReturnOp::create(r, loc, ValueRange{});
    return wrapper;
  }

  Value structValue(OpBuilder &r, Type type, ArrayRef<Value> fields) {
    Value value = LLVM::UndefOp::create(r, loc, type);
    for (auto [i, field] : llvm::enumerate(fields))
      value = LLVM::InsertValueOp::create(r, loc, value, field,
                                          ArrayRef<int64_t>{int64_t(i)});
    return value;
  }

  Value constant(OpBuilder &r, Type type, int64_t value) {
    return LLVM::ConstantOp::create(r, loc, type,
                                    r.getIntegerAttr(type, value));
  }
  Value address(OpBuilder &r, LLVM::GlobalOp global) {
    return LLVM::AddressOfOp::create(r, loc, global);
  }
  Value address(OpBuilder &r, LLVM::LLVMFuncOp func) {
    return LLVM::AddressOfOp::create(r, loc, func);
  }

  std::string uniqueName(StringRef base) {
    std::string name = base.str();
    for (unsigned n = 0; module.lookupSymbol(name); ++n)
      name = (base + "_" + Twine(n)).str();
    return name;
  }

  ModuleOp module;
  MLIRContext *ctx;
  int32_t device;
  OpBuilder b;
  Location loc;
  Type ptr, i32, i64;
  LLVM::LLVMStructType tensorInfo, functionInfo, modelInfo;
  llvm::StringMap<LLVM::GlobalOp> strings;
};

struct EmitModelTablePass
    : public dlc::impl::DLCEmitModelTableBase<EmitModelTablePass> {
  using DLCEmitModelTableBase::DLCEmitModelTableBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    // The ties are part of the calling convention now; LLVM translation
    // would report each one as an unhandled parameter attribute.
    module.walk([](LLVM::LLVMFuncOp func) {
      for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i)
        func.removeArgAttr(i,
                           StringAttr::get(func.getContext(), attr::kResult));
    });
    auto model = module->getAttrOfType<DictionaryAttr>(attr::kModel);
    if (!model)
      return;
    int32_t code = llvm::StringSwitch<int32_t>(device)
                       .Case("cpu", DLC_DEVICE_CPU)
                       .Case("cuda", DLC_DEVICE_CUDA)
                       .Default(-1);
    if (code < 0) {
      module.emitError("dlc-emit-model-table: unknown device '")
          << device << "' (cpu or cuda)";
      return signalPassFailure();
    }
    if (failed(TableBuilder(module, code).build(model)))
      return signalPassFailure();
    module->removeAttr(attr::kModel);
  }
};

} // namespace
