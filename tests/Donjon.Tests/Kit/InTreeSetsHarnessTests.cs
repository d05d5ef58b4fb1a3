using Donjon.Abstractions.Syscalls;
using Donjon.Conformance;
using Donjon.Syscalls.Core;
using Donjon.Syscalls.Files;
using Donjon.Syscalls.Net;

namespace Donjon.Tests.Kit;

/// <summary>
/// The conformance harness's signature check (<see cref="SyscallSetHarness.SignatureProblems"/>) accepts every
/// in-tree handler set and a valid declaration of every argument kind of docs/protocol.md §2 (the net set's messages
/// and signal masks included), and refuses a broken declaration of each of kinds 11-14.
/// </summary>
public sealed class InTreeSetsHarnessTests
{
    private static readonly string[] Names = ["core", "files", "net"];

    public static TheoryData<string> Sets => new(Names);

    private static ISyscallHandlerSet Create(string name) => name switch
    {
        "core" => new CoreSyscalls(),
        "files" => new FileSyscalls(),
        _ => new NetSyscalls(),
    };

    [Theory]
    [MemberData(nameof(Sets))]
    public void An_in_tree_set_has_no_signature_problem(string name) =>
        SyscallSetHarness.SignatureProblems(Create(name)).Should().BeEmpty();

    [Fact]
    public void The_in_tree_sets_and_two_more_declarations_cover_every_argument_kind_and_pass()
    {
        // No in-tree set declares an input array or an opaque pointer: a valid declaration of each stands in.
        var extra = new DeclaredOnly(
        [
            new SyscallSignature(500, "input_array", [new SyscallArgument(ArgumentKind.InputArray, 1, 8), SyscallArgument.Value]),
            new SyscallSignature(501, "opaque", [SyscallArgument.Value, new SyscallArgument(ArgumentKind.Opaque)]),
        ]);
        SyscallSetHarness.SignatureProblems(extra).Should().BeEmpty();
        var kinds = Names.Select(Create).Append(extra).SelectMany(set => set.Syscalls).SelectMany(s => s.Arguments).Select(a => a.Kind).ToHashSet();
        kinds.Should().BeEquivalentTo(Enum.GetValues<ArgumentKind>());
    }

    [Fact]
    public void A_broken_declaration_of_each_1_4_kind_is_a_problem()
    {
        var set = new DeclaredOnly(
        [
            new SyscallSignature(46, "sendmsg", [SyscallArgument.Value, new SyscallArgument(ArgumentKind.SendMessage, -1, 8), SyscallArgument.Value]),
            new SyscallSignature(47, "recvmsg", [SyscallArgument.Value, new SyscallArgument(ArgumentKind.ReceiveMessage, -1, 0), new SyscallArgument(ArgumentKind.SendMessage, -1, 0)]),
            new SyscallSignature(271, "ppoll", [SyscallArgument.Value, SyscallArgument.Value, new SyscallArgument(ArgumentKind.Opaque, 1, 0), new SyscallArgument(ArgumentKind.SignalMask, -1, 0)]),
        ]);
        SyscallSetHarness.SignatureProblems(set).Should().HaveCount(5)
            .And.Contain(p => p.Contains("syscall 46 'sendmsg', argument 1 (SendMessage): takes no fixed size"))
            .And.Contain(p => p.Contains("syscall 47 'recvmsg', argument 1 (ReceiveMessage): is one of several message arguments"))
            .And.Contain(p => p.Contains("syscall 47 'recvmsg', argument 2 (SendMessage): is one of several message arguments"))
            .And.Contain(p => p.Contains("syscall 271 'ppoll', argument 2 (Opaque): takes neither a length argument nor a fixed size"))
            .And.Contain(p => p.Contains("syscall 271 'ppoll', argument 3 (SignalMask): needs either a Value length argument"));
    }

    private sealed class DeclaredOnly(IReadOnlyList<SyscallSignature> syscalls) : ISyscallHandlerSet
    {
        public string Name => "declared-only";

        public IReadOnlyList<SyscallSignature> Syscalls => syscalls;

        public ValueTask<SyscallResult> HandleAsync(SyscallRequest request, Abstractions.Sessions.IKeepSession session, CancellationToken cancellationToken) =>
            throw new NotSupportedException();
    }
}
