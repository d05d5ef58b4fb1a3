using System.Buffers.Binary;
using System.Text;
using Donjon.Abstractions.Images;

namespace Donjon.Tests.Elf;

/// <summary>An initial stack read back from a <see cref="StackImage"/>, as a C library's start-up code would read it.</summary>
/// <param name="Arguments">The strings argv points to.</param>
/// <param name="Environment">The strings envp points to.</param>
/// <param name="AuxiliaryVector">The auxv (tag, value) pairs before <c>AT_NULL</c>, in order.</param>
/// <param name="AuxiliaryVectorEnd">The address just after the <c>AT_NULL</c> pair.</param>
public sealed record InitialStack(
    IReadOnlyList<string> Arguments,
    IReadOnlyList<string> Environment,
    IReadOnlyList<(ulong Tag, ulong Value)> AuxiliaryVector,
    ulong AuxiliaryVectorEnd)
{
    /// <summary>The value of the first auxv entry with <paramref name="tag"/>; fails the test when there is none.</summary>
    public ulong Value(ulong tag)
    {
        AuxiliaryVector.Should().Contain(entry => entry.Tag == tag, $"the auxiliary vector should have tag {tag}");
        return AuxiliaryVector.First(entry => entry.Tag == tag).Value;
    }
}

/// <summary>
/// Parses the stack bytes the host prepared, following the pointers the way <c>_start</c> does, so tests check the
/// layout independently of how <c>StackBuilder</c> wrote it. Every pointer must land inside the stack contents.
/// </summary>
public static class InitialStackReader
{
    /// <summary>Reads argc, argv, envp and auxv starting at the stack's initial pointer.</summary>
    public static InitialStack Read(StackImage stack)
    {
        ulong address = stack.InitialPointer;
        ulong argumentCount = Word(stack, address);
        address += 8;
        var arguments = new List<string>();
        for (ulong index = 0; index < argumentCount; index++, address += 8)
        {
            arguments.Add(CString(stack, Word(stack, address)));
        }

        Word(stack, address).Should().Be(0, "argv ends with a NULL pointer");
        address += 8;
        var environment = new List<string>();
        for (ulong pointer = Word(stack, address); pointer != 0; pointer = Word(stack, address))
        {
            environment.Add(CString(stack, pointer));
            address += 8;
        }

        address += 8;
        var auxiliaryVector = new List<(ulong Tag, ulong Value)>();
        for (ulong tag = Word(stack, address); tag != 0; tag = Word(stack, address))
        {
            auxiliaryVector.Add((tag, Word(stack, address + 8)));
            address += 16;
        }

        return new InitialStack(arguments, environment, auxiliaryVector, address + 16);
    }

    /// <summary>Reads the 64-bit little-endian word at <paramref name="address"/>.</summary>
    public static ulong Word(StackImage stack, ulong address) =>
        BinaryPrimitives.ReadUInt64LittleEndian(Bytes(stack, address, 8));

    /// <summary>Reads <paramref name="size"/> bytes at <paramref name="address"/>, which must lie in the contents.</summary>
    public static ReadOnlySpan<byte> Bytes(StackImage stack, ulong address, int size)
    {
        address.Should().BeGreaterThanOrEqualTo(stack.InitialPointer, "stack pointers point into the prepared contents");
        (address - stack.InitialPointer + (ulong)size).Should().BeLessThanOrEqualTo((ulong)stack.Contents.Length, "stack pointers point into the prepared contents");
        return stack.Contents.Span.Slice((int)(address - stack.InitialPointer), size);
    }

    /// <summary>Reads the NUL-terminated UTF-8 string at <paramref name="address"/>.</summary>
    public static string CString(StackImage stack, ulong address)
    {
        ReadOnlySpan<byte> rest = Bytes(stack, address, (int)((ulong)stack.Contents.Length - (address - stack.InitialPointer)));
        int terminator = rest.IndexOf((byte)0);
        terminator.Should().BeGreaterThanOrEqualTo(0, "every string on the stack is NUL-terminated");
        return Encoding.UTF8.GetString(rest[..terminator]);
    }
}
