using System.Buffers.Binary;

namespace Donjon.Host.Elf;

/// <summary>
/// Reads fixed-size ELF fields from a file's bytes in the file's byte order. Offsets come from untrusted
/// headers, so every read is bounds-checked: <see cref="Contains"/> answers without throwing, and a read outside
/// the file throws, which <see cref="ElfInspector"/> turns into a "corrupted ELF" rejection.
/// </summary>
/// <param name="bytes">The whole file.</param>
/// <param name="isLittleEndian">Whether the file is <c>ELFDATA2LSB</c>.</param>
internal readonly ref struct ElfFieldReader(ReadOnlySpan<byte> bytes, bool isLittleEndian)
{
    private readonly ReadOnlySpan<byte> _bytes = bytes;

    /// <summary>The file's size in bytes.</summary>
    public int Length => _bytes.Length;

    /// <summary>Whether the untrusted range [<paramref name="offset"/>, +<paramref name="size"/>) lies inside the file, without overflowing.</summary>
    public bool Contains(ulong offset, ulong size) =>
        offset <= (ulong)_bytes.Length && size <= (ulong)_bytes.Length - offset;

    /// <summary>The bytes of the untrusted range [<paramref name="offset"/>, +<paramref name="size"/>); throws when it is outside the file.</summary>
    public ReadOnlySpan<byte> Slice(ulong offset, ulong size)
    {
        if (!Contains(offset, size))
        {
            throw new InvalidDataException(
                $"bytes {ElfNames.Hex(offset)}..+{ElfNames.Hex(size)} lie beyond the end of the file ({ElfNames.Decimal((ulong)_bytes.Length)} bytes)");
        }

        return _bytes.Slice((int)offset, (int)size);
    }

    /// <summary>Reads one byte.</summary>
    public byte U8(ulong offset) => Slice(offset, 1)[0];

    /// <summary>Reads a 16-bit field.</summary>
    public ushort U16(ulong offset) => isLittleEndian
        ? BinaryPrimitives.ReadUInt16LittleEndian(Slice(offset, 2))
        : BinaryPrimitives.ReadUInt16BigEndian(Slice(offset, 2));

    /// <summary>Reads a 32-bit field.</summary>
    public uint U32(ulong offset) => isLittleEndian
        ? BinaryPrimitives.ReadUInt32LittleEndian(Slice(offset, 4))
        : BinaryPrimitives.ReadUInt32BigEndian(Slice(offset, 4));

    /// <summary>Reads a 64-bit field.</summary>
    public ulong U64(ulong offset) => isLittleEndian
        ? BinaryPrimitives.ReadUInt64LittleEndian(Slice(offset, 8))
        : BinaryPrimitives.ReadUInt64BigEndian(Slice(offset, 8));

    /// <summary>Reads an address-sized field: 64 bits in an <c>ELF64</c> file, 32 bits in an <c>ELF32</c> one.</summary>
    public ulong Word(ulong offset, bool is64Bit) => is64Bit ? U64(offset) : U32(offset);

    /// <summary>
    /// Reads a NUL-terminated string starting at <paramref name="offset"/> and ending at the latest at
    /// <paramref name="limit"/> (exclusive, clamped to the file), made printable; <see langword="null"/> when the
    /// start lies outside the file.
    /// </summary>
    public string? PrintableString(ulong offset, ulong limit)
    {
        ulong end = Math.Min(limit, (ulong)_bytes.Length);
        if (offset >= end)
        {
            return null;
        }

        ReadOnlySpan<byte> candidate = _bytes[(int)offset..(int)end];
        int terminator = candidate.IndexOf((byte)0);
        return ElfNames.Printable(terminator >= 0 ? candidate[..terminator] : candidate);
    }
}
