using Donjon.Abstractions.Images;

namespace Donjon.Abstractions.Measurement;

/// <summary>The launch measurement of a keep, as computed before launch by <see cref="IMeasuringBackend.Measure"/>.</summary>
/// <param name="Algorithm">
/// What the digest is, as a stable lowercase name: for example <c>sgx-mrenclave</c> (SHA-256, 32 bytes),
/// <c>sev-snp-launch-digest</c> (SHA-384, 48 bytes) or <c>donjon-keep-image</c> (SHA-384, 48 bytes).
/// </param>
/// <param name="Digest">The value itself, as the hardware would report it (MRENCLAVE, the SNP launch digest...).</param>
/// <param name="Regions">
/// The keep's initial memory as it was measured, in the order it was fed: runs of consecutive pages with the same
/// name, kind and permissions.
/// </param>
/// <param name="Notes">
/// Facts a verifier needs to reproduce the value, one sentence each: for example which shim file was measured.
/// Empty when there is nothing to add.
/// </param>
public sealed record LaunchMeasurement(
    string Algorithm,
    ReadOnlyMemory<byte> Digest,
    IReadOnlyList<MeasuredRegion> Regions,
    IReadOnlyList<string> Notes);

/// <summary>A run of consecutive pages of a keep's initial memory, fed to the measurement the same way.</summary>
/// <param name="Name">What the pages are, for example <c>shim</c>, <c>configuration</c> or <c>workload segment 1</c>.</param>
/// <param name="Address">
/// The first page's address in the keep's measured address space: the linear address inside the enclave for SGX,
/// the guest-physical address for SEV-SNP, the workload's virtual address for the keep-image digest.
/// </param>
/// <param name="Size">The run's size in bytes, a whole number of 4096-byte pages.</param>
/// <param name="Permissions">The access rights the pages are given.</param>
/// <param name="Kind">How the pages were measured.</param>
public sealed record MeasuredRegion(string Name, ulong Address, ulong Size, MemoryPermissions Permissions, KeepPageKind Kind);
