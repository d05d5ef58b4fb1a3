using System.Buffers.Binary;
using System.Security.Cryptography;
using Donjon.Abstractions.Images;
using Donjon.Abstractions.Measurement;

namespace Donjon.Backends.Sdk.Measurement;

/// <summary>
/// The SEV-SNP launch digest (AMD SEV-SNP firmware ABI specification, SNP_LAUNCH_UPDATE and the PAGE_INFO
/// structure): each page added at launch replaces the digest with the SHA-384 of a 0x70-byte PAGE_INFO record.
/// </summary>
/// <remarks>
/// PAGE_INFO, little-endian: DIGEST_CUR[48] | CONTENTS[48] | u16 LENGTH (0x70) | u8 PAGE_TYPE | u8 IMI_PAGE |
/// u8 VMPL3_PERMS | u8 VMPL2_PERMS | u8 VMPL1_PERMS | u8 reserved | u64 GPA. CONTENTS is the SHA-384 of the page for a
/// NORMAL (1) or VMSA (2) page and zero for ZERO (3) and UNMEASURED (4) pages. Donjon's keeps use IMI 0 and VMPL
/// permissions 0. Host-independent: also compiled into the <c>sev</c> backend, and used by the host's keep-image digest.
/// </remarks>
public sealed class SnpPageInfoChain : IKeepPageSink
{
    /// <summary>The size of a digest, in bytes (SHA-384).</summary>
    public const int DigestSize = 48;

    /// <summary>The size of a PAGE_INFO record.</summary>
    public const int PageInfoSize = 0x70;

    /// <summary>PAGE_TYPE of a page whose contents are measured.</summary>
    public const byte PageTypeNormal = 0x01;

    /// <summary>PAGE_TYPE of a vCPU's save area.</summary>
    public const byte PageTypeVmsa = 0x02;

    /// <summary>PAGE_TYPE of a page the firmware fills with zeros.</summary>
    public const byte PageTypeZero = 0x03;

    /// <summary>PAGE_TYPE of a page added without measuring its contents.</summary>
    public const byte PageTypeUnmeasured = 0x04;

    private static readonly byte[] ZeroPage = new byte[KeepPageWalker.PageSize];
    private readonly byte[] _digest = new byte[DigestSize];
    private readonly byte[] _pageInfo = new byte[PageInfoSize];

    /// <summary>Starts from the digest of a new guest: 48 zero bytes.</summary>
    public SnpPageInfoChain()
    {
    }

    /// <summary>Continues from a given digest (for example, to check one step against a known answer).</summary>
    /// <param name="initialDigest">The 48-byte digest to start from.</param>
    public SnpPageInfoChain(ReadOnlySpan<byte> initialDigest)
    {
        if (initialDigest.Length != DigestSize)
        {
            throw new ArgumentException($"a launch digest has {DigestSize} bytes, not {initialDigest.Length}", nameof(initialDigest));
        }

        initialDigest.CopyTo(_digest);
    }

    /// <summary>The current launch digest (48 bytes); after the last page, the value the firmware reports.</summary>
    public ReadOnlyMemory<byte> Digest => _digest;

    /// <inheritdoc />
    /// <remarks>The permissions are not part of PAGE_INFO (the guest sets them in its page tables); they are ignored.</remarks>
    public void AddPage(ulong address, ReadOnlySpan<byte> contents, MemoryPermissions permissions, KeepPageKind kind)
    {
        if (address % KeepPageWalker.PageSize != 0)
        {
            throw new ArgumentException($"page 0x{address:x} is not page-aligned", nameof(address));
        }

        if (!contents.IsEmpty && contents.Length != KeepPageWalker.PageSize)
        {
            throw new ArgumentException($"page 0x{address:x} has {contents.Length} bytes; a page has {KeepPageWalker.PageSize}, or none for zeros", nameof(contents));
        }

        byte type = kind switch
        {
            KeepPageKind.Measured => PageTypeNormal,
            KeepPageKind.VcpuState => PageTypeVmsa,
            KeepPageKind.Zero => PageTypeZero,
            KeepPageKind.Unmeasured => PageTypeUnmeasured,
            _ => throw new ArgumentException($"page 0x{address:x}: an SEV-SNP guest has no {kind} page", nameof(kind)),
        };

        Span<byte> info = _pageInfo;
        info.Clear();
        _digest.CopyTo(info);
        if (type is PageTypeNormal or PageTypeVmsa)
        {
            SHA384.HashData(contents.IsEmpty ? ZeroPage : contents, info.Slice(DigestSize, DigestSize));
        }

        BinaryPrimitives.WriteUInt16LittleEndian(info[0x60..], PageInfoSize);
        info[0x62] = type;
        BinaryPrimitives.WriteUInt64LittleEndian(info[0x68..], address);
        SHA384.HashData(info, _digest);
    }

    /// <inheritdoc />
    /// <remarks>The digest needs no final step: it is complete after the last page.</remarks>
    public void Finish()
    {
    }
}
