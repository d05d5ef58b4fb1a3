using Donjon.Abstractions.Syscalls;
using Donjon.Conformance;
using Donjon.Syscalls.Core;
using Donjon.Syscalls.Files;
using Donjon.Syscalls.Net;

namespace Donjon.Tests.Kit;

/// <summary>
/// The conformance harness's signature check (<see cref="SyscallSetHarness.SignatureProblems"/>) accepts every
/// in-tree handler set and a valid declaration of every argument kind of docs/protocol.md §2 (the net set's messages
/// and signal masks included), and refuses a broken declaration of each of kinds 11-15.
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

    [Fact]
    public void A_broken_selected_argument_is_a_problem_and_a_request_takes_the_shape_its_selector_picks()
    {
        var set = new DeclaredOnly(
        [
            new SyscallSignature(72, "fcntl", [SyscallArgument.Value, SyscallArgument.Value,
                SyscallArgument.Selected(1, new ArgumentChoice(5, ArgumentKind.InOutBuffer, 32), new ArgumentChoice(5, ArgumentKind.InputBuffer, 32))]),
            new SyscallSignature(73, "flock", [SyscallArgument.Value, SyscallArgument.Selected(0, new ArgumentChoice(1, ArgumentKind.CString))]),
        ]);
        SyscallSetHarness.SignatureProblems(set).Should().HaveCount(2)
            .And.Contain(p => p.Contains("syscall 72 'fcntl', argument 2 (Selected): gives the choice for selector value 5 twice"))
            .And.Contain(p => p.Contains("syscall 73 'flock', argument 1 (Selected): has a choice for selector value 1 that is neither a Value nor a buffer"));

        // The files set's fcntl: F_GETLK (5) makes argument 2 a 32-byte in/out buffer; F_GETFD (1) leaves it a value.
        SyscallSignature fcntl = new FileSyscalls().Syscalls.Single(s => s.Number == 72);
        SyscallRequest getlk = SyscallSetHarness.RequestFor(fcntl, 5);
        getlk.Input(2).Length.Should().Be(32);
        getlk.OutputCapacity(2).Should().Be(32);
        SyscallRequest getfd = SyscallSetHarness.RequestFor(fcntl, 1);
        getfd.Argument(2).Should().Be(1UL);
        getfd.OutputCapacity(2).Should().Be(0);
    }

    private sealed class DeclaredOnly(IReadOnlyList<SyscallSignature> syscalls) : ISyscallHandlerSet
    {
        public string Name => "declared-only";

        public IReadOnlyList<SyscallSignature> Syscalls => syscalls;

        public ValueTask<SyscallResult> HandleAsync(SyscallRequest request, Abstractions.Sessions.IKeepSession session, CancellationToken cancellationToken) =>
            throw new NotSupportedException();
    }
}
