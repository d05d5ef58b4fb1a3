using System.Buffers.Binary;
using Donjon.Abstractions.Sessions;
using Donjon.Abstractions.Syscalls;
using Donjon.Syscalls.Core;
using Donjon.Syscalls.Net.Interop;

namespace Donjon.Syscalls.Net.Handlers;

/// <summary>
/// <c>sendmsg</c>, <c>recvmsg</c>, <c>sendmmsg</c> and <c>recvmmsg</c>. Each message crosses as one record
/// (<see cref="MessageRecord"/>, <c>docs/protocol.md</c> §3 "Message records"), and is sent or received by one host
/// <c>sendmsg</c>/<c>recvmsg</c> with a single iovec. Control data: only <c>SCM_RIGHTS</c>, only on an <c>AF_UNIX</c>
/// socket whose peer is the keep's own (a <c>socketpair</c>); anything else is <c>EINVAL</c>. The descriptors cross as
/// host descriptors and come back as keep numbers of the same open files.
/// </summary>
internal static class MessageCalls
{
    private const int SolSocket = 1;
    private const int ScmRights = 1;
    private const int SoPeerCredentials = 17;
    private const int SoDomain = 39;
    private const int SoProtocol = 38;
    private const int SoType = 3;
    private const int SoReceiveTimeout = 20;
    private const int SoSendTimeout = 21;
    private const int MsgControlTruncated = 0x8;
    private const int MsgTrunc = 0x20;
    private const int MsgWaitForOne = 0x10000;
    private const int MsgCmsgCloseOnExec = 0x40000000;
    private const int CmsgHeaderSize = 16;
    private const int MaxDescriptorsPerMessage = 253; // Linux's SCM_MAX_FD

    /// <summary><c>sendmsg(fd, msg, flags)</c>.</summary>
    public static SyscallResult Send(SyscallRequest request, IKeepSession session, CancellationToken cancellationToken)
    {
        if (!Descriptors.TryGetSocket(session, request.Int32(0), out KeepSocket socket, out SyscallResult error))
        {
            return error;
        }

        ReadOnlyMemory<byte> records = request.Input(1);
        if (!MessageRecord.TryParse(records.Span, 1, out List<MessageRecord> messages))
        {
            return SyscallResult.Error(Errno.EFAULT);
        }

        long sent = SendOne(request, session, socket, records, messages[0], request.Int32(2), cancellationToken);
        return RequestReader.FromHost(sent);
    }

    /// <summary><c>sendmmsg(fd, msgvec, vlen, flags)</c>: the messages done, each one's <c>msg_len</c> in its record.</summary>
    public static SyscallResult SendMany(SyscallRequest request, IKeepSession session, CancellationToken cancellationToken)
    {
        if (!Descriptors.TryGetSocket(session, request.Int32(0), out KeepSocket socket, out SyscallResult error))
        {
            return error;
        }

        ReadOnlyMemory<byte> records = request.Input(1);
        int count = (int)Math.Min(request.Argument(2), int.MaxValue);
        if (!MessageRecord.TryParse(records.Span, count, out List<MessageRecord> messages) || records.Length != request.OutputCapacity(1))
        {
            return SyscallResult.Error(Errno.EFAULT);
        }

        byte[] reply = records.ToArray();
        int done = 0;
        long first = 0;
        foreach (MessageRecord message in messages)
        {
            long sent = SendOne(request, session, socket, records, message, request.Int32(3), cancellationToken);
            if (sent < 0)
            {
                first = sent;
                break;
            }

            BinaryPrimitives.WriteUInt32LittleEndian(reply.AsSpan(message.Offset + MessageRecord.LengthOffset), (uint)sent);
            done++;
        }

        return done == 0 && messages.Count > 0
            ? RequestReader.FromHost(first)
            : new SyscallResult(done, done == 0 ? [] : [new SyscallOutput(1, reply)]);
    }

    /// <summary><c>recvmsg(fd, msg, flags)</c>.</summary>
    public static SyscallResult Receive(SyscallRequest request, IKeepSession session, CancellationToken cancellationToken) =>
        Receive(request, session, Memory<byte>.Empty, cancellationToken);

    /// <summary>
    /// <c>recvmsg(fd, msg, flags)</c>, the record written straight into <paramref name="room"/>, the call's output room in
    /// the shared block (empty: a buffer of its own). The data is received into the room; the name and the control data
    /// are received into private buffers first, since the control data is read again to translate descriptors.
    /// </summary>
    public static SyscallResult Receive(SyscallRequest request, IKeepSession session, Memory<byte> room, CancellationToken cancellationToken)
    {
        if (!Descriptors.TryGetSocket(session, request.Int32(0), out KeepSocket socket, out SyscallResult error))
        {
            return error;
        }

        if (!MessageRecord.TryParse(request.Input(1).Span, 1, out List<MessageRecord> messages) || request.Input(1).Length != request.OutputCapacity(1))
        {
            return SyscallResult.Error(Errno.EFAULT);
        }

        int capacity = request.OutputCapacity(1);
        Memory<byte> reply = room.Length == capacity ? room : new byte[capacity];
        request.Input(1).Span[..MessageRecord.HeaderSize].CopyTo(reply.Span);
        long received = ReceiveOne(session, socket, messages[0], reply.Span, request.Int32(2), cancellationToken);
        return received < 0 ? RequestReader.FromHost(received) : new SyscallResult(received, [new SyscallOutput(1, reply)]);
    }

    /// <summary>
    /// <c>recvmmsg(fd, msgvec, vlen, flags, timeout)</c>: the first message waits as the socket and flags say, the others
    /// are taken only while queued (as with <c>MSG_WAITFORONE</c>); <paramref name="request"/>'s timeout is not applied.
    /// </summary>
    public static SyscallResult ReceiveMany(SyscallRequest request, IKeepSession session, CancellationToken cancellationToken)
    {
        if (!Descriptors.TryGetSocket(session, request.Int32(0), out KeepSocket socket, out SyscallResult error))
        {
            return error;
        }

        int count = (int)Math.Min(request.Argument(2), int.MaxValue);
        if (!MessageRecord.TryParse(request.Input(1).Span, count, out List<MessageRecord> messages) || request.Input(1).Length != request.OutputCapacity(1))
        {
            return SyscallResult.Error(Errno.EFAULT);
        }

        if (messages.Count == 0)
        {
            return SyscallResult.Success(0);
        }

        byte[] reply = new byte[request.OutputCapacity(1)];
        int flags = request.Int32(3) & ~MsgWaitForOne;
        int done = 0;
        long first = 0;
        foreach (MessageRecord message in messages)
        {
            request.Input(1).Span.Slice(message.Offset, MessageRecord.HeaderSize).CopyTo(reply.AsSpan(message.Offset));
            long received = ReceiveOne(session, socket, message, reply, done == 0 ? flags : flags | Kernel.DontWait, cancellationToken);
            if (received < 0)
            {
                first = received;
                break;
            }

            BinaryPrimitives.WriteUInt32LittleEndian(reply.AsSpan(message.Offset + MessageRecord.LengthOffset), (uint)received);
            done++;
        }

        return done == 0 ? RequestReader.FromHost(first) : new SyscallResult(done, [new SyscallOutput(1, reply)]);
    }

    /// <summary>Sends one message: the bytes sent, or minus errno.</summary>
    private static long SendOne(SyscallRequest request, IKeepSession session, KeepSocket socket, ReadOnlyMemory<byte> records, MessageRecord message, int flags, CancellationToken cancellationToken)
    {
        ReadOnlySpan<byte> all = records.Span;
        ReadOnlySpan<byte> name = all.Slice(message.NameOffset, message.NameSize);
        if (message.NamePresent && message.NameSize > 0 && SocketCalls.DeniedDestination(session, socket, name, "send", out SyscallResult denied))
        {
            return denied.Value;
        }

        byte[]? control = null;
        if (message.ControlSize > 0)
        {
            long translated = TranslateOutgoing(session, socket, all.Slice(message.ControlOffset, message.ControlSize), out control);
            if (translated < 0)
            {
                return translated;
            }
        }

        ReadOnlyMemory<byte> data = records.Slice(message.DataOffset, message.DataSize);
        int host = socket.HostDescriptor;
        bool blocking = (flags & Kernel.DontWait) == 0 && !Waiting.IsNonBlocking(host);
        bool stream = socket.Type == SocketAddress.Stream;
        long sent = 0;
        while (true)
        {
            // The control data goes with the first bytes only.
            long result = Kernel.SendMessage(host, message.NamePresent ? name : [], sent == 0 ? control : null, data.Span[(int)sent..], flags | Kernel.DontWait | Kernel.NoSignal);
            if (result >= 0)
            {
                sent += result;
                if (!blocking || !stream || sent >= data.Length)
                {
                    return sent;
                }

                continue;
            }

            if (result != -Errno.EAGAIN || !blocking)
            {
                return sent > 0 ? sent : result;
            }

            long waited = Waiting.For(host, Kernel.PollOut, Waiting.SocketTimeout(host, SoSendTimeout), cancellationToken);
            if (waited != Waiting.Ready)
            {
                return sent > 0 ? sent : waited;
            }
        }
    }

    /// <summary>Receives one message into its record in <paramref name="reply"/>: the bytes received, or minus errno.</summary>
    /// <remarks>
    /// <paramref name="reply"/> may be the call's output room in the shared block, which the keep can change: the data is
    /// received straight into its record's data area and only written there, never read back.
    /// </remarks>
    private static long ReceiveOne(IKeepSession session, KeepSocket socket, MessageRecord message, Span<byte> reply, int flags, CancellationToken cancellationToken)
    {
        int host = socket.HostDescriptor;
        bool blocking = (flags & Kernel.DontWait) == 0 && !Waiting.IsNonBlocking(host);
        Span<byte> data = reply.Slice(message.DataOffset, message.DataSize);
        byte[] name = new byte[message.NamePresent ? SocketAddress.MaxSize : 0];
        byte[] control = new byte[message.ControlSize];
        int hostFlags = (flags & ~(Kernel.WaitAll | MsgCmsgCloseOnExec)) | Kernel.DontWait | MsgCmsgCloseOnExec;
        bool waitAll = (flags & Kernel.WaitAll) != 0 && socket.Type == SocketAddress.Stream && blocking;
        long got = 0;
        int nameLength = 0, controlLength = 0, messageFlags = 0;
        while (true)
        {
            long result = Kernel.ReceiveMessage(host, name, got == 0 ? control : [], data[(int)got..], hostFlags, out int n, out int c, out int f);
            if (result >= 0)
            {
                if (got == 0)
                {
                    nameLength = n;
                    controlLength = c;
                }

                messageFlags |= f;
                if ((flags & MsgTrunc) != 0 && socket.Type == SocketAddress.Datagram)
                {
                    got = result;
                    break;
                }

                got += result;
                if (!waitAll || result == 0 || got >= data.Length)
                {
                    break;
                }

                continue;
            }

            if (got > 0)
            {
                break;
            }

            if (result != -Errno.EAGAIN || !blocking)
            {
                return result;
            }

            long waited = Waiting.For(host, Kernel.PollIn, Waiting.SocketTimeout(host, SoReceiveTimeout), cancellationToken);
            if (waited != Waiting.Ready)
            {
                return waited;
            }
        }

        // msg_flags says MSG_CMSG_CLOEXEC only when the keep asked for it (the host always does).
        messageFlags = (messageFlags & ~MsgCmsgCloseOnExec) | (flags & MsgCmsgCloseOnExec);
        if (controlLength > 0)
        {
            controlLength = TranslateIncoming(session, control.AsSpan(0, controlLength), (flags & MsgCmsgCloseOnExec) != 0, ref messageFlags);
        }

        Span<byte> record = reply[message.Offset..];
        int dataWritten = (int)Math.Min(got, data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(record[MessageRecord.NameSizeOffset..], message.NamePresent ? (uint)nameLength : 0);
        BinaryPrimitives.WriteUInt32LittleEndian(record[MessageRecord.ControlSizeOffset..], (uint)controlLength);
        BinaryPrimitives.WriteUInt32LittleEndian(record[MessageRecord.DataSizeOffset..], (uint)dataWritten);
        BinaryPrimitives.WriteUInt32LittleEndian(record[MessageRecord.FlagsOffset..], (uint)messageFlags);
        name.AsSpan(0, Math.Min(Math.Min(nameLength, message.NameSize), name.Length)).CopyTo(reply[message.NameOffset..]);
        control.AsSpan(0, controlLength).CopyTo(reply[message.ControlOffset..]);
        return got; // the data is in place already
    }

    /// <summary>
    /// The control data of a send, with keep descriptors replaced by host ones: only <c>SOL_SOCKET</c>/<c>SCM_RIGHTS</c>,
    /// only on an <c>AF_UNIX</c> socket whose peer this keep holds (else <c>EINVAL</c>), only open keep descriptors (else
    /// <c>EBADF</c>). 0, or minus errno.
    /// </summary>
    private static long TranslateOutgoing(IKeepSession session, KeepSocket socket, ReadOnlySpan<byte> untrustedControl, out byte[]? control)
    {
        control = null;
        if (untrustedControl.Length < CmsgHeaderSize)
        {
            return 0; // no complete header: no control message, as CMSG_FIRSTHDR says
        }

        byte[] copy = untrustedControl.ToArray();
        var passed = new List<IOpenFile>();
        int position = 0;
        while (copy.Length - position >= CmsgHeaderSize)
        {
            ulong untrustedLength = BinaryPrimitives.ReadUInt64LittleEndian(copy.AsSpan(position));
            int level = BinaryPrimitives.ReadInt32LittleEndian(copy.AsSpan(position + 8));
            int type = BinaryPrimitives.ReadInt32LittleEndian(copy.AsSpan(position + 12));
            if (untrustedLength < CmsgHeaderSize || untrustedLength > (ulong)(copy.Length - position))
            {
                return -Errno.EINVAL;
            }

            int length = (int)untrustedLength;
            if (level != SolSocket || type != ScmRights || (length - CmsgHeaderSize) % 4 != 0 || !PeerIsInKeep(socket))
            {
                return -Errno.EINVAL;
            }

            int count = (length - CmsgHeaderSize) / 4;
            if (count + passed.Count > MaxDescriptorsPerMessage)
            {
                return -Errno.EINVAL;
            }

            for (int k = 0; k < count; k++)
            {
                Span<byte> slot = copy.AsSpan(position + CmsgHeaderSize + (4 * k), 4);
                if (!session.Files.TryGet(BinaryPrimitives.ReadInt32LittleEndian(slot), out IOpenFile? file))
                {
                    return -Errno.EBADF;
                }

                BinaryPrimitives.WriteInt32LittleEndian(slot, file.HostDescriptor);
                passed.Add(file);
            }

            position += (length + 7) & ~7;
        }

        PassedFiles.Of(session).Remember(passed);
        control = copy;
        return 0;
    }

    /// <summary>
    /// Replaces the host descriptors of received <c>SCM_RIGHTS</c> with keep numbers of the same open files; other control
    /// messages pass unchanged. Returns the control length kept: a descriptor the table cannot take ends it, with
    /// <c>MSG_CTRUNC</c>, and the host descriptors not given to the keep are closed.
    /// </summary>
    private static int TranslateIncoming(IKeepSession session, Span<byte> control, bool closeOnExec, ref int messageFlags)
    {
        int position = 0;
        PassedFiles passed = PassedFiles.Of(session);
        while (control.Length - position >= CmsgHeaderSize)
        {
            int length = (int)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(control[position..]), (ulong)(control.Length - position));
            int level = BinaryPrimitives.ReadInt32LittleEndian(control[(position + 8)..]);
            int type = BinaryPrimitives.ReadInt32LittleEndian(control[(position + 12)..]);
            if (length < CmsgHeaderSize)
            {
                break;
            }

            if (level == SolSocket && type == ScmRights)
            {
                int count = (length - CmsgHeaderSize) / 4;
                for (int k = 0; k < count; k++)
                {
                    Span<byte> slot = control.Slice(position + CmsgHeaderSize + (4 * k), 4);
                    int hostDescriptor = BinaryPrimitives.ReadInt32LittleEndian(slot);
                    int keep = passed.Install(session, hostDescriptor, closeOnExec);
                    if (keep < 0)
                    {
                        for (int rest = k; rest < count; rest++)
                        {
                            Kernel.Close(BinaryPrimitives.ReadInt32LittleEndian(control.Slice(position + CmsgHeaderSize + (4 * rest), 4)));
                        }

                        messageFlags |= MsgControlTruncated;
                        int kept = CmsgHeaderSize + (4 * k);
                        BinaryPrimitives.WriteUInt64LittleEndian(control[position..], (ulong)kept);
                        return k == 0 ? position : position + kept;
                    }

                    BinaryPrimitives.WriteInt32LittleEndian(slot, keep);
                }
            }

            position += (length + 7) & ~7;
        }

        return Math.Min(position, control.Length);
    }

    /// <summary>Whether the peer of <paramref name="socket"/> is a socket of this keep: an <c>AF_UNIX</c> socket whose peer credentials name Donjon itself.</summary>
    private static bool PeerIsInKeep(KeepSocket socket)
    {
        if (socket.Domain != SocketAddress.Unix || !socket.Bound)
        {
            return false;
        }

        Span<byte> credentials = stackalloc byte[12];
        int length = 12;
        return Kernel.GetOption(socket.HostDescriptor, SolSocket, SoPeerCredentials, credentials, ref length) == 0 && length == 12 &&
            BinaryPrimitives.ReadInt32LittleEndian(credentials) == Environment.ProcessId;
    }

    /// <summary>
    /// The open files this keep sent through <c>SCM_RIGHTS</c>, so a received host descriptor becomes a keep number of the
    /// very same <see cref="IOpenFile"/> (found with <c>kcmp(KCMP_FILE)</c>). When the sender closed it meanwhile, the
    /// descriptor is wrapped anew: a socket, epoll or eventfd as the net set's own, anything else as a plain host file.
    /// </summary>
    private sealed class PassedFiles
    {
        private const int Remembered = 1024;
        private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<IKeepSession, PassedFiles> PerKeep = new();
        private readonly LinkedList<IOpenFile> _files = new();
        private readonly Lock _gate = new();

        public static PassedFiles Of(IKeepSession session) => PerKeep.GetValue(session, _ => new PassedFiles());

        public void Remember(List<IOpenFile> files)
        {
            lock (_gate)
            {
                foreach (IOpenFile file in files)
                {
                    _files.Remove(file);
                    _files.AddFirst(file);
                }

                while (_files.Count > Remembered)
                {
                    _files.RemoveLast();
                }
            }
        }

        /// <summary>Gives host descriptor <paramref name="hostDescriptor"/> (now owned here) a keep number; -1 when the table is full.</summary>
        public int Install(IKeepSession session, int hostDescriptor, bool closeOnExec)
        {
            IOpenFile[] candidates;
            lock (_gate)
            {
                candidates = [.. _files];
            }

            foreach (IOpenFile file in candidates)
            {
                if (Kernel.SameFile(file.HostDescriptor, hostDescriptor))
                {
                    int number = session.Files.Add(file);
                    if (number >= 0)
                    {
                        Kernel.Close(hostDescriptor);
                        if (closeOnExec)
                        {
                            (session.Files as IDescriptorFlags)?.SetDescriptorFlags(number, 1);
                        }

                        return number;
                    }
                }
            }

            IOpenFile wrapped = Wrap(hostDescriptor);
            int added = session.Files.Add(wrapped);
            if (added < 0)
            {
                wrapped.Dispose();
                return -1;
            }

            if (closeOnExec)
            {
                (session.Files as IDescriptorFlags)?.SetDescriptorFlags(added, 1);
            }

            return added;
        }

        private static IOpenFile Wrap(int hostDescriptor)
        {
            long domain = Kernel.GetIntOption(hostDescriptor, SolSocket, SoDomain);
            if (domain >= 0)
            {
                long type = Kernel.GetIntOption(hostDescriptor, SolSocket, SoType);
                long protocol = Kernel.GetIntOption(hostDescriptor, SolSocket, SoProtocol);
                return new KeepSocket(hostDescriptor, NetObjectKind.Socket, (int)domain, (int)Math.Max(type, 0), (int)Math.Max(protocol, 0), bound: true);
            }

            string target = Kernel.DescriptorTarget(hostDescriptor);
            return target switch
            {
                "anon_inode:[eventpoll]" => new KeepSocket(hostDescriptor, NetObjectKind.Epoll),
                "anon_inode:[eventfd]" => new KeepSocket(hostDescriptor, NetObjectKind.EventFd),
                _ => new PassedFile(hostDescriptor, target),
            };
        }
    }

    /// <summary>A host descriptor received through <c>SCM_RIGHTS</c> whose keep open file had gone: read, write, poll and close work on it.</summary>
    private sealed class PassedFile(int hostDescriptor, string description) : IOpenFile
    {
        private readonly Microsoft.Win32.SafeHandles.SafeFileHandle _handle = new(hostDescriptor, ownsHandle: true);

        public int HostDescriptor { get; } = hostDescriptor;

        public string Description { get; } = description;

        public void Dispose() => _handle.Dispose();
    }
}

/// <summary>
/// One message record of a <see cref="ArgumentKind.SendMessage"/> or <see cref="ArgumentKind.ReceiveMessage"/> argument
/// (<c>docs/protocol.md</c> §3 "Message records"): a 32-byte header, then the name, control and data parts, each padded to 8.
/// </summary>
internal readonly record struct MessageRecord(int Offset, int NameSize, int ControlSize, int DataSize, bool NamePresent, bool ControlPresent)
{
    /// <summary>The header's size.</summary>
    public const int HeaderSize = 32;

    /// <summary>u32 name size (or, written back, the name's full length).</summary>
    public const int NameSizeOffset = 0;

    /// <summary>u32 control size.</summary>
    public const int ControlSizeOffset = 4;

    /// <summary>u32 data size.</summary>
    public const int DataSizeOffset = 8;

    /// <summary>u32 <c>msg_flags</c>.</summary>
    public const int FlagsOffset = 12;

    /// <summary>u32 presence bits.</summary>
    public const int PresenceOffset = 16;

    /// <summary>u32 <c>msg_len</c>, written back.</summary>
    public const int LengthOffset = 24;

    /// <summary>Where the name starts in the argument's buffer.</summary>
    public int NameOffset => Offset + HeaderSize;

    /// <summary>Where the control data starts.</summary>
    public int ControlOffset => NameOffset + Pad(NameSize);

    /// <summary>Where the data starts.</summary>
    public int DataOffset => ControlOffset + Pad(ControlSize);

    /// <summary>The record's end.</summary>
    public int End => DataOffset + Pad(DataSize);

    /// <summary>Reads <paramref name="count"/> records filling <paramref name="buffer"/> exactly (the host checked them; this checks again).</summary>
    public static bool TryParse(ReadOnlySpan<byte> buffer, int count, out List<MessageRecord> records)
    {
        records = new List<MessageRecord>(Math.Min(count, 64));
        int position = 0;
        for (int k = 0; k < count; k++)
        {
            if (buffer.Length - position < HeaderSize)
            {
                return false;
            }

            uint name = BinaryPrimitives.ReadUInt32LittleEndian(buffer[(position + NameSizeOffset)..]);
            uint control = BinaryPrimitives.ReadUInt32LittleEndian(buffer[(position + ControlSizeOffset)..]);
            uint data = BinaryPrimitives.ReadUInt32LittleEndian(buffer[(position + DataSizeOffset)..]);
            uint presence = BinaryPrimitives.ReadUInt32LittleEndian(buffer[(position + PresenceOffset)..]);
            long size = HeaderSize + Pad64(name) + Pad64(control) + Pad64(data);
            if (size > buffer.Length - position)
            {
                return false;
            }

            var record = new MessageRecord(position, (int)name, (int)control, (int)data, (presence & 1) != 0, (presence & 2) != 0);
            records.Add(record);
            position = record.End;
        }

        return position == buffer.Length;
    }

    private static int Pad(int size) => (size + 7) & ~7;

    private static long Pad64(uint size) => ((long)size + 7) & ~7L;
}
