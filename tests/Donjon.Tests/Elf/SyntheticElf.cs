using System.Buffers.Binary;

namespace Donjon.Tests.Elf;

/// <summary>One program header of a <see cref="SyntheticElf"/>.</summary>
public sealed record SyntheticSegment(uint Type, uint Flags, ulong Offset, ulong VirtualAddress, ulong FileSize, ulong MemorySize, ulong Alignment);

/// <summary>
/// Writes small hand-made ELF files, so tests can produce exactly the defect they check (overlapping segments, an
/// entry outside code, a wrong <c>e_phentsize</c>...) on top of a file that is otherwise valid. By default it
/// makes a minimal runnable static-PIE: a read-only segment holding the headers, a code segment whose entry
/// calls <c>exit(0)</c>, a data segment with bss, and <c>PT_GNU_STACK</c>.
/// </summary>
public sealed class SyntheticElf
{
    public const uint PT_LOAD = 1;
    public const uint PT_DYNAMIC = 2;
    public const uint PT_INTERP = 3;
    public const uint PT_PHDR = 6;
    public const uint PT_TLS = 7;
    public const uint PT_GNU_STACK = 0x6474_e551;
    public const uint PF_X = 1;
    public const uint PF_W = 2;
    public const uint PF_R = 4;

    /// <summary><c>mov eax, 60; xor edi, edi; syscall</c>: exit(0).</summary>
    private static readonly byte[] ExitCode = [0xb8, 0x3c, 0x00, 0x00, 0x00, 0x31, 0xff, 0x0f, 0x05];

    public byte Class { get; set; } = 2;

    public byte Data { get; set; } = 1;

    public ushort Type { get; set; } = 3;

    public ushort Machine { get; set; } = 62;

    public ulong Entry { get; set; } = 0x1000;

    public ulong ProgramHeaderOffset { get; set; } = 64;

    public ushort? ProgramHeaderEntrySizeOverride { get; set; }

    public List<SyntheticSegment> Segments { get; } =
    [
        new(PT_LOAD, PF_R, 0, 0, 0x200, 0x200, 0x1000),
        new(PT_LOAD, PF_R | PF_X, 0x1000, 0x1000, 0x20, 0x20, 0x1000),
        new(PT_LOAD, PF_R | PF_W, 0x2000, 0x2000, 0x10, 0x800, 0x1000),
        new(PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, 0x10),
    ];

    /// <summary>Extra bytes to place in the file at given offsets after everything else is written.</summary>
    public List<(ulong Offset, byte[] Bytes)> Patches { get; } = [];

    private bool Is64Bit => Class != 1;

    private int HeaderSize => Is64Bit ? 64 : 52;

    private int ProgramHeaderSize => Is64Bit ? 56 : 32;

    /// <summary>Writes the file. Segment contents are filled with a recognisable pattern; the code segment starts with exit(0).</summary>
    public byte[] Build()
    {
        ulong fileSize = (ulong)HeaderSize + (ulong)(Segments.Count * ProgramHeaderSize);
        fileSize = Math.Max(fileSize, ProgramHeaderOffset + (ulong)(Segments.Count * ProgramHeaderSize));
        foreach (SyntheticSegment segment in Segments)
        {
            fileSize = Math.Max(fileSize, segment.Offset + segment.FileSize);
        }

        foreach ((ulong offset, byte[] bytes) in Patches)
        {
            fileSize = Math.Max(fileSize, offset + (ulong)bytes.Length);
        }

        byte[] file = new byte[fileSize];
        int headersEnd = (int)(ProgramHeaderOffset + (ulong)(Segments.Count * ProgramHeaderSize));
        foreach (SyntheticSegment segment in Segments)
        {
            for (ulong index = 0; index < segment.FileSize; index++)
            {
                ulong offset = segment.Offset + index;
                if (offset >= (ulong)headersEnd)
                {
                    file[offset] = (byte)(0x40 + (index % 64));
                }
            }
        }

        if (file.Length >= 0x1000 + ExitCode.Length)
        {
            ExitCode.CopyTo(file, 0x1000);
        }

        WriteHeader(file);
        for (int index = 0; index < Segments.Count; index++)
        {
            WriteProgramHeader(file, (int)ProgramHeaderOffset + (index * ProgramHeaderSize), Segments[index]);
        }

        foreach ((ulong offset, byte[] bytes) in Patches)
        {
            bytes.CopyTo(file, (int)offset);
        }

        return file;
    }

    private void WriteHeader(byte[] file)
    {
        file[0] = 0x7f;
        file[1] = (byte)'E';
        file[2] = (byte)'L';
        file[3] = (byte)'F';
        file[4] = Class;
        file[5] = Data;
        file[6] = 1;
        U16(file, 16, Type);
        U16(file, 18, Machine);
        U32(file, 20, 1);
        int word = Is64Bit ? 8 : 4;
        Word(file, 24, Entry);
        Word(file, 24 + word, ProgramHeaderOffset);
        Word(file, 24 + (2 * word), 0); // No section headers.
        int after = 24 + (3 * word) + 4;
        U16(file, after, (ushort)HeaderSize);
        U16(file, after + 2, ProgramHeaderEntrySizeOverride ?? (ushort)ProgramHeaderSize);
        U16(file, after + 4, (ushort)Segments.Count);
    }

    private void WriteProgramHeader(byte[] file, int offset, SyntheticSegment segment)
    {
        U32(file, offset, segment.Type);
        if (Is64Bit)
        {
            U32(file, offset + 4, segment.Flags);
            U64(file, offset + 8, segment.Offset);
            U64(file, offset + 16, segment.VirtualAddress);
            U64(file, offset + 24, segment.VirtualAddress);
            U64(file, offset + 32, segment.FileSize);
            U64(file, offset + 40, segment.MemorySize);
            U64(file, offset + 48, segment.Alignment);
        }
        else
        {
            U32(file, offset + 4, (uint)segment.Offset);
            U32(file, offset + 8, (uint)segment.VirtualAddress);
            U32(file, offset + 12, (uint)segment.VirtualAddress);
            U32(file, offset + 16, (uint)segment.FileSize);
            U32(file, offset + 20, (uint)segment.MemorySize);
            U32(file, offset + 24, segment.Flags);
            U32(file, offset + 28, (uint)segment.Alignment);
        }
    }

    private void Word(byte[] file, int offset, ulong value)
    {
        if (Is64Bit)
        {
            U64(file, offset, value);
        }
        else
        {
            U32(file, offset, (uint)value);
        }
    }

    private void U16(byte[] file, int offset, ushort value)
    {
        if (Data == 2)
        {
            BinaryPrimitives.WriteUInt16BigEndian(file.AsSpan(offset), value);
        }
        else
        {
            BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(offset), value);
        }
    }

    private void U32(byte[] file, int offset, uint value)
    {
        if (Data == 2)
        {
            BinaryPrimitives.WriteUInt32BigEndian(file.AsSpan(offset), value);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(offset), value);
        }
    }

    private void U64(byte[] file, int offset, ulong value)
    {
        if (Data == 2)
        {
            BinaryPrimitives.WriteUInt64BigEndian(file.AsSpan(offset), value);
        }
        else
        {
            BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(offset), value);
        }
    }
}
