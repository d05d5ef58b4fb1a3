using System.Buffers.Binary;
using System.Security.Cryptography;
using Donjon.Abstractions.Images;
using Donjon.Abstractions.Measurement;

namespace Donjon.Backends.Sdk.Measurement;

/// <summary>
/// A shim binary as a keep loads it: the pages of its loadable segments (<c>PT_LOAD</c>), relative to its lowest
/// one, with their permissions, and its entry point. A layout places the shim at a page-aligned address of its
/// choosing: a position-independent shim anywhere, a guest kernel where its physical addresses say.
/// </summary>
/// <remarks>
/// Reads the 64-byte ELF header and the program headers itself (the backends that measure cannot use the host's ELF
/// loader). A page that two segments share gets the union of their permissions and the bytes of both, as the host's
/// segment mapper does for workloads. Host-independent: also compiled into the <c>sgx</c> and <c>sev</c> backends.
/// </remarks>
public sealed class ShimImage
{
    /// <summary>The largest span of a shim's segments, in bytes.</summary>
    public const ulong MaxSpan = 16UL << 20;

    private const uint PT_LOAD = 1;
    private readonly byte[] _memory;
    private readonly MemoryPermissions[] _pagePermissions;
    private readonly bool[] _pageLoaded;

    private ShimImage(string name, string sha256, ulong linkBase, ulong entryOffset, byte[] memory, MemoryPermissions[] pagePermissions, bool[] pageLoaded)
    {
        Name = name;
        LinkBase = linkBase;
        Sha256 = sha256;
        EntryOffset = entryOffset;
        _memory = memory;
        _pagePermissions = pagePermissions;
        _pageLoaded = pageLoaded;
    }

    /// <summary>Where the shim came from (its path), for the measurement's notes.</summary>
    public string Name { get; }

    /// <summary>The SHA-256 of the whole shim file, in lowercase hexadecimal.</summary>
    public string Sha256 { get; }

    /// <summary>The address the file places its first page at (0 for a position-independent shim).</summary>
    public ulong LinkBase { get; }

    /// <summary>The entry point's offset from the shim's first page.</summary>
    public ulong EntryOffset { get; }

    /// <summary>The size of the shim in memory, from its first page to the end of its last, in bytes.</summary>
    public ulong Span => (ulong)_memory.Length;

    /// <summary>Reads a shim from the bytes of its ELF file.</summary>
    /// <param name="name">Where it came from, for messages.</param>
    /// <param name="file">The whole file.</param>
    /// <param name="placement">
    /// Which addresses place the segments relative to one another: their virtual addresses (<c>p_vaddr</c>, how a
    /// process or an enclave maps a position-independent shim), or their physical ones (<c>p_paddr</c>, how QEMU
    /// loads a guest kernel). They are the same for a position-independent shim.
    /// </param>
    /// <returns>The shim.</returns>
    /// <exception cref="InvalidOperationException">The file is not a 64-bit little-endian x86-64 ELF executable with loadable segments inside it.</exception>
    public static ShimImage Parse(string name, ReadOnlyMemory<byte> file, ShimPlacement placement = ShimPlacement.VirtualAddresses)
    {
        ReadOnlySpan<byte> bytes = file.Span;
        string sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (bytes.Length < 64 || bytes[0] != 0x7F || bytes[1] != (byte)'E' || bytes[2] != (byte)'L' || bytes[3] != (byte)'F')
        {
            throw Bad(name, "it is not an ELF file");
        }

        ushort type = BinaryPrimitives.ReadUInt16LittleEndian(bytes[0x10..]);
        ushort machine = BinaryPrimitives.ReadUInt16LittleEndian(bytes[0x12..]);
        if (bytes[4] != 2 || bytes[5] != 1 || machine != 62 || (type != 2 && type != 3))
        {
            throw Bad(name, "it is not a 64-bit little-endian x86-64 executable (ELFCLASS64, ELFDATA2LSB, EM_X86_64, ET_EXEC or ET_DYN)");
        }

        ulong entry = BinaryPrimitives.ReadUInt64LittleEndian(bytes[0x18..]);
        ulong headerOffset = BinaryPrimitives.ReadUInt64LittleEndian(bytes[0x20..]);
        ushort headerSize = BinaryPrimitives.ReadUInt16LittleEndian(bytes[0x36..]);
        ushort headerCount = BinaryPrimitives.ReadUInt16LittleEndian(bytes[0x38..]);
        if (headerSize < 56 || headerOffset > (ulong)bytes.Length || (ulong)headerSize * headerCount > (ulong)bytes.Length - headerOffset)
        {
            throw Bad(name, $"its program headers (e_phoff {headerOffset}, e_phentsize {headerSize}, e_phnum {headerCount}) are not inside the file");
        }

        var loads = new List<(ulong Offset, ulong Address, ulong Virtual, ulong FileSize, ulong MemorySize, MemoryPermissions Permissions)>();
        for (int i = 0; i < headerCount; i++)
        {
            ReadOnlySpan<byte> header = bytes.Slice((int)headerOffset + (i * headerSize), headerSize);
            if (BinaryPrimitives.ReadUInt32LittleEndian(header) != PT_LOAD)
            {
                continue;
            }

            uint flags = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
            ulong offset = BinaryPrimitives.ReadUInt64LittleEndian(header[0x08..]);
            ulong virtualAddress = BinaryPrimitives.ReadUInt64LittleEndian(header[0x10..]);
            ulong address = placement == ShimPlacement.PhysicalAddresses ? BinaryPrimitives.ReadUInt64LittleEndian(header[0x18..]) : virtualAddress;
            ulong fileSize = BinaryPrimitives.ReadUInt64LittleEndian(header[0x20..]);
            ulong memorySize = BinaryPrimitives.ReadUInt64LittleEndian(header[0x28..]);
            if (memorySize == 0)
            {
                continue;
            }

            if (fileSize > memorySize || offset > (ulong)bytes.Length || fileSize > (ulong)bytes.Length - offset
                || address > ulong.MaxValue - memorySize || virtualAddress > ulong.MaxValue - memorySize)
            {
                throw Bad(name, $"PT_LOAD #{i} (offset 0x{offset:x}, vaddr 0x{address:x}, filesz 0x{fileSize:x}, memsz 0x{memorySize:x}) does not fit the file or the address space");
            }

            var permissions = ((flags & 4) != 0 ? MemoryPermissions.Read : MemoryPermissions.None)
                | ((flags & 2) != 0 ? MemoryPermissions.Write : MemoryPermissions.None)
                | ((flags & 1) != 0 ? MemoryPermissions.Execute : MemoryPermissions.None);
            loads.Add((offset, address, virtualAddress, fileSize, memorySize, permissions));
        }

        if (loads.Count == 0)
        {
            throw Bad(name, "it has no loadable segment (PT_LOAD)");
        }

        ulong linkBase = KeepPageWalker.AlignDown(loads.Min(load => load.Address));
        ulong end = loads.Max(load => load.Address + load.MemorySize);
        ulong span = KeepPageWalker.PagesFor(end - linkBase) * KeepPageWalker.PageSize;
        if (span > MaxSpan)
        {
            throw Bad(name, $"its segments span 0x{span:x} bytes, more than a shim may (0x{MaxSpan:x})");
        }

        // e_entry is a virtual address; place it through the segment that holds it.
        var holder = loads.FirstOrDefault(load => entry >= load.Virtual && entry - load.Virtual < load.MemorySize);
        if (holder.MemorySize == 0)
        {
            throw Bad(name, $"its entry point 0x{entry:x} lies outside its segments");
        }

        ulong placedEntry = holder.Address + (entry - holder.Virtual);

        byte[] memory = new byte[span];
        int pages = (int)(span / KeepPageWalker.PageSize);
        var pagePermissions = new MemoryPermissions[pages];
        var pageLoaded = new bool[pages];
        foreach (var load in loads)
        {
            bytes.Slice((int)load.Offset, (int)load.FileSize).CopyTo(memory.AsSpan((int)(load.Address - linkBase)));
            int first = (int)((load.Address - linkBase) / KeepPageWalker.PageSize);
            int last = (int)((load.Address + load.MemorySize - 1 - linkBase) / KeepPageWalker.PageSize);
            for (int page = first; page <= last; page++)
            {
                pagePermissions[page] |= load.Permissions;
                pageLoaded[page] = true;
            }
        }

        return new ShimImage(name, sha256, linkBase, placedEntry - linkBase, memory, pagePermissions, pageLoaded);
    }

    /// <summary>The shim's pages placed at <paramref name="baseAddress"/>: one region per run of pages with the same permissions.</summary>
    /// <param name="baseAddress">Where the shim's first page goes, page-aligned.</param>
    /// <param name="name">The regions' name.</param>
    /// <returns>The regions, measured.</returns>
    public IEnumerable<KeepRegion> Regions(ulong baseAddress, string name)
    {
        int page = 0;
        while (page < _pageLoaded.Length)
        {
            if (!_pageLoaded[page])
            {
                page++;
                continue;
            }

            int first = page;
            while (page < _pageLoaded.Length && _pageLoaded[page] && _pagePermissions[page] == _pagePermissions[first])
            {
                page++;
            }

            int offset = first * KeepPageWalker.PageSize;
            int length = (page - first) * KeepPageWalker.PageSize;
            yield return new KeepRegion(name, baseAddress + (ulong)offset, (ulong)length, _pagePermissions[first], KeepPageKind.Measured, 0,
                _memory.AsMemory(offset, length));
        }
    }

    private static InvalidOperationException Bad(string name, string problem) =>
        new($"the shim {name} cannot be measured: {problem}. Rebuild it ('dotnet build' at the repository root).");
}

/// <summary>Which addresses of a shim's ELF file place its segments (see <see cref="ShimImage.Parse"/>).</summary>
public enum ShimPlacement
{
    /// <summary>The segments' virtual addresses (<c>p_vaddr</c>).</summary>
    VirtualAddresses = 0,

    /// <summary>The segments' physical addresses (<c>p_paddr</c>), as QEMU loads a guest kernel.</summary>
    PhysicalAddresses = 1,
}
