using Microsoft.Extensions.Logging;

namespace Donjon.Host.Execution;

/// <summary>
/// Logs the protocol violations of one keep without letting a keep flood Donjon's stderr: the first
/// <see cref="FullReports"/> in full, then at most one summary line per second ("N more protocol violations in the
/// last second"), and at the end, when there were any, the total.
/// </summary>
/// <remarks>A keep that breaks the protocol in a loop would otherwise write megabytes of warnings per run.</remarks>
internal sealed class ProtocolViolationLog(ILogger logger, TimeProvider clock)
{
    /// <summary>How many violations are logged in full before the rest are only counted.</summary>
    public const int FullReports = 5;

    private static readonly TimeSpan SummaryInterval = TimeSpan.FromSeconds(1);

    private long _windowStart;
    private int _unreported;

    /// <summary>Every violation reported so far.</summary>
    public int Total { get; private set; }

    /// <summary>Records one violation, and logs it or a summary when the rate allows.</summary>
    /// <param name="reason">What was wrong, from the parser (already free of keep-controlled text).</param>
    public void Report(string reason)
    {
        Total++;
        if (Total <= FullReports)
        {
            logger.LogWarning("Protocol violation by the keep: {Reason}; answering -EFAULT", reason);
            if (Total == FullReports)
            {
                _windowStart = clock.GetTimestamp();
            }

            return;
        }

        _unreported++;
        if (clock.GetElapsedTime(_windowStart) >= SummaryInterval)
        {
            Summarize();
        }
    }

    /// <summary>Logs what is still unreported, then the total; call once, when the keep is no longer served.</summary>
    public void Finish()
    {
        if (_unreported > 0)
        {
            Summarize();
        }

        if (Total > 0)
        {
            logger.LogWarning(
                "The keep broke the protocol {Total} times in all ({Shown} shown in full); each was answered -EFAULT",
                Total, Math.Min(Total, FullReports));
        }
    }

    private void Summarize()
    {
        logger.LogWarning("{Count} more protocol violations in the last second (each answered -EFAULT)", _unreported);
        _unreported = 0;
        _windowStart = clock.GetTimestamp();
    }
}
