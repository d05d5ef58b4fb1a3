using Donjon.Abstractions.Images;
using Donjon.Abstractions.Sessions;

namespace Donjon.Host.Images;

/// <summary>
/// Chooses where a keep's regions lie, much as Linux's ASLR does for a PIE on x86-64: the image at a random
/// page-aligned base above <c>0x5555_5555_4000</c>, the heap (<c>brk</c>) a random gap after the image, the stack
/// a random distance below <see cref="StackCeiling"/>, and the anonymous <c>mmap</c> region a random gap below the
/// stack. All randomness comes from the given <see cref="Random"/>, so a seed reproduces a layout.
/// </summary>
/// <remarks>
/// The stack and the <c>mmap</c> region stay below <see cref="StackCeiling"/>, not below the top of user space as on
/// Linux, because the top is where the kernel itself puts the process keep's shim, its shared block and its initial
/// stack (a random place in the top 1 TiB and some): a workload region planned there met them about once in a thousand
/// runs, and the shim then had to refuse the image.
/// </remarks>
internal static class AddressSpaceLayoutPlanner
{
    /// <summary>The first address above user space (one guard page below 2^47, as on Linux).</summary>
    public const ulong UserAddressSpaceEnd = 0x7fff_ffff_f000;

    /// <summary>
    /// The highest address the planned stack reaches: 2 TiB below the top of user space, under the window where Linux
    /// places a process's own stack (up to 16 GiB below the top) and its mmap area (up to 1 TiB below that, plus the
    /// stack gap), so that nothing the kernel gave the process keep's shim can be in the way.
    /// </summary>
    public const ulong StackCeiling = 0x7dff_ffff_f000;

    /// <summary>The lowest load base: Linux's <c>ELF_ET_DYN_BASE</c> (two thirds of the 47-bit space), page-aligned.</summary>
    public const ulong LoadBaseWindowStart = 0x5555_5555_4000;

    /// <summary>How many random bits of page number the load base gets (Linux's default <c>mmap_rnd_bits</c>): 1 TiB of range.</summary>
    public const int LoadBaseRandomPageBits = 28;

    /// <summary>The largest random gap between the image's end and the heap, in bytes (Linux's brk randomisation).</summary>
    public const ulong MaxHeapGapSize = 32UL << 20;

    /// <summary>How many random bits of page number the stack top gets (Linux's <c>STACK_RND_MASK</c>): 16 GiB of range.</summary>
    public const int StackTopRandomPageBits = 22;

    /// <summary>The fixed part of the gap between the stack and the <c>mmap</c> region, in bytes.</summary>
    public const ulong StackToMmapGuardSize = 1UL << 20;

    /// <summary>How many random bits of page number the gap between the stack and the <c>mmap</c> region gets: 1 TiB of range.</summary>
    public const int MmapGapRandomPageBits = 28;

    /// <summary>How many random bits of page number the gap between a dynamic program's interpreter and the <c>mmap</c> region gets: 4 GiB of range.</summary>
    public const int InterpreterGapRandomPageBits = 20;

    /// <summary>The largest stack Donjon prepares, in bytes (1 GiB).</summary>
    public const ulong MaxStackSize = 1UL << 30;

    private const ulong PageSize = 4096;

    /// <summary>
    /// Plans the layout of a keep.
    /// </summary>
    /// <param name="highestVirtualEnd">The highest <c>p_vaddr + p_memsz</c> of the image's loadable segments.</param>
    /// <param name="loadAlignment">The alignment the load base needs: the largest <c>p_align</c>, at least a page.</param>
    /// <param name="limits">The keep's limits: the stack size, and the memory size, which bounds heap and <c>mmap</c>.</param>
    /// <param name="random">The source of randomness, seeded from <paramref name="seed"/>.</param>
    /// <param name="seed">The seed <paramref name="random"/> was made from, recorded in the layout.</param>
    /// <param name="fixedAddress">
    /// Whether the image is an <c>ET_EXEC</c>, loaded at its link addresses (load base 0); its
    /// <paramref name="highestVirtualEnd"/> is then absolute, below <see cref="Elf.ElfInspector.FixedAddressCeiling"/>.
    /// </param>
    /// <param name="interpreterSpan">The highest <c>p_vaddr + p_memsz</c> of a dynamic program's interpreter; 0 when there is none.</param>
    /// <param name="interpreterAlignment">The alignment the interpreter's base needs: its largest <c>p_align</c>, at least a page.</param>
    /// <exception cref="KeepImageException">The limits do not fit in the address space.</exception>
    public static KeepAddressPlan Plan(
        ulong highestVirtualEnd, ulong loadAlignment, KeepLimits limits, Random random, ulong seed,
        bool fixedAddress = false, ulong interpreterSpan = 0, ulong interpreterAlignment = PageSize)
    {
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentNullException.ThrowIfNull(random);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(highestVirtualEnd, fixedAddress ? Elf.ElfInspector.FixedAddressCeiling : Elf.ElfInspector.MaxImageSpan);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(interpreterSpan, Elf.ElfInspector.MaxImageSpan);
        if (!ulong.IsPow2(interpreterAlignment) || interpreterAlignment < PageSize || interpreterAlignment > Elf.ElfInspector.MaxSegmentAlignment)
        {
            throw new ArgumentOutOfRangeException(nameof(interpreterAlignment), interpreterAlignment, "the interpreter's alignment must be a power of two between a page and 1 GiB");
        }
        if (!ulong.IsPow2(loadAlignment) || loadAlignment < PageSize || loadAlignment > Elf.ElfInspector.MaxSegmentAlignment)
        {
            throw new ArgumentOutOfRangeException(nameof(loadAlignment), loadAlignment, "the load alignment must be a power of two between a page and 1 GiB");
        }

        if (limits.StackSize == 0 || limits.StackSize > MaxStackSize)
        {
            throw new KeepImageException(
                $"the stack size limit (limits.stackSize = {limits.StackSize} bytes) must be between 1 and {MaxStackSize} bytes; change it in plugins.json");
        }

        // The random draws are made in the same order whether or not the image is fixed, so a seed gives a PIE and an
        // ET_EXEC the same heap gap, stack and mmap region.
        ulong randomBase = AlignDown(LoadBaseWindowStart + RandomPages(random, LoadBaseRandomPageBits), loadAlignment);
        ulong loadBase = fixedAddress ? 0 : randomBase;
        ulong imageEnd = AlignUp(loadBase + highestVirtualEnd, PageSize);
        ulong heapBase = imageEnd + RandomPages(random, 0, MaxHeapGapSize / PageSize);
        ulong stackSize = AlignUp(limits.StackSize, PageSize);
        ulong stackTop = StackCeiling - RandomPages(random, StackTopRandomPageBits);
        ulong stackBase = stackTop - stackSize;
        ulong mmapEnd = stackBase - StackToMmapGuardSize - RandomPages(random, MmapGapRandomPageBits);

        // Both the heap and the mmap region may grow to the whole memory limit; the shim enforces the total.
        ulong memorySize = AlignDown(limits.MemorySize, PageSize);
        ulong heapMaxSize = memorySize;
        if (mmapEnd <= heapBase || heapMaxSize > mmapEnd - heapBase || memorySize > mmapEnd - heapBase - heapMaxSize)
        {
            throw new KeepImageException(
                $"the memory limit (limits.memorySize = {limits.MemorySize} bytes) is too large: the heap and the mmap region, each that large, do not fit between the workload image and the stack; lower it in plugins.json");
        }

        ulong mmapBase = mmapEnd - memorySize;

        // A dynamic program's interpreter lies a random gap below the mmap region, as Linux maps it at the mmap base.
        ulong interpreterBase = 0;
        if (interpreterSpan != 0)
        {
            ulong gap = RandomPages(random, 1, 1UL << InterpreterGapRandomPageBits);
            ulong span = AlignUp(interpreterSpan, PageSize);
            if (mmapBase - heapBase - heapMaxSize < span + gap + interpreterAlignment)
            {
                throw new KeepImageException(
                    $"the memory limit (limits.memorySize = {limits.MemorySize} bytes) is too large: the heap, the interpreter and the mmap region do not fit between the workload image and the stack; lower it in plugins.json");
            }

            interpreterBase = AlignDown(mmapBase - gap - span, interpreterAlignment);
        }

        var layout = new AddressSpaceLayout(loadBase, imageEnd, heapBase, heapMaxSize, mmapBase, mmapEnd, seed);
        return new KeepAddressPlan(layout, stackBase, stackSize, interpreterBase);
    }

    /// <summary>A random multiple of the page size below 2^<paramref name="pageBits"/> pages.</summary>
    private static ulong RandomPages(Random random, int pageBits) => RandomPages(random, 0, 1UL << pageBits);

    /// <summary>A random multiple of the page size, from <paramref name="minPageCount"/> pages up to but not including <paramref name="maxPageCount"/>.</summary>
    private static ulong RandomPages(Random random, ulong minPageCount, ulong maxPageCount) =>
        (ulong)random.NextInt64((long)minPageCount, (long)maxPageCount) * PageSize;

    private static ulong AlignDown(ulong value, ulong alignment) => value & ~(alignment - 1);

    private static ulong AlignUp(ulong value, ulong alignment) => (value + alignment - 1) & ~(alignment - 1);
}

/// <summary>The planned address space of a keep: the layout the contract records, plus the stack region.</summary>
/// <param name="Layout">The image, heap and mmap regions.</param>
/// <param name="StackBase">The stack region's lowest address, page-aligned.</param>
/// <param name="StackSize">The stack region's size in bytes, a whole number of pages.</param>
/// <param name="InterpreterBase">Where a dynamic program's interpreter is loaded (its <c>AT_BASE</c>), page-aligned; 0 without one.</param>
internal sealed record KeepAddressPlan(AddressSpaceLayout Layout, ulong StackBase, ulong StackSize, ulong InterpreterBase = 0);
