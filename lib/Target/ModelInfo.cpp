//===- ModelInfo.cpp - The compiled model's table for the runtime ---------===//
//
// See ModelInfo.h. The LLVM struct types below mirror ModelABI.h field by
// field; both follow the C layout rules of the target's data layout.
//
//===----------------------------------------------------------------------===//

#include "dlc/Target/ModelInfo.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/JSON.h"

using namespace mlir;
using namespace mlir::dlc;

//===----------------------------------------------------------------------===//
// Reading the description from the dlc module
//===----------------------------------------------------------------------===//

/// Attributes as JSON: dictionaries, arrays, strings, numbers, booleans.
static llvm::json::Value toJson(Attribute attr) {
  if (auto dict = dyn_cast<DictionaryAttr>(attr)) {
    llvm::json::Object object;
    for (NamedAttribute entry : dict)
      object[entry.getName().getValue()] = toJson(entry.getValue());
    return object;
  }
  if (auto array = dyn_cast<ArrayAttr>(attr)) {
    llvm::json::Array values;
    for (Attribute element : array)
      values.push_back(toJson(element));
    return values;
  }
  if (auto ints = dyn_cast<DenseI64ArrayAttr>(attr))
    return llvm::json::Array(ints.asArrayRef());
  if (auto ints = dyn_cast<DenseI32ArrayAttr>(attr))
    return llvm::json::Array(ints.asArrayRef());
  if (auto floats = dyn_cast<DenseF32ArrayAttr>(attr)) {
    llvm::json::Array values;
    for (float f : floats.asArrayRef())
      values.push_back(static_cast<double>(f));
    return values;
  }
  if (auto doubles = dyn_cast<DenseF64ArrayAttr>(attr))
    return llvm::json::Array(doubles.asArrayRef());
  if (auto str = dyn_cast<StringAttr>(attr))
    return str.getValue().str();
  if (auto b = dyn_cast<BoolAttr>(attr))
    return b.getValue();
  if (auto i = dyn_cast<IntegerAttr>(attr))
    return i.getInt();
  if (auto f = dyn_cast<FloatAttr>(attr))
    return f.getValueAsDouble();
  std::string text;
  llvm::raw_string_ostream os(text);
  attr.print(os);
  return text;
}

static FailureOr<TensorDescription> describe(Type type, DictionaryAttr attrs,
                                             Location loc) {
  TensorDescription d;
  if (attrs) {
    if (auto name = attrs.getAs<StringAttr>("dlc.name"))
      d.name = name.str();
    if (auto role = attrs.getAs<StringAttr>("dlc.role"))
      d.role = role.str();
    if (auto init = attrs.getAs<StringAttr>("dlc.init"))
      d.init = init.str();
  }
  Type element = type;
  if (auto tensor = dyn_cast<RankedTensorType>(type)) {
    if (!tensor.hasStaticShape() || tensor.getRank() > 4)
      return emitError(loc, "the runtime holds static tensors of rank <= 4, "
                            "not ")
             << type;
    d.rank = tensor.getRank();
    d.shape.assign(tensor.getShape().begin(), tensor.getShape().end());
    element = tensor.getElementType();
  }
  if (element.isF32())
    d.dtype = 0;
  else if (element.isInteger(32))
    d.dtype = 1;
  else if (element.isInteger(64))
    d.dtype = 2;
  else
    return emitError(loc, "the runtime holds f32, i32 and i64 values, not ")
           << type;
  return d;
}

FailureOr<ModelDescription> mlir::dlc::describeModel(ModuleOp module) {
  ModelDescription model;
  model.name = module.getSymName() ? module.getSymName()->str() : "model";
  llvm::json::Object settings;
  for (NamedAttribute attr : module->getAttrs()) {
    StringRef key = attr.getName().getValue();
    if (key.consume_front("dlc."))
      settings[key] = toJson(attr.getValue());
  }
  if (auto name = module->getAttrOfType<StringAttr>("dlc.name"))
    model.name = name.str();
  // Initializers with parameters (random_normal's stddev, ...) travel in the
  // settings, keyed by tensor name: the table itself only names them.
  llvm::json::Object initConfigs;
  for (auto fn : module.getOps<func::FuncOp>())
    for (unsigned i = 0, e = fn.getNumArguments(); i < e; ++i) {
      auto name = fn.getArgAttrOfType<StringAttr>(i, "dlc.name");
      Attribute config = fn.getArgAttr(i, "dlc.init_config");
      if (name && config)
        initConfigs[name.getValue()] = toJson(config);
    }
  if (!initConfigs.empty())
    settings["init_config"] = std::move(initConfigs);
  model.settingsJson =
      llvm::formatv("{0}", llvm::json::Value(std::move(settings))).str();

  for (StringRef name : {"train_step", "eval_step", "predict"}) {
    auto fn = module.lookupSymbol<func::FuncOp>(name);
    if (!fn)
      continue;
    FunctionDescription f;
    f.name = name.str();
    for (auto [i, type] : llvm::enumerate(fn.getArgumentTypes())) {
      auto d = describe(type, fn.getArgAttrDict(i), fn.getLoc());
      if (failed(d))
        return failure();
      f.args.push_back(std::move(*d));
    }
    for (auto [i, type] : llvm::enumerate(fn.getResultTypes())) {
      auto d = describe(type, fn.getResultAttrDict(i), fn.getLoc());
      if (failed(d))
        return failure();
      f.results.push_back(std::move(*d));
    }
    model.functions.push_back(std::move(f));
  }
  return model;
}

//===----------------------------------------------------------------------===//
// Emitting the table and the packed wrappers
//===----------------------------------------------------------------------===//

namespace {
class TableEmitter {
public:
  explicit TableEmitter(llvm::Module &module)
      : module(module), ctx(module.getContext()),
        ptr(llvm::PointerType::getUnqual(ctx)),
        i32(llvm::Type::getInt32Ty(ctx)), i64(llvm::Type::getInt64Ty(ctx)) {
    // struct dlc_tensor_info { name, role, init; dtype, rank; shape[4]; }
    tensorInfo = llvm::StructType::create(
        ctx, {ptr, ptr, ptr, i32, i32, llvm::ArrayType::get(i64, 4)},
        "dlc_tensor_info");
    // struct dlc_function_info { name, packed; num_args, num_results;
    //                            args, results; }
    functionInfo = llvm::StructType::create(ctx, {ptr, ptr, i32, i32, ptr, ptr},
                                            "dlc_function_info");
    // struct dlc_model_info { name, settings_json; num_functions; functions; }
    modelInfo =
        llvm::StructType::create(ctx, {ptr, ptr, i32, ptr}, "dlc_model_info");
  }

  llvm::Constant *string(StringRef s) {
    auto [it, inserted] = strings.try_emplace(s, nullptr);
    if (inserted) {
      llvm::Constant *init = llvm::ConstantDataArray::getString(ctx, s);
      it->second = new llvm::GlobalVariable(
          module, init->getType(), /*isConstant=*/true,
          llvm::GlobalValue::PrivateLinkage, init, "dlc.str");
      cast<llvm::GlobalVariable>(it->second)
          ->setUnnamedAddr(llvm::GlobalValue::UnnamedAddr::Global);
    }
    return it->second;
  }

  llvm::Constant *tensors(const std::vector<TensorDescription> &list,
                          StringRef label) {
    SmallVector<llvm::Constant *> entries;
    for (const TensorDescription &t : list) {
      SmallVector<llvm::Constant *, 4> dims;
      for (unsigned d = 0; d < 4; ++d)
        dims.push_back(
            llvm::ConstantInt::get(i64, d < t.shape.size() ? t.shape[d] : 0));
      entries.push_back(llvm::ConstantStruct::get(
          tensorInfo,
          {string(t.name), string(t.role), string(t.init),
           llvm::ConstantInt::get(i32, t.dtype),
           llvm::ConstantInt::get(i32, t.rank),
           llvm::ConstantArray::get(llvm::ArrayType::get(i64, 4), dims)}));
    }
    auto *type = llvm::ArrayType::get(tensorInfo, entries.size());
    return new llvm::GlobalVariable(
        module, type, /*isConstant=*/true, llvm::GlobalValue::PrivateLinkage,
        llvm::ConstantArray::get(type, entries), label);
  }

  /// void dlc_packed_<f>(void **args): args[i] points to the i-th parameter
  /// of _mlir_ciface_<f> (a descriptor pointer or a scalar).
  llvm::Function *packedWrapper(const FunctionDescription &f) {
    llvm::Function *entry = module.getFunction("_mlir_ciface_" + f.name);
    if (!entry || entry->arg_size() != f.args.size() + f.results.size())
      return nullptr;
    auto *wrapper = llvm::Function::Create(
        llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), {ptr}, false),
        llvm::GlobalValue::ExternalLinkage, "dlc_packed_" + f.name, module);
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", wrapper));
    SmallVector<llvm::Value *> operands;
    for (auto [i, param] : llvm::enumerate(entry->args())) {
      llvm::Value *slot =
          b.CreateConstInBoundsGEP1_64(ptr, wrapper->getArg(0), i);
      llvm::Value *address = b.CreateLoad(ptr, slot);
      operands.push_back(b.CreateLoad(param.getType(), address));
    }
    b.CreateCall(entry, operands);
    b.CreateRetVoid();
    return wrapper;
  }

  LogicalResult emit(const ModelDescription &model, Location loc) {
    SmallVector<llvm::Constant *> functions;
    for (const FunctionDescription &f : model.functions) {
      llvm::Function *packed = packedWrapper(f);
      if (!packed)
        return emitError(loc, "no C entry point _mlir_ciface_")
               << f.name << " with " << f.args.size() + f.results.size()
               << " parameters in the compiled module";
      functions.push_back(llvm::ConstantStruct::get(
          functionInfo,
          {string(f.name), packed, llvm::ConstantInt::get(i32, f.args.size()),
           llvm::ConstantInt::get(i32, f.results.size()),
           tensors(f.args, "dlc.args." + f.name),
           tensors(f.results, "dlc.results." + f.name)}));
    }
    auto *arrayType = llvm::ArrayType::get(functionInfo, functions.size());
    auto *functionArray = new llvm::GlobalVariable(
        module, arrayType, /*isConstant=*/true,
        llvm::GlobalValue::PrivateLinkage,
        llvm::ConstantArray::get(arrayType, functions), "dlc.functions");
    new llvm::GlobalVariable(
        module, modelInfo, /*isConstant=*/true,
        llvm::GlobalValue::ExternalLinkage,
        llvm::ConstantStruct::get(
            modelInfo,
            {string(model.name), string(model.settingsJson),
             llvm::ConstantInt::get(i32, functions.size()), functionArray}),
        "dlc_model");
    return success();
  }

private:
  llvm::Module &module;
  llvm::LLVMContext &ctx;
  llvm::PointerType *ptr;
  llvm::Type *i32, *i64;
  llvm::StructType *tensorInfo, *functionInfo, *modelInfo;
  llvm::StringMap<llvm::Constant *> strings;
};
} // namespace

LogicalResult mlir::dlc::emitModelInfo(const ModelDescription &model,
                                       llvm::Module &llvmModule, Location loc) {
  return TableEmitter(llvmModule).emit(model, loc);
}
