using System.Security.Cryptography;
using Donjon.Abstractions.Syscalls;

namespace Donjon.Syscalls.Core.Handlers;

/// <summary><c>getrandom</c>.</summary>
internal static class RandomCalls
{
    /// <summary><c>GRND_NONBLOCK</c>.</summary>
    private const int NonBlocking = 1;

    /// <summary><c>GRND_RANDOM</c>.</summary>
    private const int FromRandomPool = 2;

    /// <summary><c>GRND_INSECURE</c>.</summary>
    private const int Insecure = 4;

    /// <summary>
    /// <c>getrandom(buf, buflen, flags)</c>, filled from the host's cryptographic generator, which never blocks once
    /// the host has booted; so every flag combination Linux accepts is served the same way.
    /// </summary>
    public static SyscallResult GetRandom(SyscallRequest request)
    {
        int flags = request.Int32(2);
        if ((flags & ~(NonBlocking | FromRandomPool | Insecure)) != 0 || (flags & (FromRandomPool | Insecure)) == (FromRandomPool | Insecure))
        {
            return SyscallResult.Error(Errno.EINVAL);
        }

        int count = request.OutputCount(0, 1);
        byte[] bytes = count == 0 ? [] : new byte[count];
        RandomNumberGenerator.Fill(bytes);
        return request.Output(count, 0, bytes);
    }
}
