namespace Donjon.Abstractions.Keeps;

/// <summary>
/// An optional ability of a keep: its shared block has one slot per keep thread (<c>docs/protocol.md</c> §3, "Slots"),
/// and the host serves the slots concurrently, so that a thread blocked in a long call stalls no other. The host
/// type-tests a keep for it; a keep without it has the one slot of <see cref="IKeep.Port"/>, and its workload's
/// <c>clone</c> of a thread fails with <c>EAGAIN</c>.
/// </summary>
/// <remarks>
/// The number of slots is the configuration page's max-threads field (the backend reads it from
/// <c>KeepImage.Configuration</c> when it makes the block). Each slot's port behaves as <see cref="IKeep.Port"/> does,
/// on that slot's part of the block only: a request on one slot is answered on the same slot.
/// </remarks>
public interface IThreadedKeep : IKeep
{
    /// <summary>How many slots the keep's shared block has, 1 or more; fixed for the keep's life.</summary>
    int SlotCount { get; }

    /// <summary>
    /// The port of slot <paramref name="slot"/>: its <see cref="ISyscallPort.SharedBlock"/> is that slot's memory only.
    /// Slot 0's port is <see cref="IKeep.Port"/>. The host waits on each slot's port from its own thread.
    /// </summary>
    /// <param name="slot">0 to <see cref="SlotCount"/> − 1.</param>
    /// <returns>The slot's port; the same object for every call with the same slot.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="slot"/> is not a slot of this keep.</exception>
    ISyscallPort GetSlotPort(int slot);
}
