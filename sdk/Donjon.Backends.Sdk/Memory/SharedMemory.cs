using System.Buffers;
using System.Runtime.InteropServices;
using Donjon.Backends.Sdk.Interop;

namespace Donjon.Backends.Sdk.Memory;

/// <summary>
/// A memfd mapped into the host: the shared block. The shim maps the same memfd, so everything in it is untrusted
/// and may change at any moment. This file and <see cref="Doorbells.FutexDoorbellPort"/> hold the plugin's raw-memory code.
/// </summary>
public sealed unsafe class SharedMemory : MemoryManager<byte>
{
    private const uint MfdCloexec = 1;
    private const int ProtRead = 1;
    private const int ProtWrite = 2;
    private const int MapShared = 1;

    private byte* _address;

    private SharedMemory(int descriptor, byte* address, int size)
    {
        Descriptor = descriptor;
        _address = address;
        Size = size;
    }

    /// <summary>The memfd; handed to the shim, then closed by <see cref="CloseDescriptor"/>.</summary>
    public int Descriptor { get; private set; }

    /// <summary>The mapping's size in bytes.</summary>
    public int Size { get; }

    /// <summary>The start of the mapping, for atomic access to the doorbell words.</summary>
    public byte* Address => _address;

    /// <summary>Creates a memfd named <paramref name="name"/> of <paramref name="size"/> bytes and maps it shared, read-write.</summary>
    public static SharedMemory Create(string name, int size)
    {
        int fd = Libc.MemfdCreate(name, MfdCloexec);
        if (fd < 0)
        {
            throw new IOException($"memfd_create failed: errno {Marshal.GetLastPInvokeError()}");
        }

        if (Libc.Ftruncate(fd, size) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            Libc.Close(fd);
            throw new IOException($"ftruncate of the shared block to {size} bytes failed: errno {errno}");
        }

        nint address = Libc.Mmap(0, (nuint)size, ProtRead | ProtWrite, MapShared, fd, 0);
        if (address == -1)
        {
            int errno = Marshal.GetLastPInvokeError();
            Libc.Close(fd);
            throw new IOException($"mmap of the shared block failed: errno {errno}");
        }

        return new SharedMemory(fd, (byte*)address, size);
    }

    /// <summary>Unmaps the block and closes its memfd.</summary>
    public void Dispose() => ((IDisposable)this).Dispose();

    /// <summary>Closes the memfd (once the peer has its own copy); the mapping stays.</summary>
    public void CloseDescriptor()
    {
        if (Descriptor >= 0)
        {
            Libc.Close(Descriptor);
            Descriptor = -1;
        }
    }

    // SAFETY: the span covers exactly the mapping made in Create, which stays mapped until Dispose.
    /// <inheritdoc />
    public override Span<byte> GetSpan() => _address == null ? throw new ObjectDisposedException(nameof(SharedMemory)) : new Span<byte>(_address, Size);

    /// <inheritdoc />
    public override MemoryHandle Pin(int elementIndex = 0) =>
        // SAFETY: the mapping never moves; the index is checked against its size.
        (uint)elementIndex > (uint)Size ? throw new ArgumentOutOfRangeException(nameof(elementIndex)) : new MemoryHandle(_address + elementIndex);

    /// <inheritdoc />
    public override void Unpin()
    {
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        CloseDescriptor();
        if (_address != null)
        {
            Libc.Munmap((nint)_address, (nuint)Size);
            _address = null;
        }
    }
}
