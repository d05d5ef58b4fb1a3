using System.Buffers;
using System.Runtime.InteropServices;
using Donjon.Backends.Vm.Interop;

namespace Donjon.Backends.Vm;

/// <summary>
/// The guest's RAM: a memfd (tmpfs memory that never has a name, so nothing is left behind on any path) that QEMU
/// maps as <c>memory-backend-file,share=on</c>. Before boot the host writes the image blob into it; the host then
/// maps only the shared block's window of it (<see cref="VmLayout.BlockAddress"/>), never the rest of the guest.
/// This file, <see cref="SerialDoorbellLine"/> and <see cref="SerialDoorbellPort"/> hold the plugin's raw-memory code.
/// </summary>
/// <remarks>Everything in the window is untrusted: the guest may change it at any moment.</remarks>
internal sealed unsafe class GuestMemory : MemoryManager<byte>
{
    private const uint MfdCloexec = 1;
    private const int ProtRead = 1;
    private const int ProtWrite = 2;
    private const int MapShared = 1;

    private byte* _block;
    private int _blockSize;

    private GuestMemory(int descriptor, ulong size)
    {
        Descriptor = descriptor;
        Size = size;
    }

    /// <summary>The memfd; handed to QEMU, then closed by <see cref="CloseDescriptor"/>.</summary>
    public int Descriptor { get; private set; }

    /// <summary>The guest's RAM size in bytes.</summary>
    public ulong Size { get; }

    /// <summary>The host's mapping of the shared block, for atomic access to the doorbell words.</summary>
    public byte* BlockAddress => _block;

    /// <summary>Creates a RAM file of <paramref name="size"/> bytes (sparse: pages cost memory once the guest touches them).</summary>
    public static GuestMemory Create(ulong size)
    {
        int fd = Libc.MemfdCreate("donjon-vm-ram", MfdCloexec);
        if (fd < 0)
        {
            throw new IOException($"memfd_create for the guest RAM failed: errno {Marshal.GetLastPInvokeError()}");
        }

        if (Libc.Ftruncate(fd, (long)size) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            Libc.Close(fd);
            throw new IOException($"sizing the guest RAM file to {size} bytes failed: errno {errno}");
        }

        return new GuestMemory(fd, size);
    }

    /// <summary>Writes <paramref name="bytes"/> at guest-physical <paramref name="address"/> (an offset in the file).</summary>
    public void Write(ulong address, ReadOnlySpan<byte> bytes)
    {
        if (address > Size || (ulong)bytes.Length > Size - address)
        {
            throw new ArgumentOutOfRangeException(nameof(address), $"{bytes.Length} bytes at 0x{address:x} do not fit in {Size} bytes of guest RAM");
        }

        int written = 0;
        fixed (byte* start = bytes)
        {
            while (written < bytes.Length)
            {
                // SAFETY: start + written stays inside the pinned span; the count is what remains of it.
                nint result = Libc.Pwrite(Descriptor, start + written, (nuint)(bytes.Length - written), (long)address + written);
                if (result <= 0)
                {
                    throw new IOException($"writing {bytes.Length} bytes into the guest RAM file failed: errno {Marshal.GetLastPInvokeError()}");
                }

                written += (int)result;
            }
        }
    }

    /// <summary>The size of the shared block's window, 0 before <see cref="MapBlock"/>.</summary>
    public int BlockSize => _blockSize;

    /// <summary>Maps the shared block's window (<paramref name="blockSize"/> bytes), read-write and shared with the guest.</summary>
    public void MapBlock(int blockSize)
    {
        if (blockSize <= 0 || VmLayout.BlockAddress + (ulong)blockSize > Size)
        {
            throw new ArgumentOutOfRangeException(nameof(blockSize), $"a block of {blockSize} bytes does not fit in {Size} bytes of guest RAM");
        }

        nint address = Libc.Mmap(0, (nuint)blockSize, ProtRead | ProtWrite, MapShared, Descriptor, (long)VmLayout.BlockAddress);
        if (address == -1)
        {
            throw new IOException($"mapping the shared block of the guest RAM failed: errno {Marshal.GetLastPInvokeError()}");
        }

        _block = (byte*)address;
        _blockSize = blockSize;
    }

    /// <summary>Closes the memfd once QEMU has its own descriptor; the mapping stays.</summary>
    public void CloseDescriptor()
    {
        if (Descriptor >= 0)
        {
            Libc.Close(Descriptor);
            Descriptor = -1;
        }
    }

    /// <summary>Unmaps the block and closes the memfd.</summary>
    public void Dispose() => ((IDisposable)this).Dispose();

    // SAFETY: the span covers exactly the mapping made in MapBlock, which stays mapped until Dispose.
    public override Span<byte> GetSpan() => _block == null ? throw new ObjectDisposedException(nameof(GuestMemory)) : new Span<byte>(_block, _blockSize);

    public override MemoryHandle Pin(int elementIndex = 0) =>
        // SAFETY: the mapping never moves; the index is checked against its size.
        (uint)elementIndex > (uint)_blockSize ? throw new ArgumentOutOfRangeException(nameof(elementIndex)) : new MemoryHandle(_block + elementIndex);

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
        CloseDescriptor();
        if (_block != null)
        {
            Libc.Munmap((nint)_block, (nuint)_blockSize);
            _block = null;
        }
    }
}
