using Donjon.Abstractions.Images;
using Donjon.Abstractions.Measurement;

namespace Donjon.Backends.Sdk.Measurement;

/// <summary>
/// One page-aligned region of a keep's initial memory, as a backend's layout places it for
/// <see cref="KeepPageWalker"/>: the region's bytes are <see cref="Data"/> at <see cref="DataOffset"/>, zero elsewhere.
/// </summary>
/// <remarks>
/// This file is host-independent: it is compiled into the host and, as linked source, into the backends that measure
/// (<c>sgx</c>, <c>sev</c>), which never reference the host assembly.
/// </remarks>
/// <param name="Name">What the region is, for the measurement's report (for example <c>shim</c>).</param>
/// <param name="Address">Its first address in the keep's measured address space, page-aligned.</param>
/// <param name="Size">Its size in bytes, a non-zero whole number of pages.</param>
/// <param name="Permissions">The access rights of its pages.</param>
/// <param name="Kind">
/// How its pages are measured. A <see cref="KeepPageKind.Measured"/> region's pages that are all zero are fed as
/// <see cref="KeepPageKind.Zero"/> pages; a <see cref="KeepPageKind.Zero"/> region has no data.
/// </param>
/// <param name="DataOffset">Where <see cref="Data"/> starts inside the region, in bytes.</param>
/// <param name="Data">The region's non-zero bytes; the rest of the region is zero.</param>
public sealed record KeepRegion(
    string Name,
    ulong Address,
    ulong Size,
    MemoryPermissions Permissions,
    KeepPageKind Kind,
    ulong DataOffset,
    ReadOnlyMemory<byte> Data)
{
    /// <summary>A region without data: all zero, or contents that the measurement does not cover.</summary>
    /// <param name="name">What the region is.</param>
    /// <param name="address">Its first address, page-aligned.</param>
    /// <param name="size">Its size in bytes, a whole number of pages.</param>
    /// <param name="permissions">The access rights of its pages.</param>
    /// <param name="kind">How its pages are measured.</param>
    /// <returns>The region.</returns>
    public static KeepRegion Empty(string name, ulong address, ulong size, MemoryPermissions permissions, KeepPageKind kind) =>
        new(name, address, size, permissions, kind, 0, ReadOnlyMemory<byte>.Empty);

    /// <summary>A region holding <paramref name="data"/> from its start, rounded up to whole pages.</summary>
    /// <param name="name">What the region is.</param>
    /// <param name="address">Its first address, page-aligned.</param>
    /// <param name="permissions">The access rights of its pages.</param>
    /// <param name="kind">How its pages are measured.</param>
    /// <param name="data">Its bytes; at least one.</param>
    /// <returns>The region.</returns>
    public static KeepRegion Of(string name, ulong address, MemoryPermissions permissions, KeepPageKind kind, ReadOnlyMemory<byte> data) =>
        new(name, address, KeepPageWalker.PagesFor((ulong)data.Length) * KeepPageWalker.PageSize, permissions, kind, 0, data);
}
