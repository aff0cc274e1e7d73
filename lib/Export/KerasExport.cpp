//===- KerasExport.cpp - Trained weights as a Keras 3 .weights.h5 ---------===//
//
// Keras 3's `save_weights` (keras/src/saving/saving_lib.py, H5IOStore)
// writes one HDF5 group per layer, `layers/<key>/vars`, whose datasets
// `0`, `1`, ... are the layer's variables in creation order. The key is not
// the layer's name but its class in snake case, numbered by its position
// among the model's layers of that class (`conv2d`, `conv2d_1`, ...), and
// `load_weights` finds each layer's group the same way. So what must match
// is the order of `model.layers`: for a Sequential model the list order,
// for a Functional one Keras's own (ops/function.py map_graph: by depth
// from the output, deepest first, ties by the order of a depth-first walk
// from the output). Both are computed here from dlc.layers, which lists
// the layers, their classes and their inputs as the model file does.
//
// dlc's layouts are Keras's (HWCF kernels, [in, out] dense kernels, NHWC
// flatten order), so the variables are written as they are. What is found
// here is a plan (WeightsPlan.h), which Writers/KerasWriter.cpp writes with
// the HDF5 library, here or in a compiled executable (`EXE export`).
//
//===----------------------------------------------------------------------===//

#include "dlc/Export/WeightsExport.h"

#include "ExportParameters.h"

#include "dlc/Import/Import.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSwitch.h"

#include <cctype>
#include <functional>

using namespace mlir;
using namespace mlir::dlc;
using namespace mlir::dlc::exporting;

namespace {

struct Layer {
  std::string name, className;
  SmallVector<std::string> inputs;
  /// @forward's arguments that are this layer's variables, by variable
  /// name ("kernel").
  llvm::StringMap<unsigned> vars;
  /// Where its weights are declared in the model file.
  std::optional<Location> loc;
};

/// Keras's naming.to_snake_case: "BatchNormalization" -> batch_normalization,
/// "ReLU" -> re_lu, "Conv2D" -> conv2d.
std::string toSnakeCase(StringRef name) {
  std::string s, t;
  for (char c : name)
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '_')
      s += c;
  // re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
  for (size_t i = 0; i < s.size();) {
    if (i + 2 < s.size() && std::isupper(s[i + 1]) && std::islower(s[i + 2])) {
      t += s[i];
      t += '_';
      t += s[i + 1];
      i += 2;
      while (i < s.size() && std::islower(s[i]))
        t += s[i++];
    } else {
      t += s[i++];
    }
  }
  // re.sub("([a-z])([A-Z])", r"\1_\2", name)
  s.clear();
  for (size_t i = 0; i < t.size();) {
    if (i + 1 < t.size() && std::islower(t[i]) && std::isupper(t[i + 1])) {
      s += t[i];
      s += '_';
      s += t[i + 1];
      i += 2;
    } else {
      s += t[i++];
    }
  }
  return StringRef(s).lower();
}

/// The Keras class a layer is created as (the importer accepts Keras's
/// aliases).
StringRef kerasClass(StringRef className) {
  return llvm::StringSwitch<StringRef>(className)
      .Case("Convolution2D", "Conv2D")
      .Case("MaxPool2D", "MaxPooling2D")
      .Case("AvgPool2D", "AveragePooling2D")
      .Case("GlobalAvgPool2D", "GlobalAveragePooling2D")
      .Default(className);
}

/// The variables of a Keras layer class in creation order (optional ones
/// are absent from the layer when its config drops them: use_bias, center,
/// scale); nullopt for classes with variables dlc does not know.
std::optional<ArrayRef<StringRef>> kerasVariables(StringRef className) {
  static const StringRef dense[] = {"kernel", "bias"};
  static const StringRef bn[] = {"gamma", "beta", "moving_mean",
                                 "moving_variance"};
  if (className == "Dense" || className == "Conv2D")
    return ArrayRef<StringRef>(dense);
  if (className == "BatchNormalization")
    return ArrayRef<StringRef>(bn);
  return std::nullopt;
}

/// The order of Keras's `model.layers` (see the file comment); the output
/// layer is the last one listed.
SmallVector<unsigned> kerasLayerOrder(ArrayRef<Layer> layers) {
  llvm::StringMap<unsigned> byName;
  for (auto [i, layer] : llvm::enumerate(layers))
    byName[layer.name] = i;
  size_t n = layers.size();
  SmallVector<int64_t> firstVisit(n, -1), depth(n, 0);
  SmallVector<unsigned> postOrder;
  int64_t visits = 0;
  std::function<void(unsigned)> visit = [&](unsigned i) {
    if (firstVisit[i] >= 0)
      return;
    firstVisit[i] = visits++;
    for (const std::string &input : layers[i].inputs) {
      auto it = byName.find(input);
      if (it != byName.end())
        visit(it->second);
    }
    postOrder.push_back(i);
  };
  if (n)
    visit(n - 1);
  // Reversed, the post order visits each layer after all its consumers.
  for (unsigned i : llvm::reverse(postOrder))
    for (const std::string &input : layers[i].inputs) {
      auto it = byName.find(input);
      if (it != byName.end())
        depth[it->second] = std::max(depth[it->second], depth[i] + 1);
    }
  SmallVector<unsigned> order(postOrder.begin(), postOrder.end());
  llvm::sort(order, [&](unsigned a, unsigned b) {
    if (depth[a] != depth[b])
      return depth[a] > depth[b];
    return firstVisit[a] < firstVisit[b];
  });
  // Layers the output does not read (none in a valid model) keep their
  // place after the others.
  for (unsigned i = 0; i < n; ++i)
    if (firstVisit[i] < 0)
      order.push_back(i);
  return order;
}

} // namespace

FailureOr<::dlc::exporting::KerasPlan>
mlir::dlc::planKerasWeights(ModuleOp module) {
  auto forward = module.lookupSymbol<func::FuncOp>(kForwardFuncName);
  if (!forward)
    return emitError(module.getLoc())
           << "Keras export: the module has no @forward";
  auto layerList = module->getAttrOfType<ArrayAttr>(attrs::kLayers);
  if (!layerList || layerList.empty())
    return emitError(module.getLoc())
           << "Keras export: the model lists no Keras layers (only models "
              "read from a YAML or Keras JSON file do)";

  SmallVector<Layer> layers;
  llvm::StringMap<unsigned> layerIndex;
  for (Attribute a : layerList) {
    auto dict = dyn_cast<DictionaryAttr>(a);
    auto name = dict ? dict.getAs<StringAttr>("name") : nullptr;
    auto cls = dict ? dict.getAs<StringAttr>("class") : nullptr;
    if (!name || !cls)
      return emitError(module.getLoc())
             << "Keras export: malformed dlc.layers entry";
    Layer layer;
    layer.name = name.str();
    layer.className = kerasClass(cls.getValue()).str();
    if (auto inputs = dict.getAs<ArrayAttr>("inputs"))
      for (Attribute in : inputs)
        if (auto s = dyn_cast<StringAttr>(in))
          layer.inputs.push_back(s.str());
    layerIndex[layer.name] = layers.size();
    layers.push_back(std::move(layer));
  }
  // Every parameter "<layer>/<variable>" belongs to a listed layer.
  for (unsigned i = 1, e = forward.getNumArguments(); i < e; ++i) {
    std::string name = parameterName(forward, forward.getArgument(i));
    auto [layerName, var] = StringRef(name).rsplit('/');
    auto it = layerIndex.find(layerName);
    if (var.empty() || it == layerIndex.end())
      return emitError(forward.getArgument(i).getLoc())
             << "Keras export: the weight '" << name
             << "' belongs to no layer of the model's layer list";
    layers[it->second].vars[var] = i;
    layers[it->second].loc = forward.getArgument(i).getLoc();
  }

  // The datasets of each layer, checked before anything is written.
  struct Group {
    std::string key, layerName;
    SmallVector<unsigned> args;
  };
  SmallVector<Group> groups;
  llvm::StringMap<unsigned> classCount;
  for (unsigned i : kerasLayerOrder(layers)) {
    const Layer &layer = layers[i];
    std::string key = toSnakeCase(layer.className);
    unsigned &count = classCount[key];
    if (count)
      key += "_" + std::to_string(count);
    ++count;
    Group group{key, layer.name, {}};
    if (!layer.vars.empty()) {
      std::optional<ArrayRef<StringRef>> known =
          kerasVariables(layer.className);
      if (!known)
        return emitError(layer.loc.value_or(module.getLoc()))
               << "Keras export: layer '" << layer.name << "' ("
               << layer.className << ") has weights with no Keras export";
      for (StringRef var : *known)
        if (auto it = layer.vars.find(var); it != layer.vars.end())
          group.args.push_back(it->second);
      if (group.args.size() != layer.vars.size())
        return emitError(layer.loc.value_or(module.getLoc()))
               << "Keras export: layer '" << layer.name << "' ("
               << layer.className << ") has a weight Keras does not know";
    }
    groups.push_back(std::move(group));
  }
  ::dlc::exporting::KerasPlan plan;
  plan.groups.push_back({"layers", std::nullopt, {}});
  for (const Group &group : groups) {
    std::string path = "layers/" + group.key;
    plan.groups.push_back({path, std::nullopt, {}});
    ::dlc::exporting::KerasGroup vars{path + "/vars", group.layerName, {}};
    for (auto [k, arg] : llvm::enumerate(group.args)) {
      ::dlc::exporting::PlannedTensor &t = vars.datasets.emplace_back();
      t.destination = std::to_string(k);
      Value v = forward.getArgument(arg);
      if (failed(planSource(forward, v, v.getLoc(), "Keras export", t)))
        return failure();
    }
    plan.groups.push_back(std::move(vars));
  }
  plan.groups.push_back(
      {"vars", module.getSymName().value_or("model").str(), {}});
  return plan;
}

LogicalResult mlir::dlc::exportKerasWeights(ModuleOp module,
                                            const WeightMap &weights,
                                            StringRef path) {
  FailureOr<::dlc::exporting::KerasPlan> plan = planKerasWeights(module);
  if (failed(plan))
    return failure();
  return reportExportError(
      module, ::dlc::exporting::writeKerasWeights(
                  *plan, withInitialValues(module, weights), path));
}
