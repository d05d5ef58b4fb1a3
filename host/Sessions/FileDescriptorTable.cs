using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Donjon.Abstractions.Sessions;

namespace Donjon.Host.Sessions;

/// <summary>
/// A keep's descriptor table: numbers 0 to <see cref="Limit"/> − 1 mapped to open files, shared by every handler
/// set. Several numbers may share one <see cref="IOpenFile"/>; the table counts them and disposes the file when its
/// last number is closed. Each number also has its descriptor flags (<c>FD_CLOEXEC</c>, <see cref="IDescriptorFlags"/>),
/// cleared whenever the number is closed or given another file.
/// </summary>
/// <remarks>
/// <para>Thread-safe: every operation takes one lock (<c>_gate</c>), so handlers serving several keep threads at once may
/// add, look up, replace and close numbers concurrently; a number is never given to two files.</para>
/// <para>Descriptor numbers come from the keep and are untrusted: a negative or huge number never throws, it is simply
/// not open (<see langword="false"/> or -1). Files are disposed outside the table's lock. A file the table has
/// released (its last number closed) is never taken back: a <c>dup</c> that raced with the last <c>close</c> of
/// its file gets -1 or <see langword="false"/> instead of a disposed file.</para>
/// </remarks>
internal sealed class FileDescriptorTable : IFileDescriptorTable, IDescriptorFlags, IDisposable
{
    private const int InitialSlots = 64;

    private readonly Lock _gate = new();
    private readonly Dictionary<IOpenFile, int> _references = new(ReferenceEqualityComparer.Instance);
    private readonly ConditionalWeakTable<IOpenFile, object> _released = [];
    private IOpenFile?[] _slots;
    private byte[] _descriptorFlags;

    /// <summary>Every number below this one is in use (a hint that keeps allocation cheap).</summary>
    private int _lowestFreeHint;
    private int _count;
    private bool _disposed;

    /// <summary>Creates an empty table.</summary>
    /// <param name="limit">How many numbers the table has (<c>KeepLimits.MaxOpenFiles</c>).</param>
    public FileDescriptorTable(int limit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        Limit = limit;
        _slots = new IOpenFile?[Math.Min(limit, InitialSlots)];
        _descriptorFlags = new byte[_slots.Length];
    }

    /// <summary>How many numbers the table has: descriptors are 0 to <see cref="Limit"/> − 1.</summary>
    public int Limit { get; }

    /// <summary>How many descriptors are open.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _count;
            }
        }
    }

    /// <inheritdoc/>
    /// <remarks>When the table is full, the caller still owns <paramref name="file"/>. A negative <paramref name="lowest"/> gives -1.</remarks>
    public int Add(IOpenFile file, int lowest = 0)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (lowest < 0 || lowest >= Limit)
        {
            return -1;
        }

        lock (_gate)
        {
            if (_disposed || _released.TryGetValue(file, out _))
            {
                return -1;
            }

            for (int descriptor = Math.Max(lowest, _lowestFreeHint); descriptor < Limit; descriptor++)
            {
                if (descriptor >= _slots.Length || _slots[descriptor] is null)
                {
                    Place(descriptor, file);
                    return descriptor;
                }
            }

            return -1;
        }
    }

    /// <inheritdoc/>
    public bool TryGet(int descriptor, [MaybeNullWhen(false)] out IOpenFile file)
    {
        lock (_gate)
        {
            file = (uint)descriptor < (uint)_slots.Length ? _slots[descriptor] : null;
            return file is not null;
        }
    }

    /// <inheritdoc/>
    /// <remarks>Setting a number to the file it already refers to changes nothing, as <c>dup2(fd, fd)</c>.</remarks>
    public bool Set(int descriptor, IOpenFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        if ((uint)descriptor >= (uint)Limit)
        {
            return false;
        }

        IOpenFile? released, stillOpen;
        lock (_gate)
        {
            if (_disposed || _released.TryGetValue(file, out _))
            {
                return false;
            }

            var previous = descriptor < _slots.Length ? _slots[descriptor] : null;
            if (ReferenceEquals(previous, file))
            {
                return true;
            }

            released = previous is null ? null : Remove(descriptor);
            stillOpen = released is null ? previous : null;
            Place(descriptor, file);
        }

        released?.Dispose();
        ReleaseRecordLocks(stillOpen);
        return true;
    }

    /// <inheritdoc/>
    public bool Close(int descriptor)
    {
        IOpenFile? released, stillOpen;
        lock (_gate)
        {
            if ((uint)descriptor >= (uint)_slots.Length || _slots[descriptor] is not { } file)
            {
                return false;
            }

            released = Remove(descriptor);
            stillOpen = released is null ? file : null;
        }

        released?.Dispose();
        ReleaseRecordLocks(stillOpen);
        return true;
    }

    /// <summary>
    /// Releases the POSIX record locks (<c>fcntl</c> <c>F_SETLK</c>) the host process holds on <paramref name="file"/>
    /// when one of its numbers closes but others still refer to it: Linux releases a process's POSIX locks on a file
    /// whenever it closes any descriptor of it, and the keep's other numbers keep the host descriptor open, so the host
    /// kernel would not. (When the last number closes, closing the host descriptor releases them.) OFD locks stay, as on
    /// Linux.
    /// </summary>
    private static unsafe void ReleaseRecordLocks(IOpenFile? file)
    {
        if (file is null || file.HostDescriptor < 0)
        {
            return;
        }

        const int SetLock = 6, Unlock = 2;
        Span<byte> flock = stackalloc byte[32]; // { l_type F_UNLCK, l_whence SEEK_SET, l_start 0, l_len 0: the whole file }
        flock.Clear();
        flock[0] = Unlock;

        // SAFETY: `flock` is a 32-byte struct flock on the stack, pinned for the call, which only reads it. A descriptor
        // that is no regular file answers an error, which changes nothing and is ignored.
        fixed (byte* p = flock)
        {
            _ = Interop.FileCalls.Syscall4(72, file.HostDescriptor, SetLock, (long)p, 0);
        }
    }

    /// <inheritdoc/>
    public int GetDescriptorFlags(int descriptor)
    {
        lock (_gate)
        {
            return (uint)descriptor < (uint)_slots.Length && _slots[descriptor] is not null ? _descriptorFlags[descriptor] : -1;
        }
    }

    /// <inheritdoc/>
    /// <remarks>Only <c>FD_CLOEXEC</c> (1) is kept, as Linux keeps only it.</remarks>
    public bool SetDescriptorFlags(int descriptor, int flags)
    {
        lock (_gate)
        {
            if ((uint)descriptor >= (uint)_slots.Length || _slots[descriptor] is null)
            {
                return false;
            }

            _descriptorFlags[descriptor] = (byte)(flags & 1);
            return true;
        }
    }

    /// <summary>Closes every descriptor and disposes every open file; the table then accepts nothing.</summary>
    public void Dispose()
    {
        List<IOpenFile> files;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            files = [.. _references.Keys];
            _references.Clear();
            Array.Clear(_slots);
            _count = 0;
            _lowestFreeHint = 0;
        }

        List<Exception>? failures = null;
        foreach (var file in files)
        {
            try
            {
                file.Dispose();
            }
            catch (Exception exception)
            {
                (failures ??= []).Add(exception);
            }
        }

        if (failures is not null)
        {
            throw new AggregateException("some open files of the keep failed to close", failures);
        }
    }

    /// <summary>Puts <paramref name="file"/> in the empty slot <paramref name="descriptor"/>; under the lock.</summary>
    private void Place(int descriptor, IOpenFile file)
    {
        if (descriptor >= _slots.Length)
        {
            int size = _slots.Length == 0 ? InitialSlots : _slots.Length;
            while (size <= descriptor)
            {
                size *= 2;
            }

            Array.Resize(ref _slots, Math.Min(size, Limit));
            Array.Resize(ref _descriptorFlags, _slots.Length);
        }

        _slots[descriptor] = file;
        _descriptorFlags[descriptor] = 0;
        _references[file] = _references.TryGetValue(file, out int count) ? count + 1 : 1;
        _count++;
        if (descriptor == _lowestFreeHint)
        {
            _lowestFreeHint++;
        }
    }

    /// <summary>Empties the occupied slot <paramref name="descriptor"/>; under the lock. Returns the file when that was its last number.</summary>
    private IOpenFile? Remove(int descriptor)
    {
        var file = _slots[descriptor]!;
        _slots[descriptor] = null;
        _descriptorFlags[descriptor] = 0;
        _count--;
        if (descriptor < _lowestFreeHint)
        {
            _lowestFreeHint = descriptor;
        }

        int count = _references[file] - 1;
        if (count > 0)
        {
            _references[file] = count;
            return null;
        }

        _references.Remove(file);
        _released.AddOrUpdate(file, this);
        return file;
    }
}
