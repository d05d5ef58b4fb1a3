using System.Buffers.Binary;
using System.Security.Cryptography;
using Donjon.Abstractions.Images;
using Donjon.Abstractions.Measurement;

namespace Donjon.Backends.Sdk.Measurement;

/// <summary>
/// Computes an SGX enclave's MRENCLAVE the way the CPU does while the enclave is built (Intel SDM vol. 3D, ECREATE,
/// EADD and EEXTEND): a SHA-256 over 64-byte records, one per ECREATE and EADD, and one per EEXTEND followed by the
/// 256 bytes it extends.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>ECREATE: <c>"ECREATE\0"</c>, u32 SSAFRAMESIZE (pages), u64 SECS.SIZE, 44 zero bytes.</item>
/// <item>EADD: <c>"EADD\0\0\0\0"</c>, u64 page offset from the enclave base, the first 48 bytes of SECINFO
/// (u64 FLAGS: R=1, W=2, X=4, page type in bits 8–15, then zeros).</item>
/// <item>EEXTEND: <c>"EEXTEND\0"</c>, u64 chunk offset, 48 zero bytes, then the chunk's 256 bytes; 16 per page.</item>
/// </list>
/// A <see cref="KeepPageKind.Measured"/>, <see cref="KeepPageKind.Zero"/> or <see cref="KeepPageKind.ThreadControl"/>
/// page gets EADD then 16 EEXTENDs; an <see cref="KeepPageKind.Unmeasured"/> page gets EADD only. Host-independent:
/// also compiled into the <c>sgx</c> backend.
/// </remarks>
public sealed class SgxMeasurementSink : IKeepPageSink, IDisposable
{
    /// <summary>SECINFO page type of a thread control structure.</summary>
    public const ulong PageTypeTcs = 1;

    /// <summary>SECINFO page type of a regular page.</summary>
    public const ulong PageTypeRegular = 2;

    private const int RecordSize = 64;
    private const int ChunkSize = 256;
    private const int BufferSize = 64 * 1024;

    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly byte[] _buffer = new byte[BufferSize];
    private readonly ulong _base;
    private readonly ulong _size;
    private int _used;
    private ulong _next;
    private byte[]? _mrenclave;

    /// <summary>Starts the measurement with the ECREATE record.</summary>
    /// <param name="enclaveBase">SECS.BASEADDR: the linear address of the enclave's first byte; pages are given by linear address.</param>
    /// <param name="enclaveSize">SECS.SIZE in bytes: a power of two of at least two pages.</param>
    /// <param name="ssaFrameSize">SECS.SSAFRAMESIZE: the size of one SSA frame, in pages.</param>
    /// <exception cref="ArgumentException">The size is not a power of two, or the base is not aligned to it.</exception>
    public SgxMeasurementSink(ulong enclaveBase, ulong enclaveSize, uint ssaFrameSize)
    {
        if (!ulong.IsPow2(enclaveSize) || enclaveSize < 2 * KeepPageWalker.PageSize || enclaveBase % enclaveSize != 0)
        {
            throw new ArgumentException($"SECS.SIZE 0x{enclaveSize:x} must be a power of two of at least two pages, and the base 0x{enclaveBase:x} a multiple of it", nameof(enclaveSize));
        }

        ArgumentOutOfRangeException.ThrowIfZero(ssaFrameSize);
        _base = enclaveBase;
        _size = enclaveSize;
        _next = enclaveBase;
        Span<byte> record = Reserve();
        "ECREATE\0"u8.CopyTo(record);
        BinaryPrimitives.WriteUInt32LittleEndian(record[8..], ssaFrameSize);
        BinaryPrimitives.WriteUInt64LittleEndian(record[12..], enclaveSize);
    }

    /// <summary>MRENCLAVE, the 32-byte SHA-256; available after <see cref="Finish"/>.</summary>
    /// <exception cref="InvalidOperationException"><see cref="Finish"/> has not been called.</exception>
    public ReadOnlyMemory<byte> Mrenclave => _mrenclave ?? throw new InvalidOperationException("the enclave measurement is not finished");

    /// <inheritdoc />
    public void AddPage(ulong address, ReadOnlySpan<byte> contents, MemoryPermissions permissions, KeepPageKind kind)
    {
        if (_mrenclave is not null)
        {
            throw new InvalidOperationException("the enclave measurement is finished");
        }

        if (address % KeepPageWalker.PageSize != 0 || address < _next || address - _base >= _size)
        {
            throw new ArgumentException($"page 0x{address:x} is not page-aligned, not above the previous page, or outside the enclave [0x{_base:x}, +0x{_size:x})", nameof(address));
        }

        if (!contents.IsEmpty && contents.Length != KeepPageWalker.PageSize)
        {
            throw new ArgumentException($"page 0x{address:x} has {contents.Length} bytes; a page has {KeepPageWalker.PageSize}, or none for zeros", nameof(contents));
        }

        ulong flags = kind switch
        {
            KeepPageKind.ThreadControl => PageTypeTcs << 8,
            KeepPageKind.Measured or KeepPageKind.Zero or KeepPageKind.Unmeasured =>
                (PageTypeRegular << 8) | (ulong)(permissions & (MemoryPermissions.Read | MemoryPermissions.Write | MemoryPermissions.Execute)),
            _ => throw new ArgumentException($"page 0x{address:x}: an SGX enclave has no {kind} page", nameof(kind)),
        };

        ulong offset = address - _base;
        Span<byte> add = Reserve();
        "EADD\0\0\0\0"u8.CopyTo(add);
        BinaryPrimitives.WriteUInt64LittleEndian(add[8..], offset);
        BinaryPrimitives.WriteUInt64LittleEndian(add[16..], flags);
        if (kind != KeepPageKind.Unmeasured)
        {
            for (int chunk = 0; chunk < KeepPageWalker.PageSize; chunk += ChunkSize)
            {
                Span<byte> extend = Reserve();
                "EEXTEND\0"u8.CopyTo(extend);
                BinaryPrimitives.WriteUInt64LittleEndian(extend[8..], offset + (ulong)chunk);
                Span<byte> data = Reserve(ChunkSize);
                if (!contents.IsEmpty)
                {
                    contents.Slice(chunk, ChunkSize).CopyTo(data);
                }
            }
        }

        _next = address + KeepPageWalker.PageSize;
    }

    /// <inheritdoc />
    public void Finish()
    {
        if (_mrenclave is not null)
        {
            return;
        }

        Flush();
        _mrenclave = _hash.GetHashAndReset();
    }

    /// <inheritdoc />
    public void Dispose() => _hash.Dispose();

    /// <summary>Reserves the next <paramref name="size"/> bytes of the record stream, zeroed.</summary>
    private Span<byte> Reserve(int size = RecordSize)
    {
        if (_used + size > _buffer.Length)
        {
            Flush();
        }

        Span<byte> reserved = _buffer.AsSpan(_used, size);
        reserved.Clear();
        _used += size;
        return reserved;
    }

    private void Flush()
    {
        _hash.AppendData(_buffer, 0, _used);
        _used = 0;
    }
}
