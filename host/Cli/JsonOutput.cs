using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Donjon.Host.Cli;

/// <summary>Writes the stable JSON documents of <c>--json</c> (documented in docs/cli-json.md).</summary>
internal static class JsonOutput
{
    /// <summary>The version of every <c>--json</c> document's shape; bumped on any incompatible change.</summary>
    public const int SchemaVersion = 1;

    public static string Write(Action<Utf8JsonWriter> body)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteNumber("schemaVersion", SchemaVersion);
            body(writer);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
