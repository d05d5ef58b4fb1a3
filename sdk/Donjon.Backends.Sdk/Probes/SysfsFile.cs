namespace Donjon.Backends.Sdk.Probes;

/// <summary>Reads the small text files of <c>/sys</c> and <c>/proc</c>.</summary>
public static class SysfsFile
{
    /// <summary>Reads a small text file and trims its trailing newline.</summary>
    /// <param name="path">The file.</param>
    /// <param name="text">The trimmed contents when the file was read.</param>
    /// <param name="error">Why it could not be read, when it could not.</param>
    /// <returns>Whether the file was read; never throws.</returns>
    public static bool TryRead(string path, out string text, out string error)
    {
        try
        {
            text = File.ReadAllText(path).Trim();
            error = "";
            return true;
        }
        catch (Exception e)
        {
            text = "";
            error = e is FileNotFoundException or DirectoryNotFoundException ? $"{path} does not exist" : $"{path} cannot be read: {e.Message}";
            return false;
        }
    }

    /// <summary>Whether a kernel module parameter's value means "enabled" (<c>Y</c> or <c>1</c>).</summary>
    /// <param name="value">The parameter's trimmed value.</param>
    /// <returns><see langword="true"/> for <c>Y</c>, <c>y</c> or <c>1</c>.</returns>
    public static bool IsEnabled(string value) => value is "Y" or "y" or "1";
}
