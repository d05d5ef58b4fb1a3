using System.Runtime.InteropServices;
using Donjon.Host.Cli;

namespace Donjon.Host;

internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        StartupClock.Start();
        using var cancellation = new CancellationTokenSource();

        // While a keep runs, its workload gets the signals first (SignalRouting). Otherwise, and for a second Ctrl-C
        // or SIGTERM, those two end the keep (and with it every process it made) instead of killing Donjon first;
        // the other forwarded signals take their default action on Donjon.
        void OnSignal(PosixSignalContext context)
        {
            int number = Number(context.Signal);
            if (SignalRouting.TryForward(number))
            {
                context.Cancel = true;
                return;
            }

            if (number is 2 or 15)
            {
                context.Cancel = true;
                Interruption.Signal = number;
                cancellation.Cancel();
            }
        }

        var registrations = new List<PosixSignalRegistration>();
        try
        {
            foreach (PosixSignal signal in (PosixSignal[])[PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP, PosixSignal.SIGQUIT, (PosixSignal)28, (PosixSignal)10, (PosixSignal)12])
            {
                registrations.Add(PosixSignalRegistration.Create(signal, OnSignal));
            }

            return await DonjonCli.RunAsync(args, Console.Out, Console.Error, cancellation.Token).ConfigureAwait(false);
        }
        finally
        {
            foreach (PosixSignalRegistration registration in registrations)
            {
                registration.Dispose();
            }
        }
    }

    /// <summary>The Linux number of a signal as .NET names it (its portable names are negative; raw ones, used for SIGWINCH, SIGUSR1 and SIGUSR2, are the number).</summary>
    private static int Number(PosixSignal signal) => signal switch
    {
        PosixSignal.SIGHUP => 1,
        PosixSignal.SIGINT => 2,
        PosixSignal.SIGQUIT => 3,
        PosixSignal.SIGTERM => 15,
        _ => (int)signal,
    };
}
