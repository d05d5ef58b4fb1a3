using System.Diagnostics.CodeAnalysis;

namespace Donjon.Abstractions.Sessions;

/// <summary>
/// A keep's descriptor table: keep descriptor numbers mapped to open files. Several numbers may share one open
/// file (after <c>dup</c>); an open file is disposed when its last number is closed.
/// </summary>
/// <remarks>Implementations are safe to use from several threads.</remarks>
public interface IFileDescriptorTable
{
    /// <summary>Gives <paramref name="file"/> the lowest free number not below <paramref name="lowest"/>.</summary>
    /// <param name="file">The open file.</param>
    /// <param name="lowest">The lowest number to consider.</param>
    /// <returns>The new descriptor number, or -1 when the table is full (the caller answers EMFILE).</returns>
    int Add(IOpenFile file, int lowest = 0);

    /// <summary>Looks up descriptor <paramref name="descriptor"/>.</summary>
    /// <param name="descriptor">The keep descriptor number, untrusted.</param>
    /// <param name="file">The open file, when the descriptor is open.</param>
    /// <returns>Whether the descriptor is open.</returns>
    bool TryGet(int descriptor, [MaybeNullWhen(false)] out IOpenFile file);

    /// <summary>Makes <paramref name="descriptor"/> refer to <paramref name="file"/>, closing what it referred to before (as <c>dup2</c>).</summary>
    /// <param name="descriptor">The keep descriptor number, untrusted.</param>
    /// <param name="file">The open file.</param>
    /// <returns>Whether the number is within the table's limit.</returns>
    bool Set(int descriptor, IOpenFile file);

    /// <summary>Closes <paramref name="descriptor"/>.</summary>
    /// <param name="descriptor">The keep descriptor number, untrusted.</param>
    /// <returns>Whether the descriptor was open.</returns>
    bool Close(int descriptor);
}

/// <summary>An open file description in a keep: a host descriptor and what it is.</summary>
public interface IOpenFile : IDisposable
{
    /// <summary>The host descriptor that backs the file.</summary>
    int HostDescriptor { get; }

    /// <summary>What the file is, for logs and <c>/proc</c>-like answers, for example <c>stdout</c> or <c>/etc/hosts</c>.</summary>
    string Description { get; }
}
