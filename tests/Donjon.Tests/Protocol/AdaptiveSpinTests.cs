using Donjon.Backends.Sdk.Doorbells;

namespace Donjon.Tests.Protocol;

/// <summary>The doorbell's adaptive spin window (docs/protocol.md §3, "Doorbell"): how it grows, shrinks and stops.</summary>
public sealed class AdaptiveSpinTests
{
    private static readonly long Max = AdaptiveSpin.MaxWindowTicks;
    private static readonly long Floor = AdaptiveSpin.GrowFloorTicks;

    [Fact]
    public void A_short_sleep_grows_the_window_from_none_to_the_floor_then_doubles_it_up_to_the_most()
    {
        if (!AdaptiveSpin.SpinningUseful)
        {
            AdaptiveSpin.Next(Max, 0).Should().Be(0, "with one usable CPU the host never spins");
            return;
        }

        AdaptiveSpin.Next(0, Max / 2).Should().Be(Floor);
        AdaptiveSpin.Next(Floor, Max / 2).Should().Be(2 * Floor);
        AdaptiveSpin.Next(Max / 2 + 1, 0).Should().Be(Max);
        AdaptiveSpin.Next(Max, 0).Should().Be(Max);
    }

    [Fact]
    public void Beside_a_peer_that_says_where_it_runs_the_window_adapts_whatever_the_CPU_count()
    {
        // canWait: true is the wait beside a 2.1 shim, which on one CPU yields to it instead of spinning.
        AdaptiveSpin.Next(0, Max / 2, canWait: true).Should().Be(Floor);
        AdaptiveSpin.Next(Floor, Max / 2, canWait: true).Should().Be(2 * Floor);
        AdaptiveSpin.Next(Max, Max * 10, canWait: true).Should().Be(Max / 2);
        AdaptiveSpin.Next(2 * Floor - 1, Max * 10, canWait: true).Should().Be(0);
        AdaptiveSpin.Next(Max, 0, canWait: false).Should().Be(0, "a wait that cannot pay never spins");
    }

    [Fact]
    public void A_long_sleep_halves_the_window_and_below_the_floor_stops_the_spin()
    {
        if (!AdaptiveSpin.SpinningUseful)
        {
            AdaptiveSpin.Next(Max, Max * 10).Should().Be(0);
            return;
        }

        AdaptiveSpin.Next(Max, Max).Should().Be(Max / 2);
        AdaptiveSpin.Next(Max, long.MaxValue).Should().Be(Max / 2);
        AdaptiveSpin.Next(2 * Floor - 1, Max * 10).Should().Be(0);
        AdaptiveSpin.Next(0, Max * 10).Should().Be(0);
    }

    [Fact]
    public void Repeated_long_sleeps_reach_no_spin_and_short_ones_bring_it_back()
    {
        long window = Max;
        for (int i = 0; i < 64; i++)
        {
            window = AdaptiveSpin.Next(window, Max * 3);
        }

        window.Should().Be(0);
        for (int i = 0; i < 64; i++)
        {
            window = AdaptiveSpin.Next(window, Max / 4);
        }

        window.Should().Be(AdaptiveSpin.SpinningUseful ? Max : 0);
    }

    [Fact]
    public void A_wait_that_ended_long_after_it_began_shrinks_an_instance_window()
    {
        var spin = new AdaptiveSpin();
        spin.WindowTicks.Should().Be(AdaptiveSpin.SpinningUseful ? Max : 0);
        spin.AfterSleep(0, Max * 100);
        spin.WindowTicks.Should().Be(AdaptiveSpin.SpinningUseful ? Max / 2 : 0);
    }
}
