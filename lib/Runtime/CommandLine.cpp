//===- CommandLine.cpp - Options of training executables ------------------===//
//
// The option table, --help rendering and the parser (see CommandLine.h).
//
//===----------------------------------------------------------------------===//

#include "CommandLine.h"

#include "dlc/Runtime/Support.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/FormatVariadic.h"

using namespace dlc::runtime;
using namespace dlc::runtime::cli;

namespace {

/// One command-line option. `metavar` is empty for flags.
struct OptionSpec {
  const char *name;
  const char *metavar;
  unsigned commands;
  const char *help;
};

// clang-format off
const OptionSpec kOptions[] = {
  {"data", "SPEC", Train | Evaluate | Gradients,
   "fashion-mnist | mnist | cifar10 | synthetic[:train=N,test=N,shape=HxWxC,"
   "classes=N,noise=X,seed=N] | DIR with IDX or CIFAR-10 files"},
  {"validation-split", "F", Train | Evaluate | Gradients,
   "hold out the last fraction F of the training data for validation "
   "(train and gradients: default 0.1; evaluate: the checkpoint's)"},
  {"drop-remainder", "", Train,
   "drop the last partial batch of each epoch; by default it is trained, "
   "padded with samples from the start of the epoch's order"},
  {"epochs", "N", Train, "number of epochs (default: the model's, else 10)"},
  {"batch-size", "N", Train | Evaluate | Predict | Gradients,
   "must equal the batch size the model was compiled for (per process: "
   "under mpirun -np N the global batch is N times it)"},
  {"sync-batch-norm", "", Train,
   "check that the executable was compiled with --sync-batch-norm (batch "
   "norm over the global batch); an error if not"},
  {"collective-timeout", "S", Train,
   "under mpirun: seconds a rank waits for the others in a collective "
   "before the job stops with an error (default 300)"},
  {"all-reduce-profile", "", Train,
   "data-parallel runs: print on rank 0, per gradient bucket, the "
   "all-reduce's communication time, the compute it overlapped and the "
   "time the step waited for it"},
  {"lr", "X", Train,
   "base learning rate (default: the compiled optimizer's, else 0.001)"},
  {"lr-schedule", "S", Train, "constant | step | cosine (default constant)"},
  {"warmup-epochs", "X", Train,
   "linear learning-rate warm-up over X epochs (default 0)"},
  {"lr-decay-epochs", "X", Train,
   "step schedule: decay every X epochs (default: a third of --epochs)"},
  {"lr-decay-factor", "X", Train, "step schedule: multiply by X (default 0.1)"},
  {"min-lr", "X", Train, "cosine schedule: final learning rate (default 0)"},
  {"optimizer", "NAME", Train,
   "the optimizer is compiled into the model; naming another one is an "
   "error (recompile to change it)"},
  {"seed", "N", Train | Evaluate | Gradients,
   "seed of initialization, shuffling, dropout and synthetic data "
   "(default 0; on --resume, the checkpoint's)"},
  {"threads", "N", Train | Evaluate | Predict | Gradients,
   "threads the compiled code may use (default: its own choice); recorded "
   "in checkpoints"},
  {"profile", "", Train,
   "print each compiled kernel's time, GFLOP/s and GB/s at the end (the "
   "model must be compiled with dlc compile --profile)"},
  {"profile-top", "N", Train,
   "with --profile: print the N slowest kernels (default 30; 0 prints "
   "them all)"},
  {"out", "DIR", Train,
   "output directory (default: runs/<model>[-N], or the directory of the "
   "--resume checkpoint)"},
  {"resume", "CKPT", Train,
   "continue a run from a checkpoint, exactly as if it had not stopped"},
  {"no-prefetch", "", Train,
   "assemble each batch just before its step instead of during the "
   "previous one (same results; to measure what the overlap saves)"},
  {"reinitialize", "", Train,
   "start from the layers' initializers, not from the weights the model "
   "file gives (ONNX initializers)"},
  {"checkpoint-every", "N", Train,
   "also save last.safetensors every N steps (default: at epoch ends)"},
  {"tensorboard-update-freq", "F", Train,
   "epoch | batch | N: TensorBoard points at epoch ends (default), after "
   "every batch or every N steps (batch_loss, batch_accuracy)"},
  {"histogram-freq", "N", Train,
   "TensorBoard histograms of the weights every N epochs (default 0: none)"},
  {"class-names", "LIST", Train,
   "the report's class names: a,b,... or a file with one per line "
   "(default: the model's, Fashion-MNIST's, CIFAR-10's or class_N)"},
  {"early-stopping-monitor", "M", Train,
   "stop training when M (loss | accuracy | val_loss | val_accuracy) stops "
   "improving, as Keras's EarlyStopping (default val_loss; any "
   "--early-stopping-* flag turns it on)"},
  {"early-stopping-patience", "N", Train,
   "epochs without improvement before stopping (default 0)"},
  {"early-stopping-min-delta", "X", Train,
   "smallest change that counts as an improvement (default 0)"},
  {"early-stopping-mode", "MODE", Train,
   "auto | min | max (default auto: min for losses, max for accuracies)"},
  {"early-stopping-baseline", "X", Train,
   "the value to beat before patience restarts (default: none)"},
  {"early-stopping-start-from-epoch", "N", Train,
   "epochs to wait before monitoring (default 0)"},
  {"early-stopping-restore-best-weights", "", Train,
   "at the end, restore the weights of the best epoch (into "
   "last.safetensors)"},
  {"reduce-lr-monitor", "M", Train,
   "multiply the learning rate by --reduce-lr-factor when M stops "
   "improving, as Keras's ReduceLROnPlateau (default val_loss; any "
   "--reduce-lr-* flag turns it on; needs --lr-schedule constant)"},
  {"reduce-lr-factor", "X", Train, "in [0, 1) (default 0.1)"},
  {"reduce-lr-patience", "N", Train,
   "epochs without improvement before reducing (default 10)"},
  {"reduce-lr-min-delta", "X", Train,
   "smallest change that counts as an improvement (default 0.0001)"},
  {"reduce-lr-mode", "MODE", Train, "auto | min | max (default auto)"},
  {"reduce-lr-cooldown", "N", Train,
   "epochs to wait after a reduction before counting again (default 0)"},
  {"reduce-lr-min-lr", "X", Train,
   "the learning rate is never reduced below X (default 0)"},
  {"checkpoint-monitor", "M", Train,
   "best.safetensors is the epoch with the best M (default val_accuracy, "
   "accuracy without a validation split)"},
  {"checkpoint-mode", "MODE", Train, "auto | min | max (default auto)"},
  {"epoch-checkpoints", "W", Train,
   "none | all | best: also keep epoch-NNN.safetensors for every epoch, or "
   "for each epoch that improves --checkpoint-monitor (Keras's "
   "save_best_only) (default none)"},
  {"progress", "MODE", Train,
   "auto | bar | lines | none (default auto: a bar on a terminal)"},
  {"log-every", "N", Train,
   "lines mode: a line every N steps (default: about 10 per epoch)"},
  {"checkpoint", "CKPT", Evaluate | Predict | Export | Gradients,
   "the checkpoint to load (e.g. runs/<model>/best.safetensors; gradients: "
   "default the initial weights of --seed)"},
  {"format", "F", Export,
   "keras (Keras 3 weights, -o M.weights.h5) or torch (PyTorch weights and "
   "model.py, -o DIR or -o M.safetensors); for ONNX run dlc export"},
  {"output", "PATH", Export | Gradients,
   "the file or directory to write (also -o PATH)"},
  {"input", "FILE", Predict,
   "IDX image file (raw or .gz), e.g. t10k-images-idx3-ubyte.gz"},
  {"top", "K", Predict, "print the K most likely classes (default 3)"},
  {"count", "N", Predict, "only the first N images (default: all)"},
  {"raw", "", Predict,
   "print every output of the model (logits or probabilities) in full "
   "precision instead of the top classes"},
  {"help", "", Train | Evaluate | Predict | Info | Summary | Export | Gradients,
   "show this help"},
};
// clang-format on

const struct {
  const char *name;
  Command command;
  const char *summary;
} kCommands[] = {
    {"train", Train,
     "train the model; writes checkpoints, metrics and a report"},
    {"evaluate", Evaluate,
     "evaluate a checkpoint on the validation and test data"},
    {"predict", Predict, "print the top classes of the images of an IDX file"},
    {"info", Info, "print the model's tensors and compiled settings"},
    {"summary", Summary,
     "print the layers, output shapes, parameters and FLOPs (like Keras)"},
    {"export", Export, "write a checkpoint's weights for Keras 3 or PyTorch"},
    {"gradients", Gradients,
     "write the loss gradients of the first training batch (safetensors)"},
};

} // namespace

void cli::printHelp(llvm::raw_ostream &out, llvm::StringRef program,
                    llvm::StringRef modelSummary, llvm::StringRef modelName,
                    std::optional<Command> command) {
  if (!command) {
    out << "USAGE: " << program << " <command> [options]\n\n"
        << "Trains, evaluates and runs the compiled " << modelSummary
        << ".\n\nCommands:\n";
    for (const auto &c : kCommands)
      out << llvm::formatv("  {0,-10} {1}\n", c.name, c.summary);
    out << "\nRun '" << program << " <command> --help' for its options.\n"
        << "Example: " << program
        << " train --data fashion-mnist --epochs 10 --out runs/" << modelName
        << "\n";
    return;
  }
  const char *name = "";
  for (const auto &c : kCommands)
    if (c.command == *command)
      name = c.name;
  // `dlc train MODEL` runs the program as its train command: the program
  // name is then the whole command (see dlcRuntimeMain).
  out << "USAGE: " << program << (program.contains(' ') ? "" : " ")
      << (program.contains(' ') ? "" : name) << " [options]\n\n"
      << modelSummary << "\n\nOptions:\n";
  for (const OptionSpec &o : kOptions) {
    if (!(o.commands & *command))
      continue;
    std::string flag = std::string("--") + o.name;
    if (*o.metavar)
      flag += std::string(" ") + o.metavar;
    // Wrap the help text at ~80 columns.
    llvm::SmallVector<llvm::StringRef> words;
    llvm::StringRef(o.help).split(words, ' ');
    std::string line;
    bool first = true;
    // A flag wider than its column goes on a line of its own (80 columns).
    if (flag.size() > 24) {
      out << "  " << flag << "\n";
      first = false;
    }
    auto emit = [&] {
      out << llvm::formatv("  {0,-24} {1}\n", first ? flag : "", line);
      first = false;
      line.clear();
    };
    for (llvm::StringRef w : words) {
      if (w.size() <= 52) {
        if (!line.empty() && line.size() + w.size() + 1 > 52)
          emit();
        line += (line.empty() ? "" : " ") + w.str();
        continue;
      }
      // A word wider than the column (the synthetic data spec) breaks
      // after its commas, continuing without a space.
      if (!line.empty())
        emit();
      while (!w.empty()) {
        size_t comma = w.rfind(',', 51);
        size_t cut = w.size() <= 52                   ? w.size()
                     : comma == llvm::StringRef::npos ? 52
                                                      : comma + 1;
        line = w.take_front(cut).str();
        w = w.drop_front(cut);
        if (!w.empty())
          emit();
      }
    }
    emit();
  }
  if (*command == Train)
    out << "\nThe batch size, optimizer and loss are compiled in; the "
           "learning rate and its\nschedule are not. In --out: "
           "last.safetensors, best.safetensors (best validation\naccuracy), "
           "metrics.csv, report.html, events.out.tfevents.* (TensorBoard).\n"
           "Ctrl-C saves last.safetensors and stops; --resume continues "
           "exactly.\n";
  out << "\nExit status: 0 success, 1 error, 2 bad command line, 3 the loss "
         "became NaN or\ninfinite (the last good checkpoint is kept), 130 "
         "interrupted (checkpoint saved).\n";
}

std::optional<UsageError>
cli::parseCommandLine(llvm::ArrayRef<std::string> args, ParsedArgs &parsed) {
  if (args.empty())
    return UsageError{
        "missing command (train, evaluate, predict, info, summary, "
        "export or gradients)"};
  llvm::StringRef name = args[0];
  auto command =
      llvm::find_if(kCommands, [&](const auto &c) { return name == c.name; });
  if (command == std::end(kCommands))
    return UsageError{"unknown command '" + name.str() +
                      "' (train, evaluate, predict, info, summary, export or "
                      "gradients)"};
  parsed.command = command->command;
  for (size_t i = 1; i < args.size(); ++i) {
    llvm::StringRef arg = args[i];
    if (arg == "-h")
      arg = "--help";
    if (arg == "-o" &&
        (parsed.command == Export || parsed.command == Gradients))
      arg = "--output";
    if (!arg.consume_front("--"))
      return UsageError{"unexpected argument '" + arg.str() + "'"};
    auto [key, inlineValue] = arg.split('=');
    bool hasInline = arg.contains('=');
    const OptionSpec *spec = nullptr;
    for (const OptionSpec &o : kOptions)
      if (key == o.name && (o.commands & parsed.command))
        spec = &o;
    if (!spec) {
      // Suggest the closest option of this command.
      const char *best = nullptr;
      unsigned bestDistance = 3;
      for (const OptionSpec &o : kOptions)
        if (o.commands & parsed.command) {
          unsigned d = key.edit_distance(o.name);
          if (d < bestDistance) {
            bestDistance = d;
            best = o.name;
          }
        }
      std::string message =
          "unknown option '--" + key.str() + "' for '" + name.str() + "'";
      if (best)
        message += " (did you mean '--" + std::string(best) + "'?)";
      return UsageError{message};
    }
    if (!*spec->metavar) {
      if (hasInline)
        return UsageError{"--" + key.str() + " takes no value"};
      parsed.values[key] = "true";
      continue;
    }
    if (hasInline) {
      parsed.values[key] = inlineValue.str();
    } else if (i + 1 < args.size()) {
      parsed.values[key] = args[++i];
    } else {
      return UsageError{"--" + key.str() + " needs a value (" + spec->metavar +
                        ")"};
    }
  }
  return std::nullopt;
}

int64_t cli::readInteger(const ParsedArgs &a, llvm::StringRef name, int64_t def,
                         int64_t min, std::optional<UsageError> &usage) {
  if (!a.has(name))
    return def;
  int64_t value;
  if (a.get(name).getAsInteger(10, value) || value < min) {
    if (!usage)
      usage = UsageError{llvm::formatv("--{0} expects an integer >= {1}, not "
                                       "'{2}'",
                                       name, min, a.get(name))};
    return def;
  }
  return value;
}

double cli::readNumber(const ParsedArgs &a, llvm::StringRef name, double def,
                       double min, double max,
                       std::optional<UsageError> &usage) {
  if (!a.has(name))
    return def;
  double value;
  if (a.get(name).getAsDouble(value) || !(value >= min && value <= max)) {
    if (!usage)
      usage = UsageError{
          llvm::formatv("--{0} expects a number in [{1}, {2}], not '{3}'", name,
                        formatNumber(min), formatNumber(max), a.get(name))};
    return def;
  }
  return value;
}
