using System.Buffers.Binary;
using System.Text;
using Donjon.Abstractions.Images;

namespace Donjon.Host.Images;

/// <summary>
/// Lays out a workload's initial stack as the System V x86-64 ABI (and Linux's <c>execve</c>) does, so the
/// workload's C library finds what it expects at <c>rsp</c>. From <see cref="StackImage.InitialPointer"/> upwards:
/// <code>
/// argc | argv[0..argc) | NULL | envp[0..n) | NULL | auxv (tag, value)... | AT_NULL, 0
/// padding | 16 AT_RANDOM bytes | "x86_64\0" | argv strings | envp strings | AT_EXECFN string | 8 zero bytes = top
/// </code>
/// <c>InitialPointer</c> is 16-byte aligned; <c>Contents</c> runs from it to the top of the stack region.
/// </summary>
internal static class StackBuilder
{
    /// <summary>The <c>AT_PLATFORM</c> string, as Linux gives it on x86-64.</summary>
    public const string Platform = "x86_64";

    /// <summary>The number of random bytes <c>AT_RANDOM</c> points to.</summary>
    public const int RandomBytesSize = 16;

    /// <summary>
    /// How much of the stack the arguments, environment and vectors may take, as a fraction (1/4, as Linux's
    /// <c>ARG_MAX</c> rule), so the workload keeps most of its stack.
    /// </summary>
    private const ulong StackShareDivisor = 4;

    private const ulong EndMarkerSize = 8;

    /// <summary>Builds the initial stack for a region [<paramref name="stackBase"/>, +<paramref name="stackSize"/>).</summary>
    /// <param name="stackBase">The lowest address of the stack region, page-aligned.</param>
    /// <param name="stackSize">The size of the stack region in bytes, a whole number of pages.</param>
    /// <param name="isExecutable">Whether the workload asked for an executable stack.</param>
    /// <param name="arguments">The workload's argv; argv[0] included.</param>
    /// <param name="environment">The workload's environment, as <c>NAME=VALUE</c> strings.</param>
    /// <param name="executableFileName">The <c>AT_EXECFN</c> string: the workload's path as given.</param>
    /// <param name="auxiliaryVector">The auxiliary vector without <c>AT_RANDOM</c>, <c>AT_PLATFORM</c>, <c>AT_EXECFN</c> and <c>AT_NULL</c>, which this adds.</param>
    /// <param name="randomBytes">The 16 bytes for <c>AT_RANDOM</c>.</param>
    /// <exception cref="KeepImageException">A string holds a NUL character, or everything does not fit in a quarter of the stack.</exception>
    public static StackImage Build(
        ulong stackBase,
        ulong stackSize,
        bool isExecutable,
        IReadOnlyList<string> arguments,
        IReadOnlyList<string> environment,
        string executableFileName,
        IReadOnlyList<(ulong Tag, ulong Value)> auxiliaryVector,
        ReadOnlySpan<byte> randomBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(randomBytes.Length, RandomBytesSize);
        List<byte[]> argumentStrings = arguments.Select((argument, index) => CString(argument, $"argument {index}")).ToList();
        List<byte[]> environmentStrings = environment.Select((variable, index) => CString(variable, $"environment entry {index}")).ToList();
        byte[] executableFileNameString = CString(executableFileName, "the workload path (AT_EXECFN)");
        byte[] platformString = CString(Platform, "AT_PLATFORM");

        // Strings, top-down: end marker, AT_EXECFN, environment, arguments (ascending in memory: argv[0] lowest).
        ulong stackTop = stackBase + stackSize;
        ulong stringsSize = (ulong)argumentStrings.Concat(environmentStrings).Sum(bytes => (long)bytes.Length) + (ulong)executableFileNameString.Length;
        ulong budget = stackSize / StackShareDivisor;
        if (stringsSize > budget)
        {
            throw TooLarge(stringsSize, budget);
        }

        ulong stringsStart = stackTop - EndMarkerSize - stringsSize;
        ulong platformAddress = stringsStart - (ulong)platformString.Length;
        ulong randomAddress = (platformAddress - RandomBytesSize) & ~15UL;

        var fullVector = new List<(ulong Tag, ulong Value)>(auxiliaryVector.Count + 4);
        fullVector.AddRange(auxiliaryVector);
        fullVector.Add((AuxiliaryVectorTag.AT_RANDOM, randomAddress));
        fullVector.Add((AuxiliaryVectorTag.AT_EXECFN, 0)); // Patched below, once string addresses are known.
        fullVector.Add((AuxiliaryVectorTag.AT_PLATFORM, platformAddress));
        fullVector.Add((AuxiliaryVectorTag.AT_NULL, 0));

        ulong wordCount = 1 + (ulong)argumentStrings.Count + 1 + (ulong)environmentStrings.Count + 1 + (2 * (ulong)fullVector.Count);
        ulong initialPointer = (randomAddress - (wordCount * 8)) & ~15UL;
        ulong contentsSize = stackTop - initialPointer;
        if (contentsSize > budget)
        {
            throw TooLarge(contentsSize, budget);
        }

        byte[] contents = new byte[contentsSize];
        int At(ulong address) => checked((int)(address - initialPointer));

        ulong stringAddress = stringsStart;
        ulong wordAddress = initialPointer;
        void WriteWord(ulong value)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(contents.AsSpan(At(wordAddress)), value);
            wordAddress += 8;
        }

        ulong PlaceString(byte[] bytes)
        {
            ulong address = stringAddress;
            bytes.CopyTo(contents.AsSpan(At(address)));
            stringAddress += (ulong)bytes.Length;
            return address;
        }

        WriteWord((ulong)argumentStrings.Count);
        foreach (byte[] argument in argumentStrings)
        {
            WriteWord(PlaceString(argument));
        }

        WriteWord(0);
        foreach (byte[] variable in environmentStrings)
        {
            WriteWord(PlaceString(variable));
        }

        WriteWord(0);
        ulong executableFileNameAddress = PlaceString(executableFileNameString);
        foreach ((ulong tag, ulong value) in fullVector)
        {
            WriteWord(tag);
            WriteWord(tag == AuxiliaryVectorTag.AT_EXECFN ? executableFileNameAddress : value);
        }

        platformString.CopyTo(contents.AsSpan(At(platformAddress)));
        randomBytes.CopyTo(contents.AsSpan(At(randomAddress)));
        return new StackImage(stackBase, stackSize, isExecutable, initialPointer, contents);
    }

    /// <summary>Encodes <paramref name="text"/> as a NUL-terminated UTF-8 string; C strings cannot hold NUL.</summary>
    private static byte[] CString(string text, string what)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Contains('\0', StringComparison.Ordinal))
        {
            throw new KeepImageException($"{what} contains a NUL character, which a C string cannot hold; remove it");
        }

        byte[] bytes = new byte[Encoding.UTF8.GetByteCount(text) + 1];
        Encoding.UTF8.GetBytes(text, bytes);
        return bytes;
    }

    private static KeepImageException TooLarge(ulong neededSize, ulong budget) => new(
        $"the arguments and environment need {neededSize} bytes of stack, more than the {budget} bytes (a quarter of limits.stackSize) they may use; pass fewer or shorter arguments or variables, or raise limits.stackSize in plugins.json");
}
