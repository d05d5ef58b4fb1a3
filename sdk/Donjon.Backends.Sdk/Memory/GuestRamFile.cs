using System.Buffers;
using System.Runtime.InteropServices;
using Donjon.Backends.Sdk.Interop;

namespace Donjon.Backends.Sdk.Memory;

/// <summary>
/// A VM-shaped keep's RAM: a memfd (tmpfs memory that never has a name, so nothing is left behind on any path) that
/// the virtual machine monitor maps as guest RAM (QEMU: <c>memory-backend-file,share=on</c>). Before boot the backend
/// writes the image blob into it (<see cref="Write"/>); the host then maps only the shared block's window of it
/// (<see cref="MapWindow"/>), never the rest of the guest. As a <see cref="MemoryManager{T}"/> it is that window, the
/// shared block the doorbell ports serve (<see cref="Doorbells.SerialDoorbellLine"/>).
/// </summary>
/// <remarks>Everything in the window is untrusted: the guest may change it at any moment.</remarks>
public sealed unsafe class GuestRamFile : MemoryManager<byte>
{
    private const uint MfdCloexec = 1;
    private const int ProtRead = 1;
    private const int ProtWrite = 2;
    private const int MapShared = 1;

    private byte* _block;
    private int _blockSize;

    private GuestRamFile(int descriptor, ulong size)
    {
        Descriptor = descriptor;
        Size = size;
    }

    /// <summary>The memfd; handed to the virtual machine monitor, then closed by <see cref="CloseDescriptor"/>.</summary>
    public int Descriptor { get; private set; }

    /// <summary>The guest's RAM size in bytes.</summary>
    public ulong Size { get; }

    /// <summary>The host's mapping of the window (null before <see cref="MapWindow"/>), for atomic access to the doorbell words.</summary>
    public byte* WindowAddress => _block;

    /// <summary>Where the window starts in the guest's physical memory (an offset in the file).</summary>
    public ulong WindowGuestAddress { get; private set; }

    /// <summary>Creates a RAM file of <paramref name="size"/> bytes (sparse: pages cost memory once the guest touches them).</summary>
    /// <param name="size">The guest's RAM size in bytes.</param>
    /// <param name="name">The memfd's name, shown in <c>/proc/PID/fd</c> only.</param>
    /// <exception cref="IOException">The memfd could not be made or sized; the message gives the errno.</exception>
    public static GuestRamFile Create(ulong size, string name = "donjon-vm-ram")
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentOutOfRangeException.ThrowIfZero(size);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(size, (ulong)long.MaxValue);
        int fd = Libc.MemfdCreate(name, MfdCloexec);
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

        return new GuestRamFile(fd, size);
    }

    /// <summary>Writes <paramref name="bytes"/> at guest-physical <paramref name="address"/> (an offset in the file).</summary>
    /// <param name="address">Where in the guest's physical memory.</param>
    /// <param name="bytes">What to write.</param>
    /// <exception cref="ArgumentOutOfRangeException">The bytes do not fit in the RAM.</exception>
    /// <exception cref="IOException">The write failed; the message gives the errno.</exception>
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

    /// <summary>The size of the window in bytes, 0 before <see cref="MapWindow"/>.</summary>
    public int WindowSize => _blockSize;

    /// <summary>
    /// Maps the shared block's window: <paramref name="size"/> bytes at guest-physical <paramref name="guestAddress"/>,
    /// read-write and shared with the guest. Once only.
    /// </summary>
    /// <param name="guestAddress">Where the block lies in the guest's physical memory; page-aligned.</param>
    /// <param name="size">The block's size in bytes.</param>
    /// <exception cref="ArgumentOutOfRangeException">The window is not page-aligned or does not fit in the RAM.</exception>
    /// <exception cref="InvalidOperationException">A window is mapped already, or the memfd was closed.</exception>
    /// <exception cref="IOException">The mapping failed; the message gives the errno.</exception>
    public void MapWindow(ulong guestAddress, int size)
    {
        if (size <= 0 || guestAddress > Size || (ulong)size > Size - guestAddress)
        {
            throw new ArgumentOutOfRangeException(nameof(size), $"a block of {size} bytes at 0x{guestAddress:x} does not fit in {Size} bytes of guest RAM");
        }

        if (guestAddress % (ulong)Environment.SystemPageSize != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(guestAddress), $"the block's guest address 0x{guestAddress:x} is not page-aligned");
        }

        if (_block != null || Descriptor < 0)
        {
            throw new InvalidOperationException(_block != null ? "the block's window is mapped already" : "the guest RAM file was closed before its window was mapped");
        }

        nint address = Libc.Mmap(0, (nuint)size, ProtRead | ProtWrite, MapShared, Descriptor, (long)guestAddress);
        if (address == -1)
        {
            throw new IOException($"mapping the shared block of the guest RAM failed: errno {Marshal.GetLastPInvokeError()}");
        }

        _block = (byte*)address;
        _blockSize = size;
        WindowGuestAddress = guestAddress;
    }

    /// <summary>Closes the memfd once the virtual machine monitor has its own descriptor; the window stays mapped.</summary>
    public void CloseDescriptor()
    {
        if (Descriptor >= 0)
        {
            Libc.Close(Descriptor);
            Descriptor = -1;
        }
    }

    /// <summary>Unmaps the window and closes the memfd.</summary>
    public void Dispose() => ((IDisposable)this).Dispose();

    // SAFETY: the span covers exactly the mapping made in MapWindow, which stays mapped until Dispose.
    /// <inheritdoc />
    public override Span<byte> GetSpan() => _block == null ? throw new ObjectDisposedException(nameof(GuestRamFile), "the window is not mapped, or was unmapped") : new Span<byte>(_block, _blockSize);

    /// <inheritdoc />
    public override MemoryHandle Pin(int elementIndex = 0) =>
        // SAFETY: the mapping never moves; the index is checked against its size.
        (uint)elementIndex > (uint)_blockSize ? throw new ArgumentOutOfRangeException(nameof(elementIndex)) : new MemoryHandle(_block + elementIndex);

    /// <inheritdoc />
    public override void Unpin()
    {
    }

    /// <inheritdoc />
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
