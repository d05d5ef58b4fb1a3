using System.Buffers.Binary;
using System.Text;

namespace Donjon.Host.Images;

/// <summary>
/// A read-only view of glibc's <c>/etc/ld.so.cache</c> (the "new" format, <c>glibc-ld.so.cache1.1</c>, alone or after
/// the old <c>ld.so-1.7.0</c> table), as <c>ldconfig</c> writes it: the x86-64 libc6 entries without a hardware
/// capability, name to path. The interpreter consults it after <c>DT_RUNPATH</c> and before its default folders, so
/// <see cref="LibraryResolver"/> does too, and a library that only a folder of <c>ld.so.conf</c> holds is found as the
/// keep will find it.
/// </summary>
/// <remarks>
/// The file is untrusted: it comes from a mount, and anyone who can write the host's copy shapes it. Every count,
/// offset and string is checked against the file's length; a string must end with a NUL inside the file; at most
/// <see cref="MaxEntryCount"/> entries are read. A file that is not a cache, or is damaged, gives an empty cache (the
/// interpreter ignores such a file the same way) rather than an error.
/// </remarks>
internal sealed class LdSoCache
{
    /// <summary>The most entries read from one file, so a hostile count cannot make the walk long.</summary>
    public const int MaxEntryCount = 1 << 16;

    private const string OldMagic = "ld.so-1.7.0";
    private const string NewMagic = "glibc-ld.so.cache1.1";
    private const int OldHeaderSize = 16; // magic[11] (+ padding to 12), u32 entry count
    private const int OldEntrySize = 12; // i32 flags, u32 key, u32 value
    private const int NewHeaderSize = 48; // magic[17], version[3], u32 nlibs, u32 len_strings, u8 flags, pad[3], u32 extension offset, u32[3]
    private const int NewEntrySize = 24; // i32 flags, u32 key, u32 value, u32 osversion, u64 hwcap

    // dl-cache.h: the type byte and the required-architecture byte of an entry's flags.
    private const int FlagTypeMask = 0x00FF, FlagElfLibc6 = 0x0003;
    private const int FlagRequiredMask = 0xFF00, FlagX8664Lib64 = 0x0300;

    private readonly Dictionary<string, string> _paths;

    private LdSoCache(Dictionary<string, string> paths) => _paths = paths;

    /// <summary>A cache with no entries.</summary>
    public static LdSoCache Empty { get; } = new(new Dictionary<string, string>(StringComparer.Ordinal));

    /// <summary>The number of usable entries.</summary>
    public int Count => _paths.Count;

    /// <summary>The path the cache gives for <paramref name="name"/> (a <c>DT_NEEDED</c> name), or null.</summary>
    public string? Lookup(string name) => _paths.GetValueOrDefault(name);

    /// <summary>Parses <paramref name="untrustedBytes"/>; never throws on any content.</summary>
    public static LdSoCache Parse(ReadOnlySpan<byte> untrustedBytes)
    {
        int start = FindNewFormat(untrustedBytes);
        if (start < 0)
        {
            return Empty;
        }

        ReadOnlySpan<byte> cache = untrustedBytes[start..];
        if (cache.Length < NewHeaderSize)
        {
            return Empty;
        }

        uint declaredCount = BinaryPrimitives.ReadUInt32LittleEndian(cache[20..]);
        long tableEnd = NewHeaderSize + (long)Math.Min(declaredCount, (uint)MaxEntryCount) * NewEntrySize;
        if (tableEnd > cache.Length)
        {
            return Empty; // a table that does not fit: ldconfig never writes one
        }

        int count = (int)Math.Min(declaredCount, (uint)MaxEntryCount);
        var paths = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<byte> entry = cache.Slice(NewHeaderSize + (i * NewEntrySize), NewEntrySize);
            int flags = BinaryPrimitives.ReadInt32LittleEndian(entry);
            uint keyOffset = BinaryPrimitives.ReadUInt32LittleEndian(entry[4..]);
            uint valueOffset = BinaryPrimitives.ReadUInt32LittleEndian(entry[8..]);
            ulong hwcap = BinaryPrimitives.ReadUInt64LittleEndian(entry[16..]);
            if ((flags & FlagTypeMask) != FlagElfLibc6 || (flags & FlagRequiredMask) != FlagX8664Lib64 || hwcap != 0)
            {
                continue; // another architecture, or a glibc-hwcaps entry (not followed)
            }

            // Offsets are from the start of the new-format header.
            if (ReadString(cache, keyOffset) is not { } name || ReadString(cache, valueOffset) is not { } path
                || name.Length == 0 || name.Contains('/', StringComparison.Ordinal) || !path.StartsWith('/'))
            {
                continue;
            }

            paths.TryAdd(name, path); // the interpreter takes the first match; ldconfig sorts best first
        }

        return new LdSoCache(paths);
    }

    /// <summary>Where the new-format table starts: at 0, or after the old table, 8-byte aligned as ldconfig writes it.</summary>
    private static int FindNewFormat(ReadOnlySpan<byte> bytes)
    {
        if (StartsWith(bytes, NewMagic))
        {
            return 0;
        }

        if (!StartsWith(bytes, OldMagic) || bytes.Length < OldHeaderSize)
        {
            return -1;
        }

        uint oldCount = BinaryPrimitives.ReadUInt32LittleEndian(bytes[12..]);
        long end = OldHeaderSize + ((long)oldCount * OldEntrySize);
        long aligned = (end + 7) & ~7L;
        return aligned <= bytes.Length - NewHeaderSize && StartsWith(bytes[(int)aligned..], NewMagic) ? (int)aligned : -1;
    }

    private static bool StartsWith(ReadOnlySpan<byte> bytes, string magic) =>
        bytes.Length >= magic.Length && bytes[..magic.Length].SequenceEqual(Encoding.ASCII.GetBytes(magic));

    /// <summary>The NUL-terminated string at <paramref name="untrustedOffset"/>, or null when it does not end inside the file.</summary>
    private static string? ReadString(ReadOnlySpan<byte> cache, uint untrustedOffset)
    {
        if (untrustedOffset >= (uint)cache.Length)
        {
            return null;
        }

        ReadOnlySpan<byte> rest = cache[(int)untrustedOffset..];
        int end = rest.IndexOf((byte)0);
        if (end < 0 || end > 4096)
        {
            return null;
        }

        try
        {
            return new UTF8Encoding(false, true).GetString(rest[..end]);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }
}
