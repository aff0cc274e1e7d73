//===- DescribeModel.cpp - The runtime's model table as a module attribute ===//
//
// dlc-describe-model: reads the step functions' argument and result
// attributes and the module's settings into one `dlc.model` attribute that
// every later pass carries along untouched (see Passes.td). The targets turn
// it into the C table of include/dlc/Runtime/ModelABI.h at the end of their
// pipeline, so no stage outside the IR holds the description.
//
//===----------------------------------------------------------------------===//

#include "dlc/Dialect/DLC/IR/ModelAttributes.h"
#include "dlc/Dialect/DLC/Transforms/Passes.h"
#include "dlc/Runtime/ModelABI.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/SmallBitVector.h"
#include "llvm/Support/Base64.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_DLCDESCRIBEMODEL
#include "dlc/Dialect/DLC/Transforms/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;
using namespace mlir::dlc;

namespace {

/// Attributes as JSON: dictionaries, arrays, strings, numbers, booleans.
llvm::json::Value toJson(Attribute attr) {
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

} // namespace

/// The module's `dlc.<key>` attributes as a JSON object keyed by `<key>`,
/// plus the initializer parameters of every named tensor.
std::string mlir::dlc::getModelSettingsJson(ModuleOp module) {
  llvm::json::Object settings;
  for (NamedAttribute attr : module->getAttrs()) {
    StringRef key = attr.getName().getValue();
    if (attr.getName() != attr::kModel && key.consume_front("dlc."))
      settings[key] = toJson(attr.getValue());
  }
  // Initializers with parameters (random_normal's stddev, ...) travel in
  // the settings, keyed by tensor name: the table itself only names them.
  llvm::json::Object initConfigs, initialValues;
  for (auto fn : module.getOps<func::FuncOp>())
    for (unsigned i = 0, e = fn.getNumArguments(); i < e; ++i) {
      auto name = fn.getArgAttrOfType<StringAttr>(i, attr::kName);
      Attribute config = fn.getArgAttr(i, attr::kInitConfig);
      if (name && config)
        initConfigs[name.getValue()] = toJson(config);
      // Initial values (ONNX weights) travel as base64 of the
      // little-endian f32 data, row major.
      auto value =
          fn.getArgAttrOfType<DenseElementsAttr>(i, attr::kInitialValue);
      if (name && value && value.getElementType().isF32() &&
          !initialValues.get(name.getValue())) {
        std::vector<float> data(value.getValues<float>().begin(),
                                value.getValues<float>().end());
        StringRef bytes(reinterpret_cast<const char *>(data.data()),
                        data.size() * sizeof(float));
        initialValues[name.getValue()] = llvm::encodeBase64(bytes);
      }
    }
  if (!initConfigs.empty())
    settings["init_config"] = std::move(initConfigs);
  if (!initialValues.empty())
    settings["initial_values"] = std::move(initialValues);
  return llvm::formatv("{0}", llvm::json::Value(std::move(settings))).str();
}

namespace {

/// Whether the runtime can hold a value of `type`.
bool isABIType(Type type) {
  Type element = type;
  if (auto tensor = dyn_cast<RankedTensorType>(type)) {
    if (!tensor.hasStaticShape() || tensor.getRank() > DLC_MAX_RANK)
      return false;
    element = tensor.getElementType();
  }
  return element.isF32() || element.isInteger(32) || element.isInteger(64);
}

bool isKnownRole(StringRef role) {
  static const char *const roles[] = DLC_ROLES;
  return llvm::is_contained(roles, role);
}

/// {name, role, init?, type, in_place?} of one argument or result.
FailureOr<DictionaryAttr> describe(func::FuncOp fn, Type type,
                                   DictionaryAttr attrs, bool inPlace,
                                   StringRef what, unsigned index) {
  Builder b(fn.getContext());
  auto fail = [&](const Twine &message) {
    return fn.emitOpError() << what << " " << index << " " << message;
  };
  if (!isABIType(type))
    return fail("has type " + llvm::formatv("{0}", type).str() +
                "; the runtime holds static tensors of rank <= 4 and scalars "
                "of f32, i32 and i64");
  auto role = attrs ? attrs.getAs<StringAttr>(attr::kRole) : StringAttr();
  if (!role || !isKnownRole(role.getValue()))
    return fail(role ? "has the unknown role '" + role.getValue() + "'"
                     : Twine("has no dlc.role"));
  SmallVector<NamedAttribute> entry = {
      b.getNamedAttr("role", role),
      b.getNamedAttr("type", TypeAttr::get(type))};
  if (auto name = attrs.getAs<StringAttr>(attr::kName))
    entry.push_back(b.getNamedAttr("name", name));
  if (auto init = attrs.getAs<StringAttr>(attr::kInit))
    entry.push_back(b.getNamedAttr("init", init));
  if (inPlace)
    entry.push_back(b.getNamedAttr("in_place", b.getUnitAttr()));
  return b.getDictionaryAttr(entry);
}

FailureOr<DictionaryAttr> describeFunction(func::FuncOp fn) {
  Builder b(fn.getContext());
  // Results tied to an argument are written there and leave the signature.
  llvm::SmallBitVector tied(fn.getNumResults());
  SmallVector<Attribute> args, results;
  for (auto [i, type] : llvm::enumerate(fn.getArgumentTypes())) {
    auto result = fn.getArgAttrOfType<IntegerAttr>(i, attr::kResult);
    if (result) {
      if (result.getInt() < 0 || result.getInt() >= fn.getNumResults())
        return fn.emitOpError() << "argument " << i << " is tied to result "
                                << result.getInt() << ", which does not exist";
      tied.set(result.getInt());
    }
    FailureOr<DictionaryAttr> d =
        describe(fn, type, fn.getArgAttrDict(i), bool(result), "argument", i);
    if (failed(d))
      return failure();
    args.push_back(*d);
  }
  for (auto [i, type] : llvm::enumerate(fn.getResultTypes())) {
    if (tied.test(i))
      continue;
    FailureOr<DictionaryAttr> d = describe(fn, type, fn.getResultAttrDict(i),
                                           /*inPlace=*/false, "result", i);
    if (failed(d))
      return failure();
    results.push_back(*d);
  }
  return b.getDictionaryAttr(
      {b.getNamedAttr("name", fn.getSymNameAttr()),
       b.getNamedAttr("args", b.getArrayAttr(args)),
       b.getNamedAttr("results", b.getArrayAttr(results))});
}

struct DescribeModelPass
    : public dlc::impl::DLCDescribeModelBase<DescribeModelPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    Builder b(module.getContext());
    SmallVector<Attribute> functions;
    for (StringRef name :
         {"train_step", "eval_step", "predict", "features", "gradients"}) {
      auto fn = module.lookupSymbol<func::FuncOp>(name);
      if (!fn)
        continue;
      FailureOr<DictionaryAttr> f = describeFunction(fn);
      if (failed(f))
        return signalPassFailure();
      functions.push_back(*f);
    }
    if (functions.empty())
      return;
    std::string modelName =
        module.getSymName() ? module.getSymName()->str() : "model";
    if (auto name = module->getAttrOfType<StringAttr>(attr::kName))
      modelName = name.str();
    module->setAttr(
        attr::kModel,
        b.getDictionaryAttr(
            {b.getNamedAttr("name", b.getStringAttr(modelName)),
             b.getNamedAttr("settings",
                            b.getStringAttr(getModelSettingsJson(module))),
             b.getNamedAttr("functions", b.getArrayAttr(functions))}));
  }
};

} // namespace
