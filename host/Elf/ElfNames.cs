using System.Globalization;
using System.Text;
using ElfSharpMachine = ELFSharp.ELF.Machine;

namespace Donjon.Host.Elf;

/// <summary>
/// Turns raw ELF field values into the names people know them by (<c>PT_GNU_STACK</c>, <c>AArch64</c>), for
/// reports and rejection messages, and makes strings taken from an untrusted file safe to print.
/// </summary>
internal static class ElfNames
{
    /// <summary>The longest string taken from a file that a report shows, in characters.</summary>
    private const int MaxPrintableLength = 256;

    /// <summary>Names <c>e_machine</c>: well-known processors by their usual name, the rest through ELFSharp's list.</summary>
    public static string Machine(ushort machineValue) => machineValue switch
    {
        ElfConstants.EM_X86_64 => "x86-64",
        ElfConstants.EM_386 => "Intel 80386",
        ElfConstants.EM_AARCH64 => "AArch64",
        ElfConstants.EM_ARM => "ARM",
        ElfConstants.EM_RISCV => "RISC-V",
        ElfConstants.EM_LOONGARCH => "LoongArch",
        _ => Enum.IsDefined(typeof(ElfSharpMachine), Enum.ToObject(typeof(ElfSharpMachine), machineValue))
            ? Enum.GetName(typeof(ElfSharpMachine), Enum.ToObject(typeof(ElfSharpMachine), machineValue))!
            : "an unknown processor",
    };

    /// <summary>Names <c>e_type</c>.</summary>
    public static string FileType(ushort typeValue) => typeValue switch
    {
        ElfConstants.ET_NONE => "ET_NONE",
        ElfConstants.ET_REL => "ET_REL",
        ElfConstants.ET_EXEC => "ET_EXEC",
        ElfConstants.ET_DYN => "ET_DYN",
        ElfConstants.ET_CORE => "ET_CORE",
        _ => Hex(typeValue),
    };

    /// <summary>Names <c>e_ident[EI_CLASS]</c>.</summary>
    public static string Class(byte classValue) => classValue switch
    {
        ElfConstants.ELFCLASS32 => "ELF32",
        ElfConstants.ELFCLASS64 => "ELF64",
        _ => "invalid class " + classValue.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>Names <c>e_ident[EI_DATA]</c>.</summary>
    public static string DataEncoding(byte dataValue) => dataValue switch
    {
        ElfConstants.ELFDATA2LSB => "little-endian",
        ElfConstants.ELFDATA2MSB => "big-endian",
        _ => "invalid data encoding " + dataValue.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>Names <c>p_type</c>, including the GNU extensions that ELFSharp does not name.</summary>
    public static string SegmentType(uint typeValue) => typeValue switch
    {
        ElfConstants.PT_NULL => "PT_NULL",
        ElfConstants.PT_LOAD => "PT_LOAD",
        ElfConstants.PT_DYNAMIC => "PT_DYNAMIC",
        ElfConstants.PT_INTERP => "PT_INTERP",
        ElfConstants.PT_NOTE => "PT_NOTE",
        ElfConstants.PT_SHLIB => "PT_SHLIB",
        ElfConstants.PT_PHDR => "PT_PHDR",
        ElfConstants.PT_TLS => "PT_TLS",
        ElfConstants.PT_GNU_EH_FRAME => "PT_GNU_EH_FRAME",
        ElfConstants.PT_GNU_STACK => "PT_GNU_STACK",
        ElfConstants.PT_GNU_RELRO => "PT_GNU_RELRO",
        ElfConstants.PT_GNU_PROPERTY => "PT_GNU_PROPERTY",
        ElfConstants.PT_GNU_SFRAME => "PT_GNU_SFRAME",
        >= ElfConstants.PT_LOOS and <= ElfConstants.PT_HIOS => "PT_LOOS+" + Hex(typeValue - ElfConstants.PT_LOOS),
        >= ElfConstants.PT_LOPROC and <= ElfConstants.PT_HIPROC => "PT_LOPROC+" + Hex(typeValue - ElfConstants.PT_LOPROC),
        _ => Hex(typeValue),
    };

    /// <summary>Writes <c>p_flags</c> as letters separated by spaces, in the order R W E; empty when none is set.</summary>
    public static string SegmentFlags(uint flagsValue)
    {
        var letters = new List<string>(3);
        if ((flagsValue & ElfConstants.PF_R) != 0)
        {
            letters.Add("R");
        }

        if ((flagsValue & ElfConstants.PF_W) != 0)
        {
            letters.Add("W");
        }

        if ((flagsValue & ElfConstants.PF_X) != 0)
        {
            letters.Add("E");
        }

        return string.Join(' ', letters);
    }

    /// <summary>Writes a number as <c>0x</c> followed by lowercase hexadecimal digits.</summary>
    public static string Hex(ulong value) => "0x" + value.ToString("x", CultureInfo.InvariantCulture);

    /// <summary>Writes a number in decimal, without culture.</summary>
    public static string Decimal(ulong value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Makes bytes taken from an untrusted file safe to print: decodes them as UTF-8, escapes control and other
    /// non-printable characters as <c>\xNN</c> (so a file cannot inject terminal escape sequences into a message)
    /// and cuts the result to a bounded length.
    /// </summary>
    public static string Printable(ReadOnlySpan<byte> untrustedBytes)
    {
        string decoded = Encoding.UTF8.GetString(untrustedBytes[..Math.Min(untrustedBytes.Length, MaxPrintableLength * 4)]);
        var printable = new StringBuilder(Math.Min(decoded.Length, MaxPrintableLength));
        foreach (Rune rune in decoded.EnumerateRunes())
        {
            if (printable.Length >= MaxPrintableLength)
            {
                printable.Append("...");
                break;
            }

            if (Rune.IsControl(rune) || rune == Rune.ReplacementChar || rune.Value == '\\')
            {
                printable.Append(rune.Value <= 0xff
                    ? string.Create(CultureInfo.InvariantCulture, $"\\x{rune.Value:x2}")
                    : string.Create(CultureInfo.InvariantCulture, $"\\u{rune.Value:x4}"));
            }
            else
            {
                printable.Append(rune.ToString());
            }
        }

        return printable.ToString();
    }

    /// <summary>Shows the first bytes of a file as hexadecimal pairs, for a "this is not ELF" message.</summary>
    public static string HexBytes(ReadOnlySpan<byte> bytes) =>
        string.Join(' ', bytes.ToArray().Select(b => b.ToString("x2", CultureInfo.InvariantCulture)));
}
