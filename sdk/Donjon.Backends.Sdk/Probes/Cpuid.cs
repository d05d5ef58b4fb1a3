using System.Buffers.Binary;
using System.Runtime.Intrinsics.X86;
using System.Text;

namespace Donjon.Backends.Sdk.Probes;

/// <summary>The four registers one <c>CPUID</c> instruction returns.</summary>
/// <param name="Eax">The value of EAX.</param>
/// <param name="Ebx">The value of EBX.</param>
/// <param name="Ecx">The value of ECX.</param>
/// <param name="Edx">The value of EDX.</param>
public readonly record struct CpuidRegisters(uint Eax, uint Ebx, uint Ecx, uint Edx);

/// <summary>
/// Reads CPUID through <see cref="X86Base.CpuId"/>. Every query is a single instruction (a VM exit under a
/// hypervisor, a few microseconds at most), so nothing is cached.
/// </summary>
/// <remarks>
/// Leaves above the maximum the CPU reports return unrelated data on Intel CPUs (the highest basic leaf), so
/// callers check <see cref="MaxBasicLeaf"/> or <see cref="MaxExtendedLeaf"/> before they query a leaf.
/// </remarks>
public static class Cpuid
{
    /// <summary>The first extended leaf, whose EAX is the highest extended leaf.</summary>
    public const uint ExtendedBase = 0x8000_0000;

    /// <summary>Whether this process runs on an x86 CPU, so that CPUID can be executed at all.</summary>
    public static bool IsAvailable => X86Base.IsSupported;

    /// <summary>Executes CPUID.</summary>
    /// <param name="leaf">The value of EAX.</param>
    /// <param name="subleaf">The value of ECX.</param>
    /// <returns>The registers the CPU returned.</returns>
    public static CpuidRegisters Query(uint leaf, uint subleaf = 0)
    {
        (int eax, int ebx, int ecx, int edx) = X86Base.CpuId(unchecked((int)leaf), unchecked((int)subleaf));
        return new CpuidRegisters(unchecked((uint)eax), unchecked((uint)ebx), unchecked((uint)ecx), unchecked((uint)edx));
    }

    /// <summary>The highest basic leaf: CPUID.(EAX=0):EAX.</summary>
    public static uint MaxBasicLeaf => Query(0).Eax;

    /// <summary>The highest extended leaf: CPUID.(EAX=80000000H):EAX.</summary>
    public static uint MaxExtendedLeaf => Query(ExtendedBase).Eax;

    /// <summary>
    /// The vendor identification string: the twelve bytes of EBX, EDX and ECX of CPUID leaf 0, for example
    /// <c>GenuineIntel</c> or <c>AuthenticAMD</c>.
    /// </summary>
    public static string Vendor
    {
        get
        {
            CpuidRegisters leaf0 = Query(0);
            Span<byte> bytes = stackalloc byte[12];
            BinaryPrimitives.WriteUInt32LittleEndian(bytes[..4], leaf0.Ebx);
            BinaryPrimitives.WriteUInt32LittleEndian(bytes[4..8], leaf0.Edx);
            BinaryPrimitives.WriteUInt32LittleEndian(bytes[8..], leaf0.Ecx);
            return Encoding.ASCII.GetString(bytes).TrimEnd('\0');
        }
    }

    /// <summary>Whether bit <paramref name="bit"/> of <paramref name="value"/> is set.</summary>
    /// <param name="value">A register value.</param>
    /// <param name="bit">The bit's index, 0 to 31.</param>
    /// <returns><see langword="true"/> when the bit is 1.</returns>
    public static bool Bit(uint value, int bit) => ((value >> bit) & 1) != 0;

    /// <summary>Formats a leaf number the way the Intel and AMD manuals do, for example <c>8000001FH</c>.</summary>
    /// <param name="leaf">The leaf number.</param>
    /// <returns>The leaf in hexadecimal with an <c>H</c> suffix.</returns>
    public static string Hex(uint leaf) => $"{leaf:X}H";
}
