/*
 * wasmtime_api.h: the part of Wasmtime's C API (wasm.h, wasi.h, the wasmtime headers of Wasmtime 50) that the launcher
 * uses, declared here from the documented API (https://docs.wasmtime.dev/c-api/) so that the build needs only
 * libwasmtime.so from the Wasmtime NuGet package, which ships no headers.
 *
 * Only opaque handles, the byte/frame/import vectors (whose layout wasm.h fixes: size, then data) and
 * wasmtime_func_t (store_id, then a private pointer) cross this interface by value.
 */
#ifndef DONJON_WASMTIME_API_H
#define DONJON_WASMTIME_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct wasm_config_t wasm_config_t;
typedef struct wasm_engine_t wasm_engine_t;
typedef struct wasm_trap_t wasm_trap_t;
typedef struct wasm_frame_t wasm_frame_t;
typedef struct wasm_importtype_t wasm_importtype_t;
typedef struct wasmtime_error wasmtime_error_t;
typedef struct wasmtime_module wasmtime_module_t;
typedef struct wasmtime_store wasmtime_store_t;
typedef struct wasmtime_context wasmtime_context_t;
typedef struct wasmtime_linker wasmtime_linker_t;
typedef struct wasi_config_t wasi_config_t;
typedef union wasmtime_val wasmtime_val_t; /* never dereferenced: _start takes and returns nothing */

/* wasm.h's vectors: a count, then the elements. */
typedef struct wasm_byte_vec_t {
    size_t size;
    char *data;
} wasm_byte_vec_t;
typedef wasm_byte_vec_t wasm_name_t;
typedef wasm_byte_vec_t wasm_message_t;

typedef struct wasm_frame_vec_t {
    size_t size;
    wasm_frame_t **data;
} wasm_frame_vec_t;

typedef struct wasm_importtype_vec_t {
    size_t size;
    wasm_importtype_t **data;
} wasm_importtype_vec_t;

/* wasmtime/extern.h: a function of a store. */
typedef struct wasmtime_func {
    uint64_t store_id;
    void *private_field;
} wasmtime_func_t;

/* wasmtime/trap.h: the codes wasmtime_trap_code reports. */
typedef uint8_t wasmtime_trap_code_t;
enum {
    WASMTIME_TRAP_CODE_STACK_OVERFLOW = 0,
    WASMTIME_TRAP_CODE_MEMORY_OUT_OF_BOUNDS = 1,
    WASMTIME_TRAP_CODE_HEAP_MISALIGNED = 2,
    WASMTIME_TRAP_CODE_TABLE_OUT_OF_BOUNDS = 3,
    WASMTIME_TRAP_CODE_INDIRECT_CALL_TO_NULL = 4,
    WASMTIME_TRAP_CODE_BAD_SIGNATURE = 5,
    WASMTIME_TRAP_CODE_INTEGER_OVERFLOW = 6,
    WASMTIME_TRAP_CODE_INTEGER_DIVISION_BY_ZERO = 7,
    WASMTIME_TRAP_CODE_BAD_CONVERSION_TO_INTEGER = 8,
    WASMTIME_TRAP_CODE_UNREACHABLE_CODE_REACHED = 9,
    WASMTIME_TRAP_CODE_INTERRUPT = 10,
    WASMTIME_TRAP_CODE_OUT_OF_FUEL = 11,
};

/* wasi.h: permission bits of a preopened directory and of the files under it. */
enum {
    WASMTIME_WASI_DIR_PERMS_READ = 1,
    WASMTIME_WASI_DIR_PERMS_WRITE = 2,
    WASMTIME_WASI_FILE_PERMS_READ = 1,
    WASMTIME_WASI_FILE_PERMS_WRITE = 2,
};

/* wasm.h */
void wasm_byte_vec_delete(wasm_byte_vec_t *vector);
wasm_config_t *wasm_config_new(void);
wasm_engine_t *wasm_engine_new_with_config(wasm_config_t *config); /* takes the config */
void wasm_engine_delete(wasm_engine_t *engine);
void wasm_trap_message(const wasm_trap_t *trap, wasm_message_t *out);
void wasm_trap_trace(const wasm_trap_t *trap, wasm_frame_vec_t *out);
void wasm_trap_delete(wasm_trap_t *trap);
uint32_t wasm_frame_func_index(const wasm_frame_t *frame);
void wasm_frame_vec_delete(wasm_frame_vec_t *vector);
const wasm_name_t *wasm_importtype_module(const wasm_importtype_t *import);
const wasm_name_t *wasm_importtype_name(const wasm_importtype_t *import);
void wasm_importtype_vec_delete(wasm_importtype_vec_t *vector);

/* wasmtime/config.h */
void wasmtime_config_signals_based_traps_set(wasm_config_t *config, bool enable);
void wasmtime_config_parallel_compilation_set(wasm_config_t *config, bool enable);
void wasmtime_config_memory_reservation_set(wasm_config_t *config, uint64_t bytes);
void wasmtime_config_memory_guard_size_set(wasm_config_t *config, uint64_t bytes);
void wasmtime_config_memory_reservation_for_growth_set(wasm_config_t *config, uint64_t bytes);
void wasmtime_config_memory_init_cow_set(wasm_config_t *config, bool enable);
void wasmtime_config_max_wasm_stack_set(wasm_config_t *config, size_t bytes);
void wasmtime_config_wasm_threads_set(wasm_config_t *config, bool enable);

/* wasmtime/error.h */
void wasmtime_error_message(const wasmtime_error_t *error, wasm_name_t *message);
bool wasmtime_error_exit_status(const wasmtime_error_t *error, int *status);
void wasmtime_error_delete(wasmtime_error_t *error);

/* wasmtime/trap.h, wasmtime/func.h (frame names) */
bool wasmtime_trap_code(const wasm_trap_t *trap, wasmtime_trap_code_t *code);
const wasm_name_t *wasmtime_frame_func_name(const wasm_frame_t *frame);

/* wasmtime/module.h */
wasmtime_error_t *wasmtime_module_new(wasm_engine_t *engine, const uint8_t *wasm, size_t wasm_len,
                                      wasmtime_module_t **module_out);
void wasmtime_module_imports(const wasmtime_module_t *module, wasm_importtype_vec_t *out);
void wasmtime_module_delete(wasmtime_module_t *module);

/* wasmtime/store.h */
wasmtime_store_t *wasmtime_store_new(wasm_engine_t *engine, void *data, void (*finalizer)(void *));
wasmtime_context_t *wasmtime_store_context(wasmtime_store_t *store);
void wasmtime_store_delete(wasmtime_store_t *store);
wasmtime_error_t *wasmtime_context_set_wasi(wasmtime_context_t *context, wasi_config_t *wasi); /* takes it */

/* wasmtime/linker.h */
wasmtime_linker_t *wasmtime_linker_new(wasm_engine_t *engine);
wasmtime_error_t *wasmtime_linker_define_wasi(wasmtime_linker_t *linker);
wasmtime_error_t *wasmtime_linker_module(wasmtime_linker_t *linker, wasmtime_context_t *context, const char *name,
                                         size_t name_len, const wasmtime_module_t *module);
wasmtime_error_t *wasmtime_linker_get_default(const wasmtime_linker_t *linker, wasmtime_context_t *context,
                                              const char *name, size_t name_len, wasmtime_func_t *func);
void wasmtime_linker_delete(wasmtime_linker_t *linker);

/* wasmtime/func.h */
wasmtime_error_t *wasmtime_func_call(wasmtime_context_t *context, const wasmtime_func_t *func,
                                     const wasmtime_val_t *args, size_t nargs, wasmtime_val_t *results,
                                     size_t nresults, wasm_trap_t **trap);

/* wasi.h */
wasi_config_t *wasi_config_new(void);
bool wasi_config_set_argv(wasi_config_t *config, size_t argc, const char *argv[]);
bool wasi_config_set_env(wasi_config_t *config, size_t envc, const char *names[], const char *values[]);
void wasi_config_inherit_stdin(wasi_config_t *config);
void wasi_config_inherit_stdout(wasi_config_t *config);
void wasi_config_inherit_stderr(wasi_config_t *config);
bool wasi_config_preopen_dir(wasi_config_t *config, const char *host_path, const char *guest_path,
                             size_t dir_perms, size_t file_perms);

#endif
