namespace Donjon.Abstractions.Images;

/// <summary>
/// Everything that can be known about a keep before it is launched, computed by the host and identical for
/// every backend. The shim only carries it out: it maps <see cref="Segments"/>, copies <see cref="Stack"/>
/// into place, and jumps to <see cref="EntryPoint"/>.
/// </summary>
/// <param name="Workload">The binary this image was built from.</param>
/// <param name="Layout">Where the keep's regions lie in the workload's address space.</param>
/// <param name="Segments">The workload's loadable segments, page-aligned and in address order.</param>
/// <param name="EntryPoint">The absolute address where the workload starts.</param>
/// <param name="ProgramHeaders">Where the program headers are, for <c>AT_PHDR</c>, <c>AT_PHENT</c> and <c>AT_PHNUM</c>.</param>
/// <param name="Tls">The workload's TLS template (<c>PT_TLS</c>), when it has one.</param>
/// <param name="Stack">The initial stack: its place, its size and the bytes the host prepared at its top.</param>
/// <param name="Configuration">
/// The keep's configuration page, measured with the image: the marshalling table and limits, in the format
/// that <c>docs/protocol.md</c> defines. Backends carry it unchanged.
/// </param>
public sealed record KeepImage(
    WorkloadIdentity Workload,
    AddressSpaceLayout Layout,
    IReadOnlyList<SegmentMapping> Segments,
    ulong EntryPoint,
    ProgramHeaderTable ProgramHeaders,
    TlsTemplate? Tls,
    StackImage Stack,
    ReadOnlyMemory<byte> Configuration)
{
    /// <summary>
    /// The interpreter (<c>PT_INTERP</c>) of a dynamically linked workload, loaded into the image beside it (its
    /// segments are among <see cref="Segments"/>, and <see cref="EntryPoint"/> is its entry); <see langword="null"/>
    /// for a static program. Its <see cref="WorkloadIdentity.Path"/> is the path the workload names, as the keep sees it.
    /// </summary>
    public WorkloadIdentity? Interpreter { get; init; }
}

/// <summary>The workload binary a keep image was built from.</summary>
/// <param name="Path">The path the user gave, made absolute.</param>
/// <param name="Sha256">The SHA-256 of the whole file, in lowercase hexadecimal.</param>
/// <param name="FileSize">The file's size in bytes.</param>
public sealed record WorkloadIdentity(string Path, string Sha256, long FileSize);

/// <summary>Where a keep's regions lie in the workload's address space. All addresses are page-aligned.</summary>
/// <param name="LoadBase">The address the workload's first byte (virtual address 0 of the ELF) is loaded at.</param>
/// <param name="ImageEnd">The first address after the workload's highest segment.</param>
/// <param name="HeapBase">Where <c>brk</c> starts.</param>
/// <param name="HeapMaxSize">How far <c>brk</c> may grow, in bytes.</param>
/// <param name="MmapBase">The lowest address anonymous <c>mmap</c> may use.</param>
/// <param name="MmapEnd">The first address anonymous <c>mmap</c> may not use.</param>
/// <param name="Seed">The seed the layout was drawn from; the same seed gives the same layout.</param>
public sealed record AddressSpaceLayout(
    ulong LoadBase,
    ulong ImageEnd,
    ulong HeapBase,
    ulong HeapMaxSize,
    ulong MmapBase,
    ulong MmapEnd,
    ulong Seed);

/// <summary>One page-aligned region to map for a loadable segment.</summary>
/// <param name="Address">The region's first address, page-aligned.</param>
/// <param name="Size">The region's size in bytes, a whole number of pages.</param>
/// <param name="Permissions">How the region may be accessed once mapped.</param>
/// <param name="DataOffset">Where in the region <see cref="Data"/> starts, in bytes (the segment's offset within its first page).</param>
/// <param name="Data">The bytes from the file; the rest of the region (bss included) is zero.</param>
public sealed record SegmentMapping(ulong Address, ulong Size, MemoryPermissions Permissions, ulong DataOffset, ReadOnlyMemory<byte> Data);

/// <summary>Access rights of a mapped region.</summary>
[Flags]
public enum MemoryPermissions
{
    /// <summary>No access.</summary>
    None = 0,

    /// <summary>The region may be read.</summary>
    Read = 1,

    /// <summary>The region may be written.</summary>
    Write = 2,

    /// <summary>The region may be executed.</summary>
    Execute = 4,
}

/// <summary>The program headers as the workload sees them in memory.</summary>
/// <param name="Address">The absolute address of the first program header (<c>AT_PHDR</c>).</param>
/// <param name="EntrySize">The size of one program header in bytes (<c>AT_PHENT</c>).</param>
/// <param name="Count">The number of program headers (<c>AT_PHNUM</c>).</param>
public sealed record ProgramHeaderTable(ulong Address, int EntrySize, int Count);

/// <summary>The workload's thread-local storage template, from <c>PT_TLS</c>.</summary>
/// <param name="Address">The absolute address of the initialised part of the template.</param>
/// <param name="FileSize">The size of the initialised part, in bytes.</param>
/// <param name="MemorySize">The size of the whole TLS block, in bytes.</param>
/// <param name="Alignment">The block's alignment, in bytes.</param>
public sealed record TlsTemplate(ulong Address, ulong FileSize, ulong MemorySize, ulong Alignment);

/// <summary>The workload's initial stack.</summary>
/// <param name="Base">The stack region's lowest address, page-aligned.</param>
/// <param name="Size">The stack region's size in bytes.</param>
/// <param name="IsExecutable">Whether <c>PT_GNU_STACK</c> asks for an executable stack.</param>
/// <param name="InitialPointer">The value of <c>rsp</c> when the workload starts; it points at <c>argc</c>.</param>
/// <param name="Contents">The bytes to place at <see cref="InitialPointer"/>: argc, argv, envp, auxv and the strings they point to.</param>
public sealed record StackImage(ulong Base, ulong Size, bool IsExecutable, ulong InitialPointer, ReadOnlyMemory<byte> Contents);
