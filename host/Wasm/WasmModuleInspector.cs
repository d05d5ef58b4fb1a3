using System.Security.Cryptography;
using System.Text;

namespace Donjon.Host.Wasm;

/// <summary>One import of a module: where from, what, and of which kind.</summary>
/// <param name="Module">The import's module name, e.g. <c>wasi_snapshot_preview1</c>.</param>
/// <param name="Name">The imported item's name.</param>
/// <param name="Kind">function, table, memory, global or tag.</param>
internal sealed record WasmImport(string Module, string Name, string Kind);

/// <summary>What Donjon sees in a <c>.wasm</c> file (docs/wasm.md, "Which modules run").</summary>
/// <param name="Kind">"module" (a core module, binary version 1) or "component" (the component model's layer 1).</param>
/// <param name="Version">The binary format's version field (1 for a core module).</param>
/// <param name="Sha256">The SHA-256 of the whole file, lower-case hex.</param>
/// <param name="Size">The file's size in bytes.</param>
/// <param name="Imports">The import section, in order (empty for a component).</param>
/// <param name="FunctionExports">The names of the exported functions.</param>
/// <param name="RejectionReason">Why it cannot run, or <see langword="null"/> when it is a WASI preview-1 command module.</param>
internal sealed record WasmModuleReport(
    string Kind,
    uint Version,
    string Sha256,
    long Size,
    IReadOnlyList<WasmImport> Imports,
    IReadOnlyList<string> FunctionExports,
    string? RejectionReason)
{
    /// <summary>Whether the module is a WASI preview-1 command module that the exec layer runs.</summary>
    public bool IsRunnable => RejectionReason is null;
}

/// <summary>
/// Recognises a WebAssembly binary by its magic and version and reads its import and export sections, bounds-checked
/// (the file is untrusted input): enough to refuse a component, a module that imports anything but WASI preview 1,
/// and a module that is not a command, before a keep starts.
/// </summary>
internal static class WasmModuleInspector
{
    /// <summary>The module name of every WASI preview-1 import.</summary>
    public const string WasiPreview1 = "wasi_snapshot_preview1";

    /// <summary>The export a command module's runtime calls.</summary>
    public const string StartExport = "_start";

    private static ReadOnlySpan<byte> Magic => "\0asm"u8;

    /// <summary>The functions WASI preview 1 defines (the imports the exec layer's linker can satisfy).</summary>
    internal static readonly IReadOnlySet<string> WasiPreview1Functions = new HashSet<string>(StringComparer.Ordinal)
    {
        "args_get", "args_sizes_get", "environ_get", "environ_sizes_get", "clock_res_get", "clock_time_get",
        "fd_advise", "fd_allocate", "fd_close", "fd_datasync", "fd_fdstat_get", "fd_fdstat_set_flags",
        "fd_fdstat_set_rights", "fd_filestat_get", "fd_filestat_set_size", "fd_filestat_set_times", "fd_pread",
        "fd_prestat_get", "fd_prestat_dir_name", "fd_pwrite", "fd_read", "fd_readdir", "fd_renumber", "fd_seek",
        "fd_sync", "fd_tell", "fd_write", "path_create_directory", "path_filestat_get", "path_filestat_set_times",
        "path_link", "path_open", "path_readlink", "path_remove_directory", "path_rename", "path_symlink",
        "path_unlink_file", "poll_oneoff", "proc_exit", "proc_raise", "sched_yield", "random_get", "sock_accept",
        "sock_recv", "sock_send", "sock_shutdown",
    };

    /// <summary>Whether <paramref name="contents"/> starts with the WebAssembly magic <c>\0asm</c>.</summary>
    public static bool HasMagic(ReadOnlySpan<byte> contents) => contents.StartsWith(Magic);

    /// <summary>Inspects a file that <see cref="HasMagic"/> recognised.</summary>
    /// <param name="contents">The whole file.</param>
    /// <returns>The report; a malformed file is a report with the reason, never an exception.</returns>
    public static WasmModuleReport Inspect(ReadOnlySpan<byte> contents)
    {
        string sha256 = Convert.ToHexStringLower(SHA256.HashData(contents));
        if (!HasMagic(contents) || contents.Length < 8)
        {
            return new WasmModuleReport("unknown", 0, sha256, contents.Length, [], [], "not a WebAssembly binary: it is shorter than the 8-byte header or lacks the \\0asm magic");
        }

        uint version = (uint)(contents[4] | (contents[5] << 8) | (contents[6] << 16) | (contents[7] << 24));
        if (contents[6] == 1 && contents[7] == 0 && version != 1)
        {
            // The component model's preamble: a 16-bit version, then layer 1.
            return new WasmModuleReport("component", (uint)(contents[4] | (contents[5] << 8)), sha256, contents.Length, [], [],
                "a WebAssembly component (component model, layer 1); the exec layer runs WASI preview-1 core modules only: build it for wasm32-wasi (wasm32-wasip1), not wasm32-wasip2");
        }

        if (version != 1)
        {
            return new WasmModuleReport("unknown", version, sha256, contents.Length, [], [],
                $"WebAssembly binary version {version}; only version 1 (a core module) runs");
        }

        var imports = new List<WasmImport>();
        var exports = new List<string>();
        string? malformed = ReadSections(contents, imports, exports);
        string? reason = malformed is not null ? $"malformed module: {malformed}" : Refusal(imports, exports);
        return new WasmModuleReport("module", version, sha256, contents.Length, imports, exports, reason);
    }

    /// <summary>Why a well-formed module is not a WASI preview-1 command, or <see langword="null"/>.</summary>
    private static string? Refusal(IReadOnlyList<WasmImport> imports, IReadOnlyList<string> exports)
    {
        foreach (WasmImport import in imports)
        {
            if (import.Module != WasiPreview1)
            {
                return $"it imports {import.Kind} {import.Module}::{import.Name}, which is not WASI preview 1 ({WasiPreview1}); only WASI command modules run, with nothing else linked in";
            }

            if (import.Kind != "function" || !WasiPreview1Functions.Contains(import.Name))
            {
                return $"it imports {import.Kind} {import.Module}::{import.Name}, which WASI preview 1 does not define";
            }
        }

        if (!exports.Contains(StartExport))
        {
            return exports.Contains("_initialize")
                ? "a reactor module (it exports _initialize, not _start): only command modules run; link it as a command (the default of clang --target=wasm32-wasi)"
                : "not a command module: it exports no _start function";
        }

        return null;
    }

    /// <summary>Walks the sections after the header; returns what is malformed, or <see langword="null"/>.</summary>
    private static string? ReadSections(ReadOnlySpan<byte> contents, List<WasmImport> imports, List<string> exports)
    {
        int position = 8;
        while (position < contents.Length)
        {
            int sectionStart = position;
            byte id = contents[position++];
            if (!TryReadU32(contents, ref position, out uint size) || size > (uint)(contents.Length - position))
            {
                return $"section {id} at offset {sectionStart} runs past the end of the file";
            }

            ReadOnlySpan<byte> body = contents.Slice(position, (int)size);
            position += (int)size;
            string? problem = id switch
            {
                2 => ReadImports(body, imports),
                7 => ReadExports(body, exports),
                _ => null,
            };
            if (problem is not null)
            {
                return $"{(id == 2 ? "import" : "export")} section at offset {sectionStart}: {problem}";
            }
        }

        return null;
    }

    private static string? ReadImports(ReadOnlySpan<byte> body, List<WasmImport> imports)
    {
        int position = 0;
        if (!TryReadU32(body, ref position, out uint count))
        {
            return "bad count";
        }

        for (uint i = 0; i < count; i++)
        {
            if (!TryReadName(body, ref position, out string module) || !TryReadName(body, ref position, out string name) || position >= body.Length)
            {
                return $"import {i} is cut short";
            }

            byte kind = body[position++];
            bool ok = kind switch
            {
                0x00 => TryReadU32(body, ref position, out _),                                   // type index
                0x01 => position++ < body.Length && TryReadLimits(body, ref position),         // reference type, limits
                0x02 => TryReadLimits(body, ref position),                                     // limits
                0x03 => (position += 2) <= body.Length,                                        // value type, mutability
                0x04 => position++ < body.Length && TryReadU32(body, ref position, out _),     // attribute, type index
                _ => false,
            };
            if (!ok)
            {
                return $"import {i} ({module}::{name}) has an unknown or cut-short description (kind 0x{kind:x2})";
            }

            imports.Add(new WasmImport(module, name, KindName(kind)));
        }

        return null;
    }

    private static string? ReadExports(ReadOnlySpan<byte> body, List<string> exports)
    {
        int position = 0;
        if (!TryReadU32(body, ref position, out uint count))
        {
            return "bad count";
        }

        for (uint i = 0; i < count; i++)
        {
            if (!TryReadName(body, ref position, out string name) || position >= body.Length)
            {
                return $"export {i} is cut short";
            }

            byte kind = body[position++];
            if (!TryReadU32(body, ref position, out _))
            {
                return $"export {i} ({name}) is cut short";
            }

            if (kind == 0x00)
            {
                exports.Add(name);
            }
        }

        return null;
    }

    private static string KindName(byte kind) => kind switch
    {
        0x00 => "function",
        0x01 => "table",
        0x02 => "memory",
        0x03 => "global",
        _ => "tag",
    };

    /// <summary>Limits: a flags byte, the minimum, then the maximum (bit 0) and a page-size exponent (bit 3).</summary>
    private static bool TryReadLimits(ReadOnlySpan<byte> body, ref int position)
    {
        if (position >= body.Length)
        {
            return false;
        }

        byte flags = body[position++];
        if (!TryReadU64(body, ref position, out _))
        {
            return false;
        }

        if ((flags & 1) != 0 && !TryReadU64(body, ref position, out _))
        {
            return false;
        }

        return (flags & 8) == 0 || TryReadU32(body, ref position, out _);
    }

    private static bool TryReadName(ReadOnlySpan<byte> body, ref int position, out string name)
    {
        name = "";
        if (!TryReadU32(body, ref position, out uint length) || length > (uint)(body.Length - position))
        {
            return false;
        }

        name = Encoding.UTF8.GetString(body.Slice(position, (int)length));
        position += (int)length;
        return true;
    }

    private static bool TryReadU32(ReadOnlySpan<byte> bytes, ref int position, out uint value)
    {
        bool ok = TryReadU64(bytes, ref position, out ulong wide, maxBytes: 5);
        value = (uint)wide;
        return ok && wide <= uint.MaxValue;
    }

    /// <summary>An unsigned LEB128 of at most <paramref name="maxBytes"/> bytes.</summary>
    private static bool TryReadU64(ReadOnlySpan<byte> bytes, ref int position, out ulong value, int maxBytes = 10)
    {
        value = 0;
        for (int i = 0; i < maxBytes; i++)
        {
            if (position >= bytes.Length)
            {
                return false;
            }

            byte b = bytes[position++];
            value |= (ulong)(b & 0x7F) << (7 * i);
            if ((b & 0x80) == 0)
            {
                return true;
            }
        }

        return false;
    }
}
