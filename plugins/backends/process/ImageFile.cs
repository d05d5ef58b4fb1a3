using System.Runtime.InteropServices;
using Donjon.Backends.Process.Interop;

namespace Donjon.Backends.Process;

/// <summary>The keep image blob in a sealed memfd: the shim can map it but nobody can change it after launch.</summary>
internal static unsafe class ImageFile
{
    private const uint MfdCloexec = 1;
    private const uint MfdAllowSealing = 2;
    private const int FAddSeals = 1033;
    private const int SealAll = 1 | 2 | 4 | 8; // F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE

    /// <summary>Writes <paramref name="blob"/> to a new sealed memfd and returns its descriptor.</summary>
    public static int Create(byte[] blob)
    {
        int fd = Libc.MemfdCreate("donjon-image", MfdCloexec | MfdAllowSealing);
        if (fd < 0)
        {
            throw new IOException($"memfd_create for the keep image failed: errno {Marshal.GetLastPInvokeError()}");
        }

        try
        {
            long written = 0;
            fixed (byte* start = blob)
            {
                while (written < blob.Length)
                {
                    // SAFETY: start + written stays inside the pinned blob; count is what remains of it.
                    nint result = Libc.Pwrite(fd, start + written, (nuint)(blob.Length - written), written);
                    if (result <= 0)
                    {
                        throw new IOException($"writing the keep image failed: errno {Marshal.GetLastPInvokeError()}");
                    }

                    written += result;
                }
            }

            if (Libc.Fcntl(fd, FAddSeals, SealAll) != 0)
            {
                throw new IOException($"sealing the keep image failed: errno {Marshal.GetLastPInvokeError()}");
            }

            return fd;
        }
        catch
        {
            Libc.Close(fd);
            throw;
        }
    }
}
