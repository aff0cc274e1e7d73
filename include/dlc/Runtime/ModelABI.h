/*===- ModelABI.h - The table a compiled model exports to the runtime -----===*\
|*                                                                            *|
|* The C ABI between an object file produced by `dlc compile` and the dlc     *|
|* runtime. The compiled object defines one `dlc_model` table that describes  *|
|* the model (name, settings) and its entry points (train_step, eval_step,    *|
|* predict) with the name, role, initializer, dtype and static shape of every *|
|* argument and result. The runtime binds buffers to arguments by role and    *|
|* name; it never assumes an argument order beyond what is written here.      *|
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

/* Element types of tensors and by-value scalars. */
enum {
  DLC_DTYPE_F32 = 0,
  DLC_DTYPE_I32 = 1,
  DLC_DTYPE_I64 = 2,
};

/* The largest tensor rank in the ABI; `rank` is -1 for scalars by value. */
#define DLC_MAX_RANK 4

/* One argument or result of a compiled function.
 *
 * role is one of "param", "opt_state", "state", "input", "labels", "step",
 * "seed", "learning_rate", "loss", "correct", "logits". init names the
 * initializer of params and state ("glorot_uniform", "he_normal", "zeros",
 * "ones", ...; "" when none). A tensor of rank R >= 0 uses shape[0..R); a
 * scalar passed by value (step: i64, seed: i64, learning_rate: f32) has
 * rank -1. */
typedef struct dlc_tensor_info {
  const char *name;
  const char *role;
  const char *init;
  int32_t dtype;
  int32_t rank;
  int64_t shape[DLC_MAX_RANK];
} dlc_tensor_info;

/* One entry point, called through its packed interface.
 *
 * `packed(args)` takes num_args + num_results pointers, arguments first.
 * For a tensor of rank R >= 0, args[i] is the address of a pointer to an
 * MLIR memref descriptor
 *   struct { T *allocated; T *aligned; int64_t offset;
 *            int64_t sizes[R]; int64_t strides[R]; }
 * (no sizes/strides when R = 0) with row-major strides and offset 0. For a
 * scalar by value (rank -1), args[i] points to the value. The caller
 * allocates every result buffer (static shapes) and the function writes it;
 * results never alias arguments and arguments are read-only.
 *
 * Signatures (built by dlc-build-train-step):
 *   train_step(params..., opt_state..., state..., input, labels,
 *              step: i64, seed: i64, learning_rate: f32)
 *     -> (params..., opt_state..., state..., loss: f32[], correct: i32[])
 *     Result i of each group is the new value of argument i of the same
 *     group; `step` is the number of updates already applied.
 *   eval_step(params..., state..., input, labels) -> (loss, correct)
 *     inference semantics: each sample's contribution is independent of
 *     the rest of the batch.
 *   predict(params..., state..., input) -> (logits: f32[batch, classes])
 * input is NHWC f32 [batch, H, W, C]; labels are i32 [batch]; loss is the
 * mean over the batch, correct the number of rows whose argmax is the
 * label. */
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
  const char *name;
  const char *settings_json;
  int32_t num_functions;
  const dlc_function_info *functions;
} dlc_model_info;

/* Defined by the compiled object. */
extern const dlc_model_info dlc_model;

/* Optional: when the compiled object defines this function, the runtime
 * calls it once before the first step with the value of --threads (the
 * number of threads the compiled code may use). Declared weak so that
 * objects without it still link. */
void dlc_set_num_threads(int32_t num_threads)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((weak))
#endif
    ;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DLC_RUNTIME_MODELABI_H */
