using System.Net.Sockets;
using System.Runtime.InteropServices;
using Donjon.Backends.Sdk.Doorbells;
using Donjon.Backends.Sdk.Memory;
using Donjon.Backends.Sdk.Protocol;

namespace Donjon.Tests.Kit;

/// <summary>
/// The SDK's doorbell ports and guest RAM file, as a third-party backend uses them: a real memfd mapping, a real socket
/// line, and a peer thread playing the shim's side of docs/protocol.md §3, "Doorbell".
/// </summary>
public sealed class SdkDoorbellTests
{
    private const int SlotSize = 68 * 1024;

    private static ref int Word(Memory<byte> slot, int offset) => ref MemoryMarshal.Cast<byte, int>(slot.Span[offset..])[0];

    private static void RingLater(Memory<byte> slot, Action? afterRing = null) =>
        _ = Task.Run(async () =>
        {
            await Task.Delay(150);      // long past the spin: the host is asleep in FUTEX_WAIT
            Interlocked.Exchange(ref Word(slot, ProtocolLayout.BlockDoorbellOffset), (int)ProtocolLayout.DoorbellRequest);
            afterRing?.Invoke();
        });

    [Fact]
    public async Task The_futex_port_sees_a_ring_after_sleeping_and_stops_once_the_keep_ended()
    {
        using var block = SharedMemory.Create("donjon-test-block", SlotSize * 2);
        SharedBlock.Initialize(block.Memory, SlotSize, 2);
        var port = new FutexDoorbellPort(block, SlotSize, SlotSize);
        RingLater(port.SharedBlock);

        (await port.WaitForRequestAsync(CancellationToken.None)).Should().BeTrue();
        Word(port.SharedBlock, ProtocolLayout.BlockHostSleepingOffset).Should().Be(0, "the host clears its sleep word when it wakes");
        port.CompleteRequest();
        Word(port.SharedBlock, ProtocolLayout.BlockDoorbellOffset).Should().Be((int)ProtocolLayout.DoorbellReply);

        Word(port.SharedBlock, ProtocolLayout.BlockDoorbellOffset) = 7;          // garbage from the keep: not a request
        _ = Task.Run(async () =>
        {
            await Task.Delay(150);
            port.MarkKeepEnded();
        });
        (await port.WaitForRequestAsync(CancellationToken.None)).Should().BeFalse();
    }

    [Fact]
    public async Task Beside_a_shim_that_says_where_it_runs_the_host_says_where_it_waits_and_keeps_the_shims_sleep_state_apart()
    {
        using var block = SharedMemory.Create("donjon-test-block", SlotSize);
        SharedBlock.Initialize(block.Memory, SlotSize, 1);
        var port = new FutexDoorbellPort(block, 0, SlotSize);
        Memory<byte> slot = port.SharedBlock;
        slot.Span[ProtocolLayout.BlockVersionMinorOffset].Should().Be(1, "a 2.1 block tells the shim it may say where it runs");

        // A 2.1 shim on CPU 4 095 (the largest a TSC_AUX names), running: state 0. No CPU this test runs on is that one,
        // so the host spins (or sleeps), and says where it waits.
        int shimWord = 4096 << ProtocolLayout.SleepingCpuShift;
        Word(slot, ProtocolLayout.BlockShimSleepingOffset) = shimWord;
        int seenWhileWaiting = 0;
        RingLater(slot, () => seenWhileWaiting = Volatile.Read(ref Word(slot, ProtocolLayout.BlockHostSleepingOffset)));
        (await port.WaitForRequestAsync(CancellationToken.None)).Should().BeTrue();

        int cpu = (seenWhileWaiting >>> ProtocolLayout.SleepingCpuShift) - 1;
        cpu.Should().BeInRange(0, Environment.ProcessorCount * 64, "the host's high half is the CPU it waited on, plus 1");
        (seenWhileWaiting & ProtocolLayout.SleepingStateMask).Should().Be(AdaptiveSpin.SpinningUseful ? 1 : 2, "150 ms after the wait began the host sleeps");
        int after = Word(slot, ProtocolLayout.BlockHostSleepingOffset);
        (after & ProtocolLayout.SleepingStateMask).Should().Be(0, "awake again, with its CPU still said");
        (after >>> ProtocolLayout.SleepingCpuShift).Should().BeGreaterThan(0);

        port.CompleteRequest();
        Word(slot, ProtocolLayout.BlockShimSleepingOffset).Should().Be(shimWord, "a running shim's CPU half is not a sleep: no wake, and the host never writes the shim's word");
        DoorbellWait.SaysAsleep(shimWord).Should().BeFalse();
        DoorbellWait.SaysAsleep(shimWord | 1).Should().BeTrue();
        DoorbellWait.SaysAsleep(1).Should().BeTrue("a 2.0 word");
    }

    [Fact]
    public async Task Beside_a_shim_that_says_nothing_the_host_word_is_what_2_0_defined()
    {
        using var block = SharedMemory.Create("donjon-test-block", SlotSize);
        SharedBlock.Initialize(block.Memory, SlotSize, 1);
        var port = new FutexDoorbellPort(block, 0, SlotSize);
        Memory<byte> slot = port.SharedBlock;
        int seenWhileWaiting = -1;
        RingLater(slot, () => seenWhileWaiting = Volatile.Read(ref Word(slot, ProtocolLayout.BlockHostSleepingOffset)));
        (await port.WaitForRequestAsync(CancellationToken.None)).Should().BeTrue();
        seenWhileWaiting.Should().Be(AdaptiveSpin.SpinningUseful ? 1 : 2, "no CPU half for a shim that never said where it runs");
        Word(slot, ProtocolLayout.BlockHostSleepingOffset).Should().Be(0);
    }

    [Fact]
    public void The_guest_ram_file_maps_only_its_window_and_refuses_what_does_not_fit()
    {
        using var ram = GuestRamFile.Create(4 << 20);
        ram.Write(0x10_0000, "DJNB"u8);
        ram.MapWindow(0x10_0000, 2 * SlotSize);

        ram.WindowGuestAddress.Should().Be(0x10_0000);
        ram.WindowSize.Should().Be(2 * SlotSize);
        ram.Memory.Length.Should().Be(2 * SlotSize);
        ram.Memory.Span[..4].ToArray().Should().Equal("DJNB"u8.ToArray(), "the window is the file's bytes at its guest address");

        ram.Invoking(r => r.Write((4 << 20) - 2, "DJNB"u8)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*do not fit in 4194304 bytes of guest RAM*");
        ram.Invoking(r => r.MapWindow(0x20_0000, 4096)).Should().Throw<InvalidOperationException>().WithMessage("*mapped already*");
        using var other = GuestRamFile.Create(1 << 20);
        other.Invoking(r => r.MapWindow(0x800, 4096)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*not page-aligned*");
        other.Invoking(r => r.MapWindow(0xF_F000, 8192)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("a block of 8192 bytes at 0xff000 does not fit in 1048576 bytes of guest RAM*");
    }

    [Fact]
    public async Task The_serial_line_wakes_a_sleeping_slot_answers_a_sleeping_shim_with_a_byte_and_ends_when_the_peer_closes()
    {
        using var ram = GuestRamFile.Create(4 << 20);
        ram.MapWindow(0x10_0000, 2 * SlotSize);
        SharedBlock.Initialize(ram.Memory, SlotSize, 2);
        (Socket host, Socket guest) = ConnectedPair();
        using (host)
        {
            var line = new SerialDoorbellLine(ram, (int)host.Handle, 2, SlotSize);
            line.Ports.Should().HaveCount(2);
            line.Start();
            SerialDoorbellPort port = line.Ports[1];

            // The guest rings slot 1 while its host side sleeps, and sends the byte that says "look".
            RingLater(port.SharedBlock, () => guest.Send("R"u8));
            (await port.WaitForRequestAsync(CancellationToken.None)).Should().BeTrue();

            Word(port.SharedBlock, ProtocolLayout.BlockShimSleepingOffset) = 1;
            port.CompleteRequest();
            var received = new byte[8];
            guest.ReceiveTimeout = 5000;
            guest.Receive(received).Should().Be(1, "a sleeping shim gets one byte, its interrupt");
            received[0].Should().Be((byte)'W');

            Word(port.SharedBlock, ProtocolLayout.BlockDoorbellOffset) = 0;
            guest.Dispose();                                                     // the monitor exits: its end closes
            (await port.WaitForRequestAsync(CancellationToken.None)).Should().BeFalse();
            line.KeepEnded.Should().BeTrue();
            line.Join();
        }
    }

    [Fact]
    public void The_serial_line_refuses_slots_that_do_not_fit_the_block()
    {
        using var ram = GuestRamFile.Create(4 << 20);
        ram.MapWindow(0x10_0000, SlotSize);
        var act = () => new SerialDoorbellLine(ram, 0, 2, SlotSize);
        act.Should().Throw<ArgumentOutOfRangeException>().WithMessage("2 slots of 69632 bytes do not fit in a block of 69632 bytes*");
    }

    private static (Socket Host, Socket Guest) ConnectedPair()
    {
        string path = Path.Combine(Path.GetTempPath(), $"donjon-line-{Guid.NewGuid():N}");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        var guest = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        guest.Connect(new UnixDomainSocketEndPoint(path));
        Socket host = listener.Accept();
        File.Delete(path);
        return (host, guest);
    }
}
