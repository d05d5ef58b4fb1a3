namespace Donjon.Host.Elf;

/// <summary>
/// A workload file read once into memory, with the report made from exactly those bytes. Passing
/// <see cref="Contents"/> on to <see cref="Images.KeepImageBuilder"/> ensures that what was hashed and checked is
/// what gets loaded, even if the file on disk changes afterwards.
/// </summary>
/// <param name="Path">The path as the user gave it.</param>
/// <param name="Contents">The file's bytes, as read; empty when the file could not be read.</param>
/// <param name="Report">The inspection of <see cref="Contents"/>.</param>
public sealed record WorkloadFile(string Path, ReadOnlyMemory<byte> Contents, ElfReport Report);
