using System.Text;

namespace Donjon.Host.Cli;

/// <summary>
/// How text for people is laid out on stdout: the width lines are wrapped to (the terminal's, 80 when stdout is not
/// a terminal), and whether symbols (✔/✘) and colour may be used (only on a terminal, and not when NO_COLOR is set).
/// </summary>
/// <param name="Width">The column lines are wrapped at.</param>
/// <param name="Fancy">Whether ✔/✘ and colour are used.</param>
internal sealed record TerminalText(int Width, bool Fancy)
{
    /// <summary>The width when stdout is not a terminal.</summary>
    public const int DefaultWidth = 80;

    /// <summary>The style for Donjon's own stdout.</summary>
    public static TerminalText ForStdout()
    {
        if (Console.IsOutputRedirected)
        {
            return new TerminalText(DefaultWidth, false);
        }

        int width;
        try
        {
            width = Console.WindowWidth;
        }
        catch (IOException)
        {
            width = 0;
        }

        return new TerminalText(width >= 40 ? width : DefaultWidth, string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR")));
    }

    /// <summary><paramref name="text"/> in <paramref name="ansi"/> colour when fancy.</summary>
    public string Paint(string text, string ansi) => Fancy ? $"\u001b[{ansi}m{text}\u001b[0m" : text;

    /// <summary>
    /// Appends <paramref name="text"/> after <paramref name="prefix"/>, word-wrapped at <see cref="Width"/>; the
    /// following lines start with <paramref name="continuation"/>. A word longer than the room (a path) is kept whole.
    /// </summary>
    /// <param name="output">Where the lines go.</param>
    /// <param name="prefix">The first line's prefix (tree branches, indentation), counted in the width.</param>
    /// <param name="continuation">The prefix of the following lines.</param>
    /// <param name="text">The text; its words are separated by spaces.</param>
    public void AppendWrapped(StringBuilder output, string prefix, string continuation, string text)
    {
        ArgumentNullException.ThrowIfNull(output);
        int column = VisibleLength(prefix);
        output.Append(prefix);
        bool lineEmpty = true;
        foreach (string word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!lineEmpty && column + 1 + word.Length > Width)
            {
                output.Append('\n').Append(continuation);
                column = continuation.Length;
                lineEmpty = true;
            }

            if (!lineEmpty)
            {
                output.Append(' ');
                column++;
            }

            output.Append(word);
            column += word.Length;
            lineEmpty = false;
        }

        output.Append('\n');
    }

    /// <summary>The printed width of <paramref name="text"/>: its length without colour codes.</summary>
    public static int VisibleLength(string text)
    {
        int length = 0;
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == '\u001b')
            {
                while (i < text.Length && text[i] != 'm')
                {
                    i++;
                }

                continue;
            }

            length++;
        }

        return length;
    }
}
