namespace Donjon.Abstractions.Syscalls;

/// <summary>
/// An optional ability of a syscall-handler set: some of its calls' inputs are plain bytes that it only passes on (to a
/// host <c>write</c>, <c>send</c>...), so the host may serve them straight from the shared block, after the one copy the
/// shim made, instead of copying them once more into its own memory. The host type-tests each set for it once, when the
/// set is loaded, and asks <see cref="ReadsInputInPlace"/> for each argument of each syscall the set declares.
/// </summary>
/// <remarks>
/// <para>
/// For an argument the set names here, <see cref="SyscallRequest.Input"/> is memory over the slot's shared block, which
/// the keep can change at any moment, also while the handler reads it. That is harmless for bytes that are written out
/// as they are (the keep could as well have sent other bytes), and wrong for anything the host parses, checks or
/// branches on. The rule: a set names an argument only when its handler never parses, validates or decides anything from
/// its bytes, and does not keep them after it returns. Socket addresses, iovec counts, paths, <c>flock</c> records,
/// message headers and every other structure are read from the host's private copy, made once before they are checked.
/// </para>
/// <para>
/// Only arguments of kind <see cref="ArgumentKind.InputBuffer"/> and <see cref="ArgumentKind.InputIovec"/> (the
/// gathered bytes of an iovec array) are ever served in place; for every other kind the answer is ignored and the input
/// is the private copy, as for a set without this interface. The answer must not change while the set is loaded.
/// </para>
/// </remarks>
public interface IInPlaceInputSyscallHandlerSet : ISyscallHandlerSet
{
    /// <summary>Whether argument <paramref name="argumentIndex"/> of syscall <paramref name="number"/> is plain bytes this set only passes on.</summary>
    /// <param name="number">A syscall number the set declares in <see cref="ISyscallHandlerSet.Syscalls"/>.</param>
    /// <param name="argumentIndex">The argument index, 0-5.</param>
    /// <returns>
    /// <see langword="true"/> when the handler may be given that input as memory over the shared block that the keep can
    /// change while it reads (see the remarks); <see langword="false"/> for a private copy.
    /// </returns>
    bool ReadsInputInPlace(int number, int argumentIndex);
}
