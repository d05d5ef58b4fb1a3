/*
 * donjon-wasm: the WebAssembly exec layer (docs/wasm.md). Runs one WASI preview-1 command module on Wasmtime,
 * configured for keeps, as an ordinary workload: the same binary natively and inside every keep.
 *
 *   donjon-wasm [--argv0 NAME] [--dir ro|rw DIRECTORY GUEST]... [--] MODULE [ARGS...]
 *
 * The module's WASI arguments are NAME (default: MODULE as given) and ARGS; its environment is this program's
 * environment, unchanged (in a keep, exactly the policy's); stdin, stdout and stderr are this program's; each
 * --dir preopens DIRECTORY at GUEST, read-only or read-write; nothing else of the file system is visible.
 *
 * Exit status: the module's own (proc_exit, or 0 when _start returns); 123 when it traps (one line on stderr names
 * the trap and the function); 126 when the module cannot be run (unreadable, not a module, fails to compile,
 * imports something other than WASI preview 1, is not a command); 125 for a bad command line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wasmtime_api.h"

enum {
    STATUS_TRAP = 123,
    STATUS_USAGE = 125,
    STATUS_CANNOT_RUN = 126,
    STATUS_NOT_FOUND = 127,
};

/* Keep-friendly engine settings; docs/wasm.md says why each is set. */
enum {
    MEMORY_RESERVATION_BYTES = 64u << 20,
    MEMORY_RESERVATION_FOR_GROWTH_BYTES = 16u << 20,
    MEMORY_GUARD_BYTES = 0,
    MAX_WASM_STACK_BYTES = 512u << 10,
    MAX_MODULE_BYTES = 256u << 20,
};

static const char program_name[] = "donjon-wasm";
static const char wasi_preview1[] = "wasi_snapshot_preview1";

static void fail_message(const char *format, ...) __attribute__((format(printf, 1, 2)));
static void fail_message(const char *format, ...)
{
    va_list arguments;
    va_start(arguments, format);
    fprintf(stderr, "%s: ", program_name);
    vfprintf(stderr, format, arguments);
    fputc('\n', stderr);
    va_end(arguments);
}

static void usage(void)
{
    fprintf(stderr, "usage: %s [--argv0 NAME] [--dir ro|rw DIRECTORY GUEST]... [--] MODULE [ARGS...]\n",
            program_name);
}

/* Prints "what: <Wasmtime's message>" and frees the error. */
static void report_error(const char *what, wasmtime_error_t *error)
{
    wasm_name_t message = {0};
    wasmtime_error_message(error, &message);
    fail_message("%s: %.*s", what, (int)message.size, message.data);
    wasm_byte_vec_delete(&message);
    wasmtime_error_delete(error);
}

static const char *trap_code_name(wasmtime_trap_code_t code)
{
    switch (code) {
    case WASMTIME_TRAP_CODE_STACK_OVERFLOW: return "stack overflow";
    case WASMTIME_TRAP_CODE_MEMORY_OUT_OF_BOUNDS: return "out-of-bounds memory access";
    case WASMTIME_TRAP_CODE_HEAP_MISALIGNED: return "misaligned memory access";
    case WASMTIME_TRAP_CODE_TABLE_OUT_OF_BOUNDS: return "undefined element: out-of-bounds table access";
    case WASMTIME_TRAP_CODE_INDIRECT_CALL_TO_NULL: return "uninitialized element: indirect call to null";
    case WASMTIME_TRAP_CODE_BAD_SIGNATURE: return "indirect call type mismatch";
    case WASMTIME_TRAP_CODE_INTEGER_OVERFLOW: return "integer overflow";
    case WASMTIME_TRAP_CODE_INTEGER_DIVISION_BY_ZERO: return "integer divide by zero";
    case WASMTIME_TRAP_CODE_BAD_CONVERSION_TO_INTEGER: return "invalid conversion to integer";
    case WASMTIME_TRAP_CODE_UNREACHABLE_CODE_REACHED: return "unreachable";
    case WASMTIME_TRAP_CODE_INTERRUPT: return "interrupt";
    case WASMTIME_TRAP_CODE_OUT_OF_FUEL: return "out of fuel";
    default: return NULL;
    }
}

/* One line: "trap: unreachable in function crash (function 3) of hello.wasm". Frees the trap. */
static void report_trap(wasm_trap_t *trap, const char *module_name)
{
    char what[96];
    wasmtime_trap_code_t code = 0;
    const char *name = NULL;
    if (wasmtime_trap_code(trap, &code)) {
        name = trap_code_name(code);
        if (name == NULL) {
            snprintf(what, sizeof what, "trap code %u", (unsigned)code);
            name = what;
        }
    }

    wasm_frame_vec_t frames = {0};
    wasm_trap_trace(trap, &frames);
    char where[320] = "";
    if (frames.size > 0 && frames.data[0] != NULL) {
        const wasm_name_t *function = wasmtime_frame_func_name(frames.data[0]);
        uint32_t index = wasm_frame_func_index(frames.data[0]);
        if (function != NULL && function->size > 0)
            snprintf(where, sizeof where, " in function %.*s (function %u)", (int)function->size, function->data,
                     index);
        else
            snprintf(where, sizeof where, " in function %u (the module has no name for it)", index);
    }
    wasm_frame_vec_delete(&frames);

    if (name == NULL) {
        /* Not one of Wasmtime's coded traps: its own message names it. */
        wasm_message_t message = {0};
        wasm_trap_message(trap, &message);
        size_t length = message.size;
        if (length > 0 && message.data[length - 1] == '\0')
            length--;
        const char *newline = memchr(message.data, '\n', length);
        if (newline != NULL)
            length = (size_t)(newline - message.data);
        fail_message("trap: %.*s%s of %s", (int)length, message.data, where, module_name);
        wasm_byte_vec_delete(&message);
    } else {
        fail_message("trap: %s%s of %s", name, where, module_name);
    }
    wasm_trap_delete(trap);
}

/* Reads the whole module with read(2) into memory; no file mapping. */
static uint8_t *read_module(const char *path, size_t *length_out, int *status_out)
{
    int descriptor = open(path, O_RDONLY | O_CLOEXEC);
    if (descriptor < 0) {
        fail_message("cannot open the module %s: %s", path, strerror(errno));
        *status_out = errno == ENOENT ? STATUS_NOT_FOUND : STATUS_CANNOT_RUN;
        return NULL;
    }
    struct stat status;
    if (fstat(descriptor, &status) != 0 || !S_ISREG(status.st_mode)) {
        fail_message("the module %s is not a regular file", path);
        close(descriptor);
        *status_out = STATUS_CANNOT_RUN;
        return NULL;
    }
    if (status.st_size > MAX_MODULE_BYTES) {
        fail_message("the module %s is %lld bytes, more than the %u this launcher reads", path,
                     (long long)status.st_size, (unsigned)MAX_MODULE_BYTES);
        close(descriptor);
        *status_out = STATUS_CANNOT_RUN;
        return NULL;
    }
    size_t capacity = (size_t)status.st_size;
    uint8_t *bytes = malloc(capacity > 0 ? capacity : 1);
    size_t length = 0;
    while (bytes != NULL && length < capacity) {
        ssize_t got = read(descriptor, bytes + length, capacity - length);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        length += (size_t)got;
    }
    close(descriptor);
    if (bytes == NULL || length != capacity) {
        fail_message("cannot read the module %s (%zu of %zu bytes)", path, length, capacity);
        free(bytes);
        *status_out = STATUS_CANNOT_RUN;
        return NULL;
    }
    *length_out = length;
    return bytes;
}

/* Every import must come from WASI preview 1: anything else is refused before linking, by name. */
static bool imports_are_wasi_preview1(const wasmtime_module_t *module, const char *module_name)
{
    wasm_importtype_vec_t imports = {0};
    wasmtime_module_imports(module, &imports);
    bool all_wasi = true;
    for (size_t i = 0; i < imports.size; i++) {
        const wasm_name_t *from = wasm_importtype_module(imports.data[i]);
        const wasm_name_t *name = wasm_importtype_name(imports.data[i]);
        bool is_wasi = from != NULL && from->size == sizeof wasi_preview1 - 1 &&
                       memcmp(from->data, wasi_preview1, sizeof wasi_preview1 - 1) == 0;
        if (!is_wasi) {
            fail_message("%s imports %.*s::%.*s, which is not WASI preview 1 (%s): only WASI command modules run",
                         module_name, from ? (int)from->size : 0, from ? from->data : "", name ? (int)name->size : 0,
                         name ? name->data : "", wasi_preview1);
            all_wasi = false;
            break;
        }
    }
    wasm_importtype_vec_delete(&imports);
    return all_wasi;
}

struct preopen {
    const char *directory;
    const char *guest;
    bool writable;
};

int main(int argc, char **argv)
{
    const char *argv0 = NULL;
    struct preopen *preopens = calloc((size_t)argc, sizeof *preopens);
    size_t preopen_count = 0;
    int index = 1;
    if (preopens == NULL)
        return STATUS_CANNOT_RUN;
    while (index < argc && strncmp(argv[index], "--", 2) == 0) {
        if (strcmp(argv[index], "--") == 0) {
            index++;
            break;
        }
        if (strcmp(argv[index], "--argv0") == 0 && index + 1 < argc) {
            argv0 = argv[index + 1];
            index += 2;
        } else if (strcmp(argv[index], "--dir") == 0 && index + 3 < argc &&
                   (strcmp(argv[index + 1], "ro") == 0 || strcmp(argv[index + 1], "rw") == 0)) {
            preopens[preopen_count].writable = strcmp(argv[index + 1], "rw") == 0;
            preopens[preopen_count].directory = argv[index + 2];
            preopens[preopen_count].guest = argv[index + 3];
            preopen_count++;
            index += 4;
        } else {
            fail_message("bad option '%s'", argv[index]);
            usage();
            return STATUS_USAGE;
        }
    }
    if (index >= argc) {
        usage();
        return STATUS_USAGE;
    }
    const char *module_path = argv[index];
    const char *module_name = argv0 != NULL ? argv0 : module_path;

    int status = 0;
    size_t module_length = 0;
    uint8_t *module_bytes = read_module(module_path, &module_length, &status);
    if (module_bytes == NULL)
        return status;

    wasm_config_t *config = wasm_config_new();
    /* No SIGSEGV/SIGILL handlers: bounds and stack checks are explicit code, so a keep's shim owns every signal. */
    wasmtime_config_signals_based_traps_set(config, false);
    /* Compile on this thread only. */
    wasmtime_config_parallel_compilation_set(config, false);
    /* A bounded reservation per linear memory, no guard region (it would only help signal-based traps). */
    wasmtime_config_memory_reservation_set(config, MEMORY_RESERVATION_BYTES);
    wasmtime_config_memory_reservation_for_growth_set(config, MEMORY_RESERVATION_FOR_GROWTH_BYTES);
    wasmtime_config_memory_guard_size_set(config, MEMORY_GUARD_BYTES);
    /* Initial memory is written by copying, not mapped from a copy-on-write memfd image. */
    wasmtime_config_memory_init_cow_set(config, false);
    wasmtime_config_max_wasm_stack_set(config, MAX_WASM_STACK_BYTES);
    wasmtime_config_wasm_threads_set(config, false);
    wasm_engine_t *engine = wasm_engine_new_with_config(config);
    if (engine == NULL) {
        fail_message("Wasmtime refused its configuration");
        return STATUS_CANNOT_RUN;
    }

    wasmtime_module_t *module = NULL;
    wasmtime_error_t *error = wasmtime_module_new(engine, module_bytes, module_length, &module);
    free(module_bytes);
    if (error != NULL) {
        char what[512];
        snprintf(what, sizeof what, "cannot compile %s", module_name);
        report_error(what, error);
        return STATUS_CANNOT_RUN;
    }
    if (!imports_are_wasi_preview1(module, module_name))
        return STATUS_CANNOT_RUN;

    wasi_config_t *wasi = wasi_config_new();
    size_t wasi_argc = (size_t)(argc - index);
    const char **wasi_argv = calloc(wasi_argc, sizeof *wasi_argv);
    if (wasi_argv == NULL)
        return STATUS_CANNOT_RUN;
    wasi_argv[0] = module_name;
    for (size_t i = 1; i < wasi_argc; i++)
        wasi_argv[i] = argv[index + (int)i];
    extern char **environ;
    size_t environment_count = 0;
    while (environ[environment_count] != NULL)
        environment_count++;
    const char **names = calloc(environment_count + 1, sizeof *names);
    const char **values = calloc(environment_count + 1, sizeof *values);
    char **copies = calloc(environment_count + 1, sizeof *copies);
    if (names == NULL || values == NULL || copies == NULL)
        return STATUS_CANNOT_RUN;
    size_t variable_count = 0;
    for (size_t i = 0; i < environment_count; i++) {
        char *equals = strchr(environ[i], '=');
        if (equals == NULL)
            continue;
        copies[variable_count] = strndup(environ[i], (size_t)(equals - environ[i]));
        if (copies[variable_count] == NULL)
            return STATUS_CANNOT_RUN;
        names[variable_count] = copies[variable_count];
        values[variable_count] = equals + 1;
        variable_count++;
    }
    if (!wasi_config_set_argv(wasi, wasi_argc, wasi_argv) ||
        !wasi_config_set_env(wasi, variable_count, names, values)) {
        fail_message("Wasmtime refused the arguments or the environment (they must be UTF-8)");
        return STATUS_CANNOT_RUN;
    }
    wasi_config_inherit_stdin(wasi);
    wasi_config_inherit_stdout(wasi);
    wasi_config_inherit_stderr(wasi);
    for (size_t i = 0; i < preopen_count; i++) {
        /* Wasmtime 50 folds the two masks into read-only or read-write, and only a directory mask of 0 is
           read-only (a READ bit alone gives read-write: docs/wasm.md); reading is allowed either way. A test
           checks that a read-only preopen refuses a write. */
        size_t directory_permissions = 0;
        size_t file_permissions = WASMTIME_WASI_FILE_PERMS_READ;
        if (preopens[i].writable) {
            directory_permissions |= WASMTIME_WASI_DIR_PERMS_READ;
            directory_permissions |= WASMTIME_WASI_DIR_PERMS_WRITE;
            file_permissions |= WASMTIME_WASI_FILE_PERMS_WRITE;
        }
        if (!wasi_config_preopen_dir(wasi, preopens[i].directory, preopens[i].guest, directory_permissions,
                                     file_permissions)) {
            fail_message("cannot preopen the directory %s (as %s) for the module", preopens[i].directory,
                         preopens[i].guest);
            return STATUS_CANNOT_RUN;
        }
    }

    wasmtime_store_t *store = wasmtime_store_new(engine, NULL, NULL);
    wasmtime_context_t *context = wasmtime_store_context(store);
    error = wasmtime_context_set_wasi(context, wasi);
    if (error != NULL) {
        report_error("cannot set up WASI", error);
        return STATUS_CANNOT_RUN;
    }
    wasmtime_linker_t *linker = wasmtime_linker_new(engine);
    error = wasmtime_linker_define_wasi(linker);
    if (error != NULL) {
        report_error("cannot define WASI preview 1", error);
        return STATUS_CANNOT_RUN;
    }
    error = wasmtime_linker_module(linker, context, "", 0, module);
    if (error != NULL) {
        char what[512];
        snprintf(what, sizeof what, "cannot link %s", module_name);
        report_error(what, error);
        return STATUS_CANNOT_RUN;
    }
    wasmtime_func_t start = {0};
    error = wasmtime_linker_get_default(linker, context, "", 0, &start);
    if (error != NULL) {
        char what[512];
        snprintf(what, sizeof what, "%s is not a command module (it has no _start)", module_name);
        report_error(what, error);
        return STATUS_CANNOT_RUN;
    }

    wasm_trap_t *trap = NULL;
    fflush(stdout);
    error = wasmtime_func_call(context, &start, NULL, 0, NULL, 0, &trap);
    if (error != NULL) {
        int exit_status = 0;
        if (wasmtime_error_exit_status(error, &exit_status)) {
            wasmtime_error_delete(error);
            status = exit_status;
        } else {
            char what[512];
            snprintf(what, sizeof what, "%s failed", module_name);
            report_error(what, error);
            status = STATUS_TRAP;
        }
    } else if (trap != NULL) {
        report_trap(trap, module_name);
        status = STATUS_TRAP;
    }
    wasmtime_linker_delete(linker);
    wasmtime_store_delete(store);
    wasmtime_module_delete(module);
    wasm_engine_delete(engine);
    for (size_t i = 0; i < variable_count; i++)
        free(copies[i]);
    free(copies);
    free(names);
    free(values);
    free(wasi_argv);
    free(preopens);
    return status;
}
