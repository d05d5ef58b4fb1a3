using Donjon.Abstractions.Keeps;

namespace Donjon.Host.Execution;

/// <summary>
/// The end of a keep that reported its end: once its <c>EXIT</c> or <c>FAULT</c> item is answered, the keep is served
/// no more and has <see cref="Period"/> to end on its own; after that it is killed.
/// </summary>
internal static class KeepGrace
{
    /// <summary>How long a keep may take to end after it reported its end.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(2);

    /// <summary>Waits up to <paramref name="grace"/> for <paramref name="keep"/> to end; kills it if it does not.</summary>
    /// <returns><see langword="true"/> when the keep ended on its own; <see langword="false"/> when it had to be killed.</returns>
    public static async Task<bool> EndAsync(IKeep keep, TimeSpan grace)
    {
        ArgumentNullException.ThrowIfNull(keep);
        using var timer = new CancellationTokenSource();
        Task delay = Task.Delay(grace, timer.Token);
        Task first = await Task.WhenAny(keep.Exit, delay).ConfigureAwait(false);
        if (first != delay)
        {
            await timer.CancelAsync().ConfigureAwait(false);
            return true;
        }

        keep.Kill();
        return false;
    }
}
