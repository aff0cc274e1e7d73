/*===- ModelABI.h - The table a compiled model exports to the runtime -----===*\
|*                                                                            *|
|* Model ABI version 1: the C ABI between an object produced by `dlc compile` *|
|* and the dlc runtime. The compiled object defines one `dlc_model` table     *|
|* that describes the model (ABI version, device, name, settings) and its     *|
|* entry points (train_step, eval_step, predict) with the name, role,         *|
|* initializer, dtype, static shape and flags of every argument and result.   *|
|* The runtime binds buffers to arguments by role and name; it never assumes  *|
|* an argument order beyond what is written here.                             *|
|*                                                                            *|
|* Every code of the ABI (roles, dtypes, devices, flags, ranks) is defined    *|
|* here once; the compiler (dlc-build-train-step, dlc-describe-model,        *|
|* dlc-emit-model-table) and the runtime (lib/Runtime/Model.cpp) use them.   *|
|*                                                                            *|
|* This header is C (the compiler emits the table as LLVM IR constants) and   *|
|* C++ compatible.                                                            *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef DLC_RUNTIME_MODELABI_H
#define DLC_RUNTIME_MODELABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this table's layout and meaning. A runtime refuses a table
 * of any other version (its first field, readable whatever the rest is). */
#define DLC_MODEL_ABI_VERSION 1

/* Element types of tensors and by-value scalars. */
typedef enum dlc_dtype {
  DLC_DTYPE_F32 = 0,
  DLC_DTYPE_I32 = 1,
  DLC_DTYPE_I64 = 2,
  DLC_NUM_DTYPES
} dlc_dtype;

/* The largest tensor rank in the ABI, and the rank of a scalar passed by
 * value (not a rank-0 tensor). */
#define DLC_MAX_RANK 4
#define DLC_RANK_SCALAR (-1)

/* What an argument or result is to the runtime (dlc_tensor_info.role; the
 * IR spells them the same: `dlc.role = "param"`).
 *   param          a trainable parameter (initialized by `init`)
 *   opt_state      optimizer state of a parameter (zeros at the start)
 *   state          non-trainable model state, e.g. batch-norm statistics
 *   input          the batch, NHWC f32 [batch, H, W, C]
 *   labels         i32 [batch]
 *   step           i64 by value: the number of updates already applied
 *   seed           i64 by value: the run's random seed
 *   learning_rate  f32 by value
 *   loss           f32 [] (mean over the batch)
 *   correct        i32 [] (rows whose argmax is the label)
 *   logits         f32 [batch, classes]
 *   feature        f32 [batch, H, W, C]: a convolution's output (features)
 *   gradient       the loss gradient of the param of the same name
 * Roles are strings so that a table explains itself (`EXE info`, a
 * debugger); DLC_ROLES lists every one. */
#define DLC_ROLE_PARAM "param"
#define DLC_ROLE_OPT_STATE "opt_state"
#define DLC_ROLE_STATE "state"
#define DLC_ROLE_INPUT "input"
#define DLC_ROLE_LABELS "labels"
#define DLC_ROLE_STEP "step"
#define DLC_ROLE_SEED "seed"
#define DLC_ROLE_LEARNING_RATE "learning_rate"
#define DLC_ROLE_LOSS "loss"
#define DLC_ROLE_CORRECT "correct"
#define DLC_ROLE_LOGITS "logits"
#define DLC_ROLE_FEATURE "feature"
#define DLC_ROLE_GRADIENT "gradient"
#define DLC_NUM_ROLES 13
#define DLC_ROLES                                                              \
  {DLC_ROLE_PARAM,   DLC_ROLE_OPT_STATE,     DLC_ROLE_STATE,                   \
   DLC_ROLE_INPUT,   DLC_ROLE_LABELS,        DLC_ROLE_STEP,                    \
   DLC_ROLE_SEED,    DLC_ROLE_LEARNING_RATE, DLC_ROLE_LOSS,                    \
   DLC_ROLE_CORRECT, DLC_ROLE_LOGITS,        DLC_ROLE_FEATURE,                 \
   DLC_ROLE_GRADIENT}

/* Where the entry points expect every buffer they read and write. */
typedef enum dlc_device {
  DLC_DEVICE_CPU = 0,  /* host memory */
  DLC_DEVICE_CUDA = 1, /* CUDA device memory (the CUDA target) */
  DLC_NUM_DEVICES
} dlc_device;

/* dlc_tensor_info.flags */
enum {
  /* An argument the function updates in place: it reads the buffer and
   * writes the new value into it (train_step's params, opt_state and state
   * are donated this way and have no result). */
  DLC_TENSOR_IN_PLACE = 1u << 0,
  /* A scalar (rank DLC_RANK_SCALAR) the entry point reads from device
   * memory: args[i] is then the address of a pointer to a rank-0 memref
   * descriptor of the table's device holding the value, not the address of
   * the value (the CUDA target: a captured CUDA graph replays with the
   * parameters it was captured with, so per-step values live in memory). */
  DLC_TENSOR_DEVICE_SCALAR = 1u << 1,
};

/* One argument or result of a compiled function.
 *
 * init names the initializer of params and state ("glorot_uniform",
 * "he_normal", "zeros", "ones", ...; "" when none). A tensor of rank
 * R >= 0 uses shape[0..R); a scalar passed by value (step: i64, seed: i64,
 * learning_rate: f32) has rank DLC_RANK_SCALAR. */
typedef struct dlc_tensor_info {
  const char *name;
  const char *role; /* one of DLC_ROLES */
  const char *init;
  int32_t dtype; /* dlc_dtype */
  int32_t rank;  /* 0..DLC_MAX_RANK, or DLC_RANK_SCALAR */
  int64_t shape[DLC_MAX_RANK];
  uint32_t flags; /* DLC_TENSOR_* */
} dlc_tensor_info;

/* One entry point, called through its packed interface.
 *
 * `packed(args)` takes num_args + num_results pointers, arguments first.
 * For a tensor of rank R >= 0, args[i] is the address of a pointer to an
 * MLIR memref descriptor
 *   struct { T *allocated; T *aligned; int64_t offset;
 *            int64_t sizes[R]; int64_t strides[R]; }
 * (no sizes/strides when R = 0) with row-major strides and offset 0, in
 * the memory of the table's device. For a scalar by value (rank -1),
 * args[i] points to the value in host memory. The caller allocates every
 * result buffer (static shapes) and the function writes it; results never
 * alias arguments. Arguments are read-only unless flagged
 * DLC_TENSOR_IN_PLACE.
 *
 * Signatures (built by dlc-build-train-step):
 *   train_step(params..., opt_state..., state..., input, labels,
 *              step: i64, seed: i64, learning_rate: f32) -> (loss, correct)
 *     params, opt_state and state are DLC_TENSOR_IN_PLACE. (A table may
 *     instead return them, `-> (params..., opt_state..., state..., loss,
 *     correct)`, result i of each group the new value of argument i of the
 *     same group: `dlc-build-train-step{in-place=false}`.)
 *   eval_step(params..., state..., input, labels) -> (loss, correct)
 *     inference semantics: each sample's contribution is independent of
 *     the rest of the batch.
 *   predict(params..., state..., input) -> (logits: f32[batch, classes])
 *   features(params..., state..., input) -> (feature...)
 *     optional (a model with convolutions has it): each convolution's
 *     output, named after its layer, for the report's feature maps.
 *     Added without a version change: a runtime skips entry points it
 *     does not know, and one without features still reads the table.
 *   gradients(params..., state..., input, labels, step: i64, seed: i64)
 *     -> (gradient...)   optional (`dlc compile --gradients`): train_step's
 *     gradients without the update, one per param in param order. Tables
 *     without it are the same version.
 * input is NHWC f32 [batch, H, W, C]; labels are i32 [batch]. */
typedef struct dlc_function_info {
  const char *name;
  void (*packed)(void **args);
  int32_t num_args;
  int32_t num_results;
  const dlc_tensor_info *args;
  const dlc_tensor_info *results;
} dlc_function_info;

/* The whole model.
 *
 * settings_json is a JSON object written by the compiler, e.g.
 *   {"loss": "sparse_categorical_crossentropy",
 *    "optimizer": {"name": "adam", "learning_rate": 0.001},
 *    "batch_size": 64, "epochs": 10,
 *    "input": {"shape": [28, 28, 1], "scale": 0.00392156862, "offset": 0.0},
 *    "metrics": ["accuracy"], "class_names": ["T-shirt/top", ...]}
 * Every key is optional; "scale" and "offset" may also be per-channel
 * arrays (x = pixel * scale[c] + offset[c], pixel in 0..255). */
typedef struct dlc_model_info {
  uint32_t abi_version; /* DLC_MODEL_ABI_VERSION; always the first field */
  int32_t device;       /* dlc_device */
  const char *name;
  const char *settings_json;
  int32_t num_functions;
  const dlc_function_info *functions;
} dlc_model_info;

/* Defined by the compiled object. */
extern const dlc_model_info dlc_model;

/* Threads: the compiled code's parallel loops are OpenMP worksharing
 * loops of LLVM's OpenMP runtime (libomp), which the runtime links; the
 * runtime sets their number (--threads) with omp_set_num_threads. */

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DLC_RUNTIME_MODELABI_H */
