//===- BuildTrainStep.cpp - @forward -> @train_step/@eval_step/@predict ---===//
//
// Builds the whole training step from the model's inference-form @forward:
// the forward pass in training form, the loss, reverse-mode differentiation
// through each op's DifferentiableOpInterface rule, and the optimizer
// updates; plus the evaluation and prediction functions. See Passes.td for
// the signatures and the argument/result naming contract with the runtime.
//
//===----------------------------------------------------------------------===//

#include "dlc/Dialect/DLC/IR/DLCOps.h"
#include "dlc/Dialect/DLC/IR/ModelAttributes.h"
#include "dlc/Dialect/DLC/Transforms/Autodiff.h"
#include "dlc/Dialect/DLC/Transforms/Passes.h"
#include "dlc/Runtime/ModelABI.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringSwitch.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_DLCBUILDTRAINSTEP
#include "dlc/Dialect/DLC/Transforms/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;
using namespace mlir::dlc;

namespace {

//===----------------------------------------------------------------------===//
// Training settings
//===----------------------------------------------------------------------===//

enum class LossKind {
  SparseCategoricalCrossEntropy,
  MeanSquaredError,
  BinaryCrossEntropy
};

struct LossConfig {
  LossKind kind = LossKind::SparseCategoricalCrossEntropy;
  bool fromLogits = true;
};

enum class OptimizerKind { Sgd, Adam, AdamW };

/// Hyper-parameters with Keras's defaults; the update formulas are
/// PyTorch's (see the update ops).
struct OptimizerConfig {
  OptimizerKind kind = OptimizerKind::Adam;
  float momentum = 0.0f;
  bool nesterov = false;
  float beta1 = 0.9f, beta2 = 0.999f, epsilon = 1e-7f;
  float weightDecay = 0.0f;

  /// The optimizer's per-parameter slots, in argument order.
  SmallVector<StringRef, 2> slots() const {
    if (kind == OptimizerKind::Sgd)
      return {"velocity"};
    return {"m", "v"};
  }
};

std::optional<LossKind> parseLossName(StringRef name) {
  return llvm::StringSwitch<std::optional<LossKind>>(name)
      .Cases(
          {"sparse_categorical_crossentropy", "SparseCategoricalCrossentropy"},
          LossKind::SparseCategoricalCrossEntropy)
      .Cases({"mse", "mean_squared_error", "MeanSquaredError"},
             LossKind::MeanSquaredError)
      .Cases({"binary_crossentropy", "BinaryCrossentropy"},
             LossKind::BinaryCrossEntropy)
      .Default(std::nullopt);
}

std::optional<OptimizerKind> parseOptimizerName(StringRef name) {
  std::string lower = name.lower();
  return llvm::StringSwitch<std::optional<OptimizerKind>>(lower)
      .Case("sgd", OptimizerKind::Sgd)
      .Case("adam", OptimizerKind::Adam)
      .Case("adamw", OptimizerKind::AdamW)
      .Default(std::nullopt);
}

/// Reads a number that may have been written as an integer or a float.
std::optional<double> getNumber(DictionaryAttr dict, StringRef key) {
  Attribute attr = dict.get(key);
  if (auto f = dyn_cast_or_null<FloatAttr>(attr))
    return f.getValueAsDouble();
  if (auto i = dyn_cast_or_null<IntegerAttr>(attr))
    return static_cast<double>(i.getInt());
  return std::nullopt;
}

FailureOr<LossConfig> readLoss(ModuleOp module, StringRef option) {
  LossConfig config;
  Attribute attr = module->getAttr("dlc.loss");
  StringRef name = option;
  std::optional<bool> fromLogits;
  if (name.empty()) {
    if (auto str = dyn_cast_or_null<StringAttr>(attr)) {
      name = str.getValue();
    } else if (auto dict = dyn_cast_or_null<DictionaryAttr>(attr)) {
      if (auto n = dict.getAs<StringAttr>("name"))
        name = n.getValue();
      if (auto b = dict.getAs<BoolAttr>("from_logits"))
        fromLogits = b.getValue();
    } else {
      name = "sparse_categorical_crossentropy";
    }
  }
  std::optional<LossKind> kind = parseLossName(name);
  if (!kind)
    return module.emitError("unknown loss '")
           << name
           << "' (expected sparse_categorical_crossentropy, mse or "
              "binary_crossentropy)";
  config.kind = *kind;
  // dlc models end in logits unless they end in an explicit activation, so
  // classification losses default to logits (see the softmax handling).
  config.fromLogits =
      fromLogits.value_or(config.kind != LossKind::BinaryCrossEntropy);
  return config;
}

FailureOr<OptimizerConfig> readOptimizer(ModuleOp module, StringRef option) {
  OptimizerConfig config;
  auto dict = module->getAttrOfType<DictionaryAttr>("dlc.optimizer");
  StringRef name = option;
  if (name.empty()) {
    name = "adam";
    if (dict)
      if (auto n = dict.getAs<StringAttr>("name"))
        name = n.getValue();
  }
  std::optional<OptimizerKind> kind = parseOptimizerName(name);
  if (!kind)
    return module.emitError("unknown optimizer '")
           << name << "' (expected sgd, adam or adamw)";
  config.kind = *kind;
  if (config.kind == OptimizerKind::AdamW)
    config.weightDecay = 0.004f; // Keras's AdamW default.
  // The model's hyper-parameters apply unless the option picked another
  // optimizer than the model's.
  StringAttr modelName = dict ? dict.getAs<StringAttr>("name") : StringAttr();
  bool sameOptimizer =
      option.empty() ||
      (modelName && parseOptimizerName(modelName.getValue()) == kind);
  if (dict && sameOptimizer) {
    config.momentum = getNumber(dict, "momentum").value_or(config.momentum);
    config.beta1 = getNumber(dict, "beta_1").value_or(config.beta1);
    config.beta2 = getNumber(dict, "beta_2").value_or(config.beta2);
    config.epsilon = getNumber(dict, "epsilon").value_or(config.epsilon);
    config.weightDecay =
        getNumber(dict, "weight_decay").value_or(config.weightDecay);
    if (auto b = dict.getAs<BoolAttr>("nesterov"))
      config.nesterov = b.getValue();
  }
  // Keras accepts nesterov=True with momentum 0: without a velocity the
  // look-ahead is the plain gradient step, so build plain SGD.
  if (config.momentum == 0)
    config.nesterov = false;
  return config;
}

//===----------------------------------------------------------------------===//
// The builder
//===----------------------------------------------------------------------===//

/// Key mixing constant (2^64 / golden ratio): distinct (seed, step) pairs
/// give well-spread keys for the counter-based generator.
constexpr uint64_t kKeyMultiplier = 0x9E3779B97F4A7C15ull;

class TrainStepBuilder {
public:
  TrainStepBuilder(ModuleOp module, func::FuncOp forward, LossConfig loss,
                   OptimizerConfig optimizer, bool inPlace, bool features,
                   bool gradients)
      : module(module), forward(forward), loss(loss), optimizer(optimizer),
        inPlace(inPlace), features(features), gradients(gradients),
        ctx(module.getContext()) {}

  LogicalResult run() {
    if (failed(classifyArguments()))
      return failure();
    OpBuilder b(ctx);
    b.setInsertionPointAfter(forward);
    if (failed(buildPredict(b)) || failed(buildEvalStep(b)) ||
        failed(buildTrainStep(b)))
      return failure();
    if (features && failed(buildFeatures(b)))
      return failure();
    if (gradients && failed(buildGradients(b)))
      return failure();
    return success();
  }

private:
  /// Splits @forward's arguments into the input, trainable parameters and
  /// state (running statistics and frozen parameters).
  LogicalResult classifyArguments() {
    if (forward.getNumArguments() < 1 || forward.getNumResults() != 1)
      return forward.emitOpError(
          "must take the input first and return the logits alone");
    DenseSet<unsigned> runningStats;
    forward.walk([&](BatchNormOp bn) {
      for (Value v : {bn.getMean(), bn.getVariance()})
        if (auto arg = dyn_cast<BlockArgument>(v))
          runningStats.insert(arg.getArgNumber());
    });
    for (unsigned i = 1, e = forward.getNumArguments(); i < e; ++i) {
      auto trainable = forward.getArgAttrOfType<BoolAttr>(i, attr::kTrainable);
      bool isState =
          runningStats.contains(i) || (trainable && !trainable.getValue());
      (isState ? state : params).push_back(i);
    }
    return success();
  }

  /// The name of @forward's argument `i` (`arg<i>` if it has none).
  std::string argName(unsigned i) {
    if (auto name = forward.getArgAttrOfType<StringAttr>(i, attr::kName))
      return name.str();
    return ("arg" + Twine(i)).str();
  }

  Type argType(unsigned i) { return forward.getArgumentTypes()[i]; }

  /// One argument or result of a built function: type, name, role.
  struct Slot {
    Type type;
    std::string name;
    StringRef role;
    /// The initializer of a parameter or state tensor (`dlc.init` and its
    /// `dlc.init_config`), kept so the runtime can initialize every tensor
    /// of the step by itself.
    Attribute init = {};
    Attribute initConfig = {};
    /// Its initial value, when the model file gives one (ONNX weights).
    Attribute initialValue = {};
  };

  func::FuncOp createFunc(OpBuilder &b, StringRef name, ArrayRef<Slot> args,
                          ArrayRef<Slot> results) {
    SmallVector<Type> argTypes, resultTypes;
    for (const Slot &s : args)
      argTypes.push_back(s.type);
    for (const Slot &s : results)
      resultTypes.push_back(s.type);
    auto fn = func::FuncOp::create(b, forward.getLoc(), name,
                                   b.getFunctionType(argTypes, resultTypes));
    auto annotate = [&](const Slot &s) {
      SmallVector<NamedAttribute, 3> attrs = {
          b.getNamedAttr(attr::kName, b.getStringAttr(s.name)),
          b.getNamedAttr(attr::kRole, b.getStringAttr(s.role))};
      if (s.init)
        attrs.push_back(b.getNamedAttr(attr::kInit, s.init));
      if (s.initConfig)
        attrs.push_back(b.getNamedAttr(attr::kInitConfig, s.initConfig));
      if (s.initialValue)
        attrs.push_back(b.getNamedAttr(attr::kInitialValue, s.initialValue));
      return b.getDictionaryAttr(attrs);
    };
    for (auto [i, s] : llvm::enumerate(args))
      fn.setArgAttrs(i, annotate(s));
    for (auto [i, s] : llvm::enumerate(results))
      fn.setResultAttrs(i, annotate(s));
    // Keep symbol order stable: predict, eval_step, train_step after forward.
    b.setInsertionPointAfter(fn);
    fn.addEntryBlock();
    return fn;
  }

  Type labelsType(Value logits) {
    auto type = cast<RankedTensorType>(logits.getType());
    if (loss.kind == LossKind::SparseCategoricalCrossEntropy)
      return RankedTensorType::get({type.getDimSize(0)},
                                   IntegerType::get(ctx, 32));
    return type;
  }

  Value forwardLogits() {
    return cast<func::ReturnOp>(forward.getBody().front().getTerminator())
        .getOperand(0);
  }

  /// Clones @forward's body at `b`, mapping its arguments through `mapping`.
  /// With a `key`, ops take their training form: batch_norm_train (the new
  /// running statistics go to `newState`, by @forward argument number) and
  /// keyed dropout and augmentation. Returns the cloned ops in order.
  FailureOr<SmallVector<Operation *>>
  cloneForward(OpBuilder &b, IRMapping &mapping, Value key,
               DenseMap<unsigned, Value> *newState) {
    SmallVector<Operation *> cloned;
    int64_t nextStream = 1;
    for (Operation &op : forward.getBody().front().without_terminator()) {
      // A frozen BatchNormalization (Keras trainable=false) keeps running
      // in inference mode, as in Keras.
      auto frozen = op.getAttrOfType<BoolAttr>(attr::kTrainable);
      if (key && isa<BatchNormOp>(op) && !(frozen && !frozen.getValue())) {
        auto bn = cast<BatchNormOp>(op);
        auto train = BatchNormTrainOp::create(
            b, bn.getLoc(), mapping.lookup(bn.getInput()),
            mapping.lookup(bn.getGamma()), mapping.lookup(bn.getBeta()),
            mapping.lookup(bn.getMean()), mapping.lookup(bn.getVariance()),
            bn.getEpsilonAttr() ? bn.getEpsilonAttr()
                                : b.getF32FloatAttr(1e-3f),
            bn.getMomentumAttr() ? bn.getMomentumAttr()
                                 : b.getF32FloatAttr(0.99f));
        mapping.map(bn.getOutput(), train.getOutput());
        for (auto [stat, updated] :
             {std::make_pair(bn.getMean(), train.getNewRunningMean()),
              std::make_pair(bn.getVariance(),
                             train.getNewRunningVariance())}) {
          auto arg = dyn_cast<BlockArgument>(stat);
          if (!arg)
            return bn.emitOpError("running statistics must be arguments of @")
                   << forward.getName() << " to be updated in training";
          (*newState)[arg.getArgNumber()] = updated;
        }
        cloned.push_back(train);
        continue;
      }
      bool randomized =
          isa<DropoutOp, RandomFlipOp, RandomTranslationOp, RandomCropOp>(op);
      if (key && randomized && op.getNumOperands() == 1) {
        OperationState state(op.getLoc(), op.getName());
        state.addOperands({mapping.lookup(op.getOperand(0)), key});
        state.addAttributes(op.getAttrs());
        // Each randomized layer draws from its own stream.
        auto stream = op.getAttrOfType<IntegerAttr>("stream");
        if (!stream || stream.getInt() == 0)
          state.attributes.set("stream", b.getI64IntegerAttr(nextStream));
        ++nextStream;
        FailureOr<Operation *> keyed = createWithInferredTypes(b, state);
        if (failed(keyed))
          return failure();
        mapping.map(op.getResults(), (*keyed)->getResults());
        cloned.push_back(*keyed);
        continue;
      }
      // Inference form: keyless dropout, flips and translations are the
      // identity; leave them out rather than count on a later fold.
      if (!key && isa<DropoutOp, RandomFlipOp, RandomTranslationOp>(op)) {
        mapping.map(op.getResult(0), mapping.lookup(op.getOperand(0)));
        continue;
      }
      cloned.push_back(b.clone(op, mapping));
    }
    return cloned;
  }

  /// The value the loss takes: the logits, or the input of a final softmax
  /// when the loss expects probabilities (same math, stabler).
  FailureOr<Value> lossInput(Value logits) {
    if (loss.kind != LossKind::SparseCategoricalCrossEntropy || loss.fromLogits)
      return logits;
    if (auto softmax = logits.getDefiningOp<SoftmaxOp>())
      return softmax.getInput();
    return forward.emitOpError(
        "sparse_categorical_crossentropy with from_logits: false needs a "
        "model that ends in a softmax");
  }

  /// Builds the loss and the correct count; returns the loss op too.
  FailureOr<std::tuple<Operation *, Value, Value>>
  buildLoss(OpBuilder &b, Location loc, Value logits, Value labels) {
    FailureOr<Value> input = lossInput(logits);
    if (failed(input))
      return failure();
    Operation *lossOp;
    Value correct;
    switch (loss.kind) {
    case LossKind::SparseCategoricalCrossEntropy:
      lossOp = SoftmaxCrossEntropyOp::create(b, loc, *input, labels);
      correct = AccuracyOp::create(b, loc, *input, labels);
      break;
    case LossKind::MeanSquaredError:
      lossOp = MseOp::create(b, loc, *input, labels);
      break;
    case LossKind::BinaryCrossEntropy:
      lossOp =
          BinaryCrossEntropyOp::create(b, loc, *input, labels, loss.fromLogits);
      break;
    }
    if (!correct) // Regression and binary losses count no classes.
      correct = arith::ConstantOp::create(
          b, loc,
          DenseElementsAttr::get(RankedTensorType::get({}, b.getI32Type()),
                                 int32_t(0)));
    return std::tuple<Operation *, Value, Value>(lossOp, lossOp->getResult(0),
                                                 correct);
  }

  LogicalResult buildPredict(OpBuilder &b) {
    SmallVector<Slot> args = groupSlots(params, DLC_ROLE_PARAM);
    llvm::append_range(args, groupSlots(state, DLC_ROLE_STATE));
    args.push_back({argType(0), "input", DLC_ROLE_INPUT});
    func::FuncOp fn =
        createFunc(b, "predict", args,
                   {{forwardLogits().getType(), "logits", DLC_ROLE_LOGITS}});
    OpBuilder body = OpBuilder::atBlockBegin(&fn.getBody().front());
    IRMapping mapping = mapArguments(fn, /*withOptState=*/false);
    if (failed(cloneForward(body, mapping, /*key=*/Value(), nullptr)))
      return failure();
    func::ReturnOp::create(body, forward.getLoc(),
                           mapping.lookup(forwardLogits()));
    return success();
  }

  /// @features(params..., state..., input) -> (each conv2d's output): the
  /// feature maps a report shows, in inference form. Only what the
  /// convolutions need is cloned; a model without one gets no function.
  LogicalResult buildFeatures(OpBuilder &b) {
    SmallVector<Conv2DOp> convs;
    forward.walk([&](Conv2DOp conv) { convs.push_back(conv); });
    if (convs.empty())
      return success();
    SmallVector<Slot> args = groupSlots(params, DLC_ROLE_PARAM);
    llvm::append_range(args, groupSlots(state, DLC_ROLE_STATE));
    args.push_back({argType(0), "input", DLC_ROLE_INPUT});
    SmallVector<Slot> results;
    for (auto [i, conv] : llvm::enumerate(convs)) {
      // The layer's name, from its kernel's ("conv2d_1/kernel").
      std::string name = "conv2d_" + std::to_string(i);
      if (auto arg = dyn_cast<BlockArgument>(conv.getFilter()))
        if (auto kernel = forward.getArgAttrOfType<StringAttr>(
                arg.getArgNumber(), attr::kName))
          name = StringRef(kernel).rsplit('/').first.str();
      results.push_back({conv.getType(), name, DLC_ROLE_FEATURE});
    }
    func::FuncOp fn = createFunc(b, "features", args, results);
    OpBuilder body = OpBuilder::atBlockBegin(&fn.getBody().front());
    IRMapping mapping = mapArguments(fn, /*withOptState=*/false);
    auto cloned = cloneForward(body, mapping, /*key=*/Value(), nullptr);
    if (failed(cloned))
      return failure();
    SmallVector<Value> returned;
    for (Conv2DOp conv : convs)
      returned.push_back(mapping.lookup(conv.getResult()));
    func::ReturnOp::create(body, forward.getLoc(), returned);
    // The layers after the last convolution are dead here.
    for (Operation *op : llvm::reverse(*cloned))
      if (op->use_empty()) // Tensor ops on values: nothing else to keep.
        op->erase();
    return success();
  }

  LogicalResult buildEvalStep(OpBuilder &b) {
    Value logits = forwardLogits();
    SmallVector<Slot> args = groupSlots(params, DLC_ROLE_PARAM);
    llvm::append_range(args, groupSlots(state, DLC_ROLE_STATE));
    args.push_back({argType(0), "input", DLC_ROLE_INPUT});
    args.push_back({labelsType(logits), "labels", DLC_ROLE_LABELS});
    func::FuncOp fn = createFunc(b, "eval_step", args, lossSlots());
    OpBuilder body = OpBuilder::atBlockBegin(&fn.getBody().front());
    IRMapping mapping = mapArguments(fn, /*withOptState=*/false);
    if (failed(cloneForward(body, mapping, /*key=*/Value(), nullptr)))
      return failure();
    auto built = buildLoss(body, forward.getLoc(), mapping.lookup(logits),
                           fn.getArguments().back());
    if (failed(built))
      return failure();
    func::ReturnOp::create(
        body, forward.getLoc(),
        ValueRange{std::get<1>(*built), std::get<2>(*built)});
    return success();
  }

  /// What train_step and @gradients share: the forward pass of `fn`
  /// (cloned from @forward, keyed by seed and step), the loss, and the
  /// reverse pass from it.
  struct LossAndGradients {
    IRMapping mapping;                  // @forward's values in `fn`
    DenseMap<unsigned, Value> newState; // state argument -> its new value
    Value loss, correct;
    SmallVector<Value> roots;     // the params, in `params` order
    DenseMap<Value, Value> grads; // value -> d loss / d value
  };

  FailureOr<LossAndGradients>
  buildLossAndGradients(OpBuilder &body, Location loc, func::FuncOp fn,
                        Value labels, Value step, Value seed,
                        bool withOptState) {
    LossAndGradients lg;
    // key = seed * kKeyMultiplier + step (wrapping).
    Value multiplier = arith::ConstantOp::create(
        body, loc,
        body.getI64IntegerAttr(static_cast<int64_t>(kKeyMultiplier)));
    Value key = arith::AddIOp::create(
        body, loc, arith::MulIOp::create(body, loc, seed, multiplier), step);

    lg.mapping = mapArguments(fn, withOptState);
    auto ops = cloneForward(body, lg.mapping, key, &lg.newState);
    if (failed(ops))
      return failure();
    auto built =
        buildLoss(body, loc, lg.mapping.lookup(forwardLogits()), labels);
    if (failed(built))
      return failure();
    auto [lossOp, lossValue, correct] = *built;
    ops->push_back(lossOp);
    lg.loss = lossValue;
    lg.correct = correct;

    // Reverse mode: gradients only for values a trainable parameter reaches.
    for (unsigned i : params)
      lg.roots.push_back(lg.mapping.lookup(forward.getArgument(i)));
    DenseSet<Value> varied = computeVariedValues(*ops, lg.roots);
    lg.grads[lossValue] = arith::ConstantOp::create(
        body, loc,
        DenseElementsAttr::get(RankedTensorType::get({}, body.getF32Type()),
                               1.0f));
    if (failed(buildReverseMode(body, *ops, varied, lg.grads)))
      return failure();
    return lg;
  }

  LogicalResult buildTrainStep(OpBuilder &b) {
    Value logits = forwardLogits();
    SmallVector<Slot> args = groupSlots(params, DLC_ROLE_PARAM);
    llvm::append_range(args, optStateSlots());
    llvm::append_range(args, groupSlots(state, DLC_ROLE_STATE));
    args.push_back({argType(0), "input", DLC_ROLE_INPUT});
    args.push_back({labelsType(logits), "labels", DLC_ROLE_LABELS});
    args.push_back({b.getI64Type(), "step", DLC_ROLE_STEP});
    args.push_back({b.getI64Type(), "seed", DLC_ROLE_SEED});
    args.push_back({b.getF32Type(), "learning_rate", DLC_ROLE_LEARNING_RATE});
    SmallVector<Slot> results = groupSlots(params, DLC_ROLE_PARAM);
    llvm::append_range(results, optStateSlots());
    llvm::append_range(results, groupSlots(state, DLC_ROLE_STATE));
    llvm::append_range(results, lossSlots());
    func::FuncOp fn = createFunc(b, "train_step", args, results);
    // Result i of the persistent groups is the new value of argument i:
    // tie them, so that the step updates its buffers instead of returning
    // copies (the runtime holds each persistent tensor once).
    if (inPlace)
      for (unsigned i = 0, e = results.size() - lossSlots().size(); i < e; ++i)
        fn.setArgAttr(i, attr::kResult, b.getI64IntegerAttr(i));

    Location loc = forward.getLoc();
    Block &entry = fn.getBody().front();
    OpBuilder body = OpBuilder::atBlockBegin(&entry);
    unsigned numArgs = entry.getNumArguments();
    Value labels = entry.getArgument(numArgs - 4);
    Value step = entry.getArgument(numArgs - 3);
    Value seed = entry.getArgument(numArgs - 2);
    Value lr = entry.getArgument(numArgs - 1);

    FailureOr<LossAndGradients> lg = buildLossAndGradients(
        body, loc, fn, labels, step, seed, /*withOptState=*/true);
    if (failed(lg))
      return failure();
    IRMapping &mapping = lg->mapping;
    DenseMap<Value, Value> &grads = lg->grads;
    Value lossValue = lg->loss, correct = lg->correct;

    // Optimizer updates, one op per parameter.
    SmallVector<Value> newParams, newSlots;
    unsigned slotArg = params.size();
    unsigned numSlots = optimizer.slots().size();
    Value t = arith::AddIOp::create(
        body, loc, step,
        arith::ConstantOp::create(body, loc, body.getI64IntegerAttr(1)));
    for (unsigned i : params) {
      Value param = mapping.lookup(forward.getArgument(i));
      SmallVector<Value> slots;
      for (unsigned s = 0; s < numSlots; ++s)
        slots.push_back(entry.getArgument(slotArg++));
      Value grad = grads.lookup(param);
      if (!grad) {
        emitWarning(forward.getLoc())
            << "parameter '" << argName(i)
            << "' does not affect the loss; it is not updated";
        newParams.push_back(param);
        llvm::append_range(newSlots, slots);
        continue;
      }
      Operation *update = buildUpdate(body, loc, param, grad, slots, lr, t);
      newParams.push_back(update->getResult(0));
      llvm::append_range(newSlots, update->getResults().drop_front());
    }

    SmallVector<Value> returned = newParams;
    llvm::append_range(returned, newSlots);
    for (unsigned i : state) {
      Value updated = lg->newState.lookup(i);
      returned.push_back(updated ? updated
                                 : mapping.lookup(forward.getArgument(i)));
    }
    returned.push_back(lossValue);
    returned.push_back(correct);
    func::ReturnOp::create(body, loc, returned);
    return success();
  }

  /// @gradients: train_step's forward pass, loss and reverse mode for the
  /// same (step, seed) key, returning the gradients instead of applying
  /// them (and dropping the new batch-norm statistics).
  LogicalResult buildGradients(OpBuilder &b) {
    Value logits = forwardLogits();
    SmallVector<Slot> args = groupSlots(params, DLC_ROLE_PARAM);
    llvm::append_range(args, groupSlots(state, DLC_ROLE_STATE));
    args.push_back({argType(0), "input", DLC_ROLE_INPUT});
    args.push_back({labelsType(logits), "labels", DLC_ROLE_LABELS});
    args.push_back({b.getI64Type(), "step", DLC_ROLE_STEP});
    args.push_back({b.getI64Type(), "seed", DLC_ROLE_SEED});
    SmallVector<Slot> results;
    for (unsigned i : params)
      results.push_back({argType(i), argName(i), DLC_ROLE_GRADIENT});
    func::FuncOp fn = createFunc(b, "gradients", args, results);
    Location loc = forward.getLoc();
    Block &entry = fn.getBody().front();
    OpBuilder body = OpBuilder::atBlockBegin(&entry);
    unsigned numArgs = entry.getNumArguments();
    Value labels = entry.getArgument(numArgs - 3);
    Value step = entry.getArgument(numArgs - 2);
    Value seed = entry.getArgument(numArgs - 1);
    FailureOr<LossAndGradients> lg = buildLossAndGradients(
        body, loc, fn, labels, step, seed, /*withOptState=*/false);
    if (failed(lg))
      return failure();
    SmallVector<Value> returned;
    for (Value root : lg->roots) {
      Value grad = lg->grads.lookup(root);
      if (!grad) {
        auto type = cast<RankedTensorType>(root.getType());
        grad = arith::ConstantOp::create(body, loc,
                                         DenseElementsAttr::get(type, 0.0f));
      }
      returned.push_back(grad);
    }
    func::ReturnOp::create(body, loc, returned);
    return success();
  }

  Operation *buildUpdate(OpBuilder &b, Location loc, Value param, Value grad,
                         ArrayRef<Value> slots, Value lr, Value t) {
    Type type = param.getType();
    if (optimizer.kind == OptimizerKind::Sgd)
      return SgdUpdateOp::create(
          b, loc, type, type, param, grad, slots[0], lr, /*step=*/Value(),
          b.getF32FloatAttr(optimizer.momentum),
          optimizer.nesterov ? b.getUnitAttr() : UnitAttr(),
          b.getF32FloatAttr(optimizer.weightDecay),
          /*dampening=*/b.getF32FloatAttr(0.0f));
    return AdamUpdateOp::create(
        b, loc, type, type, type, param, grad, slots[0], slots[1], lr, t,
        b.getF32FloatAttr(optimizer.beta1), b.getF32FloatAttr(optimizer.beta2),
        b.getF32FloatAttr(optimizer.epsilon),
        b.getF32FloatAttr(optimizer.weightDecay),
        optimizer.kind == OptimizerKind::AdamW ? b.getUnitAttr() : UnitAttr(),
        /*epsilon_hat=*/UnitAttr(), /*post_decay=*/b.getF32FloatAttr(0.0f));
  }

  SmallVector<Slot> groupSlots(ArrayRef<unsigned> group, StringRef role) {
    SmallVector<Slot> slots;
    for (unsigned i : group)
      slots.push_back({argType(i), argName(i), role,
                       forward.getArgAttr(i, attr::kInit),
                       forward.getArgAttr(i, attr::kInitConfig),
                       forward.getArgAttr(i, attr::kInitialValue)});
    return slots;
  }

  SmallVector<Slot> optStateSlots() {
    SmallVector<Slot> slots;
    for (unsigned i : params)
      for (StringRef slot : optimizer.slots())
        slots.push_back(
            {argType(i), argName(i) + "/" + slot.str(), DLC_ROLE_OPT_STATE});
    return slots;
  }

  SmallVector<Slot> lossSlots() {
    Builder b(ctx);
    return {{RankedTensorType::get({}, b.getF32Type()), "loss", DLC_ROLE_LOSS},
            {RankedTensorType::get({}, b.getI32Type()), "correct",
             DLC_ROLE_CORRECT}};
  }

  /// Maps @forward's arguments to `fn`'s: params, [opt state], state, input.
  IRMapping mapArguments(func::FuncOp fn, bool withOptState) {
    IRMapping mapping;
    unsigned next = 0;
    for (unsigned i : params)
      mapping.map(forward.getArgument(i), fn.getArgument(next++));
    if (withOptState)
      next += params.size() * optimizer.slots().size();
    for (unsigned i : state)
      mapping.map(forward.getArgument(i), fn.getArgument(next++));
    mapping.map(forward.getArgument(0), fn.getArgument(next));
    return mapping;
  }

  ModuleOp module;
  func::FuncOp forward;
  LossConfig loss;
  OptimizerConfig optimizer;
  bool inPlace, features, gradients;
  MLIRContext *ctx;
  SmallVector<unsigned> params, state;
};

struct BuildTrainStepPass
    : public dlc::impl::DLCBuildTrainStepBase<BuildTrainStepPass> {
  using DLCBuildTrainStepBase::DLCBuildTrainStepBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto forward = module.lookupSymbol<func::FuncOp>(forwardName);
    if (!forward) {
      module.emitError("no function @") << forwardName << " to differentiate";
      return signalPassFailure();
    }
    for (StringRef name :
         {"train_step", "eval_step", "predict", "features", "gradients"})
      if (module.lookupSymbol(name)) {
        module.emitError("the module already has a @") << name;
        return signalPassFailure();
      }
    FailureOr<LossConfig> loss = readLoss(module, lossName);
    FailureOr<OptimizerConfig> optimizer = readOptimizer(module, optimizerName);
    if (failed(loss) || failed(optimizer))
      return signalPassFailure();
    if (failed(TrainStepBuilder(module, forward, *loss, *optimizer, inPlace,
                                features, gradients)
                   .run()))
      return signalPassFailure();
    // Data parallelism: the updates take the gradients averaged over ranks.
    auto trainStep = module.lookupSymbol<func::FuncOp>("train_step");
    if (dataParallel && failed(insertGradientAllReduce(trainStep, bucketBytes,
                                                       overlapAllReduce)))
      return signalPassFailure();
    // Read by the lowering (convert-dlc-to-linalg): the random draws are
    // keyed by the global sample index (Random.cpp).
    if (dataParallel)
      trainStep->setAttr("dlc.data_parallel", UnitAttr::get(&getContext()));
    if (dropForward)
      forward.erase();
  }
};

} // namespace
