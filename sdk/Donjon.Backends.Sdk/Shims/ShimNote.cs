using System.Buffers.Binary;
using System.Text;

namespace Donjon.Backends.Sdk.Shims;

/// <summary>
/// Reads the protocol version a shim speaks from its ELF note (docs/protocol.md §4): name "Donjon", type 1,
/// descriptor {u16 major, u16 minor, u32 reserved}.
/// </summary>
public static class ShimNote
{
    private const uint PtNote = 4;
    private const uint NoteType = 1;

    /// <summary>
    /// The "shim" configuration check every backend with a shim makes: the file exists and speaks the host's
    /// major protocol version.
    /// </summary>
    public static Donjon.Abstractions.Backends.Probe Check(string path, int hostMajor, int hostMinor)
    {
        const string Name = "shim";
        if (!File.Exists(path))
        {
            return Donjon.Abstractions.Backends.Probe.Fail(Name, $"{path} is missing", "Build the plugin ('dotnet build' at the repository root builds the shim with gcc and binutils).");
        }

        (Version? version, string? problem) = Read(path);
        if (version is null)
        {
            return Donjon.Abstractions.Backends.Probe.Fail(Name, problem!, "Rebuild the shim ('dotnet build'); it must carry the Donjon protocol note.");
        }

        return version.Major == hostMajor
            ? Donjon.Abstractions.Backends.Probe.Pass(Name, $"{path} speaks protocol {version.ToString(2)}")
            : Donjon.Abstractions.Backends.Probe.Fail(Name, $"{path} speaks protocol {version.ToString(2)}, but this host speaks {hostMajor}.{hostMinor}",
                "Rebuild the shim from the same source as the host ('dotnet build').");
    }

    /// <summary>Returns the shim's protocol version, or a sentence saying why it cannot be read.</summary>
    public static (Version? Version, string? Problem) Read(string path)
    {
        byte[] file;
        try
        {
            file = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (null, $"cannot read {path}: {e.Message}");
        }

        ReadOnlySpan<byte> bytes = file;
        if (bytes.Length < 64 || !bytes[..4].SequenceEqual("\u007fELF"u8) || bytes[4] != 2)
        {
            return (null, $"{path} is not a 64-bit ELF file");
        }

        ulong phoff = BinaryPrimitives.ReadUInt64LittleEndian(bytes[32..]);
        int phentsize = BinaryPrimitives.ReadUInt16LittleEndian(bytes[54..]);
        int phnum = BinaryPrimitives.ReadUInt16LittleEndian(bytes[56..]);
        for (int i = 0; i < phnum; i++)
        {
            ulong at = phoff + ((ulong)i * (ulong)phentsize);
            if (phentsize < 56 || at + 56 > (ulong)bytes.Length)
            {
                break;
            }

            ReadOnlySpan<byte> ph = bytes.Slice((int)at, 56);
            if (BinaryPrimitives.ReadUInt32LittleEndian(ph) != PtNote)
            {
                continue;
            }

            ulong offset = BinaryPrimitives.ReadUInt64LittleEndian(ph[8..]);
            ulong size = BinaryPrimitives.ReadUInt64LittleEndian(ph[32..]);
            if (offset > (ulong)bytes.Length || size > (ulong)bytes.Length - offset)
            {
                continue;
            }

            Version? version = FindInNotes(bytes.Slice((int)offset, (int)size));
            if (version is not null)
            {
                return (version, null);
            }
        }

        return (null, $"{path} has no Donjon protocol note");
    }

    private static Version? FindInNotes(ReadOnlySpan<byte> notes)
    {
        while (notes.Length >= 12)
        {
            uint nameSize = BinaryPrimitives.ReadUInt32LittleEndian(notes);
            uint descSize = BinaryPrimitives.ReadUInt32LittleEndian(notes[4..]);
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(notes[8..]);
            ulong nameEnd = 12 + Align4(nameSize);
            ulong descEnd = nameEnd + Align4(descSize);
            if (descEnd > (ulong)notes.Length)
            {
                return null;
            }

            ReadOnlySpan<byte> name = notes.Slice(12, (int)nameSize).TrimEnd((byte)0);
            if (type == NoteType && descSize >= 4 && Encoding.ASCII.GetString(name) == "Donjon")
            {
                ReadOnlySpan<byte> desc = notes.Slice((int)nameEnd, (int)descSize);
                return new Version(BinaryPrimitives.ReadUInt16LittleEndian(desc), BinaryPrimitives.ReadUInt16LittleEndian(desc[2..]));
            }

            notes = notes[(int)descEnd..];
        }

        return null;
    }

    private static ulong Align4(uint value) => ((ulong)value + 3) & ~3UL;
}
