//===- Settings.cpp - Training settings and initializers ------------------===//
//
// Reads what Keras passes to compile() and fit() (loss, optimizer, metrics,
// batch size, epochs) and the weight initializers, in every spelling Keras
// accepts: a name ("adam", "Adam"), a one-entry mapping ({Adam: {...}}, dlc
// YAML), or a serialized object ({class_name: Adam, config: {...}}, Keras
// JSON). Each becomes a canonical, fully defaulted dictionary attribute so
// later stages never need to know Keras's defaults.
//
//===----------------------------------------------------------------------===//

#include "ArgReader.h"
#include "ModelSpec.h"

#include "dlc/Dialect/DLC/IR/DLCOps.h"
#include "dlc/Import/Import.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace mlir::dlc;
using namespace mlir::dlc::import;

namespace {
/// A Keras object written as a name, {Name: {args}} or
/// {class_name: Name, config: {args}}.
struct KerasObject {
  StringRef name;
  const DocNode *nameNode = nullptr;
  const DocNode *config = nullptr;
};

/// One entry of a name table: the canonical dlc name and the spellings
/// Keras accepts for it.
struct Spelling {
  StringRef canonical;
  SmallVector<StringRef, 4> aliases;
};
} // namespace

/// Splits a Keras object into its name and arguments. `what` names the kind
/// of object in messages ("loss", "optimizer", ...).
static FailureOr<KerasObject> readKerasObject(const ModelSource &source,
                                              const DocNode *node,
                                              StringRef what,
                                              StringRef example) {
  KerasObject object;
  if (std::optional<StringRef> s = node->asString()) {
    object.name = *s;
    object.nameNode = node;
    return object;
  }
  if (node->isMapping()) {
    if (const DocNode *cls = node->get("class_name")) {
      if (!cls->asString())
        return source.emitError(cls)
                   << "the " << what << "'s 'class_name' must be a string, got "
                   << cls->describe(),
               failure();
      for (const DocNode::Entry &e : node->entries)
        if (!llvm::is_contained(
                {"class_name", "config", "module", "registered_name"},
                e.first->text))
          return source.emitError(e.first)
                     << "unexpected key '" << e.first->text << "' in a Keras "
                     << what << " (expected class_name and config)",
                 failure();
      object.name = cls->text;
      object.nameNode = cls;
      object.config = node->get("config");
      return object;
    }
    if (node->entries.size() == 1) {
      object.name = node->entries[0].first->text;
      object.nameNode = node->entries[0].first;
      object.config = node->entries[0].second;
      return object;
    }
  }
  return source.emitError(node)
             << "a " << what << " is a name or a mapping such as " << example
             << ", got " << node->describe(),
         failure();
}

/// Looks `name` up in `table`, reporting unknown and unsupported names.
static FailureOr<StringRef> lookupName(const ModelSource &source,
                                       const KerasObject &object,
                                       StringRef what, ArrayRef<Spelling> table,
                                       ArrayRef<StringRef> unsupported,
                                       StringRef context = {}) {
  for (const Spelling &s : table)
    if (object.name == s.canonical ||
        llvm::is_contained(s.aliases, object.name))
      return s.canonical;
  SmallVector<StringRef> supported, all;
  for (const Spelling &s : table) {
    supported.push_back(s.canonical);
    all.push_back(s.canonical);
    llvm::append_range(all, s.aliases);
  }
  InFlightDiagnostic diag = source.emitError(object.nameNode);
  if (!context.empty())
    diag << context << ": ";
  if (llvm::is_contained(unsupported, object.name)) {
    diag << what << " '" << object.name << "' is not supported by dlc";
  } else {
    diag << "unknown " << what << " '" << object.name << "'";
    if (StringRef guess = suggestClosest(object.name, all); !guess.empty()) {
      diag << "; did you mean '" << guess << "'?";
      return failure();
    }
  }
  diag << " (supported: " << llvm::join(supported, ", ") << ")";
  return failure();
}

//===----------------------------------------------------------------------===//
// Initializers
//===----------------------------------------------------------------------===//

FailureOr<Initializer> mlir::dlc::import::readInitializer(
    const ModelSource &source, const DocNode *node, const std::string &owner) {
  static const Spelling table[] = {
      {"glorot_uniform", {"GlorotUniform"}},
      {"glorot_normal", {"GlorotNormal"}},
      {"he_uniform", {"HeUniform"}},
      {"he_normal", {"HeNormal"}},
      {"lecun_uniform", {"LecunUniform"}},
      {"lecun_normal", {"LecunNormal"}},
      {"zeros", {"Zeros"}},
      {"ones", {"Ones"}},
      {"constant", {"Constant"}},
      {"random_normal", {"RandomNormal"}},
      {"random_uniform", {"RandomUniform"}},
      {"truncated_normal", {"TruncatedNormal"}},
      {"variance_scaling", {"VarianceScaling"}},
  };
  static constexpr StringRef unsupported[] = {
      "orthogonal", "Orthogonal",          "identity",
      "Identity",   "IdentityInitializer", "STFTInitializer"};
  FailureOr<KerasObject> object = readKerasObject(
      source, node, "initializer", "{RandomNormal: {stddev: 0.01}}");
  if (failed(object))
    return failure();
  FailureOr<StringRef> name =
      lookupName(source, *object, "initializer", table, unsupported, owner);
  if (failed(name))
    return failure();

  ArgReader args(source, object->config,
                 owner + " initializer '" + name->str() + "'",
                 object->nameNode);
  if (failed(args.checkIsMapping()))
    return failure();
  // Seeds only matter to Keras's own generator; dtype and the axes of
  // Keras 3's fan computation are bookkeeping.
  for (StringRef key : {"seed", "dtype", "input_axes", "output_axes"})
    args.ignore(key);
  Builder b(source.getContext());
  SmallVector<NamedAttribute> config;
  auto number = [&](StringRef key, double def, NumberRange range) {
    FailureOr<double> v = args.getNumber(key, def, range);
    if (succeeded(v))
      config.push_back(b.getNamedAttr(key, b.getF32FloatAttr(float(*v))));
    return v;
  };
  if (*name == "constant") {
    if (failed(number("value", 0.0, NumberRange::any())))
      return failure();
  } else if (*name == "random_normal" || *name == "truncated_normal") {
    if (failed(number("mean", 0.0, NumberRange::any())) ||
        failed(number("stddev", 0.05, NumberRange::positive())))
      return failure();
  } else if (*name == "random_uniform") {
    FailureOr<double> lo = number("minval", -0.05, NumberRange::any());
    FailureOr<double> hi = number("maxval", 0.05, NumberRange::any());
    if (failed(lo) || failed(hi))
      return failure();
    if (*lo >= *hi)
      return args.emitError(args.keyOrOwner("maxval"))
                 << "'maxval' (" << *hi << ") must exceed 'minval' (" << *lo
                 << ")",
             failure();
  } else if (*name == "variance_scaling") {
    if (failed(number("scale", 1.0, NumberRange::positive())))
      return failure();
    FailureOr<StringRef> mode = args.getChoice(
        "mode", StringRef("fan_in"), {"fan_in", "fan_out", "fan_avg"});
    FailureOr<StringRef> distribution = args.getChoice(
        "distribution", StringRef("truncated_normal"),
        {"truncated_normal", "untruncated_normal", "uniform", "normal"});
    if (failed(mode) || failed(distribution))
      return failure();
    // Keras reads the old name "normal" as truncated_normal.
    StringRef dist =
        *distribution == "normal" ? "truncated_normal" : *distribution;
    config.push_back(b.getNamedAttr("mode", b.getStringAttr(*mode)));
    config.push_back(b.getNamedAttr("distribution", b.getStringAttr(dist)));
  }
  if (failed(args.finish()))
    return failure();
  return Initializer{*name, b.getDictionaryAttr(config)};
}

//===----------------------------------------------------------------------===//
// Loss, optimizer, metrics, batch size, epochs
//===----------------------------------------------------------------------===//

FailureOr<int64_t> mlir::dlc::import::readBatchSize(const ModelSource &source,
                                                    const ModelSpec &spec) {
  const DocNode *node = spec.training.batchSize;
  if (!node || node->isNull())
    return 32; // Keras's fit() default.
  std::optional<int64_t> v = node->asInt();
  if (!v || *v < 1 || *v > 65536)
    return source.emitError(node)
               << "'batch_size' must be an integer in [1, 65536], got "
               << node->describe(),
           failure();
  return *v;
}

namespace {
/// Reads the training settings and checks them against the model output.
class SettingsReader {
public:
  SettingsReader(const ModelSource &source, const ModelSpec &spec, Value output,
                 Location outputLoc)
      : source(source), spec(spec), output(output), outputLoc(outputLoc),
        b(source.getContext()) {}

  FailureOr<DictionaryAttr> readLoss();
  FailureOr<DictionaryAttr> readOptimizer();
  FailureOr<ArrayAttr> readMetrics(StringRef loss);
  FailureOr<int64_t> readEpochs();

private:
  /// The name of the layer producing the model output, for messages.
  StringRef outputName() const {
    if (auto name = dyn_cast<NameLoc>(outputLoc))
      return name.getName().getValue();
    return "output";
  }
  std::string outputShape() const {
    std::string s;
    llvm::raw_string_ostream os(s);
    llvm::interleave(cast<RankedTensorType>(output.getType()).getShape(), os,
                     "x");
    return s;
  }
  /// Whether the output is produced by `OpTy` (on its last axis).
  template <typename OpTy> bool outputIs() const {
    auto op = output.getDefiningOp<OpTy>();
    if constexpr (std::is_same_v<OpTy, SoftmaxOp>) {
      int64_t rank = cast<RankedTensorType>(output.getType()).getRank();
      return op &&
             (int64_t(op.getAxis()) == -1 || int64_t(op.getAxis()) == rank - 1);
    }
    return bool(op);
  }

  const ModelSource &source;
  const ModelSpec &spec;
  Value output;
  Location outputLoc;
  Builder b;
};
} // namespace

FailureOr<DictionaryAttr> SettingsReader::readLoss() {
  static const Spelling table[] = {
      {"sparse_categorical_crossentropy", {"SparseCategoricalCrossentropy"}},
      {"mse", {"mean_squared_error", "MeanSquaredError", "MSE"}},
      {"binary_crossentropy", {"BinaryCrossentropy"}},
  };
  static constexpr StringRef unsupported[] = {"categorical_crossentropy",
                                              "CategoricalCrossentropy",
                                              "mae",
                                              "mean_absolute_error",
                                              "MeanAbsoluteError",
                                              "MAE",
                                              "mape",
                                              "mean_absolute_percentage_error",
                                              "msle",
                                              "mean_squared_logarithmic_error",
                                              "huber",
                                              "Huber",
                                              "hinge",
                                              "Hinge",
                                              "squared_hinge",
                                              "SquaredHinge",
                                              "categorical_hinge",
                                              "CategoricalHinge",
                                              "kl_divergence",
                                              "kld",
                                              "KLDivergence",
                                              "poisson",
                                              "Poisson",
                                              "log_cosh",
                                              "LogCosh",
                                              "cosine_similarity",
                                              "CosineSimilarity",
                                              "binary_focal_crossentropy",
                                              "BinaryFocalCrossentropy",
                                              "categorical_focal_crossentropy",
                                              "CategoricalFocalCrossentropy",
                                              "ctc",
                                              "CTC",
                                              "dice",
                                              "Dice",
                                              "tversky",
                                              "Tversky",
                                              "circle",
                                              "Circle"};

  const DocNode *node = spec.training.loss;
  StringRef name = "sparse_categorical_crossentropy";
  const DocNode *config = nullptr, *nameNode = nullptr;
  if (node && !node->isNull()) {
    if (node->isList())
      return source.emitError(node)
                 << "one loss per model: dlc models have one output",
             failure();
    FailureOr<KerasObject> object = readKerasObject(
        source, node, "loss",
        "{sparse_categorical_crossentropy: {from_logits: true}}");
    if (failed(object))
      return failure();
    FailureOr<StringRef> canonical =
        lookupName(source, *object, "loss", table, unsupported);
    if (failed(canonical))
      return failure();
    name = *canonical;
    config = object->config;
    nameNode = object->nameNode;
  }

  ArgReader args(source, config, ("loss '" + name + "'").str(), nameNode);
  if (failed(args.checkIsMapping()))
    return failure();
  args.ignore("name");
  args.ignore("dtype");
  FailureOr<StringRef> reduction =
      args.getChoice("reduction", StringRef("sum_over_batch_size"),
                     {"sum_over_batch_size", "auto", "mean"});
  if (failed(reduction))
    return failure();
  SmallVector<NamedAttribute> attrs = {
      b.getNamedAttr("name", b.getStringAttr(name))};

  // Where a problem with the loss is reported: at the loss if it is
  // written, else at the output layer (the default loss did not fit it).
  auto emitLossError = [&]() {
    InFlightDiagnostic diag =
        nameNode ? source.emitError(nameNode) : mlir::emitError(outputLoc);
    if (!nameNode)
      diag << "the default loss ";
    diag << name << " ";
    return diag;
  };

  if (name == "mse") {
    if (failed(args.finish()))
      return failure();
    return b.getDictionaryAttr(attrs);
  }

  bool classification = name == "sparse_categorical_crossentropy";
  if (classification) {
    if (failed(args.requireUnset("ignore_class")) ||
        failed(args.getInt("axis", -1, -1, -1)))
      return failure();
    if (cast<RankedTensorType>(output.getType()).getRank() != 2) {
      InFlightDiagnostic diag = emitLossError();
      diag << "needs logits of rank 2 [batch, classes], but the model output "
              "(layer '"
           << outputName() << "') has shape " << outputShape()
           << "; end the model with Flatten or GlobalAveragePooling2D and a "
              "Dense layer";
      if (nameNode)
        diag.attachNote(outputLoc) << "the model output is produced here";
      return failure();
    }
  } else {
    if (failed(args.requireUnset("label_smoothing")) ||
        failed(args.getInt("axis", -1, -1, -1)))
      return failure();
  }

  // Keras's default is from_logits: false, i.e. probabilities; dlc infers it
  // from the output, so a model ending in Dense(10) trains from logits and
  // one ending in softmax (sigmoid) from probabilities, as the user meant.
  bool probabilities =
      classification ? outputIs<SoftmaxOp>() : outputIs<SigmoidOp>();
  StringRef activation = classification ? "softmax" : "sigmoid";
  const DocNode *fromLogitsNode = args.lookup("from_logits");
  FailureOr<bool> fromLogits = args.getBool("from_logits", !probabilities);
  if (failed(fromLogits) || failed(args.finish()))
    return failure();
  if (!*fromLogits && !probabilities)
    return args.emitError(fromLogitsNode)
               << "'from_logits: false' expects probabilities, i.e. a model "
                  "that ends in a "
               << activation << ", but the output (layer '" << outputName()
               << "') is not one; remove 'from_logits' or add the "
               << activation,
           failure();
  if (*fromLogits && probabilities)
    mlir::emitWarning(source.getLoc(fromLogitsNode))
        << "loss '" << name
        << "' received 'from_logits: true', but the model output (layer '"
        << outputName() << "') is produced by a " << activation
        << " and thus does not represent logits";
  attrs.push_back(b.getNamedAttr("from_logits", b.getBoolAttr(*fromLogits)));
  return b.getDictionaryAttr(attrs);
}

FailureOr<DictionaryAttr> SettingsReader::readOptimizer() {
  static const Spelling table[] = {
      {"sgd", {"SGD"}},
      {"adam", {"Adam"}},
      {"adamw", {"AdamW"}},
  };
  static constexpr StringRef unsupported[] = {"rmsprop",
                                              "RMSprop",
                                              "adagrad",
                                              "Adagrad",
                                              "adadelta",
                                              "Adadelta",
                                              "adamax",
                                              "Adamax",
                                              "nadam",
                                              "Nadam",
                                              "ftrl",
                                              "Ftrl",
                                              "lion",
                                              "Lion",
                                              "lamb",
                                              "Lamb",
                                              "adafactor",
                                              "Adafactor",
                                              "loss_scale_optimizer",
                                              "LossScaleOptimizer",
                                              "muon",
                                              "Muon"};
  const DocNode *node = spec.training.optimizer;
  StringRef name = "adam";
  const DocNode *config = nullptr, *nameNode = nullptr;
  if (node && !node->isNull()) {
    FailureOr<KerasObject> object = readKerasObject(
        source, node, "optimizer", "{Adam: {learning_rate: 0.001}}");
    if (failed(object))
      return failure();
    FailureOr<StringRef> canonical =
        lookupName(source, *object, "optimizer", table, unsupported);
    if (failed(canonical))
      return failure();
    name = *canonical;
    config = object->config;
    nameNode = object->nameNode;
  }

  ArgReader args(source, config, ("optimizer '" + name + "'").str(), nameNode);
  if (failed(args.checkIsMapping("hyperparameters")))
    return failure();
  // Keras bookkeeping; the EMA momentum matters only with use_ema.
  for (StringRef key : {"name", "ema_momentum", "ema_overwrite_frequency",
                        "jit_compile", "is_legacy_optimizer"})
    args.ignore(key);
  for (StringRef key :
       {"clipnorm", "global_clipnorm", "clipvalue", "use_ema",
        "loss_scale_factor", "gradient_accumulation_steps", "decay"})
    if (failed(args.requireUnset(key)))
      return failure();

  SmallVector<NamedAttribute> attrs = {
      b.getNamedAttr("name", b.getStringAttr(name))};
  auto number = [&](StringRef key, double def, NumberRange range) {
    FailureOr<double> v = args.getNumber(key, def, range);
    if (succeeded(v))
      attrs.push_back(b.getNamedAttr(key, b.getF32FloatAttr(float(*v))));
    return v;
  };
  // Keras 2.2 called the learning rate `lr`.
  StringRef lrKey = args.lookup("lr") ? "lr" : "learning_rate";
  if (const DocNode *lr = args.lookup(lrKey); lr && lr->isMapping())
    return args.emitError(lr)
               << "learning-rate schedules are not supported by dlc; give a "
                  "number",
           failure();
  FailureOr<double> lr = args.getNumber(lrKey, name == "sgd" ? 0.01 : 0.001,
                                        NumberRange::positive());
  if (failed(lr))
    return failure();
  attrs.push_back(
      b.getNamedAttr("learning_rate", b.getF32FloatAttr(float(*lr))));

  if (name == "sgd") {
    if (failed(number("momentum", 0.0, NumberRange::closed(0.0, 1.0))))
      return failure();
    FailureOr<bool> nesterov = args.getBool("nesterov", false);
    if (failed(nesterov))
      return failure();
    attrs.push_back(b.getNamedAttr("nesterov", b.getBoolAttr(*nesterov)));
  } else {
    if (failed(number("beta_1", 0.9, NumberRange::halfOpen(0.0, 1.0))) ||
        failed(number("beta_2", 0.999, NumberRange::halfOpen(0.0, 1.0))) ||
        failed(number("epsilon", 1e-7, NumberRange::positive())) ||
        failed(args.requireUnset("amsgrad")))
      return failure();
  }
  // Keras 3: AdamW decays by 0.004 by default, the others not at all.
  if (failed(number("weight_decay", name == "adamw" ? 0.004 : 0.0,
                    NumberRange::nonNegative())) ||
      failed(args.finish()))
    return failure();
  return b.getDictionaryAttr(attrs);
}

FailureOr<ArrayAttr> SettingsReader::readMetrics(StringRef loss) {
  const DocNode *node = spec.training.metrics;
  bool classification = loss == "sparse_categorical_crossentropy";
  if (!node || node->isNull()) {
    // Everyone training a classifier watches its accuracy.
    if (classification)
      return b.getStrArrayAttr({"accuracy"});
    return b.getStrArrayAttr({});
  }
  SmallVector<const DocNode *> items;
  if (node->isList()) {
    // Keras 3 may nest the list of a single-output model: [["accuracy"]].
    if (node->items.size() == 1 && node->items.front()->isList())
      node = node->items.front();
    llvm::append_range(items, node->items);
  } else {
    items.push_back(node);
  }
  static const Spelling table[] = {
      {"accuracy",
       {"acc", "sparse_categorical_accuracy", "SparseCategoricalAccuracy"}},
  };
  static constexpr StringRef unsupported[] = {
      "mae",
      "mse",
      "mean_absolute_error",
      "mean_squared_error",
      "binary_accuracy",
      "BinaryAccuracy",
      "categorical_accuracy",
      "CategoricalAccuracy",
      "top_k_categorical_accuracy",
      "sparse_top_k_categorical_accuracy",
      "SparseTopKCategoricalAccuracy",
      "auc",
      "AUC",
      "precision",
      "Precision",
      "recall",
      "Recall",
      "f1_score",
      "F1Score",
      "Accuracy",
      "MeanSquaredError",
      "MeanAbsoluteError",
      "RootMeanSquaredError",
      "crossentropy"};
  SmallVector<StringRef> names;
  for (const DocNode *item : items) {
    FailureOr<KerasObject> object =
        readKerasObject(source, item, "metric", "accuracy");
    if (failed(object))
      return failure();
    FailureOr<StringRef> name =
        lookupName(source, *object, "metric", table, unsupported);
    if (failed(name))
      return failure();
    if (!classification)
      return source.emitError(item) << "metric '" << *name
                                    << "' needs a classifier trained with "
                                       "sparse_categorical_crossentropy, not "
                                    << loss,
             failure();
    if (!llvm::is_contained(names, *name))
      names.push_back(*name);
  }
  return b.getStrArrayAttr(names);
}

FailureOr<int64_t> SettingsReader::readEpochs() {
  const DocNode *node = spec.training.epochs;
  if (!node || node->isNull())
    return 1; // Keras's fit() default.
  std::optional<int64_t> v = node->asInt();
  if (!v || *v < 1 || *v > 1000000)
    return source.emitError(node) << "'epochs' must be a positive integer, got "
                                  << node->describe(),
           failure();
  return *v;
}

LogicalResult mlir::dlc::import::readTrainingSettings(
    const ModelSource &source, const ModelSpec &spec, Operation *module,
    Value output, Location outputLoc, int64_t batchSize) {
  SettingsReader reader(source, spec, output, outputLoc);
  FailureOr<DictionaryAttr> loss = reader.readLoss();
  if (failed(loss))
    return failure();
  FailureOr<DictionaryAttr> optimizer = reader.readOptimizer();
  if (failed(optimizer))
    return failure();
  FailureOr<ArrayAttr> metrics =
      reader.readMetrics(cast<StringAttr>(loss->get("name")).getValue());
  if (failed(metrics))
    return failure();
  FailureOr<int64_t> epochs = reader.readEpochs();
  if (failed(epochs))
    return failure();
  Builder b(source.getContext());
  module->setAttr(attrs::kLoss, *loss);
  module->setAttr(attrs::kOptimizer, *optimizer);
  module->setAttr(attrs::kMetrics, *metrics);
  module->setAttr(attrs::kBatchSize, b.getI64IntegerAttr(batchSize));
  module->setAttr(attrs::kEpochs, b.getI64IntegerAttr(*epochs));
  return success();
}
