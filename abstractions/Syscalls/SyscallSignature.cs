namespace Donjon.Abstractions.Syscalls;

/// <summary>The declaration of one syscall: what the shim must copy in and out for it.</summary>
/// <param name="Number">The x86-64 Linux syscall number.</param>
/// <param name="Name">The syscall's name, for example <c>write</c>.</param>
/// <param name="Arguments">One entry per argument the syscall takes, in order (at most six).</param>
public sealed record SyscallSignature(int Number, string Name, IReadOnlyList<SyscallArgument> Arguments);

/// <summary>How one syscall argument crosses the keep boundary.</summary>
/// <param name="Kind">What the argument is.</param>
/// <param name="LengthArgument">
/// For buffers and iovec arrays whose length another argument gives: that argument's index (0-5) (for an output buffer
/// it may be a <see cref="ArgumentKind.ValueResultLength"/> argument, whose value is then its capacity); for the arrays
/// (<see cref="ArgumentKind.InputArray"/>, <see cref="ArgumentKind.OutputArray"/>, <see cref="ArgumentKind.InOutArray"/>):
/// the index of the argument that gives the element count; otherwise -1.
/// </param>
/// <param name="FixedSize">
/// For buffers of a fixed size (a <c>struct stat</c>, a <c>timespec</c>): that size in bytes; for the arrays: the size
/// of one element in bytes (1-65535); for a value-result length: its width (4 or 8); for an output buffer sized by a
/// value-result length: its maximum capacity; otherwise 0.
/// </param>
public sealed record SyscallArgument(ArgumentKind Kind, int LengthArgument = -1, int FixedSize = 0)
{
    /// <summary>
    /// For a <see cref="ArgumentKind.Selected"/> argument (configuration page 1.5): the shapes the argument takes, one per
    /// value of its selector argument (<see cref="LengthArgument"/>); <see langword="null"/> for every other kind.
    /// </summary>
    public IReadOnlyList<ArgumentChoice>? Choices { get; init; }

    /// <summary>
    /// An argument whose shape the value of another argument picks (configuration page 1.5), such as <c>fcntl</c>'s third
    /// argument, a <c>struct flock *</c> for <c>F_GETLK</c> and a plain value for <c>F_GETFL</c>. The shim and the host
    /// compare the selector's low 32 bits (an <c>int</c> or <c>unsigned int</c> command, as Linux reads it) with each
    /// choice's <see cref="ArgumentChoice.SelectorValue"/>; a value no choice names makes the argument a
    /// <see cref="ArgumentKind.Value"/>.
    /// </summary>
    /// <param name="selectorArgument">The index of the selector, a <see cref="ArgumentKind.Value"/> argument.</param>
    /// <param name="choices">The shapes by selector value: 1-64 of them, each value once.</param>
    /// <returns>The argument declaration.</returns>
    public static SyscallArgument Selected(int selectorArgument, params IReadOnlyList<ArgumentChoice> choices) =>
        new(ArgumentKind.Selected, selectorArgument) { Choices = choices };

    /// <summary>A plain value, passed as it is.</summary>
    public static SyscallArgument Value { get; } = new(ArgumentKind.Value);

    /// <summary>A NUL-terminated string the shim copies in (at most 4096 bytes with its NUL).</summary>
    public static SyscallArgument CString { get; } = new(ArgumentKind.CString);

    /// <summary>An input buffer whose length argument <paramref name="lengthArgument"/> gives.</summary>
    /// <param name="lengthArgument">The index of the length argument.</param>
    /// <returns>The argument declaration.</returns>
    public static SyscallArgument Input(int lengthArgument) => new(ArgumentKind.InputBuffer, lengthArgument);

    /// <summary>An output buffer whose capacity argument <paramref name="lengthArgument"/> gives.</summary>
    /// <param name="lengthArgument">The index of the capacity argument.</param>
    /// <returns>The argument declaration.</returns>
    public static SyscallArgument Output(int lengthArgument) => new(ArgumentKind.OutputBuffer, lengthArgument);

    /// <summary>An output buffer of a fixed size.</summary>
    /// <param name="size">The size in bytes.</param>
    /// <returns>The argument declaration.</returns>
    public static SyscallArgument OutputOfSize(int size) => new(ArgumentKind.OutputBuffer, -1, size);

    /// <summary>An input buffer of a fixed size.</summary>
    /// <param name="size">The size in bytes.</param>
    /// <returns>The argument declaration.</returns>
    public static SyscallArgument InputOfSize(int size) => new(ArgumentKind.InputBuffer, -1, size);

    /// <summary>An array the call reads: <paramref name="countArgument"/> elements of <paramref name="elementSize"/> bytes each.</summary>
    /// <param name="countArgument">The index of the argument that gives the element count.</param>
    /// <param name="elementSize">The size of one element in bytes (1-65535).</param>
    /// <returns>The argument declaration.</returns>
    public static SyscallArgument InputArray(int countArgument, int elementSize) => new(ArgumentKind.InputArray, countArgument, elementSize);

    /// <summary>An array the call writes: room for <paramref name="countArgument"/> elements of <paramref name="elementSize"/> bytes each.</summary>
    /// <param name="countArgument">The index of the argument that gives the element count.</param>
    /// <param name="elementSize">The size of one element in bytes (1-65535).</param>
    /// <returns>The argument declaration.</returns>
    public static SyscallArgument OutputArray(int countArgument, int elementSize) => new(ArgumentKind.OutputArray, countArgument, elementSize);

    /// <summary>
    /// An array the call reads and writes in place, such as <c>poll</c>'s <c>struct pollfd fds[nfds]</c>:
    /// <paramref name="countArgument"/> elements of <paramref name="elementSize"/> bytes each.
    /// </summary>
    /// <param name="countArgument">The index of the argument that gives the element count.</param>
    /// <param name="elementSize">The size of one element in bytes (1-65535).</param>
    /// <returns>The argument declaration.</returns>
    public static SyscallArgument InOutArray(int countArgument, int elementSize) => new(ArgumentKind.InOutArray, countArgument, elementSize);

    /// <summary>
    /// A value-result length such as <c>accept</c>'s <c>socklen_t *addrlen</c>: <paramref name="width"/> bytes the shim
    /// copies in and the handler may write back whole (the handler sees them as the argument's input and returns the new
    /// value as its output). It may size an output buffer declared by <see cref="OutputSizedBy"/>.
    /// </summary>
    /// <param name="width">The width of the value in bytes: 4 (<c>socklen_t</c>, <c>int</c>) or 8 (<c>size_t</c>).</param>
    /// <returns>The argument declaration.</returns>
    public static SyscallArgument ValueResultLength(int width = 4) => new(ArgumentKind.ValueResultLength, -1, width);

    /// <summary>
    /// An output buffer whose capacity is the value behind another argument, a <see cref="ValueResultLength"/> (as
    /// <c>accept</c>'s <c>addr</c> is sized by <c>*addrlen</c>), and never more than <paramref name="maxSize"/> bytes. Its
    /// capacity is the smaller of the two; the handler writes at most that many bytes and reports the full length through
    /// the value-result argument, as Linux does.
    /// </summary>
    /// <param name="valueResultArgument">The index of the <see cref="ArgumentKind.ValueResultLength"/> argument.</param>
    /// <param name="maxSize">The most bytes the buffer may carry (1-65535), for example 128 for a <c>struct sockaddr_storage</c>.</param>
    /// <returns>The argument declaration.</returns>
    public static SyscallArgument OutputSizedBy(int valueResultArgument, int maxSize) => new(ArgumentKind.OutputBuffer, valueResultArgument, maxSize);

    /// <summary>A buffer of a fixed size the call reads and writes back in place, such as <c>ppoll</c>'s <c>struct timespec *tmo_p</c>.</summary>
    /// <param name="size">The size in bytes (1-65535).</param>
    /// <returns>The argument declaration.</returns>
    public static SyscallArgument InOutOfSize(int size) => new(ArgumentKind.InOutBuffer, -1, size);

    /// <summary>
    /// A message the call sends (<see cref="ArgumentKind.SendMessage"/>): <c>sendmsg</c>'s <c>struct msghdr *</c>, or, with
    /// <paramref name="countArgument"/>, <c>sendmmsg</c>'s <c>struct mmsghdr *</c> array of that many elements.
    /// </summary>
    /// <param name="countArgument">The index of the argument that gives the element count of a <c>struct mmsghdr</c> array; -1 for one <c>struct msghdr</c>.</param>
    /// <returns>The argument declaration.</returns>
    public static SyscallArgument SendMessage(int countArgument = -1) => new(ArgumentKind.SendMessage, countArgument);

    /// <summary>
    /// A message the call receives into (<see cref="ArgumentKind.ReceiveMessage"/>): <c>recvmsg</c>'s <c>struct msghdr *</c>,
    /// or, with <paramref name="countArgument"/>, <c>recvmmsg</c>'s <c>struct mmsghdr *</c> array of that many elements.
    /// </summary>
    /// <param name="countArgument">The index of the argument that gives the element count of a <c>struct mmsghdr</c> array; -1 for one <c>struct msghdr</c>.</param>
    /// <returns>The argument declaration.</returns>
    public static SyscallArgument ReceiveMessage(int countArgument = -1) => new(ArgumentKind.ReceiveMessage, countArgument);

    /// <summary>A pointer that never crosses the boundary (<see cref="ArgumentKind.Opaque"/>): the handler sees 1 when it is not NULL, else 0.</summary>
    public static SyscallArgument Opaque { get; } = new(ArgumentKind.Opaque);

    /// <summary>
    /// A signal mask the shim applies around the call (<see cref="ArgumentKind.SignalMask"/>), such as <c>ppoll</c>'s
    /// <c>const sigset_t *sigmask</c> whose size argument <paramref name="sizeArgument"/> gives.
    /// </summary>
    /// <param name="sizeArgument">The index of the <c>sigsetsize</c> argument.</param>
    /// <returns>The argument declaration.</returns>
    public static SyscallArgument SignalMask(int sizeArgument) => new(ArgumentKind.SignalMask, sizeArgument);

    /// <summary>
    /// <c>pselect6</c>'s sixth argument, a pointer to a <c>{ const sigset_t *ss; size_t ss_len; }</c> pair: a
    /// <see cref="ArgumentKind.SignalMask"/> of fixed size 16 that the shim reads and applies around the call.
    /// </summary>
    public static SyscallArgument SignalMaskPair { get; } = new(ArgumentKind.SignalMask, -1, 16);
}

/// <summary>What a syscall argument is, as far as crossing the keep boundary is concerned.</summary>
/// <remarks>New kinds may be added in later contract versions; the host refuses a declaration whose kind it does not know.</remarks>
public enum ArgumentKind
{
    /// <summary>A plain value (a number, a descriptor, flags). Passed unchanged.</summary>
    Value = 0,

    /// <summary>A pointer to bytes the call reads. The shim copies them in.</summary>
    InputBuffer = 1,

    /// <summary>A pointer to bytes the call writes. The shim copies the handler's output back, never more than the capacity.</summary>
    OutputBuffer = 2,

    /// <summary>A pointer to bytes the call reads and writes.</summary>
    InOutBuffer = 3,

    /// <summary>A pointer to a NUL-terminated string the call reads.</summary>
    CString = 4,

    /// <summary>A pointer to an array of <c>struct iovec</c> the call reads from; the handler sees the bytes concatenated.</summary>
    InputIovec = 5,

    /// <summary>A pointer to an array of <c>struct iovec</c> the call writes to; the handler returns bytes the shim scatters.</summary>
    OutputIovec = 6,

    /// <summary>
    /// A pointer to an array of N elements of S bytes the call reads, where N is another (value) argument
    /// (<see cref="SyscallArgument.LengthArgument"/>) and S is <see cref="SyscallArgument.FixedSize"/>. The shim copies
    /// N × S bytes in; it refuses N above 1024 with <c>EINVAL</c>.
    /// </summary>
    InputArray = 7,

    /// <summary>
    /// A pointer to an array of N elements of S bytes the call writes (N and S as for <see cref="InputArray"/>). The
    /// handler has N × S bytes of capacity; the shim copies back what it returns, never more.
    /// </summary>
    OutputArray = 8,

    /// <summary>
    /// A pointer to an array of N elements of S bytes the call reads and writes in place, such as <c>poll</c>'s
    /// <c>struct pollfd fds[nfds]</c> (N and S as for <see cref="InputArray"/>).
    /// </summary>
    InOutArray = 9,

    /// <summary>
    /// A pointer to a length the call reads and writes back, such as <c>accept</c>'s <c>socklen_t *addrlen</c>:
    /// <see cref="SyscallArgument.FixedSize"/> bytes (4 or 8), copied in and written back whole (configuration page 1.3).
    /// An output buffer whose <see cref="SyscallArgument.LengthArgument"/> names such an argument has the value behind it
    /// as its capacity, at most its own <see cref="SyscallArgument.FixedSize"/>; the shim refuses a negative value with
    /// <c>EINVAL</c>, and such a buffer with a NULL length pointer with <c>EFAULT</c>.
    /// </summary>
    ValueResultLength = 10,

    /// <summary>
    /// A message the call sends (configuration page 1.4): a <c>struct msghdr *</c>, or, when
    /// <see cref="SyscallArgument.LengthArgument"/> names a count argument, a <c>struct mmsghdr *</c> array of that many
    /// elements (the shim sends at most 64 and lowers the count argument). The handler's input is one record per message
    /// (<c>docs/protocol.md</c> §3, "Message records"): a 32-byte header, then the name, the control data and the data of
    /// its iovecs joined. For an array the handler returns the records whole, with each message's <c>msg_len</c> in its header.
    /// </summary>
    SendMessage = 11,

    /// <summary>
    /// A message the call receives into (configuration page 1.4): a <c>struct msghdr *</c>, or a <c>struct mmsghdr *</c>
    /// array as for <see cref="SendMessage"/>. The handler's input is the records' headers, each with the capacities of the
    /// name, control and data parts; its output is the records whole, each header giving the name's full length, the
    /// control and data bytes written, <c>msg_flags</c> and (array) <c>msg_len</c>, which the shim writes back.
    /// </summary>
    ReceiveMessage = 12,

    /// <summary>A pointer that never crosses the boundary (configuration page 1.4): its argument value is 1 when it is not NULL, else 0.</summary>
    Opaque = 13,

    /// <summary>
    /// A signal mask (configuration page 1.4) that the shim itself applies around the call, as Linux's <c>ppoll</c>,
    /// <c>pselect6</c> and <c>epoll_pwait</c> do: with a <see cref="SyscallArgument.LengthArgument"/>, a <c>sigset_t *</c>
    /// whose size that argument gives (anything but 8 is the shim's <c>EINVAL</c>); with no length argument and a
    /// <see cref="SyscallArgument.FixedSize"/> of 16, <c>pselect6</c>'s pointer to a <c>{ sigset_t *, size_t }</c> pair.
    /// Never sent: its argument value is 1 when a mask is given, else 0.
    /// </summary>
    SignalMask = 14,

    /// <summary>
    /// An argument whose shape another argument picks (configuration page 1.5): <see cref="SyscallArgument.LengthArgument"/>
    /// is the selector (a <see cref="Value"/> argument) and <see cref="SyscallArgument.Choices"/> give, per selector value, a
    /// fixed-size <see cref="InputBuffer"/>, <see cref="OutputBuffer"/> or <see cref="InOutBuffer"/>, or a
    /// <see cref="Value"/>. A selector value no choice names makes it a <see cref="Value"/>. At most one per syscall.
    /// </summary>
    Selected = 15,
}

/// <summary>One shape of a <see cref="ArgumentKind.Selected"/> argument (configuration page 1.5).</summary>
/// <param name="SelectorValue">The value of the selector's low 32 bits that picks this shape (for <c>fcntl</c>: the command, <c>F_GETLK</c> = 5).</param>
/// <param name="Kind">The shape: <see cref="ArgumentKind.Value"/>, or a buffer of kind <see cref="ArgumentKind.InputBuffer"/>, <see cref="ArgumentKind.OutputBuffer"/> or <see cref="ArgumentKind.InOutBuffer"/>.</param>
/// <param name="FixedSize">A buffer's size in bytes (1-65535); 0 for a <see cref="ArgumentKind.Value"/>.</param>
public sealed record ArgumentChoice(uint SelectorValue, ArgumentKind Kind, int FixedSize = 0);
