using Microsoft.Win32.SafeHandles;

namespace Donjon.Backends.Sdk.Probes;

/// <summary>How an attempt to open a device node ended.</summary>
public enum DeviceOpenStatus
{
    /// <summary>The node exists and opened read-write.</summary>
    Opened = 0,

    /// <summary>There is no such node.</summary>
    NotFound = 1,

    /// <summary>The node exists but this user may not open it read-write.</summary>
    AccessDenied = 2,

    /// <summary>The node exists but opening it failed for another reason (the driver refused, for example).</summary>
    Failed = 3,
}

/// <summary>The result of opening a device node.</summary>
/// <param name="Status">How the attempt ended.</param>
/// <param name="Detail">What happened, in a sentence, for a probe's detail.</param>
public sealed record DeviceOpenResult(DeviceOpenStatus Status, string Detail);

/// <summary>Opens character devices such as <c>/dev/kvm</c> the way a backend would use them.</summary>
public static class DeviceNode
{
    /// <summary>Opens <paramref name="path"/> read-write (<c>O_RDWR | O_CLOEXEC</c>) and keeps it open.</summary>
    /// <param name="path">The device node.</param>
    /// <param name="handle">The open handle when the result is <see cref="DeviceOpenStatus.Opened"/>; the caller disposes it.</param>
    /// <returns>How the attempt ended; never throws.</returns>
    public static DeviceOpenResult TryOpen(string path, out SafeFileHandle? handle)
    {
        handle = null;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
            return new DeviceOpenResult(DeviceOpenStatus.Opened, $"{path} exists and opens read-write");
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return new DeviceOpenResult(DeviceOpenStatus.NotFound, $"{path} does not exist");
        }
        catch (UnauthorizedAccessException e)
        {
            return new DeviceOpenResult(DeviceOpenStatus.AccessDenied, $"{path} exists but cannot be opened read-write by this user: {e.Message}");
        }
        catch (Exception e)
        {
            return new DeviceOpenResult(
                File.Exists(path) ? DeviceOpenStatus.Failed : DeviceOpenStatus.NotFound,
                $"{path} cannot be opened read-write: {e.Message}");
        }
    }

    /// <summary>Opens <paramref name="path"/> read-write and closes it again.</summary>
    /// <param name="path">The device node.</param>
    /// <returns>How the attempt ended; never throws.</returns>
    public static DeviceOpenResult Check(string path)
    {
        DeviceOpenResult result = TryOpen(path, out SafeFileHandle? handle);
        handle?.Dispose();
        return result;
    }
}
