//===- SummaryTest.cpp - The model summary table and 80 columns -----------===//
//
// The Keras-style summary (`EXE summary`) from a settings JSON, and that
// the tables the runtime prints fit an 80-column terminal.
//
//===----------------------------------------------------------------------===//

#include "TestUtil.h"

#include "dlc/Runtime/Monitor/EventFile.h"
#include "dlc/Runtime/Monitor/Metrics.h"
#include "dlc/Runtime/Summary.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

using namespace dlc::runtime;
using namespace dlc::runtime::testing;
using ::testing::HasSubstr;

namespace {

/// A two-branch graph: the input feeds a convolution and the add.
const char *kSettings = R"({"loss": "mse", "layers": [
  {"name": "c", "class": "Conv2D", "inputs": ["input"],
   "output_shape": [4, 4, 2], "params": 20, "trainable_params": 20,
   "flops": 576, "kept_bytes": 4096},
  {"name": "a_very_long_layer_name_here", "class": "BatchNormalization",
   "inputs": ["c"], "output_shape": [4, 4, 2], "params": 8,
   "trainable_params": 4, "flops": 64, "kept_bytes": 0},
  {"name": "sum", "class": "Add", "inputs": ["input", "a_very_long_layer_name_here"],
   "output_shape": [4, 4, 2], "params": 0, "trainable_params": 0,
   "flops": 32, "kept_bytes": 1048576}]})";

void expectFits80Columns(llvm::StringRef text) {
  llvm::SmallVector<llvm::StringRef> lines;
  text.split(lines, '\n');
  for (llvm::StringRef line : lines)
    EXPECT_LE(line.size(), 79u) << "too wide: '" << line.str() << "'";
}

TEST(SummaryTest, KerasTableWithTotalsFlopsAndKeptBytes) {
  auto summary = parseModelSummary(kSettings, "m", {8, 4, 4, 2});
  ASSERT_TRUE(bool(summary)) << errorMessage(summary);
  ASSERT_EQ(summary->layers.size(), 3u);
  std::string table = formatModelSummary(*summary);
  EXPECT_THAT(table, HasSubstr("Model: \"m\" (compiled for batch 8)"));
  EXPECT_THAT(table, HasSubstr("Layer (type)"));
  EXPECT_THAT(table, HasSubstr("c (Conv2D)"));
  EXPECT_THAT(table, HasSubstr("(None, 4, 4, 2)"));
  // A graph: the input row and what each layer reads.
  EXPECT_THAT(table, HasSubstr("input (InputLayer)"));
  EXPECT_THAT(table, HasSubstr("<- input, a_very_long_layer_name_here"));
  // A name and type too long for the column wrap like Keras's.
  EXPECT_THAT(table, HasSubstr("\n(BatchNormalization)\n"));
  EXPECT_THAT(table, HasSubstr("Total params: 28 (112.00 B)"));
  EXPECT_THAT(table, HasSubstr("Trainable params: 24 (96.00 B)"));
  EXPECT_THAT(table, HasSubstr("Non-trainable params: 4 (16.00 B)"));
  EXPECT_THAT(table, HasSubstr("Forward FLOPs per sample: 672 (5.4K per "
                               "batch of 8)"));
  EXPECT_THAT(table, HasSubstr("1.0MB"));
  EXPECT_THAT(table, HasSubstr("per training step: 1.00 MB"));
  expectFits80Columns(table);
}

TEST(SummaryTest, AChainHasNoConnectedToAndBigNumbersGetSeparators) {
  const char *settings = R"({"layers": [
    {"name": "d", "class": "Dense", "inputs": ["input"], "output_shape": [10],
     "params": 1179776, "trainable_params": 1179776, "flops": 2359296},
    {"name": "e", "class": "Dense", "inputs": ["d"], "output_shape": [10],
     "params": 110, "trainable_params": 110, "flops": 220}]})";
  auto summary = parseModelSummary(settings, "chain", {64, 28, 28, 1});
  ASSERT_TRUE(bool(summary)) << errorMessage(summary);
  std::string table = formatModelSummary(*summary);
  EXPECT_THAT(table, ::testing::Not(HasSubstr("<-")));
  EXPECT_THAT(table, ::testing::Not(HasSubstr("InputLayer")));
  EXPECT_THAT(table, HasSubstr("1,179,776"));
  EXPECT_THAT(table, HasSubstr("2.4M"));
  // No kept_bytes recorded: no Kept column, no kept line.
  EXPECT_THAT(table, ::testing::Not(HasSubstr("Kept")));
  expectFits80Columns(table);
}

TEST(SummaryTest, ATableWithoutLayersIsAnError) {
  auto summary = parseModelSummary(R"({"loss": "mse"})", "old", {1, 1, 1, 1});
  ASSERT_FALSE(bool(summary));
  EXPECT_THAT(errorMessage(summary), HasSubstr("records no layer table"));
  EXPECT_FALSE(bool(parseModelSummary("{", "bad", {})));
  EXPECT_EQ(formatThousands(1234567), "1,234,567");
  EXPECT_EQ(formatThousands(12), "12");
}

TEST(SummaryTest, EpochTableFits80ColumnsWithEveryColumn) {
  EpochRecord r;
  r.epoch = 100;
  r.train = {12.3456, 0.9999};
  r.validation = Metric{1.2345, 1.0};
  r.test = Metric{123.4567, 0.5};
  r.learningRate = 0.000123456;
  r.imagesPerSecond = 12345;
  r.seconds = 1234.5;
  std::string s;
  llvm::raw_string_ostream os(s);
  printEpochTable(os, {r, r});
  EXPECT_THAT(s, HasSubstr("val_loss"));
  EXPECT_THAT(s, HasSubstr("test_acc"));
  expectFits80Columns(s);
}

TEST(SummaryTest, HistogramBucketsCountEveryValue) {
  Histogram h = Histogram::of({-1, 0, 0, 1, 3}, 4);
  EXPECT_EQ(h.min, -1);
  EXPECT_EQ(h.max, 3);
  EXPECT_EQ(h.num, 5);
  EXPECT_EQ(h.sum, 3);
  EXPECT_EQ(h.sumSquares, 11);
  ASSERT_EQ(h.buckets.size(), 4u);
  EXPECT_EQ(h.bucketLimits.back(), 3);
  EXPECT_EQ(h.buckets[0], 1); // -1
  EXPECT_EQ(h.buckets[1], 2); // 0, 0
  EXPECT_EQ(h.buckets[2], 1); // 1
  EXPECT_EQ(h.buckets[3], 1); // 3 (the maximum is in the last bucket)
  Histogram same = Histogram::of({0.5f, 0.5f}, 30);
  EXPECT_EQ(same.buckets.size(), 1u);
  EXPECT_EQ(same.buckets[0], 2);
}

} // namespace

#include "dlc/Runtime/Monitor/Report.h"

namespace {

TEST(SummaryTest, ReportShowsTheLearningRateCurveAndTheModelSummary) {
  EpochRecord a;
  a.epoch = 1;
  a.learningRate = 0.01;
  EpochRecord b = a;
  b.epoch = 2;
  b.learningRate = 0.001;
  ReportInfo info;
  info.modelName = "m";
  info.status = "finished";
  info.modelSummary = "Model: \"m\"\nTotal params: 3 (12.00 B)\n";
  std::string html = renderHtmlReport(info, {a, b});
  EXPECT_THAT(html, HasSubstr("aria-label=\"Learning rate"));
  EXPECT_THAT(html, HasSubstr("<pre class=\"summary\">Model: &quot;m&quot;"));
  EXPECT_THAT(html, HasSubstr("Total params: 3"));
  info.modelSummary.clear();
  EXPECT_THAT(renderHtmlReport(info, {a}),
              ::testing::Not(HasSubstr("class=\"summary\"")));
}

} // namespace
