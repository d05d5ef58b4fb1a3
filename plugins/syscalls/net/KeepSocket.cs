using Donjon.Abstractions.Sessions;
using Microsoft.Win32.SafeHandles;

namespace Donjon.Syscalls.Net;

/// <summary>What a descriptor the net set made is.</summary>
internal enum NetObjectKind
{
    /// <summary>A socket.</summary>
    Socket,

    /// <summary>An epoll instance.</summary>
    Epoll,

    /// <summary>An eventfd.</summary>
    EventFd,
}

/// <summary>
/// An open file the net set made: a host descriptor it owns (always <c>FD_CLOEXEC</c> on the host, so nothing Donjon
/// starts inherits it) and, for a socket, its domain, type and protocol, which the policy checks need.
/// </summary>
/// <remarks>Disposing closes the host descriptor once; <see cref="Bound"/> is set under the set's calls and read with a volatile read.</remarks>
internal sealed class KeepSocket : IOpenFile
{
    private readonly SafeFileHandle _handle;
    private volatile bool _bound;

    /// <summary>Wraps host descriptor <paramref name="hostDescriptor"/>, which it now owns.</summary>
    public KeepSocket(int hostDescriptor, NetObjectKind kind, int domain = 0, int type = 0, int protocol = 0, bool bound = false)
    {
        _handle = new SafeFileHandle(hostDescriptor, ownsHandle: true);
        HostDescriptor = hostDescriptor;
        Kind = kind;
        Domain = domain;
        Type = type;
        Protocol = protocol;
        _bound = bound;
        Description = kind switch
        {
            NetObjectKind.Epoll => "anon_inode:[eventpoll]",
            NetObjectKind.EventFd => "anon_inode:[eventfd]",
            _ => $"socket:[{SocketAddress.DomainName(domain)} {(type == SocketAddress.Datagram ? "dgram" : "stream")}]",
        };
    }

    /// <inheritdoc/>
    public int HostDescriptor { get; }

    /// <inheritdoc/>
    public string Description { get; }

    /// <summary>What it is.</summary>
    public NetObjectKind Kind { get; }

    /// <summary>The socket's domain (<c>AF_INET</c> 2, <c>AF_INET6</c> 10, <c>AF_UNIX</c> 1).</summary>
    public int Domain { get; }

    /// <summary>The socket's type without flags (<c>SOCK_STREAM</c> 1, <c>SOCK_DGRAM</c> 2).</summary>
    public int Type { get; }

    /// <summary>The socket's protocol as the keep asked for it.</summary>
    public int Protocol { get; }

    /// <summary>Whether the socket has an address the policy granted (a granted bind, an accepted connection, a socketpair).</summary>
    public bool Bound
    {
        get => _bound;
        set => _bound = value;
    }

    /// <summary>Whether the socket is an IPv4 or IPv6 one, which the network policy governs.</summary>
    public bool IsInternet => Domain is SocketAddress.Inet or SocketAddress.Inet6;

    /// <summary>The protocol name for the policy: <c>udp</c> for a datagram socket, <c>tcp</c> otherwise.</summary>
    public string ProtocolName => Type == SocketAddress.Datagram ? "udp" : "tcp";

    /// <inheritdoc/>
    public void Dispose() => _handle.Dispose();

    /// <inheritdoc/>
    public override string ToString() => $"{Description} (host fd {HostDescriptor})";
}
