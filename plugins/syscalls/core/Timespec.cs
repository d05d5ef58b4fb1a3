using System.Buffers.Binary;

namespace Donjon.Syscalls.Core;

/// <summary>A <c>struct timespec</c> as x86-64 Linux lays it out: two signed 64-bit fields, 16 bytes.</summary>
/// <param name="Seconds"><c>tv_sec</c>.</param>
/// <param name="Nanoseconds"><c>tv_nsec</c>.</param>
internal readonly record struct Timespec(long Seconds, long Nanoseconds)
{
    /// <summary>The size of the structure in bytes.</summary>
    public const int Size = 16;

    /// <summary>Nanoseconds in one second.</summary>
    public const long NanosecondsPerSecond = 1_000_000_000;

    /// <summary>
    /// Whether Linux accepts the value as a time or a duration (<c>timespec64_valid</c>): a non-negative second count
    /// and a nanosecond count in [0, 999 999 999]. Anything else is <c>EINVAL</c>.
    /// </summary>
    public bool IsValid => Seconds >= 0 && (ulong)Nanoseconds < NanosecondsPerSecond;

    /// <summary>The value as a count of nanoseconds, which cannot overflow.</summary>
    public Int128 TotalNanoseconds => ((Int128)Seconds * NanosecondsPerSecond) + Nanoseconds;

    /// <summary>Reads a timespec from the first 16 bytes of <paramref name="bytes"/>, which must hold them.</summary>
    /// <param name="bytes">The bytes the keep sent.</param>
    /// <returns>The value, not yet validated.</returns>
    public static Timespec Read(ReadOnlySpan<byte> bytes) =>
        new(BinaryPrimitives.ReadInt64LittleEndian(bytes), BinaryPrimitives.ReadInt64LittleEndian(bytes[8..]));

    /// <summary>The timespec for <paramref name="nanoseconds"/>, clamped to [0, <see cref="long.MaxValue"/> seconds].</summary>
    /// <param name="nanoseconds">A count of nanoseconds.</param>
    /// <returns>The value.</returns>
    public static Timespec FromNanoseconds(Int128 nanoseconds)
    {
        if (nanoseconds <= 0)
        {
            return default;
        }

        Int128 seconds = nanoseconds / NanosecondsPerSecond;
        return seconds > long.MaxValue
            ? new Timespec(long.MaxValue, NanosecondsPerSecond - 1)
            : new Timespec((long)seconds, (long)(nanoseconds % NanosecondsPerSecond));
    }

    /// <summary>The 16 bytes the kernel would write.</summary>
    /// <returns>A new array.</returns>
    public byte[] ToBytes()
    {
        byte[] bytes = new byte[Size];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, Seconds);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(8), Nanoseconds);
        return bytes;
    }
}
