using System.Runtime.InteropServices;
using Donjon.Host.Cli;

namespace Donjon.Host;

internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        using var cancellation = new CancellationTokenSource();

        // Ctrl-C and SIGTERM end the keep (and with it every process it made) instead of killing Donjon first.
        void Cancel(PosixSignalContext context)
        {
            context.Cancel = true;
            Interruption.Signal = context.Signal == PosixSignal.SIGTERM ? 15 : 2;
            cancellation.Cancel();
        }

        using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Cancel);
        using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Cancel);
        return await DonjonCli.RunAsync(args, Console.Out, Console.Error, cancellation.Token).ConfigureAwait(false);
    }
}
