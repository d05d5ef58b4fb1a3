using Donjon.Abstractions.Syscalls;

namespace Donjon.Syscalls.Core;

/// <summary>
/// Reads a <see cref="SyscallRequest"/> the way the kernel reads a syscall's registers and user buffers, and builds
/// results that never exceed an output's capacity. Everything in a request is untrusted: nothing here throws on a
/// bad value, it only narrows or reports it.
/// </summary>
/// <remarks>
/// Fixed-size pointer arguments follow one rule: an input shorter than its structure, or an output whose capacity is
/// smaller than its structure, is treated as a null pointer. A handler answers <c>EFAULT</c> where Linux requires the
/// pointer and skips the argument where Linux allows null (<c>nanosleep</c>'s <c>rem</c>, <c>prlimit64</c>'s
/// <c>new_limit</c> and <c>old_limit</c>, <c>time</c>'s <c>tloc</c>...).
/// </remarks>
internal static class RequestReader
{
    /// <summary>Argument <paramref name="index"/> as a 32-bit int (descriptors, flags, clock ids), as the kernel truncates it.</summary>
    /// <param name="request">The request.</param>
    /// <param name="index">The argument index.</param>
    /// <returns>The low 32 bits, signed.</returns>
    public static int Int32(this SyscallRequest request, int index) => unchecked((int)(uint)request.Argument(index));

    /// <summary>Argument <paramref name="index"/> as a 32-bit unsigned int (an <c>ioctl</c> request, a resource).</summary>
    /// <param name="request">The request.</param>
    /// <param name="index">The argument index.</param>
    /// <returns>The low 32 bits.</returns>
    public static uint UInt32(this SyscallRequest request, int index) => unchecked((uint)request.Argument(index));

    /// <summary>Argument <paramref name="index"/> as a signed 64-bit value (<c>off_t</c>, <c>pid_t</c> widened).</summary>
    /// <param name="request">The request.</param>
    /// <param name="index">The argument index.</param>
    /// <returns>The value.</returns>
    public static long Int64(this SyscallRequest request, int index) => unchecked((long)request.Argument(index));

    /// <summary>
    /// How many bytes a call may produce into output <paramref name="outputIndex"/>: the count the workload asked for
    /// (argument <paramref name="countIndex"/>), never more than the shim reserved.
    /// </summary>
    /// <param name="request">The request.</param>
    /// <param name="outputIndex">The output argument.</param>
    /// <param name="countIndex">The argument holding the requested count.</param>
    /// <returns>A count in [0, capacity].</returns>
    public static int OutputCount(this SyscallRequest request, int outputIndex, int countIndex)
    {
        int capacity = Math.Max(0, request.OutputCapacity(outputIndex));
        ulong requested = request.Argument(countIndex);
        return requested < (ulong)capacity ? (int)requested : capacity;
    }

    /// <summary>Whether output <paramref name="index"/> can take a structure of <paramref name="size"/> bytes (otherwise it is null).</summary>
    /// <param name="request">The request.</param>
    /// <param name="index">The output argument.</param>
    /// <param name="size">The structure's size.</param>
    /// <returns>Whether the structure fits.</returns>
    public static bool HasOutput(this SyscallRequest request, int index, int size) => request.OutputCapacity(index) >= size;

    /// <summary>The first <paramref name="size"/> input bytes of argument <paramref name="index"/>, when there are that many.</summary>
    /// <param name="request">The request.</param>
    /// <param name="index">The input argument.</param>
    /// <param name="size">The structure's size.</param>
    /// <param name="bytes">The bytes; empty when the argument is null.</param>
    /// <returns>Whether the structure is present.</returns>
    public static bool TryInput(this SyscallRequest request, int index, int size, out ReadOnlyMemory<byte> bytes)
    {
        ReadOnlyMemory<byte> input = request.Input(index);
        if (input.Length < size)
        {
            bytes = ReadOnlyMemory<byte>.Empty;
            return false;
        }

        bytes = input[..size];
        return true;
    }

    /// <summary>Reads a <c>struct timespec</c> from input argument <paramref name="index"/>.</summary>
    /// <param name="request">The request.</param>
    /// <param name="index">The input argument.</param>
    /// <param name="time">The value, not yet validated.</param>
    /// <returns>Whether the structure is present.</returns>
    public static bool TryTimespec(this SyscallRequest request, int index, out Timespec time)
    {
        if (!request.TryInput(index, Timespec.Size, out ReadOnlyMemory<byte> bytes))
        {
            time = default;
            return false;
        }

        time = Timespec.Read(bytes.Span);
        return true;
    }

    /// <summary>The bytes of C-string argument <paramref name="index"/>, without its NUL (and without anything after one).</summary>
    /// <param name="request">The request.</param>
    /// <param name="index">The C-string argument.</param>
    /// <returns>The string's bytes.</returns>
    public static ReadOnlySpan<byte> CString(this SyscallRequest request, int index)
    {
        ReadOnlySpan<byte> bytes = request.Input(index).Span;
        int end = bytes.IndexOf((byte)0);
        return end < 0 ? bytes : bytes[..end];
    }

    /// <summary>A success whose output <paramref name="index"/> is <paramref name="data"/>, cut to the output's capacity.</summary>
    /// <param name="request">The request.</param>
    /// <param name="value">The returned value.</param>
    /// <param name="index">The output argument.</param>
    /// <param name="data">The bytes.</param>
    /// <returns>The result.</returns>
    public static SyscallResult Output(this SyscallRequest request, long value, int index, ReadOnlyMemory<byte> data)
    {
        int capacity = Math.Max(0, request.OutputCapacity(index));
        return SyscallResult.Success(value, index, data.Length <= capacity ? data : data[..capacity]);
    }

    /// <summary>The result for a host call that returned <paramref name="result"/> (a value, or minus errno) and no output.</summary>
    /// <param name="result">The host call's result.</param>
    /// <returns>The result.</returns>
    public static SyscallResult FromHost(long result) => result < 0 ? SyscallResult.Error((int)-result) : SyscallResult.Success(result);
}
