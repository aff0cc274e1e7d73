//===- ModelSpec.cpp - What the YAML and Keras JSON readers share ---------===//
//
// The parts of reading a model that do not depend on the file format: input
// shapes, layer names as written, and Keras's default layer names. The two
// readers are ReadYaml.cpp and ReadKerasJson.cpp.
//
//===----------------------------------------------------------------------===//

#include "ModelSpec.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

using namespace mlir;
using namespace mlir::dlc::import;

std::string mlir::dlc::import::kerasSnakeCase(StringRef name) {
  // re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
  std::string first;
  for (size_t i = 0; i < name.size();) {
    size_t j = i + 2;
    while (j < name.size() && llvm::isLower(name[j]))
      ++j;
    if (i + 1 < name.size() && llvm::isUpper(name[i + 1]) && j > i + 2) {
      first += name[i];
      first += '_';
      first += name.slice(i + 1, j).str();
      i = j;
      continue;
    }
    first += name[i++];
  }
  // re.sub("([a-z])([A-Z])", r"\1_\2", ...).lower()
  std::string result;
  for (size_t i = 0; i < first.size();) {
    if (i + 1 < first.size() && llvm::isLower(first[i]) &&
        llvm::isUpper(first[i + 1])) {
      result += first[i];
      result += '_';
      result += llvm::toLower(first[i + 1]);
      i += 2;
      continue;
    }
    result += llvm::toLower(first[i++]);
  }
  return result;
}

void mlir::dlc::import::assignDefaultNames(ModelSpec &spec,
                                           llvm::StringSaver &saver) {
  llvm::StringSet<> taken;
  taken.insert(spec.input.name);
  for (const LayerSpec &layer : spec.layers)
    if (layer.nameNode)
      taken.insert(layer.name);
  llvm::StringMap<unsigned> counters;
  for (LayerSpec &layer : spec.layers) {
    if (layer.nameNode || !layer.name.empty())
      continue;
    std::string base = kerasSnakeCase(layer.className);
    unsigned &counter = counters[base];
    std::string candidate;
    do {
      candidate = counter == 0 ? base : base + "_" + std::to_string(counter);
      ++counter;
    } while (taken.contains(candidate));
    taken.insert(candidate);
    layer.name = saver.save(candidate);
  }
}

LogicalResult mlir::dlc::import::readInputShape(const ModelSource &source,
                                                const DocNode *node,
                                                StringRef what, bool hasBatch,
                                                InputSpec &input) {
  if (!node || !node->isList())
    return source.emitError(node)
           << what << " must be a list of positive integers such as "
           << (hasBatch ? "[null, 28, 28, 1]" : "[28, 28, 1]") << ", got "
           << (node ? node->describe() : "nothing");
  ArrayRef<const DocNode *> dims = node->items;
  if (hasBatch) {
    if (dims.empty())
      return source.emitError(node) << what << " is empty";
    dims = dims.drop_front();
  }
  if (dims.empty() || dims.size() > 3)
    return source.emitError(node)
           << what << " must have 1 to 3 dimensions after the batch "
           << "([features], [height, width] or [height, width, channels]), "
           << "got " << dims.size();
  input.shape.clear();
  for (const DocNode *dim : dims) {
    std::optional<int64_t> v = dim->asInt();
    if (dim->isNull())
      return source.emitError(dim)
             << what << " must be static: dlc compiles for one input size";
    if (!v || *v < 1 || *v > (int64_t(1) << 24))
      return source.emitError(dim)
             << what << " dimensions must be positive integers, got "
             << dim->describe();
    input.shape.push_back(*v);
  }
  int64_t elements = 1;
  for (int64_t d : input.shape)
    elements *= d;
  if (elements > (int64_t(1) << 28))
    return source.emitError(node)
           << what << " is too large (" << elements << " values per example)";
  input.node = node;
  return success();
}

LogicalResult mlir::dlc::import::checkLayerName(const ModelSource &source,
                                                const DocNode *node,
                                                StringRef what,
                                                StringRef &name) {
  std::optional<StringRef> s = node->asString();
  if (!s || s->empty())
    return source.emitError(node)
           << what << " must be a non-empty string, got " << node->describe();
  if (s->contains('/'))
    return source.emitError(node)
           << what << " '" << *s << "' must not contain '/'";
  name = *s;
  return success();
}
