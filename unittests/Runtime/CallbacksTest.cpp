//===- CallbacksTest.cpp - EarlyStopping, ReduceLROnPlateau, checkpoints --===//
//
// The callbacks' state machines on value sequences whose outcome is worked
// out by hand from Keras 3's on_epoch_end (keras/src/callbacks/), then the
// trainer acting on them with the fake model: stopping, restoring the best
// weights, reducing the learning rate the step receives, exact resume with
// the callbacks' state, and the errors of bad flags and metadata.
//
//===----------------------------------------------------------------------===//

#include "FakeModel.h"
#include "TestUtil.h"

#include "dlc/Runtime/Callbacks.h"
#include "dlc/Runtime/Checkpoint.h"
#include "dlc/Runtime/Runtime.h"

#include "llvm/ADT/StringExtras.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

using namespace dlc::runtime;
using namespace dlc::runtime::testing;
using ::testing::HasSubstr;
using ::testing::Not;

namespace {

//===----------------------------------------------------------------------===//
// The state machines
//===----------------------------------------------------------------------===//

/// The 0-based epochs at which `es` stops over `values` (at most one), and
/// the epochs whose weights it keeps.
std::pair<int64_t, std::vector<int64_t>> run(EarlyStopping &es,
                                             std::vector<double> values) {
  std::vector<int64_t> kept;
  for (int64_t e = 0; e < int64_t(values.size()); ++e) {
    EarlyStopping::Decision d = es.onEpochEnd(e, values[e]);
    if (d.keepWeights)
      kept.push_back(e);
    if (d.stop)
      return {e, kept};
  }
  return {-1, kept};
}

TEST(EarlyStoppingTest, PatienceAndMinDeltaAsKeras) {
  // val_loss, min_delta 0.1, patience 2: epoch 1 (0.95) is no improvement
  // on 1.0 by more than 0.1, epoch 2 (0.85) is; epochs 3 and 4 are not,
  // and the wait reaches 2 at epoch 4.
  EarlyStopping es;
  es.monitor = {Monitored::ValLoss, MonitorMode::Auto, 0.1};
  es.patience = 2;
  auto [stopped, kept] = run(es, {1.0, 0.95, 0.85, 0.9, 0.88, 0.1});
  EXPECT_EQ(stopped, 4);
  EXPECT_EQ(es.stoppedEpoch, 4);
  EXPECT_EQ(es.best, 0.85);
  EXPECT_EQ(es.bestEpoch, 2);
  EXPECT_EQ(es.wait, 2);
  EXPECT_TRUE(kept.empty()); // No restore_best_weights.
}

TEST(EarlyStoppingTest, PatienceZeroStopsAtTheFirstNonImprovement) {
  EarlyStopping es;
  es.monitor = {Monitored::Loss, MonitorMode::Auto, 0};
  // Equal is no improvement (strict less).
  EXPECT_EQ(run(es, {1.0, 0.5, 0.5}).first, 2);
}

TEST(EarlyStoppingTest, AccuracyIsMaximizedInAutoMode) {
  EarlyStopping es;
  es.monitor = {Monitored::ValAccuracy, MonitorMode::Auto, 0};
  es.patience = 2;
  // 0.4 waits 1, 0.7 improves, the equal 0.7s wait 1 and 2.
  EXPECT_EQ(run(es, {0.5, 0.6, 0.4, 0.7, 0.7, 0.7}).first, 5);
  // mode min on an accuracy: 0.6 is no improvement on 0.5.
  EarlyStopping min;
  min.monitor = {Monitored::ValAccuracy, MonitorMode::Min, 0};
  EXPECT_EQ(run(min, {0.5, 0.6}).first, 1);
}

TEST(EarlyStoppingTest, BaselineKeepsTheWaitGoingAndEpochZeroNeverStops) {
  // Keras: an improvement on the best returns before the stop test, but
  // only one that also beats the baseline resets the wait.
  EarlyStopping es;
  es.monitor = {Monitored::Loss, MonitorMode::Min, 0};
  es.baseline = 0.5;
  es.restoreBestWeights = true;
  auto [stopped, kept] = run(es, {1.0, 0.9, 0.95});
  EXPECT_EQ(stopped, 2);
  EXPECT_EQ(es.wait, 3);
  // The first epoch's weights are kept (best_weights was None), then each
  // improvement's.
  EXPECT_EQ(kept, (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(es.bestEpoch, 1);
}

TEST(EarlyStoppingTest, StartFromEpochIgnoresTheFirstEpochs) {
  EarlyStopping es;
  es.monitor = {Monitored::Loss, MonitorMode::Auto, 0};
  es.startFromEpoch = 2;
  EXPECT_EQ(run(es, {1.0, 2.0, 3.0, 4.0}).first, 3);
  EXPECT_EQ(es.best, 3.0);
}

TEST(ReduceLROnPlateauTest, PatienceCooldownAndMinLrAsKeras) {
  ReduceLROnPlateau r;
  r.monitor = {Monitored::Loss, MonitorMode::Auto, 1e-4};
  r.factor = 0.5;
  r.patience = 2;
  r.cooldown = 1;
  r.minLr = 0.01;
  double lr = 0.1;
  std::vector<std::pair<int, double>> reductions;
  for (int e = 0; e < 12; ++e)
    if (auto reduced = r.onEpochEnd(1.0, lr)) {
      lr = *reduced;
      reductions.push_back({e, lr});
    }
  // Epoch 0 sets best; waits reach 2 at epochs 2, 4, 6, 8 (the cooldown
  // epoch after each reduction resets the wait, then counts it again as
  // Keras does once the counter is back at 0); at 8 the rate reaches
  // min_lr, after which old_lr > float32(min_lr) fails.
  std::vector<std::pair<int, double>> expected = {{2, double(float(0.05))},
                                                  {4, double(float(0.025))},
                                                  {6, double(float(0.0125))},
                                                  {8, double(float(0.01))}};
  EXPECT_EQ(reductions, expected);
  EXPECT_EQ(r.wait, 3); // Epochs 9, 10, 11, no reduction.
}

TEST(ReduceLROnPlateauTest, ImprovementsByMoreThanMinDeltaResetTheWait) {
  ReduceLROnPlateau r;
  r.monitor = {Monitored::ValAccuracy, MonitorMode::Auto, 0.01};
  r.patience = 1;
  EXPECT_FALSE(r.onEpochEnd(0.50, 0.1));
  EXPECT_FALSE(r.onEpochEnd(0.52, 0.1)); // +0.02 > min_delta
  EXPECT_EQ(r.wait, 0);
  EXPECT_EQ(r.onEpochEnd(0.525, 0.1), double(float(0.1 * 0.1)));
}

TEST(CheckpointPolicyTest, MonitorAndMode) {
  CheckpointPolicy p;
  p.monitor = {Monitored::ValLoss, MonitorMode::Auto, 0};
  EXPECT_TRUE(p.onEpochEnd(1, 0.5));
  EXPECT_FALSE(p.onEpochEnd(2, 0.5));
  EXPECT_TRUE(p.onEpochEnd(3, 0.4));
  EXPECT_EQ(p.bestEpoch, 3);
  p.monitor.mode = MonitorMode::Max;
  EXPECT_TRUE(p.onEpochEnd(4, 0.45));
}

TEST(CallbacksTest, NamesParse) {
  EXPECT_EQ(*parseMonitored("val_accuracy"), Monitored::ValAccuracy);
  auto monitor = parseMonitored("val_acc");
  auto mode = parseMonitorMode("up");
  auto files = parseEpochCheckpoints("some");
  EXPECT_THAT(errorMessage(monitor),
              HasSubstr("unknown monitor 'val_acc' (loss, accuracy, "
                        "val_loss or val_accuracy)"));
  EXPECT_THAT(errorMessage(mode),
              HasSubstr("unknown mode 'up' (auto, min or max)"));
  EXPECT_THAT(errorMessage(files), HasSubstr("(none, all or best)"));
}

//===----------------------------------------------------------------------===//
// The trainer
//===----------------------------------------------------------------------===//

const char *kData = "synthetic:train=200,test=50,noise=24";

struct Result {
  int status;
  std::string out, err;
};

Result runCli(std::vector<std::string> args) {
  Result r;
  llvm::raw_string_ostream out(r.out), err(r.err);
  r.status = runMain("fake", args, fakeModel(), out, err, /*terminal=*/false);
  return r;
}

SafeTensorsFile readCheckpoint(const std::string &path) {
  auto file = SafeTensorsFile::read(path);
  EXPECT_TRUE(bool(file)) << errorMessage(file);
  return std::move(*file);
}

/// The bytes of tensor `name` in checkpoint `path`.
std::vector<uint8_t> tensorBytes(const std::string &path,
                                 llvm::StringRef name) {
  SafeTensorsFile f = readCheckpoint(path);
  const SafeTensorsFile::Entry *e = f.lookup(name);
  EXPECT_TRUE(e) << name.str();
  return e ? std::vector<uint8_t>(e->data.begin(), e->data.end())
           : std::vector<uint8_t>();
}

std::string readText(const std::string &path) {
  std::vector<uint8_t> bytes = readFile(path);
  return std::string(bytes.begin(), bytes.end());
}

/// metrics.csv without the timing columns.
std::string metricsWithoutTiming(const std::string &path) {
  llvm::SmallVector<llvm::StringRef> lines;
  std::string text = readText(path);
  llvm::StringRef(text).split(lines, '\n', -1, false);
  std::string result;
  for (llvm::StringRef line : lines)
    result += line.rsplit(',').first.rsplit(',').first.str() + "\n";
  return result;
}

/// Rewrites checkpoint `from` into `to` with metadata `key` = `value`.
void editMetadata(const std::string &from, const std::string &to,
                  const char *key, const char *value) {
  auto file = SafeTensorsFile::read(from);
  ASSERT_TRUE(bool(file)) << errorMessage(file);
  std::vector<Tensor> tensors;
  for (const SafeTensorsFile::Entry &e : file->getEntries()) {
    tensors.emplace_back(e.dtype, e.shape);
    std::memcpy(tensors.back().data(), e.data.data(), e.data.size());
  }
  std::vector<std::pair<std::string, const Tensor *>> named;
  for (auto [e, t] : llvm::zip(file->getEntries(), tensors))
    named.push_back({e.name, &t});
  Metadata meta = file->getMetadata();
  meta[key] = value;
  writeFile(to, serializeSafeTensors(named, meta));
}

class CallbackRunTest : public ::testing::Test {
protected:
  void SetUp() override { resetFakeHooks(); }
  void TearDown() override { EXPECT_EQ(fakeHooks().abiErrors, 0); }

  Result train(const std::string &out, std::vector<std::string> extra) {
    std::vector<std::string> args = {"train", "--data",     kData, "--out",
                                     out,     "--seed",     "5",   "--epochs",
                                     "10",    "--progress", "none"};
    args.insert(args.end(), extra.begin(), extra.end());
    return runCli(args);
  }
  // On this data val_loss falls by less than 0.02 from epoch 4 (0.1070)
  // to epoch 5 (0.0962): with patience 1 the run stops at epoch 5.
  const std::vector<std::string> earlyStopping = {
      "--early-stopping-min-delta", "0.02", "--early-stopping-patience", "1",
      "--early-stopping-restore-best-weights"};
  TempDir dir;
};

TEST_F(CallbackRunTest, EarlyStoppingStopsAndRestoresTheBestWeights) {
  Result r = train(dir.path(), earlyStopping);
  ASSERT_EQ(r.status, ExitSuccess) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Epoch 5: early stopping (val_loss has not "
                               "improved on 0.106996 by more than 0.02 for 1 "
                               "epoch)"));
  EXPECT_THAT(r.out, Not(HasSubstr("epoch 6/10")));
  EXPECT_THAT(r.out, HasSubstr("Restoring model weights from the end of the "
                               "best epoch: 4."));
  // The restored weights evaluate as epoch 4 did.
  EXPECT_THAT(r.out, HasSubstr("restored: val_loss 0.1070"));
  EXPECT_THAT(r.out, HasSubstr("    4  0.1613 100.00%   0.1070"));
  std::string last = dir.file("last.safetensors");
  std::string kept = dir.file("early-stopping-best.safetensors");
  EXPECT_EQ(tensorBytes(last, "dense/kernel"),
            tensorBytes(kept, "dense/kernel"));
  auto meta = readCheckpoint(last).getMetadata();
  EXPECT_EQ(meta.at("epoch"), "5");
  EXPECT_EQ(meta.at("early_stopping_stopped_epoch"), "4");
  EXPECT_EQ(meta.at("early_stopping_best_epoch"), "3");
  EXPECT_EQ(meta.at("early_stopping_monitor"), "val_loss");
  EXPECT_EQ(meta.at("early_stopping_patience"), "1");
  EXPECT_THAT(readText(dir.file("report.html")),
              HasSubstr("epoch 5: early stopping"));

  // A resumed stopped run has nothing to train, whatever --epochs says.
  r = runCli(
      {"train", "--resume", last, "--epochs", "20", "--progress", "none"});
  ASSERT_EQ(r.status, ExitSuccess) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Nothing to train: early stopping ended this "
                               "run at epoch 5."));
}

TEST_F(CallbackRunTest, ResumeContinuesTheCallbacksExactly) {
  std::vector<std::string> flags = earlyStopping;
  for (const char *f :
       {"--reduce-lr-monitor", "loss", "--reduce-lr-min-delta", "0.02",
        "--reduce-lr-patience", "1", "--reduce-lr-factor", "0.5",
        "--reduce-lr-cooldown", "1", "--checkpoint-monitor", "val_loss"})
    flags.push_back(f);
  TempDir whole;
  ASSERT_EQ(train(whole.path(), flags).status, ExitSuccess);
  // Ctrl-C in epoch 4 (step 40), after the callbacks have seen 3 epochs.
  fakeHooks().interruptAtStep = 40;
  Result r = train(dir.path(), flags);
  ASSERT_EQ(r.status, ExitInterrupted) << r.err;
  fakeHooks().interruptAtStep = -1;
  // The printed command: --resume alone.
  r = runCli({"train", "--resume", dir.file("last.safetensors"), "--progress",
              "none"});
  ASSERT_EQ(r.status, ExitSuccess) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Epoch 5: early stopping"));
  EXPECT_EQ(metricsWithoutTiming(whole.file("metrics.csv")),
            metricsWithoutTiming(dir.file("metrics.csv")));
  for (const char *file : {"last.safetensors", "best.safetensors",
                           "early-stopping-best.safetensors"}) {
    SCOPED_TRACE(file);
    EXPECT_EQ(tensorBytes(whole.file(file), "dense/kernel"),
              tensorBytes(dir.file(file), "dense/kernel"));
    // Everything but the history, which holds the epochs' timings.
    Metadata a = readCheckpoint(whole.file(file)).getMetadata(),
             b = readCheckpoint(dir.file(file)).getMetadata();
    a.erase("history");
    b.erase("history");
    EXPECT_EQ(a, b);
  }
}

TEST_F(CallbackRunTest, ReduceLROnPlateauLowersTheRateOfTheStep) {
  Result r = train(dir.path(),
                   {"--reduce-lr-monitor", "loss", "--reduce-lr-min-delta",
                    "0.02", "--reduce-lr-patience", "1", "--reduce-lr-factor",
                    "0.5", "--reduce-lr-cooldown", "1"});
  ASSERT_EQ(r.status, ExitSuccess) << r.err;
  // Worked out from the losses (1.1001 0.5247 0.2598 0.1613 0.1145 0.0959
  // 0.0816 0.0750 ...): no improvement by 0.02 at epochs 6, 8, 9, 10;
  // epoch 7 is the cooldown's and improves.
  EXPECT_THAT(r.out, HasSubstr("Epoch 6: ReduceLROnPlateau reducing learning "
                               "rate to 0.05.\n"));
  EXPECT_THAT(r.out, Not(HasSubstr("Epoch 7: ReduceLROnPlateau")));
  EXPECT_THAT(r.out, HasSubstr("Epoch 10: ReduceLROnPlateau reducing "
                               "learning rate to 0.00625."));
  // The learning rate column is the rate the step received.
  std::string csv = readText(dir.file("metrics.csv"));
  EXPECT_THAT(csv, HasSubstr(",0.1,"));
  EXPECT_THAT(csv, HasSubstr(",0.05000000074505806,"));
  EXPECT_THAT(csv, HasSubstr(",0.012500000186264515,"));
  auto meta = readCheckpoint(dir.file("last.safetensors")).getMetadata();
  EXPECT_EQ(meta.at("learning_rate"), "0.0062500000931322575");
  EXPECT_EQ(meta.at("reduce_lr_cooldown_counter"), "1");
}

TEST_F(CallbackRunTest, CheckpointMonitorAndEpochFiles) {
  Result r = train(dir.path(), {"--epochs", "3", "--checkpoint-monitor",
                                "val_loss", "--epoch-checkpoints", "all"});
  ASSERT_EQ(r.status, ExitSuccess) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Best validation loss 0.1898 at epoch 3"));
  for (const char *f : {"epoch-001.safetensors", "epoch-002.safetensors",
                        "epoch-003.safetensors"})
    EXPECT_TRUE(llvm::is_contained(listDirectory(dir.path()), f)) << f;
  auto meta = readCheckpoint(dir.file("best.safetensors")).getMetadata();
  EXPECT_EQ(meta.at("checkpoint_monitor"), "val_loss");
  EXPECT_EQ(meta.at("best_epoch"), "3");

  // save_best_only: val_accuracy reaches 100% at epoch 2 and stays there.
  TempDir best;
  r = train(best.path(), {"--epochs", "3", "--epoch-checkpoints", "best"});
  ASSERT_EQ(r.status, ExitSuccess) << r.err;
  std::vector<std::string> files = listDirectory(best.path());
  EXPECT_TRUE(llvm::is_contained(files, "epoch-002.safetensors"));
  EXPECT_FALSE(llvm::is_contained(files, "epoch-003.safetensors"));
}

TEST_F(CallbackRunTest, BadFlagsAreUsageErrors) {
  auto expectUsage = [&](std::vector<std::string> flags,
                         const std::string &message) {
    SCOPED_TRACE(llvm::join(flags, " "));
    Result r = train(dir.path(), flags);
    EXPECT_EQ(r.status, ExitUsage) << r.out << r.err;
    EXPECT_THAT(r.err, HasSubstr(message));
    EXPECT_EQ(fakeHooks().trainCalls, 0);
  };
  expectUsage({"--early-stopping-monitor", "val_acc"},
              "--early-stopping-monitor: unknown monitor 'val_acc'");
  expectUsage({"--early-stopping-mode", "down"},
              "--early-stopping-mode: unknown mode 'down'");
  expectUsage({"--early-stopping-patience", "-1"},
              "--early-stopping-patience expects an integer >= 0, not '-1'");
  expectUsage({"--reduce-lr-factor", "1"},
              "--reduce-lr-factor must be below 1");
  expectUsage({"--reduce-lr-factor", "2"},
              "--reduce-lr-factor expects a number in [0, 1], not '2'");
  expectUsage({"--reduce-lr-min-delta", "x"},
              "--reduce-lr-min-delta expects a number");
  expectUsage({"--epoch-checkpoints", "some"},
              "--epoch-checkpoints: unknown value 'some'");
  expectUsage({"--early-stopping-restore-best-weights=yes"},
              "--early-stopping-restore-best-weights takes no value");
}

TEST_F(CallbackRunTest, MonitorsWithoutValidationDataAreErrors) {
  Result r = train(dir.path(), {"--validation-split", "0",
                                "--early-stopping-patience", "2"});
  EXPECT_EQ(r.status, ExitError);
  EXPECT_THAT(r.err, HasSubstr("--early-stopping-monitor val_loss needs "
                               "validation data, but this run has none "
                               "(--validation-split 0); monitor loss or set "
                               "--validation-split"));
  r = train(dir.path(),
            {"--reduce-lr-monitor", "loss", "--lr-schedule", "cosine"});
  EXPECT_EQ(r.status, ExitError);
  EXPECT_THAT(r.err, HasSubstr("needs --lr-schedule constant"));
  EXPECT_EQ(fakeHooks().trainCalls, 0);
  // Without a validation split best.safetensors follows the training
  // accuracy, as before.
  r = train(dir.path(), {"--validation-split", "0", "--epochs", "1"});
  EXPECT_EQ(r.status, ExitSuccess) << r.err;
  EXPECT_EQ(readCheckpoint(dir.file("best.safetensors"))
                .getMetadata()
                .at("checkpoint_monitor"),
            "accuracy");
}

TEST_F(CallbackRunTest, ResumeRefusesChangedCallbacks) {
  ASSERT_EQ(
      train(dir.path(), {"--epochs", "2", "--early-stopping-patience", "3"})
          .status,
      ExitSuccess);
  std::string last = dir.file("last.safetensors");
  Result r = runCli({"train", "--resume", last, "--epochs", "4",
                     "--early-stopping-patience", "5"});
  EXPECT_EQ(r.status, ExitError);
  EXPECT_THAT(r.err, HasSubstr("early stopping differs from the checkpoint's "
                               "run ("));
  EXPECT_THAT(r.err, HasSubstr("early_stopping_patience=3"));
  EXPECT_THAT(r.err, HasSubstr("drop the --early-stopping-* flags"));
  r = runCli({"train", "--resume", last, "--epochs", "4",
              "--reduce-lr-patience", "5"});
  EXPECT_EQ(r.status, ExitError);
  EXPECT_THAT(r.err, HasSubstr("the learning-rate reduction differs from the "
                               "checkpoint's run (none)"));
  // The same settings again are fine.
  r = runCli({"train", "--resume", last, "--epochs", "3",
              "--early-stopping-patience", "3", "--progress", "none"});
  EXPECT_EQ(r.status, ExitSuccess) << r.err;
}

TEST_F(CallbackRunTest, CallbackMetadataIsRangeChecked) {
  ASSERT_EQ(train(dir.path(), {"--epochs", "2", "--early-stopping-patience",
                               "3", "--reduce-lr-patience", "2"})
                .status,
            ExitSuccess);
  TempDir work;
  std::string edited = work.file("edited.safetensors");
  auto expectRejected = [&](const char *key, const char *value,
                            const std::string &message) {
    SCOPED_TRACE(std::string(key) + " = " + value);
    editMetadata(dir.file("last.safetensors"), edited, key, value);
    resetFakeHooks();
    Result r = runCli({"train", "--resume", edited, "--epochs", "4"});
    EXPECT_EQ(r.status, ExitError) << r.out << r.err;
    EXPECT_THAT(r.err, HasSubstr("checkpoint '" + edited + "': metadata '" +
                                 key + "' " + message));
    EXPECT_EQ(fakeHooks().trainCalls, 0);
  };
  expectRejected("early_stopping_monitor", "val_acc",
                 "is 'val_acc'; expected loss, accuracy, val_loss or "
                 "val_accuracy");
  expectRejected("early_stopping_mode", "up",
                 "is 'up'; expected auto, min or max");
  expectRejected("early_stopping_patience", "-2",
                 "is '-2'; expected an integer >= 0");
  expectRejected("early_stopping_wait", "x", "is 'x'; expected an integer");
  expectRejected("early_stopping_best", "nan", "is 'nan'; expected a finite");
  expectRejected("early_stopping_best_epoch", "2",
                 "is 2, but only 2 epochs are finished");
  expectRejected("early_stopping_stopped_epoch", "-5",
                 "is '-5'; expected an integer >= -1");
  expectRejected("early_stopping_restore_best_weights", "1",
                 "is '1'; expected true or false");
  expectRejected("reduce_lr_factor", "1", "is 1; expected a number in [0, 1)");
  expectRejected("reduce_lr_factor", "-0.5", "is '-0.5'; expected a number");
  expectRejected("reduce_lr_cooldown_counter", "1",
                 "is '1'; expected an integer in [0, 0]");
  expectRejected("reduce_lr_min_delta", "-1", "is '-1'; expected a number");
  expectRejected("learning_rate", "-0.1", "is '-0.1'; expected a number");
  expectRejected("checkpoint_monitor", "acc", "is 'acc'; expected loss");
  expectRejected("epoch_checkpoints", "some",
                 "is 'some'; expected none, all or best");
  expectRejected("best_value", "inf", "is 'inf'; expected a finite number");
  expectRejected("best_epoch", "3", "is 3, but only 2 epochs are finished");
  // The schedule a resumed run continues with.
  expectRejected("lr_schedule", "linear",
                 "is 'linear'; expected constant, step or cosine");
  expectRejected("lr", "-1", "is '-1'; expected a number");
  expectRejected("lr_decay_epochs", "0", "is '0'; expected a number");
}

} // namespace
