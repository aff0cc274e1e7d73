//===- TrainerTest.cpp - End-to-end runs of the executable's front end ----===//
//
// Drives runMain (what a compiled executable's main does) with the fake
// logistic-regression model on small synthetic data: learning, output
// files, exact resume after an epoch boundary and after Ctrl-C, NaN
// detection, and every user error of the command line.
//
//===----------------------------------------------------------------------===//

#include "FakeModel.h"
#include "TestUtil.h"

#include "dlc/Runtime/Checkpoint.h"
#include "dlc/Runtime/Data/Synthetic.h"
#include "dlc/Runtime/Runtime.h"
#include "dlc/Runtime/Support.h"
#include "dlc/Runtime/Trainer.h"

#include "llvm/ADT/StringExtras.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

using namespace dlc::runtime;
using namespace dlc::runtime::testing;
using ::testing::HasSubstr;

namespace {

/// 200 training images (180 train + 20 validation, 12 batches of 16 with a
/// padded last one), 50 test images.
const char *kData = "synthetic:train=200,test=50,noise=24";
constexpr int64_t kStepsPerEpoch = 12;

struct Result {
  int status;
  std::string out, err;
};

Result runCli(const dlc_model_info &model, std::vector<std::string> args) {
  Result r;
  llvm::raw_string_ostream out(r.out), err(r.err);
  r.status = runMain("fake", args, model, out, err, /*terminal=*/false);
  return r;
}

class TrainerTest : public ::testing::Test {
protected:
  void SetUp() override { resetFakeHooks(); }
  void TearDown() override { EXPECT_EQ(fakeHooks().abiErrors, 0); }

  Result train(const std::string &out, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"train", "--data", kData, "--out",
                                     out,     "--seed", "5"};
    args.insert(args.end(), extra.begin(), extra.end());
    return runCli(fakeModel(), args);
  }
  TempDir dir;
};

/// The tensors and metadata of a checkpoint.
SafeTensorsFile readCheckpoint(const std::string &path) {
  auto file = SafeTensorsFile::read(path);
  EXPECT_TRUE(bool(file)) << errorMessage(file);
  return std::move(*file);
}

/// Expects two checkpoints to hold bit-identical tensors.
void expectSameTensors(const std::string &a, const std::string &b) {
  SafeTensorsFile fa = readCheckpoint(a), fb = readCheckpoint(b);
  ASSERT_EQ(fa.getEntries().size(), fb.getEntries().size());
  for (const SafeTensorsFile::Entry &e : fa.getEntries()) {
    const SafeTensorsFile::Entry *other = fb.lookup(e.name);
    ASSERT_TRUE(other) << e.name;
    EXPECT_EQ(e.data, other->data) << e.name << " differs";
  }
}

/// metrics.csv without the timing columns (images/s, seconds).
std::string metricsWithoutTiming(const std::string &path) {
  std::vector<uint8_t> bytes = readFile(path);
  llvm::SmallVector<llvm::StringRef> lines;
  llvm::StringRef(reinterpret_cast<const char *>(bytes.data()), bytes.size())
      .split(lines, '\n', -1, false);
  std::string result;
  for (llvm::StringRef line : lines)
    result += line.rsplit(',').first.rsplit(',').first.str() + "\n";
  return result;
}

TEST_F(TrainerTest, LearnsAndWritesEveryOutput) {
  Result r = train(dir.path(), {"--epochs", "4"});
  ASSERT_EQ(r.status, ExitSuccess) << r.err;
  EXPECT_EQ(fakeHooks().trainCalls, 4 * kStepsPerEpoch);
  EXPECT_THAT(r.out, HasSubstr("180 train / 20 validation / 50 test images"));
  EXPECT_THAT(r.out, HasSubstr("last batch padded with 12 images"));
  EXPECT_THAT(r.out, HasSubstr("epoch 4/4"));
  EXPECT_THAT(r.out, HasSubstr("Best validation accuracy"));

  std::vector<std::string> files = listDirectory(dir.path());
  EXPECT_THAT(files,
              ::testing::IsSupersetOf({"best.safetensors", "last.safetensors",
                                       "metrics.csv", "report.html"}));
  // TensorBoard runs as Keras writes them: one event file per split.
  EXPECT_THAT(files, ::testing::IsSupersetOf({"train", "validation", "test"}));
  for (const char *run : {"train", "validation", "test"})
    EXPECT_EQ(llvm::count_if(listDirectory(dir.file(run)),
                             [](const std::string &f) {
                               return llvm::StringRef(f).starts_with(
                                   "events.out.tfevents.");
                             }),
              1)
        << run;
  // No temporary files are left behind.
  for (const std::string &f : files)
    EXPECT_THAT(f, ::testing::Not(HasSubstr(".tmp")));

  // The loss goes down and accuracy is far above chance (1/3).
  auto meta = readCheckpoint(dir.file("last.safetensors")).getMetadata();
  auto history = historyFromJson(meta.at("history"));
  ASSERT_TRUE(bool(history));
  ASSERT_EQ(history->size(), 4u);
  EXPECT_LT(history->back().train.loss, 0.7 * history->front().train.loss);
  EXPECT_GT(history->back().validation->accuracy, 0.8);
  EXPECT_GT(history->back().test->accuracy, 0.8);
  EXPECT_EQ(meta.at("step"), std::to_string(4 * kStepsPerEpoch));
  EXPECT_EQ(meta.at("epoch"), "4");
  EXPECT_EQ(meta.at("model"), "fake_logreg");

  std::vector<uint8_t> csv = readFile(dir.file("metrics.csv"));
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 5);
}

TEST_F(TrainerTest, ResumeAtAnEpochBoundaryIsBitExact) {
  TempDir whole, part;
  ASSERT_EQ(train(whole.path(), {"--epochs", "3"}).status, ExitSuccess);
  ASSERT_EQ(train(part.path(), {"--epochs", "2"}).status, ExitSuccess);
  Result r = runCli(fakeModel(), {"train", "--data", kData, "--epochs", "3",
                                  "--resume", part.file("last.safetensors")});
  ASSERT_EQ(r.status, ExitSuccess) << r.err;
  EXPECT_THAT(r.out, HasSubstr("resuming from"));
  expectSameTensors(whole.file("last.safetensors"),
                    part.file("last.safetensors"));
  EXPECT_EQ(metricsWithoutTiming(whole.file("metrics.csv")),
            metricsWithoutTiming(part.file("metrics.csv")));
}

TEST_F(TrainerTest, CtrlCSavesAndResumesBitExactly) {
  TempDir whole;
  ASSERT_EQ(train(whole.path(), {"--epochs", "3"}).status, ExitSuccess);
  // SIGINT arrives during step 17 (epoch 2, batch 6): that step finishes,
  // the checkpoint is written, the run stops.
  fakeHooks().interruptAtStep = 17;
  Result r = train(dir.path(), {"--epochs", "3"});
  ASSERT_EQ(r.status, ExitInterrupted) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Interrupted at step 18 (epoch 2, batch 6/12)"));
  EXPECT_THAT(r.out, HasSubstr("continue with --resume"));
  auto meta = readCheckpoint(dir.file("last.safetensors")).getMetadata();
  EXPECT_EQ(meta.at("step"), "18");
  EXPECT_EQ(meta.at("epoch"), "1");
  EXPECT_EQ(meta.at("batch"), "6");

  fakeHooks().interruptAtStep = -1;
  r = runCli(fakeModel(), {"train", "--data", kData, "--epochs", "3",
                           "--resume", dir.file("last.safetensors")});
  ASSERT_EQ(r.status, ExitSuccess) << r.err;
  expectSameTensors(whole.file("last.safetensors"),
                    dir.file("last.safetensors"));
  EXPECT_EQ(metricsWithoutTiming(whole.file("metrics.csv")),
            metricsWithoutTiming(dir.file("metrics.csv")));
}

TEST_F(TrainerTest, NaNLossStopsAndKeepsTheLastGoodCheckpoint) {
  // Step 15 is in epoch 2; epoch 1 ended with a checkpoint at step 12.
  fakeHooks().nanAtStep = 15;
  Result r = train(dir.path(), {"--epochs", "3"});
  EXPECT_EQ(r.status, ExitDiverged);
  EXPECT_THAT(r.err, HasSubstr("the loss is NaN at step 16 (epoch 2, batch "
                               "4); stopping. The last good checkpoint is " +
                               dir.file("last.safetensors")));
  auto meta = readCheckpoint(dir.file("last.safetensors")).getMetadata();
  EXPECT_EQ(meta.at("step"), "12");
  EXPECT_EQ(fakeHooks().trainCalls, 16);
  std::vector<uint8_t> report = readFile(dir.file("report.html"));
  EXPECT_THAT(std::string(report.begin(), report.end()),
              HasSubstr("stopped: the loss became NaN at step 16"));
}

TEST_F(TrainerTest, CheckpointEveryNSteps) {
  fakeHooks().nanAtStep = 8;
  Result r = train(dir.path(), {"--epochs", "1", "--checkpoint-every", "5"});
  EXPECT_EQ(r.status, ExitDiverged);
  auto meta = readCheckpoint(dir.file("last.safetensors")).getMetadata();
  EXPECT_EQ(meta.at("step"), "5");
  EXPECT_EQ(meta.at("batch"), "5");
}

TEST_F(TrainerTest, DropRemainder) {
  Result r = train(dir.path(), {"--epochs", "2", "--drop-remainder"});
  ASSERT_EQ(r.status, ExitSuccess) << r.err;
  EXPECT_EQ(fakeHooks().trainCalls, 2 * (180 / 16));
  EXPECT_THAT(r.out, HasSubstr("(last 4 images dropped)"));
}

TEST_F(TrainerTest, LearningRateScheduleReachesTheModel) {
  Result r =
      train(dir.path(), {"--epochs", "2", "--lr", "0.05", "--lr-schedule",
                         "cosine", "--warmup-epochs", "0.5"});
  ASSERT_EQ(r.status, ExitSuccess) << r.err;
  EXPECT_THAT(r.out,
              HasSubstr("cosine 0.05 -> 0, linear warm-up over 0.5 epochs"));
  auto meta = readCheckpoint(dir.file("last.safetensors")).getMetadata();
  auto history = historyFromJson(meta.at("history"));
  ASSERT_TRUE(bool(history));
  // The last update of a cosine schedule runs at (almost) the minimum.
  EXPECT_LT(history->back().learningRate, 0.01);
}

TEST_F(TrainerTest, UnwritableOutputDirectoryFailsBeforeTraining) {
  writeFile(dir.file("file"), {1});
  Result r = train(dir.file("file/sub"), {"--epochs", "1"});
  EXPECT_EQ(r.status, ExitError);
  EXPECT_THAT(r.err, HasSubstr("cannot create output directory '" +
                               dir.file("file/sub") + "'"));
  EXPECT_EQ(fakeHooks().trainCalls, 0);
}

TEST_F(TrainerTest, BatchSizeAndOptimizerAreCompiledIn) {
  Result r = train(dir.path(), {"--batch-size", "32"});
  EXPECT_EQ(r.status, ExitError);
  EXPECT_THAT(r.err, HasSubstr("--batch-size 32: this executable was compiled "
                               "for batch size 16"));
  r = train(dir.path(), {"--optimizer", "adam"});
  EXPECT_EQ(r.status, ExitError);
  EXPECT_THAT(r.err, HasSubstr("the optimizer is compiled into this "
                               "executable (sgd)"));
  r = train(dir.path(),
            {"--optimizer", "SGD", "--batch-size", "16", "--epochs", "1"});
  EXPECT_EQ(r.status, ExitSuccess) << r.err;
}

TEST_F(TrainerTest, CommandLineMistakes) {
  Result r = runCli(fakeModel(), {"train", "--epochz", "3"});
  EXPECT_EQ(r.status, ExitUsage);
  EXPECT_THAT(r.err, HasSubstr("unknown option '--epochz' for 'train' (did you "
                               "mean '--epochs'?)"));
  r = runCli(fakeModel(), {"train", "--data"});
  EXPECT_EQ(r.status, ExitUsage);
  EXPECT_THAT(r.err, HasSubstr("--data needs a value (SPEC)"));
  r = runCli(fakeModel(), {"fit"});
  EXPECT_EQ(r.status, ExitUsage);
  EXPECT_THAT(r.err, HasSubstr("unknown command 'fit'"));
  r = runCli(fakeModel(), {"train", "--epochs", "-1", "--data", kData});
  EXPECT_EQ(r.status, ExitUsage);
  EXPECT_THAT(r.err, HasSubstr("--epochs expects an integer >= 0"));
  r = runCli(fakeModel(),
             {"train", "--lr-schedule", "linear", "--data", kData});
  EXPECT_EQ(r.status, ExitUsage);
  EXPECT_THAT(r.err, HasSubstr("unknown learning-rate schedule 'linear'"));
  r = runCli(fakeModel(), {"train"});
  EXPECT_EQ(r.status, ExitUsage);
  EXPECT_THAT(r.err, HasSubstr("--data is required"));
}

TEST_F(TrainerTest, HelpDescribesCommandsAndOptions) {
  Result r = runCli(fakeModel(), {"--help"});
  EXPECT_EQ(r.status, ExitSuccess);
  EXPECT_THAT(r.out, HasSubstr("model 'fake_logreg': batch 16, input 4x4x1, 3 "
                               "classes, optimizer sgd"));
  EXPECT_THAT(r.out, HasSubstr("predict"));
  r = runCli(fakeModel(), {"train", "--help"});
  EXPECT_EQ(r.status, ExitSuccess);
  EXPECT_THAT(r.out, HasSubstr("--drop-remainder"));
  EXPECT_THAT(r.out, HasSubstr("padded with samples from the"));
  EXPECT_THAT(r.out, HasSubstr("--checkpoint-every N"));
  r = runCli(fakeModel(), {"predict", "-h"});
  EXPECT_THAT(r.out, HasSubstr("--top K"));
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("--epochs")));
  r = runCli(fakeModel(), {"info"});
  EXPECT_THAT(r.out, HasSubstr("dense/kernel/velocity"));
}

TEST_F(TrainerTest, DataErrorsAreReported) {
  Result r = train(dir.path(), {"--data", "/no/such/data"});
  EXPECT_EQ(r.status, ExitError);
  EXPECT_THAT(r.err, HasSubstr("no dataset or directory '/no/such/data'"));

  TempDir data;
  writeIdxDataset(data.path(), 40, 10, 4, 4, /*classes=*/5, true);
  r = train(dir.path(), {"--data", data.path()});
  EXPECT_EQ(r.status, ExitError);
  EXPECT_THAT(r.err, HasSubstr("label out of range"));
  EXPECT_THAT(r.err, HasSubstr("the model has 3 classes"));

  TempDir wrongShape;
  writeIdxDataset(wrongShape.path(), 40, 10, 5, 4, 3, false);
  r = train(dir.path(), {"--data", wrongShape.path()});
  EXPECT_EQ(r.status, ExitError);
  EXPECT_THAT(r.err, HasSubstr("shape mismatch: the model takes 4x4x1 images"));
  EXPECT_EQ(fakeHooks().trainCalls, 0);
}

TEST_F(TrainerTest, TrainsOnIdxDirectories) {
  TempDir data;
  writeIdxDataset(data.path(), 40, 10, 4, 4, 3, /*compressed=*/true);
  Result r = train(dir.path(), {"--data", data.path(), "--epochs", "1",
                                "--validation-split", "0"});
  ASSERT_EQ(r.status, ExitSuccess) << r.err;
  EXPECT_THAT(r.out, HasSubstr("40 train / 0 validation / 10 test images"));
  EXPECT_THAT(r.out, HasSubstr("Best training accuracy"));
}

TEST_F(TrainerTest, ResumeFromAnotherModelIsAnError) {
  TempDir other;
  Result r = runCli(otherFakeModel(), {"train", "--data", kData, "--epochs",
                                       "1", "--out", other.path()});
  ASSERT_EQ(r.status, ExitSuccess) << r.err;
  resetFakeHooks();
  r = train(dir.path(), {"--resume", other.file("last.safetensors")});
  EXPECT_EQ(r.status, ExitError);
  EXPECT_THAT(r.err, HasSubstr("(saved from model 'other_logreg') does not "
                               "match model 'fake_logreg'"));
  EXPECT_EQ(fakeHooks().trainCalls, 0);
  r = train(dir.path(), {"--resume", dir.file("missing.safetensors")});
  EXPECT_THAT(r.err, HasSubstr("no such checkpoint"));
}

TEST_F(TrainerTest, EvaluateAndPredictLoadCheckpoints) {
  ASSERT_EQ(train(dir.path(), {"--epochs", "3"}).status, ExitSuccess);
  Result r =
      runCli(fakeModel(), {"evaluate", "--checkpoint",
                           dir.file("best.safetensors"), "--data", kData});
  ASSERT_EQ(r.status, ExitSuccess) << r.err;
  EXPECT_THAT(r.out, HasSubstr("validation loss"));
  EXPECT_THAT(r.out, HasSubstr("(20 images"));
  EXPECT_THAT(r.out, HasSubstr("(50 images"));

  // Images for predict: the synthetic test split as an IDX file.
  auto options = parseSyntheticOptions(
      "train=1,test=21,noise=24,shape=4x4x1,classes=3,seed=5", {});
  ASSERT_TRUE(bool(options));
  DataSplits data = generateSynthetic(*options);
  writeFile(dir.file("images.idx"),
            gzip(makeIdx({21, 4, 4}, data.test.pixels)));
  r = runCli(fakeModel(),
             {"predict", "--checkpoint", dir.file("last.safetensors"),
              "--input", dir.file("images.idx"), "--top", "2"});
  ASSERT_EQ(r.status, ExitSuccess) << r.err;
  llvm::SmallVector<llvm::StringRef> lines;
  llvm::StringRef(r.out).split(lines, '\n', -1, false);
  ASSERT_EQ(lines.size(), 21u);
  EXPECT_THAT(lines[20].str(), ::testing::StartsWith("20: "));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("0: [0-2] (zero|one|two) "
                                              "\\([0-9.]+%\\), [0-2] "));
  // Mostly right: the predicted top class matches the label.
  int right = 0;
  for (size_t i = 0; i < lines.size(); ++i)
    right += lines[i].split(": ").second.front() - '0' == data.test.labels[i];
  EXPECT_GT(right, 15);

  writeFile(dir.file("wrong.idx"),
            makeIdx({1, 5, 5}, std::vector<uint8_t>(25)));
  r = runCli(fakeModel(),
             {"predict", "--checkpoint", dir.file("last.safetensors"),
              "--input", dir.file("wrong.idx")});
  EXPECT_EQ(r.status, ExitError);
  EXPECT_THAT(r.err, HasSubstr("shape mismatch"));
  r = runCli(fakeModel(), {"evaluate", "--data", kData});
  EXPECT_THAT(r.err, HasSubstr("--checkpoint CKPT is required"));
}

TEST_F(TrainerTest, EvaluationOfAPartialBatchIsExact) {
  auto model = CompiledModel::create(fakeModel());
  ASSERT_TRUE(bool(model));
  CPUDevice cpu;
  Executor executor = cantFail(Executor::create(**model, cpu));
  ASSERT_FALSE(executor.initialize(9));
  auto options =
      parseSyntheticOptions("train=1,test=37,shape=4x4x1,classes=3", {});
  DataSplits data = generateSynthetic(*options);
  BatchAssembler batches(data.test, Normalization());
  Metric m = cantFail(evaluateSamples(executor, batches, 2, 35));
  // Reference: each sample alone (a batch of copies of it).
  double loss = 0, correct = 0;
  llvm::SmallVector<uint32_t> rows(kFakeBatch);
  for (uint32_t i = 2; i < 37; ++i) {
    std::fill(rows.begin(), rows.end(), i);
    batches.assemble(rows, 0, executor.getInput(), executor.getLabels());
    StepResult s = cantFail(executor.evaluate());
    loss += s.loss;
    correct += s.correct / double(kFakeBatch);
  }
  EXPECT_NEAR(m.loss, loss / 35, 1e-5);
  EXPECT_DOUBLE_EQ(m.accuracy, correct / 35);
}

} // namespace

namespace {

TEST_F(TrainerTest, FailedSetUpLeavesNoOutputDirectory) {
  std::string out = dir.file("never");
  Result r = runCli(fakeModel(), {"train", "--data", "/no/such/data", "--out",
                                  out, "--epochs", "1"});
  EXPECT_EQ(r.status, ExitError);
  EXPECT_THAT(r.err, HasSubstr("/no/such/data"));
  EXPECT_FALSE(pathExists(out)) << "an empty --out was left behind";
}

TEST_F(TrainerTest, NothingToTrainWritesNoEventFile) {
  ASSERT_EQ(train(dir.path(), {"--epochs", "1"}).status, ExitSuccess);
  TempDir again;
  Result r = runCli(fakeModel(),
                    {"train", "--data", kData, "--epochs", "1", "--resume",
                     dir.file("last.safetensors"), "--out", again.path()});
  ASSERT_EQ(r.status, ExitSuccess) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Nothing to train"));
  // No header-only event file (nor a run directory) for a run without points.
  for (const std::string &f : listDirectory(again.path()))
    EXPECT_THAT(f, ::testing::Not(::testing::AnyOf(HasSubstr("tfevents"),
                                                   ::testing::Eq("train"))));
}

TEST_F(TrainerTest, BatchPointsAndHistogramsWhenAsked) {
  ASSERT_EQ(train(dir.path(), {"--epochs", "2", "--tensorboard-update-freq",
                               "4", "--histogram-freq", "2"})
                .status,
            ExitSuccess);
  std::vector<std::string> files = listDirectory(dir.file("train"));
  ASSERT_EQ(files.size(), 1u);
  std::vector<uint8_t> bytes =
      readFile(dir.file("train") + "/" + files.front());
  std::string text(bytes.begin(), bytes.end());
  EXPECT_THAT(text, HasSubstr("batch_loss"));
  EXPECT_THAT(text, HasSubstr("epoch_learning_rate"));
  // The fake model's weight, as a histogram tagged as Keras 3 tags it.
  EXPECT_THAT(text,
              HasSubstr(std::string(fakeModel().functions[0].args[0].name) +
                        "/histogram"));

  Result bad = train(dir.file("x"), {"--tensorboard-update-freq", "often"});
  EXPECT_EQ(bad.status, ExitUsage);
  EXPECT_THAT(bad.err, HasSubstr("epoch, batch or a number"));
}

TEST_F(TrainerTest, ErrorsNameTheCommandThatRanTheProgram) {
  Result r = runCli(fakeModel(), {"train", "--dat", kData});
  EXPECT_THAT(r.err, HasSubstr("Run 'fake train --help'"));
  Result named;
  llvm::raw_string_ostream out(named.out), err(named.err);
  runMain("dlc train model.yaml", {"train", "--dat", kData}, fakeModel(), out,
          err, false);
  EXPECT_THAT(named.err, HasSubstr("Run 'dlc train model.yaml --help'"));
  Result help;
  llvm::raw_string_ostream helpOut(help.out), helpErr(help.err);
  runMain("dlc train model.yaml", {"train", "--help"}, fakeModel(), helpOut,
          helpErr, false);
  EXPECT_THAT(help.out, HasSubstr("USAGE: dlc train model.yaml [options]"));
}

} // namespace
