using Donjon.Abstractions.Images;

namespace Donjon.Abstractions.Measurement;

/// <summary>
/// Receives a keep's initial memory one 4096-byte page at a time, in the fixed order its loader produces it. One
/// loader feeds two kinds of sink: a measurer, which computes the launch measurement, and a launcher, which gives
/// the same pages to the hardware (EADD on SGX, SNP_LAUNCH_UPDATE on SEV-SNP). Both therefore see the same pages.
/// </summary>
/// <remarks>
/// The loader calls <see cref="AddPage"/> once per page, in strictly ascending <c>address</c> order, then
/// <see cref="Finish"/> once. A sink may refuse a page it cannot take (for example a VMSA page in an SGX enclave)
/// with <see cref="ArgumentException"/>.
/// </remarks>
public interface IKeepPageSink
{
    /// <summary>Adds the next page of the keep's initial memory.</summary>
    /// <param name="address">The page's address in the keep's measured address space, page-aligned (see <see cref="MeasuredRegion.Address"/>).</param>
    /// <param name="contents">
    /// The page's 4096 bytes, or an empty span for a page of zeros. For an <see cref="KeepPageKind.Unmeasured"/>
    /// page these are the bytes a launcher loads, which a measurer ignores.
    /// </param>
    /// <param name="permissions">The access rights the page is given (none for a control page).</param>
    /// <param name="kind">How the page is measured.</param>
    void AddPage(ulong address, ReadOnlySpan<byte> contents, MemoryPermissions permissions, KeepPageKind kind);

    /// <summary>Ends the sequence: a measurer computes its final value, a launcher completes the launch.</summary>
    void Finish();
}

/// <summary>How a page of a keep's initial memory is measured.</summary>
public enum KeepPageKind
{
    /// <summary>Its contents are measured (SEV-SNP NORMAL page; SGX EADD then EEXTEND of every 256-byte chunk).</summary>
    Measured = 0,

    /// <summary>It is all zero and measured as such (SEV-SNP ZERO page; SGX EADD then EEXTEND of zeros).</summary>
    Zero = 1,

    /// <summary>
    /// It is present from launch but its contents are not measured: only its place and permissions are (SEV-SNP
    /// UNMEASURED page; SGX EADD without EEXTEND). Used for runtime inputs and for memory the shim clears before use.
    /// </summary>
    Unmeasured = 2,

    /// <summary>An SGX thread control structure (TCS): EADD with page type PT_TCS, then EEXTEND of its contents.</summary>
    ThreadControl = 3,

    /// <summary>An SEV-SNP VM save area (VMSA): the initial register state of a vCPU, measured by its SHA-384.</summary>
    VcpuState = 4,
}
